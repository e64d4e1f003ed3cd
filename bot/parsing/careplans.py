"""Care-plan, referral and community-resource messages: goals set and closed, referrals sent
and moved on, resource searches and resources handed to a patient.

Owns: ``parse_careplan`` (a message -> ``GoalIntent``, ``ReferralIntent``,
``ReferralStatusIntent``, ``ResourceQueryIntent`` or ``ResourceGivenIntent``, the care-plan
intents defined in bot.parsing.intents), ``canonical_specialty`` and ``resource_kind_of``.
``parse_careplan`` answers None for every message that is not one of these, so
``bot.parsing.parser.parse`` can try it first and fall through to logging. It is deliberately
strict: a cue word ("goal", "referred", "referral", "resources", "gave") counts only at the
start of the message or right after the patient's name, so "LVM for John re cardiology
referral" stays a contact. A referral "scheduled" with a future date or a time ("cardiology
referral scheduled for Maria 12/3 at 2pm") is left to the appointment reading: logging that
appointment moves the referral to scheduled and keeps the date.
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

import calendar
import enum
import re
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.parsing.date_fragments import FUTURE_FORMS, PAST_FORMS, DateFragment, DayForm
from bot.parsing.dates import DateReader
from bot.parsing.intents import (
    CarePlanIntent,
    CarePlanKind,
    GoalIntent,
    PatientRef,
    ReferralIntent,
    ReferralStatusIntent,
    ResourceGivenIntent,
    ResourceQueryIntent,
)
from bot.parsing.patients import Caseload, NameMatch
from bot.vocab import DateOrder, GoalStatus, ReferralStatus, ResourceKind

__all__ = [
    "MAX_CHARS",
    "MAX_FIELD",
    "CarePlanIntent",
    "CarePlanKind",
    "GoalIntent",
    "ReferralIntent",
    "ReferralStatusIntent",
    "ResourceGivenIntent",
    "ResourceQueryIntent",
    "canonical_specialty",
    "parse_careplan",
    "resource_kind_of",
]
"""The care-plan intents live in bot.parsing.intents with every other fact type; they are
named here too, as what ``parse_careplan`` returns."""

MAX_CHARS = 1000
"""Characters of a message read for meaning (as the main parser)."""

MAX_FIELD = 200
"""Longest goal, outcome, reason or resource text kept from one message."""

_I = re.IGNORECASE

# -- vocabulary ---------------------------------------------------------------------------------

_CUE_RE = re.compile(
    r"\b(?:goals?|referr\w*|refer|ref'?d|resources?|gave|given|provided|handed|"
    r"support\s+groups?)\b",
    _I,
)

_SPECIALTIES: dict[str, str] = {
    "cardiology": "cardiology", "cardio": "cardiology", "cardiologist": "cardiology",
    "endocrinology": "endocrinology", "endo": "endocrinology",
    "endocrinologist": "endocrinology",
    "orthopedics": "orthopedics", "ortho": "orthopedics", "podiatry": "podiatry",
    "podiatrist": "podiatry", "dermatology": "dermatology", "derm": "dermatology",
    "nephrology": "nephrology", "nephro": "nephrology", "neurology": "neurology",
    "neuro": "neurology", "pulmonology": "pulmonology", "pulm": "pulmonology",
    "oncology": "oncology", "onc": "oncology", "gi": "gastroenterology",
    "gastroenterology": "gastroenterology", "urology": "urology", "ent": "ent",
    "ophthalmology": "ophthalmology", "ophtho": "ophthalmology", "eye doctor": "ophthalmology",
    "dentist": "dental", "dental": "dental", "rheumatology": "rheumatology",
    "rheum": "rheumatology", "hematology": "hematology", "psychiatry": "psychiatry",
    "psych": "psychiatry", "behavioral health": "behavioral health",
    "wound care": "wound care", "vascular": "vascular", "surgery": "surgery",
    "surgeon": "surgery", "physical therapy": "physical therapy", "pt eval": "physical therapy",
    "occupational therapy": "occupational therapy", "home health": "home health",
    "dialysis": "dialysis", "nutrition": "nutrition", "dietitian": "nutrition",
    "social work": "social work", "palliative": "palliative care",
    "palliative care": "palliative care", "hospice": "hospice", "audiology": "audiology",
    "allergy": "allergy", "ob/gyn": "ob/gyn", "obgyn": "ob/gyn",
    "pain management": "pain management",
}  # fmt: skip
_SPECIALTY_RE = re.compile(
    r"\b(?P<s>"
    + "|".join(re.escape(k) for k in sorted(_SPECIALTIES, key=len, reverse=True))
    + r")\b",
    _I,
)

_RESOURCE_WORDS: tuple[tuple[ResourceKind, re.Pattern[str]], ...] = (
    (ResourceKind.TRANSPORT, re.compile(
        r"\b(?:transport(?:ation)?|rides?|taxi|cab|bus|paratransit|medical\s+transport)\b", _I)),
    (ResourceKind.FOOD, re.compile(
        r"\b(?:food|meals?|pantry|pantries|groceries|grocery|snap|nutrition\s+assistance)\b", _I)),
    (ResourceKind.PHARMACY, re.compile(
        r"\b(?:pharmacy|pharmacies|rx|medication|meds?|drug|copay|prescription)"
        r"(?:\s+(?:assistance|help|programs?))?\b", _I)),
    (ResourceKind.HOME_HEALTH, re.compile(r"\b(?:home\s+health|home\s+care|hha)\b", _I)),
    (ResourceKind.SUPPORT_GROUP, re.compile(r"\b(?:support(?:\s+groups?)?|peer\s+groups?)\b", _I)),
)  # fmt: skip

_RESOURCE_QUERY_RE = re.compile(
    r"^\W*(?:(?:any|find|show|list|search|need|get)\s+(?:me\s+)?)?(?:the\s+|our\s+)?"
    r"(?P<what>[\w /&'-]{0,40}?)\s*(?:community\s+)?(?:resources?|support\s+groups?)"
    r"(?:\s+(?:for|on|about|near)\s+(?P<for>[\w /&'-]{1,40}?))?\s*\??\s*$",
    _I,
)

_GOAL_RE = re.compile(r"\b(?:care[\s-]+plan\s+)?goals?\b", _I)
_STATUS_RE = re.compile(
    r"^\W*(?:(?:is|was|has\s+been|now)\s+)?(?P<s>not\s+met|unmet|not\s+achieved|missed|"
    r"met|achieved|reached|done|discontinued|d/?c'?e?d|stopped|dropped|cancel+ed)\b",
    _I,
)
_STATUS_BEFORE_GOAL_RE = re.compile(
    r"\b(?P<s>met|achieved|reached|did\s+not\s+meet|didn'?t\s+meet|discontinued|stopped)\s+"
    r"(?:(?:her|his|their|the|a)\s+)?goal\b",
    _I,
)
_STATUS_WORDS = {
    "met": GoalStatus.MET, "achieved": GoalStatus.MET, "reached": GoalStatus.MET,
    "done": GoalStatus.MET, "not met": GoalStatus.NOT_MET, "unmet": GoalStatus.NOT_MET,
    "not achieved": GoalStatus.NOT_MET, "missed": GoalStatus.NOT_MET,
    "did not meet": GoalStatus.NOT_MET, "didn't meet": GoalStatus.NOT_MET,
    "didnt meet": GoalStatus.NOT_MET, "discontinued": GoalStatus.DISCONTINUED,
    "stopped": GoalStatus.DISCONTINUED, "dropped": GoalStatus.DISCONTINUED,
}  # fmt: skip
_FILLER_RE = re.compile(
    r"\b(?:new|add|added|set|setting|care|plan|for|pt|patient|s|the|a|an|another|her|his|"
    r"their|made|placed|sent|faxed|submitted|put\s+in|today|goal|note|mr|mrs|ms|miss|she|he|"
    r"wants|want|would\s+like|would\s+like\s+to|agreed\s+(?:on|to)|chose|picked|"
    r"updated|update|of|with|w|agreed)\b",
    _I,
)
_LEAD_FOR_RE = re.compile(r"^\W*(?:for|of|re)\b\W*", _I)
_TARGET_RE = re.compile(
    r"\s*\b(?:by|before|until|till|within|in|due|target(?:\s+date)?|goal\s+date)\s*:?\s*$", _I
)
_BY_MONTH_RE = re.compile(
    r"\b(?:by|before|until|till|in|end\s+of)\s+(?:the\s+end\s+of\s+)?(?P<m>jan(?:uary)?|"
    r"feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b(?!\s*\d)",
    _I,
)
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}

_REFERRAL_RE = re.compile(
    r"\b(?:referred(?!\s+(?:by|from|over\s+from|in)\b)|referral(?!\s+from\b)|referring|refer|"
    r"ref'?d(?!\s+(?:by|from)\b)|sent\s+(?:a\s+)?referral)\b",
    _I,
)
_TO_RE = re.compile(r"\bto\s+(?:the\s+|a\s+|an\s+|see\s+)?", _I)
_REASON_RE = re.compile(
    r"\b(?:for|re|because\s+of|due\s+to|r/t|regarding|d/t)\s+(?:her\s+|his\s+|their\s+)?", _I
)
_STOP_TO_RE = re.compile(
    r"\s*(?:,|;|\.(?:\s|$)|\bfor\b|\bre\b|\bbecause\b|\bdue\b|\bregarding\b|\br/t\b|\bd/t\b|"
    r"\btoday\b|\byesterday\b|\bon\b|\blast\b|\bthis\b|\bsent\b|\bvia\b|\bby\b|$)",
    _I,
)

_REFERRAL_NOUN_RE = re.compile(r"\breferrals?\b", _I)
_MOVE_WORD = r"(?P<s>scheduled|booked|completed?|done|finished|declined|refused)"
_MOVE_WORDS = {
    "scheduled": ReferralStatus.SCHEDULED, "booked": ReferralStatus.SCHEDULED,
    "completed": ReferralStatus.COMPLETED, "complete": ReferralStatus.COMPLETED,
    "done": ReferralStatus.COMPLETED, "finished": ReferralStatus.COMPLETED,
    "declined": ReferralStatus.DECLINED, "refused": ReferralStatus.DECLINED,
}  # fmt: skip
_MOVE_AFTER_RE = re.compile(
    r"^[\s:,;.\-–—]*(?:(?:is|was|has\s+been|have\s+been|been|got|now|marked(?:\s+as)?|"
    r"status(?:\s+is)?)\s+)*(?:(?:pt|patient|appt|appointment)\s+)?" + _MOVE_WORD + r"\b",
    _I,
)
"""The move word right after the referral phrase: "…referral: pt declined", "…referral done"."""
_MOVE_BEFORE_RE = re.compile(
    r"^(?:['’]s)?\s*(?:has\s+|had\s+|just\s+)?(?P<s>declined|refused|completed|finished)\s+"
    r"(?:(?:the|her|his|their|a|an)\s+)?(?P<w>[^\W\d_][\w/ .'’-]{0,40}?)??\s*\breferrals?\b",
    _I,
)
"""Right after the name: "Maria Lopez declined the podiatry referral"."""
_PROVIDER_NAME_RE = re.compile(r"\b(?:dr\.?|doctor)\s+[^\W\d_][\w'’-]*", _I)
_WHOM_WORDS_RE = re.compile(_SPECIALTY_RE.pattern + "|" + _PROVIDER_NAME_RE.pattern, _I)
_MOVE_TO_RE = re.compile(r"\s*\bto\s+(?:the\s+|a\s+|an\s+|see\s+)?", _I)
_MOVE_FOR_WHOM_RE = re.compile(r"\s*\b(?:for|re)\s+(?:the\s+|a\s+)?", _I)
_MOVE_STOP_RE = re.compile(
    r"\s*(?:,|;|:|(?<!\bdr)\.(?:\s|$)|\s[-–—]\s|\b(?:for|of|re|is|was|has|have|been|got|now|marked|"
    r"status|not|still|yet|pending|today|yesterday|on|by|via)\b|"
    r"\b(?:pt|patient|appt|appointment)\s+(?=" + _MOVE_WORD.replace("?P<s>", "") + r"\b)|"
    r"\b" + _MOVE_WORD.replace("?P<s>", "") + r"\b|$)",
    _I,
)
_NAME_LEAD_RE = re.compile(r"[\s,]*(?:(?:for|of|re)\s+)?(?:(?:pt|patient)\s+)?", _I)

_GIVEN_RE = re.compile(r"^\W*(?:gave|provided|handed|given)\s+", _I)
_GIVEN_AFTER_NAME_RE = re.compile(r"^\W*(?:was\s+)?(?:given|provided(?:\s+with)?|handed)\s+", _I)
_GIVEN_LEAD_RE = re.compile(
    r"^\W*(?:with\s+)?(?:the\s+|a\s+|an\s+|some\s+)?(?:info(?:rmation)?\s+(?:on|about|for)\s+"
    r"(?:the\s+)?|(?:contact|phone|number|flyer|brochure|card)s?\s+(?:for|of)\s+(?:the\s+)?)?",
    _I,
)
_NOT_A_RESOURCE_RE = re.compile(
    r"^(?:a\s+)?(?:call|ring|buzz|shot|dose|injection|insulin|meds?|medication|bath|"
    r"update|report|voicemail|vm)\b",
    _I,
)


# -- entry point --------------------------------------------------------------------------------


def parse_careplan(
    text: str,
    *,
    now: datetime,
    zone: ZoneInfo,
    caseload: Caseload | Sequence[PatientRef],
    date_order: DateOrder = "MDY",
) -> CarePlanIntent | None:
    """The care-plan reading of ``text``, or None when it is not a care-plan message."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    analysed = text[:MAX_CHARS]
    if not _CUE_RE.search(analysed):
        return None
    query = _resource_query(analysed)
    if query is not None:
        return query
    index = caseload if isinstance(caseload, Caseload) else Caseload(caseload)
    names = index.find(analysed)
    reader = DateReader(now=now, zone=zone, date_order=date_order)
    goal = _goal(text, analysed, names, reader)
    if goal is not None:
        return goal
    moved = _referral_status(text, analysed, names, reader)
    if moved is _Reading.APPOINTMENT:
        return None
    return (
        moved or _referral(text, analysed, names, reader) or _given(text, analysed, names, reader)
    )


def canonical_specialty(text: str) -> str | None:
    """'cardio' -> 'cardiology'; the first specialty named in ``text``, or None."""
    match = _SPECIALTY_RE.search(text)
    return _SPECIALTIES[match.group("s").lower()] if match else None


def resource_kind_of(text: str) -> ResourceKind | None:
    """The resource kind a few words name ('rides' -> transport), or None."""
    for kind, pattern in _RESOURCE_WORDS:
        if pattern.search(text):
            return kind
    return None


# -- helpers ------------------------------------------------------------------------------------


def _only_name_before(
    text: str, end: int, names: NameMatch, *, extra: re.Pattern[str] | None = None
) -> bool:
    """Whether ``text[:end]`` holds nothing but the patient's name and filler words."""
    prefix = text[:end]
    span = names.span
    if span is not None and span[0] < end:
        prefix = prefix[: span[0]] + " " + prefix[min(span[1], end) :]
    prefix = _FILLER_RE.sub(" ", prefix)
    if extra is not None:
        prefix = extra.sub(" ", prefix)
    return not re.search(r"[^\W_]", prefix)


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(" :;,.-–—")[:MAX_FIELD]


def _cut_name(text: str, start: int, end: int, names: NameMatch) -> str:
    """``text[start:end]`` without the patient's name (and a 'for' right before it)."""
    span = names.span
    if span is None or not (start <= span[0] < end):
        return text[start:end]
    before = re.sub(r"\b(?:for|of)\s*$", "", text[start : span[0]], flags=_I)
    return before + " " + text[span[1] : end]


def _mention(names: NameMatch) -> tuple[PatientRef | None, tuple[PatientRef, ...], str | None]:
    m = names.mention
    return m.patient, m.candidates, m.patient_text


def _past_day(reader: DateReader, fragments: Sequence[DateFragment]) -> date:
    for fragment in fragments:
        if fragment.form in FUTURE_FORMS or fragment.form is DayForm.TIME_ONLY:
            continue
        day = reader.resolve_day(fragment, "past")
        if day is not None:
            return day
    return reader.today


# -- goals --------------------------------------------------------------------------------------


def _goal(text: str, analysed: str, names: NameMatch, reader: DateReader) -> GoalIntent | None:
    patient, candidates, patient_text = _mention(names)
    before = _STATUS_BEFORE_GOAL_RE.search(analysed)
    if before is not None and _only_name_before(analysed, before.start(), names):
        word = " ".join(before.group("s").lower().split())
        outcome = _cut_name(analysed, before.end(), len(analysed), names)
        return GoalIntent(
            patient, candidates, patient_text, text="", target=None,
            change=_STATUS_WORDS[word], outcome=_clean(outcome), note=text,
        )  # fmt: skip
    cue = _GOAL_RE.search(analysed)
    if cue is None or not _only_name_before(analysed, cue.start(), names):
        return None
    rest_start = cue.end()
    span = names.span
    rest = analysed[rest_start:]
    if span is not None and span[0] >= rest_start:
        # "goal for Maria: ..." / "goal for Maria met: ..."
        between = analysed[rest_start : span[0]]
        if not re.search(r"[^\W_]", _LEAD_FOR_RE.sub("", between)):
            rest_start = span[1]
            rest = analysed[rest_start:]
    status = _STATUS_RE.match(rest)
    if status is not None:
        word = " ".join(status.group("s").lower().split())
        change = _STATUS_WORDS.get(word, GoalStatus.DISCONTINUED)
        outcome = _cut_name(analysed, rest_start + status.end(), len(analysed), names)
        return GoalIntent(
            patient, candidates, patient_text, text="", target=None, change=change,
            outcome=_clean(_LEAD_FOR_RE.sub("", outcome)), note=text,
        )  # fmt: skip
    goal_text, target = _goal_text_and_target(analysed, rest_start, names, reader)
    if not goal_text:
        return None
    return GoalIntent(
        patient, candidates, patient_text, text=goal_text, target=target, change=None,
        outcome="", note=text,
    )  # fmt: skip


def _goal_text_and_target(
    analysed: str, start: int, names: NameMatch, reader: DateReader
) -> tuple[str, date | None]:
    body = _cut_name(analysed, start, len(analysed), names)
    body = _LEAD_FOR_RE.sub("", body.lstrip(" :,-"))
    by_month = _BY_MONTH_RE.search(body)
    if by_month is not None:
        return _clean(body[: by_month.start()] + body[by_month.end() :]), _month_end(
            by_month.group("m"), reader.today
        )
    for fragment in reader.fragments(body):
        if fragment.form is DayForm.TIME_ONLY:
            continue
        day = reader.resolve_day(fragment, "future")
        if day is None:
            continue
        head = _TARGET_RE.sub("", body[: fragment.start])
        return _clean(head + " " + body[fragment.end :]), day
    return _clean(body), None


def _month_end(month_word: str, today: date) -> date:
    """'March' -> the last day of the next March on or after today's month."""
    month = _MONTHS[month_word[:3].lower()]
    year = today.year if month >= today.month else today.year + 1
    return date(year, month, calendar.monthrange(year, month)[1])


# -- referrals ----------------------------------------------------------------------------------


def _referral(
    text: str, analysed: str, names: NameMatch, reader: DateReader
) -> ReferralIntent | None:
    cue = _REFERRAL_RE.search(analysed)
    if cue is None or not _only_name_before(analysed, cue.start(), names, extra=_SPECIALTY_RE):
        return None
    patient, candidates, patient_text = _mention(names)
    after = _cut_name(analysed, cue.end(), len(analysed), names)
    to_whom = ""
    to = _TO_RE.search(after)
    if to is not None:
        stop = _STOP_TO_RE.search(after, to.end())
        to_whom = _without_dates(reader, after[to.end() : stop.start() if stop else len(after)])
    specialty = canonical_specialty(to_whom) or canonical_specialty(analysed[: cue.start()])
    if specialty is None and not to_whom:
        specialty = canonical_specialty(after)
    reason = ""
    for match in _REASON_RE.finditer(after):
        if to is not None and match.start() < to.start() and not to_whom:
            continue
        stop = re.search(
            r"\s*(?:,|;|\.(?:\s|$)|\btoday\b|\byesterday\b|\bon\s+\w+day\b|\bsent\b|$)",
            after[match.end() :],
            _I,
        )
        reason = _without_dates(
            reader, after[match.end() : match.end() + (stop.start() if stop else 0)]
        )
        if reason and reason.lower() != to_whom.lower():
            break
        reason = ""
    fragments = reader.fragments(analysed)
    return ReferralIntent(
        patient, candidates, patient_text,
        to_whom=to_whom or (specialty or ""), specialty=specialty, reason=reason,
        sent_on=_past_day(reader, fragments), note=text,
    )  # fmt: skip


class _Reading(enum.Enum):
    """A message that looks like a care-plan one but is better read as something else."""

    APPOINTMENT = "appointment"


def _referral_status(
    text: str, analysed: str, names: NameMatch, reader: DateReader
) -> ReferralStatusIntent | _Reading | None:
    """A referral moved on: "cardiology referral completed for Maria Lopez", "Maria's podiatry
    referral declined", "referral to dietitian for Tom Jensen done", "Maria Lopez declined the
    podiatry referral"."""
    found = _move_before(analysed, names, reader) or _move_after(analysed, names, reader)
    if found is None:
        return None
    move, whom, move_end = found
    if move is ReferralStatus.SCHEDULED and _names_a_booking(analysed[move_end:], reader):
        return _Reading.APPOINTMENT
    patient, candidates, patient_text = _mention(names)
    return ReferralStatusIntent(
        patient, candidates, patient_text, to_whom=whom,
        specialty=canonical_specialty(whom) if whom else None, status=move, note=text,
    )  # fmt: skip


def _move_before(
    analysed: str, names: NameMatch, reader: DateReader
) -> tuple[ReferralStatus, str, int] | None:
    """The move word right after the patient's name, before "referral"."""
    span = names.span
    if span is None or not _only_name_before(analysed, span[0], names):
        return None
    match = _MOVE_BEFORE_RE.match(analysed[span[1] :])
    if match is None:
        return None
    whom = _whom_in(match.group("w") or "")
    if whom is None:
        return None
    after = analysed[span[1] + match.end() :]
    to = _MOVE_TO_RE.match(after)
    if to is not None and not whom:
        whom = _whom_written(after, to.end(), reader)[0]
    return _MOVE_WORDS[match.group("s").lower()], whom, span[1] + match.end()


def _move_after(
    analysed: str, names: NameMatch, reader: DateReader
) -> tuple[ReferralStatus, str, int] | None:
    """[name] [specialty] referral [to whom] [for name] <move word> [anything]."""
    cue = _REFERRAL_NOUN_RE.search(analysed)
    if cue is None or not _only_name_before(analysed, cue.start(), names, extra=_WHOM_WORDS_RE):
        return None
    whom = _whom_in(_cut_name(analysed, 0, cue.start(), names)) or ""
    pos = cue.end()
    span = names.span
    for _ in range(3):  # "to <whom>", "for <specialty>", "for <name>", in any order
        rest = analysed[pos:]
        lead = _MOVE_TO_RE.match(rest)
        if lead is None:
            lead = _MOVE_FOR_WHOM_RE.match(rest)
            if lead is not None and not _SPECIALTY_RE.match(rest, lead.end()):
                lead = None
        if lead is not None:
            written, end = _whom_written(rest, lead.end(), reader)
            if not written:
                return None
            whom = whom or written
            pos += end
            continue
        if span is not None and span[0] >= pos:
            before_name = _NAME_LEAD_RE.match(analysed, pos, span[0])
            if before_name is not None and before_name.end() == span[0]:
                pos = span[1]
                continue
        break
    move = _MOVE_AFTER_RE.match(analysed[pos:])
    if move is None:
        return None
    return _MOVE_WORDS[move.group("s").lower()], whom, pos + move.end()


def _whom_written(rest: str, start: int, reader: DateReader) -> tuple[str, int]:
    """The provider or specialty written from ``start`` to the next stop word, and where it
    ends. The search starts one character in, so "to PT completed" keeps "PT"."""
    stop = _MOVE_STOP_RE.search(rest, min(start + 1, len(rest)))
    end = stop.start() if stop else len(rest)
    return _without_dates(reader, rest[start:end]), end


def _whom_in(words: str) -> str | None:
    """The specialty or "Dr X" among ``words`` ("" for none); None when other words are left."""
    found = _WHOM_WORDS_RE.search(words)
    left = _FILLER_RE.sub(" ", _WHOM_WORDS_RE.sub(" ", words))
    if re.search(r"[^\W_]", left):
        return None
    return _clean(found.group(0)) if found else ""


def _names_a_booking(after: str, reader: DateReader) -> bool:
    """Whether the words after "scheduled" give the appointment: a time, or a day ahead."""
    for fragment in reader.fragments(after):
        if fragment.form in PAST_FORMS:
            continue
        if fragment.clock is not None:
            return True
        day = reader.resolve_day(fragment, "future")
        if day is not None and day > reader.today:
            return True
    return False


def _without_dates(reader: DateReader, text: str) -> str:
    for fragment in reversed(reader.fragments(text)):
        text = text[: fragment.start] + text[fragment.end :]
    return _clean(re.sub(r"\s+(?:on|sent)\s*$", "", text.rstrip(), flags=_I))


# -- resources ----------------------------------------------------------------------------------


def _resource_query(analysed: str) -> ResourceQueryIntent | None:
    match = _RESOURCE_QUERY_RE.match(analysed)
    if match is None:
        return None
    words = " ".join(filter(None, (match.group("what"), match.group("for")))).strip()
    if re.search(r"\bsupport\s+groups?\b", analysed, _I) and not words:
        return ResourceQueryIntent(ResourceKind.SUPPORT_GROUP)
    kind = resource_kind_of(words)
    if kind is not None:
        return ResourceQueryIntent(kind)
    search = _clean(re.sub(r"\b(?:all|my|team|community|local)\b", " ", words, flags=_I))
    return ResourceQueryIntent(None, search=search)


_A_DATE_RE = re.compile(r"\b(?:date|time|appt|appointment|results?)\b", _I)


def _given(
    text: str, analysed: str, names: NameMatch, reader: DateReader
) -> ResourceGivenIntent | None:
    span = names.span
    if span is None:
        return None
    opening = _GIVEN_RE.match(analysed)
    if opening is not None:
        if span[0] < opening.end():
            return None
        between = analysed[opening.end() : span[0]]
        if re.search(r"[^\W_]", re.sub(r"\b(?:pt|patient|to)\b", " ", between, flags=_I)):
            return None
        rest = analysed[span[1] :]
    else:
        if not _only_name_before(analysed, span[0], names):
            return None
        after_name = _GIVEN_AFTER_NAME_RE.match(analysed[span[1] :])
        if after_name is None:
            return None
        rest = analysed[span[1] + after_name.end() :]
    rest = _GIVEN_LEAD_RE.sub("", rest, count=1)
    fragments = reader.fragments(rest)
    day = _past_day(reader, fragments)
    for fragment in fragments:
        rest = rest[: fragment.start] + " " * (fragment.end - fragment.start) + rest[fragment.end :]
    resource = _clean(re.sub(r"\s+(?:today|yesterday|on)\s*$", "", rest.rstrip(), flags=_I))
    if not resource or _NOT_A_RESOURCE_RE.match(resource) or _A_DATE_RE.search(resource):
        return None  # "gave him his sleep study date: monday the 14th": not a resource
    patient, candidates, patient_text = _mention(names)
    return ResourceGivenIntent(
        patient, candidates, patient_text, resource=resource, given_on=day, note=text
    )

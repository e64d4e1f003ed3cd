"""Turn one free-text nurse message into a typed intent.

Owns: ``parse`` and the shorthand it understands (f/u, LVM, HV, d/c'd, appt, w/, x2, EOW ...):
which kind of message it is, channel, outcome, with whom, which date is the follow-up and which is
when it happened, appointment place and specialty, discharge facility, med-rec discrepancies,
new-patient details and caseload questions.
Must not import: telegram, storage, sqlalchemy, or anything doing I/O. ``now`` and the zone are
arguments; nothing here reads a clock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.parsing.careplans import CarePlanIntent, parse_careplan
from bot.parsing.dates import (
    FUTURE_FORMS,
    PAST_FORMS,
    DateFragment,
    DateOrder,
    DateReader,
    DayForm,
)
from bot.parsing.intents import (
    AppointmentIntent,
    ContactIntent,
    DischargeIntent,
    Intent,
    MedRecIntent,
    NewPatientIntent,
    PatientMention,
    PatientRef,
    QueryIntent,
    UnknownIntent,
    When,
)
from bot.parsing.patients import Caseload, NameMatch, word_set
from bot.vocab import Channel, Complexity, Outcome, Party, QueryKind, Risk

MAX_ANALYSED_CHARS = 1000
"""Characters of a message read for meaning (the note keeps all of it)."""

_I = re.IGNORECASE

# -- signals -------------------------------------------------------------------------------

_CHANNEL_PATTERNS: tuple[tuple[Channel, re.Pattern[str]], ...] = (
    (Channel.VOICEMAIL, re.compile(
        r"\b(?:lvm|lmom|l/m|vm(?!\s+full)|voicemail(?!\s+full)|voice\s*mail(?!\s+full)|"
        r"left\s+(?:a\s+)?(?:vm|voicemail|message|msg))\b", _I)),
    (Channel.VIDEO, re.compile(
        r"\b(?:video|tele|telehealth|telemed|televisit|virtual\s+visit|zoom|facetime|doxy)\b", _I)),
    (Channel.EMAIL, re.compile(r"\b(?:e-?mail(?:ed)?|emailed)\b", _I)),
    (Channel.TEXT, re.compile(r"\b(?:texted|text(?:ed)?|txt(?:d|ed)?|sms)\b", _I)),
    (Channel.VISIT, re.compile(
        r"\b(?:hv|home\s+visit|visit(?:ed)?|seen|saw|in\s+person|f2f|face\s+to\s+face)\b", _I)),
    (Channel.PHONE, re.compile(
        r"\b(?:call(?:ed|ing|s)?|phoned?|tc|t/c|telephone|spoke|spoken|talked|rang|"
        r"no\s+answer|unable\s+to\s+reach|couldn'?t\s+reach|could\s+not\s+reach)\b", _I)),
)  # fmt: skip
_CHANNEL_PRIORITY = (Channel.VOICEMAIL, Channel.VIDEO)
"""Channels that win over others in the same message ('tried calling, LVM'; 'video visit')."""

_ATTEMPTED_RE = re.compile(
    r"\b(?:no\s+answer|n/a|unable\s+to\s+(?:reach|contact|get\s+(?:a\s+)?hold)|"
    r"couldn'?t\s+(?:reach|get)|could\s+not\s+(?:reach|get)|did(?:\s+not|n'?t)\s+(?:answer|pick)|"
    r"not\s+answering|no\s+response|no\s+pick\s*up|lvm|lmom|vm|voicemail|left\s+(?:a\s+)?"
    r"(?:vm|voicemail|message|msg)|tried|attempt(?:ed|s)?|busy\s+signal|disconnected|"
    r"wrong\s+number|(?:vm|mailbox)\s+full|unreachable|went\s+to\s+vm)\b",
    _I,
)
_REPLIED_RE = re.compile(
    r"\b(?:replied|responded|answered|confirmed|wrote\s+back|texted\s+back|reply)\b", _I
)
_CONTACT_OPENING_RE = re.compile(r"^\W*(?:f/u|follow[- ]?up)\s+(?:w/|with|call|visit)", _I)

_FOLLOW_UP_CUE_RE = re.compile(
    r"\b(?:f/u|fu|follow[- ]?up|recheck|re-?check|revisit|rtc|return|"
    r"check(?:\s+(?:on|in|back))?|see\s+(?:him|her|them|pt|patient)|"
    r"next\s+(?:visit|hv|call|appt|check|contact|f/u|session)|call(?:ing)?\s+back|callback|"
    r"call\s+again|try(?:ing)?(?:\s+again)?|will\s+(?:try|call|check|see)|reassess|remind\s+me|"
    r"touch\s+base|reach\s+out|due)\b",
    _I,
)
_SENTENCE_BREAK_RE = re.compile(r"[.!?;\n]")

_DISCHARGE_STRONG_RE = re.compile(r"\b(?:discharged|d/c'?e?d|dc'?e?d|d/ced|released\s+from)\b", _I)
_DISCHARGE_WEAK_RE = re.compile(
    r"\b(?:d/c|dc|discharge)\b(?=(?:(?!\b(?:instructions?|planning|plan|summary|papers|meds?)\b)"
    r".){0,60}?\b(?:from|home)\b)",
    _I,
)
_DISCHARGE_TOPIC_RE = re.compile(
    r"\b(?:d/c|dc|discharge)\s+(?:instructions?|planning|plan|summary|papers|meds?|orders?)\b", _I
)
_MED_REC_RE = re.compile(
    r"\b(?:med(?:ication)?s?\s*rec(?:onciliation|onciled|'?d)?|reconcil(?:ed|iation|e|ing))\b", _I
)
_APPOINTMENT_RE = re.compile(
    r"\b(?:appts?|appointments?|apt|scheduled|sched|booked|eval|evaluation|consult)\b", _I
)
_SPECIALTY_RE = re.compile(
    r"\b(?P<s>cardiology|cardio|endocrinology|endo|orthopedics|ortho|podiatry|dermatology|derm|"
    r"nephrology|nephro|neurology|neuro|pulmonology|pulm|oncology|onc|gi|urology|ent|"
    r"ophthalmology|ophtho|eye\s+doctor|dentist|dental|pcp|pt\s+eval|ot|rheumatology|rheum|"
    r"hematology|psychiatry|psych|wound\s+care|vascular|surgery|surgeon|labs?|imaging|mri|"
    r"ct\s+scan|x-?ray|echo|dialysis|infusion|ob/?gyn|allergy|audiology|nutrition|dietitian)\b",
    _I,
)
_WITH_PROVIDER_RE = re.compile(
    r"(?:\bw/|\bwith)\s*(?P<who>(?:dr\.?|doctor)\s+[A-Z][\w'\u2019-]*)", _I
)

_CAREGIVER_RE = re.compile(
    r"\b(?:daughter|son|wife|husband|spouse|mother|father|mom|dad|caregiver|cg|family|niece|"
    r"nephew|sister|brother|grand(?:son|daughter|child)|partner|guardian|poa|neighbou?r)\b",
    _I,
)
_PROVIDER_RE = re.compile(
    r"\b(?:pcp|dr\.?|doctor|md|np|provider|cardiolog\w*|office|pharmac\w*|specialist|surgeon|"
    r"home\s+health|snf\s+staff|clinic\s+staff)\b",
    _I,
)
_INSURER_RE = re.compile(
    r"\b(?:insurance|insurer|payer|payor|aetna|humana|uhc|united\s*healthcare|cigna|medicaid|"
    r"medicare|bcbs|anthem|prior\s+auth)\b",
    _I,
)
_ATTEMPTS_RE = re.compile(
    r"\bx\s?(?P<x>\d{1,2})\b|\b(?P<n>\d{1,2}|two|three|four|2nd|3rd|4th|second|third|fourth)"
    r"\s+(?:attempts?|tries|calls)\b",
    _I,
)
_ATTEMPT_WORDS = {"two": 2, "three": 3, "four": 4, "2nd": 2, "3rd": 3, "4th": 4,
                  "second": 2, "third": 3, "fourth": 4}  # fmt: skip

_FACILITY_STOP = word_set(
    "today yesterday tonight on after with w for this last and to at due s/p but yest d/c dc"
    " discharged admitted via per re since by high moderate mod low complexity risk"
)
_FACILITY_WORD_RE = re.compile(r"[^\W\d_][\w'\u2019.&-]*")
_FROM_RE = re.compile(r"\bfrom\s+(?:the\s+)?", _I)
_COMPLEXITY_HIGH_RE = re.compile(r"\b(?:high[\s-]*(?:complexity|comp|cx)|99496)\b", _I)
_COMPLEXITY_MODERATE_RE = re.compile(r"\b(?:mod(?:erate)?[\s-]*(?:complexity|comp|cx)|99495)\b", _I)
_DISCREPANCY_RE = re.compile(
    r"\b(?P<n>\d{1,2}|no|zero|one|two|three|four|five|six)\s+(?:med(?:ication)?\s+)?"
    r"discrepanc(?:y|ies)\b|\bdiscrepanc(?:y|ies)\s*[:=-]?\s*(?P<after>\d{1,2}|none)\b",
    _I,
)
_SMALL_NUMBERS = {"no": 0, "zero": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4,
                  "five": 5, "six": 6}  # fmt: skip

_PLACE_AT_RE = re.compile(
    r"(?:\bat|@|\bin)\s+(?P<place>(?:(?:St|Saint|Mt)\.?\s+)?[A-Z][\w'\u2019&-]*"
    r"(?:\s+[A-Z][\w'\u2019&-]*){0,3})"
)
_AT_HOME_RE = re.compile(r"\b(?:at|in)\s+(?:the\s+)?(?P<place>home|clinic|office)\b", _I)
_TRAILING_PLACE_RE = re.compile(
    r",\s*(?P<place>(?:(?:St|Saint|Mt)\.?\s+)?[A-Z][\w'\u2019&-]*(?:\s+[A-Z][\w'\u2019&-]*){0,3})"
    r"\s*\.?\s*$"
)
_NOT_PLACES = word_set(
    """Mon Monday Tue Tues Tuesday Wed Wednesday Thu Thur Thurs Thursday Fri Friday Sat Saturday
    Sun Sunday Jan January Feb February Mar March Apr April May Jun June Jul July Aug August Sep
    Sept September Oct October Nov November Dec December PCP AM PM EOW EOM"""
)

# -- new patient and queries ---------------------------------------------------------------

_NEW_PATIENT_RE = re.compile(
    r"^\W*(?:new|add(?:ing)?|enroll?|admit)\s+(?:new\s+|a\s+)?(?:patient|pt)\b[\s:,-]*(?P<rest>.*)$",
    _I | re.DOTALL,
)
_MRN_RE = re.compile(
    r"\b(?:mrn|mr#|id)\s*[:#]?\s*(?P<mrn>[A-Za-z]*\d[\w-]{0,19})\b|#(?P<hash>\d[\w-]{2,19})\b", _I
)
_RISK_RE = re.compile(
    r"\b(?P<level>high|med(?:ium)?|moderate|mod|low)[\s-]*risk\b|\brisk\s*[:=-]?\s*"
    r"(?P<after>high|med(?:ium)?|moderate|mod|low)\b",
    _I,
)
_CONDITION_SPLIT_RE = re.compile(r"\s*(?:,|;|/|\+|&|\band\b)\s*", _I)
_CONDITION_LEAD_RE = re.compile(r"^(?:dx|diagnos[ei]s|with|w/|hx|pmh|conditions?)\s*:?\s*", _I)

_QUERY_OPENING_RE = re.compile(
    r"^\W*(?:who|whom|what|what's|whats|when|which|where|how|show|list|pull\s+up|open|view|find|"
    r"look\s*up|any|anyone|anybody|is|are|do|does|did|can|tell\s+me|give\s+me|get|my)\b",
    _I,
)
_BARE_QUERY_RE = re.compile(
    r"^\W*(?:overdue|today|tomorrow|this\s+week|week|caseload|agenda|due(?:\s+today)?|"
    r"(?:appts?|appointments?|tasks?)(?:\s+(?:today|this\s+week|due|overdue))?|patients|"
    r"(?:high|medium|med|moderate|low)[\s-]*risk(?:\s+(?:patients|pts|list))?)\W*$",
    _I,
)
_PATIENT_QUERY_RE = re.compile(
    r"^\W*(?:show(?:\s+me)?|pull\s+up|open|view|find|look\s*up|lookup|details?\s+(?:for|on)|"
    r"info\s+(?:for|on)|summary\s+(?:for|of)|chart\s+(?:for|of)|tell\s+me\s+about|"
    r"what\s+about|how\s+is|how's)\b",
    _I,
)
_LAST_CONTACT_RE = re.compile(
    r"\blast\s+(?:reach|reached|contact|contacted|call|called|spoke|spoken|talk|talked|saw|"
    r"seen|see|visit|visited|heard|texted)\b|^\W*did\s+i\s+(?:call|reach|contact|see|visit|talk)",
    _I,
)
_NOT_CONTACTED_RE = re.compile(
    r"\b(?:haven'?t|have\s+not|hasn'?t|has\s+not|not\s+been|not\s+yet|never)\s+"
    r"(?:i\s+|been\s+|we\s+)?(?:called|contacted|reached|seen|talked|spoken|visited|heard)\b|"
    r"\bno\s+contact\b|\bnot\s+contacted\b",
    _I,
)
_OVERDUE_RE = re.compile(
    r"\b(?:overdue|past\s+due|late|behind|missed|needs?\s+a\s+(?:call|visit|contact))\b", _I
)
_TODAY_RE = re.compile(r"\b(?:today|today's|my\s+day|agenda|due\s+now)\b", _I)
_WEEK_RE = re.compile(r"\b(?:this\s+week|week|weekly|next\s+7\s+days)\b", _I)
_CASELOAD_RE = re.compile(
    r"\b(?:caseload|case\s+load|patients|pts|my\s+list|roster|everyone|(?:high|medium|med|"
    r"moderate|low)[\s-]*risk)\b",
    _I,
)
_RISK_QUESTION_RE = re.compile(r"\brisk\b", _I)
_SPAN_DAYS_RE = re.compile(
    r"\b(?:in|for|over|past|last|within)\s+(?:the\s+)?(?:(?P<n>\d{1,3}|a|an|one|two|three|four|"
    r"five|six|seven|eight|nine|ten)\s*)?(?P<u>days?|wks?|weeks?|months?|mos?)\b",
    _I,
)
_SPAN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                 "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Message:
    """What every reader of one message needs, computed once."""

    text: str
    analysed: str
    names: NameMatch
    reader: DateReader
    fragments: tuple[DateFragment, ...]
    now: datetime

    @property
    def mention(self) -> PatientMention:
        return self.names.mention

    @property
    def has_patient(self) -> bool:
        mention = self.mention
        return mention.patient is not None or bool(mention.candidates)


def parse(
    text: str,
    *,
    now: datetime,
    zone: ZoneInfo,
    caseload: Caseload | Sequence[PatientRef],
    date_order: DateOrder = "MDY",
) -> Intent | CarePlanIntent:
    """Read one message. ``now`` must be aware; pass a prebuilt ``Caseload`` for speed."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    analysed = text[:MAX_ANALYSED_CHARS]
    if not analysed.strip():
        return UnknownIntent()
    new_patient = _new_patient(analysed)
    if new_patient is not None:
        return new_patient
    index = caseload if isinstance(caseload, Caseload) else Caseload(caseload)
    # Goals, referrals and resources first: it answers None unless the message is one of them.
    care_plan = parse_careplan(text, now=now, zone=zone, caseload=index, date_order=date_order)
    if care_plan is not None:
        return care_plan
    reader = DateReader(now=now, zone=zone, date_order=date_order)
    message = _Message(
        text=text,
        analysed=analysed,
        names=index.find(analysed),
        reader=reader,
        fragments=tuple(reader.fragments(analysed)),
        now=now,
    )
    return _query(message) or _record(message)


# -- which record ----------------------------------------------------------------------------


def _record(message: _Message) -> Intent:
    """Discharge, med rec, appointment or contact; a bare name is a patient lookup."""
    text = message.analysed
    contact_at = _first_contact_signal(text)
    discharge_at = _discharge_signal(text)
    if discharge_at is not None and (contact_at is None or discharge_at < contact_at):
        return _discharge(message)
    if _MED_REC_RE.search(text):
        return _med_rec(message)
    appointment = _APPOINTMENT_RE.search(text)
    if appointment and (contact_at is None or appointment.start() < contact_at):
        return _appointment(message)
    if contact_at is not None or _CONTACT_OPENING_RE.search(text):
        return _contact(message)
    if message.has_patient and _looks_like_appointment(message):
        return _appointment(message)
    if message.has_patient and _follow_up_fragment(message) is not None:
        return _contact(message)
    if message.has_patient and _is_only_name(message):
        return _patient_query(message, QueryKind.PATIENT)
    mention = message.mention
    return UnknownIntent(mention.patient, mention.candidates, mention.patient_text)


def _first_contact_signal(text: str) -> int | None:
    starts = [m.start() for _, pattern in _CHANNEL_PATTERNS if (m := pattern.search(text))]
    if (attempted := _ATTEMPTED_RE.search(text)) is not None:
        starts.append(attempted.start())
    return min(starts) if starts else None


def _discharge_signal(text: str) -> int | None:
    strong = _DISCHARGE_STRONG_RE.search(text)
    if strong is not None:
        return strong.start()
    weak = _DISCHARGE_WEAK_RE.search(text)
    if weak is not None and not _DISCHARGE_TOPIC_RE.search(text):
        return weak.start()
    return None


def _looks_like_appointment(message: _Message) -> bool:
    """'Dorothy Chen podiatry 12/2 @ 3pm': a specialty and a day, no follow-up wording."""
    has_day = any(f.form not in PAST_FORMS for f in message.fragments)
    return (
        has_day
        and bool(_SPECIALTY_RE.search(message.analysed))
        and not (_FOLLOW_UP_CUE_RE.search(message.analysed))
    )


def _is_only_name(message: _Message) -> bool:
    span = message.names.span
    if span is None:
        return False
    rest = message.analysed[: span[0]] + message.analysed[span[1] :]
    return not re.search(r"\w", rest)


# -- contact -------------------------------------------------------------------------------------


def _contact(message: _Message) -> ContactIntent:
    text = message.analysed
    follow_up_fragment = _follow_up_fragment(message)
    cue = _FOLLOW_UP_CUE_RE.search(text)
    what_happened = text[: cue.start()] if cue else text
    channel = _channel(what_happened) or _channel(text)
    outcome = _outcome(channel, what_happened)
    follow_up = message.reader.resolve(follow_up_fragment, "future") if follow_up_fragment else None
    mention = message.mention
    return ContactIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        channel=channel,
        outcome=outcome,
        with_whom=_with_whom(message, what_happened),
        occurred_at=_occurred_at(message, follow_up_fragment),
        follow_up=follow_up,
        attempts=_attempts(text) if outcome is Outcome.ATTEMPTED else 1,
        note=message.text,
    )


def _channel(text: str) -> Channel | None:
    found = {
        channel: m.start() for channel, pattern in _CHANNEL_PATTERNS if (m := pattern.search(text))
    }
    for channel in _CHANNEL_PRIORITY:
        if channel in found:
            return channel
    return min(found, key=found.__getitem__) if found else None


def _outcome(channel: Channel | None, text: str) -> Outcome | None:
    """Voicemail and failed tries are attempts; one-way texts/emails are neither until replied."""
    if channel is Channel.VOICEMAIL or _ATTEMPTED_RE.search(text):
        return Outcome.ATTEMPTED
    if channel in (Channel.TEXT, Channel.EMAIL):
        return Outcome.REACHED if _REPLIED_RE.search(text) else None
    if channel is None:
        return None
    return Outcome.REACHED


def _with_whom(message: _Message, what_happened: str) -> Party:
    """Who was on the other end: read between the start and just after the patient's name."""
    span = message.names.span
    window = what_happened[: span[1] + 24] if span else what_happened
    window = _SENTENCE_BREAK_RE.split(window, maxsplit=1)[0] if not span else window
    if _CAREGIVER_RE.search(window):
        return Party.CAREGIVER
    before_name = window[: span[0]] if span else window
    if _INSURER_RE.search(before_name):
        return Party.INSURER
    if _PROVIDER_RE.search(before_name):
        return Party.PROVIDER
    return Party.PATIENT


def _attempts(text: str) -> int:
    match = _ATTEMPTS_RE.search(text)
    if match is None:
        return 1
    word = (match.group("x") or match.group("n") or "1").lower()
    count = _ATTEMPT_WORDS.get(word) or int(word)
    return max(1, min(count, 20))


def _follow_up_fragment(message: _Message) -> DateFragment | None:
    """The first date that is the next step: after a follow-up cue, or only possible ahead."""
    for fragment in message.fragments:
        if fragment.form in PAST_FORMS:
            continue
        if fragment.form in FUTURE_FORMS or _cued(message.analysed, fragment):
            return fragment
    return None


def _cued(text: str, fragment: DateFragment) -> bool:
    """A follow-up cue earlier in the same sentence as the fragment."""
    sentence_start = 0
    for brk in _SENTENCE_BREAK_RE.finditer(text, 0, fragment.start):
        if not _is_abbreviation_dot(text, brk.start()):
            sentence_start = brk.end()
    return _FOLLOW_UP_CUE_RE.search(text, sentence_start, fragment.start) is not None


def _is_abbreviation_dot(text: str, index: int) -> bool:
    """'Dr. Kim', 'St. Mary's', 'approx. 3' are not sentence ends."""
    return text[index] == "." and bool(
        re.search(r"\b(?:dr|st|mt|mr|mrs|ms|approx|vs)$", text[:index], _I)
    )


def _occurred_at(message: _Message, follow_up: DateFragment | None) -> When:
    for fragment in message.fragments:
        if fragment is follow_up or fragment.form in FUTURE_FORMS:
            continue
        if _cued(message.analysed, fragment):
            continue
        when = message.reader.resolve(fragment, "past")
        if when is not None:
            return when
    return When(at=message.now.astimezone(UTC), has_time=True)


# -- appointment ------------------------------------------------------------------------------


def _appointment(message: _Message) -> AppointmentIntent:
    mention = message.mention
    return AppointmentIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        at=_first_future(message),
        with_whom=_specialty(message.analysed),
        where=_place(message),
        note=message.text,
    )


def _first_future(message: _Message) -> When | None:
    for fragment in message.fragments:
        if fragment.form in PAST_FORMS:
            continue
        when = message.reader.resolve(fragment, "future")
        if when is not None:
            return when
    return None


def _specialty(text: str) -> str | None:
    provider = _WITH_PROVIDER_RE.search(text)
    if provider is not None:
        return provider.group("who")
    specialty = _SPECIALTY_RE.search(text)
    return specialty.group("s") if specialty else None


def _place(message: _Message) -> str | None:
    text = message.analysed
    name_span = message.names.span
    for pattern in (_PLACE_AT_RE, _TRAILING_PLACE_RE, _AT_HOME_RE):
        for match in pattern.finditer(text):
            place = match.group("place").rstrip(".")
            inside_name = (
                name_span is not None and name_span[0] <= match.start("place") < name_span[1]
            )
            first_word = place.split()[0].rstrip(".,")
            if not inside_name and first_word not in _NOT_PLACES:
                return place
    return None


# -- discharge and med rec ---------------------------------------------------------------------


def _discharge(message: _Message) -> DischargeIntent:
    mention = message.mention
    text = message.analysed
    complexity = None
    if _COMPLEXITY_HIGH_RE.search(text):
        complexity = Complexity.HIGH
    elif _COMPLEXITY_MODERATE_RE.search(text):
        complexity = Complexity.MODERATE
    return DischargeIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        discharged=_past_day(message),
        facility=_facility(text),
        complexity=complexity,
        note=message.text,
    )


def _past_day(message: _Message) -> date:
    """The first date that can be in the past, read as past; today if none."""
    for fragment in message.fragments:
        if fragment.form in FUTURE_FORMS or fragment.form is DayForm.TIME_ONLY:
            continue
        day = message.reader.resolve_day(fragment, "past")
        if day is not None:
            return day
    return message.reader.today


def _facility(text: str) -> str | None:
    """'from Mercy General today' -> 'Mercy General'; 'from SNF 11/20' -> 'SNF'."""
    for match in _FROM_RE.finditer(text):
        words = _adjacent_words(text, match.end(), stop=_FACILITY_STOP, limit=4)
        if words:
            return " ".join(words)
    return None


def _adjacent_words(text: str, start: int, *, stop: frozenset[str], limit: int) -> list[str]:
    """Words right after ``start`` separated only by spaces, up to a stop word or punctuation."""
    words: list[str] = []
    previous_end = start
    for match in _FACILITY_WORD_RE.finditer(text, start):
        raw = match.group()
        word = raw.rstrip(".,")
        if text[previous_end : match.start()].strip() or word.lower() in stop:
            break
        words.append(word)
        previous_end = match.end()
        if len(words) >= limit or raw.endswith(","):
            break
    return words


def _med_rec(message: _Message) -> MedRecIntent:
    mention = message.mention
    return MedRecIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        reconciled_on=_past_day(message),
        discrepancies=_discrepancies(message.analysed),
        note=message.text,
    )


def _discrepancies(text: str) -> int | None:
    match = _DISCREPANCY_RE.search(text)
    if match is None:
        return None
    word = (match.group("n") or match.group("after") or "").lower()
    return _SMALL_NUMBERS[word] if word in _SMALL_NUMBERS else int(word)


# -- new patient ----------------------------------------------------------------------------------


def _new_patient(text: str) -> NewPatientIntent | None:
    opening = _NEW_PATIENT_RE.match(text)
    if opening is None:
        return None
    rest = opening.group("rest").strip()
    mrn_match = _MRN_RE.search(rest)
    risk_match = _RISK_RE.search(rest)
    name = _leading_name(rest)
    if not name:
        return None
    after = max(
        len(name),
        mrn_match.end() if mrn_match else 0,
        risk_match.end() if risk_match else 0,
    )
    return NewPatientIntent(
        name=name,
        mrn=(mrn_match.group("mrn") or mrn_match.group("hash")) if mrn_match else None,
        risk=_risk_level(risk_match),
        conditions=_conditions(rest[after:]),
    )


_NAME_STOP = frozenset({"mrn", "mr#", "id", "dob", "risk", "high", "medium", "med", "low", "dx"})


def _leading_name(rest: str) -> str:
    """The name at the start of 'Maria Lopez MRN 12345 high risk ...' (up to four words)."""
    return " ".join(_adjacent_words(rest, 0, stop=_NAME_STOP, limit=4))


def _risk_level(match: re.Match[str] | None) -> Risk | None:
    if match is None:
        return None
    level = (match.group("level") or match.group("after") or "").lower()
    if level == "high":
        return Risk.HIGH
    if level == "low":
        return Risk.LOW
    return Risk.MEDIUM


def _conditions(text: str) -> tuple[str, ...]:
    cleaned = _CONDITION_LEAD_RE.sub("", text.strip(" ,;:-"))
    items = (item.strip(" .") for item in _CONDITION_SPLIT_RE.split(cleaned))
    return tuple(item for item in items if item and len(item) <= 40)


# -- queries --------------------------------------------------------------------------------------


def _query(message: _Message) -> QueryIntent | None:
    text = message.analysed.strip()
    is_question = bool(
        _QUERY_OPENING_RE.search(text) or text.endswith("?") or _BARE_QUERY_RE.match(text)
    )
    if not is_question:
        return None
    kind = _query_kind(message, text)
    if kind is None:
        return None
    risk = _risk_level(_RISK_RE.search(text)) if kind is QueryKind.CASELOAD else None
    days = _span_days(text) if kind is QueryKind.NOT_CONTACTED else None
    return _patient_query(message, kind, risk=risk, days=days)


def _query_kind(message: _Message, text: str) -> QueryKind | None:
    if _LAST_CONTACT_RE.search(text):
        return QueryKind.LAST_CONTACT
    if _NOT_CONTACTED_RE.search(text):
        return QueryKind.NOT_CONTACTED
    if message.has_patient and _PATIENT_QUERY_RE.search(text):
        return QueryKind.PATIENT
    if message.has_patient and _RISK_QUESTION_RE.search(text):
        return QueryKind.RISK
    for kind, pattern in (
        (QueryKind.OVERDUE, _OVERDUE_RE),
        (QueryKind.TODAY, _TODAY_RE),
        (QueryKind.WEEK, _WEEK_RE),
        (QueryKind.CASELOAD, _CASELOAD_RE),
    ):
        if pattern.search(text):
            return kind
    if message.has_patient and _is_question_about_patient(text):
        return QueryKind.PATIENT
    return None


def _is_question_about_patient(text: str) -> bool:
    return text.endswith("?") and not _first_contact_signal(text)


def _span_days(text: str) -> int | None:
    match = _SPAN_DAYS_RE.search(text)
    if match is None:
        return None
    count_text = (match.group("n") or "1").lower()
    count = _SPAN_NUMBERS.get(count_text) or int(count_text)
    unit = match.group("u").lower()
    per_unit = 7 if unit.startswith("w") else 30 if unit.startswith("mo") else 1
    return count * per_unit


def _patient_query(
    message: _Message, kind: QueryKind, *, risk: Risk | None = None, days: int | None = None
) -> QueryIntent:
    mention = message.mention
    if kind not in (QueryKind.PATIENT, QueryKind.LAST_CONTACT, QueryKind.RISK):
        mention = PatientMention()
    return QueryIntent(
        query=kind,
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        risk=risk,
        days=days,
    )

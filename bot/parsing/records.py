"""Read the record facts other than contacts: an appointment, a discharge, an admission or ED
visit, a med rec, a task, a note, and a referral or goal within a longer message.

Owns: one ``build_*`` function per kind (each takes the message, the fact's span and its
patient, and returns the fact) and the readers they share: the provider or specialty, the
place, the facility, the reason, the count of discrepancies.
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.parsing import lexicon as lx
from bot.parsing.careplans import canonical_specialty, parse_careplan
from bot.parsing.cues import Cue
from bot.parsing.fact_dates import date_doubts, first_future_fragment, past_day
from bot.parsing.facts import Fact
from bot.parsing.intents import (
    AdmissionIntent,
    AppointmentIntent,
    DischargeIntent,
    Doubt,
    DoubtReason,
    EdVisitIntent,
    MedRecIntent,
    NoteIntent,
    PatientMention,
    ReferralIntent,
    ResourceQueryIntent,
    TaskIntent,
)
from bot.parsing.message import Message, Span
from bot.parsing.patients import word_set
from bot.parsing.vitals import implausible_vitals, read_vitals
from bot.vocab import Complexity

_I = re.IGNORECASE


# -- appointment -----------------------------------------------------------------------------------


def build_appointment(message: Message, span: Span, mention: PatientMention) -> Fact:
    """An appointment ahead: when, with whom, where."""
    text = message.text_of(span)
    fragment = first_future_fragment(message, span)
    at = message.reader.resolve(fragment, "future") if fragment else None
    doubts = date_doubts(message, fragment)
    if (
        fragment is not None
        and at is not None
        and at.local_date(message.reader.zone) < message.reader.today
    ):
        at = None
    return AppointmentIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        at=at,
        with_whom=provider_or_specialty(text),
        where=_place(text, span, message),
        note=message.text,
        doubts=tuple(doubts),
    )


WITH_PROVIDER_RE = re.compile(
    r"(?:\bw/|\bwith|\bsees|\bsee|\bseeing)\s*(?P<who>(?:dr\.?|doctor)\s+[A-Za-z][\w'-]*)", _I
)


def provider_or_specialty(text: str) -> str | None:
    provider = WITH_PROVIDER_RE.search(text)
    if provider is not None:
        return provider.group("who")
    specialty = lx.SPECIALTY_RE.search(text)
    return specialty.group("s") if specialty else None


_PLACE_AT_RE = re.compile(
    r"(?:\bat|@|\bin)\s+(?P<place>(?:(?:St|Saint|Mt)\.?\s+)?[A-Z][\w'&-]*"
    r"(?:\s+[A-Z][\w'&-]*){0,3})"
)
_AT_HOME_RE = re.compile(r"\b(?:at|in)\s+(?:the\s+)?(?P<place>home|clinic|office)\b", _I)
_TRAILING_PLACE_RE = re.compile(
    r",\s*(?P<place>(?:(?:St|Saint|Mt)\.?\s+)?[A-Z][\w'&-]*(?:\s+[A-Z][\w'&-]*){0,3})\s*\.?\s*$"
)
_NOT_PLACES = word_set(
    """Mon Monday Tue Tues Tuesday Wed Wednesday Thu Thur Thurs Thursday Fri Friday Sat Saturday
    Sun Sunday Jan January Feb February Mar March Apr April May Jun June Jul July Aug August Sep
    Sept September Oct October Nov November Dec December PCP AM PM EOW EOM ED ER"""
)


def _place(text: str, span: Span, message: Message) -> str | None:
    name_spans = [
        (n.span[0] - span.start, n.span[1] - span.start) for n in span.names if n.span is not None
    ]
    for pattern in (_PLACE_AT_RE, _TRAILING_PLACE_RE, _AT_HOME_RE):
        for match in pattern.finditer(text):
            place = match.group("place").rstrip(".")
            inside_name = any(s <= match.start("place") < e for s, e in name_spans)
            first_word = place.split()[0].rstrip(".,")
            if not inside_name and first_word not in _NOT_PLACES:
                return place
    return None


# -- transitions of care ---------------------------------------------------------------------------


def build_discharge(message: Message, span: Span, mention: PatientMention) -> Fact:
    """A discharge: the day (today if none is written), the facility, the complexity."""
    text = message.text_of(span)
    complexity = None
    if _COMPLEXITY_HIGH_RE.search(text):
        complexity = Complexity.HIGH
    elif _COMPLEXITY_MODERATE_RE.search(text):
        complexity = Complexity.MODERATE
    day, fragment = past_day(message, span, after=_discharge_at(text))
    doubts = []
    if fragment is not None:
        doubts = date_doubts(message, fragment, "past")
    return DischargeIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        discharged=day,
        facility=_facility(text),
        complexity=complexity,
        note=message.text,
        doubts=tuple(doubts),
    )


def _discharge_at(text: str) -> int:
    match = lx.DISCHARGE_RE.search(text)
    admission = lx.ADMISSION_RE.search(text)
    if match is not None and admission is not None and admission.start() < match.start():
        return match.start()  # "admitted 11/15, d/c'd 11/19": the date after the discharge
    return 0


def build_hospital_event(message: Message, span: Span, mention: PatientMention) -> Fact:
    """An admission or an ED visit: the day, the facility, the reason."""
    text = message.text_of(span)
    day, fragment = past_day(message, span)
    doubts = date_doubts(message, fragment, "past") if fragment is not None else []
    cls = AdmissionIntent if span.cue is Cue.ADMISSION else EdVisitIntent
    return cls(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        on=day,
        facility=_facility(text, admission=True),
        reason=_reason(text),
        note=message.text,
        doubts=tuple(doubts),
    )


_REASON_RE = re.compile(
    r"\b(?:for|w/|with|c/o|d/t|due\s+to|r/t|bc|because\s+of|after)\s+(?:a\s+|an\s+|her\s+|his\s+)?"
    r"(?P<r>[A-Za-z][\w/ -]{1,40}?)(?=\s*(?:$|[,.;]|\b(?:today|yesterday|yest|last|this|on|at|"
    r"since|and|x\s?\d)\b))",
    _I,
)


def _reason(text: str) -> str | None:
    match = _REASON_RE.search(text)
    return match.group("r").strip() if match else None


_COMPLEXITY_HIGH_RE = re.compile(r"\b(?:high[\s-]*(?:complexity|comp|cx)|99496)\b", _I)
_COMPLEXITY_MODERATE_RE = re.compile(r"\b(?:mod(?:erate)?[\s-]*(?:complexity|comp|cx)|99495)\b", _I)
_FACILITY_STOP = word_set(
    "today yesterday tonight on after with w for this last and to at due s/p but yest d/c dc"
    " discharged admitted via per re since by high moderate mod low complexity risk home"
    " c/o w/ x2 pt patient he she now overnight again currently still"
)
_FACILITY_WORD_RE = re.compile(r"[^\W\d_][\w'.&-]*")
_FROM_RE = re.compile(r"\b(?:from|out\s+of|left)\s+(?:the\s+)?", _I)
_TO_AT_RE = re.compile(r"\b(?:to|at|in)\s+(?:the\s+)?", _I)


def _facility(text: str, *, admission: bool = False) -> str | None:
    """'from Mercy General today' -> 'Mercy General'; 'admitted to St Luke's' -> "St Luke's"."""
    for pattern in (_TO_AT_RE, _FROM_RE) if admission else (_FROM_RE,):
        for match in pattern.finditer(text):
            words = adjacent_words(text, match.end(), stop=_FACILITY_STOP, limit=4)
            if words and words[0].lower() not in {"ed", "er", "hospital"} | _GENERIC_PLACES:
                return " ".join(words)
            if words and words[0].lower() in {"ed", "er"}:
                continue
    return None


_GENERIC_PLACES = word_set("home house hosp")


def adjacent_words(text: str, start: int, *, stop: frozenset[str], limit: int) -> list[str]:
    """Words right after ``start`` separated only by spaces, up to a stop word or punctuation."""
    words: list[str] = []
    previous_end = start
    for match in _FACILITY_WORD_RE.finditer(text, start):
        raw = match.group()
        word = raw.rstrip(".,")
        gap = text[previous_end : match.start()].strip()
        if gap == "&" and words and word.lower() not in stop:
            words.append(gap)  # "Amp & Sons"
        elif gap or word.lower() in stop:
            break
        words.append(word)
        previous_end = match.end()
        if len(words) >= limit or raw.endswith(","):
            break
    return words


# -- med rec ---------------------------------------------------------------------------------------


def build_med_rec(message: Message, span: Span, mention: PatientMention) -> Fact:
    """A med rec done: the day and the number of discrepancies."""
    text = message.text_of(span)
    day, _ = past_day(message, span)
    discrepancies = _discrepancies(text)
    if discrepancies is None and len(lx.MED_REC_RE.findall(message.normal)) == 1:
        discrepancies = _discrepancies(message.normal)  # the one med rec: its count may be apart
    return MedRecIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        reconciled_on=day,
        discrepancies=discrepancies,
        note=message.text,
    )


_DISCREPANCY_RE = re.compile(
    r"\b(?P<n>\d{1,2}|no|zero|one|two|three|four|five|six|0)\s+(?:med(?:ication)?\s+)?"
    r"(?:discrepanc(?:y|ies)|discreps?|disc|changes?|issues?)\b|\bdiscrepanc(?:y|ies)\s*[:=-]?\s*"
    r"(?P<after>\d{1,2}|none|x\s?\d)\b|\b(?P<none>no\s+discrepanc\w*|none\s+found|no\s+changes)\b",
    _I,
)
_SMALL_NUMBERS = {"no": 0, "zero": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4,
                  "five": 5, "six": 6}  # fmt: skip


def _discrepancies(text: str) -> int | None:
    match = _DISCREPANCY_RE.search(text)
    if match is None:
        return None
    if match.group("none"):
        return 0
    word = (match.group("n") or match.group("after") or "").lower().replace("x", "").strip()
    return _SMALL_NUMBERS[word] if word in _SMALL_NUMBERS else int(word)


# -- tasks and notes -------------------------------------------------------------------------------


_TASK_LEAD_RE = re.compile(
    r"^\W*(?:remind\s+me\s+(?:to\s+)?|reminder\s*(?:to\s+)?:?\s*|todo\s*:?\s*|to\s*do\s*:?\s*|"
    r"to-do\s*:?\s*|don'?t\s+forget\s+(?:to\s+)?|dont\s+forget\s+(?:to\s+)?|"
    r"(?:i\s+)?need\s+to\s+|have\s+to\s+|gotta\s+|must\s+|pls\s+|please\s+|make\s+sure\s+(?:to\s+)?)",
    _I,
)


def build_task(message: Message, span: Span, mention: PatientMention) -> Fact:
    """A task for herself: what, and when it is due."""
    text = message.text_of(span)
    fragment = first_future_fragment(message, span)
    due = message.reader.resolve(fragment, "future") if fragment else None
    what = _TASK_LEAD_RE.sub("", text).strip(" .,;:-")
    if fragment is not None:
        cut = fragment.start - span.start
        what = (text[:cut] + text[cut + len(fragment.text) :]).strip(" .,;:-")
        what = _TASK_LEAD_RE.sub("", what).strip(" .,;:-")
    doubts = date_doubts(message, fragment)
    if span.cue is None:
        doubts.append(Doubt(DoubtReason.WEAK_CUE, "task"))  # "Tom fri": a follow-up, probably
    return TaskIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        what=" ".join(what.split())[:200],
        due=due,
        note=message.text,
        doubts=tuple(doubts),
    )


def build_note(message: Message, span: Span, mention: PatientMention) -> Fact:
    """A note: her words without the note cue, and any vitals in them."""
    text = message.text_of(span)
    body = lx.NOTE_CUE_RE.sub("", text, count=1).strip(" .,;:-")
    doubts = [Doubt(DoubtReason.UNKNOWN_WORD, reading) for reading in implausible_vitals(text)]
    return NoteIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        text=" ".join(body.split())[:4000],
        vitals=read_vitals(text),
        note=message.text,
        doubts=tuple(doubts),
    )


# -- referrals and goals ---------------------------------------------------------------------------


def build_care_plan(message: Message, span: Span, mention: PatientMention) -> Fact | None:
    """A referral or a goal in one clause of a longer message, read by bot.parsing.careplans
    on its own words; her patient comes from the fact's mention when the clause names none."""
    text = message.text_of(span)
    found = parse_careplan(
        text,
        now=message.now,
        zone=message.reader.zone,
        caseload=message.caseload,
        date_order=message.reader.date_order,
    )
    if found is None and span.cue is Cue.REFERRAL:
        return _referral(message, span, mention)
    if found is None or isinstance(found, ResourceQueryIntent):
        return build_note(message, span, mention)
    if found.patient is None and not found.candidates:
        found = replace(
            found,
            patient=mention.patient,
            candidates=mention.candidates,
            patient_text=mention.patient_text,
        )
    return found


_REFERRAL_TO_RE = re.compile(
    r"\bto\s+(?:the\s+|a\s+|an\s+|see\s+)?(?P<to>[\w/&+' -]{2,40}?)(?=\s*(?:$|[,.;]|\b(?:for|re|"
    r"today|yesterday|on|by|via)\b))",
    _I,
)


def _referral(message: Message, span: Span, mention: PatientMention) -> Fact:
    """'sent HH referral for frank miller to amedisys': to whom, which service, when."""
    text = message.text_of(span)
    for name in span.names:
        assert name.span is not None
        a, b = name.span[0] - span.start, name.span[1] - span.start
        text = text[:a] + " " * (b - a) + text[b:]
    to = _REFERRAL_TO_RE.search(text)
    specialty = canonical_specialty(text)
    to_whom = " ".join(to.group("to").split()) if to else (specialty or "")
    day, _ = past_day(message, span)
    return ReferralIntent(
        mention.patient,
        mention.candidates,
        mention.patient_text,
        to_whom=to_whom,
        specialty=specialty or canonical_specialty(to_whom),
        reason="",
        sent_on=day,
        note=message.text,
    )

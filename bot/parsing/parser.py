"""Turn one free-text nurse message into the facts it states.

How a message becomes facts (docs/parsing.md has the long version):
1. normalise: her learned shorthand applied, misspelled key words fixed (bot.parsing.normalise);
2. whole-message forms: undo, a new patient, a question, a care-plan message;
3. the message is cut into clauses (sentence ends, commas, "and", "then" ...); each clause gets
   the cue it opens with (a failed call, a visit, an appointment, a discharge, a task ...), and a
   clause holding two kinds of cue is cut again where the second one starts;
4. clauses are grouped into facts: a clause with no cue of its own (a follow-up, vitals, a
   comment) belongs to the fact before it; a clause naming another patient starts a new fact;
5. each fact's slots are read from its own words only: its patient (or the one named before:
   "called her back"), its dates, channel, outcome, place, facility;
6. each fact is checked: anything the parser had to guess (two patients fit, the weekday and the
   date disagree, an unknown word where the outcome is decided, a weak hint) is a ``Doubt``,
   and an unsure fact is read back to her before it is saved.
Must not import: telegram, storage, sqlalchemy, or anything doing I/O. ``now`` and the zone are
arguments; nothing here reads a clock.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.parsing import lexicon as lx
from bot.parsing.careplans import (
    ReferralIntent,
    ResourceQueryIntent,
    canonical_specialty,
    parse_careplan,
)
from bot.parsing.dates import (
    FUTURE_FORMS,
    PAST_FORMS,
    DateFragment,
    DateOrder,
    DateReader,
    DayForm,
)
from bot.parsing.facts import Fact, Reading
from bot.parsing.intents import (
    AdmissionIntent,
    AppointmentIntent,
    CancelIntent,
    ContactIntent,
    CorrectionIntent,
    DischargeIntent,
    Doubt,
    DoubtReason,
    EdVisitIntent,
    MedRecIntent,
    NewPatientIntent,
    NoteIntent,
    PatientMention,
    PatientRef,
    QueryIntent,
    RescheduleIntent,
    Target,
    TaskIntent,
    UndoIntent,
    UnknownIntent,
    When,
)
from bot.parsing.normalise import Clause, clauses, normalise
from bot.parsing.patients import Caseload, NameMatch, guess_name_text, word_set
from bot.parsing.questions import read_question, strip_filler
from bot.parsing.vitals import implausible_vitals, read_vitals
from bot.vocab import Channel, Complexity, Outcome, Party, QueryKind, Risk

MAX_ANALYSED_CHARS = 1000
"""Characters of a message read for meaning (the note keeps all of it)."""

MAX_FACTS = 6
"""Facts read from one message at most: a longer paste is read back, not saved blind."""

RECENT_CONTACT_DAYS = 31
"""A date in a contact further back than this is not when the contact happened."""

_I = re.IGNORECASE
NOON = time(12, 0)


def parse(
    text: str,
    *,
    now: datetime,
    zone: ZoneInfo,
    caseload: Caseload | Sequence[PatientRef],
    date_order: DateOrder = "MDY",
    shorthand: Mapping[str, str] | None = None,
) -> Reading:
    """Read one message. ``now`` must be aware; pass a prebuilt ``Caseload`` for speed;
    ``shorthand`` is her learned terms (term -> meaning)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    raw = text[:MAX_ANALYSED_CHARS]
    if not raw.strip():
        return Reading((UnknownIntent(),))
    index = caseload if isinstance(caseload, Caseload) else Caseload(caseload)
    normal = normalise(raw, protect=index.name_tokens, shorthand=shorthand)
    body = strip_filler(normal)
    offset = len(normal) - len(body)
    reader = DateReader(now=now, zone=zone, date_order=date_order)
    message = _Message(
        text=text,
        normal=normal,
        names=tuple(index.find_all(normal)),
        reader=reader,
        fragments=tuple(reader.fragments(normal)),
        now=now,
        caseload=index,
    )
    undo = _undo(message, body)
    if undo is not None:
        return Reading(undo)
    new_patient = _new_patient(body)
    if new_patient is not None:
        intent, consumed = new_patient
        rest = _facts(message, offset + consumed, new_patient_name=intent.name)
        return Reading((intent, *rest))
    question = read_question(body, _first_name_match(message, offset), today=reader.today)
    if question is not None:
        return Reading((question,))
    care_plan = parse_careplan(normal, now=now, zone=zone, caseload=index, date_order=date_order)
    if care_plan is not None and not _other_heads(message, offset):
        return Reading(tuple(_each_referral(care_plan)))
    facts = _facts(message, offset)
    return Reading(facts or (_nothing(message),))


# -- the message, read once ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Message:
    """What every reader of one message needs, computed once."""

    text: str  # as she wrote it: notes keep this
    normal: str  # normalised: everything is read from this
    names: tuple[NameMatch, ...]
    reader: DateReader
    fragments: tuple[DateFragment, ...]
    now: datetime
    caseload: Caseload

    def names_in(self, start: int, end: int) -> list[NameMatch]:
        return [n for n in self.names if n.span is not None and start <= n.span[0] < end]

    def fragments_in(self, start: int, end: int) -> list[DateFragment]:
        return [f for f in self.fragments if start <= f.start < end]


def _other_heads(message: _Message, start: int) -> bool:
    """Whether the message states something besides a care-plan fact (then each clause is
    read on its own: "video w/ aisha, referred her to diabetes ed, f/u 2 wks")."""
    heads = [
        h.cue
        for clause, hits in _sub_clauses(message, start)
        for h in hits
        if h.cue not in MODIFIERS
        and not (h.cue is Cue.APPOINTMENT and not message.fragments_in(clause.start, clause.end))
    ]
    plans = [c for c in heads if c in _CARE_PLAN_CUES]
    return len(plans) > 1 or any(c not in _CARE_PLAN_CUES for c in heads)


def _first_name_match(message: _Message, start: int) -> NameMatch:
    for name in message.names:
        if name.span is not None and name.span[0] >= start:
            return name
    guess = guess_name_text(message.normal[start:])
    return NameMatch(PatientMention(patient_text=guess), None)


def _nothing(message: _Message) -> Fact:
    """No fact: greetings, chatter, or a name alone (which opens her card)."""
    names = message.names
    if len(names) == 1 and names[0].span is not None:
        start, end = names[0].span
        rest = message.normal[:start] + message.normal[end:]
        if not re.search(r"\w", strip_filler(rest)):
            mention = names[0].mention
            return QueryIntent(
                query=QueryKind.PATIENT,
                patient=mention.patient,
                candidates=mention.candidates,
                patient_text=mention.patient_text,
            )
    mention = names[0].mention if names else PatientMention()
    return UnknownIntent(mention.patient, mention.candidates, mention.patient_text)


# -- cues -----------------------------------------------------------------------------------------


class Cue(enum.Enum):
    """What a clause opens with. Heads start a fact; modifiers add to the fact before them."""

    CONTACT = "contact"
    APPOINTMENT = "appointment"
    DISCHARGE = "discharge"
    ADMISSION = "admission"
    ED_VISIT = "ed_visit"
    MED_REC = "med_rec"
    TASK = "task"
    NOTE = "note"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    CORRECTION = "correction"
    REFERRAL = "referral"
    GOAL = "goal"
    FOLLOW_UP = "follow_up"  # modifier: the next step
    VITALS = "vitals"  # modifier: readings
    STATE = "state"  # modifier: a fact about her situation (a note on its own)


MODIFIERS = frozenset({Cue.FOLLOW_UP, Cue.VITALS, Cue.STATE})
_CARE_PLAN_CUES = frozenset({Cue.REFERRAL, Cue.GOAL})
_SECOND_HEADS = frozenset(
    {Cue.APPOINTMENT, Cue.MED_REC, Cue.DISCHARGE, Cue.ADMISSION, Cue.ED_VISIT, Cue.TASK,
     Cue.CANCEL, Cue.RESCHEDULE, Cue.REFERRAL, Cue.GOAL}
)  # fmt: skip
"""Cues that start a second fact even in the middle of a clause ("TCM call w/ Ana med rec done")."""

_TOPIC_BEFORE_RE = re.compile(
    r"\b(?:re|re:|about|regarding|abt|for|needs?|requires?|due\s+for|pending|awaiting|"
    r"to\s+(?:discuss|review|confirm|remind|go\s+over|"
    r"schedule|set\s+up|book|arrange)|reminder\s+(?:of|about|for)|remind(?:ed)?\s+(?:\w+\s+)?"
    r"(?:of|about)|confirm(?:ed|ing)?|discussed|reviewed|questions?\s+(?:about|re|on)|"
    r"asked\s+about|upcoming|missed|forgot)\s*(?:\w+'?s?\s+){0,2}$",
    _I,
)
_FUTURE_PLAN_RE = re.compile(
    r"\b(?:will(?:\s+(?:also|try\s+to|need\s+to))?|to|plan\s+to|going\s+to|gonna|need\s+to|"
    r"needs\s+to|should|must|pls|please|want\s+to|i'?ll|ill)\s+$",
    _I,
)


@dataclass(frozen=True, slots=True)
class _CueHit:
    cue: Cue
    start: int


def _cue_hits(text: str, base: int, context: str = "") -> list[_CueHit]:
    """Every cue in one clause (positions in the normalised message), in order. ``context`` is
    the whole message: "forgot to log" or an O2 delivery there changes what a clause means."""
    hits: list[_CueHit] = []
    conditional = _CONDITIONAL_RE.search(text) is not None

    def add(cue: Cue, match: re.Match[str] | None) -> None:
        if match is not None:
            hits.append(_CueHit(cue, base + match.start()))

    correction = lx.CORRECTION_RE.match(text) or lx.CORRECTION_TAIL_RE.search(text)
    if correction is not None and not lx.LEFT_MESSAGE_RE.search(text[: correction.end() + 4]):
        add(Cue.CORRECTION, correction)
    cancel = lx.CANCEL_RE.search(text)
    if cancel is not None and not _is_topic(text, cancel.start()):
        add(Cue.CANCEL, cancel)
    reschedule = lx.RESCHEDULE_RE.search(text)
    if reschedule is not None and (
        _STRONG_RESCHEDULE_RE.search(text) or lx.APPOINTMENT_RE.search(text)
    ):
        add(Cue.RESCHEDULE, reschedule)
    blocked = [m.span() for m in lx.DISCHARGE_NOT_RE.finditer(text)]
    for discharge in lx.DISCHARGE_RE.finditer(text):
        if any(a <= discharge.start() < b for a, b in blocked):
            continue
        before = text[max(0, discharge.start() - 40) : discharge.start()]
        if _CONDITION_BEFORE_RE.search(before):
            continue  # "TCM call tmrw if d/c'd"
        if not _is_topic(text, discharge.start()) or lx.DISCHARGE_STRONG_RE.match(
            text, discharge.start()
        ):
            add(Cue.DISCHARGE, discharge)
            break
    admission = lx.ADMISSION_RE.search(text)
    if (
        admission is not None
        and not _NEW_PATIENT_RE.match(text)
        and not _is_topic(text, admission.start())
    ):
        add(Cue.ADMISSION, admission)
    ed = lx.ED_VISIT_RE.search(text)
    if (
        ed is not None
        and not lx.ED_ADVICE_RE.search(text[max(0, ed.start() - 30) : ed.end()])
        and not _is_topic(text, ed.start())
    ):
        add(Cue.ED_VISIT, ed)
    med_rec = lx.MED_REC_RE.search(text)
    if med_rec is not None and not _is_topic(text, med_rec.start()):
        add(Cue.MED_REC, med_rec)
    task = lx.TASK_CUE_RE.match(text)
    if task is not None:
        add(Cue.TASK, task)
    else:
        verb_at = _imperative(text)
        if verb_at is not None:
            hits.append(_CueHit(Cue.TASK, base + verb_at))
    for appointment in lx.APPOINTMENT_RE.finditer(text):
        if _is_appointment_topic(text, appointment):
            continue
        add(Cue.APPOINTMENT, appointment)
        break
    contact = _contact_cue(text, happened=bool(_HAPPENED_RE.search(context)))
    if contact is not None:
        hits.append(_CueHit(Cue.CONTACT, base + contact))
    note = lx.NOTE_CUE_RE.match(text) or lx.NOTE_ANYWHERE_RE.search(text)
    add(Cue.NOTE, note)
    add(Cue.REFERRAL, lx.REFERRAL_RE.search(text))
    add(Cue.GOAL, lx.GOAL_RE.search(text))
    state = lx.NOTE_STATE_RE.search(text)
    add(Cue.STATE, state)
    follow = lx.FOLLOW_UP_CUE_RE.search(text)
    add(Cue.FOLLOW_UP, follow)
    if read_vitals(text):
        hits.append(_CueHit(Cue.VITALS, base + _first_vital_at(text)))
    if conditional:
        weak_plan = re.search(r"\b(?:will|may|might)\s+(?:need|have)\s+to\b", text, _I)
        drops = _CONDITIONAL_DROPS | ({Cue.TASK} if weak_plan else set())
        hits = [h for h in hits if h.cue not in drops]
    if _DELIVERY_RE.search(context) and not lx.SPECIALTY_RE.search(text):
        hits = [h for h in hits if h.cue is not Cue.APPOINTMENT]  # "O2 delivery, set for mon"
    return sorted(hits, key=lambda h: (h.start, _CUE_ORDER[h.cue]))


_CUE_ORDER = {cue: i for i, cue in enumerate(Cue)}
_CONDITIONAL_RE = re.compile(r"\b(?:if|unless|in\s+case)\b", _I)
_CONDITIONAL_DROPS = frozenset(
    {Cue.RESCHEDULE, Cue.CANCEL, Cue.DISCHARGE, Cue.ADMISSION, Cue.ED_VISIT, Cue.APPOINTMENT}
)

_STRONG_RESCHEDULE_RE = re.compile(
    r"\b(?:resched\w*|re-?sched\w*|push(?:ed)?\s+(?:back|out|to)|bump(?:ed)?\s+(?:to|up|back)|"
    r"moved?\s+(?:\w+'?s?\s+){0,4}?(?:appt|appointment|visit|hv|f/u|follow[- ]?up|to)|"
    r"change\s+(?:\w+'?s?\s+){0,3}?(?:appt|appointment|visit|time|f/u|to))\b",
    _I,
)
_NEW_PATIENT_RE = re.compile(
    r"^\W*(?:(?:new|add(?:ing|ed)?|enroll?(?:ed)?|admit|got\s+a\s+new|new\s+referral[,:]?)"
    r"\s+(?:new\s+|a\s+)?(?:patient|pt|client|member)\b|"
    r"new\s+to\s+(?:my\s+)?(?:caseload|list|panel)|new\s+(?:admission|intake)(?=\s*[:,-])|"
    r"new\s+referral(?:\s+from\s+[\w' ]{2,30}?)?(?=\s*[:,-]))"
    r"[\s:,-]*(?P<rest>.*)$",
    _I | re.DOTALL,
)
_VITAL_START_RE = re.compile(
    r"\b(?:bp|b/p|blood\s+pressure|hr|pulse|bg|cbg|fsbs|fbs|bs|blood\s+sugar|sugar|glucose|wt|"
    r"weight|weighs|spo2|o2|sats?|pulse\s*ox|temp|t\s*\d)",
    _I,
)


_DAY_PREFIX_RE = re.compile(
    r"^\W*(?:today|tdy|tmrw|tmw|tomorrow|mon|tue|tues|wed|weds|thu|thurs|fri|"
    r"(?:this|tmrw|tomorrow)\s+(?:am|pm|morning|afternoon))\w*\W*[:\-]?\s*(?:am\s+)?",
    _I,
)


def _imperative(text: str) -> int | None:
    """'call cvs re refill tmrw', 'get d/c summary from mercy': a plan for herself, when the
    clause opens with a bare verb and tells of no contact that happened."""
    body = _DAY_PREFIX_RE.sub("", strip_filler(text), count=1)
    match = lx.IMPERATIVE_RE.match(body)
    planned_day = body != strip_filler(text) and _DAY_AHEAD_BEFORE_RE.match(
        strip_filler(text)[: len(strip_filler(text)) - len(body)]
    )
    if (
        match is None
        and planned_day
        and re.match(r"\W*(?:tcm\s+)?(?:call|hv|visit|f/u)\b", body, _I)
    ):
        match = re.match(r"\W*", body)  # "tmrw am TCM call charles lewis"
    if match is None or re.match(r"\W*\w+\s+if\b", body, _I):
        return None  # "call if up 3 lbs": an instruction to the patient
    if lx.CONTACT_PAST_RE.search(text) or reached_at(text) is not None or _attempted(text):
        return None
    return len(text) - len(body)


def _first_vital_at(text: str) -> int:
    match = _VITAL_START_RE.search(text)
    return match.start() if match else 0


def _is_topic(text: str, at: int) -> bool:
    """'called re med rec', 'discussed d/c plan', 'call if d/c'd', 'not admitted': the cue is
    what was talked about, a condition, or denied — not something that happened."""
    before = text[max(0, at - 40) : at]
    return bool(_TOPIC_BEFORE_RE.search(before) or _CONDITION_BEFORE_RE.search(before))


_CONDITION_BEFORE_RE = re.compile(
    r"\b(?:if|once|when|unless|until|in\s+case|not|never|no|wasn'?t|isn'?t|won'?t|"
    r"didn'?t\s+need|avoid(?:ed)?)\s+(?:\w+\s+){0,2}$",
    _I,
)


_TIMED_AFTER_RE = re.compile(
    r"\s*(?:\w+\s+){0,2}?(?:on\s+)?(?:mon|tue|wed|thu|fri|sat|sun|tmrw|tomorrow|\d{1,2}/\d{1,2})"
    r"\w*\.?\s*(?:@|at)?\s*\d{1,2}(?::\d\d)?\s*(?:am|pm|a|p)?\b",
    _I,
)
_DONE_AFTER_RE = re.compile(
    r"\s*(?:\w+\s+)?(?:done|completed?|finished|performed|went\s+well)\b", _I
)


_DELIVERY_RE = re.compile(r"\b(?:deliver(?:y|ed|ies)?|shipment|ship|pick\s*up|pickup)\b", _I)


def _is_appointment_topic(text: str, match: re.Match[str]) -> bool:
    if _DELIVERY_RE.search(text):
        return True  # "O2 delivery set for mon 9-12": a delivery window, not an appointment
    return _appointment_topic(text, match)


def _appointment_topic(text: str, match: re.Match[str]) -> bool:
    if lx.APPOINTMENT_REMINDER_RE.match(text, match.start()):
        return True
    if lx.APPOINTMENT_OBJECT_RE.match(text, match.end()):
        return True  # "sleep study referral", "labs results"
    if re.search(
        r"\b(?:post|s/p|after|following|from)[\s-]*(?:\w+\s+){0,2}$", text[: match.start()], _I
    ):
        return True  # "post procedure day 1", "a1c from last wk labs"
    if _DONE_AFTER_RE.match(text, match.end()):
        return True  # "home safety eval done": it happened, nothing is booked
    before = text[max(0, match.start() - 40) : match.start()]
    if _TIMED_AFTER_RE.match(text, match.end()):
        return False  # "called re pcp appt thurs 10:30": a booking she was told of, keep it
    if _TOPIC_BEFORE_RE.search(before):
        # "to schedule cardio 12/8 at 2" names a booking: a topic only without a day.
        return not re.search(r"\b(?:set\s+up|schedule|book|arrange)\s*(?:\w+\s+){0,2}$", before, _I)
    return False


def _contact_cue(text: str, *, happened: bool = False) -> int | None:
    """Where the clause says a contact happened (or was tried); None for a plan ("HV fri",
    "will call", "call Tom tmrw")."""
    starts: list[int] = []
    for pattern in (lx.LEFT_MESSAGE_RE, lx.NO_ANSWER_RE, lx.TRIED_RE):
        match = pattern.search(text)
        if match is not None:
            starts.append(match.start())
    past = lx.CONTACT_PAST_RE.search(text)
    if past is not None and (happened or not _planned(text, past)):
        starts.append(past.start())
    for channel, pattern in lx.CHANNEL_PATTERNS:
        match = pattern.search(text)
        if match is None or (not happened and _planned(text, match)):
            continue
        if (
            channel is Channel.PHONE
            and not lx.CONTACT_PAST_RE.search(text)
            and _BARE_CALL_RE.match(text, match.start())
        ):
            continue  # "call Tom fri" is a plan; "phone f/u w/ Tom, swelling down" happened
        starts.append(match.start())
    strong = reached_at(text)
    if strong is not None:
        starts.append(strong)
    return min(starts) if starts else None


_DAY_AHEAD_BEFORE_RE = re.compile(
    r"^\W*(?:tmrw|tmw|tomorrow|mon|tue|tues|wed|weds|thu|thurs|fri|next\s+\w+)\w*"
    r"(?:\s+(?:am|pm|morning|afternoon|a\.m\.|p\.m\.))?\W*(?:[:\-]\s*)?$",
    _I,
)
_HAPPENED_RE = re.compile(
    r"\b(?:forgot\s+to\s+(?:log|chart|document)|late\s+entry|went\s+(?:well|ok|fine)|"
    r"was\s+(?:good|ok|fine|stable|better|worse))\b",
    _I,
)


def _planned(text: str, match: re.Match[str]) -> bool:
    """A contact word that names the next step: "will call", "to visit", "HV fri"."""
    if _FUTURE_PLAN_RE.search(text[max(0, match.start() - 30) : match.start()]):
        return True
    if _DAY_AHEAD_BEFORE_RE.search(text[: match.start()]):
        return True  # "tmrw am TCM call charles lewis"
    if not _DAY_AHEAD_RE.match(text, match.end()):
        return False
    earlier = lx.CONTACT_PAST_RE.search(text[: match.start()])
    if _HAPPENED_RE.search(text) or read_vitals(text):
        return False  # "forgot to log - HV w frank miller fri, BP 130/80"
    return earlier is None and not re.match(
        r"(?:called|spoke|talked|lvm|left|tried)", match.group(0), _I
    )


_DAY_AHEAD_RE = re.compile(
    r"\s+(?:call\s+|visit\s+|appt\s+)?(?:on\s+|next\s+|this\s+|again\s+)?"
    r"(?:mon|tue|wed|thu|fri|sat|sun|tomorrow|tmrw|tmw|"
    r"\d{1,2}/\d{1,2}|in\s+\d|eow|eom|next\s+(?:wk|week))",
    _I,
)
_BARE_CALL_RE = re.compile(
    r"(?:call|phone|ph|ring|text|txt|email)\b(?!\s+(?:f/u|fu|follow[- ]?up|call|visit|contact|"
    r"convo|conversation|check|w/|with|today|this\s+(?:am|morning|afternoon)|earlier))",
    _I,
)


# -- grouping clauses into facts ------------------------------------------------------------------


@dataclass(slots=True)
class _Span:
    """The words of one fact being built: [start, end) with the kind it has so far."""

    start: int
    end: int
    cue: Cue | None
    names: list[NameMatch] = field(default_factory=list)
    dated: bool = False
    followed: bool = False  # another fact comes after it in the message
    borrows: bool = False  # takes its slots from the next fact ("X and Y both NA")
    lent: bool = False  # takes its slots from the fact before ("LVM for X and Y")
    both: bool = False  # says "both"/"all": its next step is everyone's


def _sub_clauses(message: _Message, start: int) -> list[tuple[Clause, list[_CueHit]]]:
    """Clauses from ``start``, each cut again where a second kind of fact begins."""
    pieces: list[tuple[Clause, list[_CueHit]]] = []
    for clause in clauses(message.normal[start:]):
        clause = Clause(clause.start + start, clause.end + start)
        hits = _cue_hits(message.normal[clause.start : clause.end], clause.start, message.normal)
        heads = [h for h in hits if h.cue not in MODIFIERS]
        if (
            len(heads) > 1
            and heads[0].cue is Cue.CONTACT
            and any(h.cue is Cue.APPOINTMENT for h in heads)
            and _BOOKING_RE.search(message.normal[clause.start : clause.end])
            and not _PAST_TENSE_RE.search(message.normal[clause.start : clause.end])
        ):
            hits = [h for h in hits if h.cue is not Cue.CONTACT]  # "HV w/ okafor set for mon 10a"
            heads = [h for h in heads if h.cue is not Cue.CONTACT]
        if len(heads) > 1 and heads[0].cue is Cue.NOTE:
            hits = [h for h in hits if h is not heads[0]]  # "fyi Tom in the ER": the ER visit
            heads = heads[1:]
        cut_at = None
        if (
            len(heads) > 1
            and heads[0].cue is Cue.MED_REC
            and any(h.cue is Cue.CONTACT for h in heads[1:])
        ):
            cut = next(h for h in heads[1:] if h.cue is Cue.CONTACT)
            left, right = Clause(clause.start, cut.start), Clause(cut.start, clause.end)
            pieces.append((left, [h for h in hits if h.start < cut.start]))
            pieces.append((right, [h for h in hits if h.start >= cut.start]))
            continue  # "med rec done at HV": the visit is a contact of its own
        if heads and not any(h.cue in _ABOUT_AN_APPOINTMENT for h in heads):
            first = heads[0]
            for later in heads[1:] if first.cue not in _ABOUT_AN_APPOINTMENT else ():
                if {later.cue, first.cue} == {Cue.DISCHARGE, Cue.ADMISSION}:
                    continue  # one stay: "discharged from inpt rehab"
                if (
                    later.cue in _SECOND_HEADS
                    and later.cue != first.cue
                    and later.start > first.start
                ):
                    cut_at = later.start
                    break
        if cut_at is None:
            pieces.append((clause, hits))
            continue
        left = Clause(clause.start, cut_at)
        right = Clause(cut_at, clause.end)
        pieces.append((left, [h for h in hits if h.start < cut_at]))
        pieces.append((right, [h for h in hits if h.start >= cut_at]))
    return pieces


def _head(hits: list[_CueHit]) -> Cue | None:
    heads = [h.cue for h in hits if h.cue not in MODIFIERS]
    if heads and heads[0] is Cue.GOAL:
        return Cue.GOAL  # "pt goal: stay out of the hospital": the rest is the goal's text
    if not heads:
        for cue in (Cue.FOLLOW_UP, Cue.VITALS, Cue.STATE):
            if any(h.cue is cue for h in hits):
                return cue
        return None
    return _PRIORITY_HEAD(heads)


def _PRIORITY_HEAD(heads: list[Cue]) -> Cue:  # noqa: N802 - reads as a table
    """Among heads in one clause, the kind that decides what the clause is."""
    for cue in (
        Cue.CORRECTION,
        Cue.CANCEL,
        Cue.RESCHEDULE,
        Cue.TASK,
        Cue.DISCHARGE,
        Cue.MED_REC,
        Cue.ED_VISIT,
        Cue.ADMISSION,
        Cue.CONTACT,
        Cue.REFERRAL,
        Cue.GOAL,
        Cue.APPOINTMENT,
        Cue.NOTE,
    ):
        if cue in heads:
            if cue is Cue.ADMISSION and Cue.DISCHARGE in heads:
                continue
            return cue
    return heads[0]


_BOOKING_RE = re.compile(r"\b(?:set\s+for|set\s+up|scheduled|sched|booked|planned)\b", _I)
_ABOUT_AN_APPOINTMENT = frozenset({Cue.CANCEL, Cue.RESCHEDULE, Cue.CORRECTION, Cue.TASK, Cue.GOAL})
"""Cues whose clause names the appointment they act on: not a second fact."""

_MERGING = frozenset({Cue.CONTACT, Cue.DISCHARGE, Cue.ADMISSION, Cue.ED_VISIT, Cue.NOTE})


def _spans(message: _Message, start: int) -> list[_Span]:
    """Clauses grouped into facts (see the module docstring, step 4)."""
    spans: list[_Span] = []
    for clause, hits in _sub_clauses(message, start):
        cue = _head(hits)
        names = message.names_in(clause.start, clause.end)
        dated = bool(message.fragments_in(clause.start, clause.end))
        text = message.normal[clause.start : clause.end]
        current = spans[-1] if spans else None
        if (
            cue is Cue.FOLLOW_UP
            and _names_a_day(message, clause)
            and _PROVIDER_VISIT_RE.search(text)
        ):
            cue = Cue.APPOINTMENT  # "pcp f/u 12/22 @ 11": a visit with her doctor
        if current is None:
            spans.append(_Span(clause.start, clause.end, cue, names, dated))
            continue
        if names and _other_patient(current, names):
            if current.cue is None and _TOGETHER_RE.search(text):
                current.cue = cue  # "dorothy chen and mrs thompson both NA"
                current.borrows = True
            lends = (cue is None or cue in MODIFIERS) and (
                _short(message, clause, names) or (_opens_with(names, clause) and not dated)
            )
            if lends:
                cue = current.cue  # "LVM for maria santos and john smith"
            spans.append(_Span(clause.start, clause.end, cue, names, dated, lent=lends))
            continue
        if (
            cue is Cue.FOLLOW_UP
            and current.cue in _NO_NEXT_STEP
            and _names_a_day(message, clause)
            and not any(s.cue is Cue.CONTACT for s in spans)
        ):
            spans.append(_Span(clause.start, clause.end, Cue.TASK, names, dated))
            continue  # "sue clark d/c'd today, TCM call tmrw": her plan
        if (
            cue is Cue.CONTACT
            and not names
            and _RESTATES_RE.fullmatch(text.strip(" .,;-"))
            and any(s.cue is Cue.CONTACT for s in spans)
        ):
            _extend(current, clause, names, dated)  # "... spoke w pt. d/c'd yest. TCM done"
            continue
        if cue is None or cue in MODIFIERS:
            _extend(current, clause, names, dated)
            if current.cue is None and cue is not None:
                current.cue = cue
            continue
        if current.cue is None or current.cue in MODIFIERS:
            if current.cue in (Cue.VITALS, Cue.STATE) and cue is not Cue.NOTE:
                spans.append(_Span(clause.start, clause.end, cue, names, dated))
                continue  # "aisha BG 342 per HH, called pcp": a note, then a call
            if current.cue is Cue.FOLLOW_UP and cue is Cue.CONTACT:
                current.cue = Cue.CONTACT  # "f/u call w/ Tom, LVM": the contact itself
            elif cue is not Cue.NOTE or current.cue is None:
                current.cue = cue
            _extend(current, clause, names, dated)
            continue
        if _belongs(message, current, clause, cue, names, dated):
            if current.cue is Cue.ADMISSION and cue is Cue.DISCHARGE:
                current.cue = Cue.DISCHARGE  # "admitted then d/c'd home 11/19": the discharge
            _extend(current, clause, names, dated)
            continue
        spans.append(_Span(clause.start, clause.end, cue, names, dated))
    return spans


_RESTATES_RE = re.compile(
    r"(?:tcm|f/u|follow[- ]?up)?\s*(?:call|contact|outreach)?\s*(?:done|complete|completed|made)",
    _I,
)
_NO_NEXT_STEP = frozenset({Cue.DISCHARGE, Cue.ADMISSION, Cue.ED_VISIT, Cue.MED_REC})
_TOGETHER_RE = re.compile(r"\b(?:both|all|each|all\s+three|everyone)\b", _I)
_PROVIDER_VISIT_RE = re.compile(
    r"\b(?:pcp|dr\.?\s+\w+|doctor|cardio\w*|cards|endo\w*|ortho\w*|neuro\w*|nephro\w*|"
    r"pulm\w*|onc\w*|gi|uro\w*|surg\w*|specialist|podiatr\w*|derm\w*)\b",
    _I,
)


def _belongs(
    message: _Message,
    current: _Span,
    clause: Clause,
    cue: Cue,
    names: list[NameMatch],
    dated: bool,
) -> bool:
    """Whether a clause with a cue of its own still belongs to the fact before it."""
    text = message.normal[clause.start : clause.end]
    if cue is Cue.APPOINTMENT and not dated and not lx.STRONG_APPOINTMENT_RE.search(text):
        return True  # "in ED today, waiting on CT"
    if cue is Cue.DISCHARGE and current.cue is Cue.ED_VISIT:
        return True  # "ER last night ... went home"
    no_day = not names and not _names_a_day(message, clause)
    if cue is Cue.TASK and current.cue is Cue.TASK and not names and not current.dated:
        return True  # "dont forget UTR letter to ken scott, mail today"
    if cue is Cue.TASK and current.cue in (Cue.TASK, Cue.APPOINTMENT) and no_day:
        return True  # "recheck temp tonight, call her 8pm"; "sleep study 12/19, check in 8pm"
    if cue is Cue.TASK and current.cue is Cue.CONTACT and _is_next_step(message, clause):
        return True  # "didn't pick up, I'll try again after 3"
    if cue is Cue.DISCHARGE and current.cue is Cue.ADMISSION:
        return not current.dated  # "admitted 12/1, d/c'd 12/4" is two facts
    return _merges(message, current, clause, cue, names, dated)


_RECORD_CUES = frozenset(
    {Cue.CONTACT, Cue.APPOINTMENT, Cue.MED_REC, Cue.DISCHARGE, Cue.NOTE, Cue.TASK}
)


def _extend(span: _Span, clause: Clause, names: list[NameMatch], dated: bool) -> None:
    span.end = clause.end
    span.names.extend(names)
    span.dated = span.dated or dated


def _other_patient(span: _Span, names: list[NameMatch]) -> bool:
    if not span.names:
        return False
    mine = {_key(n) for n in span.names}
    return any(_key(n) not in mine for n in names)


def _key(name: NameMatch) -> tuple[int | None, str] | tuple[str, ...]:
    mention = name.mention
    if mention.patient is not None:
        return (mention.patient.id, mention.patient.name)
    return tuple(sorted(c.name for c in mention.candidates))


def _opens_with(names: list[NameMatch], clause: Clause) -> bool:
    """'..., aisha patel flu shot reminders': the clause begins with the other patient."""
    first = names[0].span
    return first is not None and first[0] - clause.start <= 2


_ALSO_WORDS = frozenset(
    {
        "too",
        "also",
        "as",
        "well",
        "same",
        "and",
        "both",
        "for",
        "w",
        "with",
        "to",
        "her",
        "his",
        "the",
        "mr",
        "mrs",
        "ms",
        "pt",
        "again",
        "x2",
        "x3",
    }
)


def _short(message: _Message, clause: Clause, names: list[NameMatch]) -> bool:
    """'..., John Smith too': a clause that is little more than another name."""
    text = message.normal[clause.start : clause.end]
    for name in names:
        assert name.span is not None
        text = text.replace(message.normal[name.span[0] : name.span[1]], " ")
    left = [w for w in re.findall(r"[^\W\d_]+", text) if w.casefold() not in _ALSO_WORDS]
    return len(left) <= 1


def _names_a_day(message: _Message, clause: Clause) -> bool:
    return any(
        f.form is not DayForm.TIME_ONLY for f in message.fragments_in(clause.start, clause.end)
    )


def _is_next_step(message: _Message, clause: Clause) -> bool:
    text = message.normal[clause.start : clause.end]
    return lx.FOLLOW_UP_CUE_RE.search(text) is not None


def _merges(
    message: _Message,
    current: _Span,
    clause: Clause,
    cue: Cue,
    names: list[NameMatch],
    dated: bool,
) -> bool:
    """Whether a clause with its own cue still belongs to the fact before it."""
    if names and _other_patient(current, names):
        return False
    if current.cue is Cue.CORRECTION and (not names or not current.names):
        return True  # "that was a vm not a real call, she didn't pick up"
    if cue is Cue.RESCHEDULE and current.cue is Cue.CANCEL and not dated:
        return True  # "appt cancelled, will resched"
    if cue is Cue.CONTACT and current.cue is Cue.CONTACT:
        return _same_contact(
            message.normal[current.start : current.end],
            message.normal[clause.start : clause.end],
            names_her=bool(names),
        )
    if cue is Cue.DISCHARGE and current.cue is Cue.ADMISSION:
        return True
    if cue is Cue.CONTACT and current.cue is Cue.TASK:
        return True  # "need to call Tom, LVM earlier": the task keeps its clause
    if cue is Cue.NOTE and current.cue in _RECORD_CUES:
        return True
    if cue is Cue.APPOINTMENT and current.cue is Cue.APPOINTMENT:
        return not (dated and current.dated)
    return cue is current.cue and cue in _MERGING


def _same_contact(before: str, after: str, *, names_her: bool = False) -> bool:
    """Whether a contact clause goes on the contact before it ("no answer, LVM") or is a
    contact of its own: a call-back after a failed try, another way of reaching her ("texted
    her to call me"), or someone else ("tried his son too")."""
    if reached_at(after) is not None and reached_at(before) is None and _attempted(before):
        return False
    mine, theirs = _explicit_channel(before), _explicit_channel(after)
    if (
        mine is not None
        and theirs is not None
        and mine != theirs
        and not {mine, theirs} <= {Channel.PHONE, Channel.VOICEMAIL}
    ):
        return False
    party_before, party_after = _party_words(before), _party_words(after)
    if not _CONTACT_VERB_RE.search(after):
        return True
    if party_after and party_after != party_before and (_attempted(before) or reached_at(before)):
        return False  # "pt not answering, tried his son too"
    # "called walgreens for his refill, then called him": the office, then the patient
    return not (party_before in ("provider", "insurer") and (names_her or _PERSON_RE.search(after)))


_PERSON_RE = re.compile(r"\b(?:him|her|them|pt|patient)\b", _I)
_CONTACT_VERB_RE = re.compile(
    r"\b(?:tried|called|spoke|talked|lvm|lm|left|texted|emailed|reached|no\s+ans\w*)\b", _I
)


def _attempted(text: str) -> bool:
    return bool(lx.LEFT_MESSAGE_RE.search(text) or lx.NO_ANSWER_RE.search(text)
                or lx.TRIED_RE.search(text))  # fmt: skip


def _explicit_channel(text: str) -> Channel | None:
    """The channel a clause names in words (not the voicemail an attempt implies)."""
    for channel in (Channel.VIDEO, Channel.VISIT, Channel.EMAIL, Channel.TEXT):
        if dict(lx.CHANNEL_PATTERNS)[channel].search(text):
            return channel
    if lx.PHONE_WORD_RE.search(text) or lx.NO_ANSWER_RE.search(text):
        return Channel.PHONE
    if lx.LEFT_MESSAGE_RE.search(text):
        return Channel.VOICEMAIL
    return None


def _party_words(text: str) -> str:
    if lx.CAREGIVER_RE.search(text):
        return "caregiver"
    if lx.INSURER_RE.search(text):
        return "insurer"
    if lx.PROVIDER_RE.search(text):
        return "provider"
    return ""


def reached_at(text: str) -> int | None:
    """Where the text says someone was really reached, or None ("spoke w/ nobody", "called
    back but I missed it" and "didn't pick up" don't count)."""
    for match in lx.STRONG_REACHED_RE.finditer(text):
        if _negated(text, match.start()):
            continue
        if lx.NOT_REACHED_AFTER_RE.search(text[match.end() :]):
            continue
        return match.start()
    return None


# -- facts from spans -----------------------------------------------------------------------------


def _facts(
    message: _Message, start: int, *, new_patient_name: str | None = None
) -> tuple[Fact, ...]:
    facts: list[Fact] = []
    previous: PatientMention | None = None
    if new_patient_name is not None:
        previous = PatientMention(patient_text=new_patient_name)
    spans = _spans(message, start)[:MAX_FACTS]
    if previous is None:
        named = next((s for s in spans if s.names), None)
        if named is not None:
            previous = named.names[0].mention  # "no answer earlier but Gloria called back"
    for i, span in enumerate(spans):
        mention, guessed = _mention(message, span, previous)
        span.followed = i + 1 < len(spans)
        span.both = bool(_TOGETHER_RE.search(_words(message, span)))
        fact = _build(message, span, mention)
        if fact is None:
            continue
        fact = _with_patient_doubts(fact, mention, guessed, new_patient_name)
        if not isinstance(fact, ContactIntent | TaskIntent):
            _hand_back(message, span, facts)
        facts.extend(_each_referral(fact))
        previous = mention
    _lend_slots(spans, facts)
    _same_stay(spans, facts, message)
    return tuple(facts)


def _same_stay(spans: list[_Span], facts: list[Fact], message: _Message) -> None:
    """'went to ED 12/13 ..., admitted to tele': the admission is the ED visit's day."""
    if len(spans) != len(facts):
        return
    for i in range(1, len(facts)):
        before, fact = facts[i - 1], facts[i]
        if (
            isinstance(fact, AdmissionIntent)
            and isinstance(before, EdVisitIntent)
            and before.patient == fact.patient
            and not message.fragments_in(spans[i].start, spans[i].end)
        ):
            facts[i] = replace(fact, on=before.on)


def _lend_slots(spans: list[_Span], facts: list[Fact]) -> None:
    """One reading for several patients: 'dorothy chen and mrs thompson both NA' (the first
    takes the second's), 'LVM for maria santos and john smith' (the second takes the first's),
    'f/u both tmrw' (every contact before takes the follow-up)."""
    if len(spans) != len(facts):
        return
    for i, span in enumerate(spans):
        mine = facts[i]
        if span.borrows and i + 1 < len(facts):
            facts[i] = _same_reading(facts[i + 1], mine)
        elif span.lent and i > 0:
            facts[i] = _same_reading(facts[i - 1], mine)
    for i, fact in enumerate(facts):
        if isinstance(fact, ContactIntent) and fact.follow_up is not None and spans[i].both:
            for j in range(i):
                other = facts[j]
                if isinstance(other, ContactIntent) and other.follow_up is None:
                    facts[j] = replace(other, follow_up=fact.follow_up)


def _same_reading(source: Fact, target: Fact) -> Fact:
    if type(source) is not type(target) or not isinstance(source, ContactIntent):
        return target
    assert isinstance(target, ContactIntent)
    return replace(
        source,
        patient=target.patient,
        candidates=target.candidates,
        patient_text=target.patient_text,
        follow_up=target.follow_up or source.follow_up,
        doubts=target.doubts,
    )


def _hand_back(message: _Message, span: _Span, facts: list[Fact]) -> None:
    """'HV w/ ana, med rec done, 1 discrepancy, BP 150/88. next HV 12/9': the next step and
    the readings written after a med rec (or a referral, a goal) belong to the contact before
    it; "f/u both tmrw" to every contact before it."""
    text = _words(message, span)
    fragments = message.fragments_in(span.start, span.end)
    follow = _follow_up_fragment(message, text, span.start, fragments)
    if follow is not None and span.cue is Cue.APPOINTMENT and follow is fragments[0]:
        follow = None  # the appointment's own day
    vitals = read_vitals(text) if span.cue is not Cue.APPOINTMENT else ()
    contacts = [i for i, f in enumerate(facts) if isinstance(f, ContactIntent)]
    if not contacts or (follow is None and not vitals):
        return
    targets = contacts if _TOGETHER_RE.search(text) else contacts[-1:]
    when = message.reader.resolve(follow, "future") if follow is not None else None
    for i in targets:
        contact = facts[i]
        assert isinstance(contact, ContactIntent)
        changes: dict[str, object] = {}
        if when is not None and contact.follow_up is None:
            changes["follow_up"] = when
        if vitals and not contact.vitals:
            changes["vitals"] = vitals
        if changes:
            facts[i] = replace(contact, **changes)  # type: ignore[arg-type]


_SEVERAL_RE = re.compile(r"\s*(?:\+|&|,|\band\b)\s*", _I)


def _each_referral(fact: Fact) -> list[Fact]:
    """'referred her to podiatry + dietitian': one referral each."""
    if not isinstance(fact, ReferralIntent) or not _SEVERAL_RE.search(fact.to_whom):
        return [fact]
    parts = [p.strip() for p in _SEVERAL_RE.split(fact.to_whom) if p.strip()]
    if len(parts) < 2 or len(parts) > 4:
        return [fact]
    return [replace(fact, to_whom=part, specialty=canonical_specialty(part)) for part in parts]


def _mention(
    message: _Message, span: _Span, previous: PatientMention | None
) -> tuple[PatientMention, bool]:
    """The fact's patient: the first named in it, else the one named before ("called her
    back"), else a name-like word she has not added ("LVM for mrs garcia")."""
    if span.names:
        return span.names[0].mention, span.names[0].guessed
    if previous is not None:
        return previous, False
    guess = guess_name_text(_words(message, span))
    return PatientMention(patient_text=guess), False


def _build(message: _Message, span: _Span, mention: PatientMention) -> Fact | None:
    cue = span.cue
    if _booked_ahead(message, span):
        cue = span.cue = Cue.APPOINTMENT
    if cue is None and mention.patient is not None and _only_a_day(message, span):
        return _task(message, span, mention)
    if cue is None and span.names and _says_something(message, span):
        return _note(message, span, mention)  # "libre 3 needs PA for mei lin - not on insulin"
    if cue is None:
        return None
    if cue is Cue.FOLLOW_UP and _happened(message, span):
        cue = span.cue = Cue.CONTACT
    builder = _BUILDERS.get(cue)
    if builder is None:
        return None
    return builder(message, span, mention)


def _says_something(message: _Message, span: _Span) -> bool:
    """More than a name: at least two words besides it (a bare name opens her card)."""
    rest = _words(message, span)
    for name in span.names:
        assert name.span is not None
        a, b = name.span[0] - span.start, name.span[1] - span.start
        rest = rest[:a] + " " * (b - a) + rest[b:]
    return len(re.findall(r"[^\W\d_]{2,}", rest)) >= 2


def _only_a_day(message: _Message, span: _Span) -> bool:
    """'Tom fri': her patient and a day ahead, nothing else."""
    if _first_future_fragment(message, span) is None:
        return False
    rest = _words(message, span)
    for fragment in reversed(message.fragments_in(span.start, span.end)):
        rest = rest[: fragment.start - span.start] + " " + rest[fragment.end - span.start :]
    for name in span.names:
        assert name.span is not None
        a, b = name.span[0] - span.start, name.span[1] - span.start
        rest = rest[:a] + " " * (b - a) + rest[b:]
    return not re.search(r"[^\W\d_]{2,}", rest)


def _booked_ahead(message: _Message, span: _Span) -> bool:
    """Whether a fact with no booking word is still an appointment: something ahead, at a day
    (and usually a time), with a provider or a service, and nothing said to have happened:
    "luis follow up w his pcp 12/10 @1030", "coumadin clinic tues 830", "F2F w pcp 12/7 @ 10:20",
    "Dorothy Chen podiatry 12/2 @ 3pm". Her own plans ("f/u w/ Tom fri") stay tasks."""
    if span.cue not in (None, Cue.FOLLOW_UP, Cue.CONTACT, Cue.NOTE):
        return False
    if span.cue is None and not span.names:
        return False  # "lunch, back at 1230"
    if span.cue is Cue.NOTE and not lx.NOTE_CUE_RE.match(_words(message, span)):
        return False
    text = _words(message, span)
    fragment = _first_future_fragment(message, span)
    if fragment is None or _PAST_TENSE_RE.search(text) or lx.REACHED_RE.search(text):
        return False
    if fragment.form in FUTURE_FORMS and fragment.form is not DayForm.TOMORROW:
        return False  # "in 2 wks", "eow": a follow-up span, not a booking
    provider = next(
        (
            m
            for pattern in (lx.SPECIALTY_RE, _WITH_PROVIDER_RE, _SERVICE_RE)
            for m in pattern.finditer(text)
            if not _TOPIC_BEFORE_RE.search(text[max(0, m.start() - 30) : m.start()])
        ),
        None,
    )
    if span.cue is Cue.CONTACT:
        timed = fragment.clock is not None
        return timed and not _cued(text, fragment.start - span.start)
    if span.cue is Cue.FOLLOW_UP:
        visit = re.search(r"\b(?:hv|h/v|home\s+visit|visit|f2f)\b", text, _I)
        return provider is not None or (visit is not None and fragment.clock is not None)
    return provider is not None or fragment.clock is not None


_PAST_TENSE_RE = re.compile(
    r"\b(?:called|spoke|spoken|talked|saw|seen|visited|texted|emailed|left|lvm|lmom|lm|tried|"
    r"reached|was|were|had|did|done|went|came|got|completed|discussed|reviewed|no\s+ans\w*|"
    r"na|utr|unable)\b",
    _I,
)
_SERVICE_RE = re.compile(
    r"\b(?:clinic|dr|doctor|check|test|scan|therapy|rehab|intake|fitting|exam|session|procedure|"
    r"lab|labs|draw|infusion|dialysis|xray|x-ray|cxr|ekg|echo|mri|ct|pt|ot|hh|soc|vac\s+change|"
    r"dressing\s+change|"
    r"f2f|appt|consult|eval|program|class|group|vaccine|shot|injection|screening|"
    r"mammo\w*|colonoscopy|dentist|dental|eye|hearing|optometr\w*|podiatr\w*|wound)\b",
    _I,
)


_FILLER_WORDS = word_set(
    "w w/ with at in on for the a an appt appointment apt pt patient has have is her his @ next"
    " this coming to see sees"
)


def _looks_like_appointment(message: _Message, span: _Span) -> bool:
    """'Dorothy Chen podiatry 12/2 @ 3pm': a specialty and a day ahead, and nothing else said."""
    text = _words(message, span)
    specialty = lx.SPECIALTY_RE.search(text)
    if specialty is None or _first_future_fragment(message, span) is None:
        return False
    rest = text
    for fragment in reversed(message.fragments_in(span.start, span.end)):
        a, b = fragment.start - span.start, fragment.end - span.start
        rest = rest[:a] + " " + rest[b:]
    for name in span.names:
        assert name.span is not None
        a, b = name.span[0] - span.start, name.span[1] - span.start
        rest = rest[:a] + " " * (b - a) + rest[b:]
    rest = lx.SPECIALTY_RE.sub(" ", rest)
    left = [w for w in re.findall(r"[^\W\d_][\w/'.-]*", rest) if w.casefold() not in _FILLER_WORDS]
    return len(left) <= 2


def _happened(message: _Message, span: _Span) -> bool:
    """'f/u w/ Tom, doing well': a follow-up contact that took place (no day ahead named,
    words of what she heard)."""
    text = _words(message, span)
    if _first_future_fragment(message, span) is not None:
        return False
    return lx.REACHED_RE.search(text) is not None


def _words(message: _Message, span: _Span) -> str:
    return message.normal[span.start : span.end]


# -- contact ---------------------------------------------------------------------------------------


def _contact(message: _Message, span: _Span, mention: PatientMention) -> Fact:
    text = _words(message, span)
    next_step = _next_step_at(text)
    what = text[:next_step] if next_step else text
    channel = _channel(what) or _channel(text)
    outcome, outcome_doubt = _outcome(message, span, channel, what, text)
    fragments = message.fragments_in(span.start, span.end)
    follow_up_fragment = _follow_up_fragment(message, text, span.start, fragments)
    follow_up = message.reader.resolve(follow_up_fragment, "future") if follow_up_fragment else None
    occurred, occurred_fragment = _occurred_at(message, text, span.start, fragments,
                                               follow_up_fragment)  # fmt: skip
    doubts = list(outcome_doubt)
    doubts += _date_doubts(message, follow_up_fragment)
    if follow_up is None and occurred_fragment is None:
        stray = _stray_future_date(message, fragments, follow_up_fragment)
        if stray is not None:
            follow_up = stray
            doubts.append(Doubt(DoubtReason.WEAK_CUE, "date"))
    return ContactIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        channel=channel,
        outcome=outcome,
        with_whom=_with_whom(text, span, mention),
        occurred_at=occurred,
        occurred_given=occurred_fragment is not None,
        follow_up=follow_up,
        attempts=_attempts(text) if outcome is Outcome.ATTEMPTED else 1,
        attempts_given=outcome is Outcome.ATTEMPTED and lx.ATTEMPTS_RE.search(text) is not None,
        note=message.text,
        vitals=read_vitals(text),
        doubts=tuple(doubts),
    )


_DESCRIBES_CONTACT_RE = re.compile(
    r"\b(?:phone|tele|telephone|telephonic|video|hv|home|tcm|post-?op|post-?d/?c|hospital)\s*$", _I
)
_CONTACT_AFTER_RE = re.compile(r"\s*(?:call|visit|hv|w/|with|contact|phone)\b", _I)


def _next_step_at(text: str) -> int | None:
    """Where the next step begins ("f/u fri", "will try again"); "no call back" is not one."""
    for match in lx.FOLLOW_UP_CUE_RE.finditer(text):
        if _DESCRIBES_CONTACT_RE.search(text[max(0, match.start() - 12) : match.start()]) or (
            _CONTACT_AFTER_RE.match(text, match.end())
        ):
            continue  # "phone f/u w/ Tom", "f/u call": the kind of contact, not a next step
        if re.search(
            r"\b(?:\d(?:st|nd|rd|th)|first|second|third|another|final|last)\s+$",
            text[max(0, match.start() - 8) : match.start()],
            _I,
        ):
            continue  # "2nd try harold": a count of attempts
        if re.search(
            r"\b(?:no|not|never|still\s+no|without)\s+$",
            text[max(0, match.start() - 12) : match.start()],
            _I,
        ):
            continue
        return match.start()
    return None


def _channel(text: str) -> Channel | None:
    """How the contact happened: the first channel word, where a message left beats the call it
    was left on, and "spoke"/"talked" (which may be in person) count only when nothing else is
    written."""
    found: dict[Channel, int] = {}
    for channel, pattern in lx.CHANNEL_PATTERNS:
        for match in pattern.finditer(text):
            if _FUTURE_PLAN_RE.search(text[max(0, match.start() - 30) : match.start()]):
                continue
            if channel is Channel.PHONE and _GENERIC_TALK_RE.fullmatch(match.group(0)):
                continue
            found[channel] = match.start()
            break
    if Channel.VOICEMAIL in found and reached_at(text) is None:
        if not _NO_MESSAGE_LEFT_RE.search(text):
            return Channel.VOICEMAIL
        found.pop(Channel.VOICEMAIL)
        found.setdefault(Channel.PHONE, 0)
    found.pop(Channel.VOICEMAIL, None)
    if found:
        return min(found, key=lambda ch: (found[ch], _CHANNEL_TIE[ch]))
    implied = lx.NO_ANSWER_RE.search(text) or lx.TRIED_RE.search(text) or reached_at(text)
    return Channel.PHONE if implied is not None else None


_GENERIC_TALK_RE = re.compile(r"spoke|spoken|talked", _I)
_CHANNEL_TIE = {Channel.VIDEO: 0, Channel.VISIT: 1, Channel.EMAIL: 2, Channel.TEXT: 3,
                Channel.PHONE: 4, Channel.CLINIC: 5, Channel.VOICEMAIL: 6}  # fmt: skip


_NO_MESSAGE_LEFT_RE = re.compile(
    r"\b(?:didn'?t|didnt|did\s+not|no|not|couldn'?t|cant|can'?t|unable\s+to)\s+(?:leave\s+)?"
    r"(?:a\s+)?(?:msg|message|vm|voicemail|lm|lvm)(?:\s+(?:left|set\s+up))?\b|"
    r"\bno\s+(?:msg|message|vm)\s+(?:left|set\s+up)\b",
    _I,
)


def _phone_first(text: str) -> bool:
    """'called pt, set up HV': the call is what happened, the visit is later."""
    phone = lx.PHONE_WORD_RE.search(text)
    visit = dict(lx.CHANNEL_PATTERNS)[Channel.VISIT].search(text)
    return phone is not None and visit is not None and phone.start() < visit.start()


def _outcome(
    message: _Message, span: _Span, channel: Channel | None, what: str, text: str
) -> tuple[Outcome | None, list[Doubt]]:
    """Reached or attempted. A plain word of being reached wins over attempt words ("LVM, pt
    called back"); voicemail and failed calls are attempts; texts and emails are neither until
    answered. A bare "called Tom" with nothing said is read back."""
    attempt = lx.LEFT_MESSAGE_RE.search(what) or lx.NO_ANSWER_RE.search(what)
    tried = lx.TRIED_RE.search(what)
    if reached_at(text) is not None:
        return Outcome.REACHED, []
    if attempt is not None or channel is Channel.VOICEMAIL:
        return Outcome.ATTEMPTED, []
    if channel in (Channel.TEXT, Channel.EMAIL):
        replied = re.search(
            r"\b(?:replied|responded|wrote\s+back|texted\s+back|answered)\b", text, _I
        )
        return (Outcome.REACHED if replied else None), []
    weak_reached = lx.REACHED_RE.search(text)
    if tried is not None and weak_reached is None:
        return Outcome.ATTEMPTED, []
    if channel is None:
        informed = _INFORMED_RE.search(text)
        return (Outcome.REACHED if weak_reached or informed else None), []
    doubts = []
    unknown = _unknown_word(what, span, message)
    if unknown is not None:
        doubts.append(Doubt(DoubtReason.UNKNOWN_WORD, unknown))
    elif (
        weak_reached is None
        and channel is Channel.PHONE
        and not span.followed
        and not _has_content(what, _mention_of(span))
    ):
        doubts.append(Doubt(DoubtReason.WEAK_CUE, "outcome"))
    return Outcome.REACHED, doubts


_INFORMED_RE = re.compile(r"\b(?:gave|let\s+\w+\s+know|told|informed)\b", _I)


def _negated(text: str, at: int) -> bool:
    return bool(
        re.search(
            r"\b(?:not|never|no|nobody|didn'?t|didnt|couldn'?t|unable\s+to|hasn'?t|has\s+not)\s+$",
            text[max(0, at - 14) : at],
            _I,
        )
    )


_CONTENT_STOP = word_set(
    """
    called call calling phoned phone ph tc t/c spoke talked pt patient w with to re for and the
    a an today this am pm morning afternoon f/u fu follow up x1 mr mrs ms her him his back
    again tele telephone telephonic
    """
)
_TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z/'.]*")


def _mention_of(span: _Span) -> PatientMention:
    return span.names[0].mention if span.names else PatientMention()


def _has_content(text: str, mention: PatientMention) -> bool:
    """Whether a contact says something beyond "called <name>" (then she was reached)."""
    name_words = {w.casefold() for w in (mention.patient_text or "").split()}
    left = [
        t
        for t in _TOKEN_RE.findall(text)
        if t.casefold().strip(".'") not in _CONTENT_STOP and t.casefold() not in name_words
    ]
    return len(left) >= 1


def _unknown_word(text: str, span: _Span, message: _Message) -> str | None:
    """Shorthand the parser does not know, written where the outcome is decided — right after
    her name or the contact word: "called Tom NR", "Tom J - nrtc". Is it "no response" or "not
    reached"? Read it back instead of guessing. Clinical shorthand further on is not asked about."""
    starts = [n.span[1] - span.start for n in span.names if n.span is not None]
    verb = lx.CONTACT_PAST_RE.search(text)
    if verb is not None:
        starts.append(verb.end())
    for start in starts:
        following = re.findall(r"[A-Za-z#/]+", text[start:])[:2]
        for token in following:
            if _is_unknown_shorthand(token):
                return str(token)
            if token.casefold() in _CONTEXT_WORDS:
                break
    return None


def _is_unknown_shorthand(token: str) -> bool:
    folded = token.casefold()
    if not re.fullmatch(r"[a-z]{2,5}", folded):
        return False
    if folded in lx.KNOWN_WORDS or folded in _MEDICAL:
        return False
    if any(pattern.fullmatch(token) for _, pattern in lx.CHANNEL_PATTERNS):
        return False
    if any(r.fullmatch(token) for r in (lx.CAREGIVER_RE, lx.PROVIDER_RE, lx.INSURER_RE)):
        return False
    return token.isupper() or not re.search(r"[aeiouy]", folded)


_CONTEXT_WORDS = word_set("re for s/p c/o w/ w with about regarding dx hx post after from of")


_MEDICAL = word_set(
    """
    sob chf copd dm htn ckd esrd cad pna dvt pe afib mi cva tia uti bph gerd oa ra ms als cp ha
    dsg dtr dtrs los tkr thr hss cm dme pcp hfu cysto pt ot
    nv abd gu ua bm doe pnd jvd loc si hi phq gad mmse moca sw cm rn lpn cna md do np pa pcp pt ot
    st slp rd hha msw poa dpoa dnr polst molst cms tcm mrp trc hedis ltc alf ilf snf ltach irf
    icu pcu or pacu ed er uc eod eow eom asap stat fyi eta asa apap ntg hctz ace arb sglt glp
    doac nsaid ppi ssri mdi hfa cgm poc fsbs cbg bg bs wt ht bmi temp rr hr bp sbp dbp map lbs
    kg ok utr na lvm lm lmom lmtcb nkda adl adls iadl prn bid tid qid qd po iv im sq otc rx tx
    dx hx sx fx pmh ros vs wnl nad aao aox le ue ble rle lle rom wc fww spo ra nc lpm bipap cpap
    abx wbc hgb bmp cmp cbc inr ldl tsh ekg ecg echo ef nyha hh dme mri ct gi ent obgyn ob gyn
    hv vv tele cc mg mcg ml dr mr mrs ms pm am hrs hr wks wk mos yr yrs min mins ur uro pft
    ckd meds med rx labs lab vm msg txt sms pls thx ty np fu btw imo tbd nv dc ok re w s p c o
    """
)


def _with_whom(text: str, span: _Span, mention: PatientMention) -> Party:
    """Who was on the other end: read from the start to just after the patient's name."""
    window = text
    if span.names and span.names[0].span is not None:
        name_end = span.names[0].span[1] - span.start
        window = text[: name_end + 24]
    else:
        window = text[:60]
    if _SPOKE_WITH_CAREGIVER_RE.search(text):
        return Party.CAREGIVER
    if lx.CAREGIVER_RE.search(window) and not re.search(
        r"\b(?:pt|patient)\s+and\s+(?:her|his)?\s*\w+\b", window, _I
    ):
        return Party.CAREGIVER
    name_at = None
    if span.names and span.names[0].span is not None:
        name_at = span.names[0].span[0] - span.start
        about = _ABOUT_PATIENT_RE.search(text[:name_at])
        if about is not None and re.search(r"[A-Za-z]{2,}", text[: about.start()]):
            who = text[: about.start()]  # "called lincare re pat wells", "spoke w SNF cm re X"
            if lx.INSURER_RE.search(who):
                return Party.INSURER
            if lx.CAREGIVER_RE.search(who):
                return Party.CAREGIVER
            if not re.fullmatch(r"\W*(?:\w+\s+){0,1}(?:pt|patient|her|him)?\W*", who, _I):
                return Party.PROVIDER
        after = text[span.names[0].span[1] - span.start :][:45]
        if _THEIR_PEOPLE_RE.match(after):
            return Party.INSURER if lx.INSURER_RE.search(after) else Party.PROVIDER
    before = window[:name_at] if name_at is not None else window
    if lx.INSURER_RE.search(before):
        return Party.INSURER
    if lx.PROVIDER_RE.search(before):
        return Party.PROVIDER
    return Party.PATIENT


_ABOUT_PATIENT_RE = re.compile(r"\b(?:re|re:|about|regarding|abt|for|on\s+behalf\s+of)\s*$", _I)
_THEIR_PEOPLE_RE = re.compile(
    r"^'?s?\s+(?!(?:re|about|for|regarding|to|abt|w|with)\b)(?:\w+\s+)?(?:office|pcp|dr|doctor|"
    r"cardiolog\w*|cards|pharmacy|insurance|plan|specialist|nurse|case\s+manager|care\s+"
    r"coordinator|coordinator|cm|clinic|team|agency|provider|medicaid|medicare|aetna|humana|"
    r"ctr|center|centre|dialysis|unit|facility|hospital|snf|dme|lab|pharm)\b",
    _I,
)
_CARE_TEAM_RE = re.compile(
    r"\b(?:care\s+coordinator|coordinator|cm|nurse|rn|office|clinic|team|staff|agency)\b", _I
)


_SPOKE_WITH_CAREGIVER_RE = re.compile(
    r"\b(?:spoke|talked|spoken|chatted|reached|called|lvm|lm|left\s+\w+\s+for|texted)\s+"
    r"(?:w/?|with|to|for)?\s*(?:her|his|the|pt'?s)?\s*" + lx.CAREGIVER_RE.pattern[3:-3] + r"\b",
    _I,
)


def _attempts(text: str) -> int:
    match = lx.ATTEMPTS_RE.search(text)
    if match is None:
        return 1
    word = (
        match.group("x")
        or match.group("n")
        or match.group("th")
        or match.group("hash")
        or match.group("twice")
        or "1"
    ).lower()
    if word == "final":
        return 1
    count = lx.ATTEMPT_WORDS.get(word) or int(word)
    return max(1, min(count, 20))


def _follow_up_fragment(
    message: _Message, text: str, base: int, fragments: list[DateFragment]
) -> DateFragment | None:
    happened = bool(_HAPPENED_RE.search(message.normal))
    """The first date that is the next step: after a follow-up cue, or only possible ahead."""
    for fragment in fragments:
        if fragment.form in PAST_FORMS or _recent_calendar_day(message, fragment):
            continue
        if fragment.form in FUTURE_FORMS or _cued(text, fragment.start - base, happened=happened):
            return fragment
    return None


def _recent_calendar_day(message: _Message, fragment: DateFragment) -> bool:
    """'12/7' written on 9 Dec: a day just past, not next year's."""
    if fragment.form not in (DayForm.NUMERIC, DayForm.MONTH_NAME):
        return False
    past = message.reader.resolve_day(fragment, "past")
    future = message.reader.resolve_day(fragment, "future")
    today = message.reader.today
    return (
        past is not None
        and future is not None
        and (today - past).days <= RECENT_CONTACT_DAYS
        and (future - today).days > 180
    )


def _cued(text: str, at: int, *, happened: bool = False) -> bool:
    """A follow-up cue earlier in the same sentence as the date ("HV fri" is not one when the
    message says it already happened: "forgot to log - HV w frank fri")."""
    sentence_start = 0
    for brk in re.finditer(r"(?<!\bdr)(?<!\bst)[.!?;\n]", text[:at], _I):
        sentence_start = brk.end()
    for cue in lx.FOLLOW_UP_CUE_RE.finditer(text, sentence_start):
        if cue.start() >= at:
            return False
        if happened and _VISIT_WORD_RE.fullmatch(cue.group(0)):
            continue
        if not _NOUN_BEFORE_RE.search(text[max(0, cue.start() - 12) : cue.start()]):
            return True
    return False


_FIRST_BREAK_RE = re.compile(r"[.;!?](?:\s|$)|\s-\s|\n")
_NOT_WHEN_RE = re.compile(
    r"\b(?:from|since|thru|through|until|till|til|ends?|expires?|exp|before|by)\s*$", _I
)


_VISIT_WORD_RE = re.compile(r"hv|h/v|home\s+visit|visit|tc|call|phone\s+call|video\s+visit", _I)
_NOUN_BEFORE_RE = re.compile(r"\b(?:my|the|a|her|his|your|their|returned|missed|our)\s+$", _I)


def _occurred_at(
    message: _Message,
    text: str,
    base: int,
    fragments: list[DateFragment],
    follow_up: DateFragment | None,
) -> tuple[When, DateFragment | None]:
    """When the contact happened: a recent past date written in it, else now. Today's date
    without a time is now (never midnight); an earlier day without a time is its noon."""
    now = message.now.astimezone(UTC)
    first_break = _FIRST_BREAK_RE.search(text)
    limit = first_break.start() if first_break else len(text)
    for fragment in fragments:
        if fragment is follow_up or fragment.form in FUTURE_FORMS:
            continue
        happened = bool(_HAPPENED_RE.search(message.normal))
        cued = _cued(text, fragment.start - base, happened=happened) and not (
            _recent_calendar_day(message, fragment)
        )
        if cued or fragment.start - base > limit:
            continue
        if _NOT_WHEN_RE.search(text[max(0, fragment.start - base - 8) : fragment.start - base]):
            continue  # "returned my call from yesterday", "approved thru 12/20"
        when = message.reader.resolve(fragment, "past")
        if when is None:
            continue
        zone = message.reader.zone
        day = when.local_date(zone)
        today = message.reader.today
        if (today - day).days > RECENT_CONTACT_DAYS:
            continue  # "called Tom 12/8" in December: 12/8 is not last year's call
        if day == today and (not when.has_time or when.at > now):
            return When(now, has_time=True), fragment
        if not when.has_time:
            noon = datetime.combine(day, NOON, tzinfo=zone).astimezone(UTC)
            return When(noon, has_time=False), fragment
        return when, fragment
    return When(now, has_time=True), None


def _stray_future_date(
    message: _Message, fragments: list[DateFragment], follow_up: DateFragment | None
) -> When | None:
    """A date in a contact with no cue that can't be when it happened: probably the next step
    ("called Tom 12/8" said on 2 Dec). Read back, not trusted."""
    for fragment in fragments:
        if fragment is follow_up or fragment.form in PAST_FORMS:
            continue
        if _NOT_WHEN_RE.search(message.normal[max(0, fragment.start - 8) : fragment.start]):
            continue
        past = message.reader.resolve(fragment, "past")
        future = message.reader.resolve(fragment, "future")
        if future is None:
            continue
        if (
            past is None
            or (message.reader.today - past.local_date(message.reader.zone)).days
            > RECENT_CONTACT_DAYS
        ):
            return future
    return None


def _date_doubts(
    message: _Message, fragment: DateFragment | None, prefer: str = "future"
) -> list[Doubt]:
    if fragment is None:
        return []
    conflict = message.reader.weekday_conflict(fragment, "future" if prefer == "future" else "past")
    if conflict is not None:
        return [Doubt(DoubtReason.DATE_CONFLICT, fragment.text, conflict)]
    readings = message.reader.next_weekday_readings(fragment)
    if readings is not None:
        return [Doubt(DoubtReason.AMBIGUOUS_WEEKDAY, fragment.text, readings)]
    return []


# -- appointment -----------------------------------------------------------------------------------


def _appointment(message: _Message, span: _Span, mention: PatientMention) -> Fact:
    text = _words(message, span)
    fragment = _first_future_fragment(message, span)
    at = message.reader.resolve(fragment, "future") if fragment else None
    doubts = _date_doubts(message, fragment)
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
        with_whom=_specialty(text),
        where=_place(text, span, message),
        note=message.text,
        doubts=tuple(doubts),
    )


def _first_future_fragment(message: _Message, span: _Span) -> DateFragment | None:
    """The first day ahead in the fact, with a time written apart from it in the same fact
    joined to it ("recheck temp tonight, call her 8pm")."""
    fragments = message.fragments_in(span.start, span.end)
    for fragment in fragments:
        if fragment.form in PAST_FORMS:
            continue
        if message.reader.resolve(fragment, "future") is None:
            continue
        if fragment.clock is None and fragment.form is not DayForm.TIME_ONLY:
            times = [f for f in fragments if f.form is DayForm.TIME_ONLY and f.clock is not None]
            if times and times[0].clock is not None:
                return fragment.with_clock(
                    times[0].clock, fragment.start, fragment.end, fragment.text
                )
        return fragment
    return None


_WITH_PROVIDER_RE = re.compile(
    r"(?:\bw/|\bwith|\bsees|\bsee|\bseeing)\s*(?P<who>(?:dr\.?|doctor)\s+[A-Za-z][\w'-]*)", _I
)


def _specialty(text: str) -> str | None:
    provider = _WITH_PROVIDER_RE.search(text)
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


def _place(text: str, span: _Span, message: _Message) -> str | None:
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


def _discharge(message: _Message, span: _Span, mention: PatientMention) -> Fact:
    text = _words(message, span)
    complexity = None
    if _COMPLEXITY_HIGH_RE.search(text):
        complexity = Complexity.HIGH
    elif _COMPLEXITY_MODERATE_RE.search(text):
        complexity = Complexity.MODERATE
    day, fragment = _past_day(message, span, after=_discharge_at(text))
    doubts = []
    if fragment is not None:
        doubts = _date_doubts(message, fragment, "past")
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


def _hospital_event(message: _Message, span: _Span, mention: PatientMention) -> Fact:
    text = _words(message, span)
    day, fragment = _past_day(message, span)
    doubts = _date_doubts(message, fragment, "past") if fragment is not None else []
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
    " c/o w/ x2 pt patient he she"
)
_FACILITY_WORD_RE = re.compile(r"[^\W\d_][\w'.&-]*")
_FROM_RE = re.compile(r"\b(?:from|out\s+of|left)\s+(?:the\s+)?", _I)
_TO_AT_RE = re.compile(r"\b(?:to|at|in)\s+(?:the\s+)?", _I)


def _facility(text: str, *, admission: bool = False) -> str | None:
    """'from Mercy General today' -> 'Mercy General'; 'admitted to St Luke's' -> "St Luke's"."""
    for pattern in (_TO_AT_RE, _FROM_RE) if admission else (_FROM_RE,):
        for match in pattern.finditer(text):
            words = _adjacent_words(text, match.end(), stop=_FACILITY_STOP, limit=4)
            if words and words[0].lower() not in {"ed", "er", "hospital"} | _GENERIC_PLACES:
                return " ".join(words)
            if words and words[0].lower() in {"ed", "er"}:
                continue
    return None


_GENERIC_PLACES = word_set("home house hosp")


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


def _past_day(
    message: _Message, span: _Span, *, after: int = 0
) -> tuple[date, DateFragment | None]:
    """The first date in the fact that can be in the past, read as past; today if none."""
    for fragment in message.fragments_in(span.start + after, span.end):
        if fragment.form in FUTURE_FORMS or fragment.form is DayForm.TIME_ONLY:
            continue
        day = message.reader.resolve_day(fragment, "past")
        if day is not None:
            return day, fragment
    return message.reader.today, None


def _med_rec(message: _Message, span: _Span, mention: PatientMention) -> Fact:
    text = _words(message, span)
    day, _ = _past_day(message, span)
    return MedRecIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        reconciled_on=day,
        discrepancies=_discrepancies(text)
        if _discrepancies(text) is not None
        else _discrepancies(message.normal)
        if len(lx.MED_REC_RE.findall(message.normal)) == 1
        else None,
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


def _task(message: _Message, span: _Span, mention: PatientMention) -> Fact:
    text = _words(message, span)
    fragment = _first_future_fragment(message, span)
    due = message.reader.resolve(fragment, "future") if fragment else None
    what = _TASK_LEAD_RE.sub("", text).strip(" .,;:-")
    if fragment is not None:
        cut = fragment.start - span.start
        what = (text[:cut] + text[cut + len(fragment.text) :]).strip(" .,;:-")
        what = _TASK_LEAD_RE.sub("", what).strip(" .,;:-")
    doubts = _date_doubts(message, fragment)
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


def _note(message: _Message, span: _Span, mention: PatientMention) -> Fact:
    text = _words(message, span)
    body = lx.NOTE_CUE_RE.sub("", text, count=1).strip(" .,;:-")
    doubts: list[Doubt] = []
    if span.cue is Cue.STATE and not read_vitals(text):
        pass
    for reading in implausible_vitals(text):
        doubts.append(Doubt(DoubtReason.UNKNOWN_WORD, reading))
    return NoteIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        text=" ".join(body.split())[:4000],
        vitals=read_vitals(text),
        note=message.text,
        doubts=tuple(doubts),
    )


# -- cancel, reschedule, correct, undo -------------------------------------------------------------


def _cancel(message: _Message, span: _Span, mention: PatientMention) -> Fact:
    text = _words(message, span)
    fragment = _first_future_fragment(message, span)
    target = Target.APPOINTMENT
    if not lx.APPOINTMENT_RE.search(text) and re.search(
        r"\b(?:f/u|follow[- ]?up|reminder|task|call)\b", text, _I
    ):
        target = Target.FOLLOW_UP
    return CancelIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        target=target,
        on=message.reader.resolve(fragment, "future") if fragment else None,
        what=_specialty(text),
        note=message.text,
    )


_NEW_WHEN_RE = re.compile(r"\b(?:to|for|now|until|till|til|->|=>|instead)\b|→", _I)


_OLD_BEFORE_RE = re.compile(r"\b(?:not|from|instead\s+of|rather\s+than|was)\s*$", _I)
_NOT_AFTER_RE = re.compile(r"\s*,?\s*(?:not|instead\s+of|rather\s+than)\b", _I)


def _new_moment(
    message: _Message, span: _Span
) -> tuple[When | None, tuple[int, int] | None, DateFragment | None]:
    """The new day and/or time a reschedule or correction names: after "to"/"now" when both an
    old and a new one are written ("move 12/8 to 12/9"), else the last one."""
    text = _words(message, span)
    fragments = [f for f in message.fragments_in(span.start, span.end) if f.form not in PAST_FORMS]
    if not fragments:
        return None, None, None
    old = [f for f in fragments if _OLD_BEFORE_RE.search(text[: f.start - span.start])]
    new = [f for f in fragments if f not in old]
    fragments = new or fragments
    chosen = fragments[-1]
    instead = [f for f in fragments if _NOT_AFTER_RE.match(text, f.end - span.start)]
    marker = _NEW_WHEN_RE.search(text)
    lead = lx.CORRECTION_RE.match(text)
    if lead is not None and fragments[0].start - span.start <= lead.end() + 2:
        chosen = fragments[0]  # "actually thurs, im in the office wed"
    elif instead:
        chosen = instead[0]  # "fri not thurs", "3pm not 2"
    elif marker is not None:
        after = [f for f in fragments if f.start - span.start >= marker.start()]
        if after:
            chosen = after[0]
    if chosen.form is DayForm.TIME_ONLY and chosen.clock is not None:
        hour = _hour(chosen)
        return None, (hour, chosen.clock.minute), chosen
    return message.reader.resolve(chosen, "future"), None, chosen


def _hour(fragment: DateFragment) -> int:
    assert fragment.clock is not None
    clock = fragment.clock
    if clock.meridiem_given:
        return clock.hour
    return clock.hour + 12 if 1 <= clock.hour <= 6 else clock.hour


def _reschedule(message: _Message, span: _Span, mention: PatientMention) -> Fact:
    text = _words(message, span)
    if not lx.APPOINTMENT_RE.search(text) and re.search(r"\b(?:f/u|fu|follow[- ]?up)\b", text, _I):
        return _correction(message, span, mention)  # "change Susan's f/u to mon"
    new, new_time, fragment = _new_moment(message, span)
    target = Target.APPOINTMENT
    if not lx.APPOINTMENT_RE.search(text) and re.search(
        r"\b(?:f/u|follow[- ]?up|call|visit)\b", text, _I
    ):
        target = Target.FOLLOW_UP
    return RescheduleIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        target=target,
        new=new,
        new_time=new_time,
        what=_specialty(text),
        note=message.text,
        doubts=tuple(_date_doubts(message, fragment)),
    )


def _correction(message: _Message, span: _Span, mention: PatientMention) -> Fact:
    text = _words(message, span)
    meant = [
        n
        for n in span.names
        if n.span is not None
        and not re.search(r"\bnot\s*$", message.normal[max(0, n.span[0] - 6) : n.span[0]], _I)
    ]
    if meant and len(span.names) > 1:
        mention = meant[0].mention  # "not harold, I meant tom"
    new, new_time, fragment = _new_moment(message, span)
    channel = None
    outcome = None
    if lx.LEFT_MESSAGE_RE.search(text):
        channel, outcome = Channel.VOICEMAIL, Outcome.ATTEMPTED
    elif lx.NO_ANSWER_RE.search(text) and reached_at(text) is None:
        outcome = Outcome.ATTEMPTED
    elif reached_at(text) is not None:
        outcome = Outcome.REACHED
    else:
        found = _channel(text)
        channel = found if found is not Channel.PHONE or lx.PHONE_WORD_RE.search(text) else None
    return CorrectionIntent(
        patient=mention.patient,
        candidates=mention.candidates,
        patient_text=mention.patient_text,
        new=new,
        new_time=new_time,
        channel=channel,
        outcome=outcome,
        note=message.text,
        doubts=tuple(_date_doubts(message, fragment)),
    )


_WRONG_PATIENT_RE = re.compile(
    r"\bwrong\s+(?:pt|patient|person|name)\b.*?\b(?:it\s+was|was|should\s+be|meant|is|->|for)\s+",
    _I,
)


def _undo(message: _Message, body: str) -> tuple[Fact, ...] | None:
    match = lx.UNDO_RE.match(body)
    if match is None:
        return None
    wrong = _WRONG_PATIENT_RE.search(body)
    if wrong is not None:
        names = [
            n
            for n in message.names
            if n.span is not None and n.span[0] >= len(message.normal) - len(body) + wrong.end() - 1
        ]
        if names:
            mention = names[0].mention
            fact = CorrectionIntent(
                patient=mention.patient,
                candidates=mention.candidates,
                patient_text=mention.patient_text,
                new=None,
                new_time=None,
                channel=None,
                outcome=None,
                note=message.text,
            )
            return (fact,)
    rest = body[match.end() :]
    if re.search(r"[^\W_]{3,}", rest) and _cue_hits(rest, 0):
        return None  # "scratch that, LVM for Tom": a new record follows, read it as such
    return (UndoIntent(),)


# -- new patient ---------------------------------------------------------------------------------

_MRN_RE = re.compile(
    r"\b(?:mrn|mr#|id|member\s+id)\s*[:#]?\s*(?P<mrn>[A-Za-z]*\d[\w-]{0,19})\b|#(?P<hash>\d[\w-]{2,19})\b",
    _I,
)
_RISK_RE = re.compile(
    r"\b(?P<level>high|med(?:ium)?|moderate|mod|low)[\s-]*risk\b|\brisk\s*[:=-]?\s*"
    r"(?P<after>high|med(?:ium)?|moderate|mod|low)\b",
    _I,
)
_CONDITION_SPLIT_RE = re.compile(r"\s*(?:,|;|/|\+|&|\band\b)\s*", _I)
_CONDITION_LEAD_RE = re.compile(r"^(?:dx|diagnos[ei]s|with|w/|hx|pmh|conditions?)\s*:?\s*", _I)
_NAME_STOP = frozenset(
    {"mrn", "mr#", "id", "dob", "risk", "high", "medium", "med", "low", "dx", "d/c", "dc",
     "discharged", "from", "admitted", "age", "yo", "y/o", "member", "chf", "copd", "dm", "htn"}
)  # fmt: skip
_NEW_PATIENT_TAIL_RE = re.compile(
    r"[,;.]?\s*\b(?:d/c'?d|dc'?d|discharged|d/c|admitted|home\s+from|just\s+d/c|s/p|"
    r"referred|ref(?:erred)?\s+by|tcm)\b",
    _I,
)


def _new_patient(text: str) -> tuple[NewPatientIntent, int] | None:
    """'new pt Gloria Diaz MRN 44821 high risk CHF, d/c from Mercy yest': the new patient, and
    where the rest of the message (a discharge that brought her) begins."""
    opening = _NEW_PATIENT_RE.match(text)
    if opening is None:
        return None
    rest_start = opening.start("rest")
    rest = opening.group("rest")
    tail = _NEW_PATIENT_TAIL_RE.search(rest)
    own = rest[: tail.start()] if tail else rest
    mrn_match = _MRN_RE.search(own)
    risk_match = _RISK_RE.search(own)
    words = _adjacent_words(own, len(own) - len(own.lstrip()), stop=_NAME_STOP, limit=4)
    name = " ".join(w for w in words if not re.fullmatch(r"\d+[mfMF]?|[MF]", w))
    if not name:
        return None
    name = " ".join(w[:1].upper() + w[1:] for w in name.split())
    after = max(
        len(own) - len(own.lstrip()) + len(name),
        mrn_match.end() if mrn_match else 0,
        risk_match.end() if risk_match else 0,
    )
    intent = NewPatientIntent(
        name=name,
        mrn=(mrn_match.group("mrn") or mrn_match.group("hash")) if mrn_match else None,
        risk=_risk_level(risk_match),
        conditions=_conditions(own[after:]),
    )
    consumed = rest_start + (tail.start() if tail else len(rest))
    return intent, consumed


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


# -- patient doubts --------------------------------------------------------------------------------


def _with_patient_doubts(
    fact: Fact, mention: PatientMention, guessed: bool, new_patient_name: str | None
) -> Fact:
    """Add the patient-level doubts to a record fact: two patients fit, none fits, a guess."""
    if not isinstance(fact, _PATIENT_FACTS):
        return fact
    extra: list[Doubt] = []
    if mention.candidates:
        extra.append(Doubt(DoubtReason.AMBIGUOUS_PATIENT, mention.patient_text or ""))
    elif (
        mention.patient is None
        and mention.patient_text
        and mention.patient_text != new_patient_name
    ):
        extra.append(Doubt(DoubtReason.UNKNOWN_PATIENT, mention.patient_text))
    elif guessed:
        extra.append(Doubt(DoubtReason.GUESSED_PATIENT, mention.patient_text or ""))
    if not extra:
        return fact
    return replace(fact, doubts=(*extra, *fact.doubts))


_PATIENT_FACTS = (
    ContactIntent,
    AppointmentIntent,
    DischargeIntent,
    AdmissionIntent,
    EdVisitIntent,
    MedRecIntent,
    TaskIntent,
    NoteIntent,
    CancelIntent,
    RescheduleIntent,
)


def _care_plan(message: _Message, span: _Span, mention: PatientMention) -> Fact | None:
    """A referral or a goal in one clause of a longer message, read by bot.parsing.careplans
    on its own words; her patient comes from the fact's mention when the clause names none."""
    text = _words(message, span)
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
        return _note(message, span, mention)
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


def _referral(message: _Message, span: _Span, mention: PatientMention) -> Fact:
    """'sent HH referral for frank miller to amedisys': to whom, which service, when."""
    text = _words(message, span)
    for name in span.names:
        assert name.span is not None
        a, b = name.span[0] - span.start, name.span[1] - span.start
        text = text[:a] + " " * (b - a) + text[b:]
    to = _REFERRAL_TO_RE.search(text)
    specialty = canonical_specialty(text)
    to_whom = " ".join(to.group("to").split()) if to else (specialty or "")
    day, _ = _past_day(message, span)
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


_BUILDERS = {
    Cue.CONTACT: _contact,
    Cue.APPOINTMENT: _appointment,
    Cue.DISCHARGE: _discharge,
    Cue.ADMISSION: _hospital_event,
    Cue.ED_VISIT: _hospital_event,
    Cue.MED_REC: _med_rec,
    Cue.TASK: _task,
    Cue.FOLLOW_UP: _task,
    Cue.NOTE: _note,
    Cue.VITALS: _note,
    Cue.STATE: _note,
    Cue.CANCEL: _cancel,
    Cue.RESCHEDULE: _reschedule,
    Cue.CORRECTION: _correction,
    Cue.REFERRAL: _care_plan,
    Cue.GOAL: _care_plan,
}

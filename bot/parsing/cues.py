"""What each clause of a message opens with: the cue that decides the kind of fact it states.

Owns: ``Cue`` (the kinds of fact: heads start one, modifiers add to the one before) and
``cue_hits`` (every cue in one clause), with what turns a cue word into a mere topic, a
condition or a plan ("called re med rec", "TCM call tmrw if d/c'd", "will call"), bare-verb
plans for herself ("call cvs re refill tmrw"), and ``reached_at`` / ``attempted`` (whether a
contact's words say someone was reached, or only tried).
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from bot.parsing import lexicon as lx
from bot.parsing.questions import strip_filler
from bot.parsing.vitals import read_vitals
from bot.vocab import Channel

_I = re.IGNORECASE


# -- cues ------------------------------------------------------------------------------------------


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
CARE_PLAN_CUES = frozenset({Cue.REFERRAL, Cue.GOAL})
SECOND_HEADS = frozenset(
    {Cue.APPOINTMENT, Cue.MED_REC, Cue.DISCHARGE, Cue.ADMISSION, Cue.ED_VISIT, Cue.TASK,
     Cue.CANCEL, Cue.RESCHEDULE, Cue.REFERRAL, Cue.GOAL}
)  # fmt: skip
"""Cues that start a second fact even in the middle of a clause ("TCM call w/ Ana med rec done")."""

TOPIC_BEFORE_RE = re.compile(
    r"\b(?:re|re:|about|regarding|abt|for|needs?|requires?|due\s+for|pending|awaiting|"
    r"to\s+(?:discuss|review|confirm|remind|go\s+over|"
    r"schedule|set\s+up|book|arrange)|reminder\s+(?:of|about|for)|remind(?:ed)?\s+(?:\w+\s+)?"
    r"(?:of|about)|confirm(?:ed|ing)?|discussed|reviewed|questions?\s+(?:about|re|on)|"
    r"asked\s+about|upcoming|missed|forgot)\s*(?:\w+'?s?\s+){0,2}$",
    _I,
)
"""Words right before a cue that make it what was talked about: "called re med rec"."""
FUTURE_PLAN_RE = re.compile(
    r"\b(?:will(?:\s+(?:also|try\s+to|need\s+to))?|to|plan\s+to|going\s+to|gonna|need\s+to|"
    r"needs\s+to|should|must|pls|please|want\s+to|i'?ll|ill)\s+$",
    _I,
)
"""Words right before a contact word that make it a plan: "will call", "need to visit"."""


@dataclass(frozen=True, slots=True)
class CueHit:
    """One cue found in a clause, at its place in the normalised message."""

    cue: Cue
    start: int


_AT_DISCHARGE_RE = re.compile(
    r"\b(?:at|upon|on|prior\s+to|before|pending|awaiting)\s+(?:the\s+)?(?:time\s+of\s+)?$", _I
)
"""Her state at discharge, not a discharge that happened."""
_WEAK_HOME_RE = re.compile(r"(?:came|went|got|back|made\s+it|arrived)\s+home\b(?!\s+from\b)", _I)
"""Words that mean a discharge only when the message speaks of a stay."""
_STAY_RE = re.compile(
    r"\b(?:hosp\w*|admit\w*|inpatient|snf|rehab|icu|ltac|ltach|obs|observation|facility|"
    r"d/?c'?d?|discharg\w*|er|ed|a&e|mercy|st\.?\s+\w+|stay|surgery|nursing\s+home|hospice)\b",
    _I,
)
_REFUSED_STAY_RE = re.compile(
    r"\b(?:refused|declined|didn'?t\s+want|won'?t\s+go\s+to|wouldn'?t\s+go\s+to|"
    r"did\s+not\s+go\s+to|didn'?t\s+go\s+to)\s+(?:the\s+|an?\s+|to\s+(?:the\s+)?)?"
    r"(?:ed|er|hosp\w*|admission|transport|ambulance|911)\b",
    _I,
)


def cue_hits(text: str, base: int, context: str = "") -> list[CueHit]:
    """Every cue in one clause (positions in the normalised message), in order. ``context`` is
    the whole message: "forgot to log" or an O2 delivery there changes what a clause means."""
    hits: list[CueHit] = []
    conditional = _CONDITIONAL_RE.search(text) is not None

    def add(cue: Cue, match: re.Match[str] | None) -> None:
        if match is not None:
            hits.append(CueHit(cue, base + match.start()))

    correction = lx.CORRECTION_RE.match(text) or lx.CORRECTION_TAIL_RE.search(text)
    if correction is not None and not lx.LEFT_MESSAGE_RE.search(text[: correction.end() + 4]):
        add(Cue.CORRECTION, correction)
    cancel = lx.CANCEL_RE.search(text)
    if cancel is not None and not _is_topic(text, cancel.start()):
        add(Cue.CANCEL, cancel)
    reschedule = lx.RESCHEDULE_RE.search(text)
    if reschedule is not None and _MOVED_HOUSE_RE.search(text):
        reschedule = None  # "moved to hospice", "moving in w/ her daughter": where she lives
    if reschedule is not None and (
        _STRONG_RESCHEDULE_RE.search(text) or lx.APPOINTMENT_RE.search(text)
    ):
        add(Cue.RESCHEDULE, reschedule)
    blocked = [m.span() for m in lx.DISCHARGE_NOT_RE.finditer(text)]
    for discharge in lx.DISCHARGE_RE.finditer(text):
        if any(a <= discharge.start() < b for a, b in blocked):
            continue
        before = text[max(0, discharge.start() - 40) : discharge.start()]
        if _CONDITION_BEFORE_RE.search(before) or _AT_DISCHARGE_RE.search(before):
            continue  # "TCM call tmrw if d/c'd", "spo2 91% on 2L at d/c"
        if _WEAK_HOME_RE.match(text, discharge.start()) and (
            not _STAY_RE.search(context or text) or _REFUSED_STAY_RE.search(context or text)
        ):
            continue  # "refused ED, went home w/ daughter": home from a day out, not a stay
        if not _is_topic(text, discharge.start()) or lx.DISCHARGE_STRONG_RE.match(
            text, discharge.start()
        ):
            add(Cue.DISCHARGE, discharge)
            break
    admission = lx.ADMISSION_RE.search(text)
    if (
        admission is not None
        and not _denied(text, admission)
        and not lx.NEW_PATIENT_RE.match(text)
        and not _is_topic(text, admission.start())
    ):
        add(Cue.ADMISSION, admission)
    ed = lx.ED_VISIT_RE.search(text)
    if (
        ed is not None
        and not _denied(text, ed)
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
            hits.append(CueHit(Cue.TASK, base + verb_at))
    for appointment in lx.APPOINTMENT_RE.finditer(text):
        if _is_appointment_topic(text, appointment):
            continue
        add(Cue.APPOINTMENT, appointment)
        break
    if not any(h.cue is Cue.APPOINTMENT for h in hits):
        specialty = lx.SPECIALTY_RE.search(text)
        if (
            specialty is not None
            and _CLOCK_RE.search(text, specialty.end())
            and not lx.PAST_TENSE_RE.search(text[: specialty.start()])
            and not _is_appointment_topic(text, specialty)
        ):
            add(Cue.APPOINTMENT, specialty)  # "confirmed cardiology wed 12/23 2:40p"
    contact = _contact_cue(text, happened=bool(HAPPENED_RE.search(context)))
    if contact is not None and _manner_of_next_step(text, contact):
        contact = None  # "recheck wt tmrw by phone": how the next step will be done
    if contact is not None:
        hits.append(CueHit(Cue.CONTACT, base + contact))
    note = lx.NOTE_CUE_RE.match(text) or lx.NOTE_ANYWHERE_RE.search(text)
    add(Cue.NOTE, note)
    add(Cue.REFERRAL, lx.REFERRAL_RE.search(text))
    add(Cue.GOAL, lx.GOAL_RE.search(text))
    state = lx.NOTE_STATE_RE.search(text)
    add(Cue.STATE, state)
    follow = lx.FOLLOW_UP_CUE_RE.search(text)
    add(Cue.FOLLOW_UP, follow)
    if read_vitals(text):
        hits.append(CueHit(Cue.VITALS, base + _first_vital_at(text)))
    if conditional:
        weak_plan = re.search(r"\b(?:will|may|might)\s+(?:need|have)\s+to\b", text, _I)
        drops = _CONDITIONAL_DROPS | ({Cue.TASK} if weak_plan else set())
        hits = [h for h in hits if h.cue not in drops]
    if lx.DELIVERY_RE.search(context) and not lx.SPECIALTY_RE.search(text):
        hits = [h for h in hits if h.cue is not Cue.APPOINTMENT]  # "O2 delivery, set for mon"
    return sorted(hits, key=lambda h: (h.start, _CUE_ORDER[h.cue]))


_CUE_ORDER = {cue: i for i, cue in enumerate(Cue)}
_CLOCK_RE = re.compile(
    r"\d{1,2}:\d\d|\b\d{1,2}\s*(?:a|p|am|pm)\b|@\s*\d|\bat\s+\d|\b\d{3,4}\s*(?:a|p|am|pm)?\b", _I
)
_CONDITIONAL_RE = re.compile(r"\b(?:if|unless|in\s+case)\b", _I)
_CONDITIONAL_DROPS = frozenset(
    {Cue.RESCHEDULE, Cue.CANCEL, Cue.DISCHARGE, Cue.ADMISSION, Cue.ED_VISIT, Cue.APPOINTMENT}
)

_MOVED_HOUSE_RE = re.compile(
    r"\bmov(?:ed|ing|es|e)\s+(?:in\s+|back\s+|out\s+)?(?:to|into|in\s+with|w/|with|from)\s+"
    r"(?:a\s+|an\s+|the\s+|her\s+|his\s+|their\s+)?(?:hospice|snf|rehab|assisted|alf|ltc|ltac|"
    r"nursing|memory|group\s+home|daughter|son|sister|brother|niece|nephew|family|friend|"
    r"another\s+(?:state|city|town|county|area)|out\s+of\s+state|new\s+(?:apt|apartment|house|"
    r"home|address|place)|(?:his|her)\s+own|[A-Z][a-z]+\s+(?:state|county))\b",
    _I,
)
"""Where she lives now, not a booking moved."""
_STRONG_RESCHEDULE_RE = re.compile(
    r"\b(?:resched\w*|re-?sched\w*|push(?:ed)?\s+(?:back|out|to)|bump(?:ed)?\s+(?:to|up|back)|"
    r"moved?\s+(?:\w+'?s?\s+){0,4}?(?:appt|appointment|visit|hv|f/u|follow[- ]?up|to)|"
    r"change\s+(?:\w+'?s?\s+){0,3}?(?:appt|appointment|visit|time|f/u|to))\b|"
    r"\b(?:move|moved|moving|change|changed|switch|switched)\b[^.;]{0,40}?\bfrom\b[^.;]{1,30}?\bto\b|"
    + lx.MOVED_TO,
    _I,
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


# -- plans for herself, topics and conditions ------------------------------------------------------


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
    if lx.CONTACT_PAST_RE.search(text) or reached_at(text) is not None or attempted(text):
        return None
    return len(text) - len(body)


def _first_vital_at(text: str) -> int:
    match = _VITAL_START_RE.search(text)
    return match.start() if match else 0


def _is_topic(text: str, at: int) -> bool:
    """'called re med rec', 'discussed d/c plan', 'call if d/c'd', 'not admitted': the cue is
    what was talked about, a condition, or denied — not something that happened."""
    before = text[max(0, at - 40) : at]
    return bool(TOPIC_BEFORE_RE.search(before) or _CONDITION_BEFORE_RE.search(before))


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
_DAY_IN_RE = re.compile(
    r"\s*(?:\w+\s+){0,2}?(?:on\s+)?(?:mon|tue|wed|thu|fri|sat|sun|tmrw|tomorrow|today|\d{1,2}/\d)",
    _I,
)
_DONE_AFTER_RE = re.compile(
    r"\s*(?:\w+\s+)?(?:done|completed?|finished|performed|went\s+well)\b", _I
)


def _is_appointment_topic(text: str, match: re.Match[str]) -> bool:
    if lx.DELIVERY_RE.search(text):
        return True  # "O2 delivery set for mon 9-12": a delivery window, not an appointment
    return _appointment_topic(text, match)


def _appointment_topic(text: str, match: re.Match[str]) -> bool:
    if re.match(r"f/u|fu|follow", match.group(0), _I) and re.match(
        r"[^,;.]{0,30}?\b(?:office|ofc|clinic\s+staff|nurse|ma)\b", text[match.end() :], _I
    ):
        return True  # "f/u w/ dr nakamura's office mon": a call to the office, hers to make
    if re.search(r"\b\d{1,6}\s+[a-z]+\s+$", text[: match.start()], _I) and re.fullmatch(
        r"ct|dr|pt", match.group(0), _I
    ):
        return True  # "418 aspen ct": a street, not a scan
    if lx.APPOINTMENT_REMINDER_RE.match(text, match.start()):
        return True
    if re.match(
        r"\s*(?:results?|reports?|notes?|records?|referral|recs?|recommendations?|orders?)\b",
        text[match.end() :],
        _I,
    ):
        return True  # "f/u w/ dorothy re her cardiology results": what it is about
    if re.search(
        r"\b(?:no[\s-]?show(?:ed|s)?|didn'?t\s+show(?:\s+up)?|did\s+not\s+show(?:\s+up)?|missed)"
        r"(?:\s+(?:for|to|at|up\s+(?:for|to|at)))?(?:\s+(?:the|her|his|their))?(?:\s+\w+)?\s+$",
        text[: match.start()],
        _I,
    ):
        return True  # "no-showed her echo": a missed booking, not a new one
    if re.search(r"\b(?:pa|prior\s+auth\w*|auth\w*|per)\b", text[: match.start()], _I):
        return True  # "PA submitted for dan wright cardiac MRI", "per dialysis RN"
    if re.search(r"\bto\s+(?:her|his|their|the)\s+(?:next\s+)?$", text[: match.start()], _I):
        return True  # "bring her meter to her appt"
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
    if re.search(r"\b(?:needs?|requires?)\s+(?:\w+\s+){0,2}$", before, _I) and _DAY_IN_RE.search(
        text, match.end()
    ):
        return False  # "needs his start of care tomorrow": the day makes it a booking
    if TOPIC_BEFORE_RE.search(before):
        # "to schedule cardio 12/8 at 2" names a booking: a topic only without a day.
        return not re.search(r"\b(?:set\s+up|schedule|book|arrange)\s*(?:\w+\s+){0,2}$", before, _I)
    return False


# -- contacts that happened, and plans -------------------------------------------------------------


_MANNER_RE = re.compile(
    r"(?:over|by|via)\s+(?:the\s+)?(?:phone|tele(?:phone)?|video)\b|telephonic(?:ally)?\b", _I
)


def _manner_of_next_step(text: str, at: int) -> bool:
    return bool(
        _MANNER_RE.match(text, at)
        and lx.FOLLOW_UP_CUE_RE.search(text[:at])
        and not lx.CONTACT_PAST_RE.search(text[:at])
    )


def _contact_cue(text: str, *, happened: bool = False) -> int | None:
    """Where the clause says a contact happened (or was tried); None for a plan ("HV fri",
    "will call", "call Tom tmrw")."""
    starts: list[int] = []
    owed = [m.span() for m in lx.OWED_CONTACT_RE.finditer(text)]

    def still_owed(match: re.Match[str]) -> bool:
        return any(start <= match.start() < end for start, end in owed)

    for pattern in (lx.LEFT_MESSAGE_RE, lx.NO_ANSWER_RE, lx.TRIED_RE, lx.BAD_NUMBER_RE):
        match = pattern.search(text)
        if match is not None:
            starts.append(match.start())
    past = lx.CONTACT_PAST_RE.search(text)
    if past is not None and not still_owed(past) and (happened or not _planned(text, past)):
        starts.append(past.start())
    for channel, pattern in lx.CHANNEL_PATTERNS:
        match = pattern.search(text)
        if match is None or still_owed(match) or (not happened and _planned(text, match)):
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


def _denied(text: str, event: re.Match[str]) -> bool:
    """The event is said not to have happened: "didn't go to the ER", "not admitted"."""
    lead = text[max(0, event.start() - 30) : event.start()]
    own = event.group(0).split()
    head = own[0] if own else ""
    return bool(lx.EVENT_DENIED_RE.search(lead + head) or lx.EVENT_DENIED_RE.search(lead))


HAPPENED_RE = re.compile(
    r"\b(?:forgot\s+to\s+(?:log|chart|document)|late\s+entry|went\s+(?:well|ok|fine)|"
    r"was\s+(?:good|ok|fine|stable|better|worse))\b",
    _I,
)


def _planned(text: str, match: re.Match[str]) -> bool:
    """A contact word that names the next step: "will call", "to visit", "HV fri"."""
    if FUTURE_PLAN_RE.search(text[max(0, match.start() - 30) : match.start()]):
        return True
    if _DAY_AHEAD_BEFORE_RE.search(text[: match.start()]):
        return True  # "tmrw am TCM call charles lewis"
    if not _DAY_AHEAD_RE.match(text, match.end()):
        return False
    earlier = lx.CONTACT_PAST_RE.search(text[: match.start()])
    if HAPPENED_RE.search(text) or read_vitals(text):
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


# -- reached or tried ------------------------------------------------------------------------------


def failed(text: str) -> bool:
    """A try that did not get through: no answer, a message left, a number that doesn't work."""
    return bool(
        lx.LEFT_MESSAGE_RE.search(text) or lx.NO_ANSWER_RE.search(text)
        or lx.BAD_NUMBER_RE.search(text)
    )  # fmt: skip


def attempted(text: str) -> bool:
    """Whether the text tells of a try: a message left, no answer, "tried"."""
    return bool(lx.LEFT_MESSAGE_RE.search(text) or lx.NO_ANSWER_RE.search(text)
                or lx.TRIED_RE.search(text))  # fmt: skip


def reached_at(text: str) -> int | None:
    """Where the text says someone was really reached, or None ("spoke w/ nobody", "called
    back but I missed it" and "didn't pick up" don't count)."""
    for match in lx.STRONG_REACHED_RE.finditer(text):
        if _negated(text, match.start()):
            continue
        if lx.NOT_REACHED_AFTER_RE.search(text[match.end() :]):
            continue
        if _only_word_left(text, match):
            continue
        return match.start()
    return None


def relayed(text: str) -> bool:
    """Someone came to the phone but she only left word ("granddaughter answered, said she's
    napping"): an attempt, not a reach."""
    return any(
        _ANSWERED_RE.fullmatch(m.group(0)) and _only_word_left(text, m)
        for m in lx.STRONG_REACHED_RE.finditer(text)
    )


_STRANGER_RE = re.compile(
    r"\b(?:(?:some|a|random|another|unknown|different)\s+(?:lady|man|guy|woman|person|one|kid|"
    r"girl|boy|voice)|someone|somebody|stranger)\s+(?:\w+\s+)?$",
    re.IGNORECASE,
)
_ANSWERED_RE = re.compile(r"picked\s+up|answered", _I)


def _only_word_left(text: str, match: re.Match[str]) -> bool:
    """'her husband picked up, she was in the shower, left msg w/ him', 'some guy answered,
    said wrong #', 'pt picked up, said bad time & hung up': someone came to the phone, but
    nothing passed with the patient."""
    if not _ANSWERED_RE.fullmatch(match.group(0)):
        return False
    after = text[match.end() : match.end() + 80]
    before = text[max(0, match.start() - 40) : match.start()]
    if _STRANGER_RE.search(before):
        return True  # "some lady answered": not hers, whatever follows
    if lx.CARE_NEWS_RE.search(after):
        return False  # "daughter picked up - pt sleeping but doing ok per dtr": family reached
    return bool(
        lx.RELAYED_RE.search(after)
        or (lx.SOMEONE_ELSE_RE.search(before) and lx.RELAYED_RE.search(text))
    )


def _negated(text: str, at: int) -> bool:
    return bool(
        re.search(
            r"\b(?:not|never|no|nobody|didn'?t|didnt|couldn'?t|unable\s+to|hasn'?t|has\s+not)\s+$",
            text[max(0, at - 14) : at],
            _I,
        )
    )

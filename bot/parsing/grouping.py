"""Group a message's clauses into the facts they state (step 4 in bot.parsing.parser).

Owns: ``sub_clauses`` (the clauses, each cut again where a second kind of fact begins) and
``fact_spans`` (a clause with no cue of its own joins the fact before it; a clause naming
another patient starts a new one), with the rules for when a clause that has a cue still
belongs to the fact before it (``_belongs``, ``_merges``, ``_same_contact``: "no answer, LVM"
is one call; "LVM, then called his son" is two).
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

import re
from typing import cast

from bot.parsing import lexicon as lx
from bot.parsing.cues import (
    MODIFIERS,
    SECOND_HEADS,
    TOPIC_BEFORE_RE,
    Cue,
    CueHit,
    cue_hits,
    failed,
    reached_at,
)
from bot.parsing.date_fragments import DayForm
from bot.parsing.message import Message, Span
from bot.parsing.normalise import Clause, clauses
from bot.parsing.patients import NameMatch, word_set
from bot.vocab import Channel

_I = re.IGNORECASE


# -- clauses and their heads -----------------------------------------------------------------------


def sub_clauses(message: Message, start: int) -> list[tuple[Clause, list[CueHit]]]:
    """Clauses from ``start``, each cut again where a second kind of fact begins (read once per
    message: the care-plan check and the grouping both ask)."""
    key = ("sub_clauses", start)
    if key not in message.memo:
        message.memo[key] = _sub_clauses(message, start)
    return list(cast(_Pieces, message.memo[key]))


_Pieces = list[tuple[Clause, list[CueHit]]]


def _sub_clauses(message: Message, start: int) -> _Pieces:
    pieces: list[tuple[Clause, list[CueHit]]] = []
    for clause in clauses(message.normal[start:]):
        clause = Clause(clause.start + start, clause.end + start)
        hits = cue_hits(message.normal[clause.start : clause.end], clause.start, message.normal)
        heads = [h for h in hits if h.cue not in MODIFIERS]
        if (
            len(heads) > 1
            and heads[0].cue is Cue.CONTACT
            and any(h.cue is Cue.APPOINTMENT for h in heads)
            and (
                _BOOKING_RE.search(message.normal[clause.start : clause.end])
                or _TENSELESS_VISIT_RE.match(message.normal, heads[0].start)
            )
            and not lx.PAST_TENSE_RE.search(message.normal[clause.start : clause.end])
        ):
            # "HV w/ okafor set for mon 10a", "F2F w pcp 12/14 at 9:30": a visit booked ahead
            hits = [h for h in hits if h.cue is not Cue.CONTACT]
            heads = [h for h in heads if h.cue is not Cue.CONTACT]
        if len(heads) > 1 and heads[0].cue is Cue.NOTE:
            hits = [h for h in hits if h is not heads[0]]  # "fyi Tom in the ER": the ER visit
            heads = heads[1:]
        cut_at = None
        if (
            len(heads) > 1
            and heads[0].cue is Cue.MED_REC
            and any(
                h.cue is Cue.CONTACT and not _MANNER_RE.match(message.normal, h.start)
                for h in heads[1:]
            )
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
                    later.cue in SECOND_HEADS
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


_MANNER_RE = re.compile(
    r"(?:over|by|via|on)\s+(?:the\s+)?(?:phone|tele(?:phone)?)\b|telephonic(?:ally)?\b", _I
)
"""How a med rec was done ("med rec w ana over the phone"), not a call of its own."""


def _head(hits: list[CueHit]) -> Cue | None:
    heads = [h.cue for h in hits if h.cue not in MODIFIERS]
    if heads and heads[0] is Cue.GOAL:
        return Cue.GOAL  # "pt goal: stay out of the hospital": the rest is the goal's text
    if not heads:
        for cue in (Cue.FOLLOW_UP, Cue.VITALS, Cue.STATE):
            if any(h.cue is cue for h in hits):
                return cue
        return None
    return _priority_head(heads)


def _priority_head(heads: list[Cue]) -> Cue:
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


_TENSELESS_VISIT_RE = re.compile(
    r"(?:f2f|face\s+to\s+face|video\s+visit|virtual\s+visit|tele\s*visit|office\s+visit|hv|visit)\b",
    _I,
)
_BOOKING_RE = re.compile(r"\b(?:set\s+for|set\s+up|scheduled|sched|booked|planned)\b", _I)
_ABOUT_AN_APPOINTMENT = frozenset({Cue.CANCEL, Cue.RESCHEDULE, Cue.CORRECTION, Cue.TASK, Cue.GOAL})
"""Cues whose clause names the appointment they act on: not a second fact."""

_MERGING = frozenset({Cue.CONTACT, Cue.DISCHARGE, Cue.ADMISSION, Cue.ED_VISIT, Cue.NOTE})


# -- grouping clauses into facts -------------------------------------------------------------------


def fact_spans(message: Message, start: int) -> list[Span]:
    """Clauses grouped into facts (see the module docstring, step 4)."""
    spans: list[Span] = []
    for clause, hits in sub_clauses(message, start):
        cue = _head(hits)
        names = message.names_in(clause.start, clause.end)
        dated = bool(message.fragments_in(clause.start, clause.end))
        text = message.normal[clause.start : clause.end]
        current = spans[-1] if spans else None
        if (
            cue is Cue.FOLLOW_UP
            and _names_a_day(message, clause)
            and (visit := lx.PROVIDER_VISIT_RE.search(text)) is not None
            and not TOPIC_BEFORE_RE.search(text[max(0, visit.start() - 30) : visit.start()])
            and not re.search(r"\b(?:office|ofc)\b", text, _I)
        ):
            cue = Cue.APPOINTMENT  # "pcp f/u 12/22 @ 11": a visit with her doctor (not her office)
        if current is None:
            spans.append(Span(clause.start, clause.end, cue, names, dated))
            continue
        if names and _other_patient(current, names):
            if current.cue is None and cue is not None and TOGETHER_RE.search(text):
                shared = Cue.CONTACT if cue in MODIFIERS else cue
                for before in reversed(spans):  # "dorothy chen and mrs thompson both NA"
                    if before.cue is not None or not before.names:
                        break  # "thompson, allen, baker - NA all 3": every name before
                    before.cue = shared
                    before.borrows = True
                spans.append(Span(clause.start, clause.end, cue, names, dated))
                continue
            lends = (cue is None or cue in MODIFIERS) and (
                _short(message, clause, names) or (_opens_with(names, clause) and not dated)
            )
            if lends:
                cue = current.cue  # "LVM for maria santos and john smith"
            spans.append(Span(clause.start, clause.end, cue, names, dated, lent=lends))
            continue
        if (
            cue is Cue.FOLLOW_UP
            and current.cue in _NO_NEXT_STEP
            and _names_a_day(message, clause)
            and not any(s.cue is Cue.CONTACT for s in spans)
        ):
            spans.append(Span(clause.start, clause.end, Cue.TASK, names, dated))
            continue  # "sue clark d/c'd today, TCM call tmrw": her plan
        if (
            cue is Cue.CONTACT
            and not names
            and _RESTATES_RE.fullmatch(text.strip(" .,;-"))
            and any(s.cue is Cue.CONTACT for s in spans)
        ):
            _extend(current, clause, names, dated)  # "... spoke w pt. d/c'd yest. TCM done"
            continue
        if cue is Cue.FOLLOW_UP and current.cue is Cue.CONTACT and _timed_visit(message, clause):
            spans.append(Span(clause.start, clause.end, Cue.APPOINTMENT, names, dated))
            continue  # "tcm call joe rivera, reached wife. TCM visit tues 12/22 @ 1:15"
        if cue is None or cue in MODIFIERS:
            _extend(current, clause, names, dated)
            if current.cue is None and cue is not None:
                current.cue = cue
            continue
        if (
            current.cue is None
            and not current.names
            and len(spans) == 1
            and _SENTENCE_END_RE.search(message.normal, current.start, clause.start)
        ):
            spans[-1] = Span(clause.start, clause.end, cue, names, dated)
            continue  # "tmrw off. mon first visit 8a aisha patel SOC": the aside says nothing
        if current.cue is None or current.cue in MODIFIERS:
            if current.cue in (Cue.VITALS, Cue.STATE) and cue is not Cue.NOTE:
                spans.append(Span(clause.start, clause.end, cue, names, dated))
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
        spans.append(Span(clause.start, clause.end, cue, names, dated))
    _share_together(message, spans)
    return spans


def _share_together(message: Message, spans: list[Span]) -> None:
    """'thompson, allen, baker - NA all 3': names alone before a reading said of them all
    take that reading."""
    for i, span in enumerate(spans):
        if span.cue is None or not TOGETHER_RE.search(message.text_of(span)):
            continue
        shared = Cue.CONTACT if span.cue in MODIFIERS else span.cue
        for before in reversed(spans[:i]):
            if before.cue is not None or not before.names:
                break
            before.cue = shared
            before.borrows = True


_RESTATES_RE = re.compile(
    r"(?:tcm|f/u|follow[- ]?up)?\s*(?:call|contact|outreach)?\s*(?:done|complete|completed|made)",
    _I,
)
_NO_NEXT_STEP = frozenset({Cue.DISCHARGE, Cue.ADMISSION, Cue.ED_VISIT, Cue.MED_REC})
TOGETHER_RE = re.compile(r"\b(?:both|all|each|all\s+(?:three|\d)|everyone)\b", _I)
"""Words that make one reading everyone's: "dorothy chen and mrs thompson both NA"."""


def _belongs(
    message: Message,
    current: Span,
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
    if cue is Cue.TASK and current.cue in (Cue.NOTE, Cue.GOAL) and not names and not dated:
        return True  # "fyi lisa is HCPOA, call her cell for anything": part of the note
    no_day = not names and not _names_a_day(message, clause)
    if (
        current.cue is Cue.TASK
        and not current.names
        and _HEADER_ONLY_RE.fullmatch(message.normal[current.start : current.end])
    ):
        return True  # "todo - call insurance re john smith auth": the header and its task
    if cue is Cue.TASK and current.cue is Cue.TASK and not names and not current.dated:
        return True  # "dont forget UTR letter to ken scott, mail today"
    if cue is Cue.TASK and current.cue in (Cue.TASK, Cue.APPOINTMENT) and no_day:
        return True  # "recheck temp tonight, call her 8pm"; "sleep study 12/19, check in 8pm"
    if cue is Cue.TASK and current.cue is Cue.CONTACT and _is_next_step(message, clause):
        return True  # "didn't pick up, I'll try again after 3"
    if cue is Cue.DISCHARGE and current.cue is Cue.ADMISSION:
        return not current.dated  # "admitted 12/1, d/c'd 12/4" is two facts
    return _merges(message, current, clause, cue, names, dated)


_HEADER_ONLY_RE = re.compile(
    r"\W*(?:todo|to\s*do|to-do|tbd|task|reminder|remind\s+me|don'?t\s+forget|dont\s+forget|"
    r"note\s+to\s+self)(?:\s+(?:tmrw|tmw|tomorrow|today|tonight|mon|tue|tues|wed|weds|thu|thurs|"
    r"fri|sat|sun|am|pm|eod|eow|asap|first\s+thing|next\s+\w+)\b)*\W*",
    _I,
)
"""A clause that only says "what follows is for me to do"."""

_RECORD_CUES = frozenset(
    {Cue.CONTACT, Cue.APPOINTMENT, Cue.MED_REC, Cue.DISCHARGE, Cue.NOTE, Cue.TASK}
)


def _extend(span: Span, clause: Clause, names: list[NameMatch], dated: bool) -> None:
    span.end = clause.end
    span.names.extend(names)
    span.dated = span.dated or dated


def _other_patient(span: Span, names: list[NameMatch]) -> bool:
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


_ALSO_WORDS = word_set(
    "too also as well same and both for w with to her his the mr mrs ms pt again x2 x3"
)


def _short(message: Message, clause: Clause, names: list[NameMatch]) -> bool:
    """'..., John Smith too': a clause that is little more than another name."""
    text = message.normal[clause.start : clause.end]
    for name in names:
        assert name.span is not None
        text = text.replace(message.normal[name.span[0] : name.span[1]], " ")
    left = [w for w in re.findall(r"[^\W\d_]+", text) if w.casefold() not in _ALSO_WORDS]
    return len(left) <= 1


def _names_a_day(message: Message, clause: Clause) -> bool:
    return any(
        f.form is not DayForm.TIME_ONLY for f in message.fragments_in(clause.start, clause.end)
    )


_VISIT_WORD_RE = re.compile(r"\b(?:hv|h/v|home\s+visit|visit|f2f|soc|appt)\b", _I)


def _timed_visit(message: Message, clause: Clause) -> bool:
    """A visit set for a day and a time: booked, not just her next step."""
    fragments = message.fragments_in(clause.start, clause.end)
    return (
        _VISIT_WORD_RE.search(message.normal, clause.start, clause.end) is not None
        and any(f.form is not DayForm.TIME_ONLY for f in fragments)
        and any(f.clock is not None for f in fragments)
    )


def _is_next_step(message: Message, clause: Clause) -> bool:
    text = message.normal[clause.start : clause.end]
    return lx.FOLLOW_UP_CUE_RE.search(text) is not None


def _merges(
    message: Message,
    current: Span,
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


# -- one contact or two ----------------------------------------------------------------------------


def _same_contact(before: str, after: str, *, names_her: bool = False) -> bool:
    """Whether a contact clause goes on the contact before it ("no answer, LVM") or is a
    contact of its own: a call-back after a failed try, another way of reaching her ("texted
    her to call me"), or someone else ("tried his son too")."""
    if reached_at(after) is not None and reached_at(before) is None and failed(before):
        return False
    mine, theirs = _explicit_channel(before), _explicit_channel(after)
    if mine is Channel.VISIT and theirs is Channel.PHONE and not lx.PHONE_WORD_RE.search(after):
        theirs = None  # "hv linda - no answer": nobody came to the door
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
    if party_after and party_after != party_before and (failed(before) or reached_at(before)):
        return False  # "pt not answering, tried his son too"
    # "called walgreens for his refill, then called him": the office, then the patient
    return not (party_before in ("provider", "insurer") and (names_her or _PERSON_RE.search(after)))


_PERSON_RE = re.compile(r"\b(?:him|her|them|pt|patient)\b", _I)
_CONTACT_VERB_RE = re.compile(
    r"\b(?:tried|called|spoke|talked|lvm|lm|left|texted|emailed|reached|no\s+ans\w*)\b", _I
)


_NO_REPLY_RE = re.compile(r"\bno\s+(?:reply|response|resp)\b", _I)
"""A message sent and not answered: no channel of its own ("✉️ sent re AWV, no reply yet")."""
_SENTENCE_END_RE = re.compile(r"[.!?](?:\s|$)")
_AT_THE_DOOR_RE = re.compile(
    r"\b(?:no\s*one|nobody|not|wasn'?t)\s+(?:is\s+|was\s+)?home|\bdoor\b|\bknock|\bno[\s-]?show", _I
)


def _explicit_channel(text: str) -> Channel | None:
    """The channel a clause names in words (not the voicemail an attempt implies)."""
    for channel in (Channel.VIDEO, Channel.VISIT, Channel.EMAIL, Channel.TEXT):
        if dict(lx.CHANNEL_PATTERNS)[channel].search(text):
            return channel
    if lx.PHONE_WORD_RE.search(text) or (
        lx.NO_ANSWER_RE.search(text)
        and not _AT_THE_DOOR_RE.search(text)
        and not _NO_REPLY_RE.search(text)
    ):
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

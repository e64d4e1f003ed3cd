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

Owns: ``parse``, the whole-message forms (undo, a new patient), the loop over facts (which
builder reads a span, its patient and the patient-level doubts) and the passes after it (a next
step or vitals handed back to the contact before, one reading lent between patients, one
hospital stay). Step 3 lives in bot.parsing.cues, step 4 in bot.parsing.grouping, step 5 in
bot.parsing.contacts, bot.parsing.records and bot.parsing.changes (the dates of a fact in
bot.parsing.fact_dates); the words themselves are in bot.parsing.lexicon.
Must not import: telegram, storage, sqlalchemy, or anything doing I/O. ``now`` and the zone are
arguments; nothing here reads a clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.parsing import lexicon as lx
from bot.parsing.careplans import canonical_specialty, parse_careplan
from bot.parsing.changes import build_cancel, build_correction, build_reschedule
from bot.parsing.contacts import build_contact
from bot.parsing.cues import CARE_PLAN_CUES, MODIFIERS, TOPIC_BEFORE_RE, Cue, cue_hits
from bot.parsing.date_fragments import FUTURE_FORMS, DateFragment, DayForm
from bot.parsing.dates import DateReader
from bot.parsing.fact_dates import first_future_fragment, follow_up_cue_before, follow_up_fragment
from bot.parsing.facts import Fact, Reading
from bot.parsing.grouping import TOGETHER_RE, fact_spans, sub_clauses
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
    ReferralIntent,
    RescheduleIntent,
    TaskIntent,
    UndoIntent,
    UnknownIntent,
    When,
)
from bot.parsing.message import Message, Span
from bot.parsing.normalise import normalise
from bot.parsing.patients import Caseload, NameMatch, guess_name_text
from bot.parsing.questions import read_question, strip_filler
from bot.parsing.records import (
    WITH_PROVIDER_RE,
    adjacent_words,
    build_appointment,
    build_care_plan,
    build_discharge,
    build_hospital_event,
    build_med_rec,
    build_note,
    build_task,
)
from bot.parsing.vitals import read_vitals
from bot.vocab import DateOrder, Party, QueryKind, Risk

_I = re.IGNORECASE


MAX_ANALYSED_CHARS = 1000
"""Characters of a message read for meaning (the note keeps all of it)."""

MAX_FACTS = 6
"""Facts read from one message at most: a longer paste is read back, not saved blind."""


# -- reading one message ---------------------------------------------------------------------------


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
    message = Message(
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
        # "new patient - Hector V, referred from st lukes, lives alone": her description is
        # the new patient's (its note is the whole message), not a note of its own
        rest = tuple(f for f in rest if not (isinstance(f, NoteIntent) and not f.vitals))
        return Reading((intent, *rest))
    question = read_question(body, _first_name_match(message, offset), today=reader.today)
    if question is not None:
        return Reading((question,))
    care_plan = parse_careplan(normal, now=now, zone=zone, caseload=index, date_order=date_order)
    if care_plan is not None and not _other_heads(message, offset):
        return Reading(tuple(_each_referral(care_plan)))
    day = _day_heading(message, offset)
    if day is not None:
        fragment, end = day
        facts = _on_the_day(_facts(message, end), message.reader.resolve(fragment, "future"))
    else:
        facts = _facts(message, offset)
    return Reading(facts or (_nothing(message),))


_HEADING_FORMS = frozenset(
    {DayForm.TOMORROW, DayForm.TODAY, DayForm.END_OF_WEEK, DayForm.END_OF_MONTH, DayForm.WEEKDAY,
     DayForm.NUMERIC, DayForm.MONTH_NAME, DayForm.NEXT_SPAN}
)  # fmt: skip
_HEADING_GAP_RE = re.compile(r"\s*(?::|-+|–|—)\s*")


def _day_heading(message: Message, start: int) -> tuple[DateFragment, int] | None:
    """'tmw: fax recert to dr patel, call DME re bob kings O2': a day written as a heading
    over a list of things to do. Returns the day and where the list starts."""
    text = message.normal
    lead = len(text[start:]) - len(text[start:].lstrip(" *>-"))
    for fragment in message.fragments:
        if fragment.start != start + lead:
            continue
        gap = _HEADING_GAP_RE.match(text, fragment.end)
        if gap is None or fragment.form not in _HEADING_FORMS:
            return None
        return fragment, gap.end()
    return None


def _on_the_day(facts: tuple[Fact, ...], when: When | None) -> tuple[Fact, ...]:
    """Each thing to do under a day heading is due that day unless it names its own."""
    if when is None:
        return facts
    return tuple(
        replace(f, due=when) if isinstance(f, TaskIntent) and f.due is None else f for f in facts
    )


def _other_heads(message: Message, start: int) -> bool:
    """Whether the message states something besides a care-plan fact (then each clause is
    read on its own: "video w/ aisha, referred her to diabetes ed, f/u 2 wks")."""
    heads = [
        h.cue
        for clause, hits in sub_clauses(message, start)
        for h in hits
        if h.cue not in MODIFIERS
        and not (h.cue is Cue.APPOINTMENT and not message.fragments_in(clause.start, clause.end))
    ]
    plans = [c for c in heads if c in CARE_PLAN_CUES]
    return len(plans) > 1 or any(c not in CARE_PLAN_CUES for c in heads)


def _first_name_match(message: Message, start: int) -> NameMatch:
    for name in message.names:
        if name.span is not None and name.span[0] >= start:
            return name
    guess = guess_name_text(message.normal[start:])
    return NameMatch(PatientMention(patient_text=guess), None)


def _nothing(message: Message) -> Fact:
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


# -- facts from spans ------------------------------------------------------------------------------


def _facts(
    message: Message, start: int, *, new_patient_name: str | None = None
) -> tuple[Fact, ...]:
    facts: list[Fact] = []
    previous: PatientMention | None = None
    if new_patient_name is not None:
        previous = PatientMention(patient_text=new_patient_name)
    spans = fact_spans(message, start)[:MAX_FACTS]
    if previous is None:
        named = next((s for s in spans if s.names), None)
        if named is not None:
            previous = named.names[0].mention  # "no answer earlier but Gloria called back"
    spans_of_facts: list[Span] = []
    for i, span in enumerate(spans):
        mention, guessed = _mention(message, span, previous)
        span.followed = i + 1 < len(spans) and _same_patient_goes_on(spans[i + 1], mention)
        span.both = bool(TOGETHER_RE.search(message.text_of(span)))
        fact = _build(message, span, mention)
        if fact is None:
            continue
        fact = _with_patient_doubts(fact, mention, guessed, new_patient_name)
        if not isinstance(fact, ContactIntent | TaskIntent):
            _hand_back(message, span, facts)
        facts.extend(_each_referral(fact))
        spans_of_facts.extend([span] * (len(facts) - len(spans_of_facts)))
        for other in _listed_together(message, span, fact):
            facts.append(other)  # "2nd attempt smith king nguyen - LM all"
            spans_of_facts.append(span)
        previous = mention
    if len(spans_of_facts) == len(spans):
        _lend_slots(spans, facts)
        _same_stay(spans, facts, message)
        _same_person(spans, facts, message)
    return tuple(_restated(facts))


def _listed_together(message: Message, span: Span, fact: Fact) -> list[Fact]:
    """The same contact for every other patient named in one clause said of them all."""
    if not isinstance(fact, ContactIntent) or not TOGETHER_RE.search(message.text_of(span)):
        return []
    others: list[Fact] = []
    seen = {fact.patient}
    for name in span.names[1:]:
        patient = name.mention.patient
        if patient is None or patient in seen:
            continue
        seen.add(patient)
        patient_doubts = {
            DoubtReason.AMBIGUOUS_PATIENT,
            DoubtReason.UNKNOWN_PATIENT,
            DoubtReason.GUESSED_PATIENT,
        }
        own = tuple(d for d in fact.doubts if d.reason not in patient_doubts)
        bare = replace(
            fact,
            patient=patient,
            candidates=name.mention.candidates,
            patient_text=name.mention.patient_text,
            doubts=own,
        )
        others.append(_with_patient_doubts(bare, name.mention, name.guessed, None))
    return others


def _same_patient_goes_on(following: Span, mention: PatientMention) -> bool:
    """The next fact is about the same patient ("called tom, appt set for fri"), not another
    patient's ("... also LM for ken scott")."""
    return not following.names or any(n.mention.patient == mention.patient for n in following.names)


def _restated(facts: list[Fact]) -> list[Fact]:
    """'TCM call grace kim done - d/c'd fri. spoke w pt, has all meds': "spoke w pt" tells
    more of the call already read, not a second call. A later contact with the same patient,
    party, channel and outcome and no day of its own joins the first."""
    kept: list[Fact] = []
    for fact in facts:
        i = _restates(kept, fact) if isinstance(fact, ContactIntent) else None
        first = kept[i] if i is not None else None
        if i is None or not isinstance(first, ContactIntent) or not isinstance(fact, ContactIntent):
            kept.append(fact)
            continue
        kept[i] = replace(
            first,
            follow_up=first.follow_up or fact.follow_up,
            vitals=first.vitals or fact.vitals,
            doubts=first.doubts + tuple(d for d in fact.doubts if d not in first.doubts),
        )
    return kept


def _restates(kept: list[Fact], fact: ContactIntent) -> int | None:
    if fact.occurred_given or fact.attempts_given:
        return None
    for i, k in enumerate(kept):
        if (
            isinstance(k, ContactIntent)
            and k.patient is not None
            and k.patient == fact.patient
            and k.with_whom is fact.with_whom
            and k.outcome is fact.outcome
            and fact.channel in (None, k.channel)
        ):
            return i
    return None


_PRONOUN_RE = re.compile(r"\b(?:him|her|them)\b(?!\s+(?:pcp|dr|doctor|office|\w+'s))", re.I)
_PATIENT_WORD_RE = re.compile(r"\b(?:pt|patient|pts)\b", re.I)


def _same_person(spans: list[Span], facts: list[Fact], message: Message) -> None:
    """'tried bettys son again no ans so texted him': "him" is the son, so the text went to
    the same person as the call before it."""
    if len(spans) != len(facts):
        return
    for i in range(1, len(facts)):
        before, fact = facts[i - 1], facts[i]
        if not (isinstance(before, ContactIntent) and isinstance(fact, ContactIntent)):
            continue
        text = message.text_of(spans[i])
        if (
            before.patient == fact.patient
            and fact.with_whom is Party.PATIENT
            and before.with_whom is Party.CAREGIVER
            and not spans[i].names
            and _PRONOUN_RE.search(text)
            and not _PATIENT_WORD_RE.search(text)
        ):
            facts[i] = replace(fact, with_whom=before.with_whom)


def _same_stay(spans: list[Span], facts: list[Fact], message: Message) -> None:
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


def _lend_slots(spans: list[Span], facts: list[Fact]) -> None:
    """One reading for several patients: 'dorothy chen and mrs thompson both NA' (the first
    takes the second's), 'LVM for maria santos and john smith' (the second takes the first's),
    'f/u both tmrw' (every contact before takes the follow-up)."""
    if len(spans) != len(facts):
        return
    for i in reversed(range(len(spans))):  # a chain of borrowers takes from the last
        if spans[i].borrows and i + 1 < len(facts):
            facts[i] = _same_reading(facts[i + 1], facts[i])
    for i, span in enumerate(spans):
        if span.lent and not span.borrows and i > 0:
            facts[i] = _same_reading(facts[i - 1], facts[i])
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


def _hand_back(message: Message, span: Span, facts: list[Fact]) -> None:
    """'HV w/ ana, med rec done, 1 discrepancy, BP 150/88. next HV 12/9': the next step and
    the readings written after a med rec (or a referral, a goal) belong to the contact before
    it; "f/u both tmrw" to every contact before it."""
    text = message.text_of(span)
    fragments = message.fragments_in(span.start, span.end)
    follow = follow_up_fragment(message, text, span.start, fragments)
    if follow is not None and span.cue is Cue.APPOINTMENT and follow is fragments[0]:
        follow = None  # the appointment's own day
    vitals = read_vitals(text) if span.cue is not Cue.APPOINTMENT else ()
    contacts = [i for i, f in enumerate(facts) if isinstance(f, ContactIntent)]
    if not contacts or (follow is None and not vitals):
        return
    targets = contacts if TOGETHER_RE.search(text) else contacts[-1:]
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
    message: Message, span: Span, previous: PatientMention | None
) -> tuple[PatientMention, bool]:
    """The fact's patient: the first named in it, else the one named before ("called her
    back"), else a name-like word she has not added ("LVM for mrs garcia")."""
    if span.names:
        mention = span.names[0].mention
        if (
            mention.patient is None
            and previous is not None
            and previous.patient is not None
            and previous.patient in mention.candidates
        ):
            return previous, False  # "maria santos daughter called, maria fell last night"
        return mention, span.names[0].guessed
    if previous is not None:
        return previous, False
    guess = guess_name_text(message.text_of(span))
    return PatientMention(patient_text=guess), False


def _build(message: Message, span: Span, mention: PatientMention) -> Fact | None:
    cue = span.cue
    if _booked_ahead(message, span):
        cue = span.cue = Cue.APPOINTMENT
    if cue is None and mention.patient is not None and _only_a_day(message, span):
        return build_task(message, span, mention)
    if cue is None and span.names and _says_something(message, span):
        return build_note(message, span, mention)  # "libre 3 needs PA for mei lin - not on insulin"
    if cue is None:
        return None
    if cue is Cue.FOLLOW_UP and _happened(message, span):
        cue = span.cue = Cue.CONTACT
    builder = _BUILDERS.get(cue)
    if builder is None:
        return None
    return builder(message, span, mention)


def _says_something(message: Message, span: Span) -> bool:
    """More than a name: at least two words besides it (a bare name opens her card)."""
    rest = message.text_of(span)
    for name in span.names:
        assert name.span is not None
        a, b = name.span[0] - span.start, name.span[1] - span.start
        rest = rest[:a] + " " * (b - a) + rest[b:]
    return len(re.findall(r"[^\W\d_]{2,}", rest)) >= 2


def _only_a_day(message: Message, span: Span) -> bool:
    """'Tom fri': her patient and a day ahead, nothing else."""
    if first_future_fragment(message, span) is None:
        return False
    rest = message.text_of(span)
    for fragment in reversed(message.fragments_in(span.start, span.end)):
        rest = rest[: fragment.start - span.start] + " " + rest[fragment.end - span.start :]
    for name in span.names:
        assert name.span is not None
        a, b = name.span[0] - span.start, name.span[1] - span.start
        rest = rest[:a] + " " * (b - a) + rest[b:]
    return not re.search(r"[^\W\d_]{2,}", rest)


_HER_ERRAND_RE = re.compile(
    r"\b(?:ask|call|msg|message|email|fax|faxed|tell|notify|update|page|text|ring|chase|remind|"
    r"check\s+with|ltr|letter)\b(?:\s+[\w'.]+){0,3}?\s+(?:dr|doctor|pcp|office|ofc|cardio\w*|"
    r"nephro\w*|onc\w*|ortho\w*|endo\w*|pulm\w*|neuro\w*|clinic|\w+ist)\b|"
    r"\b(?:by|before|no\s+later\s+than)\s+(?:mon|tue|wed|thu|fri|sat|sun|eod|eow|tmrw|tomorrow|"
    r"\d{1,2}/\d)",
    re.I,
)
"""What she will do about a doctor, not a visit with one: "I'll ask doctor kim tomorrow",
"Walker ltr + PCP fax by fri"."""


def _booked_ahead(message: Message, span: Span) -> bool:
    """Whether a fact with no booking word is still an appointment: something ahead, at a day
    (and usually a time), with a provider or a service, and nothing said to have happened:
    "luis follow up w his pcp 12/10 @1030", "coumadin clinic tues 830", "F2F w pcp 12/7 @ 10:20",
    "Dorothy Chen podiatry 12/2 @ 3pm". Her own plans ("f/u w/ Tom fri") stay tasks."""
    if span.cue not in (None, Cue.FOLLOW_UP, Cue.CONTACT, Cue.NOTE):
        return False
    if span.cue is None and not span.names:
        return False  # "lunch, back at 1230"
    if span.cue is Cue.NOTE and (
        not lx.NOTE_CUE_RE.match(message.text_of(span))
        or lx.NOTE_STATE_RE.search(message.text_of(span))
    ):
        return False  # "note for jen: donna green wants calls on her landline, after 10a"
    text = message.text_of(span)
    if lx.NOTE_STATE_RE.search(text) or _HER_ERRAND_RE.search(text):
        return False  # "I'll ask dr kim tomorrow", "PCP fax by fri", "telephone her after 2 pm"
    fragment = first_future_fragment(message, span)
    if fragment is None or lx.PAST_TENSE_RE.search(text) or lx.REACHED_RE.search(text):
        return False
    if fragment.form in FUTURE_FORMS and fragment.form is not DayForm.TOMORROW:
        return False  # "in 2 wks", "eow": a follow-up span, not a booking
    provider = next(
        (
            m
            for pattern in (lx.SPECIALTY_RE, WITH_PROVIDER_RE, lx.SERVICE_RE)
            for m in pattern.finditer(text)
            if not TOPIC_BEFORE_RE.search(text[max(0, m.start() - 30) : m.start()])
        ),
        None,
    )
    if span.cue is Cue.CONTACT:
        timed = fragment.clock is not None
        return timed and not follow_up_cue_before(text, fragment.start - span.start)
    if span.cue is Cue.FOLLOW_UP and re.search(r"\b(?:office|ofc)\b", text, re.I):
        return False  # "f/u w/ dr nakamura's office mon": her call to the office
    if span.cue is Cue.FOLLOW_UP:
        visit = re.search(r"\b(?:hv|h/v|home\s+visit|visit|f2f)\b", text, _I)
        return provider is not None or (visit is not None and fragment.clock is not None)
    return provider is not None or fragment.clock is not None


def _happened(message: Message, span: Span) -> bool:
    """'f/u w/ Tom, doing well': a follow-up contact that took place (no day ahead named,
    words of what she heard)."""
    text = message.text_of(span)
    if first_future_fragment(message, span) is not None:
        return False
    return lx.REACHED_RE.search(text) is not None


# -- undo ------------------------------------------------------------------------------------------


_WRONG_PATIENT_RE = re.compile(
    r"\bwrong\s+(?:pt|patient|person|name)\b.*?\b(?:it\s+was|was|should\s+be|meant|is|->|for)\s+|"
    r"\bmeant\s+(?:to\s+(?:put|log|file|enter|chart|save)\s+(?:it|that|this)\s+)?(?:under|for|on)\s+|"
    r"\bshould\s+(?:be|have\s+been)\s+(?:under|for|on)\s+",
    _I,
)


def _undo(message: Message, body: str) -> tuple[Fact, ...] | None:
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
    if re.search(r"[^\W_]{3,}", rest) and cue_hits(rest, 0):
        return None  # "scratch that, LVM for Tom": a new record follows, read it as such
    return (UndoIntent(),)


# -- new patient -----------------------------------------------------------------------------------


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


_NAME_LEAD_RE = re.compile(
    r"(?:named|called|name\s+is|name:|is|enrollment|enrolment|intake|referral)\b[\s:,-]*", _I
)


def _new_patient(text: str) -> tuple[NewPatientIntent, int] | None:
    """'new pt Gloria Diaz MRN 44821 high risk CHF, d/c from Mercy yest': the new patient, and
    where the rest of the message (a discharge that brought her) begins."""
    opening = lx.NEW_PATIENT_RE.match(text)
    if opening is None:
        return None
    rest_start = opening.start("rest")
    rest = opening.group("rest")
    lead = _NAME_LEAD_RE.match(rest)
    if lead is not None:  # "new patient named olu adebayo", "new member enrollment: Beatriz"
        rest_start += lead.end()
        rest = rest[lead.end() :]
    tail = _NEW_PATIENT_TAIL_RE.search(rest)
    own = rest[: tail.start()] if tail else rest
    mrn_match = _MRN_RE.search(own)
    risk_match = _RISK_RE.search(own)
    words = adjacent_words(own, len(own) - len(own.lstrip()), stop=_NAME_STOP, limit=4)
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


# -- patient doubts, and the builder for each kind of fact -----------------------------------------


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


Builder = Callable[[Message, Span, PatientMention], Fact | None]
"""Reads one kind of fact from the message, its span of words and its patient."""

_BUILDERS: dict[Cue, Builder] = {
    Cue.CONTACT: build_contact,
    Cue.APPOINTMENT: build_appointment,
    Cue.DISCHARGE: build_discharge,
    Cue.ADMISSION: build_hospital_event,
    Cue.ED_VISIT: build_hospital_event,
    Cue.MED_REC: build_med_rec,
    Cue.TASK: build_task,
    Cue.FOLLOW_UP: build_task,
    Cue.NOTE: build_note,
    Cue.VITALS: build_note,
    Cue.STATE: build_note,
    Cue.CANCEL: build_cancel,
    Cue.RESCHEDULE: build_reschedule,
    Cue.CORRECTION: build_correction,
    Cue.REFERRAL: build_care_plan,
    Cue.GOAL: build_care_plan,
}


def warm_up() -> None:
    """Load the word lists and name data the parser builds lazily (about a second), so the
    first nurse's message after a start does not wait for them."""
    zone = ZoneInfo("UTC")
    sample = "tried maria okoro, calld back tmrw 2p"
    parse(
        sample,
        now=datetime(2026, 1, 5, 12, tzinfo=zone),
        zone=zone,
        caseload=Caseload.from_names(["Maria Lopez"]),
    )

"""Read a change to something already recorded: a cancel, a reschedule, a correction.

Owns: ``build_cancel``, ``build_reschedule``, ``build_correction``, and ``_new_moment`` (which of
the days and times written is the new one: "move 12/8 to 12/9", "3pm not 2", "actually thurs").
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

import re

from bot.parsing import lexicon as lx
from bot.parsing.contacts import read_channel
from bot.parsing.cues import reached_at
from bot.parsing.date_fragments import PAST_FORMS, DateFragment, DayForm
from bot.parsing.fact_dates import date_doubts, first_future_fragment
from bot.parsing.facts import Fact
from bot.parsing.intents import (
    CancelIntent,
    CorrectionIntent,
    PatientMention,
    RescheduleIntent,
    Target,
    When,
)
from bot.parsing.message import Message, Span
from bot.parsing.records import provider_or_specialty
from bot.vocab import Channel, Outcome

_I = re.IGNORECASE


def build_cancel(message: Message, span: Span, mention: PatientMention) -> Fact:
    """A cancelled appointment (or follow-up): which one, on which day."""
    text = message.text_of(span)
    fragment = first_future_fragment(message, span)
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
        what=provider_or_specialty(text),
        note=message.text,
    )


_NEW_WHEN_RE = re.compile(r"\b(?:to|for|now|until|till|til|->|=>|instead)\b|→", _I)


_OLD_BEFORE_RE = re.compile(r"\b(?:not|from|instead\s+of|rather\s+than|was)\s*$", _I)
_NOT_AFTER_RE = re.compile(r"\s*,?\s*(?:not|instead\s+of|rather\s+than)\b", _I)


def _new_moment(
    message: Message, span: Span
) -> tuple[When | None, tuple[int, int] | None, DateFragment | None]:
    """The new day and/or time a reschedule or correction names: after "to"/"now" when both an
    old and a new one are written ("move 12/8 to 12/9"), else the last one."""
    text = message.text_of(span)
    fragments = [f for f in message.fragments_in(span.start, span.end) if f.form not in PAST_FORMS]
    spoken = _TIME_NOT_TIME_RE.search(text)
    if spoken is not None and not any(f.clock is not None for f in fragments):
        hour = int(spoken.group("h")) % 12
        meridiem = (spoken.group("ap") or "").lower()[:1]
        if meridiem == "p" or (not meridiem and hour < 7):
            hour += 12  # "11 not 10" in the day; "2 not 3" is afternoon
        day = next((f for f in fragments if f.clock is None), None)
        when = message.reader.resolve(day, "future") if day is not None else None
        return when, (hour, int(spoken.group("m") or 0)), day
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


def build_reschedule(message: Message, span: Span, mention: PatientMention) -> Fact:
    """An appointment (or follow-up) moved: to which day or time."""
    text = message.text_of(span)
    if not lx.APPOINTMENT_RE.search(text) and re.search(r"\b(?:f/u|fu|follow[- ]?up)\b", text, _I):
        return build_correction(message, span, mention)  # "change Susan's f/u to mon"
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
        what=provider_or_specialty(text),
        note=message.text,
        doubts=tuple(date_doubts(message, fragment)),
    )


_MOVES_A_BOOKING_RE = re.compile(
    r"\b(?:change|move|push|switch|bump|make)\s+(?:[\w']+\s+){0,3}?"
    r"(?:visit|hv|appt|appointment|apt|soc)\s+(?:to|till|until|for)\b|"
    r"\b(?:make|change|move)\s+\w+'s\s+(?:tmrw|tmw|tomorrow|today|mon|tues?|wed|thu|thurs|fri|sat|"
    r"sun)\w*\s+(?:to\s+)?\d",
    _I,
)
_TIME_NOT_TIME_RE = re.compile(
    r"\b(?P<h>1[0-2]|0?[1-9])(?::(?P<m>[0-5]\d))?\s*(?P<ap>am|pm|a|p)?\s*,?\s+not\s+\d", _I
)


_NOT_THIS_RE = re.compile(
    r"\b(?:not|wasn'?t|was\s+not|isn'?t|instead\s+of)\s+(?:a\s+|an\s+|the\s+|really\s+)?"
    r"(?:real\s+|actual\s+)?[\w/-]+(?:\s+(?:call|visit|msg|message))?",
    _I,
)
_VOICEMAIL_RE = re.compile(r"\b(?:vm|voicemail|voice\s*mail|lvm|lm)\b", _I)


def build_correction(message: Message, span: Span, mention: PatientMention) -> Fact:
    """A correction: the patient, day, time, channel or outcome she meant. "change rob king's
    visit to 11" names the booked visit to move, not a new channel: that is a reschedule."""
    text = message.text_of(span)
    if _MOVES_A_BOOKING_RE.search(text):
        return build_reschedule(message, span, mention)
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
    text = _NOT_THIS_RE.sub(" ", text)  # "a voicemail not a call": what it was, not what it wasn't
    if lx.LEFT_MESSAGE_RE.search(text) or _VOICEMAIL_RE.search(text):
        channel, outcome = Channel.VOICEMAIL, Outcome.ATTEMPTED
    elif lx.NO_ANSWER_RE.search(text) and reached_at(text) is None:
        outcome = Outcome.ATTEMPTED
    elif reached_at(text) is not None:
        outcome = Outcome.REACHED
    else:
        found = read_channel(text)
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
        doubts=tuple(date_doubts(message, fragment)),
    )

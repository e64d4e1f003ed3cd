"""Which part each date written in a fact plays: a day ahead, the day it happened, the next step.

Owns: ``first_future_fragment`` (a booking's or a task's day), ``past_day`` (when a stay or a
med rec happened), ``follow_up_fragment`` and ``follow_up_cue_before`` (the next step written
in a contact), ``recent_calendar_day`` ("12/7" written on 9 Dec is past, not next year) and
``date_doubts`` (a weekday that disagrees with its date; a "next wed" that could be either).
The dates themselves are found and resolved by bot.parsing.dates.
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

import re
from datetime import date

from bot.parsing import lexicon as lx
from bot.parsing.cues import HAPPENED_RE
from bot.parsing.date_fragments import FUTURE_FORMS, PAST_FORMS, DateFragment, DayForm
from bot.parsing.intents import Doubt, DoubtReason
from bot.parsing.message import Message, Span

_I = re.IGNORECASE


RECENT_CONTACT_DAYS = 31
"""A date in a contact further back than this is not when the contact happened."""


def follow_up_fragment(
    message: Message, text: str, base: int, fragments: list[DateFragment]
) -> DateFragment | None:
    """The first date that is the next step: after a follow-up cue, or only possible ahead."""
    happened = bool(HAPPENED_RE.search(message.normal))
    for fragment in fragments:
        if (
            fragment.form in PAST_FORMS
            or recent_calendar_day(message, fragment)
            or said_to_be_past(message, fragment)
        ):
            continue
        if fragment.form in FUTURE_FORMS or follow_up_cue_before(
            text, fragment.start - base, happened=happened
        ):
            return fragment
    return None


_PAST_MARK_RE = re.compile(
    r"\b(?:last|since|prior|previous|previously|was|were|back\s+on|as\s+of|from)\s*:?\s*$", _I
)


def said_to_be_past(message: Message, fragment: DateFragment) -> bool:
    """'port flush overdue (last 10/30)': a day said to be behind her, never next year's."""
    if fragment.form not in (DayForm.NUMERIC, DayForm.MONTH_NAME, DayForm.DAY_OF_MONTH):
        return False
    return bool(_PAST_MARK_RE.search(message.normal[max(0, fragment.start - 12) : fragment.start]))


def recent_calendar_day(message: Message, fragment: DateFragment) -> bool:
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


def follow_up_cue_before(text: str, at: int, *, happened: bool = False) -> bool:
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


_VISIT_WORD_RE = re.compile(r"hv|h/v|home\s+visit|visit|tc|call|phone\s+call|video\s+visit", _I)
_NOUN_BEFORE_RE = re.compile(r"\b(?:my|the|a|her|his|your|their|returned|missed|our)\s+$", _I)


def date_doubts(
    message: Message, fragment: DateFragment | None, prefer: str = "future"
) -> list[Doubt]:
    """A weekday written against a date it is not ("fri 12/4" when 12/4 is a Thursday), or a
    "next wed" that may be this week's or next week's: read back, not guessed."""
    if fragment is None:
        return []
    conflict = message.reader.weekday_conflict(fragment, "future" if prefer == "future" else "past")
    if conflict is not None:
        return [Doubt(DoubtReason.DATE_CONFLICT, fragment.text, conflict)]
    readings = message.reader.next_weekday_readings(fragment)
    if readings is not None:
        return [Doubt(DoubtReason.AMBIGUOUS_WEEKDAY, fragment.text, readings)]
    return []


def first_future_fragment(message: Message, span: Span) -> DateFragment | None:
    """The first day ahead in the fact, with a time written apart from it in the same fact
    joined to it ("recheck temp tonight, call her 8pm")."""
    fragments = message.fragments_in(span.start, span.end)
    for fragment in fragments:
        if fragment.form in PAST_FORMS or said_to_be_past(message, fragment):
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


def past_day(message: Message, span: Span, *, after: int = 0) -> tuple[date, DateFragment | None]:
    """The first date in the fact that can be in the past, read as past; today if none."""
    for fragment in message.fragments_in(span.start + after, span.end):
        if fragment.form in FUTURE_FORMS or fragment.form is DayForm.TIME_ONLY:
            continue
        day = message.reader.resolve_day(fragment, "past")
        if day is not None:
            return day, fragment
    return message.reader.today, None

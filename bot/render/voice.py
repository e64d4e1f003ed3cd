"""Replies about voice notes.

The transcript reply shows what was heard (escaped, clipped) and how the parser reads it, each
date absolute with weekday and zone, over [Save] [Fix] [Cancel]: a voice note is saved only on
a tap. Its buttons' data is bot.render.callbacks.VoiceNote (an opaque token, never text or
names). Pure: no telegram, no storage.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.parsing import (
    AppointmentIntent,
    ContactIntent,
    DischargeIntent,
    Intent,
    MedRecIntent,
    NewPatientIntent,
    PatientRef,
    QueryIntent,
    When,
)
from bot.parsing.careplans import (
    CarePlanIntent,
    GoalIntent,
    ReferralIntent,
    ReferralStatusIntent,
    ResourceGivenIntent,
    ResourceQueryIntent,
)
from bot.render import labels
from bot.render.records import day_text, when_text
from bot.render.text import clip, esc
from bot.vocab import Channel, Outcome, Party

SAVE = "Save"
ANSWER = "Answer"
FIX = "Fix"
CANCEL = "Cancel"

MAX_TRANSCRIPT = 1500
"""Characters of a transcript shown back (a 2-minute note is about 1,800)."""

# -- fixed answers ---------------------------------------------------------------------------------

VOICE_OFF = (
    "Voice notes are off on this server, so nothing was saved. Please type the note instead, "
    "e.g. <i>called Maria Lopez re insulin, f/u Fri</i>."
)
BUSY = (
    "I'm busy transcribing other voice notes, so I didn't take this one and nothing was saved. "
    "Please send it again in a minute."
)
DOWNLOAD_FAILED = (
    "I couldn't fetch that voice note from Telegram, so nothing was saved. Please send it again."
)
UNREADABLE = "I couldn't play that recording, so nothing was saved. Please record it again."
NO_SPEECH = (
    "I couldn't make out any words in that voice note, so nothing was saved. "
    "Please try again, or type it."
)
CLOSED = (
    "That voice note's buttons have closed (after 15 minutes, or it was already handled). "
    "Nothing more was saved from it; send it again if needed."
)
FIX_PROMPT = (
    "Type the note as it should read and send it; I'll handle it like any typed message. "
    "(Tap the transcript above to copy it.) Nothing from the voice note was saved."
)
CANCELLED = "Cancelled. Nothing from that voice note was saved."


def too_long(seconds: int | None, limit: int) -> str:
    """`seconds`: the note's length, None when only "longer than the limit" is known."""
    length = "longer than that" if seconds is None else f"{_length(seconds)} long"
    return (
        f"I take voice notes up to {_length(limit)}, and that one is {length}. "
        "Nothing was saved. Please send a shorter one, or type it."
    )


def _length(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}:{rest:02d} min" if minutes else f"{rest} s"


def transcribing(ahead: int) -> str:
    """The message she sees while she waits (edited into the transcript when it is ready)."""
    if ahead:
        return f"🎙 Transcribing your voice note… ({ahead} ahead of it)"
    return "🎙 Transcribing your voice note…"


# -- the transcript and its reading ----------------------------------------------------------------


def transcript_reply(
    transcript: str, intent: Intent | CarePlanIntent, zone: ZoneInfo, now: datetime
) -> str:
    """What was heard, how it reads, and that nothing is saved before a tap."""
    lines = [
        "🎙 <b>I heard:</b>",
        f"<code>{esc(clip(transcript, MAX_TRANSCRIPT))}</code>",
        "",
        *reading(intent, zone, now),
        "",
    ]
    if actionable(intent):
        verb = ANSWER if is_question(intent) else SAVE
        lines.append(
            f"Nothing is saved until you tap <b>{verb}</b>. "
            f"<b>{FIX}</b>: type it as it should read."
        )
    else:
        lines.append(f"Nothing was saved. <b>{FIX}</b>: type it as it should read.")
    return "\n".join(lines)


_HANDLED = (
    ContactIntent,
    AppointmentIntent,
    DischargeIntent,
    MedRecIntent,
    NewPatientIntent,
    QueryIntent,
    GoalIntent,
    ReferralIntent,
    ReferralStatusIntent,
    ResourceQueryIntent,
    ResourceGivenIntent,
)
"""What the chat saves or answers from a message today (each has its reading below); the
parser's other facts (admissions, tasks, notes, changes ...) wait for the multi-fact inbox."""


def actionable(intent: Intent | CarePlanIntent) -> bool:
    """Whether [Save] (or [Answer]) does anything for this reading."""
    return isinstance(intent, _HANDLED)


def is_question(intent: Intent | CarePlanIntent) -> bool:
    return isinstance(intent, QueryIntent | ResourceQueryIntent)


def reading(intent: Intent | CarePlanIntent, zone: ZoneInfo, now: datetime) -> list[str]:
    """The parser's reading as lines: the record and each date with weekday and zone."""
    if isinstance(intent, ContactIntent):
        return _contact(intent, zone, now)
    if isinstance(intent, AppointmentIntent):
        lines = [f"<b>I read:</b> appointment for {_who(intent)}"]
        lines.append(f"When: {_when(intent.at, zone, now)}")
        if intent.with_whom:
            lines.append(f"With: {esc(intent.with_whom)}")
        if intent.where:
            lines.append(f"Where: {esc(intent.where)}")
        return lines
    if isinstance(intent, DischargeIntent):
        lines = [f"<b>I read:</b> discharge of {_who(intent)}"]
        lines.append(f"Discharged: {day_text(intent.discharged, zone, now=now)}")
        if intent.facility:
            lines.append(f"From: {esc(intent.facility)}")
        if intent.complexity is not None:
            lines.append(f"Complexity: {intent.complexity.value}")
        return lines
    if isinstance(intent, MedRecIntent):
        lines = [f"<b>I read:</b> medication reconciliation for {_who(intent)}"]
        lines.append(f"Done: {day_text(intent.reconciled_on, zone, now=now)}")
        if intent.discrepancies is not None:
            lines.append(f"Discrepancies: {intent.discrepancies}")
        return lines
    if isinstance(intent, NewPatientIntent):
        extra = f", {intent.risk.value} risk" if intent.risk is not None else ""
        return [f"<b>I read:</b> a new patient, <b>{esc(intent.name)}</b>{extra}"]
    if isinstance(intent, QueryIntent):
        about = f" about {_who(intent)}" if intent.patient_text or intent.patient else ""
        return [f"<b>I read:</b> a question ({intent.query.value.replace('_', ' ')}){about}"]
    return _care_plan(intent, zone, now)


def _care_plan(intent: Intent | CarePlanIntent, zone: ZoneInfo, now: datetime) -> list[str]:
    if isinstance(intent, GoalIntent):
        lines = [f"<b>I read:</b> a goal for {_who(intent)}: {esc(clip(intent.text, 200))}"]
        if intent.target is not None:
            lines.append(f"By: {day_text(intent.target, zone, now=now)}")
        return lines
    if isinstance(intent, ReferralIntent):
        return [
            f"<b>I read:</b> a referral of {_who(intent)} to {esc(intent.to_whom)}",
            f"Sent: {day_text(intent.sent_on, zone, now=now)}",
        ]
    if isinstance(intent, ReferralStatusIntent):
        return [
            f"<b>I read:</b> {_who(intent)}'s referral to {esc(intent.to_whom)}: "
            f"{intent.status.value}"
        ]
    if isinstance(intent, ResourceQueryIntent):
        what = intent.resource_kind.value if intent.resource_kind else esc(intent.search)
        return [f"<b>I read:</b> a search for community resources ({what})"]
    if isinstance(intent, ResourceGivenIntent):
        return [
            f"<b>I read:</b> a resource given to {_who(intent)}: {esc(intent.resource)}",
            f"On: {day_text(intent.given_on, zone, now=now)}",
        ]
    return ["<b>I read:</b> no record I can save (no patient, contact, appointment or question)."]


def _contact(intent: ContactIntent, zone: ZoneInfo, now: datetime) -> list[str]:
    channel = intent.channel
    verb = "Contact (how? I'll ask)" if channel is None else labels.CHANNEL[channel]
    outcome = intent.outcome or (
        Outcome.ATTEMPTED if channel is Channel.VOICEMAIL else Outcome.REACHED
    )
    party = "" if intent.with_whom is Party.PATIENT else f" ({intent.with_whom.value})"
    how = "reached" if outcome is Outcome.REACHED else "not reached (attempt)"
    follow = intent.follow_up
    return [
        f"<b>I read:</b> {verb} with {_who(intent)}{party}, {how}",
        f"When: {_when(intent.occurred_at, zone, now)}",
        f"Follow-up: {'none' if follow is None else _when(follow, zone, now)}",
    ]


class _Mentions(Protocol):
    """An intent that may name a patient."""

    @property
    def patient(self) -> PatientRef | None: ...
    @property
    def candidates(self) -> tuple[PatientRef, ...]: ...
    @property
    def patient_text(self) -> str | None: ...


def _who(intent: _Mentions) -> str:
    """The patient as matched in her caseload, or what is unsure about it."""
    if intent.patient is not None:
        return f"<b>{esc(intent.patient.name)}</b>"
    if intent.candidates:
        names = " or ".join(f"<b>{esc(c.name)}</b>" for c in intent.candidates[:3])
        return f"{names}? (I'll ask)"
    if intent.patient_text:
        return f"“{esc(intent.patient_text)}” (not in your caseload)"
    return "which patient? (I'll ask)"


def _when(when: When | None, zone: ZoneInfo, now: datetime) -> str:
    if when is None:
        return "not heard (I'll ask)"
    return when_text(when.at, zone, has_time=when.has_time, now=now)

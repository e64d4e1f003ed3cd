"""Replies of the logging flows: summaries with absolute dates, questions, button labels.

Pure: text in, HTML-safe text out. Every piece of nurse or patient text is escaped here.
Dates are shown with weekday and zone ("Fri 27 Nov, America/Chicago"), and the year when it is
not the current one. Must not import telegram or storage (types from bot.services.records
are used for annotations only, so nothing is imported at run time).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.render import labels
from bot.render.labels import inline_label
from bot.render.text import clip, day_label, esc, when_label
from bot.vocab import (
    TCM_TASK_KINDS,
    AppointmentStatus,
    Complexity,
    Outcome,
    Party,
    RecordKind,
    TaskKind,
    TaskResolution,
)

if TYPE_CHECKING:
    from bot.render.tasks import TaskLine
    from bot.services.records import (
        AttendanceCheck,
        AttendanceSet,
        ComplexitySet,
        FollowUpChanged,
        Logged,
        Undone,
    )

# -- button labels ---------------------------------------------------------------------------------

UNDO = "Undo"
CHANGE_FOLLOW_UP = "Change follow-up"
ADD_NOTE = "Add note"
MODERATE = labels.COMPLEXITY[Complexity.MODERATE]
HIGH = labels.COMPLEXITY[Complexity.HIGH]
ATTENDED = labels.APPOINTMENT_STATUS[AppointmentStatus.ATTENDED]
NO_SHOW = labels.APPOINTMENT_STATUS[AppointmentStatus.NO_SHOW]
RESCHEDULED = labels.APPOINTMENT_STATUS[AppointmentStatus.RESCHEDULED]
# The attended? check's buttons, each packed as an Attendance (handlers/records.py answers).
ATTENDANCE_BUTTONS = (
    (AppointmentStatus.ATTENDED, ATTENDED),
    (AppointmentStatus.NO_SHOW, NO_SHOW),
    (AppointmentStatus.RESCHEDULED, RESCHEDULED),
)
TOMORROW = "Tomorrow"
IN_ONE_WEEK = "In 1 week"
NO_FOLLOW_UP = "No follow-up"

MAX_NAME = 60

_FOLLOW_UP = labels.TASK_KIND[TaskKind.FOLLOW_UP]


def _text(text: str) -> str:
    """Nurse or patient text (a name, a place) on one line, shortened and HTML-escaped."""
    return esc(clip(text, MAX_NAME))


# -- dates -----------------------------------------------------------------------------------------


def when_text(at: datetime, zone: ZoneInfo, *, has_time: bool, now: datetime | None = None) -> str:
    """'Fri 27 Nov, America/Chicago' or 'Thu 3 Dec 10:30, America/Chicago' (+ year if not
    this year)."""
    label = when_label(at, zone, today=_today(now, zone), has_time=has_time)
    return f"{label}, {zone.key}"


def day_text(day: date, zone: ZoneInfo, *, now: datetime | None = None) -> str:
    """'Tue 24 Nov, America/Chicago' for a local calendar date."""
    return f"{day_label(day, today=_today(now, zone))}, {zone.key}"


def _today(now: datetime | None, zone: ZoneInfo) -> date | None:
    return None if now is None else now.astimezone(zone).date()


def _due(line: TaskLine, zone: ZoneInfo, now: datetime | None) -> str:
    if line.has_time:
        return when_text(line.due_at, zone, has_time=True, now=now)
    local = line.due_at.astimezone(zone)
    if line.kind != TaskKind.FOLLOW_UP and (local.hour, local.minute) == (23, 59):
        return f"by {when_text(line.due_at, zone, has_time=True, now=now)}"
    return when_text(line.due_at, zone, has_time=False, now=now)


# -- summaries -------------------------------------------------------------------------------------


def summary(logged: Logged, zone: ZoneInfo, now: datetime) -> str:
    """The reply after a record is saved: what was understood, each date absolute."""
    name = _text(logged.patient_name)
    what = inline_label(labels.RECORD_KIND, logged.kind)
    lines: list[str] = []
    if logged.existing:  # an appointment already on file: nothing new was saved
        lines.append(f"Already on file: {what} for <b>{name}</b>. Nothing new was saved.")
        if logged.at is not None:
            lines.append(f"When: {when_text(logged.at, zone, has_time=logged.has_time, now=now)}")
        return "\n".join(lines)
    if logged.kind == RecordKind.CONTACT:
        channel = labels.CHANNEL.get(logged.channel or "", labels.RECORD_KIND[logged.kind])
        outcome = inline_label(labels.OUTCOME, logged.outcome or Outcome.ATTEMPTED)
        party = logged.with_whom or Party.PATIENT
        who = "" if party == Party.PATIENT else f" ({inline_label(labels.PARTY, party)})"
        lines.append(f"✅ <b>Saved</b>: {channel} with <b>{name}</b>{who}, {outcome}.")
        if logged.at is not None:
            lines.append(f"When: {when_text(logged.at, zone, has_time=True, now=now)}")
        follow = [t for t in logged.created if t.kind == TaskKind.FOLLOW_UP]
        lines.append(f"{_FOLLOW_UP}: {_due(follow[0], zone, now) if follow else 'none'}")
    elif logged.kind == RecordKind.APPOINTMENT:
        lines.append(f"✅ <b>Saved</b>: {what} for <b>{name}</b>.")
        if logged.at is not None:
            lines.append(f"When: {when_text(logged.at, zone, has_time=logged.has_time, now=now)}")
        if logged.with_whom:
            lines.append(f"With: {_text(logged.with_whom)}")
        if logged.place:
            lines.append(f"Where: {_text(logged.place)}")
        for task in logged.created:
            lines.append(f"{labels.task_name(task.kind)}: {_due(task, zone, now)}")
    elif logged.kind == RecordKind.EPISODE:
        lines.append(f"✅ <b>Saved</b>: {what} of <b>{name}</b>.")
        if logged.day is not None:
            lines.append(f"Discharged: {day_text(logged.day, zone, now=now)}")
        if logged.place:
            lines.append(f"From: {_text(logged.place)}")
        for task in logged.created:
            lines.append(f"{labels.task_name(task.kind)}: {_due(task, zone, now)}")
        if logged.complexity is None:
            lines.append(
                "\nComplexity not stated, so the visit is due on the 7-day (high) rule. "
                "Which is it?"
            )
        else:
            lines.append(f"Complexity: {inline_label(labels.COMPLEXITY, logged.complexity)}")
    elif logged.kind == RecordKind.MED_REC:
        lines.append(f"✅ <b>Saved</b>: {what} for <b>{name}</b>.")
        if logged.day is not None:
            lines.append(f"Done: {day_text(logged.day, zone, now=now)}")
        if logged.discrepancies is not None:
            lines.append(f"Discrepancies: {logged.discrepancies}")
    else:
        lines.extend(_other_kinds(logged, zone, now))
    if logged.readmission:
        lines.append("⚠️ <b>Readmission</b>: within 30 days of the last discharge")
    if logged.resumed:
        lines.append("Routine follow-ups and check-ins are back on her list.")
    for task in logged.closed:
        how = task.resolution
        lapsed = how is not None and how != TaskResolution.MET and task.kind in TCM_TASK_KINDS
        tail = f" ({inline_label(labels.TASK_RESOLUTION, how)})" if lapsed and how else " ✔"
        lines.append(f"Closed: {labels.task_name(task.kind)} task{tail}")
    for task in logged.flagged:
        lines.append(f"{labels.task_name(task.kind)}: two attempts documented in the window")
    return "\n".join(lines)


def _other_kinds(logged: Logged, zone: ZoneInfo, now: datetime) -> list[str]:
    """Hospital events, notes, her own tasks, new patients."""
    name = _text(logged.patient_name)
    if logged.existing:
        return [
            f"Already on file: {inline_label(labels.RECORD_KIND, logged.kind)} for <b>{name}</b>."
        ]
    if logged.kind == RecordKind.HOSPITAL_EVENT and logged.event is not None:
        event = inline_label(labels.HOSPITAL_EVENT, logged.event)
        lines = [f"✅ <b>Saved</b>: {event} of <b>{name}</b>."]
        if logged.day is not None:
            lines.append(f"On: {day_text(logged.day, zone, now=now)}")
        if logged.place:
            lines.append(f"At: {_text(logged.place)}")
        if logged.reason:
            lines.append(f"Why: {_text(logged.reason)}")
        if logged.paused:
            lines.append("Routine follow-ups and check-ins wait until the discharge.")
        return lines
    if logged.kind == RecordKind.NOTE:
        lines = [f"✅ <b>Saved</b>: note on <b>{name}</b>."]
        for vital in logged.vitals:
            unit = "" if not vital.unit else f" {_text(vital.unit)}"
            lines.append(
                f"{labels.label(labels.VITAL_KIND, vital.kind)}: {_text(vital.value)}{unit}"
            )
        return lines
    if logged.kind == RecordKind.TASK:
        whose = f" for <b>{name}</b>" if logged.patient_name else ""
        lines = [f"✅ <b>Saved</b>: task{whose}: {_text(logged.title or '')}"]
        lines.extend(f"Due: {_due(task, zone, now)}" for task in logged.created)
        return lines
    if logged.kind == RecordKind.PATIENT:
        return [f"✅ <b>Saved</b>: new patient <b>{name}</b>."]
    return [f"✅ <b>Saved</b>: {inline_label(labels.RECORD_KIND, logged.kind)} for <b>{name}</b>."]


def duplicate() -> str:
    return "That message was already saved; nothing new was logged."


def undone(result: Undone) -> str:
    what = inline_label(labels.RECORD_KIND, result.kind)
    extra = []
    if result.cancelled:
        extra.append(f"{result.cancelled} task(s) cancelled")
    if result.reopened:
        extra.append(f"{result.reopened} task(s) reopened")
    tail = f" ({', '.join(extra)})" if extra else ""
    return f"↩️ Undone: the {what} for <b>{_text(result.patient_name)}</b>{tail}."


def follow_up_changed(result: FollowUpChanged, zone: ZoneInfo, now: datetime) -> str:
    name = _text(result.patient_name)
    if result.follow_up is None:
        return f"{_FOLLOW_UP} for <b>{name}</b>: none. Saved."
    return f"{_FOLLOW_UP} for <b>{name}</b>: {_due(result.follow_up, zone, now)}. Saved."


def note_added(patient_name: str) -> str:
    return f"📝 Note added for <b>{_text(patient_name)}</b>. Saved."


def complexity_set(result: ComplexitySet, zone: ZoneInfo, now: datetime) -> str:
    complexity = inline_label(labels.COMPLEXITY, result.complexity)
    lines = [f"Complexity for <b>{_text(result.patient_name)}</b>: {complexity}. Saved."]
    for task in result.redated:
        lines.append(f"{labels.task_name(task.kind)}: {_due(task, zone, now)}")
    return "\n".join(lines)


def attendance_set(result: AttendanceSet, zone: ZoneInfo, now: datetime) -> str:
    name = _text(result.patient_name)
    text = f"Marked {inline_label(labels.APPOINTMENT_STATUS, result.status)}: <b>{name}</b>. Saved."
    if result.status == AppointmentStatus.NO_SHOW and result.follow_up is not None:
        text += f"\n{_FOLLOW_UP}: {_due(result.follow_up, zone, now)}"
    elif result.status == AppointmentStatus.RESCHEDULED:
        text += "\nSend the new date as a message, e.g. <i>appt Fri 10am cardiology</i>."
    return text


def render_attendance_check(check: AttendanceCheck, now: datetime | None = None) -> str:
    """The attended? push: who (as the nurse's privacy setting allows), when, with whom."""
    zone = ZoneInfo(check.zone)
    with_whom = f" ({_text(check.with_whom)})" if check.with_whom else ""
    return (
        f"Did <b>{_text(check.patient_label)}</b> attend the appointment{with_whom} on "
        f"{when_text(check.at, zone, has_time=check.has_time, now=now)}?"
    )


# -- refusals for stale buttons ------------------------------------------------------------------

REFUSALS = {
    "duplicate": "That message was already saved; nothing new was logged.",
    "no_patient": "That patient is not in your active caseload any more. Nothing was saved.",
    "not_found": "That record isn't there any more (or isn't yours). Nothing was changed.",
    "already_undone": "That was already undone. Nothing was changed.",
    "expired": (
        "Those buttons have expired (they work for 48 hours). Nothing was changed; "
        "log a correction as a new message."
    ),
    "already_answered": "That was already answered. Nothing was changed.",
}


def refusal(reason: str) -> str:
    return REFUSALS.get(reason, "Nothing was changed.")


# -- questions -------------------------------------------------------------------------------------


def which_patient(written: str | None) -> str:
    if written:
        return f"Which patient did you mean by “{_text(written)}”? Tap one, or type the full name."
    return "Which patient? Type the name (or /cancel)."


def patient_not_found(written: str) -> str:
    return (
        f"I couldn't find “{_text(written)}” in your caseload. Type the name again, "
        "or /cancel. (Nothing is saved yet.)"
    )


def ask_when() -> str:
    return "When is the appointment? Type a date and time, e.g. <i>Dec 3 10:30am</i> or /cancel."


def ask_when_again() -> str:
    return (
        "I couldn't read a date in that. Please type it like <i>Fri 2pm</i> or "
        "<i>12/3 10:30</i>, or /cancel."
    )


def ask_follow_up(patient_name: str | None) -> str:
    who = f" with <b>{_text(patient_name)}</b>" if patient_name else ""
    return f"Follow-up{who}? Tap one or type a date (e.g. <i>Fri</i>, <i>in 2 weeks</i>)."


def ask_follow_up_again() -> str:
    return (
        "I couldn't read a date in that. Tap one, or type it like <i>Fri</i>, <i>12/3</i> "
        "or <i>in 2 weeks</i>."
    )


def ask_note(patient_name: str | None) -> str:
    who = f" for <b>{_text(patient_name)}</b>" if patient_name else ""
    return f"Type the note{who} (or /cancel)."


ASK_ONE_LINE = {
    "contact": "Tell me in one line, e.g. <i>called Maria Lopez, LVM, f/u Fri</i>.",
    "appointment": "Tell me in one line, e.g. <i>Maria Lopez cardiology appt Dec 3 10:30am</i>.",
    "discharge": "Tell me in one line, e.g. <i>John Smith d/c from Mercy yesterday</i>.",
    "med_rec": "Tell me in one line, e.g. <i>med rec done for John Smith, 1 discrepancy</i>.",
}


def not_understood_as(kind: str) -> str:
    return "I couldn't read that. " + ASK_ONE_LINE.get(kind, "") + " Or /cancel."


CANCELLED = "Cancelled. Nothing was saved."


TIMED_OUT = "I closed that after a quiet while. Nothing was saved; send it again when ready."
EDITED = (
    "I saw you edited a message. Edits don't change what I saved, and nothing was changed. "
    "To correct a record use the buttons under my reply (<b>Undo</b>, then send it again; "
    "<b>Change follow-up</b>; <b>Add note</b>)."
)
FORWARDED = (
    "I don't log forwarded messages, so nothing was saved. Type what happened in your own "
    "words, e.g. <i>called Maria Lopez re insulin, f/u Fri</i>."
)
MEDIA = (
    "I can't log photos or files, so nothing was saved. Please type a short note (or send a "
    "voice note) instead, e.g. <i>home visit John Smith, wound healing, f/u Mon</i>."
)
UNKNOWN = """I didn't catch a record in that. Try one of these:
• <i>Called Maria Lopez re insulin, f/u Fri</i>
• <i>LVM for John Smith, try again tomorrow</i>
• <i>Robert King cardiology appt Dec 3 10:30am</i>
• <i>John Smith d/c from Mercy today</i>
• <i>med rec done for Dorothy Chen, 1 discrepancy</i>
/help lists more."""


def candidate_labels(names: Sequence[str]) -> list[str]:
    """Button labels for candidate patients (names are fine in labels, never in data)."""
    return [clip(n, MAX_NAME) for n in names]


def ask_channel(patient_name: str) -> str:
    """How a contact with a known patient went (the channel buttons follow)."""
    return f"How was the contact with <b>{_text(patient_name)}</b>?"


ENTRY_DROPPED = (
    "That looks like a new message, so I stopped asking about the earlier one: "
    "<b>the earlier one was NOT saved</b>; send it again to log it. Now your new message:"
)
SAVED_WITHOUT_FOLLOW_UP = (
    "That looks like a new message, so the earlier contact is saved <b>without a follow-up</b> "
    "(tap Change follow-up under it to add one). Now your new message:"
)
CHANGE_DROPPED = (
    "That looks like a new message, so I left the earlier change undone (the record itself "
    "stays saved as it was). Now your new message:"
)

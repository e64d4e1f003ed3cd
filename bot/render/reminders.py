"""Reminder pushes as text: what is due, for whom (per the privacy setting), why, by when.

Pure: no telegram, no storage. Button labels and their opaque callback data live here too, so
handlers and the dispatcher agree on them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

KIND_LABELS = {
    "follow_up": "Follow-up",
    "appointment_reminder": "Appointment",
    "attendance_check": "Did the appointment happen?",
    "tcm_contact": "TCM interactive contact",
    "tcm_visit": "TCM face-to-face visit",
    "med_rec": "Medication reconciliation",
    "cadence": "Check-in (risk cadence)",
    "referral": "Referral follow-up",
    "custom": "Task",
}

CHANNEL_WORDS = {
    "phone": "call",
    "voicemail": "voicemail",
    "visit": "visit",
    "clinic": "clinic visit",
    "video": "video visit",
    "text": "text",
    "email": "email",
}

# A push more than this after its due time says it is late.
LATE_AFTER = timedelta(minutes=2)

TASK_BUTTONS: tuple[tuple[str, str], ...] = (
    ("Done", "d"),
    ("Snooze 1h", "s"),
    ("Tomorrow", "t"),
    ("Log contact", "l"),
)


def task_callback(action: str, task_id: int) -> str:
    """Opaque callback data for a task button: "tk:<action>:<task id>" (no patient data)."""
    return f"tk:{action}:{task_id}"


def patient_label(*, privacy: str, name: str, initials: str, code: str) -> str:
    """How a push names a patient: full name, initials, or an opaque code."""
    if privacy == "full":
        return name
    if privacy == "code":
        return code
    return initials


def day_label(when: datetime, zone: ZoneInfo) -> str:
    local = when.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}"


def time_label(when: datetime, zone: ZoneInfo) -> str:
    return when.astimezone(zone).strftime("%H:%M")


@dataclass(frozen=True)
class ReminderFacts:
    """Everything a reminder message says; gathered from the database by the dispatcher."""

    kind: str
    title: str
    patient: str | None  # already per the privacy setting
    due_at: datetime
    has_time: bool
    origin_channel: str | None
    origin_at: datetime | None
    appointment_at: datetime | None
    appointment_with: str | None
    scheduled_for: datetime  # when the push was due
    sent_at: datetime
    repeat: bool
    escalation_for: str | None = None  # the nurse's name, when this goes to her supervisor


def render_reminder(facts: ReminderFacts, zone: ZoneInfo) -> str:
    """The reminder text, HTML-escaped, a few lines that read on a phone."""
    label = KIND_LABELS.get(facts.kind, "Task")
    who = f": {html.escape(facts.patient)}" if facts.patient else ""
    lines = []
    if facts.escalation_for:
        lines.append(f"⚠️ <b>Escalation</b> for {html.escape(facts.escalation_for)}'s patient")
    lines.append(f"⏰ <b>{label}</b>{who}")
    if facts.title and facts.title.lower() not in label.lower():
        lines.append(html.escape(facts.title))
    if facts.origin_at is not None:
        word = CHANNEL_WORDS.get(facts.origin_channel or "", "contact")
        lines.append(f"From your {word} on {day_label(facts.origin_at, zone)}.")
    if facts.appointment_at is not None:
        with_whom = f" with {html.escape(facts.appointment_with)}" if facts.appointment_with else ""
        lines.append(
            f"Appointment {day_label(facts.appointment_at, zone)} at "
            f"{time_label(facts.appointment_at, zone)}{with_whom}."
        )
    deadline = day_label(facts.due_at, zone)
    if facts.has_time:
        deadline += f", {time_label(facts.due_at, zone)}"
    overdue = " (overdue)" if facts.sent_at > facts.due_at else ""
    lines.append(f"Due: {deadline} ({zone.key}){overdue}")
    notes = []
    if facts.sent_at - facts.scheduled_for > LATE_AFTER:
        notes.append(f"due {time_label(facts.scheduled_for, zone)}, sent late")
    if facts.repeat:
        notes.append("repeat")
    if notes:
        lines.append(f"<i>({'; '.join(notes)})</i>")
    return "\n".join(lines)


def render_unreachable_notice(name: str | None) -> str:
    """To a supervisor or admin: a nurse blocked the bot (staff, not patient data)."""
    who = html.escape(name) if name else "A nurse on your team"
    return (
        f"⚠️ {who} can no longer receive casebot messages: she has blocked the bot, so "
        "her reminders and digests are paused. Please check in with her."
    )


def cadence_title(risk: str) -> str:
    """The title of a check-in task for a patient past her risk level's contact cadence."""
    return f"{risk} risk: no reached contact"


def render_done(text_before: str) -> str:
    return f"{text_before}\n✅ <b>Done</b>"

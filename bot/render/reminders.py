"""Reminder pushes as text: what is due, for whom (per the privacy setting), why, by when.

Pure: no telegram, no storage. The reminder's button labels live here too, so handlers and the
dispatcher agree on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.render import labels
from bot.render.callbacks import TaskPress
from bot.render.labels import inline_label
from bot.render.text import esc, time_label, when_label
from bot.vocab import RecordKind, TaskKind

# A push more than this after its due time says it is late.
LATE_AFTER = timedelta(minutes=2)

TASK_BUTTONS: tuple[tuple[str, TaskPress], ...] = (
    ("Done", "done"),
    ("Snooze 1h", "snooze"),
    ("Tomorrow", "tomorrow"),
    ("Log contact", "log"),
)
"""A reminder's buttons; each press is packed as a TaskAction (bot.render.callbacks)."""


def patient_label(*, privacy: str, name: str, initials: str, code: str) -> str:
    """How a push names a patient: full name, initials, or an opaque code."""
    if privacy == "full":
        return name
    if privacy == "code":
        return code
    return initials


def masked_title(title: str, name: str, label: str) -> str:
    """Her own words in a push, with the patient's name as she typed it ("call the pharmacy re
    grace's strips") replaced by how the push names her (initials or code): the privacy
    setting covers the title too, not only the header."""
    parts = [p for p in re.split(r"[\s-]+", name) if len(p) >= 2]
    whole = r"[\s-]+".join(re.escape(p) for p in parts)
    masked = re.sub(rf"\b{whole}\b", label, title, flags=re.IGNORECASE) if parts else title
    for part in sorted(set(parts), key=len, reverse=True):
        masked = re.sub(rf"\b{re.escape(part)}\b", label, masked, flags=re.IGNORECASE)
    return masked


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
    who = f": {esc(facts.patient)}" if facts.patient else ""
    lines = []
    if facts.escalation_for:
        lines.append(f"⚠️ <b>Escalation</b> for {esc(facts.escalation_for)}'s patient")
    lines.append(f"⏰ <b>{labels.task_name(facts.kind)}</b>{who}")
    own_title = labels.task_title(facts.kind, facts.title)
    if own_title:
        lines.append(own_title)
    if facts.origin_at is not None:
        word = (
            inline_label(labels.CHANNEL, facts.origin_channel)
            if facts.origin_channel
            else inline_label(labels.RECORD_KIND, RecordKind.CONTACT)
        )
        lines.append(f"From your {word} on {when_label(facts.origin_at, zone, has_time=False)}.")
    if facts.appointment_at is not None:
        with_whom = f" with {esc(facts.appointment_with)}" if facts.appointment_with else ""
        lines.append(
            f"{labels.RECORD_KIND[RecordKind.APPOINTMENT]} "
            f"{when_label(facts.appointment_at, zone, has_time=False)} at "
            f"{time_label(facts.appointment_at, zone)}{with_whom}."
        )
    if facts.kind != TaskKind.APPOINTMENT_REMINDER:  # a push, not work: nothing falls due
        deadline = when_label(facts.due_at, zone, has_time=False)
        if facts.has_time:
            deadline += f", {time_label(facts.due_at, zone)}"
        overdue = " (overdue)" if is_past_due(facts) else ""
        lines.append(f"Due: {deadline} ({zone.key}){overdue}")
    notes = []
    if facts.sent_at - facts.scheduled_for > LATE_AFTER:
        notes.append(f"due {time_label(facts.scheduled_for, zone)}, sent late")
    if facts.repeat:
        notes.append("repeat")
    if notes:
        lines.append(f"<i>({'; '.join(notes)})</i>")
    return "\n".join(lines)


def is_past_due(facts: ReminderFacts) -> bool:
    """The task was past its due moment when the push was planned or sent: a push sent on
    time for a task due at that very minute (a timed follow-up) is not overdue. An
    appointment reminder never is (its "due" is the reminder's own moment)."""
    return facts.scheduled_for > facts.due_at or facts.sent_at - facts.due_at > LATE_AFTER


def render_unreachable_notice(name: str | None) -> str:
    """To a supervisor or admin: a nurse blocked the bot (staff, not patient data)."""
    who = esc(name) if name else "A nurse on your team"
    return (
        f"⚠️ {who} can no longer receive casebot messages: she has blocked the bot, so "
        "her reminders and digests are paused. Please check in with her."
    )


def cadence_title(risk: str) -> str:
    """The title of a check-in task for a patient past her risk level's contact cadence."""
    return f"{inline_label(labels.RISK, risk)} risk: no reached contact"


def render_rescheduled(patient_name: str, moved_to: datetime, zone: ZoneInfo) -> str:
    """[Rescheduled] on an attendance check, answered with the new time: what moved."""
    return (
        f"Moved <b>{esc(patient_name)}</b>'s appointment to "
        f"{when_label(moved_to, zone)} ({zone.key}); its reminders and check moved with it. Saved."
    )

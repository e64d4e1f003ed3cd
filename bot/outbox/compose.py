"""A claimed delivery, with the rows read for its batch, as the message to send: text + buttons.

Thin: the wording is bot.render's (reminders, digest, records); this module picks the facts out
of the rows, applies the recipient's privacy setting, and builds each push type's keyboard in
one function (reminder_keyboard, attendance_keyboard, digest_keyboard). None means the push is
obsolete (task done or moved, recipient gone) and is cancelled instead of sent. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.outbox.planning import notice_subject
from bot.render import digest as digest_render
from bot.render import records as records_render
from bot.render.callbacks import Attendance, ShowDigest, TaskAction
from bot.render.reminders import (
    TASK_BUTTONS,
    ReminderFacts,
    masked_title,
    patient_label,
    render_reminder,
    render_unreachable_notice,
)
from bot.services.records import AttendanceCheck
from bot.vocab import DeliveryKind, TaskKind, TaskStatus
from storage.models import Delivery, Nurse, Patient, Task
from storage.pushes import PushRows

T = TypeVar("T")


@dataclass(frozen=True)
class Outgoing:
    chat_id: int
    text: str
    buttons: InlineKeyboardMarkup | None


def compose(
    delivery: Delivery,
    rows: PushRows,
    *,
    now: datetime,
    push_names: str,
    digest: digest_render.DigestData | None = None,
) -> Outgoing | None:
    """The message for `delivery`, or None if it should not be sent any more.

    `push_names` is the configured privacy default (a nurse's own setting wins); `digest` is
    the content read for a digest delivery.
    """
    recipient = rows.nurses.get(delivery.nurse_id)
    if recipient is None or not recipient.active or recipient.chat_id is None:
        return None
    if delivery.kind == DeliveryKind.DIGEST:
        if digest is None:
            return None
        text, cut = digest_render.render_digest_push(
            digest, scheduled_for=delivery.due_at, sent_at=now, repeat=delivery.repeat
        )
        return Outgoing(recipient.chat_id, text, digest_keyboard(delivery.id) if cut else None)
    if delivery.kind == DeliveryKind.NOTICE:
        subject_id = notice_subject(delivery.key)
        subject = rows.nurses.get(subject_id) if subject_id is not None else None
        name = subject.display_name if subject is not None else None
        return Outgoing(recipient.chat_id, render_unreachable_notice(name), None)
    return _task_push(delivery, recipient, rows, now=now, push_names=push_names)


def _task_push(
    delivery: Delivery, recipient: Nurse, rows: PushRows, *, now: datetime, push_names: str
) -> Outgoing | None:
    """A reminder (to the task's nurse) or an escalation (to her supervisor)."""
    assert recipient.chat_id is not None
    task = rows.tasks.get(delivery.task_id) if delivery.task_id is not None else None
    if task is None or task.status != TaskStatus.OPEN:
        return None
    if delivery.kind == DeliveryKind.REMINDER and task.remind_at != delivery.due_at:
        return None  # snoozed or moved since this push was planned
    patient = rows.patients.get(task.patient_id) if task.patient_id is not None else None
    privacy = recipient.privacy_mode or push_names
    if task.kind == TaskKind.ATTENDANCE_CHECK and delivery.kind == DeliveryKind.REMINDER:
        return _attendance_push(task, recipient, patient, rows, privacy=privacy)
    owner = rows.nurses.get(task.nurse_id)
    contact = _origin(rows.contacts, task, "contact")
    appointment = _origin(rows.appointments, task, "appointment")
    label = _label(patient, privacy)
    title = task.title
    if patient is not None and label is not None and privacy != "full":
        title = masked_title(title, patient.display_name, label)
    facts = ReminderFacts(
        kind=task.kind.value,
        title=title,
        patient=label,
        due_at=task.due_at,
        has_time=task.has_time,
        origin_channel=contact.channel.value if contact is not None else None,
        origin_at=contact.occurred_at if contact is not None else None,
        appointment_at=appointment.at if appointment is not None else None,
        appointment_with=appointment.with_whom if appointment is not None else None,
        scheduled_for=delivery.due_at,
        sent_at=now,
        repeat=delivery.repeat,
        escalation_for=owner.display_name
        if delivery.kind == DeliveryKind.ESCALATION and owner is not None
        else None,
    )
    text = render_reminder(facts, ZoneInfo(recipient.timezone))
    buttons = reminder_keyboard(task.id) if delivery.kind == DeliveryKind.REMINDER else None
    return Outgoing(recipient.chat_id, text, buttons)


def _attendance_push(
    task: Task, nurse: Nurse, patient: Patient | None, rows: PushRows, *, privacy: str
) -> Outgoing | None:
    """The "did the appointment happen?" check, with [Attended] [No-show] [Rescheduled]."""
    appointment = _origin(rows.appointments, task, "appointment")
    if appointment is None or appointment.undone_at is not None or patient is None:
        return None
    assert nurse.chat_id is not None
    check = AttendanceCheck(
        task_id=task.id,
        chat_id=nurse.chat_id,
        zone=nurse.timezone,
        patient_label=_label(patient, privacy) or "",
        at=appointment.at,
        has_time=appointment.has_time,
        with_whom=appointment.with_whom,
        open=True,
    )
    text = records_render.render_attendance_check(check)
    return Outgoing(nurse.chat_id, text, attendance_keyboard(task.id))


def _origin(found: Mapping[int, T], task: Task, kind: str) -> T | None:
    """The record the task came from (a contact, an appointment), if it is of `kind`."""
    if task.origin_kind != kind or task.origin_id is None:
        return None
    return found.get(task.origin_id)


def _label(patient: Patient | None, privacy: str) -> str | None:
    """How this push names the patient: full name, initials or code (her privacy setting)."""
    if patient is None:
        return None
    return patient_label(
        privacy=privacy, name=patient.display_name, initials=patient.initials, code=patient.code
    )


# -- keyboards: one function per push type -------------------------------------------------------


def reminder_keyboard(task_id: int) -> InlineKeyboardMarkup:
    """[Done] [Snooze 1h] / [Tomorrow] [Log contact] under a reminder."""
    buttons = [
        InlineKeyboardButton(label, callback_data=TaskAction(action, task_id).pack())
        for label, action in TASK_BUTTONS
    ]
    return InlineKeyboardMarkup([buttons[:2], buttons[2:]])


def attendance_keyboard(task_id: int) -> InlineKeyboardMarkup:
    """[Attended] [No-show] [Rescheduled] under an attendance check."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=Attendance(task_id, status).pack())
                for status, label in records_render.ATTENDANCE_BUTTONS
            ]
        ]
    )


def digest_keyboard(delivery_id: int) -> InlineKeyboardMarkup:
    """[Show all] under a digest that was cut to one message."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    digest_render.SHOW_ALL, callback_data=ShowDigest(delivery_id).pack()
                )
            ]
        ]
    )

"""Referral use cases: send one (with its follow-up task), move it along (by a /referrals
button, or by a message naming the patient and the specialty or provider), list the open ones,
and link it to the appointment that answers it.

One transaction each, audited with prior values. A referral with no appointment logged
``care.referral_follow_up_days`` after it was sent gets a REFERRAL task reminded at the
follow-up time of that day; logging a matching appointment moves the referral to "scheduled"
and closes that task. Must not import telegram or handlers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import care
from bot.care import closing
from bot.clock import Clock
from bot.config import Config
from bot.parsing.careplans import canonical_specialty
from bot.services.careplans import begin, remember
from bot.services.ledger import MessageKey
from bot.services.nurse import NurseView
from bot.vocab import ReferralStatus, Refusal, TaskKind, TaskStatus
from storage import audit
from storage import careplans as store
from storage import records as record_store
from storage.db import Database
from storage.models import Appointment, Patient, Referral, Task

ORIGIN = closing.REFERRAL_ORIGIN
"""Task.origin_kind of a referral's follow-up task."""
UTC_ZONE = ZoneInfo("UTC")  # a referral's closing needs no local day


@dataclass(frozen=True)
class ReferralView:
    """A referral as the render layer sees it (plain, unescaped data)."""

    id: int
    patient_id: int
    patient_name: str
    to_whom: str
    specialty: str
    reason: str
    sent_on: date
    status: str
    follow_up_due: datetime | None = None


@dataclass(frozen=True)
class ReferralChoice:
    """Several of the patient's open referrals fit what she wrote: she picks one."""

    patient_id: int
    patient_name: str
    status: str
    referrals: tuple[ReferralView, ...]


@dataclass(frozen=True)
class NoMatchingReferral:
    """None of the patient's open referrals can take the change, so nothing changed.
    ``already`` is the one that fits but has that status already."""

    patient_name: str
    open_referrals: tuple[ReferralView, ...]
    already: ReferralView | None = None


_NOT_A_NAME = frozenset({"dr", "doctor", "the", "a", "an", "to", "see", "referral"})


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"[^\W_]+", text.lower()) if w not in _NOT_A_NAME)


def referral_fits(referral: Referral, *, to_whom: str, specialty: str | None) -> bool:
    """Whether a referral is the one a message names: the same specialty, or the same provider
    words ("Dr. Alvarez" is "dr alvarez"); a message naming neither fits every referral."""
    if not to_whom and not specialty:
        return True
    if specialty and specialty in (referral.specialty, canonical_specialty(referral.to_whom)):
        return True
    written, saved = _words(to_whom), _words(referral.to_whom)
    return bool(written and saved) and (written <= saved or saved <= written)


def _view(referral: Referral, patient_name: str, follow_up: datetime | None = None) -> ReferralView:
    return ReferralView(
        id=referral.id,
        patient_id=referral.patient_id,
        patient_name=patient_name,
        to_whom=referral.to_whom,
        specialty=referral.specialty,
        reason=referral.reason,
        sent_on=referral.sent_on,
        status=referral.status.value,
        follow_up_due=follow_up,
    )


async def log_referral(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    nurse: NurseView,
    source: MessageKey | None,
    patient_id: int,
    to_whom: str,
    specialty: str | None,
    reason: str,
    sent_on: date,
    command: str = "text",
) -> ReferralView | Refusal:
    """Save a referral and its follow-up task (N days after it was sent)."""
    now = clock.now()
    zone = nurse.zone
    async with db.uow() as session:
        patient = await begin(session, nurse, source, patient_id)
        if isinstance(patient, Refusal):
            return patient
        referral = await store.add_referral(
            session,
            patient_id=patient.id,
            nurse_id=nurse.id,
            to_whom=to_whom,
            specialty=specialty or canonical_specialty(to_whom) or "",
            reason=reason,
            sent_on=sent_on,
            now=now,
        )
        day = sent_on + timedelta(days=config.care.referral_follow_up_days)
        task = await record_store.add_task(
            session,
            nurse_id=nurse.id,
            patient_id=patient.id,
            kind=TaskKind.REFERRAL,
            title=f"Referral to {to_whom}"[:200],
            due_at=care.end_of_local_day(day, zone),
            has_time=False,
            remind_at=care.local_time_on(day, config.reminders.follow_up_time, zone),
            origin_kind=ORIGIN,
            origin_id=referral.id,
            now=now,
        )
        await remember(session, source, nurse, now, ORIGIN, referral.id)
        await audit.record_audit(
            session,
            at=now,
            action="referral.created",
            actor_nurse_id=nurse.id,
            command=command,
            patient_id=patient.id,
            entity="referral",
            entity_id=referral.id,
            detail={"sent_on": sent_on.isoformat(), "task_id": task.id, "prior": None},
        )
        return _view(referral, patient.display_name, task.due_at)


async def set_status(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    referral_id: int,
    status: ReferralStatus,
    command: str = "button",
    source: MessageKey | None = None,
) -> ReferralView | Refusal:
    """Move her referral to a new status; leaving "sent" closes its follow-up task. ``source``
    is the message that asked for it (saved once, like every message)."""
    now = clock.now()
    async with db.uow() as session:
        if source is not None and await record_store.find_inbound(
            session, chat_id=source.chat_id, message_id=source.message_id
        ):
            return Refusal.DUPLICATE
        referral = await store.get_referral(session, referral_id=referral_id)
        if referral is None or referral.nurse_id != nurse.id:
            return Refusal.NOT_FOUND
        patient = await record_store.owned_active_patient(
            session, patient_id=referral.patient_id, nurse_id=nurse.id
        )
        if patient is None:
            return Refusal.NOT_FOUND
        if referral.status == status:
            return Refusal.ALREADY_ANSWERED
        await remember(session, source, nurse, now, ORIGIN, referral.id)
        return await _move(session, nurse, patient, referral, status, now=now, command=command)


async def move_referral(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    source: MessageKey | None,
    patient_id: int,
    to_whom: str,
    specialty: str | None,
    status: ReferralStatus,
    command: str = "text",
) -> ReferralView | ReferralChoice | NoMatchingReferral | Refusal:
    """Move the open referral of her patient that a message names (by ``to_whom`` or
    ``specialty``) to ``status``, as set_status does. Several that fit come back to choose
    from; none, and nothing changes."""
    now = clock.now()
    async with db.uow() as session:
        patient = await begin(session, nurse, source, patient_id)
        if isinstance(patient, Refusal):
            return patient
        open_now = [
            r
            for r in await store.open_referrals_of(session, patient_id=patient.id)
            if r.nurse_id == nurse.id
        ]
        fitting = [r for r in open_now if referral_fits(r, to_whom=to_whom, specialty=specialty)]
        movable = [r for r in fitting if r.status != status]
        if len(movable) == 1:
            await remember(session, source, nurse, now, ORIGIN, movable[0].id)
            return await _move(
                session, nurse, patient, movable[0], status, now=now, command=command
            )
        name = patient.display_name
        shown = movable or open_now
        # Showing her the patient's referrals to choose from (or what is open) is a read.
        await audit.record_audit(
            session,
            at=now,
            action="referral.listed",
            actor_nurse_id=nurse.id,
            command=command,
            patient_id=patient.id,
            entity="referral",
            detail={"referral_ids": [r.id for r in shown]},
        )
        if movable:
            return ReferralChoice(
                patient.id, name, status.value, tuple(_view(r, name) for r in movable)
            )
        return NoMatchingReferral(
            name,
            tuple(_view(r, name) for r in open_now),
            already=_view(fitting[0], name) if fitting else None,
        )


async def _move(
    session: AsyncSession,
    nurse: NurseView,
    patient: Patient,
    referral: Referral,
    status: ReferralStatus,
    *,
    now: datetime,
    command: str,
) -> ReferralView:
    """The status change itself: closing statuses stamp closed_at, leaving "sent" closes the
    follow-up task, and the audit keeps the prior status."""
    prior = referral.status
    referral.status = status
    referral.updated_at = now
    closing = status in (ReferralStatus.COMPLETED, ReferralStatus.DECLINED)
    referral.closed_at = now if closing else None
    closed = await _close_tasks(session, referral, now, None) if status != "sent" else []
    await _audit_status(
        session,
        referral,
        now=now,
        actor_nurse_id=nurse.id,
        command=command,
        detail={
            "prior_status": prior.value,
            "status": status.value,
            "tasks_closed": [t.id for t in closed],
        },
    )
    return _view(referral, patient.display_name)


async def _audit_status(
    session: AsyncSession,
    referral: Referral,
    *,
    now: datetime,
    actor_nurse_id: int,
    command: str,
    detail: dict[str, object],
) -> None:
    """The audit row of a referral's status change; ``detail`` keeps the prior values."""
    await audit.record_audit(
        session,
        at=now,
        action="referral.status_changed",
        actor_nurse_id=actor_nurse_id,
        command=command,
        patient_id=referral.patient_id,
        entity="referral",
        entity_id=referral.id,
        detail=detail,
    )


async def open_referrals(db: Database, clock: Clock, *, nurse: NurseView) -> list[ReferralView]:
    """Her referrals still sent or scheduled (audited as a read of each patient's data)."""
    now = clock.now()
    async with db.uow() as session:
        rows = await store.referrals_of_nurse(session, nurse_id=nurse.id)
        views = []
        for referral, patient in rows:
            tasks = await record_store.tasks_of_origin(
                session,
                origin_kind=ORIGIN,
                origin_id=referral.id,
                kinds=(TaskKind.REFERRAL,),
                status=TaskStatus.OPEN,
            )
            views.append(_view(referral, patient.display_name, tasks[0].due_at if tasks else None))
        await audit.record_audit(
            session,
            at=now,
            action="referral.listed",
            actor_nurse_id=nurse.id,
            command="referrals",
            entity="referral",
            detail={"referral_ids": [v.id for v in views]},
        )
        return views


# -- the appointment hook (inside bot.services.records.log_appointment's transaction) ---


def _matches(referral: Referral, appointment: Appointment) -> bool:
    """A referral without specialty takes any later appointment; otherwise the specialty (or
    the provider named) must appear in the appointment."""
    written = f"{appointment.with_whom} {appointment.note}"
    if not referral.specialty:
        return True
    if canonical_specialty(written) == referral.specialty:
        return True
    to_whom = referral.to_whom.strip().lower()
    return bool(to_whom) and to_whom in written.lower()


async def on_appointment_logged(
    session: AsyncSession, appointment: Appointment, *, now: datetime
) -> list[Task]:
    """Link the first waiting referral this appointment answers: it becomes "scheduled" and
    its follow-up task is closed. Returns the tasks closed."""
    for referral in await store.sent_referrals_for_appointment(session, appointment=appointment):
        if referral.sent_on > appointment.at.date() + timedelta(days=1):
            continue
        if not _matches(referral, appointment):
            continue
        referral.status = ReferralStatus.SCHEDULED
        referral.appointment_id = appointment.id
        referral.updated_at = now
        closed = await _close_tasks(session, referral, now, appointment.id)
        await _audit_status(
            session,
            referral,
            now=now,
            actor_nurse_id=appointment.nurse_id,
            command="appointment",
            detail={
                "prior_status": ReferralStatus.SENT.value,
                "status": ReferralStatus.SCHEDULED.value,
                "appointment_id": appointment.id,
                "tasks_closed": [t.id for t in closed],
            },
        )
        return closed
    return []


async def on_appointment_undone(
    session: AsyncSession, appointment: Appointment, *, now: datetime
) -> None:
    """An undone appointment no longer answers its referral: back to "sent" (the follow-up
    task it closed is reopened by the undo itself)."""
    for referral in await store.referrals_linked_to(session, appointment_id=appointment.id):
        if referral.status != ReferralStatus.SCHEDULED:
            continue
        referral.status = ReferralStatus.SENT
        referral.appointment_id = None
        referral.updated_at = now
        await _audit_status(
            session,
            referral,
            now=now,
            actor_nurse_id=appointment.nurse_id,
            command="undo",
            detail={
                "prior_status": ReferralStatus.SCHEDULED.value,
                "prior_appointment_id": appointment.id,
                "status": ReferralStatus.SENT.value,
            },
        )


async def _close_tasks(
    session: AsyncSession, referral: Referral, now: datetime, appointment_id: int | None
) -> list[Task]:
    """Close the referral's follow-up (bot.care.closing: a referral moved on closes it, met
    or late by its deadline); an appointment that answered it is what closed it."""
    tasks = await record_store.tasks_of_origin(
        session,
        origin_kind=ORIGIN,
        origin_id=referral.id,
        kinds=(TaskKind.REFERRAL,),
        status=TaskStatus.OPEN,
    )
    decided = closing.closing_for(
        closing.ReferralDone(referral.id, now),
        [
            closing.OpenTask(t.id, t.kind, t.due_at, t.window_start, t.origin_kind, t.origin_id)
            for t in tasks
        ],
        zone=UTC_ZONE,
    )
    by_id = {t.id: t for t in tasks}
    closed = []
    for closure in decided.closed:
        task = by_id[closure.task_id]
        task.status = TaskStatus.DONE
        task.completed_at = now
        task.resolution = closure.resolution
        if appointment_id is not None:
            task.closed_by_kind = "appointment"
            task.closed_by_id = appointment_id
        closed.append(task)
    await record_store.cancel_pending_pushes(session, task_ids=[t.id for t in closed])
    return closed

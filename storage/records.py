"""Logged records and their tasks: contacts, appointments, episodes, medication
reconciliations, notes, tasks, and the inbound-message ledger that makes a redelivered
update log nothing twice.

Repository functions take the session first, keyword-only arguments after, and never commit.
Must not import telegram, handlers or bot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocab import Outcome, PatientStatus, TaskKind, TaskStatus
from storage import due
from storage.models import (
    Appointment,
    Contact,
    Episode,
    InboundMessage,
    MedicationReconciliation,
    Note,
    Patient,
    Task,
)

Record = Contact | Appointment | Episode | MedicationReconciliation | Note

RECORD_MODELS: dict[str, type[Record]] = {
    "contact": Contact,
    "appointment": Appointment,
    "episode": Episode,
    "med_rec": MedicationReconciliation,
    "note": Note,
}


# -- the inbound-message ledger ------------------------------------------------------------------


async def find_inbound(
    session: AsyncSession, *, chat_id: int, message_id: int
) -> InboundMessage | None:
    """The ledger row of a nurse message that already changed data, if any."""
    query = select(InboundMessage).where(
        InboundMessage.chat_id == chat_id, InboundMessage.message_id == message_id
    )
    return (await session.scalars(query)).first()


async def add_inbound(
    session: AsyncSession,
    *,
    chat_id: int,
    message_id: int,
    nurse_id: int,
    now: datetime,
    record_kind: str,
    record_id: int,
) -> InboundMessage:
    """Claim (chat_id, message_id); the unique constraint refuses a second claim."""
    row = InboundMessage(
        chat_id=chat_id,
        message_id=message_id,
        nurse_id=nurse_id,
        received_at=now,
        record_kind=record_kind,
        record_id=record_id,
    )
    session.add(row)
    await session.flush()
    return row


# -- patients, as records see them ---------------------------------------------------------------


async def owned_active_patient(
    session: AsyncSession, *, patient_id: int, nurse_id: int
) -> Patient | None:
    """The patient if it is active and in this nurse's caseload, else None."""
    patient = await session.get(Patient, patient_id)
    if patient is None or patient.nurse_id != nurse_id or patient.status != PatientStatus.ACTIVE:
        return None
    return patient


# -- records --------------------------------------------------------------------------------------


async def add_record(session: AsyncSession, record: Record) -> Record:
    """Insert a contact, appointment, episode, med rec or note; returns it with its id."""
    session.add(record)
    await session.flush()
    return record


async def get_record(session: AsyncSession, *, kind: str, record_id: int) -> Record | None:
    model = RECORD_MODELS.get(kind)
    if model is None:
        return None
    return await session.get(model, record_id)


async def latest_episode(
    session: AsyncSession, *, patient_id: int, on_or_before: date
) -> Episode | None:
    """The most recent live episode discharged on or before a (local) date."""
    query = (
        select(Episode)
        .where(
            Episode.patient_id == patient_id,
            Episode.undone_at.is_(None),
            Episode.discharged_on <= on_or_before,
        )
        .order_by(Episode.discharged_on.desc(), Episode.id.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def attempt_times(
    session: AsyncSession, *, patient_id: int, since: datetime, until: datetime
) -> list[datetime]:
    """When live unsuccessful contact attempts with this patient happened in [since, until]."""
    query = select(Contact.occurred_at).where(
        Contact.patient_id == patient_id,
        Contact.outcome == Outcome.ATTEMPTED,
        Contact.undone_at.is_(None),
        Contact.occurred_at >= since,
        Contact.occurred_at <= until,
    )
    return list((await session.scalars(query)).all())


# -- tasks ----------------------------------------------------------------------------------------


async def add_task(
    session: AsyncSession,
    *,
    nurse_id: int,
    patient_id: int | None,
    kind: TaskKind,
    due_at: datetime,
    now: datetime,
    title: str = "",
    has_time: bool = False,
    remind_at: datetime | None = None,
    window_start: datetime | None = None,
    episode_id: int | None = None,
    origin_kind: str | None = None,
    origin_id: int | None = None,
) -> Task:
    """A new open task. `title` is what it says beyond its kind ("call back about labs"); empty
    when the kind says it all."""
    task = Task(
        nurse_id=nurse_id,
        patient_id=patient_id,
        episode_id=episode_id,
        kind=kind,
        title=title[:200],
        due_at=due_at,
        has_time=has_time,
        window_start=window_start,
        remind_at=remind_at,
        status=TaskStatus.OPEN,
        urgent=False,
        attempts_documented=False,
        origin_kind=origin_kind,
        origin_id=origin_id,
        created_at=now,
    )
    session.add(task)
    await session.flush()
    due.note_task(session, task)
    return task


async def get_task(session: AsyncSession, *, task_id: int) -> Task | None:
    return await session.get(Task, task_id)


async def tasks_of_origin(
    session: AsyncSession,
    *,
    origin_kind: str,
    origin_id: int,
    kinds: Sequence[TaskKind] = (),
    status: TaskStatus | None = None,
) -> list[Task]:
    """Tasks a record created, optionally of some kinds and one status, oldest first."""
    query = select(Task).where(Task.origin_kind == origin_kind, Task.origin_id == origin_id)
    if kinds:
        query = query.where(Task.kind.in_(list(kinds)))
    if status is not None:
        query = query.where(Task.status == status)
    return list((await session.scalars(query.order_by(Task.id))).all())


async def tasks_closed_by(session: AsyncSession, *, kind: str, record_id: int) -> list[Task]:
    query = select(Task).where(Task.closed_by_kind == kind, Task.closed_by_id == record_id)
    return list((await session.scalars(query.order_by(Task.id))).all())


async def open_patient_tasks(
    session: AsyncSession, *, patient_id: int, kind: TaskKind
) -> list[Task]:
    """Open tasks of one kind for a patient, earliest due first."""
    query = select(Task).where(
        Task.patient_id == patient_id, Task.kind == kind, Task.status == TaskStatus.OPEN
    )
    return list((await session.scalars(query.order_by(Task.due_at, Task.id))).all())


@dataclass(frozen=True)
class UpcomingReminder:
    task_id: int
    kind: str
    remind_at: datetime
    due_at: datetime
    patient_name: str | None


async def upcoming_reminders(
    session: AsyncSession, *, nurse_id: int, since: datetime, limit: int
) -> list[UpcomingReminder]:
    """Her open tasks with a reminder at or after `since`, soonest first."""
    query = (
        select(Task.id, Task.kind, Task.remind_at, Task.due_at, Patient.display_name)
        .outerjoin(Patient, Patient.id == Task.patient_id)
        .where(
            Task.nurse_id == nurse_id,
            Task.status == TaskStatus.OPEN,
            Task.remind_at.is_not(None),
            Task.remind_at >= since,
        )
        .order_by(Task.remind_at)
        .limit(limit)
    )
    return [
        UpcomingReminder(r.id, r.kind.value, r.remind_at, r.due_at, r.display_name)
        for r in (await session.execute(query)).all()
    ]

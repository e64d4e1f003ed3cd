"""Logged records and their tasks: contacts, appointments, episodes, medication
reconciliations, notes, hospital events, vitals, tasks, and the inbound-message ledger that
makes a redelivered update log nothing twice (one message row, one link row per record it
saved or changed).

Repository functions take the session first, keyword-only arguments after, and never commit.
Must not import telegram, handlers or bot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocab import (
    AppointmentStatus,
    DeliveryStatus,
    HospitalEventKind,
    Outcome,
    PatientStatus,
    RecordChange,
    TaskKind,
    TaskStatus,
)
from storage import due
from storage.models import (
    Appointment,
    Contact,
    Delivery,
    Episode,
    HospitalEvent,
    InboundMessage,
    MedicationReconciliation,
    MessageRecord,
    Note,
    Patient,
    Task,
    Vital,
)
from storage.worklist import not_paused

Record = Contact | Appointment | Episode | MedicationReconciliation | Note | HospitalEvent

RECORD_MODELS: dict[str, type[Record]] = {
    "contact": Contact,
    "appointment": Appointment,
    "episode": Episode,
    "med_rec": MedicationReconciliation,
    "note": Note,
    "hospital_event": HospitalEvent,
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


async def claim_inbound(
    session: AsyncSession,
    *,
    chat_id: int,
    message_id: int,
    nurse_id: int,
    now: datetime,
    record_kind: str | None = None,
    record_id: int | None = None,
) -> InboundMessage:
    """Claim (chat_id, message_id) before saving what it says; the unique constraint refuses
    a second claim (a concurrent redelivery rolls back). ``record_kind``/``record_id`` name
    the first record now (one INSERT instead of an INSERT and an UPDATE)."""
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


async def link_record(
    session: AsyncSession,
    *,
    message: InboundMessage,
    record_kind: str,
    record_id: int,
    change: RecordChange = RecordChange.CREATED,
    prior: dict[str, Any] | None = None,
    position: int | None = None,
) -> MessageRecord:
    """One more record the message saved or changed, after the ones before it; the first
    one also names the message row (record_kind, record_id). ``position``: the caller
    knows how many links the message has (it claimed it in this transaction), so no count
    is read."""
    if position is None:
        position = await session.scalar(
            select(func.count())
            .select_from(MessageRecord)
            .where(MessageRecord.message_id == message.id)
        )
    if message.record_kind is None:
        message.record_kind, message.record_id = record_kind, record_id
    link = MessageRecord(
        message_id=message.id,
        position=int(position or 0),
        record_kind=record_kind,
        record_id=record_id,
        change=change,
        prior=prior,
    )
    session.add(link)  # written with the next flush (the audit event's) or the commit
    return link


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
    """Claim (chat_id, message_id) for a message that saved one record."""
    row = await claim_inbound(
        session,
        chat_id=chat_id,
        message_id=message_id,
        nurse_id=nurse_id,
        now=now,
        record_kind=record_kind,
        record_id=record_id,
    )
    await link_record(
        session, message=row, record_kind=record_kind, record_id=record_id, position=0
    )
    return row


async def message_links(session: AsyncSession, *, message_id: int) -> list[MessageRecord]:
    """What a message saved or changed, in the order of its facts."""
    query = (
        select(MessageRecord)
        .where(MessageRecord.message_id == message_id)
        .order_by(MessageRecord.position)
    )
    return list((await session.scalars(query)).all())


async def latest_messages(
    session: AsyncSession, *, nurse_id: int, since: datetime, limit: int = 20
) -> list[InboundMessage]:
    """Her messages that saved or changed something since `since` and were not taken back,
    newest first (inbound_messages(nurse_id, received_at))."""
    query = (
        select(InboundMessage)
        .where(
            InboundMessage.nurse_id == nurse_id,
            InboundMessage.received_at >= since,
            InboundMessage.undone_at.is_(None),
            InboundMessage.record_kind.is_not(None),
        )
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def message_of_record(
    session: AsyncSession, *, record_kind: str, record_id: int
) -> InboundMessage | None:
    """The message that created a record, if it came from one."""
    query = (
        select(InboundMessage)
        .join(MessageRecord, MessageRecord.message_id == InboundMessage.id)
        .where(
            MessageRecord.record_kind == record_kind,
            MessageRecord.record_id == record_id,
            MessageRecord.change == RecordChange.CREATED,
        )
        .limit(1)
    )
    return (await session.scalars(query)).first()


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


async def latest_reached_at(session: AsyncSession, *, patient_id: int) -> datetime | None:
    """When the patient's latest live reached contact happened (contacts(patient_id, at))."""
    return await session.scalar(
        select(func.max(Contact.occurred_at)).where(
            Contact.patient_id == patient_id,
            Contact.outcome == Outcome.REACHED,
            Contact.undone_at.is_(None),
        )
    )


async def latest_admission(session: AsyncSession, *, patient_id: int) -> HospitalEvent | None:
    """The patient's latest live admission."""
    query = (
        select(HospitalEvent)
        .where(
            HospitalEvent.patient_id == patient_id,
            HospitalEvent.kind == HospitalEventKind.ADMISSION,
            HospitalEvent.undone_at.is_(None),
        )
        .order_by(HospitalEvent.day.desc(), HospitalEvent.id.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def live_episodes(session: AsyncSession, *, patient_id: int) -> list[Episode]:
    """The patient's live discharges, oldest first."""
    query = (
        select(Episode)
        .where(Episode.patient_id == patient_id, Episode.undone_at.is_(None))
        .order_by(Episode.discharged_on, Episode.id)
    )
    return list((await session.scalars(query)).all())


async def scheduled_appointments(
    session: AsyncSession, *, patient_id: int, nurse_id: int, since: datetime
) -> list[Appointment]:
    """Her live scheduled appointments of a patient from `since`, soonest first."""
    query = (
        select(Appointment)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.nurse_id == nurse_id,
            Appointment.status == AppointmentStatus.SCHEDULED,
            Appointment.undone_at.is_(None),
            Appointment.at >= since,
        )
        .order_by(Appointment.at, Appointment.id)
        .limit(50)
    )
    return list((await session.scalars(query)).all())


async def vitals_of_origin(
    session: AsyncSession, *, origin_kind: str, origin_id: int
) -> list[Vital]:
    query = (
        select(Vital)
        .where(Vital.origin_kind == origin_kind, Vital.origin_id == origin_id)
        .order_by(Vital.id)
    )
    return list((await session.scalars(query)).all())


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
    session: AsyncSession, *, patient_id: int, kind: TaskKind | None = None
) -> list[Task]:
    """Open tasks for a patient (of one kind when given), earliest due first."""
    query = select(Task).where(Task.patient_id == patient_id, Task.status == TaskStatus.OPEN)
    if kind is not None:
        query = query.where(Task.kind == kind)
    return list((await session.scalars(query.order_by(Task.due_at, Task.id))).all())


async def cancel_pending_pushes(session: AsyncSession, *, task_ids: Sequence[int]) -> None:
    """Cancel the pending pushes of tasks that closed, were cancelled or moved."""
    if task_ids:
        await session.execute(
            update(Delivery)
            .where(Delivery.task_id.in_(list(task_ids)), Delivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.CANCELLED)
        )


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
    """Her open tasks with a reminder at or after `since`, soonest first (not routine work
    waiting for a patient's discharge)."""
    query = (
        select(Task.id, Task.kind, Task.remind_at, Task.due_at, Patient.display_name)
        .outerjoin(Patient, Patient.id == Task.patient_id)
        .where(
            Task.nurse_id == nurse_id,
            Task.status == TaskStatus.OPEN,
            Task.remind_at.is_not(None),
            Task.remind_at >= since,
            not_paused(),
        )
        .order_by(Task.remind_at)
        .limit(limit)
    )
    return [
        UpcomingReminder(r.id, r.kind.value, r.remind_at, r.due_at, r.display_name)
        for r in (await session.execute(query)).all()
    ]

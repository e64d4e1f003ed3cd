"""Handing a revoked nurse's caseload over: her patients, their open tasks, their pending
pushes and scheduled appointments go to one new owner (a nurse, or the team's supervisor who
holds them as "unassigned"); and the unassigned list a supervisor sees.

Repository functions take the session first and never commit. Must not import telegram,
handlers or bot (except bot.vocab).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocab import AppointmentStatus, DeliveryKind, DeliveryStatus, PatientStatus, TaskStatus
from storage import due
from storage.models import Appointment, Delivery, Nurse, Patient, Task


@dataclass(frozen=True)
class HandedOver:
    patient_ids: tuple[int, ...]
    task_ids: tuple[int, ...]
    deliveries_moved: int
    appointments_moved: int
    digests_cancelled: int


@dataclass(frozen=True)
class UnassignedRow:
    patient_id: int
    name: str
    from_name: str
    since: datetime
    open_tasks: int


async def caseload_size(session: AsyncSession, *, nurse_id: int) -> tuple[int, int]:
    """(her patients not closed, her open tasks): what a revocation must place."""
    patients = await session.scalar(
        select(func.count())
        .select_from(Patient)
        .where(Patient.nurse_id == nurse_id, Patient.status != PatientStatus.CLOSED)
    )
    tasks = await session.scalar(
        select(func.count())
        .select_from(Task)
        .where(Task.nurse_id == nurse_id, Task.status == TaskStatus.OPEN)
    )
    return int(patients or 0), int(tasks or 0)


async def hand_over(
    session: AsyncSession, *, from_nurse: Nurse, to_nurse: Nurse, park: bool, now: datetime
) -> HandedOver:
    """Every patient of `from_nurse` to `to_nurse`, with every open task of hers, the pushes
    still pending for those tasks and the scheduled appointments; `park` marks the active ones
    unassigned (the supervisor holds them). Her pending digests are cancelled: nobody is
    left to read them."""
    patients = list(
        (
            await session.scalars(
                select(Patient).where(Patient.nurse_id == from_nurse.id).order_by(Patient.id)
            )
        ).all()
    )
    patient_ids = [p.id for p in patients]
    for patient in patients:
        patient.nurse_id = to_nurse.id
        patient.team_id = to_nurse.team_id if to_nurse.team_id is not None else patient.team_id
        patient.updated_at = now
        if park and patient.status == PatientStatus.ACTIVE:
            patient.unassigned_since = now
            patient.unassigned_from_id = from_nurse.id
        else:
            patient.unassigned_since = None
            patient.unassigned_from_id = None
    # Every open task of hers, on a patient or not (a task with no patient is work too):
    # nothing is left to remind a nurse who can no longer be reached.
    tasks = list(
        (
            await session.scalars(
                select(Task).where(Task.nurse_id == from_nurse.id, Task.status == TaskStatus.OPEN)
            )
        ).all()
    )
    for task in tasks:
        task.nurse_id = to_nurse.id
        due.note_task(session, task)
    task_ids = [t.id for t in tasks]
    deliveries = 0
    if task_ids:
        moved = await session.execute(
            update(Delivery)
            .where(Delivery.task_id.in_(task_ids), Delivery.status == DeliveryStatus.PENDING)
            .values(nurse_id=to_nurse.id)
        )
        deliveries = int(getattr(moved, "rowcount", 0) or 0)
    appointments = 0
    if patient_ids:
        moved = await session.execute(
            update(Appointment)
            .where(
                Appointment.patient_id.in_(patient_ids),
                Appointment.nurse_id == from_nurse.id,
                Appointment.status == AppointmentStatus.SCHEDULED,
            )
            .values(nurse_id=to_nurse.id)
        )
        appointments = int(getattr(moved, "rowcount", 0) or 0)
    cancelled = await session.execute(
        update(Delivery)
        .where(
            Delivery.nurse_id == from_nurse.id,
            Delivery.kind == DeliveryKind.DIGEST,
            Delivery.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.CANCELLED)
    )
    due.note_nurse(session, to_nurse.id)
    due.note_nurse(session, from_nurse.id)
    await session.flush()
    return HandedOver(
        patient_ids=tuple(patient_ids),
        task_ids=tuple(task_ids),
        deliveries_moved=deliveries,
        appointments_moved=appointments,
        digests_cancelled=int(getattr(cancelled, "rowcount", 0) or 0),
    )


async def unassigned_patients(session: AsyncSession, *, team_id: int) -> list[UnassignedRow]:
    """The team's parked patients, oldest first, with their open tasks."""
    open_tasks = (
        select(func.count())
        .select_from(Task)
        .where(Task.patient_id == Patient.id, Task.status == TaskStatus.OPEN)
        .correlate(Patient)
        .scalar_subquery()
    )
    query = (
        select(Patient.id, Patient.display_name, Nurse.display_name, Patient.unassigned_since)
        .add_columns(open_tasks)
        .join(Nurse, Nurse.id == Patient.unassigned_from_id)
        .where(
            Patient.team_id == team_id,
            Patient.unassigned_since.is_not(None),
            Patient.status == PatientStatus.ACTIVE,
        )
        .order_by(Patient.unassigned_since, Patient.id)
    )
    return [
        UnassignedRow(patient_id=r[0], name=r[1], from_name=r[2], since=r[3], open_tasks=r[4])
        for r in (await session.execute(query)).all()
    ]


def assigned(patient: Patient) -> None:
    """She has an owner again (a supervisor reassigned her)."""
    patient.unassigned_since = None
    patient.unassigned_from_id = None

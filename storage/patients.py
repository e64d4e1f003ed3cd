"""Patients: create, find, change, transfer; a nurse's caseload; what a patient card reads.

Repository functions take the session first and never commit. Must not import telegram,
handlers or bot.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Appointment,
    AppointmentStatus,
    Contact,
    Delivery,
    DeliveryStatus,
    Episode,
    MedicationReconciliation,
    Nurse,
    Outcome,
    Patient,
    PatientStatus,
    Risk,
    Task,
    TaskStatus,
)

_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def initials_of(name: str) -> str:
    parts = [p for p in name.replace("-", " ").split() if p[:1].isalpha()]
    return "".join(p[0].upper() + "." for p in parts[:3]) or "?"


def new_patient_code() -> str:
    """An opaque code such as P-7K3QX for pushes that must not carry names."""
    return "P-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


async def create_patient(
    session: AsyncSession,
    *,
    nurse_id: int,
    team_id: int | None,
    display_name: str,
    now: datetime,
    risk: Risk = Risk.MEDIUM,
    conditions: Sequence[str] = (),
    mrn: str | None = None,
) -> Patient:
    patient = Patient(
        nurse_id=nurse_id,
        team_id=team_id,
        display_name=display_name,
        initials=initials_of(display_name),
        code=new_patient_code(),
        mrn=mrn,
        risk=risk,
        conditions=", ".join(conditions),
        status=PatientStatus.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    session.add(patient)
    await session.flush()
    return patient


async def active_caseload(session: AsyncSession, *, nurse_id: int) -> list[Patient]:
    query = (
        select(Patient)
        .where(Patient.nurse_id == nurse_id, Patient.status == PatientStatus.ACTIVE)
        .order_by(Patient.display_name)
    )
    return list((await session.scalars(query)).all())


async def caseload_names(session: AsyncSession, *, nurse_id: int) -> list[tuple[int, str]]:
    """(id, display name) of a nurse's active patients: what the name matcher indexes."""
    query = (
        select(Patient.id, Patient.display_name)
        .where(Patient.nurse_id == nurse_id, Patient.status == PatientStatus.ACTIVE)
        .order_by(Patient.display_name, Patient.id)
    )
    return [(row.id, row.display_name) for row in (await session.execute(query)).all()]


async def get_patient(
    session: AsyncSession, *, patient_id: int, for_update: bool = False
) -> Patient | None:
    query = select(Patient).where(Patient.id == patient_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def last_reached_contact(session: AsyncSession, *, patient_id: int) -> Contact | None:
    query = (
        select(Contact)
        .where(
            Contact.patient_id == patient_id,
            Contact.outcome == Outcome.REACHED,
            Contact.undone_at.is_(None),
        )
        .order_by(Contact.occurred_at.desc(), Contact.id.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def open_tasks(session: AsyncSession, *, patient_id: int) -> list[Task]:
    query = (
        select(Task)
        .where(Task.patient_id == patient_id, Task.status == TaskStatus.OPEN)
        .order_by(Task.due_at, Task.id)
    )
    return list((await session.scalars(query)).all())


async def next_appointment(
    session: AsyncSession, *, patient_id: int, now: datetime
) -> Appointment | None:
    query = (
        select(Appointment)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.status == AppointmentStatus.SCHEDULED,
            Appointment.undone_at.is_(None),
            Appointment.at >= now,
        )
        .order_by(Appointment.at, Appointment.id)
        .limit(1)
    )
    return await session.scalar(query)


async def recent_contacts(
    session: AsyncSession, *, patient_id: int, until: datetime, limit: int
) -> list[Contact]:
    query = (
        select(Contact)
        .where(
            Contact.patient_id == patient_id,
            Contact.undone_at.is_(None),
            Contact.occurred_at <= until,
        )
        .order_by(Contact.occurred_at.desc(), Contact.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def recent_appointments(
    session: AsyncSession, *, patient_id: int, until: datetime, limit: int
) -> list[Appointment]:
    query = (
        select(Appointment)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.undone_at.is_(None),
            Appointment.at <= until,
        )
        .order_by(Appointment.at.desc(), Appointment.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def recent_episodes(session: AsyncSession, *, patient_id: int, limit: int) -> list[Episode]:
    query = (
        select(Episode)
        .where(Episode.patient_id == patient_id, Episode.undone_at.is_(None))
        .order_by(Episode.discharged_on.desc(), Episode.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def recent_med_recs(
    session: AsyncSession, *, patient_id: int, until: datetime, limit: int
) -> list[MedicationReconciliation]:
    query = (
        select(MedicationReconciliation)
        .where(
            MedicationReconciliation.patient_id == patient_id,
            MedicationReconciliation.undone_at.is_(None),
            MedicationReconciliation.performed_at <= until,
        )
        .order_by(MedicationReconciliation.performed_at.desc(), MedicationReconciliation.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def teammates(session: AsyncSession, *, team_id: int, except_nurse_id: int) -> list[Nurse]:
    """The other active nurses of a team: who a patient may be transferred to."""
    query = (
        select(Nurse)
        .where(
            Nurse.team_id == team_id,
            Nurse.id != except_nurse_id,
            Nurse.active.is_(True),
            Nurse.revoked_at.is_(None),
        )
        .order_by(Nurse.display_name, Nurse.id)
    )
    return list((await session.scalars(query)).all())


async def get_nurse(session: AsyncSession, *, nurse_id: int) -> Nurse | None:
    return await session.get(Nurse, nurse_id)


async def cancel_open_tasks(session: AsyncSession, *, patient_id: int, now: datetime) -> list[int]:
    """Cancel a patient's open tasks (and their pending pushes); return the task ids."""
    ids = [t.id for t in await open_tasks(session, patient_id=patient_id)]
    if not ids:
        return ids
    await session.execute(
        update(Task).where(Task.id.in_(ids)).values(status=TaskStatus.CANCELLED, completed_at=now)
    )
    await session.execute(
        update(Delivery)
        .where(Delivery.task_id.in_(ids), Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED)
    )
    return ids


async def reassign_open_tasks(
    session: AsyncSession, *, patient_id: int, to_nurse_id: int
) -> list[int]:
    """Give a patient's open tasks (and their pending pushes) to another nurse."""
    ids = [t.id for t in await open_tasks(session, patient_id=patient_id)]
    if not ids:
        return ids
    await session.execute(update(Task).where(Task.id.in_(ids)).values(nurse_id=to_nurse_id))
    await session.execute(
        update(Delivery)
        .where(Delivery.task_id.in_(ids), Delivery.status == DeliveryStatus.PENDING)
        .values(nurse_id=to_nurse_id)
    )
    return ids

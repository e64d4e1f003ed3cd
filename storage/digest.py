"""What a nurse's morning digest is made of, read with indexed queries.

Repository functions take the session first and never commit. Must not import telegram,
handlers or bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Appointment,
    AppointmentStatus,
    CareGoal,
    Contact,
    GoalStatus,
    Outcome,
    Patient,
    PatientStatus,
    Risk,
    Task,
    TaskKind,
    TaskStatus,
)

DEADLINE_KINDS = (TaskKind.TCM_CONTACT, TaskKind.TCM_VISIT, TaskKind.MED_REC)
# Listed in sections of their own (deadlines with countdowns; the cadence list).
NOT_IN_TASK_LISTS = (*DEADLINE_KINDS, TaskKind.CADENCE)


@dataclass(frozen=True)
class PatientName:
    id: int
    name: str
    initials: str
    code: str


@dataclass(frozen=True)
class DigestAppointment:
    patient: PatientName
    at: datetime
    with_whom: str


@dataclass(frozen=True)
class DigestTask:
    id: int
    kind: str
    title: str
    due_at: datetime
    patient: PatientName | None
    attempts_documented: bool


@dataclass(frozen=True)
class CadenceGap:
    patient: PatientName
    risk: str
    last_reached_at: datetime | None


@dataclass(frozen=True)
class Completion:
    done_on_time: int
    total: int


def _patient(row: object) -> PatientName | None:
    pid = getattr(row, "patient_id", None)
    if pid is None:
        return None
    return PatientName(
        id=pid,
        name=row.display_name,  # type: ignore[attr-defined]
        initials=row.initials,  # type: ignore[attr-defined]
        code=row.code,  # type: ignore[attr-defined]
    )


async def appointments_between(
    session: AsyncSession, *, nurse_id: int, start: datetime, end: datetime, limit: int = 100
) -> list[DigestAppointment]:
    query = (
        select(
            Appointment.patient_id,
            Appointment.at,
            Appointment.with_whom,
            Patient.display_name,
            Patient.initials,
            Patient.code,
        )
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(
            Appointment.nurse_id == nurse_id,
            Appointment.at >= start,
            Appointment.at < end,
            Appointment.status == AppointmentStatus.SCHEDULED,
            Appointment.undone_at.is_(None),
        )
        .order_by(Appointment.at)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [
        DigestAppointment(patient=_patient(r), at=r.at, with_whom=r.with_whom)  # type: ignore[arg-type]
        for r in rows
    ]


def _task_query(nurse_id: int):  # type: ignore[no-untyped-def]
    return (
        select(
            Task.id,
            Task.kind,
            Task.title,
            Task.due_at,
            Task.patient_id,
            Task.attempts_documented,
            Patient.display_name,
            Patient.initials,
            Patient.code,
        )
        .outerjoin(Patient, Patient.id == Task.patient_id)
        .where(Task.nurse_id == nurse_id, Task.status == TaskStatus.OPEN)
    )


def _tasks(rows: list[object]) -> list[DigestTask]:
    return [
        DigestTask(
            id=r.id,  # type: ignore[attr-defined]
            kind=r.kind.value,  # type: ignore[attr-defined]
            title=r.title,  # type: ignore[attr-defined]
            due_at=r.due_at,  # type: ignore[attr-defined]
            patient=_patient(r),
            attempts_documented=r.attempts_documented,  # type: ignore[attr-defined]
        )
        for r in rows
    ]


async def tasks_due_between(
    session: AsyncSession, *, nurse_id: int, start: datetime, end: datetime, limit: int = 200
) -> list[DigestTask]:
    query = (
        _task_query(nurse_id)
        .where(Task.due_at >= start, Task.due_at < end, Task.kind.not_in(NOT_IN_TASK_LISTS))
        .order_by(Task.due_at)
        .limit(limit)
    )
    return _tasks(list((await session.execute(query)).all()))


async def overdue_tasks(
    session: AsyncSession, *, nurse_id: int, before: datetime, limit: int = 200
) -> list[DigestTask]:
    query = (
        _task_query(nurse_id)
        .where(Task.due_at < before, Task.kind != TaskKind.CADENCE)
        .order_by(Task.due_at)
        .limit(limit)
    )
    return _tasks(list((await session.execute(query)).all()))


async def upcoming_deadlines(
    session: AsyncSession, *, nurse_id: int, start: datetime, until: datetime, limit: int = 100
) -> list[DigestTask]:
    """Open TCM and medication-reconciliation tasks due from `start` until `until`."""
    query = (
        _task_query(nurse_id)
        .where(Task.kind.in_(DEADLINE_KINDS), Task.due_at >= start, Task.due_at < until)
        .order_by(Task.due_at)
        .limit(limit)
    )
    return _tasks(list((await session.execute(query)).all()))


async def past_cadence(
    session: AsyncSession,
    *,
    nurse_id: int,
    now: datetime,
    cadence_days: dict[str, int],
    limit: int = 50,
) -> list[CadenceGap]:
    """Active patients with no reached contact within their risk level's cadence."""
    from datetime import timedelta

    last_reached = (
        select(func.max(Contact.occurred_at))
        .where(
            Contact.patient_id == Patient.id,
            Contact.outcome == Outcome.REACHED,
            Contact.undone_at.is_(None),
        )
        .correlate(Patient)
        .scalar_subquery()
    )
    limits = [
        and_(
            Patient.risk == Risk(risk),
            or_(last_reached.is_(None), last_reached < now - timedelta(days=days)),
        )
        for risk, days in cadence_days.items()
    ]
    order_risk = case((Patient.risk == Risk.HIGH, 0), (Patient.risk == Risk.MEDIUM, 1), else_=2)
    query = (
        select(
            Patient.id.label("patient_id"),
            Patient.display_name,
            Patient.initials,
            Patient.code,
            Patient.risk,
            last_reached.label("last_reached_at"),
        )
        .where(
            Patient.nurse_id == nurse_id,
            Patient.status == PatientStatus.ACTIVE,
            or_(*limits),
        )
        .order_by(order_risk, last_reached.asc().nulls_first())
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [
        CadenceGap(patient=_patient(r), risk=r.risk.value, last_reached_at=r.last_reached_at)  # type: ignore[arg-type]
        for r in rows
    ]


async def completion_between(
    session: AsyncSession, *, nurse_id: int, start: datetime, end: datetime
) -> Completion:
    """Of the tasks due in [start, end), how many were done by their due time."""
    on_time = case(
        (and_(Task.status == TaskStatus.DONE, Task.completed_at <= Task.due_at), 1), else_=0
    )
    row = (
        await session.execute(
            select(func.count(Task.id), func.coalesce(func.sum(on_time), 0)).where(
                Task.nurse_id == nurse_id,
                Task.due_at >= start,
                Task.due_at < end,
                Task.status != TaskStatus.CANCELLED,
            )
        )
    ).one()
    return Completion(done_on_time=int(row[1]), total=int(row[0]))


@dataclass(frozen=True)
class GoalPastTarget:
    patient: PatientName
    text: str
    target_on: date


async def goals_past_target(
    session: AsyncSession, *, nurse_id: int, today: date, limit: int = 100
) -> list[GoalPastTarget]:
    """Active care-plan goals of her active patients whose target date is before ``today``."""
    query = (
        select(
            CareGoal.patient_id,
            CareGoal.text,
            CareGoal.target_on,
            Patient.display_name,
            Patient.initials,
            Patient.code,
        )
        .join(Patient, Patient.id == CareGoal.patient_id)
        .where(
            Patient.nurse_id == nurse_id,
            Patient.status == PatientStatus.ACTIVE,
            CareGoal.status == GoalStatus.ACTIVE,
            CareGoal.target_on.is_not(None),
            CareGoal.target_on < today,
        )
        .order_by(CareGoal.target_on, CareGoal.id)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [
        GoalPastTarget(patient=_patient(r), text=r.text, target_on=r.target_on)  # type: ignore[arg-type]
        for r in rows
    ]

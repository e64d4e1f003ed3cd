"""The morning digest's own reads: patients past their contact cadence, yesterday's completion.

The digest's task and appointment lists are storage.queries' (tasks_due,
appointments_between), its goals past target storage.careplans'. Repository functions take
the session first and never commit. Must not import telegram, handlers or bot.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocab import Outcome, PatientStatus, Risk, TaskStatus
from storage.models import Contact, Episode, Patient, Task
from storage.worklist import is_work, patient_not_in_hospital


@dataclass(frozen=True)
class PatientLabel:
    """A patient as a push may name her: by name, initials or code (the nurse's setting)."""

    id: int
    name: str
    initials: str
    code: str


@dataclass(frozen=True)
class CadenceGap:
    patient: PatientLabel
    risk: str
    last_reached_at: datetime | None


@dataclass(frozen=True)
class Readmission:
    """A discharge flagged a readmission (within 30 days of an earlier discharge)."""

    patient: PatientLabel
    episode_id: int
    discharged_on: date
    facility: str


@dataclass(frozen=True)
class Completion:
    done_on_time: int
    total: int


def _past_cadence_query(
    now: datetime, cadence_days: Mapping[str, int]
) -> tuple[Select[*tuple[Any, ...]], ColumnElement[Any], ColumnElement[Any]]:
    """Active patients with no reached contact within their risk level's cadence (not while
    in hospital), and the two sort keys (risk, then longest without a reached contact)."""
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
    query = select(
        Patient.id,
        Patient.nurse_id,
        Patient.display_name,
        Patient.initials,
        Patient.code,
        Patient.risk,
        last_reached.label("last_reached_at"),
    ).where(
        Patient.status == PatientStatus.ACTIVE,
        patient_not_in_hospital(),  # in hospital: her check-ins wait for the discharge
        or_(*limits),
    )
    return query, order_risk, last_reached


def _gap(r: Any) -> CadenceGap:
    return CadenceGap(
        patient=PatientLabel(id=r.id, name=r.display_name, initials=r.initials, code=r.code),
        risk=r.risk.value,
        last_reached_at=r.last_reached_at,
    )


async def past_cadence(
    session: AsyncSession,
    *,
    nurse_id: int,
    now: datetime,
    cadence_days: Mapping[str, int],
    limit: int = 50,
) -> list[CadenceGap]:
    """Her active patients with no reached contact within their risk level's cadence."""
    query, order_risk, last_reached = _past_cadence_query(now, cadence_days)
    query = (
        query.where(Patient.nurse_id == nurse_id)
        .order_by(order_risk, last_reached.asc().nulls_first())
        .limit(limit)
    )
    return [_gap(r) for r in (await session.execute(query)).all()]


async def past_cadence_of(
    session: AsyncSession,
    *,
    nurse_ids: Collection[int],
    now: datetime,
    cadence_days: Mapping[str, int],
    limit_each: int = 50,
) -> dict[int, list[CadenceGap]]:
    """past_cadence for several nurses in one statement: up to `limit_each` each, in the
    same order."""
    if not nurse_ids:
        return {}
    query, order_risk, last_reached = _past_cadence_query(now, cadence_days)
    inner = (
        query.add_columns(order_risk.label("risk_order"))
        .where(Patient.nurse_id.in_(sorted(nurse_ids)))
        .subquery()
    )
    rank = (
        func.row_number()
        .over(
            partition_by=inner.c.nurse_id,
            order_by=(inner.c.risk_order, inner.c.last_reached_at.asc().nulls_first()),
        )
        .label("rank")
    )
    ranked = select(inner, rank).subquery()
    rows = (
        await session.execute(
            select(ranked)
            .where(ranked.c.rank <= limit_each)
            .order_by(ranked.c.nurse_id, ranked.c.rank)
        )
    ).all()
    gaps: dict[int, list[CadenceGap]] = {n: [] for n in nurse_ids}
    for r in rows:
        gaps[r.nurse_id].append(_gap(r))
    return gaps


async def completion_between(
    session: AsyncSession,
    *,
    nurse_id: int,
    start: datetime,
    end: datetime,
    created_before: datetime | None = None,
) -> Completion:
    """Of her tasks due in [start, end) (that existed before `created_before`, when given),
    how many were done by their due time. Cancelled ones and pushes do not count."""
    on_time = case(
        (and_(Task.status == TaskStatus.DONE, Task.completed_at <= Task.due_at), 1), else_=0
    )
    conditions = [
        Task.nurse_id == nurse_id,
        Task.due_at >= start,
        Task.due_at < end,
        Task.status != TaskStatus.CANCELLED,
        is_work(),  # reminders and attendance checks are pushes, not her work
    ]
    if created_before is not None:
        conditions.append(Task.created_at < created_before)
    row = (
        await session.execute(
            select(func.count(Task.id), func.coalesce(func.sum(on_time), 0)).where(*conditions)
        )
    ).one()
    return Completion(done_on_time=int(row[1]), total=int(row[0]))


async def readmissions_since(
    session: AsyncSession, *, nurse_id: int, since: date, limit: int = 20
) -> list[Readmission]:
    """Her live discharges flagged as readmissions, discharged on or after `since`, newest
    first: for the digest and the supervisor."""
    query = (
        select(
            Episode.id,
            Episode.discharged_on,
            Episode.facility,
            Patient.id.label("patient_id"),
            Patient.display_name,
            Patient.initials,
            Patient.code,
        )
        .join(Patient, Patient.id == Episode.patient_id)
        .where(
            Episode.nurse_id == nurse_id,
            Episode.readmission.is_(True),
            Episode.undone_at.is_(None),
            Episode.discharged_on >= since,
        )
        .order_by(Episode.discharged_on.desc(), Episode.id.desc())
        .limit(limit)
    )
    return [
        Readmission(
            patient=PatientLabel(r.patient_id, r.display_name, r.initials, r.code),
            episode_id=r.id,
            discharged_on=r.discharged_on,
            facility=r.facility,
        )
        for r in (await session.execute(query)).all()
    ]

"""Caseload questions answered with indexed SQL: one page at a time, never a whole caseload.

Owns the read queries behind /caseload, /today, /overdue, /week, "when did I last reach ...",
"who haven't I called in N days", risk filters, the supervisor's team summary, the numbers
/stats plots, the rows an export streams and the morning digest's task and appointment lists.
Ordering, filtering, counting and paging happen in the database, on the indexes listed in
docs/benchmarks.md. Repository functions take the session first, keyword-only arguments after,
and never commit. Must not import telegram, handlers or bot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Select, and_, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocab import (
    AppointmentStatus,
    Complexity,
    Outcome,
    PatientStatus,
    Risk,
    TaskKind,
    TaskResolution,
    TaskStatus,
)
from storage.models import (
    Appointment,
    Contact,
    Episode,
    MedicationReconciliation,
    Nurse,
    Patient,
    Task,
)
from storage.types import UTCDateTime
from storage.worklist import is_work, on_worklist

T = TypeVar("T")

TCM_KINDS = (TaskKind.TCM_CONTACT, TaskKind.TCM_VISIT, TaskKind.MED_REC)
LAPSED = (TaskResolution.LATE, TaskResolution.ATTEMPTS_DOCUMENTED, TaskResolution.NOT_MET)
"""How a TCM deadline closed when it was not met in its window."""


@dataclass(frozen=True)
class CaseloadRow:
    """One patient of a caseload page, with what makes the case urgent."""

    patient_id: int
    name: str
    initials: str
    risk: str
    last_reached_at: datetime | None
    overdue_tasks: int
    open_tasks: int
    next_due_at: datetime | None
    tcm_due_at: datetime | None


@dataclass(frozen=True)
class TaskRow:
    """An open task; the patient's initials and code are what a push shows under privacy."""

    id: int
    kind: TaskKind
    title: str
    due_at: datetime
    urgent: bool
    attempts_documented: bool
    patient_id: int | None
    patient_name: str | None
    patient_initials: str | None
    patient_code: str | None


@dataclass(frozen=True)
class AppointmentRow:
    id: int
    at: datetime
    has_time: bool
    with_whom: str
    location: str
    patient_id: int
    patient_name: str
    patient_initials: str
    patient_code: str


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list, and how long the whole list is."""

    rows: tuple[T, ...]
    total: int
    offset: int


@dataclass(frozen=True)
class PatientName:
    id: int
    name: str
    nurse_id: int
    team_id: int | None
    status: str


@dataclass(frozen=True)
class LastContact:
    occurred_at: datetime
    channel: str
    outcome: str
    with_whom: str


@dataclass(frozen=True)
class TeamRow:
    """One nurse of a team and the load she carries."""

    nurse_id: int
    name: str
    role: str
    caseload: int
    overdue_tasks: int
    tcm_at_risk: int
    tcm_lapsed: int = 0  # TCM deadlines closed late or not met since `lapsed_since`
    readmissions: int = 0  # her patients' discharges flagged readmissions since then


@dataclass(frozen=True)
class ContactExportRow:
    contact_id: int
    patient_id: int
    patient_name: str
    mrn: str | None
    occurred_at: datetime
    channel: str
    outcome: str
    with_whom: str
    note: str


@dataclass(frozen=True)
class EpisodeOutcome:
    """A discharge, its first reached contact after it and its first med rec after it."""

    episode_id: int
    discharged_on: date
    complexity: Complexity | None
    first_reached_at: datetime | None
    first_med_rec_at: datetime | None


async def _count(session: AsyncSession, query: Select[*tuple[Any, ...]]) -> int:
    return int(await session.scalar(query) or 0)


def _pageable(query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """The query with the whole list's length on every row (COUNT(*) OVER ()) and bound
    OFFSET/LIMIT, so one statement, built once, serves every page."""
    return (
        query.add_columns(func.count().over().label("_total"))
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )


async def _paged(
    session: AsyncSession,
    query: Select[*tuple[Any, ...]],
    count: Select[*tuple[Any, ...]],
    params: dict[str, Any],
) -> tuple[list[Any], int]:
    """One page and the list's length in one round trip; the separate count runs only when
    a page past the first is empty."""
    rows = list((await session.execute(query, params)).all())
    if rows:
        return rows, int(rows[0]._total)
    if not params["offset"]:
        return rows, 0
    return rows, int(await session.scalar(count, params) or 0)


# -- a caseload, ordered by need ---------------------------------------------------------------


@cache
def _caseload_statements(
    with_risk: bool,
) -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]:
    """The caseload page and count statements, built once (bound parameters: nurse_id, now,
    risk, offset, limit): building them per call cost more than running them."""
    nurse_id = bindparam("nurse_id", type_=Integer)
    tasks = (
        select(
            Task.patient_id.label("pid"),
            func.sum(case((Task.due_at < bindparam("now", type_=UTCDateTime()), 1), else_=0)).label(
                "overdue"
            ),
            func.count().label("open"),
            func.min(Task.due_at).label("next_due"),
            func.min(case((Task.kind.in_(TCM_KINDS), Task.due_at))).label("tcm_due"),
        )
        .where(
            Task.nurse_id == nurse_id,
            Task.status == TaskStatus.OPEN,
            Task.patient_id.is_not(None),
            on_worklist(),
        )
        .group_by(Task.patient_id)
        .subquery()
    )
    overdue = func.coalesce(tasks.c.overdue, 0)
    where = [Patient.nurse_id == nurse_id, Patient.status == PatientStatus.ACTIVE]
    if with_risk:
        where.append(Patient.risk == bindparam("risk", type_=Patient.__table__.c.risk.type))
    query = (
        select(
            Patient.id,
            Patient.display_name,
            Patient.initials,
            Patient.risk,
            Patient.last_reached_at,
            overdue.label("overdue"),
            func.coalesce(tasks.c.open, 0).label("open"),
            tasks.c.next_due,
            tasks.c.tcm_due,
        )
        .outerjoin(tasks, tasks.c.pid == Patient.id)
        .where(*where)
        .order_by(
            overdue.desc(),
            tasks.c.tcm_due.asc().nulls_last(),
            case((Patient.risk == Risk.HIGH, 0), (Patient.risk == Risk.MEDIUM, 1), else_=2),
            Patient.last_reached_at.asc().nulls_first(),
            Patient.display_name,
            Patient.id,
        )
    )
    return _pageable(query), select(func.count()).select_from(Patient).where(*where)


async def caseload_page(
    session: AsyncSession,
    *,
    nurse_id: int,
    now: datetime,
    offset: int,
    limit: int,
    risk: Risk | None = None,
) -> Page[CaseloadRow]:
    """Her active patients by need: overdue tasks, nearest TCM deadline, risk, longest unreached.

    The open-task aggregate reads tasks(nurse_id, status, due_at); patients come from
    patients(nurse_id, status). Only `limit` rows leave the database.
    """
    query, count = _caseload_statements(risk is not None)
    params: dict[str, Any] = {
        "nurse_id": nurse_id,
        "now": now,
        "offset": offset,
        "limit": limit,
        "risk": risk,
    }
    rows, total = await _paged(session, query, count, params)
    return Page(
        rows=tuple(
            CaseloadRow(
                patient_id=r.id,
                name=r.display_name,
                initials=r.initials,
                risk=Risk(r.risk).value,
                last_reached_at=r.last_reached_at,
                overdue_tasks=int(r.overdue or 0),
                open_tasks=int(r.open or 0),
                next_due_at=r.next_due,
                tcm_due_at=r.tcm_due,
            )
            for r in rows
        ),
        total=total,
        offset=offset,
    )


async def not_reached_since(
    session: AsyncSession, *, nurse_id: int, since: datetime, offset: int, limit: int
) -> Page[CaseloadRow]:
    """Her active patients with no reached contact since `since`, longest gap first."""
    where = [
        Patient.nurse_id == nurse_id,
        Patient.status == PatientStatus.ACTIVE,
        or_(Patient.last_reached_at.is_(None), Patient.last_reached_at < since),
    ]
    query = (
        select(
            Patient.id,
            Patient.display_name,
            Patient.initials,
            Patient.risk,
            Patient.last_reached_at,
        )
        .where(*where)
        .order_by(
            Patient.last_reached_at.asc().nulls_first(),
            case((Patient.risk == Risk.HIGH, 0), (Patient.risk == Risk.MEDIUM, 1), else_=2),
            Patient.display_name,
            Patient.id,
        )
    )
    rows, total = await _paged(
        session,
        _pageable(query),
        select(func.count()).select_from(Patient).where(*where),
        {"offset": offset, "limit": limit},
    )
    return Page(
        rows=tuple(
            CaseloadRow(
                patient_id=r.id,
                name=r.display_name,
                initials=r.initials,
                risk=Risk(r.risk).value,
                last_reached_at=r.last_reached_at,
                overdue_tasks=0,
                open_tasks=0,
                next_due_at=None,
                tcm_due_at=None,
            )
            for r in rows
        ),
        total=total,
        offset=offset,
    )


# -- tasks and appointments in a window ---------------------------------------------------------


@cache
def _task_statements(
    with_start: bool, with_kinds: bool, with_except: bool
) -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]:
    """Her open tasks due before `end` (and from `start`; of `kinds`; not of `except_kinds`),
    oldest first, built once."""
    kind = Task.__table__.c.kind.type
    conditions = [
        Task.nurse_id == bindparam("nurse_id", type_=Integer),
        Task.status == TaskStatus.OPEN,
        Task.due_at < bindparam("end", type_=UTCDateTime()),
        on_worklist(),  # her work only: no appointment pushes, no paused routine work
    ]
    if with_start:
        conditions.append(Task.due_at >= bindparam("start", type_=UTCDateTime()))
    if with_kinds:
        conditions.append(Task.kind.in_(bindparam("kinds", type_=kind, expanding=True)))
    if with_except:
        conditions.append(Task.kind.not_in(bindparam("except_kinds", type_=kind, expanding=True)))
    query = (
        select(
            Task.id,
            Task.kind,
            Task.title,
            Task.due_at,
            Task.urgent,
            Task.attempts_documented,
            Task.patient_id,
            Patient.display_name,
            Patient.initials,
            Patient.code,
        )
        .outerjoin(Patient, Patient.id == Task.patient_id)
        .where(*conditions)
        .order_by(Task.due_at, Task.id)
    )
    return _pageable(query), select(func.count()).select_from(Task).where(*conditions)


def _task_row(r: object) -> TaskRow:
    return TaskRow(
        id=r.id,  # type: ignore[attr-defined]
        kind=TaskKind(r.kind),  # type: ignore[attr-defined]
        title=r.title or "",  # type: ignore[attr-defined]
        due_at=r.due_at,  # type: ignore[attr-defined]
        urgent=bool(r.urgent),  # type: ignore[attr-defined]
        attempts_documented=bool(r.attempts_documented),  # type: ignore[attr-defined]
        patient_id=r.patient_id,  # type: ignore[attr-defined]
        patient_name=r.display_name,  # type: ignore[attr-defined]
        patient_initials=r.initials,  # type: ignore[attr-defined]
        patient_code=r.code,  # type: ignore[attr-defined]
    )


async def tasks_due(
    session: AsyncSession,
    *,
    nurse_id: int,
    start: datetime | None,
    end: datetime,
    offset: int,
    limit: int,
    kinds: Collection[TaskKind] | None = None,
    except_kinds: Collection[TaskKind] = (),
) -> Page[TaskRow]:
    """Her open tasks due in [start, end) (before `end` when start is None), oldest first,
    only of `kinds` when given and never of `except_kinds`: tasks(nurse_id, status, due_at)."""
    query, count = _task_statements(start is not None, kinds is not None, bool(except_kinds))
    params = {
        "nurse_id": nurse_id,
        "start": start,
        "end": end,
        "kinds": list(kinds or ()),
        "except_kinds": list(except_kinds),
        "offset": offset,
        "limit": limit,
    }
    rows, total = await _paged(session, query, count, params)
    return Page(rows=tuple(_task_row(r) for r in rows), total=total, offset=offset)


@cache
def _appointment_statements() -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]:
    conditions = [
        Appointment.nurse_id == bindparam("nurse_id", type_=Integer),
        Appointment.at >= bindparam("start", type_=UTCDateTime()),
        Appointment.at < bindparam("end", type_=UTCDateTime()),
        Appointment.status == AppointmentStatus.SCHEDULED,
        Appointment.undone_at.is_(None),
    ]
    query = (
        select(
            Appointment.id,
            Appointment.at,
            Appointment.has_time,
            Appointment.with_whom,
            Appointment.location,
            Appointment.patient_id,
            Patient.display_name,
            Patient.initials,
            Patient.code,
        )
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(*conditions)
        .order_by(Appointment.at, Appointment.id)
    )
    return _pageable(query), select(func.count()).select_from(Appointment).where(*conditions)


async def appointments_between(
    session: AsyncSession,
    *,
    nurse_id: int,
    start: datetime,
    end: datetime,
    offset: int,
    limit: int,
) -> Page[AppointmentRow]:
    """Her scheduled appointments in [start, end), soonest first (appointments(nurse_id, at))."""
    query, count = _appointment_statements()
    params = {"nurse_id": nurse_id, "start": start, "end": end, "offset": offset, "limit": limit}
    rows, total = await _paged(session, query, count, params)
    return Page(
        rows=tuple(
            AppointmentRow(
                id=r.id,
                at=r.at,
                has_time=bool(r.has_time),
                with_whom=r.with_whom or "",
                location=r.location or "",
                patient_id=r.patient_id,
                patient_name=r.display_name,
                patient_initials=r.initials,
                patient_code=r.code,
            )
            for r in rows
        ),
        total=total,
        offset=offset,
    )


# -- one patient -------------------------------------------------------------------------------


async def patient_name(session: AsyncSession, *, patient_id: int) -> PatientName | None:
    row = (
        await session.execute(
            select(
                Patient.id,
                Patient.display_name,
                Patient.nurse_id,
                Patient.team_id,
                Patient.status,
            ).where(Patient.id == patient_id)
        )
    ).first()
    if row is None:
        return None
    return PatientName(
        id=row.id,
        name=row.display_name,
        nurse_id=row.nurse_id,
        team_id=row.team_id,
        status=PatientStatus(row.status).value,
    )


async def last_contact(
    session: AsyncSession, *, patient_id: int, reached: bool
) -> LastContact | None:
    """The latest contact (reached, or any when `reached` is False): contacts(patient_id, at)."""
    conditions = [Contact.patient_id == patient_id, Contact.undone_at.is_(None)]
    if reached:
        conditions.append(Contact.outcome == Outcome.REACHED)
    row = (
        await session.execute(
            select(Contact.occurred_at, Contact.channel, Contact.outcome, Contact.with_whom)
            .where(*conditions)
            .order_by(Contact.occurred_at.desc(), Contact.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return LastContact(
        occurred_at=row.occurred_at,
        channel=row.channel.value,
        outcome=row.outcome.value,
        with_whom=row.with_whom.value,
    )


# -- a team ------------------------------------------------------------------------------------


async def team_summary(
    session: AsyncSession,
    *,
    team_id: int,
    now: datetime,
    at_risk_until: datetime,
    lapsed_since: datetime | None = None,
) -> list[TeamRow]:
    """Each active nurse of a team: caseload size, overdue tasks, TCM deadlines at risk, and
    since `lapsed_since` (default 30 days) the TCM deadlines that lapsed (closed late, or
    marked done unmet: off her to-do list, still counted here) and the readmissions.

    A TCM deadline is at risk when its open task is overdue or due before `at_risk_until`.
    """
    since = lapsed_since or now - timedelta(days=30)
    lapsed = (
        select(func.count())
        .select_from(Task)
        .where(
            Task.nurse_id == Nurse.id,
            Task.resolution.in_(LAPSED),
            Task.completed_at >= since,
            Task.kind.in_(TCM_KINDS),
        )
        .correlate(Nurse)
        .scalar_subquery()
    )
    readmitted = (
        select(func.count())
        .select_from(Episode)
        .where(
            Episode.nurse_id == Nurse.id,
            Episode.readmission.is_(True),
            Episode.undone_at.is_(None),
            Episode.created_at >= since,
        )
        .correlate(Nurse)
        .scalar_subquery()
    )
    caseload = (
        select(func.count())
        .select_from(Patient)
        .where(Patient.nurse_id == Nurse.id, Patient.status == PatientStatus.ACTIVE)
        .correlate(Nurse)
        .scalar_subquery()
    )
    overdue = (
        select(func.count())
        .select_from(Task)
        .where(
            Task.nurse_id == Nurse.id,
            Task.status == TaskStatus.OPEN,
            Task.due_at < now,
            on_worklist(),
        )
        .correlate(Nurse)
        .scalar_subquery()
    )
    at_risk = (
        select(func.count())
        .select_from(Task)
        .where(
            Task.nurse_id == Nurse.id,
            Task.status == TaskStatus.OPEN,
            Task.due_at < at_risk_until,
            Task.kind.in_(TCM_KINDS),
        )
        .correlate(Nurse)
        .scalar_subquery()
    )
    query = (
        select(
            Nurse.id,
            Nurse.display_name,
            Nurse.role,
            caseload.label("caseload"),
            overdue.label("overdue"),
            at_risk.label("at_risk"),
            lapsed.label("lapsed"),
            readmitted.label("readmitted"),
        )
        .where(Nurse.team_id == team_id, Nurse.active.is_(True), Nurse.revoked_at.is_(None))
        .order_by(Nurse.display_name, Nurse.id)
        .limit(200)
    )
    return [
        TeamRow(
            nurse_id=r.id,
            name=r.display_name,
            role=r.role.value,
            caseload=int(r.caseload or 0),
            overdue_tasks=int(r.overdue or 0),
            tcm_at_risk=int(r.at_risk or 0),
            tcm_lapsed=int(r.lapsed or 0),
            readmissions=int(r.readmitted or 0),
        )
        for r in (await session.execute(query)).all()
    ]


async def nurse_brief(session: AsyncSession, *, nurse_id: int) -> Nurse | None:
    return await session.get(Nurse, nurse_id)


# -- numbers for /stats --------------------------------------------------------------------------


async def contact_times(
    session: AsyncSession, *, nurse_id: int, start: datetime, end: datetime
) -> list[datetime]:
    """When her contacts in [start, end) happened (contacts(nurse_id, occurred_at))."""
    query = (
        select(Contact.occurred_at)
        .where(
            Contact.nurse_id == nurse_id,
            Contact.occurred_at >= start,
            Contact.occurred_at < end,
            Contact.undone_at.is_(None),
        )
        .order_by(Contact.occurred_at)
        .limit(50_000)
    )
    return list((await session.scalars(query)).all())


async def tasks_done_on_time(
    session: AsyncSession, *, nurse_id: int, start: datetime, end: datetime
) -> tuple[int, int]:
    """(on time, late) among her tasks (her work, not pushes) completed in [start, end)."""
    on_time = func.sum(case((Task.completed_at <= Task.due_at, 1), else_=0))
    late = func.sum(case((Task.completed_at > Task.due_at, 1), else_=0))
    row = (
        await session.execute(
            select(on_time, late).where(
                Task.nurse_id == nurse_id,
                Task.status == TaskStatus.DONE,
                Task.completed_at >= start,
                Task.completed_at < end,
                is_work(),  # an answered attendance check is not a task done
            )
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def tcm_resolutions(
    session: AsyncSession, *, nurse_id: int, since: datetime
) -> dict[TaskResolution, int]:
    """How her TCM deadlines closed since `since`: met, late, attempts documented, not met
    (tasks(nurse_id, resolution, completed_at))."""
    query = (
        select(Task.resolution, func.count())
        .where(
            Task.nurse_id == nurse_id,
            Task.resolution.is_not(None),
            Task.completed_at >= since,
            Task.kind.in_(TCM_KINDS),
        )
        .group_by(Task.resolution)
    )
    counts = dict.fromkeys(TaskResolution, 0)
    for resolution, count in (await session.execute(query)).all():
        if resolution is not None:
            counts[TaskResolution(resolution)] = int(count)
    return counts


async def caseload_by_risk(session: AsyncSession, *, nurse_id: int) -> dict[str, int]:
    query = (
        select(Patient.risk, func.count())
        .where(Patient.nurse_id == nurse_id, Patient.status == PatientStatus.ACTIVE)
        .group_by(Patient.risk)
    )
    counts = {risk.value: 0 for risk in Risk}
    for risk, count in (await session.execute(query)).all():
        counts[Risk(risk).value] = int(count)
    return counts


async def episode_outcomes(
    session: AsyncSession, *, nurse_id: int, discharged_from: date, interactive: tuple[str, ...]
) -> list[EpisodeOutcome]:
    """Her discharges since `discharged_from`, each with the first reached interactive contact
    (patient or caregiver) and the first medication reconciliation on or after the discharge.

    The dates compare as UTC instants at the discharge date's UTC midnight minus a day, so a
    contact late on the discharge day in any zone is seen; the care rules decide compliance.
    """
    query = (
        select(Episode.id, Episode.patient_id, Episode.discharged_on, Episode.complexity)
        .join(Patient, Patient.id == Episode.patient_id)
        .where(
            Episode.nurse_id == nurse_id,
            Episode.undone_at.is_(None),
            Episode.discharged_on >= discharged_from,
        )
        .order_by(Episode.discharged_on, Episode.id)
        .limit(5_000)
    )
    episodes = (await session.execute(query)).all()
    outcomes: list[EpisodeOutcome] = []
    for ep in episodes:
        after = datetime(
            ep.discharged_on.year,
            ep.discharged_on.month,
            ep.discharged_on.day,
            tzinfo=UTC,
        ) - timedelta(days=1)
        reached = await session.scalar(
            select(func.min(Contact.occurred_at)).where(
                Contact.patient_id == ep.patient_id,
                Contact.outcome == Outcome.REACHED,
                Contact.undone_at.is_(None),
                Contact.channel.in_(interactive),
                Contact.with_whom.in_(("patient", "caregiver")),
                Contact.occurred_at >= after,
            )
        )
        med_rec = await session.scalar(
            select(func.min(MedicationReconciliation.performed_at)).where(
                MedicationReconciliation.patient_id == ep.patient_id,
                MedicationReconciliation.undone_at.is_(None),
                MedicationReconciliation.performed_at >= after,
            )
        )
        outcomes.append(
            EpisodeOutcome(
                episode_id=ep.id,
                discharged_on=ep.discharged_on,
                complexity=ep.complexity,
                first_reached_at=reached,
                first_med_rec_at=med_rec,
            )
        )
    return outcomes


# -- exports -----------------------------------------------------------------------------------


async def iter_contact_log(
    session: AsyncSession,
    *,
    nurse_id: int | None = None,
    patient_id: int | None = None,
    batch: int = 2_000,
) -> AsyncIterator[ContactExportRow]:
    """Contacts of a patient, or of a nurse's caseload, oldest first, in keyset batches."""
    last: tuple[datetime, int] | None = None
    while True:
        query = (
            select(
                Contact.id,
                Contact.patient_id,
                Patient.display_name,
                Patient.mrn,
                Contact.occurred_at,
                Contact.channel,
                Contact.outcome,
                Contact.with_whom,
                Contact.note,
            )
            .join(Patient, Patient.id == Contact.patient_id)
            .where(Contact.undone_at.is_(None))
        )
        if patient_id is not None:
            query = query.where(Contact.patient_id == patient_id)
        if nurse_id is not None:
            query = query.where(Patient.nurse_id == nurse_id)
        if last is not None:
            query = query.where(
                or_(
                    Contact.occurred_at > last[0],
                    and_(Contact.occurred_at == last[0], Contact.id > last[1]),
                )
            )
        rows = (
            await session.execute(query.order_by(Contact.occurred_at, Contact.id).limit(batch))
        ).all()
        if not rows:
            return
        for r in rows:
            yield ContactExportRow(
                contact_id=r.id,
                patient_id=r.patient_id,
                patient_name=r.display_name,
                mrn=r.mrn,
                occurred_at=r.occurred_at,
                channel=r.channel.value,
                outcome=r.outcome.value,
                with_whom=r.with_whom.value,
                note=r.note or "",
            )
        last = (rows[-1].occurred_at, rows[-1].id)

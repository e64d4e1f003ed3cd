"""Caseload question use cases: one transaction each, audited as reads.

/caseload, "not reached in N days", risk filters, "when did I last reach ...", the
supervisor's team view and reassignment, and the numbers behind /stats (the task lists are
bot.services.lists'). Each reads one page through storage.queries and writes one audit event
("caseload.viewed", ...) in the same transaction; a reassignment writes the prior owner.
Ownership is checked here, against the nurse asking, so a forged button reaches nothing.
Must not import telegram or handlers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import care
from bot.care import start_of_local_day
from bot.config import Config
from bot.services import charts
from bot.services.nurse import NurseView
from bot.vocab import PatientStatus, Refusal, Risk, TaskResolution
from storage import handover
from storage import patients as patient_repo
from storage import queries as repo
from storage.audit import record_audit
from storage.db import Database
from storage.models import Nurse, Team

CASELOAD_PAGE = 6
"""Patients a page: one button each and [Prev] [Next] make at most 8 buttons."""
TCM_AT_RISK_HOURS = 24
INTERACTIVE_CHANNELS = ("phone", "visit", "clinic", "video", "text", "email")


@dataclass(frozen=True)
class LastContactView:
    name: str
    reached: repo.LastContact | None
    attempt: repo.LastContact | None


@dataclass(frozen=True)
class TeamView:
    team_name: str
    rows: tuple[repo.TeamRow, ...]
    # Patients parked by `casebot revoke --park`, waiting for an owner (the supervisor holds them).
    unassigned: tuple[handover.UnassignedRow, ...] = ()


@dataclass(frozen=True)
class NurseCaseload:
    nurse_id: int
    nurse_name: str
    page: repo.Page[repo.CaseloadRow]


@dataclass(frozen=True)
class MoveOptions:
    patient_id: int
    patient_name: str
    from_name: str
    teammates: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class Reassigned:
    patient_id: int
    name: str
    initials: str
    code: str
    from_nurse_id: int
    from_name: str
    from_chat_id: int | None
    from_privacy: str
    to_nurse_id: int
    to_name: str
    to_chat_id: int | None
    to_privacy: str
    tasks_moved: int


@dataclass(frozen=True)
class Stats:
    numbers: charts.ChartNumbers
    tcm: dict[int, tuple[int, int]]
    mrp: dict[int, tuple[int, int]]
    # How her TCM deadlines closed in the last 30 days: lapses stay counted here.
    tcm_closed: dict[TaskResolution, int] = field(default_factory=dict)


async def _audit(
    session: AsyncSession,
    nurse: NurseView,
    *,
    now: datetime,
    action: str,
    command: str,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    await record_audit(
        session,
        at=now,
        action=action,
        actor_nurse_id=nurse.id,
        actor_telegram_id=nurse.telegram_user_id,
        command=command,
        patient_id=patient_id,
        entity="patient" if patient_id is not None else "nurse",
        entity_id=patient_id if patient_id is not None else nurse.id,
        detail=detail,
    )


def _page(page: int) -> int:
    return max(0, min(page, 10_000))


# -- her own caseload ---------------------------------------------------------------------------


async def caseload(
    db: Database,
    nurse: NurseView,
    *,
    now: datetime,
    page: int = 0,
    risk: Risk | None = None,
    command: str = "caseload",
) -> repo.Page[repo.CaseloadRow]:
    """A page of her active patients, most urgent first (optionally one risk level)."""
    page = _page(page)
    async with db.uow() as session:
        result = await repo.caseload_page(
            session,
            nurse_id=nurse.id,
            now=now,
            offset=page * CASELOAD_PAGE,
            limit=CASELOAD_PAGE,
            risk=risk,
        )
        await _audit(
            session,
            nurse,
            now=now,
            action="caseload.viewed",
            command=command,
            detail={
                "page": page,
                "risk": risk.value if risk else None,
                "patient_ids": [r.patient_id for r in result.rows],
            },
        )
    return result


async def not_reached(
    db: Database, nurse: NurseView, *, now: datetime, days: int, page: int = 0
) -> repo.Page[repo.CaseloadRow]:
    """Her active patients not reached in `days` days, longest gap first."""
    page = _page(page)
    days = max(1, min(days, 3650))
    async with db.uow() as session:
        result = await repo.not_reached_since(
            session,
            nurse_id=nurse.id,
            since=now - timedelta(days=days),
            offset=page * CASELOAD_PAGE,
            limit=CASELOAD_PAGE,
        )
        await _audit(
            session,
            nurse,
            now=now,
            action="not_contacted.viewed",
            command="query",
            detail={"days": days, "page": page, "patient_ids": [r.patient_id for r in result.rows]},
        )
    return result


async def last_contact(
    db: Database, nurse: NurseView, patient_id: int, *, now: datetime
) -> LastContactView | Refusal:
    """When she last reached her patient (and the latest attempt after that)."""
    async with db.uow() as session:
        patient = await repo.patient_name(session, patient_id=patient_id)
        if patient is None or patient.nurse_id != nurse.id:
            if patient is not None:
                await _audit(
                    session,
                    nurse,
                    now=now,
                    action="patient.access_refused",
                    command="last_contact",
                    patient_id=patient.id,
                    detail={"reason": "not_owner"},
                )
            return Refusal.NOT_FOUND
        reached = await repo.last_contact(session, patient_id=patient.id, reached=True)
        latest = await repo.last_contact(session, patient_id=patient.id, reached=False)
        attempt = latest if latest is not None and latest.outcome != "reached" else None
        await _audit(
            session,
            nurse,
            now=now,
            action="patient.last_contact_viewed",
            command="last_contact",
            patient_id=patient.id,
        )
    return LastContactView(name=patient.name, reached=reached, attempt=attempt)


async def may_open(db: Database, nurse: NurseView, patient_id: int) -> str:
    """'own' for her patient, 'team' for a patient of her team (supervisors), else 'no'."""
    async with db.uow(read_only=True) as session:
        patient = await repo.patient_name(session, patient_id=patient_id)
    if patient is None:
        return "no"
    if patient.nurse_id == nurse.id:
        return "own"
    if nurse.is_supervisor and (nurse.is_admin or patient.team_id == nurse.team_id):
        return "team"
    return "no"


# -- a team -------------------------------------------------------------------------------------


async def _team_nurse(session: AsyncSession, supervisor: NurseView, nurse_id: int) -> Nurse | None:
    target = await repo.nurse_brief(session, nurse_id=nurse_id)
    if target is None or not target.active or target.revoked_at is not None:
        return None
    if supervisor.is_admin or (
        supervisor.team_id is not None and target.team_id == supervisor.team_id
    ):
        return target
    return None


async def team(db: Database, supervisor: NurseView, *, now: datetime) -> TeamView | Refusal:
    """Each nurse of her team: caseload size, overdue tasks, TCM deadlines at risk."""
    if not supervisor.is_supervisor:
        return Refusal.NOT_SUPERVISOR
    if supervisor.team_id is None:
        return Refusal.NO_TEAM
    async with db.uow() as session:
        team_row = await session.get(Team, supervisor.team_id)
        rows = await repo.team_summary(
            session,
            team_id=supervisor.team_id,
            now=now,
            at_risk_until=now + timedelta(hours=TCM_AT_RISK_HOURS),
        )
        unassigned = await handover.unassigned_patients(session, team_id=supervisor.team_id)
        await _audit(
            session,
            supervisor,
            now=now,
            action="team.viewed",
            command="team",
            detail={
                "team_id": supervisor.team_id,
                "unassigned_patient_ids": [u.patient_id for u in unassigned],
            },
        )
    return TeamView(
        team_name=team_row.name if team_row else "Your team",
        rows=tuple(rows),
        unassigned=tuple(unassigned),
    )


async def team_caseload(
    db: Database, supervisor: NurseView, nurse_id: int, *, now: datetime, page: int = 0
) -> NurseCaseload | Refusal:
    """One nurse's caseload as her supervisor sees it (same order as /caseload)."""
    if not supervisor.is_supervisor:
        return Refusal.NOT_SUPERVISOR
    page = _page(page)
    async with db.uow() as session:
        target = await _team_nurse(session, supervisor, nurse_id)
        if target is None:
            return Refusal.NOT_TEAMMATE
        result = await repo.caseload_page(
            session, nurse_id=target.id, now=now, offset=page * CASELOAD_PAGE, limit=CASELOAD_PAGE
        )
        await _audit(
            session,
            supervisor,
            now=now,
            action="team.caseload_viewed",
            command="team",
            detail={
                "nurse_id": target.id,
                "page": page,
                "patient_ids": [r.patient_id for r in result.rows],
            },
        )
    return NurseCaseload(nurse_id=target.id, nurse_name=target.display_name, page=result)


async def team_patient(
    db: Database, supervisor: NurseView, patient_id: int, *, now: datetime
) -> LastContactView | Refusal:
    """A supervisor's look at a team patient: when the patient was last reached."""
    if not supervisor.is_supervisor:
        return Refusal.NOT_SUPERVISOR
    async with db.uow() as session:
        patient = await repo.patient_name(session, patient_id=patient_id)
        if patient is None:
            return Refusal.NOT_FOUND
        if await _team_nurse(session, supervisor, patient.nurse_id) is None:
            return Refusal.NOT_TEAMMATE
        reached = await repo.last_contact(session, patient_id=patient.id, reached=True)
        latest = await repo.last_contact(session, patient_id=patient.id, reached=False)
        attempt = latest if latest is not None and latest.outcome != "reached" else None
        await _audit(
            session,
            supervisor,
            now=now,
            action="patient.viewed",
            command="team",
            patient_id=patient.id,
        )
    return LastContactView(name=patient.name, reached=reached, attempt=attempt)


async def move_options(
    db: Database, supervisor: NurseView, patient_id: int, *, now: datetime
) -> MoveOptions | Refusal:
    """A team patient and the other active nurses of the patient's team."""
    if not supervisor.is_supervisor:
        return Refusal.NOT_SUPERVISOR
    async with db.uow() as session:
        patient = await repo.patient_name(session, patient_id=patient_id)
        if patient is None or patient.status != PatientStatus.ACTIVE.value:
            return Refusal.NOT_FOUND
        owner = await _team_nurse(session, supervisor, patient.nurse_id)
        if owner is None or owner.team_id is None:
            return Refusal.NOT_TEAMMATE
        mates = await patient_repo.teammates(
            session, team_id=owner.team_id, except_nurse_id=owner.id
        )
        await _audit(
            session,
            supervisor,
            now=now,
            action="patient.viewed",
            command="reassign",
            patient_id=patient.id,
        )
    return MoveOptions(
        patient_id=patient.id,
        patient_name=patient.name,
        from_name=owner.display_name,
        teammates=tuple((m.id, m.display_name) for m in mates),
    )


async def reassign(
    db: Database, supervisor: NurseView, patient_id: int, to_nurse_id: int, *, now: datetime
) -> Reassigned | Refusal:
    """Move a team patient (and her open tasks and pending pushes) to another team nurse."""
    if not supervisor.is_supervisor:
        return Refusal.NOT_SUPERVISOR
    async with db.uow() as session:
        patient = await patient_repo.get_patient(session, patient_id=patient_id, for_update=True)
        if patient is None or patient.status != PatientStatus.ACTIVE:
            return Refusal.NOT_FOUND
        owner = await _team_nurse(session, supervisor, patient.nurse_id)
        to = await _team_nurse(session, supervisor, to_nurse_id)
        if owner is None:
            return Refusal.NOT_TEAMMATE
        if to is None or to.id == owner.id or to.team_id != owner.team_id:
            await _audit(
                session,
                supervisor,
                now=now,
                action="patient.reassign_refused",
                command="reassign",
                patient_id=patient.id,
                detail={"to_nurse_id": to_nurse_id, "reason": "not_teammate"},
            )
            return Refusal.NOT_TEAMMATE
        moved = await patient_repo.reassign_open_tasks(
            session, patient_id=patient.id, to_nurse_id=to.id
        )
        before = {"nurse_id": patient.nurse_id, "team_id": patient.team_id}
        handover.assigned(patient)  # a parked patient has an owner again
        patient.nurse_id = to.id
        patient.team_id = to.team_id
        patient.updated_at = now
        await _audit(
            session,
            supervisor,
            now=now,
            action="patient.reassigned",
            command="reassign",
            patient_id=patient.id,
            detail={
                "before": before,
                "after": {"nurse_id": to.id, "team_id": to.team_id},
                "moved_task_ids": moved,
            },
        )
        return Reassigned(
            patient_id=patient.id,
            name=patient.display_name,
            initials=patient.initials,
            code=patient.code,
            from_nurse_id=owner.id,
            from_name=owner.display_name,
            from_chat_id=owner.chat_id,
            from_privacy=owner.privacy_mode or "initials",
            to_nurse_id=to.id,
            to_name=to.display_name,
            to_chat_id=to.chat_id,
            to_privacy=to.privacy_mode or "initials",
            tasks_moved=len(moved),
        )


# -- /stats -------------------------------------------------------------------------------------


async def stats(db: Database, nurse: NurseView, config: Config, *, now: datetime) -> Stats:
    """The numbers /stats plots and states, read in one transaction (no names)."""
    zone = nurse.zone
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=charts.CHART_DAYS - 1)
    start = start_of_local_day(first_day, zone)
    async with db.uow() as session:
        times = await repo.contact_times(session, nurse_id=nurse.id, start=start, end=now)
        on_time, late = await repo.tasks_done_on_time(
            session, nurse_id=nurse.id, start=start, end=now
        )
        risks = await repo.caseload_by_risk(session, nurse_id=nurse.id)
        closed = await repo.tcm_resolutions(
            session, nurse_id=nurse.id, since=now - timedelta(days=30)
        )
        outcomes = await repo.episode_outcomes(
            session,
            nurse_id=nurse.id,
            discharged_from=today - timedelta(days=90),
            interactive=INTERACTIVE_CHANNELS,
        )
        await _audit(session, nurse, now=now, action="stats.viewed", command="stats")
    numbers = charts.chart_numbers(
        times, now=now, zone=zone, done_on_time=on_time, done_late=late, risk_counts=risks
    )
    discharges = [
        charts.Discharge(
            discharged_on=o.discharged_on,
            complexity=o.complexity,
            first_reached_at=o.first_reached_at,
            first_med_rec_at=o.first_med_rec_at,
        )
        for o in outcomes
    ]
    from bot.services.saving import business_calendar, care_rules

    calendar = business_calendar(config)
    rules: care.CareRules = care_rules(config)
    tcm = {
        days: charts.tcm_compliance(
            discharges, now=now, zone=zone, within_days=days, calendar=calendar, rules=rules
        )
        for days in (30, 90)
    }
    mrp = {
        days: charts.mrp_compliance(
            discharges, now=now, zone=zone, within_days=days, mrp_days=config.care.mrp_days
        )
        for days in (30, 90)
    }
    return Stats(numbers=numbers, tcm=tcm, mrp=mrp, tcm_closed=closed)

"""bot.services.queries use cases on both backends: ordering, paging, audit, refusals, seed."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from bot.ops.seed import SIZES, seed
from bot.services import lists
from bot.services import queries as service
from bot.services.nurse import NurseView
from bot.vocab import Refusal, Risk, Role, TaskKind
from storage.db import Database
from storage.models import AuditEvent, Contact, Nurse, Patient, Task, Team

NOW = datetime(2026, 11, 23, 16, 15, tzinfo=UTC)


async def _nurse(
    db: Database, name: str, role: Role = Role.NURSE, team: int | None = None
) -> NurseView:
    async with db.uow() as session:
        nurse = Nurse(
            telegram_user_id=abs(hash(name)) % 10**9,
            display_name=name,
            role=role,
            team_id=team,
            timezone="America/Chicago",
            digest_time=time(7, 30),
            enrolled_at=NOW,
        )
        session.add(nurse)
        await session.flush()
        nid = nurse.id
    return NurseView(
        id=nid,
        telegram_user_id=abs(hash(name)) % 10**9,
        chat_id=None,
        display_name=name,
        role=role.value,
        team_id=team,
        timezone="America/Chicago",
        digest_time=time(7, 30),
        date_order="MDY",
        privacy_mode="initials",
        settings_done=True,
    )


async def test_caseload_is_paged_in_sql_and_audited(db: Database) -> None:
    ana = await _nurse(db, "Ana")
    async with db.uow() as session:
        for i in range(25):
            session.add(
                Patient(
                    nurse_id=ana.id,
                    display_name=f"P{i:02d}",
                    initials="P.",
                    code=f"C{i}",
                    risk=Risk.LOW if i % 2 else Risk.HIGH,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    first = await service.caseload(db, ana, now=NOW, page=0)
    third = await service.caseload(db, ana, now=NOW, page=2)
    assert first.total == 25
    assert len(first.rows) == 6  # six a page: a button each and [Prev] [Next]
    assert len(third.rows) == 6
    assert len((await service.caseload(db, ana, now=NOW, page=4)).rows) == 1
    assert [r.risk for r in first.rows[:2]] == ["high", "high"]  # high risk first
    high = await service.caseload(db, ana, now=NOW, risk=Risk.HIGH)
    assert high.total == 13
    assert {r.risk for r in high.rows} == {"high"}
    async with db.uow(read_only=True) as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "caseload.viewed")
        )
    assert count == 4  # four reads, four audits


async def test_overdue_and_refusals(db: Database) -> None:
    ana = await _nurse(db, "Ana")
    bea = await _nurse(db, "Bea")
    async with db.uow() as session:
        patient = Patient(
            nurse_id=ana.id,
            display_name="Maria Lopez",
            initials="M.L.",
            code="C1",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(patient)
        await session.flush()
        for days in (3, 1):
            session.add(
                Task(
                    nurse_id=ana.id,
                    patient_id=patient.id,
                    kind=TaskKind.FOLLOW_UP,
                    due_at=NOW - timedelta(days=days),
                    created_at=NOW,
                )
            )
        pid = patient.id
    view = await lists.overdue(db, ana, now=NOW)
    assert view.tasks.total == 2
    assert view.tasks.rows[0].due_at < view.tasks.rows[1].due_at  # oldest first
    assert await service.last_contact(db, bea, pid, now=NOW) == Refusal.NOT_FOUND
    assert await service.team(db, ana, now=NOW) == Refusal.NOT_SUPERVISOR
    assert await service.reassign(db, ana, pid, bea.id, now=NOW) == Refusal.NOT_SUPERVISOR
    assert await service.may_open(db, bea, pid) == "no"
    assert await service.may_open(db, ana, pid) == "own"


async def test_reassign_moves_patient_and_tasks(db: Database) -> None:
    async with db.uow() as session:
        team = Team(name="T", created_at=NOW)
        session.add(team)
        await session.flush()
        tid = team.id
    ana = await _nurse(db, "Ana", team=tid)
    bea = await _nurse(db, "Bea", team=tid)
    sue = await _nurse(db, "Sue", Role.SUPERVISOR, team=tid)
    async with db.uow() as session:
        patient = Patient(
            nurse_id=ana.id,
            team_id=tid,
            display_name="Maria Lopez",
            initials="M.L.",
            code="C1",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(patient)
        await session.flush()
        session.add(
            Task(
                nurse_id=ana.id,
                patient_id=patient.id,
                kind=TaskKind.FOLLOW_UP,
                due_at=NOW,
                created_at=NOW,
            )
        )
        pid = patient.id
    assert await service.may_open(db, sue, pid) == "team"
    moved = await service.reassign(db, sue, pid, bea.id, now=NOW)
    assert isinstance(moved, service.Reassigned)
    assert (moved.from_nurse_id, moved.to_nurse_id, moved.tasks_moved) == (ana.id, bea.id, 1)
    summary = await service.team(db, sue, now=NOW)
    assert isinstance(summary, service.TeamView)
    assert {r.name: r.caseload for r in summary.rows} == {"Ana": 0, "Bea": 1, "Sue": 0}
    again = await service.reassign(db, sue, pid, bea.id, now=NOW)
    assert again == Refusal.NOT_TEAMMATE  # already hers


async def test_seed_tiny_and_the_bench_nurse(sqlite_db: Database) -> None:
    counts = await seed(sqlite_db, SIZES["tiny"], now=NOW)
    assert counts["contacts"] == 800
    assert counts["tasks"] == 300
    assert counts["care_goals"] == 223  # 1-3 goals for 7 patients in 10
    assert counts["referrals"] == 40  # one patient in four
    async with sqlite_db.uow(read_only=True) as session:
        bench = await session.scalar(
            select(func.count()).select_from(Patient).where(Patient.nurse_id == 1)
        )
        reached = await session.scalar(
            select(func.count()).select_from(Patient).where(Patient.last_reached_at.is_not(None))
        )
        contacts = await session.scalar(select(func.count()).select_from(Contact))
    assert bench == 150
    assert contacts == 800
    assert reached

"""Revoking a nurse hands her caseload over: to a named nurse (--to) or parked with the team's
supervisor as unassigned (--park, listed in /team and assigned with buttons). Open tasks (a TCM
contact among them) and their reminders move with the patients; nothing goes to nobody."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app.cli import main
from bot.services import enrollment
from bot.vocab import DeliveryKind, DeliveryStatus, Role, TaskKind, TaskStatus
from storage.models import AuditEvent, Delivery, Patient, Task
from tests.fakes.telegram import FakeUser
from tests.harness import Harness
from tests.reminder_support import add_patient, nurse_row, run_pass


async def _tcm_patient(h: Harness, ana: FakeUser) -> Task:
    h.clock.set(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))  # Tue 24 Nov, 09:00 Chicago
    await add_patient(h, ana, "John Smith")
    await h.send(ana, "John Smith d/c from Mercy today")
    assert "TCM contact: by Fri 27 Nov 23:59" in h.last_text(ana)
    [tcm] = [t for t in await _open_tasks(h) if t.kind == TaskKind.TCM_CONTACT]
    return tcm


async def _open_tasks(h: Harness) -> list[Task]:
    async with h.db.uow(read_only=True) as session:
        query = select(Task).where(Task.status == TaskStatus.OPEN).order_by(Task.id)
        return list((await session.scalars(query)).all())


async def _reminders_to(h: Harness, user: FakeUser) -> list[str]:
    return [m.text or "" for m in h.fake.sent_messages(user.id) if "⏰" in (m.text or "")]


async def _push_the_tcm_reminder(h: Harness, tcm: Task) -> None:
    assert tcm.remind_at is not None
    h.clock.set(tcm.remind_at + timedelta(minutes=1))
    await run_pass(h)


async def test_revoke_to_a_nurse_moves_the_tcm_task_and_its_reminder(harness: Harness) -> None:
    h = harness
    ana = await h.enroll("Ana")
    bea = await h.enroll("Bea")
    tcm = await _tcm_patient(h, ana)

    refused = await enrollment.revoke(h.db, h.clock, telegram_user_id=ana.id)
    assert not refused.revoked
    assert "give --to" in refused.problem  # her patients would be stranded
    result = await enrollment.revoke(h.db, h.clock, telegram_user_id=ana.id, to="Bea RN")
    assert result.revoked
    assert result.to_name == "Bea RN"
    assert result.handed is not None
    assert tcm.id in result.handed.task_ids

    bea_row = await nurse_row(h, bea)
    moved = {t.id: t for t in await _open_tasks(h)}[tcm.id]
    assert moved.nurse_id == bea_row.id
    await h.send(bea, "/overdue")  # her lists are read from the database: the patient is hers
    await h.send(bea, "/caseload")
    assert "John Smith" in h.last_text(bea)

    await _push_the_tcm_reminder(h, moved)
    assert any("John Smith" in t or "J.S." in t for t in await _reminders_to(h, bea))
    assert await _reminders_to(h, ana) == []
    actions = await h.audit_actions()
    assert "enroll.revoked" in actions
    assert "patient.reassigned" in actions


async def test_revoke_park_lists_the_patient_in_team_and_the_supervisor_assigns_it(
    harness: Harness,
) -> None:
    h = harness
    ana = await h.enroll("Ana")
    bea = await h.enroll("Bea")
    sue = await h.enroll("Sue", role=Role.SUPERVISOR)
    tcm = await _tcm_patient(h, ana)

    result = await enrollment.revoke(h.db, h.clock, telegram_user_id=ana.id, park=True)
    assert result.revoked
    assert result.parked
    assert result.to_name == "Sue RN"

    # Parked: the supervisor holds the patient, and the reminder comes to her meanwhile.
    sue_row = await nurse_row(h, sue)
    held = {t.id: t for t in await _open_tasks(h)}[tcm.id]
    assert held.nurse_id == sue_row.id
    await _push_the_tcm_reminder(h, held)
    assert len(await _reminders_to(h, sue)) == 1
    assert await _reminders_to(h, ana) == []

    await h.send(sue, "/team")
    view = h.fake.last_message(sue.id)
    assert "\nUnassigned: 1 patient\n1. John Smith · was Ana RN's, since Tue 24 Nov · 4 open" in (
        view.text or ""
    )
    assert "Assign 1" in view.button_labels
    await h.press(sue, "Assign 1")
    assert h.last_text(sue) == "Move John Smith from Sue RN to which nurse?"
    await h.press(sue, "Bea RN")
    assert "Moved John Smith from Sue RN to Bea RN" in h.last_text(sue)

    bea_row = await nurse_row(h, bea)
    assert {t.id: t for t in await _open_tasks(h)}[tcm.id].nurse_id == bea_row.id
    async with h.db.uow(read_only=True) as session:
        patient = await session.scalar(select(Patient).where(Patient.display_name == "John Smith"))
        assert patient is not None
        assert patient.unassigned_since is None
        pending = (
            await session.scalars(
                select(Delivery).where(
                    Delivery.kind == DeliveryKind.REMINDER,
                    Delivery.status == DeliveryStatus.PENDING,
                    Delivery.nurse_id == (await nurse_row(h, ana)).id,
                )
            )
        ).all()
        assert pending == []  # nothing waits for the revoked nurse
        revoked = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "enroll.revoked")
        )
        assert revoked is not None
        assert revoked.detail["parked"] is True
        assert tcm.id in revoked.detail["task_ids"]
    await h.send(sue, "/team")
    assert "Unassigned" not in h.last_text(sue)


async def test_park_needs_a_supervisor_and_to_needs_her_team(harness: Harness) -> None:
    h = harness
    ana = await h.enroll("Ana")
    await h.enroll("Zed", team="Team B")
    await _tcm_patient(h, ana)
    parked = await enrollment.revoke(h.db, h.clock, telegram_user_id=ana.id, park=True)
    assert not parked.revoked
    assert "no active supervisor" in parked.problem
    elsewhere = await enrollment.revoke(h.db, h.clock, telegram_user_id=ana.id, to="Zed RN")
    assert not elsewhere.revoked
    assert "not in her team" in elsewhere.problem
    await h.send(ana, "/caseload")  # still hers, still active
    assert "John Smith" in h.last_text(ana)


def test_cli_revoke_requires_to_or_park(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "c.db"}"\n')
    with pytest.raises(SystemExit) as exc:
        main(["--config", str(config), "revoke", "123"])
    assert exc.value.code == 2
    assert "one of the arguments --to --park is required" in capsys.readouterr().err

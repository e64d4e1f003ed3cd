"""The logging use cases against a real database (SQLite, and PostgreSQL when set up): tasks
created and closed, undo and changes with prior values, ownership, redelivery."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import Config
from bot.parsing import When
from bot.services import records as service
from bot.services.enrollment import view_of
from bot.services.ledger import MessageKey
from bot.services.nurse import NurseView
from bot.vocab import (
    AppointmentStatus,
    Channel,
    Complexity,
    Outcome,
    Party,
    Refusal,
    TaskKind,
    TaskStatus,
)
from storage import patients
from storage.db import Database
from storage.models import AuditEvent, Nurse, Task

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tue 24 Nov 2026, 09:00 in Chicago


async def _nurse(db: Database, config: Config, telegram_id: int) -> NurseView:
    async with db.uow() as session:
        nurse = Nurse(
            telegram_user_id=telegram_id, chat_id=telegram_id, display_name=f"N{telegram_id}",
            timezone="America/Chicago", digest_time=time(7, 30), enrolled_at=NOW,
            settings_done=True,
        )  # fmt: skip
        session.add(nurse)
        await session.flush()
        return view_of(nurse, config)


async def _patient(db: Database, nurse: NurseView, name: str) -> int:
    async with db.uow() as session:
        patient = await patients.create_patient(
            session, nurse_id=nurse.id, team_id=None, display_name=name, now=NOW
        )
        return patient.id


async def _tasks(db: Database) -> dict[TaskKind, Task]:
    async with db.uow(read_only=True) as session:
        return {t.kind: t for t in (await session.scalars(select(Task).order_by(Task.id))).all()}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def _contact(
    db: Database, config: Config, clock: ManualClock, nurse: NurseView, patient_id: int,
    *, outcome: Outcome = Outcome.REACHED, channel: Channel = Channel.PHONE,
    with_whom: Party = Party.PATIENT, source: MessageKey | None = None,
) -> service.Logged | Refusal:  # fmt: skip
    return await service.log_contact(
        db, config, clock, nurse=nurse, source=source, patient_id=patient_id, channel=channel,
        outcome=outcome, with_whom=with_whom, occurred_at=clock.now(), follow_up=None, note="",
    )  # fmt: skip


async def _discharge(
    db: Database, config: Config, clock: ManualClock, nurse: NurseView, patient_id: int,
    complexity: Complexity | None = None,
) -> service.Logged:  # fmt: skip
    logged = await service.log_discharge(
        db, config, clock, nurse=nurse, source=None, patient_id=patient_id,
        discharged_on=date(2026, 11, 24), facility="Mercy", complexity=complexity, note="",
    )  # fmt: skip
    assert isinstance(logged, service.Logged)
    return logged


async def test_discharge_deadlines_follow_holidays_and_complexity(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await _nurse(db, config, 1)
    pid = await _patient(db, nurse, "John Smith")
    await _discharge(db, config, clock, nurse, pid, Complexity.HIGH)
    tasks = await _tasks(db)
    due = {k: t.due_at.astimezone(CHICAGO) for k, t in tasks.items()}
    # Thanksgiving (Thu 26 Nov) is skipped: Wed 25 + Fri 27 are the two business days.
    assert due[TaskKind.TCM_CONTACT].date() == date(2026, 11, 27)
    assert due[TaskKind.TCM_VISIT].date() == date(2026, 12, 1)  # 7 days, high complexity
    assert due[TaskKind.MED_REC].date() == date(2026, 12, 1)  # by the visit
    assert tasks[TaskKind.TCM_CONTACT].window_start is not None
    assert tasks[TaskKind.TCM_CONTACT].window_start.astimezone(CHICAGO).date() == date(2026, 11, 25)


async def test_a_text_message_or_provider_call_does_not_close_the_tcm_contact(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await _nurse(db, config, 1)
    pid = await _patient(db, nurse, "John Smith")
    await _discharge(db, config, clock, nurse, pid)
    clock.advance(timedelta(days=1))
    await _contact(db, config, clock, nurse, pid, channel=Channel.TEXT)
    await _contact(db, config, clock, nurse, pid, with_whom=Party.PROVIDER)
    assert (await _tasks(db))[TaskKind.TCM_CONTACT].status == TaskStatus.OPEN
    await _contact(db, config, clock, nurse, pid, with_whom=Party.CAREGIVER)
    assert (await _tasks(db))[TaskKind.TCM_CONTACT].status == TaskStatus.DONE


async def test_undoing_the_closing_contact_reopens_the_tcm_task(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await _nurse(db, config, 1)
    pid = await _patient(db, nurse, "John Smith")
    await _discharge(db, config, clock, nurse, pid)
    clock.advance(timedelta(days=1))
    logged = await _contact(db, config, clock, nurse, pid)
    assert isinstance(logged, service.Logged)
    assert [t.kind for t in logged.closed] == [TaskKind.TCM_CONTACT]
    undone = await service.undo_record(
        db, clock, nurse=nurse, kind=service.RecordKind.CONTACT, record_id=logged.record_id
    )
    assert isinstance(undone, service.Undone)
    assert undone.reopened == 1
    task = (await _tasks(db))[TaskKind.TCM_CONTACT]
    assert (task.status, task.closed_by_id) == (TaskStatus.OPEN, None)


async def test_attempts_documented_is_set_by_two_attempts_and_cleared_by_undo(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await _nurse(db, config, 1)
    pid = await _patient(db, nurse, "John Smith")
    await _discharge(db, config, clock, nurse, pid)
    clock.advance(timedelta(days=1))
    first = await _contact(db, config, clock, nurse, pid, outcome=Outcome.ATTEMPTED)
    assert isinstance(first, service.Logged)
    assert first.flagged == ()
    clock.advance(timedelta(hours=4))
    second = await _contact(db, config, clock, nurse, pid, outcome=Outcome.ATTEMPTED)
    assert isinstance(second, service.Logged)
    assert len(second.flagged) == 1
    assert (await _tasks(db))[TaskKind.TCM_CONTACT].attempts_documented
    await service.undo_record(
        db, clock, nurse=nurse, kind=service.RecordKind.CONTACT, record_id=second.record_id
    )
    assert not (await _tasks(db))[TaskKind.TCM_CONTACT].attempts_documented


async def test_a_med_rec_before_the_discharge_window_closes_nothing(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await _nurse(db, config, 1)
    pid = await _patient(db, nurse, "John Smith")
    await _discharge(db, config, clock, nurse, pid)
    early = await service.log_med_rec(
        db, config, clock, nurse=nurse, source=None, patient_id=pid,
        reconciled_on=date(2026, 11, 20), discrepancies=0, note="",
    )  # fmt: skip
    assert isinstance(early, service.Logged)
    assert early.closed == ()
    assert (await _tasks(db))[TaskKind.MED_REC].status == TaskStatus.OPEN


async def test_another_nurses_patient_and_records_are_refused(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await _nurse(db, config, 1)
    bea = await _nurse(db, config, 2)
    pid = await _patient(db, ana, "John Smith")
    assert await _contact(db, config, clock, bea, pid) == Refusal.NO_PATIENT
    logged = await _contact(db, config, clock, ana, pid)
    assert isinstance(logged, service.Logged)
    kind, rid = service.RecordKind.CONTACT, logged.record_id
    assert (
        await service.undo_record(db, clock, nurse=bea, kind=kind, record_id=rid)
        == Refusal.NOT_FOUND
    )
    assert (
        await service.change_follow_up(
            db, clock, nurse=bea, kind=kind, record_id=rid, follow_up=None
        )
        == Refusal.NOT_FOUND
    )


async def test_the_same_message_is_logged_once(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await _nurse(db, config, 1)
    pid = await _patient(db, nurse, "John Smith")
    source = MessageKey(chat_id=1, message_id=42)
    assert isinstance(await _contact(db, config, clock, nurse, pid, source=source), service.Logged)
    again = await _contact(db, config, clock, nurse, pid, source=source)
    assert again == Refusal.DUPLICATE


async def test_changes_work_for_at_least_24_hours_then_expire(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await _nurse(db, config, 1)
    pid = await _patient(db, nurse, "John Smith")
    logged = await _contact(db, config, clock, nurse, pid)
    assert isinstance(logged, service.Logged)
    kind, rid = service.RecordKind.CONTACT, logged.record_id
    clock.advance(timedelta(hours=24))
    friday = When(datetime(2026, 11, 27, 6, 0, tzinfo=UTC), has_time=False)
    changed = await service.change_follow_up(
        db, clock, nurse=nurse, kind=kind, record_id=rid, follow_up=friday
    )
    assert isinstance(changed, service.FollowUpChanged)
    assert changed.follow_up is not None
    assert changed.follow_up.due_at.astimezone(CHICAGO).strftime("%a %H:%M") == "Fri 23:59"
    removed = await service.change_follow_up(
        db, clock, nurse=nurse, kind=kind, record_id=rid, follow_up=None
    )
    assert isinstance(removed, service.FollowUpChanged)
    async with db.uow(read_only=True) as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "record.follow_up_changed")
            )
        ).all()
    assert events[0].detail["prior"] == []
    assert events[1].detail["prior"][0]["due_at"] == changed.follow_up.due_at.isoformat()
    clock.advance(service.CHANGE_WINDOW)
    assert (
        await service.undo_record(db, clock, nurse=nurse, kind=kind, record_id=rid)
        == Refusal.EXPIRED
    )


async def test_attendance_answers_once_and_rescheduled_cancels_reminders(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await _nurse(db, config, 1)
    pid = await _patient(db, nurse, "John Smith")
    at = When(datetime(2026, 11, 27, 16, 0, tzinfo=UTC), has_time=True)
    logged = await service.log_appointment(
        db, config, clock, nurse=nurse, source=None, patient_id=pid, at=at,
        with_whom="cardiology", location="", note="",
    )  # fmt: skip
    assert isinstance(logged, service.Logged)
    tasks = await _tasks(db)
    check_id = tasks[TaskKind.ATTENDANCE_CHECK].id
    result = await service.set_attendance(
        db, clock, nurse=nurse, task_id=check_id, status=AppointmentStatus.RESCHEDULED
    )
    assert isinstance(result, service.AttendanceSet)
    assert result.follow_up is None
    assert (await _tasks(db))[TaskKind.APPOINTMENT_REMINDER].status == TaskStatus.CANCELLED
    again = await service.set_attendance(
        db, clock, nurse=nurse, task_id=check_id, status=AppointmentStatus.NO_SHOW
    )
    assert again == Refusal.ALREADY_ANSWERED


def test_the_render_module_imports_neither_telegram_nor_storage() -> None:
    code = (
        "import sys, bot.render.records; "
        "bad = [m for m in sys.modules "
        "if m.split('.')[0] in {'telegram', 'storage', 'sqlalchemy'}]; "
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"

"""Appointments: never logged twice, cancelled and rescheduled with their pushes, answered by
the attendance check when they end; their reminders are pushes, never her listed work."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import Config
from bot.services import lists, queries, referrals
from bot.services.appointments import (
    AppointmentChanged,
    AppointmentChoice,
    AttendanceSet,
    cancel_appointment,
    reschedule_appointment,
    set_attendance,
)
from bot.services.ledger import MessageKey
from bot.services.messages import SavedMessage, save_message
from bot.vocab import AppointmentStatus, ReferralStatus, Refusal, TaskKind, TaskStatus
from storage import digest
from storage.db import Database
from storage.models import Appointment, Referral, Task
from tests.services.facts_support import (
    CHICAGO,
    NOW,
    appointment,
    at,
    make_nurse,
    make_patient,
    on,
)

TUE = date(2026, 11, 24)
WED = date(2026, 11, 25)
FRI = date(2026, 11, 27)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def _appointments(db: Database) -> list[Appointment]:
    async with db.uow(read_only=True) as session:
        return list((await session.scalars(select(Appointment).order_by(Appointment.id))).all())


async def _tasks(db: Database) -> list[Task]:
    async with db.uow(read_only=True) as session:
        return list((await session.scalars(select(Task).order_by(Task.id))).all())


def _hhmm(task: Task) -> str:
    assert task.remind_at is not None
    return task.remind_at.astimezone(CHICAGO).strftime("%a %H:%M")


async def test_an_appointment_already_on_file_is_not_logged_twice(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    first = await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1), facts=[appointment(tom, at(FRI, 9))]
    )
    again = await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2),
        facts=[appointment(tom, at(FRI, 9, 10), "cardiology")],
    )  # fmt: skip
    assert isinstance(first, SavedMessage)
    assert isinstance(again, SavedMessage)
    assert again.results[0].existing
    assert again.results[0].record_id == first.results[0].record_id
    other = await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 3),
        facts=[appointment(tom, at(FRI, 9), "podiatry")],
    )  # fmt: skip
    assert isinstance(other, SavedMessage)
    assert not other.results[0].existing  # another specialty at the same time is another one
    assert len(await _appointments(db)) == 2


async def test_the_attendance_check_comes_when_it_ends(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1), facts=[appointment(tom, at(FRI, 9))]
    )
    [check] = [t for t in await _tasks(db) if t.kind == TaskKind.ATTENDANCE_CHECK]
    assert (_hhmm(check), check.due_at) == ("Fri 10:00", check.remind_at)


async def test_cancel_by_day_takes_the_pushes_and_the_referral_waits_again(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    ana = await make_patient(db, nurse, "Ana Ruiz")
    assert ana.id is not None
    await referrals.log_referral(
        db, config, clock, nurse=nurse, source=None, patient_id=ana.id, to_whom="cardiology",
        specialty="cardiology", reason="", sent_on=TUE,
    )  # fmt: skip
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[appointment(ana, at(FRI, 9), "cardiology")],
    )  # fmt: skip
    changed = await cancel_appointment(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2), patient_id=ana.id, on=on(FRI)
    )
    assert isinstance(changed, AppointmentChanged)
    assert changed.prior_status == AppointmentStatus.SCHEDULED
    assert [t.kind for t in changed.reopened] == [TaskKind.REFERRAL]
    [appt] = await _appointments(db)
    assert appt.status == AppointmentStatus.CANCELLED
    statuses = {t.kind: t.status for t in await _tasks(db)}
    assert statuses == {
        TaskKind.REFERRAL: TaskStatus.OPEN,
        TaskKind.APPOINTMENT_REMINDER: TaskStatus.CANCELLED,
        TaskKind.ATTENDANCE_CHECK: TaskStatus.CANCELLED,
    }
    async with db.uow(read_only=True) as session:
        [referral] = (await session.scalars(select(Referral))).all()
    assert (referral.status, referral.appointment_id) == (ReferralStatus.SENT, None)
    assert (
        await cancel_appointment(
            db, config, clock, nurse=nurse, key=MessageKey(1, 3), patient_id=ana.id, on=on(FRI)
        )
        == Refusal.NOT_FOUND
    )


async def test_several_that_fit_come_back_to_choose_from(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    ana = await make_patient(db, nurse, "Ana Ruiz")
    assert ana.id is not None
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[appointment(ana, at(FRI, 9), "cardiology"), appointment(ana, at(FRI, 14), "ortho")],
    )  # fmt: skip
    choice = await cancel_appointment(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2), patient_id=ana.id, on=on(FRI)
    )
    assert isinstance(choice, AppointmentChoice)
    assert [o.with_whom for o in choice.options] == ["cardiology", "ortho"]
    by_specialty = await cancel_appointment(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2), patient_id=ana.id, what="orthopedics"
    )
    assert isinstance(by_specialty, AppointmentChanged)
    assert by_specialty.appointment.with_whom == "ortho"
    chosen = await cancel_appointment(
        db, config, clock, nurse=nurse, key=MessageKey(1, 3), patient_id=ana.id,
        appointment_id=choice.options[0].record_id,
    )  # fmt: skip
    assert isinstance(chosen, AppointmentChanged)
    assert {a.status for a in await _appointments(db)} == {AppointmentStatus.CANCELLED}


async def test_reschedule_to_a_time_or_a_day_moves_the_pushes(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    assert tom.id is not None
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1), facts=[appointment(tom, at(FRI, 9))]
    )
    moved = await reschedule_appointment(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2), patient_id=tom.id, new=None,
        new_time=(10, 0),
    )  # fmt: skip
    assert isinstance(moved, AppointmentChanged)
    assert moved.appointment.at is not None
    assert moved.appointment.at.astimezone(CHICAGO).strftime("%a %H:%M") == "Fri 10:00"
    assert sorted(_hhmm(t) for t in await _tasks(db) if t.status == TaskStatus.OPEN) == [
        "Fri 08:00", "Fri 11:00", "Thu 07:30",
    ]  # fmt: skip
    later = await reschedule_appointment(
        db, config, clock, nurse=nurse, key=MessageKey(1, 3), patient_id=tom.id,
        new=on(date(2026, 12, 1)),
    )  # fmt: skip
    assert isinstance(later, AppointmentChanged)
    assert later.appointment.at is not None
    assert later.appointment.at.astimezone(CHICAGO).strftime("%a %d %H:%M") == "Tue 01 10:00"
    assert len(await _appointments(db)) == 1


async def test_attended_no_show_and_rescheduled_from_the_check(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[appointment(tom, at(WED, 9)), appointment(tom, at(FRI, 9), "podiatry")],
    )  # fmt: skip
    wed_check, fri_check = [t for t in await _tasks(db) if t.kind == TaskKind.ATTENDANCE_CHECK]
    clock.set(at(WED, 10, 5).at)
    attended = await set_attendance(
        db, clock, nurse=nurse, task_id=wed_check.id, status=AppointmentStatus.ATTENDED
    )
    assert isinstance(attended, AttendanceSet)
    assert (await _appointments(db))[0].status == AppointmentStatus.ATTENDED
    clock.set(at(FRI, 10, 5).at)
    moved = await set_attendance(
        db, clock, nurse=nurse, task_id=fri_check.id, status=AppointmentStatus.RESCHEDULED,
        config=config, new_at=at(date(2026, 12, 4), 11),
    )  # fmt: skip
    assert isinstance(moved, AttendanceSet)
    assert moved.moved_to == at(date(2026, 12, 4), 11).at
    fri = (await _appointments(db))[1]
    assert (fri.status, fri.at) == (AppointmentStatus.SCHEDULED, at(date(2026, 12, 4), 11).at)
    [new_check] = [
        t for t in await _tasks(db)
        if t.kind == TaskKind.ATTENDANCE_CHECK and t.status == TaskStatus.OPEN
    ]  # fmt: skip
    clock.set(at(date(2026, 12, 4), 12, 5).at)
    no_show = await set_attendance(
        db, clock, nurse=nurse, task_id=new_check.id, status=AppointmentStatus.NO_SHOW
    )
    assert isinstance(no_show, AttendanceSet)
    assert no_show.follow_up is not None
    assert no_show.follow_up.kind == TaskKind.FOLLOW_UP


async def test_reminders_and_attendance_checks_are_not_her_listed_work(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    clock.set(at(date(2026, 11, 23), 8).at)  # Monday: the reminders are due Tuesday
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[appointment(tom, at(TUE, 13))],
    )  # fmt: skip
    assert {t.kind for t in await _tasks(db)} == {
        TaskKind.APPOINTMENT_REMINDER, TaskKind.ATTENDANCE_CHECK,
    }  # fmt: skip
    clock.set(at(TUE, 9).at)
    now = clock.now()
    today = await lists.today(db, nurse, now=now)
    week = await lists.week(db, nurse, now=now)
    assert (today.tasks.total, week.tasks.total) == (0, 0)
    assert today.appointments is not None
    assert today.appointments.total == 1  # the appointment itself shows, once
    clock.set(at(WED, 9).at)
    assert (await lists.overdue(db, nurse, now=clock.now())).tasks.total == 0
    page = await queries.caseload(db, nurse, now=clock.now())
    assert (page.rows[0].open_tasks, page.rows[0].overdue_tasks) == (0, 0)
    async with db.uow(read_only=True) as session:
        done = await digest.completion_between(
            session, nurse_id=nurse.id, start=at(TUE, 0).at, end=at(WED, 0).at
        )
    assert done.total == 0  # yesterday's pushes are no work left undone

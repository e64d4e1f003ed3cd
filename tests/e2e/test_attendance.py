"""The attendance check: it comes when the appointment ends; [Attended] records attendance,
[No-show] creates the follow-up, [Rescheduled] asks for the new time and moves the appointment
with its reminders and check; a new record typed while it waits is not taken as the time."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select

from bot.parsing import AppointmentIntent, PatientRef, When
from bot.services.enrollment import view_of
from bot.services.ledger import MessageKey
from bot.services.messages import SavedMessage, save_message
from bot.vocab import AppointmentStatus, TaskKind, TaskStatus
from storage.models import Appointment, Nurse, Task
from tests.fakes.telegram import FakeUser
from tests.harness import Harness
from tests.reminder_support import CHICAGO, add_patient, nurse_row, run_pass

MON = date(2026, 11, 23)


def c(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=CHICAGO)


async def _appointment_today(h: Harness) -> tuple[FakeUser, int]:
    """Ana, and Maria's 14:00 appointment today (logged at 08:00)."""
    h.clock.set(c(MON, 8))
    ana = await h.enroll("Ana")
    maria = await add_patient(h, ana, "Maria Lopez", "high")
    async with h.db.uow(read_only=True) as session:
        nurse = await session.get(Nurse, (await nurse_row(h, ana)).id)
        assert nurse is not None
        view = view_of(nurse, h.app.services.config)
    services = h.app.services
    saved = await save_message(
        services.db, services.config, services.clock, nurse=view,
        key=MessageKey(ana.id, 900),
        facts=[
            AppointmentIntent(
                patient=PatientRef(maria, "Maria Lopez"), candidates=(), patient_text=None,
                at=When(c(MON, 14), has_time=True), with_whom="cardiology", where=None, note="",
            )
        ],
    )  # fmt: skip
    assert isinstance(saved, SavedMessage)
    return ana, saved.results[0].record_id


async def _check_arrives(h: Harness, ana: FakeUser) -> None:
    h.clock.set(c(MON, 14, 59))
    await run_pass(h)
    assert "attend" not in h.last_text(ana)
    h.clock.set(c(MON, 15, 0))  # 14:00 + 60 minutes
    await run_pass(h)
    assert h.last_text(ana) == (
        "Did M.L. attend the appointment (cardiology) on Mon 23 Nov 14:00, America/Chicago?"
    )


async def _open_pushes(h: Harness) -> list[tuple[str, datetime]]:
    async with h.db.uow(read_only=True) as session:
        rows = await session.execute(
            select(Task.kind, Task.due_at)
            .where(Task.status == TaskStatus.OPEN)
            .order_by(Task.due_at)
        )
        return [(k.value, d.astimezone(CHICAGO)) for k, d in rows.all()]


async def test_rescheduled_asks_the_new_time_and_moves_the_appointment(harness: Harness) -> None:
    h = harness
    ana, appointment_id = await _appointment_today(h)
    await _check_arrives(h, ana)
    await h.press(ana, "Rescheduled")
    assert h.last_text(ana).startswith("When is it now? Send the new day and time")
    await h.send(ana, "Fri 10am")
    assert h.last_text(ana) == (
        "Moved Maria Lopez's appointment to Fri 27 Nov 10:00 (America/Chicago); its reminders "
        "and check moved with it. Saved."
    )
    async with h.db.uow(read_only=True) as session:
        appointment = await session.get(Appointment, appointment_id)
        assert appointment is not None
        assert appointment.at == c(date(2026, 11, 27), 10)
        assert appointment.status == AppointmentStatus.SCHEDULED
    assert await _open_pushes(h) == [
        ("appointment_reminder", c(date(2026, 11, 26), 7, 30)),  # the day before, digest time
        ("appointment_reminder", c(date(2026, 11, 27), 8)),  # 2 hours before
        ("attendance_check", c(date(2026, 11, 27), 11)),  # when it ends
    ]


async def test_attended_and_no_show_are_saved_from_the_push(harness: Harness) -> None:
    h = harness
    ana, appointment_id = await _appointment_today(h)
    await _check_arrives(h, ana)
    await h.press(ana, "No-show")
    assert h.last_text(ana) == (
        "Marked no-show: Maria Lopez. Saved.\nFollow-up: Tue 24 Nov, America/Chicago"
    )
    async with h.db.uow(read_only=True) as session:
        appointment = await session.get(Appointment, appointment_id)
        assert appointment is not None
        assert appointment.status == AppointmentStatus.NO_SHOW
    assert [kind for kind, _ in await _open_pushes(h)] == [TaskKind.FOLLOW_UP.value]
    await h.press(ana, "Attended")  # the same check again: already answered
    assert h.last_text(ana) == "That was already answered. Nothing was changed."


async def test_a_new_record_while_it_waits_is_not_taken_as_the_time(harness: Harness) -> None:
    h = harness
    ana, appointment_id = await _appointment_today(h)
    await _check_arrives(h, ana)
    await h.press(ana, "Rescheduled")
    await h.send(ana, "who is overdue?")
    texts = [m.text or "" for m in h.fake.sent_messages(ana.id)[-2:]]
    assert texts[0] == "I've left the reschedule; here is your new message."
    assert texts[1].startswith("Overdue")
    async with h.db.uow(read_only=True) as session:
        appointment = await session.get(Appointment, appointment_id)
        assert appointment is not None
        assert appointment.at == c(MON, 14)  # not moved

"""Helpers for reminder and digest tests: rows made directly, dispatcher passes on demand."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.care import end_of_local_day, local_time_on
from bot.outbox.dispatcher import Dispatcher, DispatchReport
from bot.vocab import Channel, Outcome, TaskKind
from storage import patients
from storage.models import Contact, Delivery, Nurse, Task
from tests.fakes.telegram import FakeUser
from tests.harness import Harness

CHICAGO = ZoneInfo("America/Chicago")


async def nurse_row(h: Harness, user: FakeUser) -> Nurse:
    async with h.db.uow(read_only=True) as session:
        nurse = await session.scalar(select(Nurse).where(Nurse.telegram_user_id == user.id))
    assert nurse is not None
    return nurse


async def add_patient(h: Harness, user: FakeUser, name: str, risk: str = "medium") -> int:
    from bot.vocab import Risk

    nurse = await nurse_row(h, user)
    async with h.db.uow() as session:
        patient = await patients.create_patient(
            session,
            nurse_id=nurse.id,
            team_id=nurse.team_id,
            display_name=name,
            now=h.clock.now(),
            risk=Risk(risk),
        )
        return patient.id


async def add_follow_up(
    h: Harness,
    user: FakeUser,
    patient_id: int,
    *,
    day: datetime,
    at: time = time(9, 0),
    kind: TaskKind = TaskKind.FOLLOW_UP,
    with_contact: bool = True,
    due_at: datetime | None = None,
) -> int:
    """A task due at the end of `day` (local), reminded at `at` local on that day."""
    nurse = await nurse_row(h, user)
    local_day = day.astimezone(CHICAGO).date()
    async with h.db.uow() as session:
        origin_id = None
        if with_contact:
            contact = Contact(
                patient_id=patient_id,
                nurse_id=nurse.id,
                occurred_at=h.clock.now(),
                channel=Channel.PHONE,
                outcome=Outcome.REACHED,
                note="",
                created_at=h.clock.now(),
            )
            session.add(contact)
            await session.flush()
            origin_id = contact.id
        task = Task(
            nurse_id=nurse.id,
            patient_id=patient_id,
            kind=kind,
            title="",
            due_at=due_at or end_of_local_day(local_day, CHICAGO),
            has_time=due_at is not None,
            remind_at=local_time_on(local_day, at, CHICAGO),
            origin_kind="contact" if with_contact else None,
            origin_id=origin_id,
            created_at=h.clock.now(),
        )
        session.add(task)
        await session.flush()
        return task.id


def dispatcher(h: Harness) -> Dispatcher:
    d = h.app.services.dispatcher
    assert isinstance(d, Dispatcher)
    d.per_chat_gap = 0.0  # the fake Telegram does not enforce per-chat limits unless asked
    return d


async def run_pass(h: Harness) -> DispatchReport:
    return await dispatcher(h).run_once()


async def deliveries(h: Harness) -> list[Delivery]:
    async with h.db.uow(read_only=True) as session:
        return list((await session.scalars(select(Delivery).order_by(Delivery.id))).all())

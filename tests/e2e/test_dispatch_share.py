"""Several dispatching processes share Telegram's per-bot budget (about 30 messages a second)
and never send to one chat at once: heartbeats count the live dispatchers, each paces its pushes
at its share, and a chat whose pushes one dispatcher is sending stays with it. Run on SQLite and
PostgreSQL; the fake Telegram answers 429 past 30 a second overall or 1 a second per chat."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import time, timedelta

from sqlalchemy import func, select

from bot.app.factory import build_application
from bot.config import Config
from bot.outbox.dispatcher import ALIVE_WITHIN, Dispatcher
from bot.vocab import DeliveryKind, DeliveryStatus, PatientStatus, Risk, TaskKind
from storage import deliveries as outbox
from storage.db import Database
from storage.models import Delivery, DispatchWorker, Nurse, Patient, Task
from tests.harness import Harness

CHATS = 60
EACH = 2


async def _due_reminders(h: Harness, chats: int, each: int) -> None:
    """`chats` nurses with `each` reminders due a minute ago (no digests: every day is off)."""
    now = h.clock.now()
    async with h.db.uow() as session:
        for i in range(chats):
            user = h.fake.user(first_name=f"N{i}")
            nurse = Nurse(
                telegram_user_id=user.id, chat_id=user.id, display_name=f"Nurse {i}",
                timezone="America/Chicago", digest_time=time(7, 30),
                days_off="mon,tue,wed,thu,fri,sat,sun", settings_done=True,
                enrolled_at=now - timedelta(days=1),
            )  # fmt: skip
            session.add(nurse)
            await session.flush()
            patient = Patient(
                nurse_id=nurse.id, display_name=f"Patient {i}", initials="P.", code=f"P-{i:05d}",
                risk=Risk.LOW, status=PatientStatus.ACTIVE, created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(patient)
            await session.flush()
            for _ in range(each):
                session.add(
                    Task(
                        nurse_id=nurse.id, patient_id=patient.id, kind=TaskKind.FOLLOW_UP,
                        title="", due_at=now + timedelta(hours=8), has_time=True,
                        remind_at=now - timedelta(minutes=1), created_at=now,
                    )
                )  # fmt: skip


def _paced(config: Config, per_second: int) -> Config:
    telegram = dataclasses.replace(config.telegram, max_messages_per_second=per_second)
    return dataclasses.replace(config, telegram=telegram)


async def test_two_dispatchers_share_the_budget_and_get_no_429(harness: Harness) -> None:
    await _due_reminders(harness, CHATS, EACH)
    harness.fake.enforce_rate_limits(global_per_sec=30, per_chat_per_sec=1)
    config = _paced(harness.app.services.config, 29)
    # Two processes: each its own Bot with PTB's AIORateLimiter at the full 29 a second, and on
    # SQLite its own engine (on PostgreSQL, more pooled connections of the same database).
    other = Database(harness.db.url) if harness.db.dialect != "postgresql" else None
    apps = [
        build_application(
            config, db=harness.db, clock=harness.clock, request=harness.fake.request(),
            dispatch=False,
        )  # fmt: skip
        for _ in range(2)
    ]
    for app in apps:
        await app.initialize()
    dispatchers = [
        Dispatcher(
            db=db, bot=app.bot, config=config, clock=harness.clock, worker_id=name,
            batch=30,  # small claims, so both get chats of their own in this small test
        )  # fmt: skip
        for name, db, app in (("one", harness.db, apps[0]), ("two", other or harness.db, apps[1]))
    ]
    try:
        assert await dispatchers[0].heartbeat() == 1  # alone so far: the whole budget
        assert await dispatchers[1].heartbeat() == 2
        assert await dispatchers[0].heartbeat() == 2
        assert [d.workers for d in dispatchers] == [2, 2]

        await asyncio.gather(*(d.run_once() for d in dispatchers))
        await asyncio.gather(*(d.run_once() for d in dispatchers))  # retries, if any were due
    finally:
        for app in apps:
            await app.shutdown()
        if other is not None:
            await other.dispose()

    pushes = [c for c in harness.fake.calls_of("sendMessage") if c.ok]
    assert harness.fake.rate_limit_hits == 0, "no 429: the shares add up to under 30 a second"
    assert len(pushes) == CHATS * EACH
    assert set(Counter(int(c.params["chat_id"]) for c in pushes).values()) == {EACH}
    async with harness.db.uow(read_only=True) as session:
        by_worker = dict(
            (
                await session.execute(
                    select(Delivery.claimed_by, func.count()).group_by(Delivery.claimed_by)
                )
            ).all()
        )
        unsent = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status != DeliveryStatus.SENT)
        )
    assert unsent == 0
    assert set(by_worker) == {"one", "two"}, "both dispatchers sent"


async def test_a_silent_dispatcher_stops_counting_and_a_closed_one_leaves_at_once(
    harness: Harness,
) -> None:
    config = harness.app.services.config
    one, two = (
        Dispatcher(
            db=harness.db, bot=harness.app.bot, config=config, clock=harness.clock, worker_id=w
        )
        for w in ("one", "two")
    )
    assert await one.heartbeat() == 1
    assert await two.heartbeat() == 2
    assert await one.heartbeat() == 2
    harness.clock.advance(ALIVE_WITHIN + timedelta(seconds=1))  # "two" died without a word
    assert await one.heartbeat() == 1
    assert await two.heartbeat() == 2  # it came back
    await two.close()
    assert await one.heartbeat() == 1
    harness.clock.advance(timedelta(days=2))
    assert await one.heartbeat() == 1
    async with harness.db.uow(read_only=True) as session:
        rows = (await session.scalars(select(DispatchWorker.worker_id))).all()
    assert rows == ["one"]  # workers silent for a day are forgotten


async def test_a_chat_being_sent_by_another_live_worker_is_not_claimed(harness: Harness) -> None:
    await _due_reminders(harness, 2, 2)
    planner = Dispatcher(
        db=harness.db, bot=harness.app.bot, config=harness.app.services.config,
        clock=harness.clock, worker_id="planner",
    )  # fmt: skip
    await planner.plan(harness.clock.now())
    now = harness.clock.now()
    lease = timedelta(seconds=120)
    async with harness.db.uow() as session:
        first = await outbox.claim_due(session, now=now, worker="one", lease=lease, limit=1)
    [held] = first
    async with harness.db.uow() as session:
        second = await outbox.claim_due(session, now=now, worker="two", lease=lease, limit=10)
    assert second
    assert {d.nurse_id for d in second}.isdisjoint({held.nurse_id})
    async with harness.db.uow() as session:
        again = await outbox.claim_due(session, now=now, worker="one", lease=lease, limit=10)
    # Its own chat stays claimable by "one"; once its lease runs out anyone may take over.
    assert {d.nurse_id for d in again} == {held.nurse_id}
    assert all(d.kind == DeliveryKind.REMINDER for d in (*first, *second, *again))
    later = now + lease + timedelta(seconds=1)
    async with harness.db.uow() as session:
        taken = await outbox.claim_due(session, now=later, worker="two", lease=lease, limit=10)
    assert held.id in {d.id for d in taken}


async def test_a_chat_sent_to_a_moment_ago_by_another_worker_waits_for_the_gap(
    harness: Harness,
) -> None:
    await _due_reminders(harness, 1, 2)
    planner = Dispatcher(
        db=harness.db, bot=harness.app.bot, config=harness.app.services.config,
        clock=harness.clock, worker_id="planner",
    )  # fmt: skip
    await planner.plan(harness.clock.now())
    now = harness.clock.now()
    lease, gap = timedelta(seconds=120), timedelta(seconds=1.05)
    async with harness.db.uow() as session:
        [first] = await outbox.claim_due(
            session, now=now, worker="one", lease=lease, limit=1, chat_gap=gap
        )
        await outbox.mark_sent(session, delivery_id=first.id, message_id=1, now=now)
    soon = now + timedelta(seconds=0.5)
    async with harness.db.uow() as session:
        early = await outbox.claim_due(
            session, now=soon, worker="two", lease=lease, limit=10, chat_gap=gap
        )
    assert early == []  # "one" sent to this chat half a second ago
    after_gap = now + timedelta(seconds=1.1)
    async with harness.db.uow() as session:
        second = await outbox.claim_due(
            session, now=after_gap, worker="two", lease=lease, limit=10, chat_gap=gap
        )
    assert [d.nurse_id for d in second] == [first.nurse_id]

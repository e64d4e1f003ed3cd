"""The dispatcher's work follows change: a pass's statements do not grow with the number of
overdue tasks, escalations reach the right supervisor once, and updates wake it only when
they made something due soon, many wakes sharing one pass. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time, timedelta
from typing import Any

from sqlalchemy import event, insert, select, update

from bot.outbox.dispatcher import Dispatcher
from bot.vocab import DeliveryKind, DeliveryStatus, Role, TaskKind, TaskStatus
from storage.db import Database
from storage.models import Delivery, Nurse, Task, Team
from tests.clocks import BASE_START
from tests.harness import Harness
from tests.reminder_support import add_patient

TEAMS = 3
NURSES_PER_TEAM = 2


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    """Every SQL statement sent to the database inside the block."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def _teams(h: Harness) -> dict[int, int]:
    """TEAMS teams, each with a supervisor and NURSES_PER_TEAM nurses (no digests: every day
    is off). Returns nurse id -> her team's supervisor id."""
    now = h.clock.now()
    supervisor_of: dict[int, int] = {}
    async with h.db.uow() as session:
        for t in range(TEAMS):
            team = Team(name=f"Team {t}", created_at=now)
            session.add(team)
            await session.flush()
            people = []
            for n in range(NURSES_PER_TEAM + 1):
                user = h.fake.user(first_name=f"T{t}N{n}")
                nurse = Nurse(
                    telegram_user_id=user.id, chat_id=user.id, display_name=f"Nurse {t}.{n}",
                    role=Role.SUPERVISOR if n == 0 else Role.NURSE, team_id=team.id,
                    timezone="America/Chicago", digest_time=time(7, 30),
                    days_off="mon,tue,wed,thu,fri,sat,sun", settings_done=True,
                    enrolled_at=now - timedelta(days=30),
                )  # fmt: skip
                session.add(nurse)
                people.append(nurse)
            await session.flush()
            for nurse in people[1:]:
                supervisor_of[nurse.id] = people[0].id
    return supervisor_of


async def _overdue_tcm_contacts(h: Harness, nurses: list[int], count: int) -> None:
    """`count` open TCM contact tasks past their deadline, spread over `nurses`."""
    now = h.clock.now()
    rows = [
        {
            "nurse_id": nurses[i % len(nurses)],
            "patient_id": None,
            "kind": TaskKind.TCM_CONTACT,
            "title": "",
            "due_at": now - timedelta(hours=1 + i % 48),
            "has_time": False,
            "status": TaskStatus.OPEN,
            "urgent": False,
            "attempts_documented": False,
            "created_at": now - timedelta(days=3),
        }  # fmt: skip
        for i in range(count)
    ]
    async with h.db.uow() as session:
        await session.execute(insert(Task), rows)


async def _as_if_sent(h: Harness) -> None:
    """Mark every planned push sent an hour ago (what the claim and send would have done)."""
    async with h.db.uow() as session:
        await session.execute(
            update(Delivery).values(
                status=DeliveryStatus.SENT, sent_at=h.clock.now() - timedelta(hours=1)
            )
        )


def _fresh(h: Harness) -> Dispatcher:
    d = Dispatcher(
        db=h.db,
        bot=h.app.bot,
        config=h.app.services.config,
        clock=h.clock,
        worker_id="counted",
    )
    d.per_chat_gap = 0.0
    return d


async def test_statements_per_pass_do_not_grow_with_overdue_tasks_and_each_escalates_once(
    harness: Harness,
) -> None:
    supervisor_of = await _teams(harness)
    nurses = sorted(supervisor_of)
    dispatcher = _fresh(harness)

    # 10 overdue TCM contacts under three supervisors: the first pass reads them all (a sweep).
    await _overdue_tcm_contacts(harness, nurses, 10)
    with counted(harness.db) as first_plan:
        assert await dispatcher.plan(harness.clock.now()) == 10
    await _as_if_sent(harness)
    harness.clock.advance(timedelta(seconds=2))
    with counted(harness.db) as idle_after_10:
        await dispatcher.run_once()

    # 490 more: the next pass finds the new ones (created since) in as many statements.
    await _overdue_tcm_contacts(harness, nurses, 490)
    harness.clock.advance(timedelta(seconds=2))
    with counted(harness.db) as second_plan:
        assert await dispatcher.plan(harness.clock.now()) == 490
    await _as_if_sent(harness)
    harness.clock.advance(timedelta(seconds=2))
    with counted(harness.db) as idle_after_500:
        await dispatcher.run_once()

    assert len(second_plan) == len(first_plan)
    assert len(idle_after_500) == len(idle_after_10)
    # A pass with nothing new: the outbox's state, the push schedules, the reminders and
    # escalations whose moment came since the last pass, and on SQLite the BEGIN. No write.
    assert len(idle_after_10) <= 5, idle_after_10
    assert not [s for s in idle_after_10 if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]

    # A fresh dispatcher (another process, a restart) sweeps all 500: in as many statements,
    # and it plans nothing again.
    other = _fresh(harness)
    with counted(harness.db) as sweep:
        assert await other.plan(harness.clock.now()) == 0
    assert len(sweep) <= len(idle_after_10)
    harness.clock.advance(timedelta(minutes=11))  # the periodic sweep
    assert await dispatcher.plan(harness.clock.now()) == 0

    async with harness.db.uow(read_only=True) as session:
        rows = (
            await session.execute(
                select(Delivery.task_id, Delivery.nurse_id, Task.nurse_id)
                .join(Task, Task.id == Delivery.task_id)
                .where(Delivery.kind == DeliveryKind.ESCALATION)
            )
        ).all()
    assert len(rows) == 500
    assert len({task for task, _, _ in rows}) == 500  # each task once
    assert all(sent_to == supervisor_of[owner] for _, sent_to, owner in rows)


async def test_an_update_wakes_the_dispatcher_only_when_it_made_something_due_soon(
    harness: Harness,
) -> None:
    harness.clock.set(BASE_START)  # Mon 10:15, whatever hour --clock-at chose: see below
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    dispatcher = harness.app.services.dispatcher
    assert isinstance(dispatcher, Dispatcher)
    before = dispatcher.wakes

    await harness.send(ana, "/help")
    await harness.send(ana, "/reminders")
    await harness.send(ana, "Called Maria Lopez, discussed new insulin dose. f/u Friday")
    assert "Follow-up: Fri 27 Nov" in harness.last_text(ana)
    assert dispatcher.wakes == before  # the follow-up is reminded on Friday: the poll's

    # Mon 10:15: a follow-up due today is reminded at 09:00, already past: due now.
    await harness.send(ana, "Called Maria Lopez about her BP. f/u today")
    assert "Follow-up: Mon 23 Nov" in harness.last_text(ana)
    assert dispatcher.wakes == before + 1


async def test_a_burst_of_wakes_runs_one_pass(harness: Harness) -> None:
    dispatcher = harness.app.services.dispatcher
    assert isinstance(dispatcher, Dispatcher)
    job_queue = harness.app.job_queue
    assert job_queue is not None
    dispatcher.start(job_queue)  # its first poll runs at once
    async with asyncio.timeout(10):
        while dispatcher.passes < 1 or dispatcher.busy:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    passes = dispatcher.passes

    for _ in range(20):
        dispatcher.wake_soon()
    assert [job.name for job in job_queue.jobs()].count("dispatch") == 1

    async with asyncio.timeout(10):
        while dispatcher.passes == passes:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)  # time for any further pass to have started
    assert dispatcher.passes == passes + 1


async def test_each_push_costs_one_marking_update_committed_just_before_its_send(
    harness: Harness,
) -> None:
    """The "attempted" mark (deliveries.send_started_at) is the send path's only per-push
    statement: one UPDATE by id (on SQLite in its own BEGIN IMMEDIATE), committed before the
    push's sendMessage; the rest of a pass does not grow with the number of pushes."""
    supervisor_of = await _teams(harness)
    nurses = sorted(supervisor_of)
    dispatcher = _fresh(harness)
    events: list[str] = []
    handle = harness.fake.handle

    async def recording(url: str, params: Any, files: Any) -> Any:
        if url.endswith("/sendMessage"):
            events.append("send")
        return await handle(url, params, files)

    def marking(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "send_started_at=" in statement.replace(" ", ""):
            events.append("mark")

    harness.fake.handle = recording  # type: ignore[method-assign]
    event.listen(harness.db.engine.sync_engine, "after_cursor_execute", marking)
    passes: list[list[str]] = []
    try:
        for count in (3, 6):
            await _overdue_tcm_contacts(harness, nurses, count)
            harness.clock.advance(timedelta(seconds=2))
            events.clear()
            with counted(harness.db) as statements:
                report = await dispatcher.run_once()
            assert report.sent == count
            passes.append(statements)
            marks = [s for s in statements if "send_started_at=" in s.replace(" ", "")]
            assert len(marks) == count, marks
            assert all(s.lstrip().upper().startswith("UPDATE") for s in marks)
            # Every send has its mark written before it (chats are sent to concurrently).
            assert events.count("send") == count
            assert all(
                events[: i + 1].count("mark") > events[:i].count("send")
                for i, e in enumerate(events)
                if e == "send"
            ), events
    finally:
        harness.fake.handle = handle  # type: ignore[method-assign]
        event.remove(harness.db.engine.sync_engine, "after_cursor_execute", marking)
    per_push = 2 if harness.db.dialect == "sqlite" else 1  # the UPDATE (+ SQLite's BEGIN)
    assert len(passes[1]) - len(passes[0]) == 3 * per_push, passes

"""Task actions: done, snooze, move to tomorrow; and the list of upcoming pushes.

One transaction each, audited, checked against the acting nurse's ownership. Must not import
telegram or handlers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.care import local_time_on
from bot.care.closing import resolution_when_marked_done
from bot.clock import Clock
from bot.render.tasks import TaskLine
from bot.vocab import TaskStatus
from storage import deliveries as outbox
from storage import due, records
from storage.audit import record_audit
from storage.db import Database
from storage.models import Patient, Task


class TaskOutcome(enum.StrEnum):
    DONE = "done"
    SNOOZED = "snoozed"
    ALREADY_DONE = "already_done"
    CANCELLED = "cancelled"
    NOT_YOURS = "not_yours"
    MISSING = "missing"


@dataclass(frozen=True)
class TaskResult:
    """What a press or /done N did; ``task`` names the task and its patient (for the reply)."""

    outcome: TaskOutcome
    until: datetime | None = None
    patient_id: int | None = None
    task: TaskLine | None = None


async def _line(session: AsyncSession, task: Task) -> TaskLine:
    """The task as a reply names it: kind, title, patient."""
    patient = await session.get(Patient, task.patient_id) if task.patient_id else None
    return TaskLine(
        task.id,
        task.kind,
        task.due_at,
        title=task.title or "",
        has_time=task.has_time,
        patient_id=task.patient_id,
        patient_name=patient.display_name if patient is not None else None,
        resolution=task.resolution,
    )


async def _load_owned(session: AsyncSession, task_id: int, nurse_id: int) -> Task | TaskOutcome:
    task = await session.get(Task, task_id)
    if task is None:
        return TaskOutcome.MISSING
    if task.nurse_id != nurse_id:
        return TaskOutcome.NOT_YOURS
    if task.status == TaskStatus.DONE:
        return TaskOutcome.ALREADY_DONE
    if task.status == TaskStatus.CANCELLED:
        return TaskOutcome.CANCELLED
    return task


async def complete_task(
    db: Database, clock: Clock, *, nurse_id: int, task_id: int, command: str = "done"
) -> TaskResult:
    now = clock.now()
    async with db.uow() as session:
        task = await _load_owned(session, task_id, nurse_id)
        if isinstance(task, TaskOutcome):
            await _audit_refusal(session, now, nurse_id, task_id, task, command)
            return TaskResult(task)
        task.status = TaskStatus.DONE
        task.completed_at = now
        # No record behind it: a TCM deadline marked done after it passed is "not met".
        task.resolution = resolution_when_marked_done(task.kind, task.due_at, now)
        await outbox.cancel_pending_for_task(session, task_id=task.id)
        await record_audit(
            session,
            at=now,
            action="task.done",
            actor_nurse_id=nurse_id,
            command=command,
            patient_id=task.patient_id,
            entity="task",
            entity_id=task.id,
            detail={"before": {"status": "open"}, "resolution": task.resolution.value},
        )
        return TaskResult(
            TaskOutcome.DONE, patient_id=task.patient_id, task=await _line(session, task)
        )


async def snooze_task(
    db: Database,
    clock: Clock,
    *,
    nurse_id: int,
    task_id: int,
    by: timedelta | None = None,
    tomorrow_at: time | None = None,
    zone: ZoneInfo | None = None,
    command: str = "snooze",
) -> TaskResult:
    """Remind `by` later (after now, or after a reminder still to come), or tomorrow at
    `tomorrow_at` in `zone`."""
    now = clock.now()
    if by is None and (tomorrow_at is None or zone is None):
        raise ValueError("give by, or tomorrow_at and zone")
    async with db.uow() as session:
        task = await _load_owned(session, task_id, nurse_id)
        if isinstance(task, TaskOutcome):
            await _audit_refusal(session, now, nurse_id, task_id, task, command)
            return TaskResult(task)
        if by is not None:
            until = max(now, task.remind_at or now) + by
        else:
            assert tomorrow_at is not None
            assert zone is not None
            tomorrow = now.astimezone(zone).date() + timedelta(days=1)
            until = local_time_on(tomorrow, tomorrow_at, zone)
        before = task.remind_at.isoformat() if task.remind_at else None
        task.snoozed_until = until
        task.remind_at = until
        due.note_task(session, task)
        await outbox.cancel_pending_for_task(session, task_id=task.id)
        await record_audit(
            session,
            at=now,
            action="task.snoozed",
            actor_nurse_id=nurse_id,
            command=command,
            patient_id=task.patient_id,
            entity="task",
            entity_id=task.id,
            detail={"before": {"remind_at": before}, "after": {"remind_at": until.isoformat()}},
        )
        return TaskResult(
            TaskOutcome.SNOOZED,
            until=until,
            patient_id=task.patient_id,
            task=await _line(session, task),
        )


async def open_task(db: Database, *, nurse_id: int, task_id: int) -> TaskLine | TaskOutcome:
    """One of her open tasks as a list item shows it (for its [Done] [+1h] ... buttons)."""
    async with db.uow(read_only=True) as session:
        task = await _load_owned(session, task_id, nurse_id)
        if isinstance(task, TaskOutcome):
            return task
        return await _line(session, task)


async def task_patient(db: Database, *, nurse_id: int, task_id: int) -> int | None:
    """The patient of one of her open tasks (for "Log contact"), or None."""
    async with db.uow(read_only=True) as session:
        task = await session.get(Task, task_id)
        if task is None or task.nurse_id != nurse_id:
            return None
        return task.patient_id


async def _audit_refusal(
    session: object,
    now: datetime,
    nurse_id: int,
    task_id: int,
    outcome: TaskOutcome,
    command: str,
) -> None:
    if outcome == TaskOutcome.NOT_YOURS:
        await record_audit(
            session,  # type: ignore[arg-type]
            at=now,
            action="task.refused",
            actor_nurse_id=nurse_id,
            command=command,
            entity="task",
            entity_id=task_id,
        )


@dataclass(frozen=True)
class Upcoming:
    task_id: int
    kind: str
    remind_at: datetime
    due_at: datetime
    patient_name: str | None


async def upcoming_reminders(
    db: Database, clock: Clock, *, nurse_id: int, limit: int = 20
) -> list[Upcoming]:
    """Her open tasks with a reminder still to come, soonest first (an audited read)."""
    now = clock.now()
    async with db.uow() as session:
        rows = await records.upcoming_reminders(
            session, nurse_id=nurse_id, since=now - timedelta(minutes=5), limit=limit
        )
        await record_audit(
            session,
            at=now,
            action="reminders.viewed",
            actor_nurse_id=nurse_id,
            command="reminders",
            detail={"count": len(rows)},
        )
    return [Upcoming(r.task_id, r.kind, r.remind_at, r.due_at, r.patient_name) for r in rows]

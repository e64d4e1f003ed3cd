"""The dispatcher's reads of what may need a push, and the rows a claimed push is composed from.

Tasks whose reminder time has come, open TCM contact tasks near their deadline, the push
settings of the nurses who get digests, the cadence check-in tasks a digest creates, and, for a
batch of claimed deliveries, their tasks, nurses, patients and origins in a few IN queries.
The outbox rows themselves (insert, claim, settle) are storage.deliveries'. Repository
functions take the session first, keyword-only arguments after, and never commit.
Must not import telegram, handlers or bot.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, insert, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocab import DeliveryKind, TaskKind, TaskStatus
from storage.models import Appointment, Contact, Delivery, Nurse, Patient, Task
from storage.worklist import not_paused


@dataclass(frozen=True)
class ReminderDue:
    """An open task whose reminder time has come, with its nurse's push settings."""

    task_id: int
    nurse_id: int
    kind: str
    remind_at: datetime
    due_at: datetime
    urgent: bool
    timezone: str
    quiet_start: time | None
    quiet_end: time | None


def _in_scope(
    window: Select[int], *, after_task_id: int, task_ids: Collection[int]
) -> ColumnElement[bool]:
    """Task.id in: the window's tasks, the tasks created after `after_task_id`, `task_ids`.
    Each part is read through an index (the window's, the primary key)."""
    parts = [window, select(Task.id).where(Task.id > after_task_id)]
    if task_ids:
        parts.append(select(Task.id).where(Task.id.in_(sorted(task_ids))))
    scope = union(*parts).subquery()
    return Task.id.in_(select(scope.c.id))


async def reminders_due(
    session: AsyncSession,
    *,
    now: datetime,
    since: datetime | None = None,
    after_task_id: int = 0,
    task_ids: Collection[int] = (),
    limit: int = 2000,
) -> list[ReminderDue]:
    """Open tasks of active, reachable nurses whose reminder time has come (at or before `now`)
    and that have no reminder delivery for that time yet, soonest first.

    Without `since`, every such task (a sweep). With it, only the tasks whose reminder time
    fell in (since, now], those created since (id above `after_task_id`) and `task_ids`
    (changed since): what can have become due since the last pass.
    """
    has_delivery = (
        select(Delivery.id)
        .where(
            Delivery.task_id == Task.id,
            Delivery.kind == DeliveryKind.REMINDER,
            Delivery.due_at == Task.remind_at,
        )
        .exists()
    )
    query = (
        select(
            Task.id,
            Task.nurse_id,
            Task.kind,
            Task.remind_at,
            Task.due_at,
            Task.urgent,
            Nurse.timezone,
            Nurse.quiet_start,
            Nurse.quiet_end,
        )
        .join(Nurse, Nurse.id == Task.nurse_id)
        .where(
            Task.status == TaskStatus.OPEN,
            Task.remind_at.is_not(None),
            Task.remind_at <= now,
            Nurse.active.is_(True),
            Nurse.unreachable.is_(False),
            not_paused(),  # routine work of a patient in hospital waits for her discharge
            ~has_delivery,
        )
        .order_by(Task.remind_at)
        .limit(limit)
    )
    if since is not None:
        window = select(Task.id).where(
            Task.status == TaskStatus.OPEN, Task.remind_at > since, Task.remind_at <= now
        )
        query = query.where(_in_scope(window, after_task_id=after_task_id, task_ids=task_ids))
    return [
        ReminderDue(
            task_id=r.id,
            nurse_id=r.nurse_id,
            kind=r.kind.value,
            remind_at=r.remind_at,
            due_at=r.due_at,
            urgent=bool(r.urgent),
            timezone=r.timezone,
            quiet_start=r.quiet_start,
            quiet_end=r.quiet_end,
        )
        for r in (await session.execute(query)).all()
    ]


@dataclass(frozen=True)
class EscalationDue:
    """An open TCM contact task near or past its deadline, with its nurse's reporting line."""

    task_id: int
    nurse_id: int
    supervisor_id: int | None
    team_id: int | None


async def escalations_due(
    session: AsyncSession,
    *,
    horizon: datetime,
    since: datetime | None = None,
    after_task_id: int = 0,
    task_ids: Collection[int] = (),
    limit: int = 2000,
) -> list[EscalationDue]:
    """Open TCM contact tasks without two documented attempts, due at or before `horizon`,
    not escalated yet, earliest deadline first.

    Without `since`, every such task (a sweep). With it, only the tasks whose deadline fell in
    (since, horizon], those created since (id above `after_task_id`) and `task_ids`.
    """
    escalated = (
        select(Delivery.id)
        .where(Delivery.task_id == Task.id, Delivery.kind == DeliveryKind.ESCALATION)
        .exists()
    )
    query = (
        select(Task.id, Task.nurse_id, Nurse.supervisor_id, Nurse.team_id)
        .join(Nurse, Nurse.id == Task.nurse_id)
        .where(
            Task.kind == TaskKind.TCM_CONTACT,
            Task.status == TaskStatus.OPEN,
            Task.attempts_documented.is_(False),
            Task.due_at <= horizon,
            ~escalated,
        )
        .order_by(Task.due_at, Task.id)
        .limit(limit)
    )
    if since is not None:
        window = select(Task.id).where(
            Task.kind == TaskKind.TCM_CONTACT,
            Task.status == TaskStatus.OPEN,
            Task.due_at > since,
            Task.due_at <= horizon,
        )
        query = query.where(_in_scope(window, after_task_id=after_task_id, task_ids=task_ids))
    return [
        EscalationDue(
            task_id=r.id, nurse_id=r.nurse_id, supervisor_id=r.supervisor_id, team_id=r.team_id
        )
        for r in (await session.execute(query)).all()
    ]


@dataclass(frozen=True)
class PushSchedule:
    """An active, reachable nurse's digest settings."""

    nurse_id: int
    timezone: str
    digest_time: time
    days_off: str
    enrolled_at: datetime


async def push_schedules(session: AsyncSession) -> list[PushSchedule]:
    """Every nurse who gets pushes: active, reachable, with a chat."""
    query = select(
        Nurse.id, Nurse.timezone, Nurse.digest_time, Nurse.days_off, Nurse.enrolled_at
    ).where(Nurse.active.is_(True), Nurse.unreachable.is_(False), Nurse.chat_id.is_not(None))
    return [
        PushSchedule(
            nurse_id=r.id,
            timezone=r.timezone,
            digest_time=r.digest_time,
            days_off=r.days_off,
            enrolled_at=r.enrolled_at,
        )
        for r in (await session.execute(query.order_by(Nurse.id))).all()
    ]


async def open_cadence_patients(
    session: AsyncSession, *, nurse_ids: Collection[int]
) -> dict[int, set[int]]:
    """For each of these nurses, her patients who have an open cadence check-in task."""
    if not nurse_ids:
        return {}
    query = select(Task.nurse_id, Task.patient_id).where(
        Task.nurse_id.in_(sorted(nurse_ids)),
        Task.kind == TaskKind.CADENCE,
        Task.status == TaskStatus.OPEN,
    )
    found: dict[int, set[int]] = {n: set() for n in nurse_ids}
    for nurse_id, patient_id in (await session.execute(query)).all():
        if patient_id is not None:
            found[nurse_id].add(patient_id)
    return found


class NewCadenceTask(Protocol):
    """A cadence check-in task to insert (bot.outbox.planning.CadenceTask is one)."""

    @property
    def nurse_id(self) -> int: ...
    @property
    def patient_id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def due_at(self) -> datetime: ...


async def add_cadence_tasks(
    session: AsyncSession, tasks: Sequence[NewCadenceTask], *, now: datetime
) -> int:
    """Insert cadence check-in tasks (origin "cadence"), in one statement."""
    if not tasks:
        return 0
    rows: list[dict[str, Any]] = [
        {
            "nurse_id": t.nurse_id,
            "patient_id": t.patient_id,
            "kind": TaskKind.CADENCE,
            "title": t.title[:200],
            "due_at": t.due_at,
            "has_time": False,
            "status": TaskStatus.OPEN,
            "urgent": False,
            "attempts_documented": False,
            "origin_kind": "cadence",
            "created_at": now,
        }
        for t in tasks
    ]
    await session.execute(insert(Task), rows)
    return len(rows)


# -- what a batch of claimed pushes is composed from ---------------------------------------------


@dataclass
class PushRows:
    """A claimed batch's tasks, nurses, patients and origins, by id (detached, fully loaded)."""

    tasks: dict[int, Task] = field(default_factory=dict)
    nurses: dict[int, Nurse] = field(default_factory=dict)
    patients: dict[int, Patient] = field(default_factory=dict)
    contacts: dict[int, Contact] = field(default_factory=dict)
    appointments: dict[int, Appointment] = field(default_factory=dict)


async def push_rows(
    session: AsyncSession, deliveries: Iterable[Delivery], *, also_nurses: Iterable[int] = ()
) -> PushRows:
    """Everything the batch's messages name, read with one IN query per table."""
    batch = list(deliveries)
    rows = PushRows()
    task_ids = {d.task_id for d in batch if d.task_id is not None}
    if task_ids:
        rows.tasks = await _by_id(session, Task, task_ids)
    tasks = rows.tasks.values()
    nurse_ids = {d.nurse_id for d in batch} | {t.nurse_id for t in tasks} | set(also_nurses)
    rows.nurses = await _by_id(session, Nurse, nurse_ids)
    patient_ids = {t.patient_id for t in tasks if t.patient_id is not None}
    rows.patients = await _by_id(session, Patient, patient_ids)
    contact_ids = {t.origin_id for t in tasks if t.origin_kind == "contact" and t.origin_id}
    rows.contacts = await _by_id(session, Contact, contact_ids)
    appointment_ids = {t.origin_id for t in tasks if t.origin_kind == "appointment" and t.origin_id}
    rows.appointments = await _by_id(session, Appointment, appointment_ids)
    return rows


async def _by_id(session: AsyncSession, model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    found = (await session.scalars(select(model).where(model.id.in_(sorted(ids))))).all()
    return {row.id: row for row in found}

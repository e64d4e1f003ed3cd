"""Her task lists as use cases: /today, /overdue, /week, /tomorrow and the call list, one
audited transaction each; and the list she saw last, which /done N and /snooze N count against.

Every list reads her work only (storage.worklist.on_worklist: no appointment reminders or
attendance checks, no routine work of a patient in hospital). A page holds at most
`TASK_PAGE` numbered items (one button each, plus [Prev] [Next]: at most 8 buttons) and, on
the first page of a day's list, up to `APPOINTMENTS_SHOWN` appointment lines. Showing a page
remembers its numbered items (storage.lists.remember_view) in the same transaction.
Must not import telegram or handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.care import end_of_local_day, start_of_local_day
from bot.config import Config
from bot.render.tasks import TaskLine
from bot.services.nurse import NurseView
from bot.services.saving import care_rules
from bot.vocab import Refusal, TaskKind
from storage import digest as digest_store
from storage import lists as list_store
from storage import queries as repo
from storage.audit import record_audit
from storage.db import Database

TASK_PAGE = 6
"""Items a page: six numbered buttons and [Prev] [Next] make at most 8 buttons."""
APPOINTMENTS_SHOWN = 4
"""Appointment lines on the first page of a day (the rest are counted)."""
WEEK_DAYS = 7
CALLS_READ = 200


@dataclass(frozen=True)
class ListView:
    """One page of tasks (and, on the first page, the window's appointments)."""

    tasks: repo.Page[TaskLine]
    appointments: repo.Page[repo.AppointmentRow] | None
    start: datetime | None
    end: datetime
    page: int = 0

    @property
    def first_number(self) -> int:
        return self.page * TASK_PAGE + 1


@dataclass(frozen=True)
class CallItem:
    """One line of the call list: a task to close by a call, or a patient past her contact
    cadence (no task: `task_id` None). `deadline` sorts the list (None: never reached)."""

    patient_id: int
    patient_name: str
    kind: TaskKind
    deadline: datetime | None
    task_id: int | None = None
    title: str = ""
    attempts: int = 0
    risk: str = ""
    last_reached_at: datetime | None = None
    cadence_days: int = 0


@dataclass(frozen=True)
class CallList:
    items: tuple[CallItem, ...]
    total: int
    page: int

    @property
    def first_number(self) -> int:
        return self.page * TASK_PAGE + 1


@dataclass(frozen=True)
class PatientAnswer:
    """A patient's name and what was asked about her (next appointment, open referrals)."""

    name: str
    next_appointment: list_store.NextAppointment | None = None
    referrals: tuple[list_store.OpenReferral, ...] = ()


def _page(page: int) -> int:
    return max(0, min(page, 10_000))


async def _audit(
    session: AsyncSession,
    nurse: NurseView,
    *,
    now: datetime,
    action: str,
    command: str,
    detail: dict[str, Any],
) -> None:
    await record_audit(
        session,
        at=now,
        action=action,
        actor_nurse_id=nurse.id,
        actor_telegram_id=nurse.telegram_user_id,
        command=command,
        entity="nurse",
        entity_id=nurse.id,
        detail=detail,
    )


async def _task_view(
    db: Database,
    nurse: NurseView,
    *,
    view: str,
    now: datetime,
    page: int,
    start: datetime | None,
    end: datetime,
    with_appointments: bool,
) -> ListView:
    page = _page(page)
    async with db.uow() as session:
        tasks = await repo.tasks_due(
            session,
            nurse_id=nurse.id,
            start=start,
            end=end,
            offset=page * TASK_PAGE,
            limit=TASK_PAGE,
        )
        appointments = None
        if with_appointments and page == 0:
            appointments = await repo.appointments_between(
                session,
                nurse_id=nurse.id,
                start=start or now,
                end=end,
                offset=0,
                limit=APPOINTMENTS_SHOWN,
            )
        ids = {t.patient_id for t in tasks.rows if t.patient_id is not None}
        if appointments is not None:
            ids |= {a.patient_id for a in appointments.rows}
        await list_store.remember_view(
            session,
            nurse_id=nurse.id,
            view=view,
            first_number=page * TASK_PAGE + 1,
            task_ids=[t.id for t in tasks.rows],
            total=tasks.total,
            now=now,
        )
        await _audit(
            session,
            nurse,
            now=now,
            action=f"{view}.viewed",
            command=view,
            detail={
                "page": page,
                "patient_ids": sorted(ids),
                "task_ids": [t.id for t in tasks.rows],
            },
        )
    lines = tuple(task_line(t) for t in tasks.rows)
    return ListView(
        tasks=repo.Page(lines, tasks.total, tasks.offset),
        appointments=appointments,
        start=start,
        end=end,
        page=page,
    )


def task_line(row: repo.TaskRow) -> TaskLine:
    return TaskLine(
        row.id,
        row.kind,
        row.due_at,
        title=row.title,
        attempts_documented=row.attempts_documented,
        urgent=row.urgent,
        patient_id=row.patient_id,
        patient_name=row.patient_name,
    )


def _day_bounds(nurse: NurseView, now: datetime, days_ahead: int) -> tuple[datetime, datetime]:
    day = now.astimezone(nurse.zone).date() + timedelta(days=days_ahead)
    start = start_of_local_day(day, nurse.zone)
    return start, end_of_local_day(day, nurse.zone) + timedelta(microseconds=1)


async def today(db: Database, nurse: NurseView, *, now: datetime, page: int = 0) -> ListView:
    """Appointments and open tasks of her local today (overdue ones are /overdue's)."""
    start, end = _day_bounds(nurse, now, 0)
    return await _task_view(
        db,
        nurse,
        view="today",
        now=now,
        page=page,
        start=start,
        end=end,
        with_appointments=True,
    )


async def tomorrow(db: Database, nurse: NurseView, *, now: datetime, page: int = 0) -> ListView:
    """Appointments and open tasks of her local tomorrow."""
    start, end = _day_bounds(nurse, now, 1)
    return await _task_view(
        db,
        nurse,
        view="tomorrow",
        now=now,
        page=page,
        start=start,
        end=end,
        with_appointments=True,
    )


async def overdue(db: Database, nurse: NurseView, *, now: datetime, page: int = 0) -> ListView:
    """Her open tasks past their deadline, oldest first."""
    return await _task_view(
        db,
        nurse,
        view="overdue",
        now=now,
        page=page,
        start=None,
        end=now,
        with_appointments=False,
    )


async def week(db: Database, nurse: NurseView, *, now: datetime, page: int = 0) -> ListView:
    """Appointments and deadlines from now to the end of the 7th local day from today."""
    _, end = _day_bounds(nurse, now, WEEK_DAYS - 1)
    return await _task_view(
        db,
        nurse,
        view="week",
        now=now,
        page=page,
        start=now,
        end=end,
        with_appointments=True,
    )


# -- the call list --------------------------------------------------------------------------------


async def calls(
    db: Database, nurse: NurseView, config: Config, *, now: datetime, page: int = 0
) -> CallList:
    """Whom to call, soonest deadline first: her follow-ups and check-ins due by the end of
    today (overdue ones too), TCM contacts whose window is open with the attempts so far, and
    patients past their contact cadence who have no such task."""
    page = _page(page)
    _, end = _day_bounds(nurse, now, 0)
    cadence = dict(care_rules(config).cadence_days)
    async with db.uow() as session:
        rows = await list_store.call_tasks(
            session, nurse_id=nurse.id, now=now, end_of_day=end, limit=CALLS_READ
        )
        gaps = await digest_store.past_cadence(
            session, nurse_id=nurse.id, now=now, cadence_days=cadence, limit=CALLS_READ
        )
        items = [
            CallItem(
                patient_id=r.patient_id,
                patient_name=r.patient_name,
                kind=r.kind,
                deadline=r.due_at,
                task_id=r.task_id,
                title=r.title,
                attempts=r.attempts,
                risk=r.risk,
            )
            for r in rows
        ]
        listed = {i.patient_id for i in items}
        for gap in gaps:
            if gap.patient.id in listed:
                continue
            days = cadence.get(gap.risk, 0)
            items.append(
                CallItem(
                    patient_id=gap.patient.id,
                    patient_name=gap.patient.name,
                    kind=TaskKind.CADENCE,
                    deadline=gap.last_reached_at + timedelta(days=days)
                    if gap.last_reached_at
                    else None,
                    risk=gap.risk,
                    last_reached_at=gap.last_reached_at,
                    cadence_days=days,
                )
            )
        floor = datetime.min.replace(tzinfo=now.tzinfo)
        items.sort(key=lambda i: (i.deadline or floor, i.patient_name, i.task_id or 0))
        shown = items[page * TASK_PAGE : (page + 1) * TASK_PAGE]
        await list_store.remember_view(
            session,
            nurse_id=nurse.id,
            view="calls",
            first_number=page * TASK_PAGE + 1,
            task_ids=[i.task_id for i in shown],
            total=len(items),
            now=now,
        )
        await _audit(
            session,
            nurse,
            now=now,
            action="calls.viewed",
            command="calls",
            detail={
                "page": page,
                "patient_ids": sorted({i.patient_id for i in shown}),
                "task_ids": [i.task_id for i in shown if i.task_id is not None],
            },
        )
    return CallList(items=tuple(shown), total=len(items), page=page)


# -- one patient ----------------------------------------------------------------------------------


async def about_patient(
    db: Database, nurse: NurseView, patient_id: int, *, now: datetime, what: str
) -> PatientAnswer | Refusal:
    """Her patient's next appointment (`what` "next_appointment") or open referrals
    ("referrals"), audited as a read of the patient."""
    async with db.uow() as session:
        patient = await repo.patient_name(session, patient_id=patient_id)
        if patient is None or patient.nurse_id != nurse.id:
            return Refusal.NOT_FOUND
        answer = PatientAnswer(name=patient.name)
        if what == "next_appointment":
            found = await list_store.next_appointment(session, patient_id=patient.id, now=now)
            answer = PatientAnswer(name=patient.name, next_appointment=found)
        else:
            referrals = await list_store.open_referrals(session, patient_id=patient.id)
            answer = PatientAnswer(name=patient.name, referrals=tuple(referrals))
        await record_audit(
            session,
            at=now,
            action=f"patient.{what}_viewed",
            actor_nurse_id=nurse.id,
            actor_telegram_id=nurse.telegram_user_id,
            command="query",
            patient_id=patient.id,
            entity="patient",
            entity_id=patient.id,
        )
    return answer


# -- the list she saw last ------------------------------------------------------------------------


async def last_seen(db: Database, nurse_id: int) -> list_store.Seen | None:
    """The numbered list she saw last (what /done N counts against)."""
    async with db.uow(read_only=True) as session:
        return await list_store.last_view(session, nurse_id=nurse_id)


async def remember(
    db: Database, nurse_id: int, *, view: str, task_ids: list[int | None], now: datetime
) -> None:
    """Remember a numbered list shown outside the views here (/reminders), numbered from 1."""
    async with db.uow() as session:
        await list_store.remember_view(
            session,
            nurse_id=nurse_id,
            view=view,
            first_number=1,
            task_ids=task_ids,
            total=len(task_ids),
            now=now,
        )

"""The reads behind the call list, "when is X's next appointment", "does X have open
referrals", and the numbered list each nurse saw last (/done N, /snooze N).

The call list's tasks are her work (storage.worklist.on_worklist): follow-ups and check-ins due
by the end of her day, and TCM contact tasks whose window is open, each with the attempts
logged since its window opened. Repository functions take the session first and never commit.
Must not import telegram, handlers or bot (beyond bot.vocab).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocab import AppointmentStatus, Outcome, ReferralStatus, TaskKind, TaskStatus
from storage.models import Appointment, Contact, LastView, Patient, Referral, Task
from storage.worklist import on_worklist

CALL_KINDS = (TaskKind.FOLLOW_UP, TaskKind.CADENCE, TaskKind.CUSTOM, TaskKind.REFERRAL)
"""Work done by a call when due today (her own tasks only with a patient)."""
OPEN_REFERRAL = (ReferralStatus.SENT, ReferralStatus.SCHEDULED)


@dataclass(frozen=True)
class CallRow:
    """A task on the call list: the patient, what is due, and (TCM) the attempts so far."""

    task_id: int
    kind: TaskKind
    title: str
    due_at: datetime
    patient_id: int
    patient_name: str
    risk: str
    attempts: int
    window_start: datetime | None


@dataclass(frozen=True)
class NextAppointment:
    at: datetime
    has_time: bool
    with_whom: str
    location: str


@dataclass(frozen=True)
class OpenReferral:
    to_whom: str
    specialty: str
    sent_on: date
    status: str


@dataclass(frozen=True)
class Seen:
    """The numbered list she saw last: item n is task_ids[n - first_number] (None: a line
    with no task, e.g. a patient past her cadence)."""

    view: str
    first_number: int
    task_ids: tuple[int | None, ...]
    shown_at: datetime
    total: int = 0

    @property
    def has_more(self) -> bool:
        return self.first_number - 1 + len(self.task_ids) < self.total

    def task_at(self, number: int) -> int | None:
        index = number - self.first_number
        if 0 <= index < len(self.task_ids):
            return self.task_ids[index]
        return None

    def number_of(self, task_id: int) -> int | None:
        for i, tid in enumerate(self.task_ids):
            if tid == task_id:
                return self.first_number + i
        return None


async def call_tasks(
    session: AsyncSession, *, nurse_id: int, now: datetime, end_of_day: datetime, limit: int = 200
) -> list[CallRow]:
    """Her open calls: follow-ups and check-ins due by `end_of_day`, and TCM contacts whose
    window has opened (window_start <= now, whatever their deadline), soonest deadline first;
    each TCM contact with the attempts logged since its window opened."""
    attempts = (
        select(func.count(Contact.id))
        .where(
            Contact.patient_id == Task.patient_id,
            Contact.outcome == Outcome.ATTEMPTED,
            Contact.undone_at.is_(None),
            Contact.occurred_at >= func.coalesce(Task.window_start, Task.created_at),
        )
        .correlate(Task)
        .scalar_subquery()
    )
    query = (
        select(
            Task.id,
            Task.kind,
            Task.title,
            Task.due_at,
            Task.window_start,
            Task.patient_id,
            Patient.display_name,
            Patient.risk,
            attempts.label("attempts"),
        )
        .join(Patient, Patient.id == Task.patient_id)
        .where(
            Task.nurse_id == nurse_id,
            Task.status == TaskStatus.OPEN,
            on_worklist(),
            or_(
                Task.kind.in_(CALL_KINDS) & (Task.due_at <= end_of_day),
                (Task.kind == TaskKind.TCM_CONTACT)
                & or_(Task.window_start.is_(None), Task.window_start <= now),
            ),
        )
        .order_by(Task.due_at, Task.id)
        .limit(limit)
    )
    return [
        CallRow(
            task_id=r.id,
            kind=TaskKind(r.kind),
            title=r.title or "",
            due_at=r.due_at,
            patient_id=r.patient_id,
            patient_name=r.display_name,
            risk=r.risk.value,
            attempts=int(r.attempts or 0) if r.kind == TaskKind.TCM_CONTACT else 0,
            window_start=r.window_start,
        )
        for r in (await session.execute(query)).all()
    ]


async def tcm_attempts(session: AsyncSession, *, task_ids: Sequence[int]) -> dict[int, int]:
    """For each TCM contact task, the attempted contacts with its patient since its window
    opened (the digest's TCM section)."""
    if not task_ids:
        return {}
    query = (
        select(Task.id, func.count(Contact.id))
        .join(
            Contact,
            (Contact.patient_id == Task.patient_id)
            & (Contact.outcome == Outcome.ATTEMPTED)
            & Contact.undone_at.is_(None)
            & (Contact.occurred_at >= func.coalesce(Task.window_start, Task.created_at)),
        )
        .where(Task.id.in_(list(task_ids)), Task.kind == TaskKind.TCM_CONTACT)
        .group_by(Task.id)
    )
    return {int(tid): int(n) for tid, n in (await session.execute(query)).all()}


async def next_appointment(
    session: AsyncSession, *, patient_id: int, now: datetime
) -> NextAppointment | None:
    """The patient's next scheduled appointment from `now` (appointments of the day without
    a time count from that day's start, so they are compared at their stored moment)."""
    row = (
        await session.execute(
            select(
                Appointment.at, Appointment.has_time, Appointment.with_whom, Appointment.location
            )
            .where(
                Appointment.patient_id == patient_id,
                Appointment.status == AppointmentStatus.SCHEDULED,
                Appointment.undone_at.is_(None),
                Appointment.at >= now,
            )
            .order_by(Appointment.at, Appointment.id)
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return NextAppointment(
        at=row.at,
        has_time=bool(row.has_time),
        with_whom=row.with_whom or "",
        location=row.location or "",
    )


async def open_referrals(session: AsyncSession, *, patient_id: int) -> list[OpenReferral]:
    """The patient's referrals still sent or scheduled, oldest first."""
    query = (
        select(Referral.to_whom, Referral.specialty, Referral.sent_on, Referral.status)
        .where(Referral.patient_id == patient_id, Referral.status.in_(OPEN_REFERRAL))
        .order_by(Referral.sent_on, Referral.id)
        .limit(20)
    )
    return [
        OpenReferral(r.to_whom, r.specialty or "", r.sent_on, ReferralStatus(r.status).value)
        for r in (await session.execute(query)).all()
    ]


# -- the list she saw last ------------------------------------------------------------------------


async def remember_view(
    session: AsyncSession,
    *,
    nurse_id: int,
    view: str,
    first_number: int,
    task_ids: Sequence[int | None],
    total: int,
    now: datetime,
) -> None:
    """Replace the list she saw last."""
    row = await session.get(LastView, nurse_id)
    if row is None:
        row = LastView(nurse_id=nurse_id)
        session.add(row)
    row.view = view[:16]
    row.first_number = first_number
    row.total = total
    row.task_ids = [t for t in task_ids]  # None: a line with no task
    row.shown_at = now


async def last_view(session: AsyncSession, *, nurse_id: int) -> Seen | None:
    row = await session.get(LastView, nurse_id)
    if row is None:
        return None
    ids = tuple(int(t) if t is not None else None for t in row.task_ids)
    return Seen(row.view, row.first_number, ids, row.shown_at, row.total)

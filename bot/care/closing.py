"""What a record closes: the one table of design.md ("What a record closes"), as a function.

Input: the new record (a contact, a med rec, a referral that is done) and the patient's open
tasks as plain rows; output: which tasks close and how their deadline went (met, late,
attempts documented), and which open TCM contact tasks now count two documented attempts.

- A reached contact with the patient or caregiver closes her open follow-ups and check-ins
  due by the end of her local day of the contact (``CloseThrough``), the reminder she tapped
  [Log contact] on, and the TCM contact task when the contact is interactive and inside the
  window. After the window's deadline the TCM contact task closes as ``LATE`` ("contacted
  late") or ``ATTEMPTS_DOCUMENTED`` (two attempts inside the window), never as met.
- A reached face-to-face visit with the patient also closes the TCM visit task from its
  window's start (``LATE`` after its deadline).
- An attempted contact closes nothing; the attempts inside each TCM contact window are counted.
- A med rec closes the med-rec tasks whose window has opened (``LATE`` after the deadline).
- A referral that moved on (scheduled, completed, declined) closes its referral follow-up.

A task the record itself created is never closed by it. Undo reverses every row (the service
reopens the tasks a record closed and recomputes the attempts).

Pure: no clock reads, no I/O. Must not import telegram, storage, sqlalchemy or handlers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.care.localtime import end_of_local_day, local_date, require_aware
from bot.vocab import (
    TCM_TASK_KINDS,
    Channel,
    CloseThrough,
    Outcome,
    Party,
    RecordKind,
    TaskKind,
    TaskResolution,
)

INTERACTIVE_CHANNELS = frozenset({Channel.PHONE, Channel.VISIT, Channel.CLINIC, Channel.VIDEO})
"""Channels that make a TCM interactive contact (a text or an email does not)."""

FACE_TO_FACE_CHANNELS = frozenset({Channel.VISIT, Channel.CLINIC})
"""Channels that make a TCM face-to-face visit."""

REACHING_PARTIES = frozenset({Party.PATIENT, Party.CAREGIVER})
"""Who a reached contact must be with to count as reaching the patient."""

ROUTINE_KINDS = frozenset({TaskKind.FOLLOW_UP, TaskKind.CADENCE})
"""Follow-ups and check-ins: what reaching the patient closes."""

REFERRAL_ORIGIN = "referral"
"""Task.origin_kind of a referral's follow-up (bot.services.referrals)."""


@dataclass(frozen=True)
class OpenTask:
    """One of the patient's open tasks, as a plain row."""

    id: int
    kind: TaskKind
    due_at: datetime
    window_start: datetime | None = None
    origin_kind: str | None = None
    origin_id: int | None = None


@dataclass(frozen=True)
class ContactLogged:
    """A contact being saved. ``from_task_id``: the reminder she tapped [Log contact] on."""

    record_id: int
    occurred_at: datetime
    channel: Channel
    outcome: Outcome
    with_whom: Party
    from_task_id: int | None = None


@dataclass(frozen=True)
class MedRecLogged:
    record_id: int
    performed_at: datetime


@dataclass(frozen=True)
class ReferralDone:
    """A referral that moved on at ``at`` (scheduled, completed or declined): its follow-up
    is done."""

    referral_id: int
    at: datetime


NewRecord = ContactLogged | MedRecLogged | ReferralDone


@dataclass(frozen=True)
class Closure:
    """A task that closes, and how its deadline went."""

    task_id: int
    resolution: TaskResolution

    @property
    def lapsed(self) -> bool:
        """Closed after its deadline: off her to-do list, still in the supervisor's view."""
        return self.resolution != TaskResolution.MET


@dataclass(frozen=True)
class Closing:
    """What one record does to the patient's open tasks.

    ``attempts`` holds (task id, documented) for every open TCM contact task the record does
    not close: whether two separate attempts now fall inside its window."""

    closed: tuple[Closure, ...] = ()
    attempts: tuple[tuple[int, bool], ...] = ()

    @property
    def closed_ids(self) -> tuple[int, ...]:
        return tuple(c.task_id for c in self.closed)

    @property
    def documented_ids(self) -> tuple[int, ...]:
        return tuple(task_id for task_id, documented in self.attempts if documented)


def closing_for(
    record: NewRecord,
    tasks: Sequence[OpenTask],
    *,
    zone: ZoneInfo,
    through: CloseThrough = CloseThrough.END_OF_DAY,
    attempt_times: Iterable[datetime] = (),
) -> Closing:
    """Apply the closing table to one new record.

    ``tasks`` are the patient's open tasks (and the tapped reminder); ``attempt_times`` the
    patient's live unsuccessful contact attempts, this record included when it is one.
    """
    attempts = tuple(require_aware(t, "attempt time").astimezone(UTC) for t in attempt_times)
    if isinstance(record, ContactLogged):
        return _contact(record, tasks, zone, through, attempts)
    if isinstance(record, MedRecLogged):
        at = record.performed_at
        return Closing(
            closed=tuple(
                Closure(t.id, resolution_by(t.due_at, at))
                for t in tasks
                if t.kind == TaskKind.MED_REC and _opened(t, at)
            )
        )
    return Closing(
        closed=tuple(
            Closure(t.id, resolution_by(t.due_at, record.at))
            for t in tasks
            if t.kind == TaskKind.REFERRAL
            and t.origin_kind == REFERRAL_ORIGIN
            and t.origin_id == record.referral_id
        )
    )


def _contact(
    record: ContactLogged,
    tasks: Sequence[OpenTask],
    zone: ZoneInfo,
    through: CloseThrough,
    attempts: tuple[datetime, ...],
) -> Closing:
    at = require_aware(record.occurred_at, "occurred_at")
    reached = record.outcome == Outcome.REACHED and record.with_whom in REACHING_PARTIES
    own = (RecordKind.CONTACT.value, record.record_id)
    limit = (
        at if through == CloseThrough.CONTACT_TIME else end_of_local_day(local_date(at, zone), zone)
    )
    closed: list[Closure] = []
    flags: list[tuple[int, bool]] = []
    for task in tasks:
        if (task.origin_kind, task.origin_id) == own:
            continue
        if task.kind == TaskKind.TCM_CONTACT:
            documented = attempts_documented(task, attempts)
            if reached and record.channel in INTERACTIVE_CHANNELS and _opened(task, at):
                if at <= task.due_at:
                    closed.append(Closure(task.id, TaskResolution.MET))
                elif documented:
                    closed.append(Closure(task.id, TaskResolution.ATTEMPTS_DOCUMENTED))
                else:
                    closed.append(Closure(task.id, TaskResolution.LATE))
            else:
                flags.append((task.id, documented))
        elif task.kind == TaskKind.TCM_VISIT:
            face_to_face = record.channel in FACE_TO_FACE_CHANNELS
            if reached and face_to_face and record.with_whom == Party.PATIENT and _opened(task, at):
                closed.append(Closure(task.id, resolution_by(task.due_at, at)))
        elif task.kind in TCM_TASK_KINDS:
            continue  # the med rec: only a med rec closes it
        elif not reached:
            continue
        elif (
            task.kind in ROUTINE_KINDS and task.due_at <= limit
        ) or task.id == record.from_task_id:
            closed.append(Closure(task.id, resolution_by(task.due_at, at)))
    return Closing(closed=tuple(closed), attempts=tuple(flags))


def attempts_documented(task: OpenTask, attempt_times: Iterable[datetime]) -> bool:
    """Two or more separate unsuccessful attempts inside the task's own window
    [window_start, due_at] (the care rules computed it with the business calendar)."""
    inside = {
        t
        for t in attempt_times
        if (task.window_start is None or t >= task.window_start) and t <= task.due_at
    }
    return len(inside) >= 2


def resolution_by(due_at: datetime, at: datetime) -> TaskResolution:
    """Met when done by the deadline, late after it."""
    return TaskResolution.MET if at <= due_at else TaskResolution.LATE


def resolution_when_marked_done(kind: TaskKind, due_at: datetime, at: datetime) -> TaskResolution:
    """[Done] pressed with no record behind it: met by the deadline; after it a TCM deadline is
    not met (nothing documents it), other work is late."""
    if at <= due_at:
        return TaskResolution.MET
    return TaskResolution.NOT_MET if kind in TCM_TASK_KINDS else TaskResolution.LATE


def _opened(task: OpenTask, at: datetime) -> bool:
    return task.window_start is None or task.window_start <= at

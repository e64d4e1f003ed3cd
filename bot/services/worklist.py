"""Keeping a patient's worklist true inside a save: the closing rules applied, and the state
derived from her live records recomputed.

``apply_closing`` runs bot.care.closing on the patient's open tasks and writes the result (the
closed tasks remember the record that closed them, so undo reopens exactly those).
``refresh_patient`` recomputes what is derived from live records, never patched in place:
last reached (the latest live reached contact), admitted since (a live admission not followed
by a live discharge: routine work waits), the readmission flag of every live discharge, and
the two-attempts flag of each open TCM contact task. Every save, undo and correction ends
with it, so taking a record back leaves no trace of it.

Whatever here reopens a task, flips its two-attempts flag (its escalation) or pauses or
resumes a patient's routine work is noted for the outbox (storage.due), which plans exactly
those tasks again after the commit; closing and cancelling need no note (their pending pushes
are cancelled here).

Must not import telegram or handlers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.care import closing as rules
from bot.render.tasks import TaskLine
from bot.services.saving import Saving, line
from bot.vocab import PAUSED_BY_ADMISSION, RecordKind, TaskKind, TaskStatus
from storage import due
from storage import records as store
from storage.models import Patient, Task


@dataclass(frozen=True)
class Applied:
    """What the closing rules did: tasks closed, TCM contact tasks now "attempts documented"."""

    closed: tuple[TaskLine, ...] = ()
    flagged: tuple[TaskLine, ...] = ()


async def apply_closing(
    s: Saving,
    patient: Patient,
    record: rules.NewRecord,
    *,
    kind: RecordKind,
    record_id: int,
    from_task_id: int | None = None,
) -> Applied:
    """Close what `record` closes among the patient's open tasks (and the reminder she tapped
    [Log contact] on, when it is hers and still open)."""
    tasks = await store.open_patient_tasks(s.session, patient_id=patient.id)
    if from_task_id is not None and all(t.id != from_task_id for t in tasks):
        tapped = await store.get_task(s.session, task_id=from_task_id)
        if (
            tapped is not None
            and tapped.nurse_id == s.nurse.id
            and tapped.status == TaskStatus.OPEN
            and tapped.patient_id in (None, patient.id)
        ):
            tasks.append(tapped)
    by_id = {t.id: t for t in tasks}
    attempts = await _attempt_times(s.session, patient.id, tasks)
    result = rules.closing_for(
        record,
        [_row(t) for t in tasks],
        zone=s.zone,
        through=s.through,
        attempt_times=attempts,
    )
    closed = []
    for closure in result.closed:
        task = by_id[closure.task_id]
        close_task(task, s.now, kind, record_id)
        task.resolution = closure.resolution
        closed.append(line(task))
    await store.cancel_pending_pushes(s.session, task_ids=result.closed_ids)
    flagged = []
    for task_id, documented in result.attempts:
        task = by_id[task_id]
        was = task.attempts_documented
        task.attempts_documented = documented
        if documented != was:
            due.note_task(s.session, task)  # escalation depends on it
        if documented and not was:
            flagged.append(line(task))
    return Applied(tuple(closed), tuple(flagged))


def close_task(task: Task, now: datetime, kind: RecordKind, record_id: int) -> None:
    task.status = TaskStatus.DONE
    task.completed_at = now
    task.closed_by_kind = kind.value
    task.closed_by_id = record_id


def reopen_task(session: AsyncSession, task: Task) -> None:
    task.status = TaskStatus.OPEN
    task.completed_at = None
    task.closed_by_kind = None
    task.closed_by_id = None
    task.resolution = None
    due.note_task(session, task)  # open again: its reminder may be due


async def cancel_tasks(session: AsyncSession, tasks: Sequence[Task], now: datetime) -> None:
    for task in tasks:
        task.status = TaskStatus.CANCELLED
        task.completed_at = now
        task.resolution = None
    await store.cancel_pending_pushes(session, task_ids=[t.id for t in tasks])


async def refresh_patient(
    session: AsyncSession,
    patient: Patient,
    *,
    readmission_days: int = 30,
    reached: bool = True,
    hospital: bool = True,
    attempts: bool = True,
) -> None:
    """Recompute what is derived from her live records (see the module docstring); a save
    that cannot change some of it says so (``hospital=False`` for a contact ...)."""
    if reached:
        patient.last_reached_at = await store.latest_reached_at(session, patient_id=patient.id)
    if hospital:
        episodes = await store.live_episodes(session, patient_id=patient.id)
        admission = await store.latest_admission(session, patient_id=patient.id)
        discharged_after = admission is not None and any(
            e.discharged_on >= admission.day for e in episodes
        )
        admitted_since = None if admission is None or discharged_after else admission.day
        if (admitted_since is None) != (patient.admitted_since is None):
            # Her routine work pauses or resumes: its reminders are planned again.
            for task in await store.open_patient_tasks(session, patient_id=patient.id):
                if task.kind in PAUSED_BY_ADMISSION:
                    due.note_task(session, task)
        patient.admitted_since = admitted_since
        previous = None
        for episode in episodes:
            episode.readmission = previous is not None and (
                episode.discharged_on - previous.discharged_on <= timedelta(days=readmission_days)
            )
            previous = episode
    if not attempts:
        return
    contact_tasks = await store.open_patient_tasks(
        session, patient_id=patient.id, kind=TaskKind.TCM_CONTACT
    )
    times = await _attempt_times(session, patient.id, contact_tasks)
    for task in contact_tasks:
        documented = rules.attempts_documented(_row(task), times)
        if task.attempts_documented != documented:
            due.note_task(session, task)  # escalation depends on it
        task.attempts_documented = documented


async def _attempt_times(
    session: AsyncSession, patient_id: int, tasks: Sequence[Task]
) -> list[datetime]:
    """The patient's live attempts since the earliest open TCM contact window (none needed
    without one)."""
    windows = [t.window_start or t.created_at for t in tasks if t.kind == TaskKind.TCM_CONTACT]
    if not windows:
        return []
    until = max(t.due_at for t in tasks if t.kind == TaskKind.TCM_CONTACT)
    return await store.attempt_times(
        session, patient_id=patient_id, since=min(windows), until=until
    )


def _row(task: Task) -> rules.OpenTask:
    return rules.OpenTask(
        id=task.id,
        kind=task.kind,
        due_at=task.due_at,
        window_start=task.window_start,
        origin_kind=task.origin_kind,
        origin_id=task.origin_id,
    )

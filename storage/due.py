"""What a committed unit of work changed that the outbox must look at.

A use case notes, as it writes, each task it created or whose schedule or state it changed
(`note_task`; storage.records.add_task notes the tasks it creates) and each nurse whose push
settings or reachability it changed (`note_nurse`). When the transaction commits,
`Database.uow` hands the notes to its listeners as one `DueChanges` — the dispatcher, which
wakes only if something is due before its next poll and looks at exactly those tasks in its
next pass. A rolled-back transaction hands over nothing.

Bookkeeping on `session.info` only: no SQL. Must not import telegram, handlers or bot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocab import TaskStatus
from storage.models import Task

_NOTES = "casebot.due"


@dataclass(frozen=True)
class TaskChange:
    """A task as it was committed: what the outbox decides its pushes from."""

    task_id: int
    kind: str
    open: bool
    remind_at: datetime | None
    due_at: datetime
    attempts_documented: bool


@dataclass(frozen=True)
class DueChanges:
    """Everything one committed transaction noted."""

    tasks: tuple[TaskChange, ...] = ()
    nurse_ids: frozenset[int] = frozenset()


@dataclass
class _Notes:
    tasks: dict[int, Task] = field(default_factory=dict)  # by identity: ids come at flush
    nurse_ids: set[int] = field(default_factory=set)


def _notes(session: AsyncSession) -> _Notes:
    notes = session.info.get(_NOTES)
    if notes is None:
        notes = session.info[_NOTES] = _Notes()
    assert isinstance(notes, _Notes)
    return notes


def note_task(session: AsyncSession, task: Task) -> None:
    """This transaction created `task` or changed when or whether it is due."""
    _notes(session).tasks[id(task)] = task


def note_nurse(session: AsyncSession, nurse_id: int) -> None:
    """This transaction changed whether or when this nurse gets pushes (digest time, zone,
    days off, active, reachable)."""
    _notes(session).nurse_ids.add(nurse_id)


def committed(session: AsyncSession) -> DueChanges | None:
    """The notes of the transaction that just committed (read once), or None if it noted
    nothing."""
    notes = session.info.pop(_NOTES, None)
    if not isinstance(notes, _Notes) or not (notes.tasks or notes.nurse_ids):
        return None
    tasks = tuple(
        TaskChange(
            task_id=t.id,
            kind=t.kind.value,
            open=t.status == TaskStatus.OPEN,
            remind_at=t.remind_at,
            due_at=t.due_at,
            attempts_documented=bool(t.attempts_documented),
        )
        for t in notes.tasks.values()
        if t.id is not None
    )
    return DueChanges(tasks=tasks, nurse_ids=frozenset(notes.nurse_ids))

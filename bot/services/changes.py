"""Changes to saved records, kept so they can be taken back: the prior values of every row a
change touched, and the rows it created.

A correction, a cancellation or a reschedule ``watch``es the rows it may touch before it
touches them; ``prior()`` is then what its message's ledger link keeps (and the audit detail):
for each row, only the columns that changed, with their values before. ``take_back`` writes
them back and cancels what the change created; the caller then recomputes the patient's
derived state (bot.services.worklist.refresh_patient).

Must not import telegram or handlers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocab import TaskStatus
from storage import due
from storage import records as store
from storage.models import Base, Patient, Task
from storage.snapshots import changed, restore, snapshot

_MODELS: dict[str, type[Base]] = {
    mapper.class_.__tablename__: mapper.class_ for mapper in Base.registry.mappers
}


class Tracker:
    """Remembers rows as they were before a change, and the rows the change created."""

    def __init__(self) -> None:
        self._before: dict[tuple[str, int], tuple[Base, dict[str, Any]]] = {}
        self._created: list[tuple[str, int]] = []

    def watch(self, *rows: Base) -> None:
        for row in rows:
            key = (row.__tablename__, _id(row))
            if key not in self._before:
                self._before[key] = (row, snapshot(row))

    def created(self, *rows: Base) -> None:
        self._created.extend((row.__tablename__, _id(row)) for row in rows)

    def prior(self) -> dict[str, Any]:
        """The rows that changed (their columns before) and the rows created."""
        rows = []
        for (table, row_id), (row, before) in self._before.items():
            values = changed(before, snapshot(row))
            if values:
                rows.append({"table": table, "id": row_id, "values": values})
        return {"rows": rows, "created": [[table, row_id] for table, row_id in self._created]}


async def take_back(session: AsyncSession, prior: dict[str, Any], now: datetime) -> set[int]:
    """Restore what a change replaced and cancel (or mark undone) what it created; returns the
    ids of the patients whose rows it touched."""
    patients: set[int] = set()
    for entry in prior.get("rows", []):
        row = await session.get(_MODELS[entry["table"]], entry["id"])
        if row is None:
            continue
        restore(row, entry["values"])
        if isinstance(row, Task):
            due.note_task(session, row)  # reopened or moved back: the outbox plans it again
        patients |= _patients_of(row, entry["values"])
    created_tasks = []
    for table, row_id in prior.get("created", []):
        row = await session.get(_MODELS[table], row_id)
        if row is None:
            continue
        patients |= _patients_of(row, {})
        if isinstance(row, Task):
            if row.status != TaskStatus.CANCELLED:
                row.status = TaskStatus.CANCELLED
                row.completed_at = now
                created_tasks.append(row.id)
        elif hasattr(row, "undone_at"):
            row.undone_at = now
    await store.cancel_pending_pushes(session, task_ids=created_tasks)
    return patients


def _patients_of(row: Base, before: dict[str, Any]) -> set[int]:
    found = set()
    if isinstance(row, Patient):
        found.add(row.id)
    current = getattr(row, "patient_id", None)
    if current is not None:
        found.add(int(current))
    if before.get("patient_id") is not None:
        found.add(int(before["patient_id"]))
    return found


def _id(row: Base) -> int:
    row_id = getattr(row, "id", None)
    if not isinstance(row_id, int):
        raise ValueError("watch rows that are saved (they have an id)")
    return row_id

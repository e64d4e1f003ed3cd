"""A task as a reply shows it: the one row type of the summaries after logging, the patient
card and the task lists (/today, /overdue, /week).

Services fill it from storage rows; renderers name it with ``bot.render.labels.task_name``.
Pure data: no telegram, no storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.vocab import TaskKind


@dataclass(frozen=True)
class TaskLine:
    """One open (or just closed) task, plain and unescaped. ``has_time`` says the due moment is
    a time of day rather than the end of a day; ``patient_id`` and ``patient_name`` are set in
    lists that span patients."""

    id: int
    kind: TaskKind
    due_at: datetime
    title: str = ""
    has_time: bool = False
    attempts_documented: bool = False
    urgent: bool = False
    patient_id: int | None = None
    patient_name: str | None = None

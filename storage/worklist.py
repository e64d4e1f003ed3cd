"""Which open tasks are her work right now: the one definition every list, count and push
planner reads.

``is_work``: not an appointment reminder or an attendance check (those are pushes;
bot.vocab.WORK_TASK_KINDS). ``not_paused``: not routine work (follow-ups, check-ins) of a
patient who is in hospital (patients.admitted_since set by an admission, cleared by the
discharge). ``on_worklist`` is both. Each is a SQL condition on ``Task`` that needs no join.
Must not import telegram, handlers or bot (beyond bot.vocab).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select

from bot.vocab import PAUSED_BY_ADMISSION, WORK_TASK_KINDS
from storage.models import Patient, Task

WORK_KINDS = tuple(sorted(WORK_TASK_KINDS))
PAUSED_KINDS = tuple(sorted(PAUSED_BY_ADMISSION))


def is_work() -> ColumnElement[bool]:
    """The task is her work, not a push (appointment reminder, attendance check)."""
    return Task.kind.in_(WORK_KINDS)


def not_paused() -> ColumnElement[bool]:
    """The task is not routine work waiting for its patient's discharge."""
    in_hospital = (
        select(Patient.id)
        .where(Patient.id == Task.patient_id, Patient.admitted_since.is_not(None))
        .correlate_except(Patient)  # its own patients row, even where the query joins one
        .exists()
    )
    return or_(Task.kind.not_in(PAUSED_KINDS), ~in_hospital)


def on_worklist() -> ColumnElement[bool]:
    """Her work, and not paused: what /today, /overdue, /week, the call list and the
    digest's counts show."""
    return and_(is_work(), not_paused())


def patient_not_in_hospital() -> ColumnElement[bool]:
    """For reads of patients (cadence): she is not in hospital."""
    return Patient.admitted_since.is_(None)

"""Notes (with the vitals they report) and the tasks she sets herself, inside a transaction.

A note's vitals are stored typed (kind, value as written, unit) with the note as their
origin, so undoing the note takes them back. Her own task ("remind me to fax orders fri") is
a CUSTOM task: due by the end of the day she named and pushed at her follow-up time, or at the
time she gave; with or without a patient.

Must not import telegram or handlers.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot import care
from bot.parsing import Vital as VitalRead
from bot.parsing import When
from bot.services.saving import Logged, Saving, VitalReading, add_follow_up, line
from bot.vocab import RecordKind, TaskKind
from storage import records as store
from storage.models import Note, Patient, Vital

MAX_TITLE = 200


async def save_note(
    s: Saving,
    patient: Patient,
    *,
    text: str,
    vitals: Sequence[VitalRead] = (),
    on: tuple[RecordKind, int] | None = None,
) -> Logged:
    """A free note on a patient (or on one of her records), with its vitals typed."""
    note = Note(
        patient_id=patient.id,
        nurse_id=s.nurse.id,
        record_kind=None if on is None else on[0].value,
        record_id=None if on is None else on[1],
        text=text,
        created_at=s.now,
    )
    await store.add_record(s.session, note)
    readings = await save_vitals(s, patient, vitals, (RecordKind.NOTE, note.id))
    await s.link(RecordKind.NOTE, note.id)
    await s.audit(
        "note.added",
        patient_id=patient.id,
        entity=RecordKind.NOTE.value,
        entity_id=note.id,
        detail={
            "on": None if on is None else on[0].value,
            "on_id": None if on is None else on[1],
            "vitals": [r.kind.value for r in readings],
        },
    )
    return Logged(
        kind=RecordKind.NOTE,
        record_id=note.id,
        patient_name=patient.display_name,
        patient_id=patient.id,
        at=s.now,
        vitals=tuple(readings),
    )


async def save_vitals(
    s: Saving, patient: Patient, vitals: Sequence[VitalRead], origin: tuple[RecordKind, int]
) -> tuple[VitalReading, ...]:
    """Typed vital readings, taken now, from one of her records (undoing it takes them back)."""
    readings = []
    for vital in vitals:
        row = Vital(
            patient_id=patient.id,
            nurse_id=s.nurse.id,
            kind=vital.kind,
            value=vital.value[:16],
            unit=vital.unit[:12],
            taken_at=s.now,
            origin_kind=origin[0].value,
            origin_id=origin[1],
            created_at=s.now,
        )
        s.session.add(row)
        readings.append(VitalReading(row.kind, row.value, row.unit))
    await s.session.flush()
    return tuple(readings)


async def save_task(s: Saving, patient: Patient | None, *, what: str, due: When | None) -> Logged:
    """Her own task: due by the end of the day named (pushed at her follow-up time) or at the
    time given; no day means today (pushed at her follow-up time if that is still ahead)."""
    zone = s.zone
    when = due or When(care.start_of_local_day(care.local_date(s.now, zone), zone), has_time=False)
    title = " ".join(what.split())[:MAX_TITLE] or "Task"
    # The task is its own record: it is created, then named as its own origin.
    task = await add_follow_up(
        s,
        None if patient is None else patient.id,
        RecordKind.TASK,
        0,
        when,
        task_kind=TaskKind.CUSTOM,
        title=title,
    )
    task.origin_id = task.id
    if task.remind_at is not None and task.remind_at < s.now and not when.has_time:
        task.remind_at = None  # today's follow-up time is past: it shows in /today, no push
    await s.link(RecordKind.TASK, task.id)
    await s.audit(
        "task.created",
        patient_id=None if patient is None else patient.id,
        entity=RecordKind.TASK.value,
        entity_id=task.id,
        detail={"due_at": task.due_at.isoformat(), "has_time": task.has_time},
    )
    return Logged(
        kind=RecordKind.TASK,
        record_id=task.id,
        patient_name="" if patient is None else patient.display_name,
        patient_id=None if patient is None else patient.id,
        at=task.due_at,
        has_time=task.has_time,
        title=title,
        created=(line(task),),
    )

"""Corrections change the matching slot of her latest record, never make a new one, keep the
prior values, and run the closing rules again both ways."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.config import Config
from bot.parsing import CorrectionIntent, PatientRef, When
from bot.services.amend import Amended, amend_latest
from bot.services.ledger import MessageKey
from bot.services.messages import SavedMessage, save_message
from bot.services.undo import MessageUndone, undo_latest
from bot.vocab import Channel, Outcome, RecordKind, Refusal, TaskKind, TaskResolution, TaskStatus
from storage.db import Database
from storage.models import Appointment, AuditEvent, Contact, Patient, Task
from tests.services.facts_support import (
    CHICAGO,
    NOW,
    appointment,
    at,
    contact,
    discharge,
    make_nurse,
    make_patient,
    on,
    patient_state,
)

TUE = date(2026, 11, 24)
THU = date(2026, 11, 26)
FRI = date(2026, 11, 27)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def fix(
    *,
    patient: PatientRef | None = None,
    new: When | None = None,
    new_time: tuple[int, int] | None = None,
    channel: Channel | None = None,
    outcome: Outcome | None = None,
) -> CorrectionIntent:
    return CorrectionIntent(
        patient=patient, candidates=(), patient_text=None, new=new, new_time=new_time,
        channel=channel, outcome=outcome, note="",
    )  # fmt: skip


async def _tasks(db: Database) -> list[Task]:
    async with db.uow(read_only=True) as session:
        return list((await session.scalars(select(Task).order_by(Task.id))).all())


async def test_actually_make_that_thursday_moves_the_follow_up(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[contact(tom, NOW, follow_up=on(FRI))],
    )  # fmt: skip
    amended = await amend_latest(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2), correction=fix(new=on(THU))
    )
    assert isinstance(amended, Amended)
    [(slot, before, after)] = amended.changes
    assert slot == "follow_up"
    assert before is not None
    assert after is not None
    [task] = await _tasks(db)
    assert task.due_at.astimezone(CHICAGO).strftime("%a %d %H:%M") == "Thu 26 23:59"
    async with db.uow(read_only=True) as session:
        assert await session.scalar(select(func.count()).select_from(Contact)) == 1
        [event] = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "record.corrected"))
        ).all()
    [row] = event.detail["prior"]["rows"]
    assert (row["table"], row["id"]) == ("tasks", task.id)
    assert row["values"]["due_at"].startswith("2026-11-28T05:59")  # Fri 23:59 Chicago, in UTC


async def test_it_was_a_vm_reopens_what_the_call_closed_and_back_again(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    ana = await make_patient(db, nurse, "Ana Ruiz")
    clock.set(NOW - timedelta(days=1))
    await save_message(
        db,
        config,
        clock,
        nurse=nurse,
        key=MessageKey(1, 1),
        facts=[discharge(ana, TUE - timedelta(days=2))],
    )
    clock.set(NOW)
    saved = await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2), facts=[contact(ana, NOW)]
    )
    assert isinstance(saved, SavedMessage)
    assert [t.kind for t in saved.results[0].closed] == [TaskKind.TCM_CONTACT]
    amended = await amend_latest(
        db, config, clock, nurse=nurse, key=MessageKey(1, 3),
        correction=fix(channel=Channel.VOICEMAIL),
    )  # fmt: skip
    assert isinstance(amended, Amended)
    assert dict((s, (b, a)) for s, b, a in amended.changes) == {
        "channel": ("phone", "voicemail"), "outcome": ("reached", "attempted"),
    }  # fmt: skip
    assert [t.kind for t in amended.reopened] == [TaskKind.TCM_CONTACT]
    tcm = next(t for t in await _tasks(db) if t.kind == TaskKind.TCM_CONTACT)
    assert (tcm.status, tcm.resolution, tcm.closed_by_id) == (TaskStatus.OPEN, None, None)
    async with db.uow(read_only=True) as session:
        patient = await session.get(Patient, ana.id)
        assert patient is not None
        assert patient.last_reached_at is None
    back = await amend_latest(
        db, config, clock, nurse=nurse, key=MessageKey(1, 4),
        correction=fix(channel=Channel.PHONE, outcome=Outcome.REACHED),
    )  # fmt: skip
    assert isinstance(back, Amended)
    assert [t.kind for t in back.closed] == [TaskKind.TCM_CONTACT]
    tcm = next(t for t in await _tasks(db) if t.kind == TaskKind.TCM_CONTACT)
    assert (tcm.status, tcm.resolution) == (TaskStatus.DONE, TaskResolution.MET)


async def test_not_harold_i_meant_tom_moves_the_record_and_its_tasks(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    harold = await make_patient(db, nurse, "Harold Finch")
    tom = await make_patient(db, nurse, "Tom Jensen")
    assert harold.id is not None
    assert tom.id is not None
    clock.set(NOW - timedelta(days=1))
    for key, who in ((1, harold), (2, tom)):  # each has a follow-up due today
        await save_message(
            db, config, clock, nurse=nurse, key=MessageKey(1, key),
            facts=[contact(who, clock.now(), outcome=Outcome.ATTEMPTED, follow_up=on(TUE))],
        )  # fmt: skip
    clock.set(NOW)
    before = {pid: await patient_state(db, pid) for pid in (harold.id, tom.id)}
    saved = await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 3),
        facts=[contact(harold, NOW, follow_up=on(FRI))],
    )  # fmt: skip
    assert isinstance(saved, SavedMessage)
    assert [t.kind for t in saved.results[0].closed] == [TaskKind.FOLLOW_UP]
    amended = await amend_latest(
        db, config, clock, nurse=nurse, key=MessageKey(1, 4), correction=fix(patient=tom)
    )
    assert isinstance(amended, Amended)
    assert amended.record.patient_name == "Tom Jensen"
    assert [t.kind for t in amended.reopened] == [TaskKind.FOLLOW_UP]  # Harold's, open again
    assert [t.kind for t in amended.closed] == [TaskKind.FOLLOW_UP]  # Tom's, closed now
    async with db.uow(read_only=True) as session:
        [moved] = (await session.scalars(select(Contact).where(Contact.occurred_at == NOW))).all()
        follow = (
            await session.scalars(
                select(Task).where(Task.origin_kind == "contact", Task.origin_id == moved.id)
            )
        ).one()
        rows = {p.id: p for p in (await session.scalars(select(Patient))).all()}
    assert moved.patient_id == tom.id
    assert follow.patient_id == tom.id
    assert rows[harold.id].last_reached_at is None
    assert rows[tom.id].last_reached_at == NOW
    # "scratch that" twice: the correction, then the call; both patients as they were.
    assert isinstance(await undo_latest(db, config, clock, nurse=nurse), MessageUndone)
    assert isinstance(await undo_latest(db, config, clock, nurse=nurse), MessageUndone)
    for pid, state in before.items():
        after = await patient_state(db, pid)
        assert {k: v for k, v in after.items() if k in state} == state
        assert all(v.get("undone_at") or v.get("status") == "cancelled"
                   for k, v in after.items() if k not in state)  # fmt: skip


async def test_make_it_ten_moves_the_appointment_with_its_pushes(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    ana = await make_patient(db, nurse, "Ana Ruiz")
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[appointment(ana, at(FRI, 9), "cardiology")],
    )  # fmt: skip
    amended = await amend_latest(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2), correction=fix(new_time=(10, 0))
    )
    assert isinstance(amended, Amended)
    async with db.uow(read_only=True) as session:
        [appt] = (await session.scalars(select(Appointment))).all()
    assert appt.at.astimezone(CHICAGO).strftime("%a %H:%M") == "Fri 10:00"
    open_pushes = [t for t in await _tasks(db) if t.status == TaskStatus.OPEN]
    moments = [t.remind_at.astimezone(CHICAGO) for t in open_pushes if t.remind_at]
    assert sorted(m.strftime("%a %H:%M") for m in moments) == [
        "Fri 08:00",
        "Fri 11:00",
        "Thu 07:30",
    ]


async def test_a_correction_with_nothing_to_correct_changes_nothing(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    assert (
        await amend_latest(
            db, config, clock, nurse=nurse, key=None, correction=fix(channel=Channel.VOICEMAIL)
        )
        == Refusal.NOT_FOUND
    )
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1), facts=[contact(tom, NOW)]
    )
    same = await amend_latest(
        db, config, clock, nurse=nurse, key=None, correction=fix(channel=Channel.PHONE)
    )
    assert same == Refusal.NOTHING_TO_CHANGE
    saved = await amend_latest(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2), correction=fix(channel=Channel.VIDEO)
    )
    assert isinstance(saved, Amended)
    assert saved.record.kind == RecordKind.CONTACT
    again = await amend_latest(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2), correction=fix(channel=Channel.VIDEO)
    )
    assert again == Refusal.DUPLICATE


async def test_undo_of_a_correction_restores_the_record(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    assert tom.id is not None
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[contact(tom, NOW, follow_up=on(FRI))],
    )  # fmt: skip
    before = await patient_state(db, tom.id)
    await amend_latest(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2),
        correction=fix(outcome=Outcome.ATTEMPTED, new=on(THU)),
    )  # fmt: skip
    assert await patient_state(db, tom.id) != before
    undone = await undo_latest(db, config, clock, nurse=nurse)
    assert isinstance(undone, MessageUndone)
    after = await patient_state(db, tom.id)
    assert {k: v for k, v in after.items() if k[0] != "patients"} == {
        k: v for k, v in before.items() if k[0] != "patients"
    }
    assert after[("patients", tom.id)]["last_reached_at"] == NOW.isoformat()

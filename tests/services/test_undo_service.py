"""Undo restores everything: the whole patient state (every row that matters) after a message
and its undo equals the state before the message, for each kind of record and for a message
with several facts. Also: "scratch that" takes her latest message back, last reached is
recomputed from the contacts that remain, and a change (a cancellation) is taken back too."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import Config
from bot.parsing import (
    AdmissionIntent,
    EdVisitIntent,
    NewPatientIntent,
    NoteIntent,
    PatientRef,
    TaskIntent,
    Vital,
    When,
)
from bot.services import referrals
from bot.services.appointments import AppointmentChanged, cancel_appointment
from bot.services.ledger import MessageKey
from bot.services.messages import RecordFact, SavedMessage, save_message
from bot.services.nurse import NurseView
from bot.services.undo import MessageUndone, undo_latest, undo_message
from bot.vocab import (
    Channel,
    Outcome,
    Party,
    RecordChange,
    RecordKind,
    ReferralStatus,
    Refusal,
    TaskKind,
    TaskStatus,
    VitalKind,
)
from storage.db import Database
from storage.models import Patient, Referral, Task
from tests.services.facts_support import (
    NOW,
    appointment,
    assert_restored,
    at,
    contact,
    discharge,
    make_nurse,
    make_patient,
    med_rec,
    on,
    patient_state,
)

TUE = date(2026, 11, 24)
SUN = date(2026, 11, 22)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


class Keys:
    def __init__(self) -> None:
        self.n = 100

    def __call__(self) -> MessageKey:
        self.n += 1
        return MessageKey(chat_id=1, message_id=self.n)


async def _history(
    db: Database, config: Config, clock: ManualClock, keys: Keys
) -> tuple[PatientRef, NurseView]:
    """A patient with a past: discharged Sunday (TCM tasks open), reached last week, one
    attempt since, a follow-up due today, a check-in due today, a referral waiting."""
    nurse = await make_nurse(db, config, 1)
    ana = await make_patient(db, nurse, "Ana Ruiz")
    clock.set(NOW - timedelta(days=7))
    await save_message(
        db, config, clock, nurse=nurse, key=keys(), facts=[contact(ana, clock.now())]
    )
    clock.set(NOW - timedelta(days=2))
    await save_message(db, config, clock, nurse=nurse, key=keys(), facts=[discharge(ana, SUN)])
    clock.set(NOW - timedelta(days=1))
    await save_message(
        db, config, clock, nurse=nurse, key=keys(),
        facts=[contact(ana, clock.now(), outcome=Outcome.ATTEMPTED, follow_up=on(TUE))],
    )  # fmt: skip
    await referrals.log_referral(
        db, config, clock, nurse=nurse, source=keys(), patient_id=ana.id or 0,
        to_whom="cardiology", specialty="cardiology", reason="", sent_on=TUE - timedelta(days=1),
    )  # fmt: skip
    async with db.uow() as session:
        session.add(
            Task(
                nurse_id=nurse.id, patient_id=ana.id, kind=TaskKind.CADENCE, title="",
                due_at=NOW + timedelta(hours=14), origin_kind="cadence", created_at=clock.now(),
            )
        )  # fmt: skip
    clock.set(NOW)
    return ana, nurse


Facts = Callable[[PatientRef], Sequence[RecordFact]]
CASES: dict[str, Facts] = {
    "reached call (closes follow-up, check-in, TCM contact)": lambda p: [
        contact(p, NOW, follow_up=on(date(2026, 11, 30)))
    ],
    "call with the caregiver": lambda p: [contact(p, NOW, with_whom=Party.CAREGIVER)],
    "attempt (two attempts: TCM flagged)": lambda p: [contact(p, NOW, outcome=Outcome.ATTEMPTED)],
    "home visit (closes the TCM visit too)": lambda p: [contact(p, NOW, channel=Channel.VISIT)],
    "appointment (answers the referral)": lambda p: [
        appointment(p, at(date(2026, 12, 1), 10), "cardiology")
    ],
    "readmission discharge": lambda p: [discharge(p, TUE)],
    "med rec": lambda p: [med_rec(p, TUE)],
    "note with vitals": lambda p: [
        NoteIntent(p, (), None, "wt up", (Vital(VitalKind.WEIGHT, "190", "lb"),), "")
    ],
    "admission (pauses routine work)": lambda p: [AdmissionIntent(p, (), None, TUE, "", "CHF", "")],
    "ED visit": lambda p: [EdVisitIntent(p, (), None, TUE, "Mercy", "SOB", "")],
    "her own task": lambda p: [
        TaskIntent(p, (), None, "call pharmacy", When(NOW + timedelta(hours=3), True), "")
    ],
    "several facts in one message": lambda p: [
        contact(p, NOW, follow_up=on(date(2026, 11, 27))),
        appointment(p, at(date(2026, 12, 2), 9), "cardiology"),
        med_rec(p, TUE),
        NoteIntent(p, (), None, "bp", (Vital(VitalKind.BP, "150/90", "mmHg"),), ""),
    ],
}


@pytest.mark.parametrize("facts", list(CASES.values()), ids=list(CASES))
async def test_undo_puts_the_whole_patient_state_back(
    db: Database, config: Config, clock: ManualClock, facts: Facts
) -> None:
    keys = Keys()
    ana, nurse = await _history(db, config, clock, keys)
    assert ana.id is not None
    before = await patient_state(db, ana.id)
    key = keys()
    clock.advance(timedelta(minutes=5))
    saved = await save_message(db, config, clock, nurse=nurse, key=key, facts=facts(ana))
    assert isinstance(saved, SavedMessage)
    changed = await patient_state(db, ana.id)
    assert changed != before
    clock.advance(timedelta(hours=3))
    undone = await undo_message(db, config, clock, nurse=nurse, key=key)
    assert isinstance(undone, MessageUndone)
    assert [(u.kind, u.record_id) for u in undone.records] == [
        (r.kind, r.record_id) for r in saved.results
    ]
    assert_restored(before, await patient_state(db, ana.id))
    again = await undo_message(db, config, clock, nurse=nurse, key=key)
    assert again == Refusal.ALREADY_UNDONE


async def test_the_effects_each_case_relies_on_are_real(
    db: Database, config: Config, clock: ManualClock
) -> None:
    """The history gives each case something to undo: what the call closed, what the
    appointment answered, the readmission and the pause."""
    keys = Keys()
    ana, nurse = await _history(db, config, clock, keys)
    saved = await save_message(
        db, config, clock, nurse=nurse, key=keys(),
        facts=[contact(ana, NOW), appointment(ana, at(date(2026, 12, 1), 10), "cardiology")],
    )  # fmt: skip
    assert isinstance(saved, SavedMessage)
    call, appt = saved.results
    assert {t.kind for t in call.closed} == {
        TaskKind.FOLLOW_UP, TaskKind.CADENCE, TaskKind.TCM_CONTACT,
    }  # fmt: skip
    assert [t.kind for t in appt.closed] == [TaskKind.REFERRAL]
    async with db.uow(read_only=True) as session:
        [referral] = (await session.scalars(select(Referral))).all()
    assert referral.status == ReferralStatus.SCHEDULED
    readmit = await save_message(
        db, config, clock, nurse=nurse, key=keys(),
        facts=[AdmissionIntent(ana, (), None, TUE, "", "", ""), discharge(ana, TUE)],
    )  # fmt: skip
    assert isinstance(readmit, SavedMessage)
    admission, episode = readmit.results
    assert admission.paused
    assert (episode.readmission, episode.resumed) == (True, True)


async def test_scratch_that_takes_back_her_latest_message_and_last_reached_follows(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    new = await make_patient(db, nurse, "Nia Cole")  # never reached
    assert tom.id is not None
    assert new.id is not None
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1), facts=[contact(tom, NOW)]
    )
    clock.advance(timedelta(hours=1))
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2),
        facts=[contact(tom, clock.now()), contact(new, clock.now())],
    )  # fmt: skip
    clock.advance(timedelta(minutes=2))
    undone = await undo_latest(db, config, clock, nurse=nurse, key=MessageKey(1, 3))
    assert isinstance(undone, MessageUndone)
    assert [u.patient_name for u in undone.records] == ["Tom Jensen", "Nia Cole"]
    async with db.uow(read_only=True) as session:
        tom_row = await session.get(Patient, tom.id)
        new_row = await session.get(Patient, new.id)
        assert tom_row is not None
        assert new_row is not None
        assert tom_row.last_reached_at == NOW  # the first call's, not the undone one's
        assert new_row.last_reached_at is None  # never reached again
    # The "undo" message itself, delivered again, takes nothing else back.
    assert await undo_latest(db, config, clock, nurse=nurse, key=MessageKey(1, 3)) == (
        Refusal.DUPLICATE
    )
    # A second "undo" takes the message before it back; then nothing is left.
    second = await undo_latest(db, config, clock, nurse=nurse, key=MessageKey(1, 4))
    assert isinstance(second, MessageUndone)
    assert await undo_latest(db, config, clock, nurse=nurse, key=MessageKey(1, 5)) == (
        Refusal.NOT_FOUND
    )


async def test_undo_expires_after_48_hours_and_is_hers_only(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    other = await make_nurse(db, config, 2)
    tom = await make_patient(db, nurse, "Tom Jensen")
    key = MessageKey(1, 1)
    await save_message(db, config, clock, nurse=nurse, key=key, facts=[contact(tom, NOW)])
    assert await undo_message(db, config, clock, nurse=other, key=key) == Refusal.NOT_FOUND
    clock.advance(timedelta(hours=48, minutes=1))
    assert await undo_message(db, config, clock, nurse=nurse, key=key) == Refusal.EXPIRED
    assert await undo_latest(db, config, clock, nurse=nurse) == Refusal.NOT_FOUND


async def test_a_cancellation_is_taken_back_with_its_pushes(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    ana = await make_patient(db, nurse, "Ana Ruiz")
    assert ana.id is not None
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[appointment(ana, at(date(2026, 11, 27), 10), "cardiology")],
    )  # fmt: skip
    before = await patient_state(db, ana.id)
    cancelled = await cancel_appointment(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2), patient_id=ana.id,
        on=on(date(2026, 11, 27)),
    )  # fmt: skip
    assert isinstance(cancelled, AppointmentChanged)
    assert {t.kind for t in cancelled.cancelled} == {
        TaskKind.APPOINTMENT_REMINDER, TaskKind.ATTENDANCE_CHECK,
    }  # fmt: skip
    undone = await undo_latest(db, config, clock, nurse=nurse, key=MessageKey(1, 3))
    assert isinstance(undone, MessageUndone)
    assert [u.change for u in undone.records] == [RecordChange.CHANGED]
    after = await patient_state(db, ana.id)
    assert {k: v for k, v in after.items() if k[0] != "patients"} == {
        k: v for k, v in before.items() if k[0] != "patients"
    }
    async with db.uow(read_only=True) as session:
        statuses = [t.status for t in (await session.scalars(select(Task))).all()]
    assert statuses == [TaskStatus.OPEN] * 3


async def test_a_new_patient_added_by_the_message_leaves_the_caseload_again(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    key = MessageKey(1, 1)
    saved = await save_message(
        db, config, clock, nurse=nurse, key=key,
        facts=[
            NewPatientIntent(name="Gloria Diaz", mrn=None, risk=None),
            discharge(None, TUE, patient_text="gloria diaz"),
        ],
    )  # fmt: skip
    assert isinstance(saved, SavedMessage)
    undone = await undo_message(db, config, clock, nurse=nurse, key=key)
    assert isinstance(undone, MessageUndone)
    assert [u.kind for u in undone.records] == [RecordKind.PATIENT, RecordKind.EPISODE]
    async with db.uow(read_only=True) as session:
        patient = await session.get(Patient, saved.results[0].record_id)
        assert patient is not None
        assert patient.status.value == "closed"
        tasks = (await session.scalars(select(Task))).all()
    assert {t.status for t in tasks} == {TaskStatus.CANCELLED}

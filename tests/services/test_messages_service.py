"""save_message: every fact of one message in one transaction, all or nothing; a redelivered
message saves nothing twice; a fact about a patient added by the same message is hers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

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
from bot.services.ledger import MessageKey
from bot.services.messages import SavedMessage, save_message
from bot.vocab import (
    Channel,
    HospitalEventKind,
    Outcome,
    RecordKind,
    Refusal,
    Risk,
    TaskKind,
    TaskStatus,
    VitalKind,
)
from storage.db import Database
from storage.models import (
    Appointment,
    AuditEvent,
    Contact,
    Episode,
    InboundMessage,
    MessageRecord,
    Patient,
    Task,
)
from tests.services.facts_support import (
    CHICAGO,
    NOW,
    appointment,
    at,
    contact,
    discharge,
    make_nurse,
    make_patient,
    med_rec,
    on,
)

TUE = date(2026, 11, 24)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def _count(db: Database, model: type) -> int:
    async with db.uow(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_call_and_the_appointment_it_arranged_are_saved_together(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    key = MessageKey(chat_id=1, message_id=10)
    saved = await save_message(
        db, config, clock, nurse=nurse, key=key,
        facts=[contact(tom, NOW), appointment(tom, at(date(2026, 12, 8), 13), "ortho")],
    )  # fmt: skip
    assert isinstance(saved, SavedMessage)
    assert not saved.duplicate
    call, appt = saved.results
    assert (call.kind, call.patient_name, call.outcome) == (
        RecordKind.CONTACT, "Tom Jensen", Outcome.REACHED,
    )  # fmt: skip
    assert appt.kind == RecordKind.APPOINTMENT
    assert appt.at is not None
    assert appt.at.astimezone(CHICAGO).strftime("%a %d %b %H:%M") == "Tue 08 Dec 13:00"
    assert [t.kind for t in appt.created] == [
        TaskKind.APPOINTMENT_REMINDER, TaskKind.APPOINTMENT_REMINDER, TaskKind.ATTENDANCE_CHECK,
    ]  # fmt: skip
    async with db.uow(read_only=True) as session:
        [message] = (await session.scalars(select(InboundMessage))).all()
        links = (
            await session.scalars(select(MessageRecord).order_by(MessageRecord.position))
        ).all()
    assert (message.record_kind, message.record_id) == ("contact", call.record_id)
    assert [(link.position, link.record_kind, link.record_id) for link in links] == [
        (0, "contact", call.record_id), (1, "appointment", appt.record_id),
    ]  # fmt: skip


async def test_a_redelivered_message_saves_nothing_twice_and_says_what_was_saved(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    ana = await make_patient(db, nurse, "Ana Ruiz")
    key = MessageKey(chat_id=1, message_id=11)
    facts = [discharge(ana, TUE), med_rec(ana, TUE)]
    first = await save_message(db, config, clock, nurse=nurse, key=key, facts=facts)
    clock.advance(timedelta(seconds=30))
    again = await save_message(db, config, clock, nurse=nurse, key=key, facts=facts)
    assert isinstance(first, SavedMessage)
    assert isinstance(again, SavedMessage)
    assert again.duplicate
    assert [(r.kind, r.record_id) for r in again.results] == [
        (r.kind, r.record_id) for r in first.results
    ]
    # What the reply listed comes back the same: the discharge's tasks, the med rec's closure.
    assert [t.id for t in again.results[0].created] == [t.id for t in first.results[0].created]
    assert [t.id for t in again.results[1].closed] == [t.id for t in first.results[1].closed]
    assert (await _count(db, Episode), await _count(db, MessageRecord)) == (1, 2)


async def test_a_refused_second_fact_saves_nothing_of_the_first(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    other = await make_nurse(db, config, 2)
    tom = await make_patient(db, nurse, "Tom Jensen")
    not_hers = await make_patient(db, other, "Lee Park")
    key = MessageKey(chat_id=1, message_id=12)
    result = await save_message(
        db, config, clock, nurse=nurse, key=key,
        facts=[contact(tom, NOW, follow_up=on(date(2026, 11, 27))), discharge(not_hers, TUE)],
    )  # fmt: skip
    assert result == Refusal.NO_PATIENT
    assert [await _count(db, m) for m in (Contact, Task, Episode, InboundMessage)] == [0, 0, 0, 0]
    async with db.uow(read_only=True) as session:
        patient = await session.get(Patient, tom.id)
        assert patient is not None
        assert patient.last_reached_at is None
        actions = (await session.scalars(select(AuditEvent.action))).all()
    assert "contact.logged" not in actions
    # The same message, sent again with what she fixed, is saved (the key was never claimed).
    fixed = await save_message(db, config, clock, nurse=nurse, key=key, facts=[contact(tom, NOW)])
    assert isinstance(fixed, SavedMessage)
    assert not fixed.duplicate


async def test_a_fault_in_the_second_fact_rolls_back_the_first(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    key = MessageKey(chat_id=1, message_id=13)
    with pytest.raises(ValueError, match="needs its moment"):
        await save_message(
            db, config, clock, nurse=nurse, key=key,
            facts=[contact(tom, NOW), appointment(tom, None)],
        )  # fmt: skip
    assert [await _count(db, m) for m in (Contact, Appointment, InboundMessage)] == [0, 0, 0]


async def test_a_new_patient_and_the_discharge_that_brought_her(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    key = MessageKey(chat_id=1, message_id=14)
    saved = await save_message(
        db, config, clock, nurse=nurse, key=key,
        facts=[
            NewPatientIntent(name="gloria diaz", mrn=None, risk=Risk.HIGH),
            discharge(None, TUE - timedelta(days=1), patient_text="Gloria Diaz"),
        ],
    )  # fmt: skip
    assert isinstance(saved, SavedMessage)
    added, episode = saved.results
    assert (added.kind, added.patient_name) == (RecordKind.PATIENT, "Gloria Diaz")
    assert (episode.kind, episode.patient_id) == (RecordKind.EPISODE, added.patient_id)
    assert {t.kind for t in episode.created} == {
        TaskKind.TCM_CONTACT, TaskKind.TCM_VISIT, TaskKind.MED_REC,
    }  # fmt: skip
    async with db.uow(read_only=True) as session:
        patient = await session.get(Patient, added.patient_id)
        assert patient is not None
        assert patient.risk == Risk.HIGH
        tasks = (await session.scalars(select(Task))).all()
    assert {t.patient_id for t in tasks} == {added.patient_id}


async def test_a_new_patient_she_already_has_is_refused_whole(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    await make_patient(db, nurse, "Gloria Diaz")
    result = await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 15),
        facts=[NewPatientIntent(name="Gloria Diaz", mrn=None, risk=None)],
    )  # fmt: skip
    assert result == Refusal.PATIENT_EXISTS
    assert await _count(db, Patient) == 1


async def test_hospital_events_notes_with_vitals_and_her_own_tasks(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    saved = await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 16),
        facts=[
            EdVisitIntent(tom, (), None, TUE - timedelta(days=1), "Mercy", "SOB", ""),
            AdmissionIntent(tom, (), None, TUE, "Mercy", "CHF", ""),
            NoteIntent(
                tom, (), None, "daughter is caregiver",
                (Vital(VitalKind.BP, "150/90", "mmHg"), Vital(VitalKind.WEIGHT, "182", "lb")), "",
            ),
            TaskIntent(None, (), None, "fax orders", When(NOW + timedelta(days=3), False), ""),
        ],
    )  # fmt: skip
    assert isinstance(saved, SavedMessage)
    ed, admission, note, task = saved.results
    assert (ed.event, ed.paused) == (HospitalEventKind.ED_VISIT, False)
    assert (admission.event, admission.paused, admission.reason) == (
        HospitalEventKind.ADMISSION, True, "CHF",
    )  # fmt: skip
    assert [(v.kind, v.value, v.unit) for v in note.vitals] == [
        (VitalKind.BP, "150/90", "mmHg"), (VitalKind.WEIGHT, "182", "lb"),
    ]  # fmt: skip
    assert (task.kind, task.title, task.patient_id) == (RecordKind.TASK, "fax orders", None)
    async with db.uow(read_only=True) as session:
        own = await session.get(Task, task.record_id)
        assert own is not None
        assert (own.kind, own.patient_id, own.status) == (TaskKind.CUSTOM, None, TaskStatus.OPEN)
        assert own.remind_at is not None
        assert own.remind_at.astimezone(CHICAGO).strftime("%a %H:%M") == "Fri 09:00"
        patient = await session.get(Patient, tom.id)
        assert patient is not None
        assert patient.admitted_since == TUE


async def test_a_voicemail_without_an_outcome_is_an_attempt(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    saved = await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 17),
        facts=[contact(tom, NOW, channel=Channel.VOICEMAIL, outcome=None)],
    )  # fmt: skip
    assert isinstance(saved, SavedMessage)
    assert saved.results[0].outcome == Outcome.ATTEMPTED


async def test_a_fact_without_a_patient_is_refused(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    result = await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 18),
        facts=[contact(PatientRef(None, "Harold"), NOW, patient_text="Harold")],
    )  # fmt: skip
    assert result == Refusal.NO_PATIENT

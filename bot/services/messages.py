"""One message, several facts, one transaction: what the inbox calls to save what she wrote.

``save_message`` saves every fact of one message (a call and the appointment it arranged, a
new patient and the discharge that brought her ...) in ONE transaction: all or nothing, so
"Saved" is said only after the commit. Each fact goes through the same session-level code as
the single-record use cases (bot.services.contacts, events, appointments, notes). The message
is claimed in the (chat id, message id) ledger with one link per record: a redelivered message
saves nothing twice and gets back what was saved (``duplicate``). A fact about a patient added
earlier in the same message (no patient, her name as written) is saved for that patient.

Must not import telegram or handlers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot import care
from bot.clock import Clock
from bot.config import Config
from bot.parsing import (
    AdmissionIntent,
    AppointmentIntent,
    ContactIntent,
    DischargeIntent,
    EdVisitIntent,
    MedRecIntent,
    NewPatientIntent,
    NoteIntent,
    TaskIntent,
)
from bot.parsing.patients import normalise_name
from bot.services import appointments
from bot.services.contacts import save_contact
from bot.services.events import save_discharge, save_hospital_event, save_med_rec
from bot.services.ledger import MessageKey
from bot.services.notes import save_note, save_task, save_vitals
from bot.services.nurse import NurseView
from bot.services.patients import Duplicate, create_patient_in, display_name_of
from bot.services.saving import Abort, Logged, Saving, VitalReading, line
from bot.vocab import (
    Channel,
    HospitalEventKind,
    Outcome,
    RecordChange,
    RecordKind,
    Refusal,
)
from storage import records as store
from storage.db import Database
from storage.models import (
    Appointment,
    Contact,
    Episode,
    HospitalEvent,
    InboundMessage,
    MedicationReconciliation,
    Patient,
    Task,
)

RecordFact = (
    ContactIntent
    | AppointmentIntent
    | DischargeIntent
    | AdmissionIntent
    | EdVisitIntent
    | MedRecIntent
    | TaskIntent
    | NoteIntent
    | NewPatientIntent
)
"""The facts a message can save (questions, corrections, cancellations and undo have their
own use cases)."""


@dataclass(frozen=True)
class SavedMessage:
    """What one message saved, one result per fact in the order written. ``duplicate``: the
    message was saved before (Telegram sent it again) and these are the records it saved."""

    results: tuple[Logged, ...]
    duplicate: bool = False


async def save_message(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    nurse: NurseView,
    key: MessageKey,
    facts: Sequence[RecordFact],
    from_task_id: int | None = None,
    command: str = "text",
) -> SavedMessage | Refusal:
    """Save every fact of one message in one transaction, or nothing.

    Refusals (nothing saved): NO_PATIENT when a fact names no active patient of hers;
    PATIENT_EXISTS when a new patient has the name of one she has. ``from_task_id`` is the
    reminder she tapped [Log contact] on (its contact closes it)."""
    if not facts:
        raise ValueError("a message to save needs at least one fact")
    try:
        async with db.uow() as session:
            s = Saving(session, nurse, config, clock.now(), command, key)
            seen = await store.find_inbound(session, chat_id=key.chat_id, message_id=key.message_id)
            if seen is not None:
                if seen.nurse_id != nurse.id:
                    return Refusal.NOT_FOUND
                return SavedMessage(await saved_records(s, seen), duplicate=True)
            added: list[Patient] = []
            results = []
            for fact in facts:
                results.append(await _save_fact(s, fact, added, from_task_id))
            return SavedMessage(tuple(results))
    except Abort as abort:
        return abort.refusal


async def _save_fact(
    s: Saving, fact: RecordFact, added: list[Patient], from_task_id: int | None
) -> Logged:
    if isinstance(fact, NewPatientIntent):
        patient = await _add_patient(s, fact)
        added.append(patient)
        return Logged(
            kind=RecordKind.PATIENT,
            record_id=patient.id,
            patient_name=patient.display_name,
            patient_id=patient.id,
        )
    if isinstance(fact, TaskIntent):
        named = fact.patient is not None or bool(fact.patient_text)
        owner = await _patient_of(s, fact, added) if named else None
        return await save_task(s, owner, what=fact.what, due=fact.due)
    patient = await _patient_of(s, fact, added)
    if isinstance(fact, ContactIntent):
        channel = fact.channel or Channel.PHONE
        outcome = fact.outcome or (
            Outcome.ATTEMPTED if channel == Channel.VOICEMAIL else Outcome.REACHED
        )
        logged = await save_contact(
            s, patient, channel=channel, outcome=outcome, with_whom=fact.with_whom,
            occurred_at=fact.occurred_at.at, follow_up=fact.follow_up, note=fact.note,
            from_task_id=from_task_id,
        )  # fmt: skip
        if fact.vitals:
            readings = await save_vitals(
                s, patient, fact.vitals, (RecordKind.CONTACT, logged.record_id)
            )
            logged = replace(logged, vitals=readings)
        return logged
    if isinstance(fact, AppointmentIntent):
        if fact.at is None:
            raise ValueError("an appointment fact needs its moment (ask for it first)")
        return await appointments.save_appointment(
            s, patient, at=fact.at, with_whom=fact.with_whom or "", location=fact.where or "",
            note=fact.note,
        )  # fmt: skip
    if isinstance(fact, DischargeIntent):
        return await save_discharge(
            s, patient, discharged_on=fact.discharged, facility=fact.facility or "",
            complexity=fact.complexity, note=fact.note,
        )  # fmt: skip
    if isinstance(fact, AdmissionIntent | EdVisitIntent):
        kind = (
            HospitalEventKind.ADMISSION
            if isinstance(fact, AdmissionIntent)
            else HospitalEventKind.ED_VISIT
        )
        return await save_hospital_event(
            s, patient, kind=kind, day=fact.on, facility=fact.facility or "",
            reason=fact.reason or "", note=fact.note,
        )  # fmt: skip
    if isinstance(fact, MedRecIntent):
        return await save_med_rec(
            s, patient, reconciled_on=fact.reconciled_on, discrepancies=fact.discrepancies,
            note=fact.note,
        )  # fmt: skip
    if isinstance(fact, NoteIntent):
        return await save_note(s, patient, text=fact.text or fact.note, vitals=fact.vitals)
    raise TypeError(f"not a fact to save: {type(fact).__name__}")


async def _patient_of(s: Saving, fact: RecordFact, added: Sequence[Patient]) -> Patient:
    """The fact's patient: hers and active; or one added earlier in this message, named as
    written (or the only one, when the fact names nobody)."""
    ref = getattr(fact, "patient", None)
    if ref is not None and ref.id is not None:
        found = await s.own_patient(ref.id)
        if isinstance(found, Refusal):
            raise Abort(found)
        return found
    written = getattr(fact, "patient_text", None)
    if written:
        key = normalise_name(written)
        for patient in added:
            if normalise_name(patient.display_name) == key:
                return patient
    elif len(added) == 1 and not getattr(fact, "candidates", ()):
        return added[0]
    raise Abort(Refusal.NO_PATIENT)


async def _add_patient(s: Saving, fact: NewPatientIntent) -> Patient:
    name = display_name_of(fact.name)
    if not name:
        raise Abort(Refusal.NO_PATIENT)
    created = await create_patient_in(
        s.session,
        s.nurse,
        now=s.now,
        display_name=name,
        mrn=fact.mrn,
        risk=fact.risk,
        conditions=fact.conditions,
        command=s.audit_command,
    )
    if isinstance(created, Duplicate):
        raise Abort(Refusal.PATIENT_EXISTS)
    await s.link(RecordKind.PATIENT, created.id)
    return created


# -- a redelivered message: what it saved ------------------------------------------------------


async def saved_records(s: Saving, message: InboundMessage) -> tuple[Logged, ...]:
    """The records a message created, as the reply listed them (with their tasks)."""
    found = []
    for link in await store.message_links(s.session, message_id=message.id):
        if link.change != RecordChange.CREATED or link.record_kind not in set(RecordKind):
            continue
        logged = await describe_record(s, RecordKind(link.record_kind), link.record_id)
        if logged is not None:
            found.append(logged)
    return tuple(found)


async def describe_record(s: Saving, kind: RecordKind, record_id: int) -> Logged | None:
    """One saved record as a reply lists it: what it is, its patient, its dates and the tasks
    it created and closed."""
    session = s.session
    if kind == RecordKind.PATIENT:
        patient = await session.get(Patient, record_id)
        if patient is None:
            return None
        return Logged(kind, patient.id, patient.display_name, patient_id=patient.id)
    if kind == RecordKind.TASK:
        task = await session.get(Task, record_id)
        if task is None:
            return None
        owner = None if task.patient_id is None else await session.get(Patient, task.patient_id)
        return Logged(
            kind, task.id, "" if owner is None else owner.display_name,
            patient_id=task.patient_id, at=task.due_at, has_time=task.has_time,
            title=task.title, created=(line(task),),
        )  # fmt: skip
    record = await store.get_record(session, kind=kind.value, record_id=record_id)
    if record is None:
        return None
    patient = await session.get(Patient, record.patient_id)
    assert patient is not None
    created = tuple(
        line(t)
        for t in await store.tasks_of_origin(session, origin_kind=kind.value, origin_id=record_id)
    )
    closed = tuple(
        line(t) for t in await store.tasks_closed_by(session, kind=kind.value, record_id=record_id)
    )
    base = Logged(
        kind, record_id, patient.display_name, patient_id=patient.id, created=created,
        closed=closed,
    )  # fmt: skip
    if isinstance(record, Contact):
        return replace(
            base, at=record.occurred_at, channel=record.channel, outcome=record.outcome,
            with_whom=record.with_whom,
        )  # fmt: skip
    if isinstance(record, Appointment):
        return replace(
            base, at=record.at, has_time=record.has_time, with_whom=record.with_whom or None,
            place=record.location or None,
        )  # fmt: skip
    if isinstance(record, Episode):
        return replace(
            base, day=record.discharged_on, place=record.facility or None,
            complexity=record.complexity, episode_id=record_id, readmission=record.readmission,
        )  # fmt: skip
    if isinstance(record, MedicationReconciliation):
        return replace(
            base, day=care.local_date(record.performed_at, s.zone),
            discrepancies=record.discrepancies,
        )  # fmt: skip
    if isinstance(record, HospitalEvent):
        return replace(
            base, day=record.day, place=record.facility or None, event=record.kind,
            reason=record.reason or None,
        )  # fmt: skip
    vitals = await store.vitals_of_origin(session, origin_kind=kind.value, origin_id=record_id)
    return replace(
        base, at=record.created_at,
        vitals=tuple(VitalReading(v.kind, v.value, v.unit) for v in vitals),
    )  # fmt: skip

"""Logging use cases, one record at a time: contacts, appointments, discharges, med recs,
notes, and changing them (follow-up, note, complexity). One transaction each, audited.

Each is a thin wrapper over the session-level code the multi-fact ``save_message``
(bot.services.messages) uses too: bot.services.contacts, events, appointments and notes, with
the closing rules of bot.care.closing. Undo lives in bot.services.undo, corrections in
bot.services.amend; both are re-exported here for the handlers that call them by this name.

Spans records, tasks, patients and the audit trail. Must not import telegram or handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot import care
from bot.clock import Clock
from bot.config import Config
from bot.parsing import PatientRef, When
from bot.render.tasks import TaskLine
from bot.services.appointments import AttendanceSet, save_appointment, set_attendance
from bot.services.contacts import save_contact
from bot.services.events import save_discharge, save_med_rec
from bot.services.ledger import MessageKey
from bot.services.notes import save_note
from bot.services.nurse import NurseView
from bot.services.saving import (
    CHANGE_WINDOW,
    Logged,
    Saving,
    add_follow_up,
    business_calendar,
    care_rules,
    follow_up_times,
    iso,
    line,
)
from bot.services.undo import Undone, changeable, undo_record
from bot.vocab import (
    Channel,
    Complexity,
    Outcome,
    Party,
    RecordKind,
    Refusal,
    TaskKind,
    TaskStatus,
)
from storage import due
from storage import patients as patient_store
from storage import records as store
from storage.db import Database
from storage.models import Episode, Patient

__all__ = [
    "CHANGE_WINDOW",
    "AttendanceCheck",
    "AttendanceSet",
    "ComplexitySet",
    "FollowUpChanged",
    "Logged",
    "NoteAdded",
    "RecordKind",
    "Undone",
    "add_note",
    "business_calendar",
    "care_rules",
    "caseload_refs",
    "change_follow_up",
    "check_changeable",
    "log_appointment",
    "log_contact",
    "log_discharge",
    "log_med_rec",
    "log_note",
    "message_was_saved",
    "set_attendance",
    "set_complexity",
    "undo_record",
]


@dataclass(frozen=True)
class FollowUpChanged:
    kind: RecordKind
    record_id: int
    patient_name: str
    follow_up: TaskLine | None


@dataclass(frozen=True)
class NoteAdded:
    note_id: int
    patient_name: str


@dataclass(frozen=True)
class ComplexitySet:
    episode_id: int
    patient_name: str
    complexity: Complexity
    redated: tuple[TaskLine, ...]


@dataclass(frozen=True)
class AttendanceCheck:
    """What the attended? push needs: who to send it to and what to say."""

    task_id: int
    chat_id: int | None
    zone: str
    patient_label: str
    at: datetime
    has_time: bool
    with_whom: str
    open: bool


# -- reads ---------------------------------------------------------------------------------------


async def caseload_refs(db: Database, *, nurse_id: int) -> list[PatientRef]:
    """The nurse's active patients as parser references (ids and names)."""
    async with db.uow(read_only=True) as session:
        rows = await patient_store.caseload_names(session, nurse_id=nurse_id)
        return [PatientRef(pid, name) for pid, name in rows]


async def check_changeable(
    db: Database, clock: Clock, *, nurse: NurseView, kind: RecordKind, record_id: int
) -> Refusal | str:
    """Whether a record's buttons still work for this nurse; its patient's name if so."""
    async with db.uow(read_only=True) as session:
        found = await changeable(session, clock.now(), nurse, kind, record_id)
        if isinstance(found, Refusal):
            return found
        return found[1].display_name


async def message_was_saved(db: Database, *, chat_id: int, message_id: int) -> bool:
    """Whether a nurse message already changed data (its ledger row exists)."""
    async with db.uow(read_only=True) as session:
        found = await store.find_inbound(session, chat_id=chat_id, message_id=message_id)
    return found is not None


# -- logging one record --------------------------------------------------------------------------


async def log_contact(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    nurse: NurseView,
    source: MessageKey | None,
    patient_id: int,
    channel: Channel,
    outcome: Outcome,
    with_whom: Party,
    occurred_at: datetime,
    follow_up: When | None,
    note: str,
    command: str = "text",
    from_task_id: int | None = None,
) -> Logged | Refusal:
    """Save a contact, its follow-up task, and what it closes (``from_task_id``: the reminder
    she tapped [Log contact] on)."""
    async with db.uow() as session:
        s = Saving(session, nurse, config, clock.now(), command, source)
        patient = await _begin(s, patient_id)
        if isinstance(patient, Refusal):
            return patient
        return await save_contact(
            s, patient, channel=channel, outcome=outcome, with_whom=with_whom,
            occurred_at=occurred_at, follow_up=follow_up, note=note, from_task_id=from_task_id,
        )  # fmt: skip


async def log_appointment(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    nurse: NurseView,
    source: MessageKey | None,
    patient_id: int,
    at: When,
    with_whom: str,
    location: str,
    note: str,
    command: str = "text",
) -> Logged | Refusal:
    """Save an appointment with its reminders and attendance check (one already on file comes
    back ``existing``)."""
    async with db.uow() as session:
        s = Saving(session, nurse, config, clock.now(), command, source)
        patient = await _begin(s, patient_id)
        if isinstance(patient, Refusal):
            return patient
        return await save_appointment(
            s, patient, at=at, with_whom=with_whom, location=location, note=note
        )


async def log_discharge(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    nurse: NurseView,
    source: MessageKey | None,
    patient_id: int,
    discharged_on: date,
    facility: str,
    complexity: Complexity | None,
    note: str,
    command: str = "text",
) -> Logged | Refusal:
    """Save a discharge episode and its TCM contact, TCM visit and med rec tasks."""
    async with db.uow() as session:
        s = Saving(session, nurse, config, clock.now(), command, source)
        patient = await _begin(s, patient_id)
        if isinstance(patient, Refusal):
            return patient
        return await save_discharge(
            s, patient, discharged_on=discharged_on, facility=facility, complexity=complexity,
            note=note,
        )  # fmt: skip


async def log_med_rec(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    nurse: NurseView,
    source: MessageKey | None,
    patient_id: int,
    reconciled_on: date,
    discrepancies: int | None,
    note: str,
    command: str = "text",
) -> Logged | Refusal:
    """Save a medication reconciliation; it closes the patient's open med rec task."""
    async with db.uow() as session:
        s = Saving(session, nurse, config, clock.now(), command, source)
        patient = await _begin(s, patient_id)
        if isinstance(patient, Refusal):
            return patient
        return await save_med_rec(
            s, patient, reconciled_on=reconciled_on, discrepancies=discrepancies, note=note
        )


async def log_note(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    source: MessageKey | None,
    patient_id: int,
    text: str,
    command: str = "note",
    config: Config | None = None,
) -> NoteAdded | Refusal:
    """Save a free note on a patient (/note)."""
    async with db.uow() as session:
        s = Saving(session, nurse, config or Config(), clock.now(), command, source)
        patient = await _begin(s, patient_id)
        if isinstance(patient, Refusal):
            return patient
        logged = await save_note(s, patient, text=text)
        return NoteAdded(note_id=logged.record_id, patient_name=patient.display_name)


# -- changing what was logged --------------------------------------------------------------------


async def change_follow_up(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    kind: RecordKind,
    record_id: int,
    follow_up: When | None,
    config: Config | None = None,
) -> FollowUpChanged | Refusal:
    """Set, move or remove the follow-up task of a logged record, keeping the prior due date."""
    async with db.uow() as session:
        s = Saving(session, nurse, config or Config(), clock.now(), "change_follow_up")
        found = await changeable(session, s.now, nurse, kind, record_id)
        if isinstance(found, Refusal):
            return found
        _record, patient = found
        existing = await store.tasks_of_origin(
            session,
            origin_kind=kind.value,
            origin_id=record_id,
            kinds=[TaskKind.FOLLOW_UP],
            status=TaskStatus.OPEN,
        )
        prior = [{"task_id": t.id, "due_at": iso(t.due_at)} for t in existing]
        follow = None
        if follow_up is None:
            for task in existing:
                task.status = TaskStatus.CANCELLED
                task.completed_at = s.now
            await store.cancel_pending_pushes(session, task_ids=[t.id for t in existing])
        elif existing:
            task = existing[0]
            task.due_at, task.remind_at = follow_up_times(follow_up, nurse)
            task.has_time = follow_up.has_time
            due.note_task(session, task)  # moved: its reminder is planned again
            follow = line(task, follow_up.has_time)
        else:
            task = await add_follow_up(s, patient.id, kind, record_id, follow_up)
            follow = line(task, follow_up.has_time)
        await s.audit(
            "record.follow_up_changed",
            patient_id=patient.id,
            entity=kind.value,
            entity_id=record_id,
            detail={"prior": prior, "new_due_at": None if follow is None else iso(follow.due_at)},
        )
        return FollowUpChanged(kind, record_id, patient.display_name, follow)


async def add_note(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    kind: RecordKind,
    record_id: int,
    text: str,
    source: MessageKey | None = None,
    config: Config | None = None,
) -> NoteAdded | Refusal:
    """Attach a note to a logged record."""
    async with db.uow() as session:
        s = Saving(session, nurse, config or Config(), clock.now(), "add_note", source)
        if await s.already_saved():
            return Refusal.DUPLICATE
        found = await changeable(session, s.now, nurse, kind, record_id)
        if isinstance(found, Refusal):
            return found
        _record, patient = found
        logged = await save_note(s, patient, text=text, on=(kind, record_id))
        return NoteAdded(note_id=logged.record_id, patient_name=patient.display_name)


async def set_complexity(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    nurse: NurseView,
    episode_id: int,
    complexity: Complexity,
) -> ComplexitySet | Refusal:
    """Record a discharge's TCM complexity and re-date its open visit and med rec tasks."""
    async with db.uow() as session:
        s = Saving(session, nurse, config, clock.now(), "complexity")
        found = await changeable(session, s.now, nurse, RecordKind.EPISODE, episode_id)
        if isinstance(found, Refusal):
            return found
        episode, patient = found
        assert isinstance(episode, Episode)
        zone = nurse.zone
        prior_complexity = None if episode.complexity is None else episode.complexity.value
        episode.complexity = complexity
        specs = {
            spec.kind: spec
            for spec in care.transition_tasks(
                episode.discharged_on,
                complexity,
                zone,
                business_calendar(config),
                care_rules(config),
            )
        }
        redated = []
        prior_due = {}
        for task in await store.tasks_of_origin(
            session,
            origin_kind=RecordKind.EPISODE.value,
            origin_id=episode.id,
            kinds=[TaskKind.TCM_VISIT, TaskKind.MED_REC],
            status=TaskStatus.OPEN,
        ):
            spec = specs[task.kind]
            prior_due[str(task.id)] = iso(task.due_at)
            task.due_at = spec.due_at
            task.remind_at = care.local_time_on(
                care.local_date(spec.due_at, zone), nurse.digest_time, zone
            )
            due.note_task(session, task)  # moved: its reminder and escalation move too
            redated.append(line(task, False))
        await s.audit(
            "discharge.complexity_set",
            patient_id=patient.id,
            entity="episode",
            entity_id=episode.id,
            detail={"prior": {"complexity": prior_complexity, "due_at": prior_due}},
        )
        return ComplexitySet(episode.id, patient.display_name, complexity, tuple(redated))


async def _begin(s: Saving, patient_id: int) -> Patient | Refusal:
    """Her active patient, unless this message was saved already."""
    if await s.already_saved():
        return Refusal.DUPLICATE
    return await s.own_patient(patient_id)

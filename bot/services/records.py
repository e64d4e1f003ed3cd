"""Logging use cases: contacts, appointments, discharges, med recs, notes, and changing them.

One transaction each, audited (changes carry the prior values). Creates and closes the tasks
issue 3 asks for: a follow-up task for a contact's follow-up, appointment reminders and the
attended check, the transition-of-care tasks of a discharge (closed by the contact and the med
rec that satisfy them), and a follow-up after a no-show.

Spans records, tasks, patients and the audit trail. Must not import telegram or handlers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import care
from bot.app.context import NurseView
from bot.clock import Clock
from bot.config import Config
from bot.parsing import PatientRef, When
from bot.render.tasks import TaskLine
from bot.services import referrals
from bot.services.ledger import MessageKey
from bot.vocab import (
    AppointmentStatus,
    Channel,
    Complexity,
    Outcome,
    Party,
    RecordKind,
    Refusal,
    Source,
    TaskKind,
    TaskStatus,
)
from storage import audit, due
from storage import patients as patient_store
from storage import records as store
from storage.db import Database
from storage.models import (
    Appointment,
    Contact,
    Episode,
    MedicationReconciliation,
    Note,
    Patient,
    Task,
)

CHANGE_WINDOW = timedelta(hours=48)
"""How long Undo, Change follow-up and Add note work on a logged record (issue: >= 24 h)."""

INTERACTIVE_CHANNELS = frozenset({Channel.PHONE, Channel.VISIT, Channel.CLINIC, Channel.VIDEO})
TCM_PARTIES = frozenset({Party.PATIENT, Party.CAREGIVER})
NOON = time(12, 0)
DATE_ONLY_CHECK = time(17, 0)  # the attended check of an appointment logged without a time


@dataclass(frozen=True)
class Logged:
    """What a saved record looks like to the render layer (plain, unescaped data)."""

    kind: RecordKind
    record_id: int
    patient_name: str
    at: datetime | None = None
    has_time: bool = True
    day: date | None = None
    channel: Channel | None = None
    outcome: Outcome | None = None
    with_whom: str | None = None  # a Party for a contact, as written for an appointment
    place: str | None = None
    complexity: Complexity | None = None
    discrepancies: int | None = None
    episode_id: int | None = None
    created: tuple[TaskLine, ...] = ()
    closed: tuple[TaskLine, ...] = ()
    flagged: tuple[TaskLine, ...] = ()  # TCM contact tasks now "attempts documented"


@dataclass(frozen=True)
class Undone:
    kind: RecordKind
    record_id: int
    patient_name: str
    cancelled: int
    reopened: int


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
class AttendanceSet:
    appointment_id: int
    patient_name: str
    status: AppointmentStatus
    follow_up: TaskLine | None


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


# -- configuration -> care rules -----------------------------------------------------------------


def care_rules(config: Config) -> care.CareRules:
    c = config.care
    return care.CareRules(
        tcm_contact_business_days=c.tcm_contact_business_days,
        tcm_visit_days_moderate=c.tcm_visit_days_moderate,
        tcm_visit_days_high=c.tcm_visit_days_high,
        mrp_days=c.mrp_days,
        cadence_days={
            "high": c.cadence_high_days,
            "medium": c.cadence_medium_days,
            "low": c.cadence_low_days,
        },
    )


def business_calendar(config: Config) -> care.BusinessCalendar:
    c = config.care
    return _calendar(
        care.HolidaySpec.from_config(c.holiday_country, c.holiday_subdivision, c.extra_holidays)
    )


@lru_cache(maxsize=8)
def _calendar(spec: care.HolidaySpec) -> care.BusinessCalendar:
    return care.BusinessCalendar(spec)


# -- reads ---------------------------------------------------------------------------------------


async def caseload_refs(db: Database, *, nurse_id: int) -> list[PatientRef]:
    """The nurse's active patients as parser references (ids and names)."""
    async with db.uow(read_only=True) as session:
        rows = await patient_store.active_caseload(session, nurse_id=nurse_id)
        return [PatientRef(p.id, p.display_name) for p in rows]


async def check_changeable(
    db: Database, clock: Clock, *, nurse: NurseView, kind: RecordKind, record_id: int
) -> Refusal | str:
    """Whether a record's buttons still work for this nurse; its patient's name if so."""
    async with db.uow(read_only=True) as session:
        found = await _changeable(session, clock.now(), nurse, kind, record_id)
        if isinstance(found, Refusal):
            return found
        return found[1].display_name


# -- logging -------------------------------------------------------------------------------------


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
) -> Logged | Refusal:
    """Save a contact, its follow-up task, and what it does to open TCM contact tasks."""
    now = clock.now()
    async with db.uow() as session:
        begun = await _begin(session, nurse, source, patient_id)
        if isinstance(begun, Refusal):
            return begun
        patient = begun
        contact = Contact(
            patient_id=patient.id,
            nurse_id=nurse.id,
            occurred_at=occurred_at,
            channel=channel,
            outcome=outcome,
            with_whom=with_whom,
            note=note,
            created_at=now,
        )
        await store.add_record(session, contact)
        created = []
        if follow_up is not None:
            task = await _follow_up_task(
                session, nurse, patient, RecordKind.CONTACT, contact.id, follow_up, now
            )
            created.append(_line(task, follow_up.has_time))
        closed: list[TaskLine] = []
        flagged: list[TaskLine] = []
        prior_reached = patient.last_reached_at
        if outcome == Outcome.REACHED:
            if prior_reached is None or occurred_at > prior_reached:
                patient.last_reached_at = occurred_at
            if channel in INTERACTIVE_CHANNELS and with_whom in TCM_PARTIES:
                for task in await store.open_patient_tasks(
                    session, patient_id=patient.id, kind=TaskKind.TCM_CONTACT
                ):
                    if task.window_start is None or task.window_start <= occurred_at:
                        _close(task, now, RecordKind.CONTACT, contact.id)
                        closed.append(_line(task, False))
        else:
            flagged = await _flag_attempts(session, patient.id)
        await _saved(
            session, source, nurse, now, RecordKind.CONTACT, contact.id,
            action="contact.logged", command=command, patient_id=patient.id,
            detail={
                "channel": channel.value,
                "outcome": outcome.value,
                "tasks_created": [t.kind.value for t in created],
                "tasks_closed": len(closed),
                "prior_last_reached_at": _iso(prior_reached),
            },
        )  # fmt: skip
        return Logged(
            kind=RecordKind.CONTACT,
            record_id=contact.id,
            patient_name=patient.display_name,
            at=occurred_at,
            channel=channel,
            outcome=outcome,
            with_whom=with_whom,
            created=tuple(created),
            closed=tuple(closed),
            flagged=tuple(flagged),
        )


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
    """Save an appointment with its reminder tasks and the attended? check."""
    now = clock.now()
    zone = nurse.zone
    async with db.uow() as session:
        begun = await _begin(session, nurse, source, patient_id)
        if isinstance(begun, Refusal):
            return begun
        patient = begun
        appointment = Appointment(
            patient_id=patient.id,
            nurse_id=nurse.id,
            at=at.at,
            has_time=at.has_time,
            with_whom=with_whom[:120],
            location=location[:200],
            status=AppointmentStatus.SCHEDULED,
            note=note,
            created_at=now,
        )
        await store.add_record(session, appointment)
        created = await _appointment_tasks(session, nurse, patient, appointment, now, zone)
        # A referral waiting for this appointment becomes "scheduled"; its follow-up closes.
        answered = await referrals.on_appointment_logged(session, appointment, now=now)
        await _saved(
            session, source, nurse, now, RecordKind.APPOINTMENT, appointment.id,
            action="appointment.logged", command=command, patient_id=patient.id,
            detail={"tasks_created": [t.kind.value for t in created]},
        )  # fmt: skip
        return Logged(
            kind=RecordKind.APPOINTMENT,
            record_id=appointment.id,
            patient_name=patient.display_name,
            at=at.at,
            has_time=at.has_time,
            with_whom=with_whom or None,
            place=location or None,
            created=tuple(created),
            closed=tuple(_line(t, False) for t in answered),
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
    now = clock.now()
    zone = nurse.zone
    async with db.uow() as session:
        begun = await _begin(session, nurse, source, patient_id)
        if isinstance(begun, Refusal):
            return begun
        patient = begun
        episode = Episode(
            patient_id=patient.id,
            nurse_id=nurse.id,
            facility=facility[:200],
            discharged_on=discharged_on,
            complexity=complexity,
            note=note,
            created_at=now,
        )
        await store.add_record(session, episode)
        specs = care.transition_tasks(
            discharged_on, complexity, zone, business_calendar(config), care_rules(config)
        )
        created = []
        for spec in specs:
            task = await store.add_task(
                session,
                nurse_id=nurse.id,
                patient_id=patient.id,
                kind=spec.kind,
                due_at=spec.due_at,
                window_start=spec.opens_at,
                remind_at=care.local_time_on(
                    care.local_date(spec.due_at, zone), nurse.digest_time, zone
                ),
                episode_id=episode.id,
                origin_kind=RecordKind.EPISODE.value,
                origin_id=episode.id,
                now=now,
            )
            created.append(_line(task, False))
        await _saved(
            session, source, nurse, now, RecordKind.EPISODE, episode.id,
            action="discharge.logged", command=command, patient_id=patient.id,
            detail={"tasks_created": [t.kind.value for t in created]},
        )  # fmt: skip
        return Logged(
            kind=RecordKind.EPISODE,
            record_id=episode.id,
            patient_name=patient.display_name,
            day=discharged_on,
            place=facility or None,
            complexity=complexity,
            episode_id=episode.id,
            created=tuple(created),
        )


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
    now = clock.now()
    zone = nurse.zone
    today = care.local_date(now, zone)
    performed_at = now if reconciled_on >= today else care.local_time_on(reconciled_on, NOON, zone)
    async with db.uow() as session:
        begun = await _begin(session, nurse, source, patient_id)
        if isinstance(begun, Refusal):
            return begun
        patient = begun
        open_tasks = [
            t
            for t in await store.open_patient_tasks(
                session, patient_id=patient.id, kind=TaskKind.MED_REC
            )
            if t.window_start is None or t.window_start <= performed_at
        ]
        episode_id = next((t.episode_id for t in open_tasks if t.episode_id is not None), None)
        if episode_id is None:
            episode = await store.latest_episode(
                session, patient_id=patient.id, on_or_before=reconciled_on
            )
            episode_id = None if episode is None else episode.id
        med_rec = MedicationReconciliation(
            patient_id=patient.id,
            nurse_id=nurse.id,
            episode_id=episode_id,
            performed_at=performed_at,
            discrepancies=discrepancies,
            note=note,
            created_at=now,
        )
        await store.add_record(session, med_rec)
        closed = []
        for task in open_tasks:
            _close(task, now, RecordKind.MED_REC, med_rec.id)
            closed.append(_line(task, False))
        await _saved(
            session, source, nurse, now, RecordKind.MED_REC, med_rec.id,
            action="med_rec.logged", command=command, patient_id=patient.id,
            detail={"tasks_closed": len(closed), "episode_id": episode_id},
        )  # fmt: skip
        return Logged(
            kind=RecordKind.MED_REC,
            record_id=med_rec.id,
            patient_name=patient.display_name,
            day=reconciled_on,
            discrepancies=discrepancies,
            episode_id=episode_id,
            closed=tuple(closed),
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
) -> NoteAdded | Refusal:
    """Save a free note on a patient (/note)."""
    now = clock.now()
    async with db.uow() as session:
        begun = await _begin(session, nurse, source, patient_id)
        if isinstance(begun, Refusal):
            return begun
        note = Note(patient_id=begun.id, nurse_id=nurse.id, text=text, created_at=now)
        await store.add_record(session, note)
        await _saved(
            session, source, nurse, now, RecordKind.NOTE, note.id,
            action="note.added", command=command, patient_id=begun.id,
        )  # fmt: skip
        return NoteAdded(note_id=note.id, patient_name=begun.display_name)


# -- changing what was logged --------------------------------------------------------------------


async def undo_record(
    db: Database, clock: Clock, *, nurse: NurseView, kind: RecordKind, record_id: int
) -> Undone | Refusal:
    """Mark a record undone, cancel the tasks it created and reopen the tasks it closed."""
    now = clock.now()
    async with db.uow() as session:
        found = await _changeable(session, now, nurse, kind, record_id)
        if isinstance(found, Refusal):
            return found
        record, patient = found
        record.undone_at = now
        cancelled = await store.tasks_of_origin(
            session, origin_kind=kind.value, origin_id=record_id, status=TaskStatus.OPEN
        )
        for task in cancelled:
            task.status = TaskStatus.CANCELLED
            task.completed_at = now
        reopened = await store.tasks_closed_by(session, kind=kind.value, record_id=record_id)
        for task in reopened:
            task.status = TaskStatus.OPEN
            task.completed_at = None
            task.closed_by_kind = None
            task.closed_by_id = None
            due.note_task(session, task)  # open again: its reminder may be due
        if isinstance(record, Appointment):  # its referral waits again (task reopened above)
            await referrals.on_appointment_undone(session, record, now=now)
        prior_reached = patient.last_reached_at
        if isinstance(record, Contact):
            await _flag_attempts(session, patient.id)
        await audit.record_audit(
            session,
            at=now,
            action="record.undone",
            actor_nurse_id=nurse.id,
            command="undo",
            patient_id=patient.id,
            entity=kind.value,
            entity_id=record_id,
            detail={
                "prior": {"undone_at": None, **_snapshot(record)},
                "cancelled_task_ids": [t.id for t in cancelled],
                "reopened_task_ids": [t.id for t in reopened],
                "prior_last_reached_at": _iso(prior_reached),
            },
        )
        return Undone(kind, record_id, patient.display_name, len(cancelled), len(reopened))


async def change_follow_up(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    kind: RecordKind,
    record_id: int,
    follow_up: When | None,
) -> FollowUpChanged | Refusal:
    """Set, move or remove the follow-up task of a logged record, keeping the prior due date."""
    now = clock.now()
    async with db.uow() as session:
        found = await _changeable(session, now, nurse, kind, record_id)
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
        prior = [{"task_id": t.id, "due_at": _iso(t.due_at)} for t in existing]
        line = None
        if follow_up is None:
            for task in existing:
                task.status = TaskStatus.CANCELLED
                task.completed_at = now
        elif existing:
            task = existing[0]
            task.due_at, task.remind_at = _follow_up_times(follow_up, nurse)
            task.has_time = follow_up.has_time
            due.note_task(session, task)
            line = _line(task, follow_up.has_time)
        else:
            task = await _follow_up_task(session, nurse, patient, kind, record_id, follow_up, now)
            line = _line(task, follow_up.has_time)
        await audit.record_audit(
            session,
            at=now,
            action="record.follow_up_changed",
            actor_nurse_id=nurse.id,
            command="change_follow_up",
            patient_id=patient.id,
            entity=kind.value,
            entity_id=record_id,
            detail={"prior": prior, "new_due_at": None if line is None else _iso(line.due_at)},
        )
        return FollowUpChanged(kind, record_id, patient.display_name, line)


async def add_note(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    kind: RecordKind,
    record_id: int,
    text: str,
    source: MessageKey | None = None,
) -> NoteAdded | Refusal:
    """Attach a note to a logged record."""
    now = clock.now()
    async with db.uow() as session:
        if source is not None and await store.find_inbound(
            session, chat_id=source.chat_id, message_id=source.message_id
        ):
            return Refusal.DUPLICATE
        found = await _changeable(session, now, nurse, kind, record_id)
        if isinstance(found, Refusal):
            return found
        _record, patient = found
        note = Note(
            patient_id=patient.id,
            nurse_id=nurse.id,
            record_kind=kind.value,
            record_id=record_id,
            text=text,
            created_at=now,
        )
        await store.add_record(session, note)
        await _saved(
            session, source, nurse, now, RecordKind.NOTE, note.id,
            action="note.added", command="add_note", patient_id=patient.id,
            detail={"on": kind.value, "on_id": record_id},
        )  # fmt: skip
        return NoteAdded(note_id=note.id, patient_name=patient.display_name)


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
    now = clock.now()
    zone = nurse.zone
    async with db.uow() as session:
        found = await _changeable(session, now, nurse, RecordKind.EPISODE, episode_id)
        if isinstance(found, Refusal):
            return found
        episode, patient = found
        assert isinstance(episode, Episode)
        prior_complexity = None if episode.complexity is None else episode.complexity.value
        episode.complexity = complexity
        specs = {
            s.kind: s
            for s in care.transition_tasks(
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
            prior_due[str(task.id)] = _iso(task.due_at)
            task.due_at = spec.due_at
            task.remind_at = care.local_time_on(
                care.local_date(spec.due_at, zone), nurse.digest_time, zone
            )
            due.note_task(session, task)
            redated.append(_line(task, False))
        await audit.record_audit(
            session,
            at=now,
            action="discharge.complexity_set",
            actor_nurse_id=nurse.id,
            command="complexity",
            patient_id=patient.id,
            entity="episode",
            entity_id=episode.id,
            detail={"prior": {"complexity": prior_complexity, "due_at": prior_due}},
        )
        return ComplexitySet(episode.id, patient.display_name, complexity, tuple(redated))


async def set_attendance(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    task_id: int,
    status: AppointmentStatus,
) -> AttendanceSet | Refusal:
    """Answer an attended? check; a no-show creates a follow-up task for the next day."""
    now = clock.now()
    zone = nurse.zone
    async with db.uow() as session:
        task = await store.get_task(session, task_id=task_id)
        if task is None or task.nurse_id != nurse.id or task.kind != TaskKind.ATTENDANCE_CHECK:
            return Refusal.NOT_FOUND
        appointment = await session.get(Appointment, task.origin_id or 0)
        if appointment is None or appointment.nurse_id != nurse.id:
            return Refusal.NOT_FOUND
        if appointment.undone_at is not None:
            return Refusal.ALREADY_UNDONE
        if task.status != TaskStatus.OPEN:
            return Refusal.ALREADY_ANSWERED
        patient = await session.get(Patient, appointment.patient_id)
        assert patient is not None
        prior = appointment.status.value
        appointment.status = status
        task.status = TaskStatus.DONE
        task.completed_at = now
        for reminder in await store.tasks_of_origin(
            session,
            origin_kind=RecordKind.APPOINTMENT.value,
            origin_id=appointment.id,
            kinds=[TaskKind.APPOINTMENT_REMINDER],
            status=TaskStatus.OPEN,
        ):
            reminder.status = TaskStatus.CANCELLED
            reminder.completed_at = now
        line = None
        if status == AppointmentStatus.NO_SHOW:
            tomorrow = care.local_date(now, zone) + timedelta(days=1)
            follow = await _follow_up_task(
                session,
                nurse,
                patient,
                RecordKind.APPOINTMENT,
                appointment.id,
                When(care.start_of_local_day(tomorrow, zone), has_time=False),
                now,
                title="Follow up on missed appointment",
            )
            line = _line(follow, False)
        await audit.record_audit(
            session,
            at=now,
            action="appointment.attendance_set",
            actor_nurse_id=nurse.id,
            command="attended_check",
            patient_id=patient.id,
            entity="appointment",
            entity_id=appointment.id,
            detail={"prior": {"status": prior}, "status": status.value},
        )
        return AttendanceSet(appointment.id, patient.display_name, status, line)


# -- helpers -------------------------------------------------------------------------------------


async def _begin(
    session: AsyncSession, nurse: NurseView, source: MessageKey | None, patient_id: int
) -> Patient | Refusal:
    if source is not None and await store.find_inbound(
        session, chat_id=source.chat_id, message_id=source.message_id
    ):
        return Refusal.DUPLICATE
    patient = await store.owned_active_patient(session, patient_id=patient_id, nurse_id=nurse.id)
    return Refusal.NO_PATIENT if patient is None else patient


async def _saved(
    session: AsyncSession,
    source: MessageKey | None,
    nurse: NurseView,
    now: datetime,
    kind: RecordKind,
    record_id: int,
    *,
    action: str,
    command: str,
    patient_id: int,
    detail: dict[str, Any] | None = None,
) -> None:
    """The end of every logging use case: claim the nurse's message in the (chat id, message
    id) ledger, so a redelivered update saves nothing twice, and audit the new record (as
    "voice" when it came from a voice note)."""
    if source is not None and source.via is Source.VOICE:
        command = Source.VOICE.value
    if source is not None:
        await store.add_inbound(
            session,
            chat_id=source.chat_id,
            message_id=source.message_id,
            nurse_id=nurse.id,
            now=now,
            record_kind=kind.value,
            record_id=record_id,
        )
    await audit.record_audit(
        session,
        at=now,
        action=action,
        actor_nurse_id=nurse.id,
        command=command,
        patient_id=patient_id,
        entity=kind.value,
        entity_id=record_id,
        detail=detail,
    )


async def _changeable(
    session: AsyncSession, now: datetime, nurse: NurseView, kind: RecordKind, record_id: int
) -> tuple[store.Record, Patient] | Refusal:
    record = await store.get_record(session, kind=kind.value, record_id=record_id)
    if record is None or record.nurse_id != nurse.id:
        return Refusal.NOT_FOUND
    if record.undone_at is not None:
        return Refusal.ALREADY_UNDONE
    if now - record.created_at > CHANGE_WINDOW:
        return Refusal.EXPIRED
    patient = await session.get(Patient, record.patient_id)
    if patient is None or patient.nurse_id != nurse.id:
        return Refusal.NOT_FOUND
    return record, patient


def _follow_up_times(when: When, nurse: NurseView) -> tuple[datetime, datetime]:
    """(due_at, remind_at): a date-only follow-up is due by the end of that local day and
    reminded at her follow-up time (after the morning digest, which lists it); a timed one at
    its time."""
    if when.has_time:
        return when.at, when.at
    zone = nurse.zone
    day = when.local_date(zone)
    return care.end_of_local_day(day, zone), care.local_time_on(day, nurse.follow_up_time, zone)


async def _follow_up_task(
    session: AsyncSession,
    nurse: NurseView,
    patient: Patient,
    kind: RecordKind,
    record_id: int,
    when: When,
    now: datetime,
    *,
    title: str = "",
) -> Task:
    due_at, remind_at = _follow_up_times(when, nurse)
    return await store.add_task(
        session,
        nurse_id=nurse.id,
        patient_id=patient.id,
        kind=TaskKind.FOLLOW_UP,
        title=title,
        due_at=due_at,
        has_time=when.has_time,
        remind_at=remind_at,
        origin_kind=kind.value,
        origin_id=record_id,
        now=now,
    )


async def _appointment_tasks(
    session: AsyncSession,
    nurse: NurseView,
    patient: Patient,
    appointment: Appointment,
    now: datetime,
    zone: ZoneInfo,
) -> list[TaskLine]:
    if appointment.has_time:
        reminders = care.appointment_reminder_times(
            appointment.at, zone, nurse.digest_time, now=now
        )
        check_at = appointment.at
    else:
        day = care.local_date(appointment.at, zone)
        before = care.local_time_on(day - timedelta(days=1), nurse.digest_time, zone)
        reminders = [before] if before >= now else []
        check_at = care.local_time_on(day, DATE_ONLY_CHECK, zone)
    lines = []
    for remind_at in reminders:
        task = await store.add_task(
            session,
            nurse_id=nurse.id,
            patient_id=patient.id,
            kind=TaskKind.APPOINTMENT_REMINDER,
            due_at=remind_at,
            has_time=True,
            remind_at=remind_at,
            origin_kind=RecordKind.APPOINTMENT.value,
            origin_id=appointment.id,
            now=now,
        )
        lines.append(_line(task, True))
    check = await store.add_task(
        session,
        nurse_id=nurse.id,
        patient_id=patient.id,
        kind=TaskKind.ATTENDANCE_CHECK,
        due_at=check_at,
        has_time=True,
        remind_at=check_at,
        origin_kind=RecordKind.APPOINTMENT.value,
        origin_id=appointment.id,
        now=now,
    )
    lines.append(_line(check, True))
    return lines


async def _flag_attempts(session: AsyncSession, patient_id: int) -> list[TaskLine]:
    """Set attempts_documented on the patient's open TCM contact tasks from the live attempts
    inside each task's window; return the tasks that are now flagged."""
    flagged = []
    for task in await store.open_patient_tasks(
        session, patient_id=patient_id, kind=TaskKind.TCM_CONTACT
    ):
        since = task.window_start or task.created_at
        times = await store.attempt_times(
            session, patient_id=patient_id, since=since, until=task.due_at
        )
        # The window is the task's own [window_start, due_at], already computed by the care
        # rules with the configured calendar: two separate attempts inside it count.
        documented = len(set(times)) >= 2
        if task.attempts_documented != documented:
            due.note_task(session, task)  # escalation depends on it
        task.attempts_documented = documented
        if documented:
            flagged.append(_line(task, False, attempts_documented=True))
    return flagged


def _close(task: Task, now: datetime, kind: RecordKind, record_id: int) -> None:
    task.status = TaskStatus.DONE
    task.completed_at = now
    task.closed_by_kind = kind.value
    task.closed_by_id = record_id


def _line(task: Task, has_time: bool, *, attempts_documented: bool = False) -> TaskLine:
    return TaskLine(
        task.id,
        task.kind,
        task.due_at,
        title=task.title,
        has_time=has_time,
        attempts_documented=attempts_documented,
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _snapshot(record: store.Record) -> dict[str, Any]:
    """JSON-safe prior values of a record's status fields (ids and enums, no free text)."""
    out: dict[str, Any] = {}
    for name in ("status", "channel", "outcome", "complexity", "discrepancies", "at"):
        value = getattr(record, name, None)
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, datetime):
            value = value.isoformat()
        if value is not None:
            out[name] = value
    return out


async def message_was_saved(db: Database, *, chat_id: int, message_id: int) -> bool:
    """Whether a nurse message already changed data (its ledger row exists)."""
    async with db.uow(read_only=True) as session:
        found = await store.find_inbound(session, chat_id=chat_id, message_id=message_id)
    return found is not None

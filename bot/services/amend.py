"""Corrections: "actually make that thursday", "it was a vm not a real call", "not harold, i
meant tom" change the matching slot of her latest record. Never a new record.

The record is the latest one she saved (within ``CHANGE_WINDOW``, newest message first, last
fact first) that has the slot the correction names: a day or a time (an appointment moves
with its pushes; a contact's follow-up moves, or a future day becomes its follow-up and a past
one its date; her own task's due; a discharge's or a hospital event's day), a channel or an
outcome (a contact: the closing rules run again both ways), or the patient (the record and its
tasks move to her). The prior values of every row touched are kept in the audit and in the
correction's ledger link, which undo restores.

Must not import telegram or handlers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import Any

from bot import care
from bot.care import closing
from bot.clock import Clock
from bot.config import Config
from bot.parsing import CorrectionIntent, When
from bot.render.tasks import TaskLine
from bot.services import appointments
from bot.services.changes import Tracker
from bot.services.ledger import MessageKey
from bot.services.nurse import NurseView
from bot.services.saving import (
    CHANGE_WINDOW,
    Abort,
    Logged,
    Saving,
    add_follow_up,
    business_calendar,
    care_rules,
    follow_up_times,
    line,
)
from bot.services.worklist import apply_closing, refresh_patient, reopen_task
from bot.vocab import (
    TCM_TASK_KINDS,
    Channel,
    Outcome,
    RecordChange,
    RecordKind,
    Refusal,
    TaskKind,
    TaskStatus,
)
from storage import due
from storage import records as store
from storage.db import Database
from storage.models import (
    Appointment,
    Contact,
    Episode,
    HospitalEvent,
    Patient,
    Task,
)

DATED = frozenset(
    {
        RecordKind.APPOINTMENT,
        RecordKind.CONTACT,
        RecordKind.TASK,
        RecordKind.EPISODE,
        RecordKind.HOSPITAL_EVENT,
    }
)
MOVABLE = frozenset(
    {
        RecordKind.CONTACT,
        RecordKind.APPOINTMENT,
        RecordKind.EPISODE,
        RecordKind.MED_REC,
        RecordKind.NOTE,
        RecordKind.HOSPITAL_EVENT,
        RecordKind.TASK,
    }
)


@dataclass(frozen=True)
class Amended:
    """Her record after the correction: each slot changed (name, before, after as ISO or
    vocab values), and the tasks the change closed or reopened."""

    record: Logged
    changes: tuple[tuple[str, str | None, str | None], ...]
    closed: tuple[TaskLine, ...] = ()
    reopened: tuple[TaskLine, ...] = ()


async def amend_latest(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    nurse: NurseView,
    key: MessageKey | None,
    correction: CorrectionIntent,
) -> Amended | Refusal:
    """Apply a correction to her latest record that has the slot it names (see the module)."""
    try:
        async with db.uow() as session:
            s = Saving(session, nurse, config, clock.now(), "correction", key)
            if await s.already_saved():
                return Refusal.DUPLICATE
            moving_to: Patient | None = None
            if _only_patient(correction):
                if correction.patient is None or correction.patient.id is None:
                    return Refusal.NO_PATIENT
                found = await s.own_patient(correction.patient.id)
                if isinstance(found, Refusal):
                    return found
                moving_to = found
            target = await _target(s, correction, moving=moving_to is not None)
            if target is None:
                return Refusal.NOT_FOUND
            kind, record, patient = target
            tracker = Tracker()
            tracker.watch(record)
            if patient is not None:
                tracker.watch(patient)
            if moving_to is not None:
                result = await _move_patient(s, tracker, kind, record, patient, moving_to)
            elif isinstance(record, Contact) and patient is not None:
                result = await _amend_contact(s, tracker, record, patient, correction)
            else:
                result = await _amend_when(s, tracker, kind, record, patient, correction)
            prior = tracker.prior()
            record_id = record.id
            await s.link(kind, record_id, change=RecordChange.CHANGED, prior=prior)
            await s.audit(
                "record.corrected",
                patient_id=None if patient is None else patient.id,
                entity=kind.value,
                entity_id=record_id,
                detail={"prior": prior, "changes": [list(c) for c in result.changes]},
            )
            return result
    except Abort as abort:
        return abort.refusal


def _only_patient(correction: CorrectionIntent) -> bool:
    return (
        correction.patient is not None
        and correction.new is None
        and correction.new_time is None
        and correction.channel is None
        and correction.outcome is None
    )


async def _target(
    s: Saving, correction: CorrectionIntent, *, moving: bool
) -> tuple[RecordKind, Any, Patient | None] | None:
    """Her latest live record that has the slot the correction names (her own task may have
    no patient)."""
    wants_when = correction.new is not None or correction.new_time is not None
    wants_contact = correction.channel is not None or correction.outcome is not None
    named = None if moving or correction.patient is None else correction.patient.id
    for message in await store.latest_messages(
        s.session, nurse_id=s.nurse.id, since=s.now - CHANGE_WINDOW
    ):
        links = await store.message_links(s.session, message_id=message.id)
        for link in reversed(links):
            if link.change != RecordChange.CREATED or link.record_kind not in MOVABLE:
                continue
            kind = RecordKind(link.record_kind)
            if wants_contact and kind != RecordKind.CONTACT:
                continue
            if wants_when and kind not in DATED:
                continue
            found = await _live(s, kind, link.record_id)
            if found is None:
                continue
            record, patient = found
            if named is not None and (patient is None or patient.id != named):
                continue
            return kind, record, patient
    return None


async def _live(s: Saving, kind: RecordKind, record_id: int) -> tuple[Any, Patient | None] | None:
    if kind == RecordKind.TASK:
        task = await store.get_task(s.session, task_id=record_id)
        if task is None or task.status != TaskStatus.OPEN or task.nurse_id != s.nurse.id:
            return None
        if task.patient_id is None:
            return task, None
        return task, await s.session.get(Patient, task.patient_id)
    record = await store.get_record(s.session, kind=kind.value, record_id=record_id)
    if record is None or record.undone_at is not None or record.nurse_id != s.nurse.id:
        return None
    patient = await s.session.get(Patient, record.patient_id)
    return None if patient is None else (record, patient)


# -- a contact: channel, outcome, date ------------------------------------------------------


async def _amend_contact(
    s: Saving, tracker: Tracker, contact: Contact, patient: Patient, correction: CorrectionIntent
) -> Amended:
    changes: list[tuple[str, str | None, str | None]] = []
    if correction.new is not None or correction.new_time is not None:
        follow_ups = await _open_follow_ups(s, RecordKind.CONTACT, contact.id)
        if follow_ups or (correction.new is not None and correction.new.at > s.now):
            return await _follow_up_to(s, tracker, RecordKind.CONTACT, contact, patient, correction)
        before = contact.occurred_at
        contact.occurred_at = _redate(before, correction.new, correction.new_time, s)
        changes.append(("occurred_at", before.isoformat(), contact.occurred_at.isoformat()))
    if correction.channel is not None and correction.channel != contact.channel:
        changes.append(("channel", contact.channel.value, correction.channel.value))
        contact.channel = correction.channel
        if correction.channel == Channel.VOICEMAIL and correction.outcome is None:
            correction = _with_outcome(correction, Outcome.ATTEMPTED)
    if correction.outcome is not None and correction.outcome != contact.outcome:
        changes.append(("outcome", contact.outcome.value, correction.outcome.value))
        contact.outcome = correction.outcome
    if not changes:
        raise Abort(Refusal.NOTHING_TO_CHANGE)
    closed, reopened = await _rerun_contact(s, tracker, contact, patient)
    return Amended(_contact_logged(contact, patient), tuple(changes), closed, reopened)


async def _rerun_contact(
    s: Saving, tracker: Tracker, contact: Contact, patient: Patient
) -> tuple[tuple[TaskLine, ...], tuple[TaskLine, ...]]:
    """The closing rules both ways: what the contact closed reopens, then it closes again
    what it closes now (the reminder she tapped stays closed when it still may be)."""
    open_now = await store.open_patient_tasks(s.session, patient_id=patient.id)
    was_closed = await store.tasks_closed_by(
        s.session, kind=RecordKind.CONTACT.value, record_id=contact.id
    )
    tracker.watch(*open_now, *was_closed)
    tapped = next(
        (t.id for t in was_closed if t.kind not in TCM_TASK_KINDS | closing.ROUTINE_KINDS), None
    )
    for task in was_closed:
        reopen_task(s.session, task)
    await s.session.flush()
    applied = await apply_closing(
        s,
        patient,
        closing.ContactLogged(
            contact.id,
            contact.occurred_at,
            contact.channel,
            contact.outcome,
            contact.with_whom,
            tapped,
        ),
        kind=RecordKind.CONTACT,
        record_id=contact.id,
        from_task_id=tapped,
    )
    await refresh_patient(s.session, patient, readmission_days=s.config.care.readmission_days)
    closed_ids = {t.id for t in applied.closed}
    reopened = tuple(line(t) for t in was_closed if t.id not in closed_ids)
    newly = tuple(t for t in applied.closed if t.id not in {w.id for w in was_closed})
    return newly, reopened


def _with_outcome(correction: CorrectionIntent, outcome: Outcome) -> CorrectionIntent:
    return replace(correction, outcome=outcome)


# -- a day or a time ----------------------------------------------------------------------


async def _amend_when(
    s: Saving,
    tracker: Tracker,
    kind: RecordKind,
    record: Any,
    patient: Patient | None,
    correction: CorrectionIntent,
) -> Amended:
    if correction.new is None and correction.new_time is None:
        raise Abort(Refusal.NOTHING_TO_CHANGE)
    if isinstance(record, Appointment) and patient is not None:
        to = appointments.new_moment(record, correction.new, correction.new_time, s)
        moved = await appointments.move(s, patient, record, to, tracker=tracker)
        return Amended(
            moved.appointment,
            (("at", moved.prior_at.isoformat(), to.at.isoformat()),),
        )
    if isinstance(record, Task):
        before = record.due_at
        when = _when(record.due_at, record.has_time, correction.new, correction.new_time, s)
        record.due_at, record.remind_at = follow_up_times(when, s.nurse)
        record.has_time = when.has_time
        due.note_task(s.session, record)  # moved: its reminder is planned again
        logged = Logged(
            kind=RecordKind.TASK,
            record_id=record.id,
            patient_name="" if patient is None else patient.display_name,
            patient_id=record.patient_id,
            at=record.due_at,
            has_time=record.has_time,
            title=record.title,
        )
        return Amended(logged, (("due_at", before.isoformat(), record.due_at.isoformat()),))
    if isinstance(record, Episode | HospitalEvent) and patient is not None:
        if correction.new is None:
            raise Abort(Refusal.NOTHING_TO_CHANGE)
        return await _redate_event(s, tracker, kind, record, patient, correction.new)
    raise Abort(Refusal.NOTHING_TO_CHANGE)


async def _follow_up_to(
    s: Saving,
    tracker: Tracker,
    kind: RecordKind,
    record: Contact,
    patient: Patient,
    correction: CorrectionIntent,
) -> Amended:
    follow_ups = await _open_follow_ups(s, kind, record.id)
    tracker.watch(*follow_ups)
    if follow_ups:
        task = follow_ups[0]
        before: str | None = task.due_at.isoformat()
        when = _when(task.due_at, task.has_time, correction.new, correction.new_time, s)
        task.due_at, task.remind_at = follow_up_times(when, s.nurse)
        task.has_time = when.has_time
        due.note_task(s.session, task)  # moved: its reminder is planned again
    else:
        assert correction.new is not None
        before = None
        task = await add_follow_up(s, patient.id, kind, record.id, correction.new)
        tracker.created(task)
    logged = _contact_logged(record, patient, created=(line(task),))
    return Amended(logged, (("follow_up", before, task.due_at.isoformat()),))


async def _redate_event(
    s: Saving,
    tracker: Tracker,
    kind: RecordKind,
    record: Episode | HospitalEvent,
    patient: Patient,
    new: When,
) -> Amended:
    day = new.local_date(s.zone)
    if isinstance(record, HospitalEvent):
        before = record.day
        record.day = day
    else:
        before = record.discharged_on
        record.discharged_on = day
        specs = {
            spec.kind: spec
            for spec in care.transition_tasks(
                day, record.complexity, s.zone, business_calendar(s.config), care_rules(s.config)
            )
        }
        tasks = await store.tasks_of_origin(
            s.session, origin_kind=kind.value, origin_id=record.id, status=TaskStatus.OPEN
        )
        tracker.watch(*tasks)
        for task in tasks:
            spec = specs.get(task.kind)
            if spec is not None:
                task.due_at, task.window_start = spec.due_at, spec.opens_at
                task.remind_at = care.local_time_on(
                    care.local_date(spec.due_at, s.zone), s.nurse.digest_time, s.zone
                )
                due.note_task(s.session, task)  # moved: its reminder and escalation move too
    for episode in await store.live_episodes(s.session, patient_id=patient.id):
        tracker.watch(episode)
    await refresh_patient(s.session, patient, readmission_days=s.config.care.readmission_days)
    logged = Logged(
        kind=kind,
        record_id=record.id,
        patient_name=patient.display_name,
        patient_id=patient.id,
        day=day,
        readmission=isinstance(record, Episode) and record.readmission,
        paused=patient.admitted_since is not None,
    )
    return Amended(logged, (("day", before.isoformat(), day.isoformat()),))


# -- the patient ------------------------------------------------------------------------------


async def _move_patient(
    s: Saving, tracker: Tracker, kind: RecordKind, record: Any, old: Patient | None, new: Patient
) -> Amended:
    """The record and its tasks (and vitals) move to the right patient; what it closed for the
    wrong one reopens, and the closing rules run for the right one."""
    if isinstance(record, Task) or old is None:
        record.patient_id = new.id
        if isinstance(record, Task):
            due.note_task(s.session, record)  # the new patient may be in hospital (paused)
        logged = Logged(
            kind=kind, record_id=record.id, patient_name=new.display_name, patient_id=new.id
        )
        return Amended(logged, (("patient", None if old is None else str(old.id), str(new.id)),))
    if old.id == new.id:
        raise Abort(Refusal.NOTHING_TO_CHANGE)
    tracker.watch(new)
    own = await store.tasks_of_origin(s.session, origin_kind=kind.value, origin_id=record.id)
    was_closed = await store.tasks_closed_by(s.session, kind=kind.value, record_id=record.id)
    vitals = await store.vitals_of_origin(s.session, origin_kind=kind.value, origin_id=record.id)
    episodes = await store.live_episodes(s.session, patient_id=old.id)
    episodes += await store.live_episodes(s.session, patient_id=new.id)
    open_new = await store.open_patient_tasks(s.session, patient_id=new.id)
    tracker.watch(*own, *was_closed, *vitals, *episodes, *open_new)
    record.patient_id = new.id
    for task in own:
        task.patient_id = new.id
        due.note_task(s.session, task)  # the new patient may be in hospital (paused)
    for vital in vitals:
        vital.patient_id = new.id
    for task in was_closed:
        if task.status == TaskStatus.DONE:
            reopen_task(s.session, task)
    await s.session.flush()
    closed: tuple[TaskLine, ...] = ()
    if isinstance(record, Contact):
        applied = await apply_closing(
            s,
            new,
            closing.ContactLogged(
                record.id, record.occurred_at, record.channel, record.outcome, record.with_whom
            ),
            kind=kind,
            record_id=record.id,
        )
        closed = applied.closed
    for patient in (old, new):
        await refresh_patient(s.session, patient, readmission_days=s.config.care.readmission_days)
    logged = Logged(
        kind=kind, record_id=record.id, patient_name=new.display_name, patient_id=new.id
    )
    return Amended(
        logged,
        (("patient", str(old.id), str(new.id)),),
        closed,
        tuple(line(t) for t in was_closed),
    )


# -- helpers ----------------------------------------------------------------------------------


async def _open_follow_ups(s: Saving, kind: RecordKind, record_id: int) -> list[Task]:
    return await store.tasks_of_origin(
        s.session,
        origin_kind=kind.value,
        origin_id=record_id,
        kinds=[TaskKind.FOLLOW_UP],
        status=TaskStatus.OPEN,
    )


def _when(
    current: datetime, has_time: bool, new: When | None, new_time: tuple[int, int] | None, s: Saving
) -> When:
    """The corrected moment: a new day keeps the time of day (when there was one) unless a
    time is given; a time alone stays on the same day."""
    zone = s.zone
    if new is not None and new.has_time:
        return new
    day = new.local_date(zone) if new is not None else current.astimezone(zone).date()
    if new_time is not None:
        return When(care.local_time_on(day, time(*new_time), zone), has_time=True)
    if has_time:
        return When(care.local_time_on(day, current.astimezone(zone).time(), zone), has_time=True)
    return When(care.start_of_local_day(day, zone), has_time=False)


def _redate(
    current: datetime, new: When | None, new_time: tuple[int, int] | None, s: Saving
) -> datetime:
    return _when(current, True, new, new_time, s).at


def _contact_logged(
    contact: Contact, patient: Patient, *, created: tuple[TaskLine, ...] = ()
) -> Logged:
    return Logged(
        kind=RecordKind.CONTACT,
        record_id=contact.id,
        patient_name=patient.display_name,
        patient_id=patient.id,
        at=contact.occurred_at,
        channel=contact.channel,
        outcome=contact.outcome,
        with_whom=contact.with_whom,
        created=created,
    )

"""Appointments: log one (never twice), cancel or reschedule one by patient, day, time or
specialty, and answer its attendance check.

An appointment gets pushes, not work: reminders (the day before at the digest time, and a lead
time before) and the "Attended?" check when it ends (start + [care] appointment_minutes).
Logging one already on file (same patient, within 15 minutes, scheduled) returns the one on
file instead of doubling it. A cancellation or a reschedule takes the reminders and the check
with it, keeps the prior values (in the audit and in its message's ledger link, which undo
restores) and, when several scheduled appointments fit, returns them to choose from.

Must not import telegram or handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bot import care
from bot.clock import Clock
from bot.config import Config
from bot.parsing import When
from bot.parsing.careplans import canonical_specialty
from bot.render.tasks import TaskLine
from bot.services import referrals
from bot.services.changes import Tracker
from bot.services.ledger import MessageKey
from bot.services.nurse import NurseView
from bot.services.saving import Logged, Saving, add_follow_up, iso, line
from bot.services.worklist import cancel_tasks, reopen_task
from bot.vocab import AppointmentStatus, RecordChange, RecordKind, Refusal, TaskKind, TaskStatus
from storage import careplans as careplan_store
from storage import records as store
from storage.db import Database
from storage.models import Appointment, Patient, Task

SAME_APPOINTMENT = timedelta(minutes=15)
"""Two scheduled appointments of a patient this close are the same one logged twice."""
DATE_ONLY_CHECK = time(17, 0)
"""When the attendance check of an appointment logged without a time comes."""
PUSH_KINDS = (TaskKind.APPOINTMENT_REMINDER, TaskKind.ATTENDANCE_CHECK)


@dataclass(frozen=True)
class AppointmentChanged:
    """A cancelled or moved appointment: as it is now, what it was, its pushes."""

    appointment: Logged
    prior_at: datetime
    prior_status: AppointmentStatus
    cancelled: tuple[TaskLine, ...] = ()  # reminders and check taken away
    created: tuple[TaskLine, ...] = ()  # reminders and check at the new time
    reopened: tuple[TaskLine, ...] = ()  # a referral follow-up waiting again


@dataclass(frozen=True)
class AppointmentChoice:
    """Several of the patient's scheduled appointments fit: she picks one (by id)."""

    patient_id: int
    patient_name: str
    options: tuple[Logged, ...]


@dataclass(frozen=True)
class AttendanceSet:
    appointment_id: int
    patient_name: str
    status: AppointmentStatus
    follow_up: TaskLine | None
    moved_to: datetime | None = None


# -- logging ---------------------------------------------------------------------------------


async def save_appointment(
    s: Saving, patient: Patient, *, at: When, with_whom: str, location: str, note: str
) -> Logged:
    """An appointment with its reminders and attendance check; one already on file (same
    patient, within 15 minutes, scheduled) comes back as ``existing`` and nothing is saved."""
    same = await _same_appointment(s, patient, at, with_whom)
    if same is not None:
        return describe(same, patient, existing=True)
    appointment = Appointment(
        patient_id=patient.id,
        nurse_id=s.nurse.id,
        at=at.at,
        has_time=at.has_time,
        with_whom=with_whom[:120],
        location=location[:200],
        status=AppointmentStatus.SCHEDULED,
        note=note,
        created_at=s.now,
    )
    await store.add_record(s.session, appointment)
    created = [line(t) for t in await appointment_pushes(s, appointment)]
    # A referral waiting for this appointment becomes "scheduled"; its follow-up closes.
    answered = await referrals.on_appointment_logged(s.session, appointment, now=s.now)
    await s.link(RecordKind.APPOINTMENT, appointment.id)
    await s.audit(
        "appointment.logged",
        patient_id=patient.id,
        entity=RecordKind.APPOINTMENT.value,
        entity_id=appointment.id,
        detail={"tasks_created": [t.kind.value for t in created]},
    )
    return describe(appointment, patient, created=tuple(created), closed=tuple(map(line, answered)))


async def appointment_pushes(s: Saving, appointment: Appointment) -> list[Task]:
    """The reminders and the attendance check of a scheduled appointment, from now on."""
    zone, nurse = s.zone, s.nurse
    if appointment.has_time:
        reminders = care.appointment_reminder_times(
            appointment.at,
            zone,
            nurse.digest_time,
            now=s.now,
            lead_hours=s.config.reminders.appointment_lead_hours,
        )
        check_at = appointment.at + timedelta(minutes=s.config.care.appointment_minutes)
    else:
        day = care.local_date(appointment.at, zone)
        before = care.local_time_on(day - timedelta(days=1), nurse.digest_time, zone)
        reminders = [before] if before >= s.now else []
        check_at = care.local_time_on(day, DATE_ONLY_CHECK, zone)
    tasks = []
    for kind, moments in (
        (TaskKind.APPOINTMENT_REMINDER, reminders),
        (TaskKind.ATTENDANCE_CHECK, [check_at]),
    ):
        for moment in moments:
            tasks.append(
                await store.add_task(
                    s.session,
                    nurse_id=nurse.id,
                    patient_id=appointment.patient_id,
                    kind=kind,
                    due_at=moment,
                    has_time=True,
                    remind_at=moment,
                    origin_kind=RecordKind.APPOINTMENT.value,
                    origin_id=appointment.id,
                    now=s.now,
                )
            )
    return tasks


def describe(
    appointment: Appointment,
    patient: Patient,
    *,
    existing: bool = False,
    created: tuple[TaskLine, ...] = (),
    closed: tuple[TaskLine, ...] = (),
) -> Logged:
    return Logged(
        kind=RecordKind.APPOINTMENT,
        record_id=appointment.id,
        patient_name=patient.display_name,
        patient_id=patient.id,
        at=appointment.at,
        has_time=appointment.has_time,
        with_whom=appointment.with_whom or None,
        place=appointment.location or None,
        created=created,
        closed=closed,
        existing=existing,
    )


async def _same_appointment(
    s: Saving, patient: Patient, at: When, with_whom: str
) -> Appointment | None:
    """Her scheduled appointment of the patient within 15 minutes (the same day when either
    has no time) that is not with someone else."""
    since = at.at - timedelta(days=1)
    for other in await store.scheduled_appointments(
        s.session, patient_id=patient.id, nurse_id=s.nurse.id, since=since
    ):
        if not _same_provider(other.with_whom, with_whom):
            continue
        if at.has_time and other.has_time:
            if abs(other.at - at.at) <= SAME_APPOINTMENT:
                return other
        elif care.local_date(other.at, s.zone) == at.local_date(s.zone):
            return other
    return None


def _same_provider(one: str, other: str) -> bool:
    """Whether two appointments' "with whom" may be the same (either unsaid counts)."""
    if not one.strip() or not other.strip():
        return True
    a, b = canonical_specialty(one), canonical_specialty(other)
    if a is not None or b is not None:
        return a == b
    return one.strip().casefold() == other.strip().casefold()


# -- cancel and reschedule --------------------------------------------------------------------


async def cancel_appointment(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    nurse: NurseView,
    key: MessageKey | None,
    patient_id: int,
    on: When | None = None,
    what: str | None = None,
    appointment_id: int | None = None,
    command: str = "text",
) -> AppointmentChanged | AppointmentChoice | Refusal:
    """Cancel her patient's scheduled appointment that fits (day, time, specialty; or the one
    chosen by id): its reminders and check are cancelled, a referral it answered waits again."""
    return await _change(
        db, config, clock, nurse, key, patient_id, on, what, appointment_id, command, None, None
    )


async def reschedule_appointment(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    nurse: NurseView,
    key: MessageKey | None,
    patient_id: int,
    new: When | None,
    new_time: tuple[int, int] | None = None,
    on: When | None = None,
    what: str | None = None,
    appointment_id: int | None = None,
    command: str = "text",
) -> AppointmentChanged | AppointmentChoice | Refusal:
    """Move her patient's scheduled appointment that fits to ``new`` (a day keeps the old time
    of day unless one is given) or to ``new_time`` on its own day; its reminders and check
    move with it."""
    if new is None and new_time is None:
        raise ValueError("a reschedule needs a new day or a new time")
    return await _change(
        db, config, clock, nurse, key, patient_id, on, what, appointment_id, command,
        new, new_time,
    )  # fmt: skip


async def _change(
    db: Database,
    config: Config,
    clock: Clock,
    nurse: NurseView,
    key: MessageKey | None,
    patient_id: int,
    on: When | None,
    what: str | None,
    appointment_id: int | None,
    command: str,
    new: When | None,
    new_time: tuple[int, int] | None,
) -> AppointmentChanged | AppointmentChoice | Refusal:
    async with db.uow() as session:
        s = Saving(session, nurse, config, clock.now(), command, key)
        if await s.already_saved():
            return Refusal.DUPLICATE
        patient = await s.own_patient(patient_id)
        if isinstance(patient, Refusal):
            return patient
        found = await matching_appointments(s, patient, on=on, what=what, chosen=appointment_id)
        if not found:
            return Refusal.NOT_FOUND
        if len(found) > 1:
            options = tuple(describe(a, patient) for a in found)
            return AppointmentChoice(patient.id, patient.display_name, options)
        if new is None and new_time is None:
            return await cancel(s, patient, found[0])
        return await move(s, patient, found[0], new_moment(found[0], new, new_time, s))


async def matching_appointments(
    s: Saving,
    patient: Patient,
    *,
    on: When | None = None,
    what: str | None = None,
    chosen: int | None = None,
) -> list[Appointment]:
    """Her patient's scheduled appointments from today on that fit the day (and time), the
    specialty or provider named; the one chosen by id when given."""
    since = care.start_of_local_day(care.local_date(s.now, s.zone), s.zone)
    found = await store.scheduled_appointments(
        s.session, patient_id=patient.id, nurse_id=s.nurse.id, since=since
    )
    if chosen is not None:
        return [a for a in found if a.id == chosen]
    if on is not None:
        day = on.local_date(s.zone)
        found = [a for a in found if care.local_date(a.at, s.zone) == day]
        if on.has_time:
            timed = [a for a in found if abs(a.at - on.at) <= SAME_APPOINTMENT]
            found = timed or found
    if what:
        fits = [a for a in found if _names(a, what)]
        found = fits or ([] if on is None else found)
    return found


def _names(appointment: Appointment, what: str) -> bool:
    written = f"{appointment.with_whom} {appointment.location} {appointment.note}".lower()
    specialty = canonical_specialty(what)
    if specialty is not None and canonical_specialty(written) == specialty:
        return True
    return what.strip().lower() in written


def new_moment(
    appointment: Appointment, new: When | None, new_time: tuple[int, int] | None, s: Saving
) -> When:
    zone = s.zone
    if new is not None and new.has_time:
        return new
    day = new.local_date(zone) if new is not None else care.local_date(appointment.at, zone)
    if new_time is not None:
        return When(care.local_time_on(day, time(*new_time), zone), has_time=True)
    if appointment.has_time:
        old = appointment.at.astimezone(zone).time().replace(tzinfo=None)
        return When(care.local_time_on(day, old, zone), has_time=True)
    return When(care.start_of_local_day(day, zone), has_time=False)


async def cancel(s: Saving, patient: Patient, appointment: Appointment) -> AppointmentChanged:
    """Cancel one appointment inside the transaction (see ``cancel_appointment``)."""
    tracker = Tracker()
    pushes = await open_pushes(s, appointment)
    linked = await careplan_store.referrals_linked_to(s.session, appointment_id=appointment.id)
    answered = await store.tasks_closed_by(
        s.session, kind=RecordKind.APPOINTMENT.value, record_id=appointment.id
    )
    tracker.watch(appointment, *pushes, *linked, *answered)
    prior_at, prior_status = appointment.at, appointment.status
    appointment.status = AppointmentStatus.CANCELLED
    await cancel_tasks(s.session, pushes, s.now)
    await referrals.on_appointment_undone(s.session, appointment, now=s.now)
    for task in answered:
        reopen_task(s.session, task)
    prior = tracker.prior()
    await s.link(RecordKind.APPOINTMENT, appointment.id, change=RecordChange.CHANGED, prior=prior)
    await s.audit(
        "appointment.cancelled",
        patient_id=patient.id,
        entity=RecordKind.APPOINTMENT.value,
        entity_id=appointment.id,
        detail={"prior": prior, "prior_status": prior_status.value},
    )
    return AppointmentChanged(
        describe(appointment, patient),
        prior_at,
        prior_status,
        cancelled=tuple(map(line, pushes)),
        reopened=tuple(map(line, answered)),
    )


async def move(
    s: Saving,
    patient: Patient,
    appointment: Appointment,
    to: When,
    *,
    tracker: Tracker | None = None,
) -> AppointmentChanged:
    """Move one appointment inside the transaction: its pushes are cancelled and planned again
    for the new time. With the ``tracker`` of a larger change (a correction), that change
    keeps the prior values and ledgers them; otherwise the move does."""
    own = tracker is None
    tracker = tracker or Tracker()
    pushes = await open_pushes(s, appointment)
    tracker.watch(appointment, *pushes)
    prior_at, prior_status = appointment.at, appointment.status
    appointment.at, appointment.has_time = to.at, to.has_time
    appointment.status = AppointmentStatus.SCHEDULED
    await cancel_tasks(s.session, pushes, s.now)
    created = await appointment_pushes(s, appointment)
    tracker.created(*created)
    if own:
        prior = tracker.prior()
        await s.link(
            RecordKind.APPOINTMENT, appointment.id, change=RecordChange.CHANGED, prior=prior
        )
        await s.audit(
            "appointment.rescheduled",
            patient_id=patient.id,
            entity=RecordKind.APPOINTMENT.value,
            entity_id=appointment.id,
            detail={"prior": prior, "prior_at": iso(prior_at), "at": iso(to.at)},
        )
    return AppointmentChanged(
        describe(appointment, patient),
        prior_at,
        prior_status,
        cancelled=tuple(map(line, pushes)),
        created=tuple(map(line, created)),
    )


async def open_pushes(s: Saving, appointment: Appointment) -> list[Task]:
    return await store.tasks_of_origin(
        s.session,
        origin_kind=RecordKind.APPOINTMENT.value,
        origin_id=appointment.id,
        kinds=PUSH_KINDS,
        status=TaskStatus.OPEN,
    )


# -- the attendance check ----------------------------------------------------------------------


async def set_attendance(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    task_id: int,
    status: AppointmentStatus,
    config: Config | None = None,
    new_at: When | None = None,
) -> AttendanceSet | Refusal:
    """Answer an "Attended?" check: [Attended] records attendance, [No-show] creates a
    follow-up for the next day, [Rescheduled] with ``new_at`` moves the appointment and its
    pushes (without it, the appointment is marked rescheduled and its pushes end)."""
    now = clock.now()
    async with db.uow() as session:
        s = Saving(session, nurse, config or Config(), now, "attended_check")
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
        if status == AppointmentStatus.RESCHEDULED and new_at is not None:
            await move(s, patient, appointment, new_at)
            return AttendanceSet(
                appointment.id, patient.display_name, status, None, moved_to=new_at.at
            )
        prior = appointment.status.value
        appointment.status = status
        task.status = TaskStatus.DONE
        task.completed_at = now
        await cancel_tasks(session, await open_pushes(s, appointment), now)
        follow_up = None
        if status == AppointmentStatus.NO_SHOW:
            tomorrow = care.local_date(now, nurse.zone) + timedelta(days=1)
            task = await add_follow_up(
                s,
                patient.id,
                RecordKind.APPOINTMENT,
                appointment.id,
                When(care.start_of_local_day(tomorrow, nurse.zone), has_time=False),
                title="Follow up on missed appointment",
            )
            follow_up = line(task, False)
        await s.audit(
            "appointment.attendance_set",
            patient_id=patient.id,
            entity=RecordKind.APPOINTMENT.value,
            entity_id=appointment.id,
            detail={"prior": {"status": prior}, "status": status.value},
        )
        return AttendanceSet(appointment.id, patient.display_name, status, follow_up)

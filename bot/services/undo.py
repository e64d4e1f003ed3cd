"""Taking back what was saved: one record ([Undo] under it), a whole message (every record it
saved or changed), or her latest message ("scratch that", "undo").

Undo restores everything a record changed: the tasks it created are cancelled, the tasks it
closed reopen, its vitals go, an appointment's referral waits again, and what is derived from
live records is recomputed (last reached from the remaining reached contacts, admitted since,
the readmission flags, the TCM attempts). A change (a correction, a cancellation, a
reschedule) is taken back from the prior values its ledger link kept. Works within
``CHANGE_WINDOW`` of the message; one transaction each, audited with the prior values.

Must not import telegram or handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Config
from bot.services import referrals
from bot.services.changes import take_back
from bot.services.ledger import MessageKey
from bot.services.nurse import NurseView
from bot.services.saving import CHANGE_WINDOW, Saving, iso
from bot.services.worklist import cancel_tasks, refresh_patient, reopen_task
from bot.vocab import PatientStatus, RecordChange, RecordKind, Refusal, TaskStatus
from storage import patients as patient_store
from storage import records as store
from storage.db import Database
from storage.models import Appointment, InboundMessage, MessageRecord, Patient
from storage.snapshots import snapshot

UNDOABLE = frozenset(RecordKind)
"""Record kinds a message's undo can take back (care-plan records cannot)."""
_RECORD_SNAPSHOT = ("status", "channel", "outcome", "complexity", "discrepancies", "at", "kind")


@dataclass(frozen=True)
class Undone:
    kind: RecordKind
    record_id: int
    patient_name: str
    cancelled: int
    reopened: int
    change: RecordChange = RecordChange.CREATED


@dataclass(frozen=True)
class MessageUndone:
    """A message taken back: each record it had saved or changed, in its order."""

    records: tuple[Undone, ...]
    received_at: datetime


async def undo_record(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    kind: RecordKind,
    record_id: int,
    config: Config | None = None,
) -> Undone | Refusal:
    """Take back one record ([Undo] under its reply)."""
    async with db.uow() as session:
        s = Saving(session, nurse, config or Config(), clock.now(), "undo")
        found = await changeable(session, s.now, nurse, kind, record_id)
        if isinstance(found, Refusal):
            return found
        undone = await undo_created(s, kind, record_id)
        assert not isinstance(undone, Refusal)
        message = await store.message_of_record(
            session, record_kind=kind.value, record_id=record_id
        )
        if message is not None and not await _has_live_records(session, message):
            message.undone_at = s.now
        return undone


async def undo_message(
    db: Database, config: Config, clock: Clock, *, nurse: NurseView, key: MessageKey
) -> MessageUndone | Refusal:
    """Take back everything one of her messages saved or changed."""
    async with db.uow() as session:
        s = Saving(session, nurse, config, clock.now(), "undo")
        message = await store.find_inbound(session, chat_id=key.chat_id, message_id=key.message_id)
        if message is None or message.nurse_id != nurse.id or message.record_kind is None:
            return Refusal.NOT_FOUND
        return await _undo(s, message)


async def undo_latest(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    nurse: NurseView,
    key: MessageKey | None = None,
) -> MessageUndone | Refusal:
    """Take back her latest message that saved or changed something in the last 48 hours.
    ``key`` is the "undo" message itself: a redelivery of it takes nothing else back."""
    async with db.uow() as session:
        s = Saving(session, nurse, config, clock.now(), "undo", key)
        if await s.already_saved():
            return Refusal.DUPLICATE
        for message in await store.latest_messages(
            session, nurse_id=nurse.id, since=s.now - CHANGE_WINDOW
        ):
            if await _has_live_records(session, message):
                undone = await _undo(s, message)
                if key is not None and not isinstance(undone, Refusal):
                    await store.claim_inbound(
                        session,
                        chat_id=key.chat_id,
                        message_id=key.message_id,
                        nurse_id=nurse.id,
                        now=s.now,
                    )
                return undone
        return Refusal.NOT_FOUND


async def _undo(s: Saving, message: InboundMessage) -> MessageUndone | Refusal:
    if message.undone_at is not None:
        return Refusal.ALREADY_UNDONE
    if s.now - message.received_at > CHANGE_WINDOW:
        return Refusal.EXPIRED
    links = await store.message_links(s.session, message_id=message.id)
    if any(link.record_kind not in UNDOABLE for link in links):
        return Refusal.NOT_UNDOABLE
    records = []
    for link in reversed(links):
        if link.change == RecordChange.CHANGED:
            records.append(await _take_back_change(s, link))
            continue
        undone = await undo_created(s, RecordKind(link.record_kind), link.record_id)
        if not isinstance(undone, Refusal):
            records.append(undone)
    message.undone_at = s.now
    await s.audit(
        "message.undone",
        patient_id=None,
        entity="message",
        entity_id=message.id,
        detail={"records": [[r.kind.value, r.record_id, r.change.value] for r in records]},
    )
    return MessageUndone(tuple(reversed(records)), message.received_at)


async def undo_created(s: Saving, kind: RecordKind, record_id: int) -> Undone | Refusal:
    """Take back one record a message created (already undone: ALREADY_UNDONE, untouched)."""
    if kind == RecordKind.TASK:
        return await _undo_task(s, record_id)
    if kind == RecordKind.PATIENT:
        return await _undo_patient(s, record_id)
    record = await store.get_record(s.session, kind=kind.value, record_id=record_id)
    if record is None or record.nurse_id != s.nurse.id:
        return Refusal.NOT_FOUND
    if record.undone_at is not None:
        return Refusal.ALREADY_UNDONE
    patient = await s.session.get(Patient, record.patient_id)
    assert patient is not None
    prior = {
        "undone_at": None,
        **snapshot(record, [c for c in _RECORD_SNAPSHOT if hasattr(record, c)]),
    }
    record.undone_at = s.now
    created = [
        t
        for t in await store.tasks_of_origin(s.session, origin_kind=kind.value, origin_id=record_id)
        if t.status != TaskStatus.CANCELLED
    ]
    await cancel_tasks(s.session, created, s.now)
    reopened = [
        t
        for t in await store.tasks_closed_by(s.session, kind=kind.value, record_id=record_id)
        if t.status == TaskStatus.DONE
    ]
    for task in reopened:
        reopen_task(s.session, task)
    for vital in await store.vitals_of_origin(
        s.session, origin_kind=kind.value, origin_id=record_id
    ):
        vital.undone_at = s.now
    if isinstance(record, Appointment):  # its referral waits again (its task reopened above)
        await referrals.on_appointment_undone(s.session, record, now=s.now)
    prior_reached = patient.last_reached_at
    prior_admitted = patient.admitted_since
    await refresh_patient(s.session, patient, readmission_days=s.config.care.readmission_days)
    await s.audit(
        "record.undone",
        patient_id=patient.id,
        entity=kind.value,
        entity_id=record_id,
        detail={
            "prior": prior,
            "cancelled_task_ids": [t.id for t in created],
            "reopened_task_ids": [t.id for t in reopened],
            "prior_last_reached_at": iso(prior_reached),
            "prior_admitted_since": iso(prior_admitted),
        },
    )
    return Undone(kind, record_id, patient.display_name, len(created), len(reopened))


async def _undo_task(s: Saving, task_id: int) -> Undone | Refusal:
    task = await store.get_task(s.session, task_id=task_id)
    if task is None or task.nurse_id != s.nurse.id:
        return Refusal.NOT_FOUND
    if task.status == TaskStatus.CANCELLED:
        return Refusal.ALREADY_UNDONE
    prior = task.status.value
    await cancel_tasks(s.session, [task], s.now)
    name = ""
    if task.patient_id is not None:
        patient = await s.session.get(Patient, task.patient_id)
        name = "" if patient is None else patient.display_name
    await s.audit(
        "record.undone",
        patient_id=task.patient_id,
        entity=RecordKind.TASK.value,
        entity_id=task.id,
        detail={"prior": {"status": prior}},
    )
    return Undone(RecordKind.TASK, task.id, name, 1, 0)


async def _undo_patient(s: Saving, patient_id: int) -> Undone | Refusal:
    """A patient added by the message leaves the active caseload again (closed)."""
    patient = await patient_store.get_patient(s.session, patient_id=patient_id)
    if patient is None or patient.nurse_id != s.nurse.id:
        return Refusal.NOT_FOUND
    if patient.status != PatientStatus.ACTIVE:
        return Refusal.ALREADY_UNDONE
    patient.status = PatientStatus.CLOSED
    patient.updated_at = s.now
    cancelled = await patient_store.cancel_open_tasks(s.session, patient_id=patient.id, now=s.now)
    await s.audit(
        "patient.closed",
        patient_id=patient.id,
        entity="patient",
        entity_id=patient.id,
        detail={"before": "active", "after": "closed", "cancelled_task_ids": cancelled},
    )
    return Undone(RecordKind.PATIENT, patient.id, patient.display_name, len(cancelled), 0)


async def _take_back_change(s: Saving, link: MessageRecord) -> Undone:
    patients = await take_back(s.session, link.prior or {}, s.now)
    names = []
    for patient_id in sorted(patients):
        patient = await s.session.get(Patient, patient_id)
        if patient is not None:
            await refresh_patient(
                s.session, patient, readmission_days=s.config.care.readmission_days
            )
            names.append(patient.display_name)
    await s.audit(
        "record.change_undone",
        patient_id=min(patients) if patients else None,
        entity=link.record_kind,
        entity_id=link.record_id,
        detail={"restored": link.prior},
    )
    created = len((link.prior or {}).get("created", []))
    restored = len((link.prior or {}).get("rows", []))
    return Undone(
        RecordKind(link.record_kind),
        link.record_id,
        names[0] if names else "",
        created,
        restored,
        RecordChange.CHANGED,
    )


async def changeable(
    session: AsyncSession, now: datetime, nurse: NurseView, kind: RecordKind, record_id: int
) -> tuple[store.Record, Patient] | Refusal:
    """Her live record of the last 48 hours and its patient, or why not."""
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


async def _has_live_records(session: AsyncSession, message: InboundMessage) -> bool:
    """Whether anything the message saved is still live (or it changed something)."""
    for link in await store.message_links(session, message_id=message.id):
        if link.change == RecordChange.CHANGED or link.record_kind not in UNDOABLE:
            return True
        kind = RecordKind(link.record_kind)
        if kind == RecordKind.TASK:
            task = await store.get_task(session, task_id=link.record_id)
            if task is not None and task.status != TaskStatus.CANCELLED:
                return True
        elif kind == RecordKind.PATIENT:
            patient = await session.get(Patient, link.record_id)
            if patient is not None and patient.status == PatientStatus.ACTIVE:
                return True
        else:
            record = await store.get_record(session, kind=kind.value, record_id=link.record_id)
            if record is not None and record.undone_at is None:
                return True
    return False

"""The core model of design.md as typed SQLAlchemy 2 tables.

Owns table and column definitions only: no queries, no commits. Times are aware UTC
(`UTCDateTime`), Telegram ids are 64-bit. The enum columns hold the terms of bot.vocab (stored
as their values). Must not import telegram, handlers, or anything of bot but bot.vocab.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.vocab import (
    AppointmentStatus,
    Channel,
    Complexity,
    DeliveryKind,
    DeliveryStatus,
    GoalStatus,
    HospitalEventKind,
    Outcome,
    Party,
    PatientStatus,
    RecordChange,
    ReferralStatus,
    ResourceKind,
    Risk,
    Role,
    TaskKind,
    TaskResolution,
    TaskStatus,
    VitalKind,
)
from storage.types import BigIntPK, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, values as stored strings."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


@event.listens_for(Base, "before_insert", propagate=True)
@event.listens_for(Base, "before_update", propagate=True)
def _strip_nul_characters(_mapper: Any, _connection: Any, target: Any) -> None:
    """PostgreSQL text cannot hold NUL (\\x00); a nurse's pasted text may. Drop it on save."""
    for attr in _mapper.column_attrs:
        value = getattr(target, attr.key, None)
        if isinstance(value, str) and "\x00" in value:
            setattr(target, attr.key, value.replace("\x00", ""))


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime]


class Nurse(Base):
    __tablename__ = "nurses"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.NURSE)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("nurses.id"))
    timezone: Mapped[str] = mapped_column(String(64))
    digest_time: Mapped[time] = mapped_column(Time)
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    date_order: Mapped[str] = mapped_column(String(3), default="MDY")
    privacy_mode: Mapped[str | None] = mapped_column(String(16))
    days_off: Mapped[str] = mapped_column(String(32), default="")  # ISO weekdays, "6,7"
    settings_done: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    # Idle lock: wrong PINs in a row, and when 5 of them locked her out (an admin unlocks).
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None]
    enrolled_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    display_name: Mapped[str | None] = mapped_column(String(120))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("nurses.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("nurses.id"))
    revoked_at: Mapped[datetime | None]


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (Index(None, "nurse_id", "status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    initials: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(16), unique=True)  # opaque, for privacy "code"
    mrn: Mapped[str | None] = mapped_column(String(40))
    risk: Mapped[Risk] = mapped_column(_enum(Risk, "risk"), default=Risk.MEDIUM)
    conditions: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[PatientStatus] = mapped_column(
        _enum(PatientStatus, "patient_status"), default=PatientStatus.ACTIVE
    )
    last_reached_at: Mapped[datetime | None]
    # The day of the admission she is in hospital for (None when not admitted): routine
    # follow-ups and check-ins wait while it is set; the discharge clears it. Derived from
    # the live hospital events and episodes (bot.services.derived recomputes it).
    admitted_since: Mapped[date | None] = mapped_column(Date)
    # Parked when her nurse was revoked (`casebot revoke --park`): held by the team's
    # supervisor, listed as unassigned in /team until reassigned.
    unassigned_since: Mapped[datetime | None]
    unassigned_from_id: Mapped[int | None] = mapped_column(ForeignKey("nurses.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class InboundMessage(Base):
    """One row per nurse message that changed data: an update delivered twice is logged once.

    ``record_kind``/``record_id`` name the first record it saved; every record it saved or
    changed is a ``MessageRecord`` row. ``undone_at`` is set when the whole message is taken
    back."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id"),
        Index(None, "nurse_id", "received_at"),  # her latest message (undo, corrections)
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    received_at: Mapped[datetime]
    record_kind: Mapped[str | None] = mapped_column(String(24))
    record_id: Mapped[int | None] = mapped_column(BigInteger)
    undone_at: Mapped[datetime | None]


class MessageRecord(Base):
    """One record a message saved (``created``) or changed (``changed``, with the prior values
    its undo restores), in the order of the message's facts."""

    __tablename__ = "message_records"
    __table_args__ = (
        UniqueConstraint("message_id", "position"),
        Index(None, "record_kind", "record_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id"))
    position: Mapped[int] = mapped_column(Integer)
    record_kind: Mapped[str] = mapped_column(String(24))
    record_id: Mapped[int] = mapped_column(BigInteger)
    change: Mapped[RecordChange] = mapped_column(
        _enum(RecordChange, "record_change"), default=RecordChange.CREATED
    )
    prior: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class InboundUpdate(Base):
    """An update confirmed to Telegram but not yet handled: the poller's durable backlog.

    The poller writes a fetched update here before it lets Telegram forget it, and deletes the
    row once the update has been handled; after a crash the next leader handles what is left.
    `lane` is the ordering key (one chat's updates run in order); `attempts` counts handlings
    that a crash interrupted (an update that keeps killing the process is set aside)."""

    __tablename__ = "inbound_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    lane: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class DeadLetter(Base):
    """An update set aside because it could not be read or kept failing: ids and the error's
    class only, never its text (the nurse is told it was not saved)."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index(None, "at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    stage: Mapped[str] = mapped_column(String(16))  # "parse" | "handle"
    error: Mapped[str] = mapped_column(String(80))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime]


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        Index(None, "patient_id", "occurred_at"),
        Index(None, "nurse_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    occurred_at: Mapped[datetime]
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome, "outcome"))
    with_whom: Mapped[Party] = mapped_column(_enum(Party, "party"), default=Party.PATIENT)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None]


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (Index(None, "nurse_id", "at"), Index(None, "patient_id", "at"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    at: Mapped[datetime]
    has_time: Mapped[bool] = mapped_column(Boolean, default=True)  # False: a date, no time
    with_whom: Mapped[str] = mapped_column(String(120), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[AppointmentStatus] = mapped_column(
        _enum(AppointmentStatus, "appointment_status"), default=AppointmentStatus.SCHEDULED
    )
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None]


class Episode(Base):
    """A transition of care: a discharge that generates TCM and MRP tasks."""

    __tablename__ = "episodes"
    __table_args__ = (Index(None, "patient_id", "discharged_on"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    facility: Mapped[str] = mapped_column(String(200), default="")
    admitted_on: Mapped[date | None] = mapped_column(Date)
    discharged_on: Mapped[date] = mapped_column(Date)
    complexity: Mapped[Complexity | None] = mapped_column(_enum(Complexity, "complexity"))
    # A discharge within 30 days of an earlier live discharge of the same patient.
    readmission: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None]


class HospitalEvent(Base):
    """An admission (it pauses routine follow-ups until the discharge) or an ED visit."""

    __tablename__ = "hospital_events"
    __table_args__ = (Index(None, "patient_id", "day"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    kind: Mapped[HospitalEventKind] = mapped_column(_enum(HospitalEventKind, "hospital_event"))
    day: Mapped[date] = mapped_column(Date)
    facility: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None]


class Vital(Base):
    """One vital sign reading, as written (``value``) with its unit, from a record (a note)."""

    __tablename__ = "vitals"
    __table_args__ = (Index(None, "patient_id", "kind", "taken_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    kind: Mapped[VitalKind] = mapped_column(_enum(VitalKind, "vital_kind"))
    value: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(12), default="")
    taken_at: Mapped[datetime]
    origin_kind: Mapped[str | None] = mapped_column(String(24))
    origin_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None]


class NurseTerm(Base):
    """Her own shorthand, learned from her corrections: ``term`` reads as ``meaning``."""

    __tablename__ = "nurse_terms"
    __table_args__ = (UniqueConstraint("nurse_id", "term"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    term: Mapped[str] = mapped_column(String(40))
    meaning: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class MedicationReconciliation(Base):
    __tablename__ = "medication_reconciliations"
    __table_args__ = (Index(None, "patient_id", "performed_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id"))
    performed_at: Mapped[datetime]
    discrepancies: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None]


class Task(Base):
    """Something that is due: the unit that reminders, digests and caseload views read."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index(None, "nurse_id", "status", "due_at"),
        Index(None, "patient_id", "status"),
        Index(None, "origin_kind", "origin_id"),
        Index(None, "status", "remind_at"),  # the reminder planner's scan
        Index(None, "kind", "status", "due_at"),  # escalations: TCM contacts about to lapse
        Index(None, "closed_by_kind", "closed_by_id"),  # undo: the tasks a record closed
        Index(None, "nurse_id", "resolution", "completed_at"),  # TCM lapses of a month
        # The caseload view's per-patient aggregate of open tasks, read from the index alone.
        Index(None, "nurse_id", "status", "patient_id", "due_at", "kind"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id"))
    kind: Mapped[TaskKind] = mapped_column(_enum(TaskKind, "task_kind"))
    title: Mapped[str] = mapped_column(String(200), default="")
    due_at: Mapped[datetime]
    # False: due on a day (due_at is the end of that local day); True: due at a time.
    has_time: Mapped[bool] = mapped_column(Boolean, default=False)
    window_start: Mapped[datetime | None]
    remind_at: Mapped[datetime | None]
    status: Mapped[TaskStatus] = mapped_column(
        _enum(TaskStatus, "task_status"), default=TaskStatus.OPEN
    )
    snoozed_until: Mapped[datetime | None]
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts_documented: Mapped[bool] = mapped_column(Boolean, default=False)
    # How a closed task met its deadline (None while open, and for cancelled tasks).
    resolution: Mapped[TaskResolution | None] = mapped_column(
        _enum(TaskResolution, "task_resolution")
    )
    origin_kind: Mapped[str | None] = mapped_column(String(24))
    origin_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    # The record whose logging closed the task (a contact, a med rec): undoing it reopens.
    closed_by_kind: Mapped[str | None] = mapped_column(String(24))
    closed_by_id: Mapped[int | None] = mapped_column(BigInteger)


class Note(Base):
    """A free note on a patient, optionally attached to a logged record (kind + id)."""

    __tablename__ = "notes"
    __table_args__ = (Index(None, "patient_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    record_kind: Mapped[str | None] = mapped_column(String(24))
    record_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None]


class DispatchWorker(Base):
    """A dispatching process's heartbeat: how many share Telegram's per-bot send budget."""

    __tablename__ = "dispatch_workers"

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]


class Delivery(Base):
    """The outbox: one row per push, claimed before sending, marked sent with the message id."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index(None, "status", "due_at"),
        # (nurse_id, status): a nurse's pushes; sent_at: was her chat sent to a moment ago?
        Index(None, "nurse_id", "status", "sent_at"),
        Index(None, "task_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[DeliveryKind] = mapped_column(_enum(DeliveryKind, "delivery_kind"))
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    due_at: Mapped[datetime]
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    next_try_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # Set when a delivery is sent again after a lost outcome (lease expired, timeout): the
    # message says "(repeat)" so a possible duplicate is visible.
    repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    # When its claimer committed that it was about to call Telegram (cleared by each claim). A
    # claim left past its lease says "(repeat)" only when this is set: a dead claimer that
    # never got this far cannot have delivered it.
    send_started_at: Mapped[datetime | None]
    # Urgent pushes (a TCM deadline today) go out in quiet hours too.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class AuditEvent(Base):
    """Append-only: who read or changed what, when, through which command."""

    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "patient_id", "at"), Index(None, "at"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[datetime]
    actor_nurse_id: Mapped[int | None] = mapped_column(ForeignKey("nurses.id"))
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(40))
    command: Mapped[str] = mapped_column(String(40), default="")
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    entity: Mapped[str] = mapped_column(String(40), default="")
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")


# -- care plans, referrals and community resources ------------------------------------------------


class CareGoal(Base):
    """A care-plan goal: target date, status, and the outcome written when it closed."""

    __tablename__ = "care_goals"
    __table_args__ = (Index(None, "patient_id", "status"), Index(None, "nurse_id", "status"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    text: Mapped[str] = mapped_column(String(500))
    target_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[GoalStatus] = mapped_column(
        _enum(GoalStatus, "goal_status"), default=GoalStatus.ACTIVE
    )
    outcome: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CareIntervention(Base):
    """What the nurse does toward one goal."""

    __tablename__ = "care_interventions"
    __table_args__ = (Index(None, "goal_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("care_goals.id"))
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]


class ProgressNote(Base):
    """A progress note on a patient's care plan, optionally on one goal."""

    __tablename__ = "care_progress_notes"
    __table_args__ = (Index(None, "patient_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("care_goals.id"))
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Referral(Base):
    """A referral sent for a patient: sent -> scheduled -> completed | declined."""

    __tablename__ = "referrals"
    __table_args__ = (Index(None, "patient_id", "status"), Index(None, "nurse_id", "status"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    to_whom: Mapped[str] = mapped_column(String(120))
    specialty: Mapped[str] = mapped_column(String(40), default="")  # canonical, "" if none
    reason: Mapped[str] = mapped_column(Text, default="")
    sent_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ReferralStatus] = mapped_column(
        _enum(ReferralStatus, "referral_status"), default=ReferralStatus.SENT
    )
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class CommunityResource(Base):
    """One entry of a team's community resource directory."""

    __tablename__ = "community_resources"
    __table_args__ = (Index(None, "team_id", "kind"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    kind: Mapped[ResourceKind] = mapped_column(_enum(ResourceKind, "resource_kind"))
    name: Mapped[str] = mapped_column(String(120))
    contact: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("nurses.id"))
    created_at: Mapped[datetime]


class ResourceGiven(Base):
    """A resource handed to a patient (from the directory, or as written)."""

    __tablename__ = "resources_given"
    __table_args__ = (Index(None, "patient_id", "given_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("community_resources.id"))
    resource_text: Mapped[str] = mapped_column(String(200))
    given_at: Mapped[datetime]
    created_at: Mapped[datetime]


class LastView(Base):
    """The numbered list a nurse saw last (/today, /overdue, /calls ...): what /done N and
    /snooze N count against. One row per nurse, replaced by each list she is shown."""

    __tablename__ = "last_views"

    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"), primary_key=True)
    view: Mapped[str] = mapped_column(String(16))
    first_number: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)  # items in the whole list, all pages
    task_ids: Mapped[list[int | None]] = mapped_column(JSON)
    shown_at: Mapped[datetime]


class PendingReading(Base):
    """A message read back and waiting for her tap ([Save] [Fix] [Cancel]), or a question
    waiting for her typed answer (a new time for an appointment): kept in the database so a
    restart loses nothing. ``read_at`` is when the message was read (it is read again with
    that moment on [Save]); ``payload`` holds the slots she fixed, ids and codes only."""

    __tablename__ = "pending_readings"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id", "kind"),
        Index(None, "nurse_id", "chat_id", "closed_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    nurse_id: Mapped[int] = mapped_column(ForeignKey("nurses.id"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    via: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    read_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

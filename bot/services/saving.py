"""What every save shares, inside one transaction: who saves, when, from which message.

Owns ``Saving`` (the session, the nurse, the config, ``now`` and the message being saved, whose
ledger row is claimed with the first record and gets one link per record), the result type
``Logged`` (what a saved record looks like to the render layer), and the small helpers the
record modules share (task lines, follow-up times, the care rules from the configuration).

Must not import telegram or handlers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import care
from bot.config import Config
from bot.parsing import When
from bot.render.tasks import TaskLine
from bot.services.ledger import MessageKey
from bot.services.nurse import NurseView
from bot.vocab import (
    Channel,
    CloseThrough,
    Complexity,
    HospitalEventKind,
    Outcome,
    RecordChange,
    RecordKind,
    Refusal,
    Source,
    TaskKind,
    VitalKind,
)
from storage import audit
from storage import records as store
from storage.models import InboundMessage, Patient, Task

CHANGE_WINDOW = timedelta(hours=48)
"""How long Undo, corrections, Change follow-up and Add note work on a logged record."""


@dataclass(frozen=True)
class VitalReading:
    """One vital as saved: kind, value as written, unit."""

    kind: VitalKind
    value: str
    unit: str


@dataclass(frozen=True)
class Logged:
    """What a saved record looks like to the render layer (plain, unescaped data).

    ``created``, ``closed`` and ``flagged`` are the tasks the record created, closed (each
    with its ``resolution``: a lapsed TCM contact says "late") and now counts two attempts
    for. ``existing`` marks an appointment already on file: nothing new was saved."""

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
    patient_id: int | None = None
    event: HospitalEventKind | None = None  # an admission or an ED visit
    reason: str | None = None
    readmission: bool = False  # a discharge within 30 days of an earlier one
    paused: bool = False  # routine follow-ups wait: she is in hospital
    resumed: bool = False  # the discharge ended an admission: routine follow-ups are back
    vitals: tuple[VitalReading, ...] = ()
    title: str | None = None  # a task she set herself
    existing: bool = False


@dataclass
class Saving:
    """One transaction's saving context. The message's ledger row is claimed with the first
    record it links (so a refused message leaves no trace)."""

    session: AsyncSession
    nurse: NurseView
    config: Config
    now: datetime
    command: str = "text"
    source: MessageKey | None = None
    message: InboundMessage | None = None
    linked: list[tuple[str, int]] = field(default_factory=list)
    links: int | None = None  # links of a message claimed in this transaction

    @property
    def zone(self) -> ZoneInfo:
        return self.nurse.zone

    @property
    def audit_command(self) -> str:
        """The command audited: "voice" for a voice note's records."""
        if self.source is not None and self.source.via is Source.VOICE:
            return Source.VOICE.value
        return self.command

    @property
    def through(self) -> CloseThrough:
        return CloseThrough(self.config.care.close_follow_ups_through)

    async def already_saved(self) -> bool:
        """Whether this message is in the ledger already (a redelivered update)."""
        if self.source is None:
            return False
        found = await store.find_inbound(
            self.session, chat_id=self.source.chat_id, message_id=self.source.message_id
        )
        return found is not None

    async def link(
        self,
        kind: RecordKind,
        record_id: int,
        *,
        change: RecordChange = RecordChange.CREATED,
        prior: dict[str, Any] | None = None,
    ) -> None:
        """Ledger one record the message saved (or changed, with the prior values)."""
        self.linked.append((kind.value, record_id))
        if self.source is None:
            return
        if self.message is None:
            # Claimed with its first record named; its links are counted here, not read.
            self.message = await store.claim_inbound(
                self.session,
                chat_id=self.source.chat_id,
                message_id=self.source.message_id,
                nurse_id=self.nurse.id,
                now=self.now,
                record_kind=kind.value,
                record_id=record_id,
            )
            self.links = 0
        await store.link_record(
            self.session,
            message=self.message,
            record_kind=kind.value,
            record_id=record_id,
            change=change,
            prior=prior,
            position=self.links,
        )
        if self.links is not None:
            self.links += 1

    async def audit(
        self,
        action: str,
        *,
        patient_id: int | None,
        entity: str,
        entity_id: int | None,
        detail: dict[str, Any] | None = None,
        command: str | None = None,
    ) -> None:
        await audit.record_audit(
            self.session,
            at=self.now,
            action=action,
            actor_nurse_id=self.nurse.id,
            command=command or self.audit_command,
            patient_id=patient_id,
            entity=entity,
            entity_id=entity_id,
            detail=detail,
        )

    async def own_patient(self, patient_id: int) -> Patient | Refusal:
        """Her active patient, or NO_PATIENT."""
        patient = await store.owned_active_patient(
            self.session, patient_id=patient_id, nurse_id=self.nurse.id
        )
        return Refusal.NO_PATIENT if patient is None else patient


class Abort(Exception):
    """Raised inside a unit of work to roll back everything it saved and refuse."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


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


# -- tasks ---------------------------------------------------------------------------------------


def line(
    task: Task, has_time: bool | None = None, *, attempts_documented: bool = False
) -> TaskLine:
    """A task as a reply lists it."""
    return TaskLine(
        task.id,
        task.kind,
        task.due_at,
        title=task.title,
        has_time=task.has_time if has_time is None else has_time,
        attempts_documented=attempts_documented or task.attempts_documented,
        patient_id=task.patient_id,
        resolution=task.resolution,
    )


def follow_up_times(when: When, nurse: NurseView) -> tuple[datetime, datetime]:
    """(due_at, remind_at): a date-only follow-up is due by the end of that local day and
    reminded at her follow-up time (after the morning digest, which lists it); a timed one at
    its time."""
    if when.has_time:
        return when.at, when.at
    zone = nurse.zone
    day = when.local_date(zone)
    return care.end_of_local_day(day, zone), care.local_time_on(day, nurse.follow_up_time, zone)


async def add_follow_up(
    s: Saving,
    patient_id: int | None,
    kind: RecordKind,
    record_id: int,
    when: When,
    *,
    task_kind: TaskKind = TaskKind.FOLLOW_UP,
    title: str = "",
) -> Task:
    """A follow-up (or her own task) of a record, due as ``follow_up_times`` says."""
    due_at, remind_at = follow_up_times(when, s.nurse)
    return await store.add_task(
        s.session,
        nurse_id=s.nurse.id,
        patient_id=patient_id,
        kind=task_kind,
        title=title,
        due_at=due_at,
        has_time=when.has_time,
        remind_at=remind_at,
        origin_kind=kind.value,
        origin_id=record_id,
        now=s.now,
    )


def iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()

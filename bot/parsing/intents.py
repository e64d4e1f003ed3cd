"""Typed results of reading one nurse message: the intents and their parts.

Owns: the frozen dataclasses that ``bot.parsing.parser.parse`` returns, and ``IntentKind``
(what a message asks for). The domain's terms in them (channel, outcome, party, risk,
complexity, query kind) are bot.vocab's. Must not import: telegram, storage, sqlalchemy, or
anything doing I/O. Pure data only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from bot.vocab import Channel, Complexity, Outcome, Party, QueryKind, Risk


class IntentKind(enum.StrEnum):
    """What the nurse is asking the bot to do."""

    CONTACT = "contact"
    APPOINTMENT = "appointment"
    DISCHARGE = "discharge"
    MED_REC = "med_rec"
    NEW_PATIENT = "new_patient"
    QUERY = "query"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PatientRef:
    """One caseload entry: the storage id (None when unknown) and the display name."""

    id: int | None
    name: str


@dataclass(frozen=True, slots=True)
class When:
    """A moment the nurse named: aware UTC, and whether she gave a time of day.

    Date-only values hold local midnight of that date (converted to UTC); read them back
    with ``local_date``. ``dst_shifted`` is True when the local time she wrote does not exist
    (spring-forward gap) and was moved forward: show it back to her.
    """

    at: datetime
    has_time: bool
    dst_shifted: bool = False

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("When.at must be timezone-aware")

    def local(self, zone: ZoneInfo) -> datetime:
        """The moment in the nurse's zone."""
        return self.at.astimezone(zone)

    def local_date(self, zone: ZoneInfo) -> date:
        """The local calendar date."""
        return self.local(zone).date()

    def local_iso(self, zone: ZoneInfo) -> str:
        """'2026-11-27' for a date, '2026-11-23T19:00' for a date with a time."""
        local = self.local(zone)
        if self.has_time:
            return local.strftime("%Y-%m-%dT%H:%M")
        return local.date().isoformat()


@dataclass(frozen=True, slots=True)
class PatientMention:
    """Who a message names, as the caseload matcher read it.

    ``patient`` is set when the name matched exactly one caseload entry; ``candidates`` lists
    the entries an ambiguous mention could mean; ``patient_text`` is the name as written
    (also when nothing matched, so the bot can offer to add the patient). Every intent that
    may name a patient carries these three fields directly.
    """

    patient: PatientRef | None = None
    candidates: tuple[PatientRef, ...] = ()
    patient_text: str | None = None


@dataclass(frozen=True, slots=True)
class ContactIntent:
    """A logged interaction: call, visit, video, text, voicemail or email."""

    kind: ClassVar[IntentKind] = IntentKind.CONTACT
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    channel: Channel | None
    outcome: Outcome | None
    with_whom: Party
    occurred_at: When
    follow_up: When | None
    attempts: int
    note: str


@dataclass(frozen=True, slots=True)
class AppointmentIntent:
    """A scheduled appointment for a patient."""

    kind: ClassVar[IntentKind] = IntentKind.APPOINTMENT
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    at: When | None
    with_whom: str | None
    where: str | None
    note: str


@dataclass(frozen=True, slots=True)
class DischargeIntent:
    """A discharge (start of a transition of care episode)."""

    kind: ClassVar[IntentKind] = IntentKind.DISCHARGE
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    discharged: date
    facility: str | None
    complexity: Complexity | None
    note: str


@dataclass(frozen=True, slots=True)
class MedRecIntent:
    """A medication reconciliation that was done."""

    kind: ClassVar[IntentKind] = IntentKind.MED_REC
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    reconciled_on: date
    discrepancies: int | None
    note: str


@dataclass(frozen=True, slots=True)
class NewPatientIntent:
    """A request to add a patient to the caseload."""

    kind: ClassVar[IntentKind] = IntentKind.NEW_PATIENT
    name: str
    mrn: str | None
    risk: Risk | None
    conditions: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class QueryIntent:
    """A question about the caseload or one patient."""

    kind: ClassVar[IntentKind] = IntentKind.QUERY
    query: QueryKind
    patient: PatientRef | None = None
    candidates: tuple[PatientRef, ...] = ()
    patient_text: str | None = None
    risk: Risk | None = None
    days: int | None = None


@dataclass(frozen=True, slots=True)
class UnknownIntent:
    """Nothing the bot can act on (greetings, chatter); may still carry a patient mention."""

    kind: ClassVar[IntentKind] = IntentKind.UNKNOWN
    patient: PatientRef | None = None
    candidates: tuple[PatientRef, ...] = ()
    patient_text: str | None = None


Intent = (
    ContactIntent
    | AppointmentIntent
    | DischargeIntent
    | MedRecIntent
    | NewPatientIntent
    | QueryIntent
    | UnknownIntent
)

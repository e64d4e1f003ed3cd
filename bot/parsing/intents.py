"""Typed results of reading one nurse message: the intents and their parts.

Owns: the frozen dataclasses that ``bot.parsing.parser.parse`` returns, ``IntentKind`` (what a
message asks for) and ``CarePlanKind`` (which care-plan message it is: bot.parsing.careplans
reads those). The domain's terms in them (channel, outcome, party, risk, complexity, query
kind, goal and referral status, resource kind) are bot.vocab's.
Must not import: telegram, storage, sqlalchemy, or anything doing I/O. Pure data only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from bot.vocab import (
    Channel,
    Complexity,
    GoalStatus,
    Outcome,
    Party,
    QueryKind,
    ReferralStatus,
    ResourceKind,
    Risk,
)
from bot.vocab import VitalKind as VitalKind  # re-exported: the parser's vitals are vocab's


class IntentKind(enum.StrEnum):
    """What kind of fact a piece of a message states (``casebot parse`` prints the value)."""

    CONTACT = "contact"
    APPOINTMENT = "appointment"
    DISCHARGE = "discharge"
    ADMISSION = "admission"
    ED_VISIT = "ed_visit"
    MED_REC = "med_rec"
    TASK = "task"
    NOTE = "note"
    NEW_PATIENT = "new_patient"
    QUERY = "query"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    CORRECTION = "correction"
    UNDO = "undo"
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


class DoubtReason(enum.StrEnum):
    """Why a fact is unsure: what the read-back asks her to confirm."""

    AMBIGUOUS_PATIENT = "ambiguous_patient"  # the name fits several of her patients
    UNKNOWN_PATIENT = "unknown_patient"  # a name that fits none of her patients well
    GUESSED_PATIENT = "guessed_patient"  # matched only by a misspelling or a nickname
    DATE_CONFLICT = "date_conflict"  # the weekday and the date disagree
    AMBIGUOUS_WEEKDAY = "ambiguous_weekday"  # "next Wed" said early in the week
    UNKNOWN_WORD = "unknown_word"  # shorthand the parser does not know, where it matters
    WEAK_CUE = "weak_cue"  # the kind of fact was chosen from a weak hint
    NO_TIME = "no_time"  # an appointment without a time of day


@dataclass(frozen=True, slots=True)
class Doubt:
    """One reason to read a fact back before saving it.

    ``detail`` is the word or phrase in question (nurse text: escape it when rendering);
    ``options`` are the readings to choose from (a date conflict: both days)."""

    reason: DoubtReason
    detail: str = ""
    options: tuple[When, ...] = ()


@dataclass(frozen=True, slots=True)
class Vital:
    """One reading as written: ``value`` keeps the number(s) ('150/90', '182'), ``unit`` the
    unit written or implied ('mmHg', 'lb', 'kg', '%', 'F', 'C', 'bpm', 'mg/dL')."""

    kind: VitalKind
    value: str
    unit: str


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
    vitals: tuple[Vital, ...] = ()
    doubts: tuple[Doubt, ...] = ()
    occurred_given: bool = False  # the message says when it happened ("yesterday")
    attempts_given: bool = False  # the message counts the tries ("x2", "attempt #1")


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
    doubts: tuple[Doubt, ...] = ()


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
    doubts: tuple[Doubt, ...] = ()


@dataclass(frozen=True, slots=True)
class AdmissionIntent:
    """A hospital admission: it pauses the patient's routine follow-ups until the discharge."""

    kind: ClassVar[IntentKind] = IntentKind.ADMISSION
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    on: date
    facility: str | None
    reason: str | None
    note: str
    doubts: tuple[Doubt, ...] = ()


@dataclass(frozen=True, slots=True)
class EdVisitIntent:
    """An emergency-department visit: where, when, why."""

    kind: ClassVar[IntentKind] = IntentKind.ED_VISIT
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    on: date
    facility: str | None
    reason: str | None
    note: str
    doubts: tuple[Doubt, ...] = ()


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
    doubts: tuple[Doubt, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskIntent:
    """Something she means to do herself ("remind me to fax orders fri")."""

    kind: ClassVar[IntentKind] = IntentKind.TASK
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    what: str
    due: When | None
    note: str
    doubts: tuple[Doubt, ...] = ()


@dataclass(frozen=True, slots=True)
class NoteIntent:
    """A free note on a patient, with any vitals it reports."""

    kind: ClassVar[IntentKind] = IntentKind.NOTE
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    text: str
    vitals: tuple[Vital, ...]
    note: str
    doubts: tuple[Doubt, ...] = ()


class Target(enum.StrEnum):
    """What a cancel, reschedule or correction is about."""

    APPOINTMENT = "appointment"
    FOLLOW_UP = "follow_up"
    LAST = "last"  # her latest record, whatever it was


@dataclass(frozen=True, slots=True)
class CancelIntent:
    """Cancel an appointment (or a follow-up): which one, by patient, day or specialty."""

    kind: ClassVar[IntentKind] = IntentKind.CANCEL
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    target: Target
    on: When | None
    what: str | None
    note: str
    doubts: tuple[Doubt, ...] = ()


@dataclass(frozen=True, slots=True)
class RescheduleIntent:
    """Move an appointment (or follow-up) to a new day and/or time of day.

    ``new`` is the new moment when a day was given; ``new_time`` is (hour, minute) when only a
    time was given, to be put on the appointment's own day."""

    kind: ClassVar[IntentKind] = IntentKind.RESCHEDULE
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    target: Target
    new: When | None
    new_time: tuple[int, int] | None
    what: str | None
    note: str
    doubts: tuple[Doubt, ...] = ()


@dataclass(frozen=True, slots=True)
class CorrectionIntent:
    """A fix to her latest record: a new date or time, channel, outcome, or patient."""

    kind: ClassVar[IntentKind] = IntentKind.CORRECTION
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    new: When | None
    new_time: tuple[int, int] | None
    channel: Channel | None
    outcome: Outcome | None
    note: str
    doubts: tuple[Doubt, ...] = ()


@dataclass(frozen=True, slots=True)
class UndoIntent:
    """Take her latest saved message back ("scratch that", "undo")."""

    kind: ClassVar[IntentKind] = IntentKind.UNDO
    patient: PatientRef | None = None
    candidates: tuple[PatientRef, ...] = ()
    patient_text: str | None = None
    doubts: tuple[Doubt, ...] = ()


@dataclass(frozen=True, slots=True)
class NewPatientIntent:
    """A request to add a patient to the caseload."""

    kind: ClassVar[IntentKind] = IntentKind.NEW_PATIENT
    name: str
    mrn: str | None
    risk: Risk | None
    conditions: tuple[str, ...] = field(default=())
    doubts: tuple[Doubt, ...] = ()


@dataclass(frozen=True, slots=True)
class QueryIntent:
    """A question about the caseload or one patient.

    ``calls`` marks a question about whom to call ("who do I need to call today"): the call
    list for the day asked about."""

    kind: ClassVar[IntentKind] = IntentKind.QUERY
    query: QueryKind
    patient: PatientRef | None = None
    candidates: tuple[PatientRef, ...] = ()
    patient_text: str | None = None
    risk: Risk | None = None
    days: int | None = None
    calls: bool = False
    doubts: tuple[Doubt, ...] = ()


@dataclass(frozen=True, slots=True)
class UnknownIntent:
    """Nothing the bot can act on (greetings, chatter); may still carry a patient mention."""

    kind: ClassVar[IntentKind] = IntentKind.UNKNOWN
    patient: PatientRef | None = None
    candidates: tuple[PatientRef, ...] = ()
    patient_text: str | None = None
    doubts: tuple[Doubt, ...] = ()


Intent = (
    ContactIntent
    | AppointmentIntent
    | DischargeIntent
    | AdmissionIntent
    | EdVisitIntent
    | MedRecIntent
    | TaskIntent
    | NoteIntent
    | CancelIntent
    | RescheduleIntent
    | CorrectionIntent
    | UndoIntent
    | NewPatientIntent
    | QueryIntent
    | UnknownIntent
)


# -- care plans: goals, referrals, community resources (read by bot.parsing.careplans) -------------


class CarePlanKind(enum.StrEnum):
    """Which care-plan message this is (the corpus' "intent" value)."""

    GOAL = "goal"
    REFERRAL = "referral"
    REFERRAL_STATUS = "referral_status"
    RESOURCE_QUERY = "resource_query"
    RESOURCE_GIVEN = "resource_given"


@dataclass(frozen=True, slots=True)
class GoalIntent:
    """A new goal (``change`` None, ``text`` and maybe ``target``) or a goal that closed
    (``change`` the status it closed with: met, not met or discontinued, never active;
    ``outcome`` as written; ``text`` may name which goal)."""

    kind: ClassVar[CarePlanKind] = CarePlanKind.GOAL
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    text: str
    target: date | None
    change: GoalStatus | None
    outcome: str
    note: str


@dataclass(frozen=True, slots=True)
class ReferralIntent:
    """A referral sent: to whom (a provider or a specialty), why, and when."""

    kind: ClassVar[CarePlanKind] = CarePlanKind.REFERRAL
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    to_whom: str
    specialty: str | None
    reason: str
    sent_on: date
    note: str


@dataclass(frozen=True, slots=True)
class ReferralStatusIntent:
    """One of the patient's open referrals moved on to ``status`` (scheduled, completed or
    declined, never sent). ``to_whom`` (as written) and ``specialty`` say which; both are
    empty when she named none ("Maria's referral done")."""

    kind: ClassVar[CarePlanKind] = CarePlanKind.REFERRAL_STATUS
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    to_whom: str
    specialty: str | None
    status: ReferralStatus
    note: str


@dataclass(frozen=True, slots=True)
class ResourceQueryIntent:
    """A search of the team's resource directory: by kind, or by words."""

    kind: ClassVar[CarePlanKind] = CarePlanKind.RESOURCE_QUERY
    resource_kind: ResourceKind | None
    search: str = ""
    patient: PatientRef | None = None
    candidates: tuple[PatientRef, ...] = ()
    patient_text: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceGivenIntent:
    """A resource handed to a patient, as written (matched to the directory later)."""

    kind: ClassVar[CarePlanKind] = CarePlanKind.RESOURCE_GIVEN
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]
    patient_text: str | None
    resource: str
    given_on: date
    note: str


CarePlanIntent = (
    GoalIntent | ReferralIntent | ReferralStatusIntent | ResourceQueryIntent | ResourceGivenIntent
)

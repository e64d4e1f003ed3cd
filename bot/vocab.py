"""The domain's words, each defined once: every layer (storage, parsing, care, services, render,
handlers) imports its enums from here. The values are what the database stores and what
`casebot parse` prints; the words a nurse reads live in bot.render.labels.

Pure: no imports beyond the standard library.
"""

from __future__ import annotations

import enum
from typing import Literal

# -- settings a nurse or the organisation chooses --------------------------------------------------

DateOrder = Literal["MDY", "DMY"]
"""How a numeric date such as 3/4 is read: month first or day first."""
PrivacyMode = Literal["full", "initials", "code"]
"""What pushes show of a patient: her name, her initials, or an opaque code."""


# -- people -------------------------------------------------------------------------------------


class Role(enum.StrEnum):
    """What an enrolled person may do."""

    NURSE = "nurse"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Risk(enum.StrEnum):
    """A patient's risk tier: it sets her contact cadence."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class PatientStatus(enum.StrEnum):
    """Where a patient stands in the program."""

    ACTIVE = "active"
    DISCHARGED = "discharged"  # discharged from the program
    CLOSED = "closed"


# -- contacts -----------------------------------------------------------------------------------


class Channel(enum.StrEnum):
    """How a contact happened."""

    PHONE = "phone"
    VISIT = "visit"
    CLINIC = "clinic"
    VIDEO = "video"
    TEXT = "text"
    VOICEMAIL = "voicemail"
    EMAIL = "email"


class Outcome(enum.StrEnum):
    """Whether a contact reached someone (only reached interactive contacts count for TCM)."""

    REACHED = "reached"
    ATTEMPTED = "attempted"


class Party(enum.StrEnum):
    """Who was on the other end of a contact."""

    PATIENT = "patient"
    CAREGIVER = "caregiver"
    PROVIDER = "provider"
    INSURER = "insurer"


# -- transitions of care and appointments -------------------------------------------------------


class Complexity(enum.StrEnum):
    """TCM medical decision-making complexity of a discharge."""

    MODERATE = "moderate"  # CPT 99495
    HIGH = "high"  # CPT 99496


class AppointmentStatus(enum.StrEnum):
    """Where an appointment stands."""

    SCHEDULED = "scheduled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"


# -- records and tasks --------------------------------------------------------------------------


class RecordKind(enum.StrEnum):
    """What a logged record is; tasks and the message ledger store the value as origin."""

    CONTACT = "contact"
    APPOINTMENT = "appointment"
    EPISODE = "episode"
    MED_REC = "med_rec"
    NOTE = "note"
    HOSPITAL_EVENT = "hospital_event"  # an admission or an ED visit
    TASK = "task"  # a task she set herself ("remind me to fax orders fri")
    PATIENT = "patient"  # a patient added by a message


class RecordChange(enum.StrEnum):
    """What a saved message did to a record (the message ledger's link rows)."""

    CREATED = "created"
    CHANGED = "changed"  # an amendment, a cancellation or a reschedule; prior values kept


class HospitalEventKind(enum.StrEnum):
    """A hospital event that is not a discharge."""

    ADMISSION = "admission"  # pauses routine follow-ups and check-ins until the discharge
    ED_VISIT = "ed_visit"


class VitalKind(enum.StrEnum):
    """A vital sign a nurse reports (stored typed, with its unit)."""

    BP = "bp"
    HR = "hr"
    BG = "bg"
    WEIGHT = "weight"
    SPO2 = "spo2"
    TEMP = "temp"


class TaskKind(enum.StrEnum):
    """What is due. Appointment reminders and attendance checks are pushes, the rest her work."""

    FOLLOW_UP = "follow_up"
    APPOINTMENT_REMINDER = "appointment_reminder"
    ATTENDANCE_CHECK = "attendance_check"
    TCM_CONTACT = "tcm_contact"
    TCM_VISIT = "tcm_visit"
    MED_REC = "med_rec"
    CADENCE = "cadence"
    REFERRAL = "referral"
    CUSTOM = "custom"


class TaskStatus(enum.StrEnum):
    """Whether a task is still to do."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class TaskResolution(enum.StrEnum):
    """How a closed task met its deadline: what the supervisor's view and the monthly numbers
    count. A lapsed TCM task leaves the nurse's to-do lists but stays visible as "late"."""

    MET = "met"  # done by its deadline
    LATE = "late"  # done after its deadline ("lapsed: contacted late")
    ATTEMPTS_DOCUMENTED = "attempts_documented"  # late, but two attempts inside the window
    NOT_MET = "not_met"  # marked done after the deadline with no qualifying record


class CloseThrough(enum.StrEnum):
    """Which of a patient's open follow-ups and check-ins a reached contact closes."""

    END_OF_DAY = "end_of_day"  # those due by the end of her local day of the contact
    CONTACT_TIME = "contact_time"  # only those due by the contact itself


WORK_TASK_KINDS = frozenset(TaskKind) - {TaskKind.APPOINTMENT_REMINDER, TaskKind.ATTENDANCE_CHECK}
"""Tasks that are her work: what her lists, the call list and the digest's counts show.
Appointment reminders and attendance checks are pushes, never listed or counted as work."""

PAUSED_BY_ADMISSION = frozenset({TaskKind.FOLLOW_UP, TaskKind.CADENCE})
"""Routine work that waits while the patient is in hospital (admitted, not yet discharged)."""

TCM_TASK_KINDS = frozenset({TaskKind.TCM_CONTACT, TaskKind.TCM_VISIT, TaskKind.MED_REC})
"""The transition-of-care deadlines of a discharge (whose lapses the supervisor sees)."""


# -- the outbox ---------------------------------------------------------------------------------


class DeliveryKind(enum.StrEnum):
    """What a push is."""

    REMINDER = "reminder"
    DIGEST = "digest"
    ESCALATION = "escalation"
    NOTICE = "notice"


class DeliveryStatus(enum.StrEnum):
    """Where a push stands in the outbox."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up (e.g. the nurse blocked the bot); reason in last_error
    CANCELLED = "cancelled"


# -- care plans, referrals, community resources -------------------------------------------------


class GoalStatus(enum.StrEnum):
    """Where a care-plan goal stands."""

    ACTIVE = "active"
    MET = "met"
    NOT_MET = "not_met"
    DISCONTINUED = "discontinued"


class ReferralStatus(enum.StrEnum):
    """sent -> scheduled -> completed | declined."""

    SENT = "sent"
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    DECLINED = "declined"


class ResourceKind(enum.StrEnum):
    """Kinds of community resources."""

    TRANSPORT = "transport"
    FOOD = "food"
    PHARMACY = "pharmacy_assistance"
    HOME_HEALTH = "home_health"
    SUPPORT_GROUP = "support_group"
    OTHER = "other"


# -- what a message asks for --------------------------------------------------------------------


class QueryKind(enum.StrEnum):
    """Which view of the caseload a question asks for."""

    CASELOAD = "caseload"
    TODAY = "today"
    TOMORROW = "tomorrow"
    OVERDUE = "overdue"
    WEEK = "week"
    PATIENT = "patient"
    LAST_CONTACT = "last_contact"
    NOT_CONTACTED = "not_contacted"
    RISK = "risk"
    REFERRALS = "referrals"
    NEXT_APPOINTMENT = "next_appointment"
    CALL_LIST = "call_list"


# -- why nothing was done -----------------------------------------------------------------------


class Refusal(enum.StrEnum):
    """Why a use case changed or showed nothing: the nurse's situation, not a fault."""

    DUPLICATE = "duplicate"  # this message was already saved
    NO_PATIENT = "no_patient"  # not in this nurse's active caseload
    NOT_FOUND = "not_found"  # no such record, or not this nurse's
    NOT_YOURS = "not_yours"
    CLOSED = "closed"
    ALREADY_UNDONE = "already_undone"
    EXPIRED = "expired"
    ALREADY_ANSWERED = "already_answered"
    NO_GOAL = "no_goal"
    NOT_SUPERVISOR = "not_supervisor"
    NO_TEAM = "no_team"
    NOT_TEAMMATE = "not_teammate"
    NOT_UNDOABLE = "not_undoable"  # a message whose records cannot be taken back by undo
    NOTHING_TO_CHANGE = "nothing_to_change"  # a correction names no slot her record has
    REFUSED_TERM = "refused_term"  # a medication, dose or frequency word, or a Do Not Use one
    PATIENT_EXISTS = "patient_exists"  # a "new" patient she already has: ask before adding


class RedeemFailure(enum.StrEnum):
    """Why an invite code enrolled nobody."""

    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Source(enum.StrEnum):
    """Where a change came in from: typed text, a command, a button, a voice note."""

    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"
    VOICE = "voice"

"""The words a nurse reads for each term of bot.vocab: the only place they are written.

One table per term, keyed by the vocab's members (they are strings, so a stored value looks a
label up as well). Labels are written as they read at the start of a line or on a button;
``inline`` gives the form for the middle of a sentence ("phone call", but "TCM contact").
A task is named by ``task_name``: its kind's label, then its own title only when the title
says more than the kind.
Pure: imports bot.vocab and bot.render.text only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from bot.render.text import clip, esc
from bot.vocab import (
    AppointmentStatus,
    Channel,
    Complexity,
    GoalStatus,
    HospitalEventKind,
    Outcome,
    Party,
    PatientStatus,
    RecordKind,
    ReferralStatus,
    ResourceKind,
    Risk,
    Role,
    TaskKind,
    TaskResolution,
    VitalKind,
)

MAX_TITLE = 80
"""Characters of a task's own title shown after its kind."""


def _table(entries: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(entries))


ROLE = _table({Role.NURSE: "Nurse", Role.SUPERVISOR: "Supervisor", Role.ADMIN: "Admin"})
PRIVACY_MODE = _table(
    {"full": "Full names", "initials": "Initials only", "code": "Patient code only"}
)
RISK = _table({Risk.HIGH: "High", Risk.MEDIUM: "Medium", Risk.LOW: "Low"})
PATIENT_STATUS = _table(
    {
        PatientStatus.ACTIVE: "Active",
        PatientStatus.DISCHARGED: "Discharged",
        PatientStatus.CLOSED: "Closed",
    }
)
CHANNEL = _table(
    {
        Channel.PHONE: "Phone call",
        Channel.VISIT: "Home visit",
        Channel.CLINIC: "Clinic visit",
        Channel.VIDEO: "Video visit",
        Channel.TEXT: "Text message",
        Channel.VOICEMAIL: "Voicemail",
        Channel.EMAIL: "Email",
    }
)
OUTCOME = _table({Outcome.REACHED: "Reached", Outcome.ATTEMPTED: "Attempted"})
PARTY = _table(
    {
        Party.PATIENT: "Patient",
        Party.CAREGIVER: "Caregiver",
        Party.PROVIDER: "Provider",
        Party.INSURER: "Insurer",
    }
)
COMPLEXITY = _table({Complexity.MODERATE: "Moderate", Complexity.HIGH: "High"})
APPOINTMENT_STATUS = _table(
    {
        AppointmentStatus.SCHEDULED: "Scheduled",
        AppointmentStatus.ATTENDED: "Attended",
        AppointmentStatus.NO_SHOW: "No-show",
        AppointmentStatus.CANCELLED: "Cancelled",
        AppointmentStatus.RESCHEDULED: "Rescheduled",
    }
)
RECORD_KIND = _table(
    {
        RecordKind.CONTACT: "Contact",
        RecordKind.APPOINTMENT: "Appointment",
        RecordKind.EPISODE: "Discharge",
        RecordKind.MED_REC: "Med rec",
        RecordKind.NOTE: "Note",
        RecordKind.HOSPITAL_EVENT: "Hospital event",
        RecordKind.TASK: "Task",
        RecordKind.PATIENT: "New patient",
    }
)
HOSPITAL_EVENT = _table(
    {HospitalEventKind.ADMISSION: "Admission", HospitalEventKind.ED_VISIT: "ED visit"}
)
VITAL_KIND = _table(
    {
        VitalKind.BP: "BP",
        VitalKind.HR: "HR",
        VitalKind.BG: "BG",
        VitalKind.WEIGHT: "Weight",
        VitalKind.SPO2: "SpO2",
        VitalKind.TEMP: "Temp",
    }
)
TASK_RESOLUTION = _table(
    {
        TaskResolution.MET: "Met",
        TaskResolution.LATE: "Lapsed — contacted late",
        TaskResolution.ATTEMPTS_DOCUMENTED: "Attempts documented",
        TaskResolution.NOT_MET: "Not met",
    }
)
TASK_KIND = _table(
    {
        TaskKind.FOLLOW_UP: "Follow-up",
        TaskKind.APPOINTMENT_REMINDER: "Appointment reminder",
        TaskKind.ATTENDANCE_CHECK: "Attendance check",
        TaskKind.TCM_CONTACT: "TCM contact",
        TaskKind.TCM_VISIT: "TCM visit",
        TaskKind.MED_REC: "Med rec",
        TaskKind.CADENCE: "Check-in",
        TaskKind.REFERRAL: "Referral follow-up",
        TaskKind.CUSTOM: "Task",
    }
)
GOAL_STATUS = _table(
    {
        GoalStatus.ACTIVE: "Active",
        GoalStatus.MET: "Met",
        GoalStatus.NOT_MET: "Not met",
        GoalStatus.DISCONTINUED: "Discontinued",
    }
)
REFERRAL_STATUS = _table(
    {
        ReferralStatus.SENT: "Sent",
        ReferralStatus.SCHEDULED: "Scheduled",
        ReferralStatus.COMPLETED: "Completed",
        ReferralStatus.DECLINED: "Declined",
    }
)
RESOURCE_KIND = _table(
    {
        ResourceKind.TRANSPORT: "Transport",
        ResourceKind.FOOD: "Food",
        ResourceKind.PHARMACY: "Pharmacy assistance",
        ResourceKind.HOME_HEALTH: "Home health",
        ResourceKind.SUPPORT_GROUP: "Support group",
        ResourceKind.OTHER: "Other",
    }
)

# What one fact of a message is (bot.parsing's IntentKind and CarePlanKind values), where a reply
# names a fact it did not act on.
FACT_KIND = _table(
    {
        "goal": "goal",
        "referral": "referral",
        "referral_status": "referral update",
        "resource_query": "resource search",
        "resource_given": "resource given",
        "query": "question",
        "cancel": "cancellation",
        "reschedule": "reschedule",
        "correction": "correction",
        "undo": "undo",
    }
)

# Titles earlier versions stored on the tasks they made themselves: they only repeat the kind,
# so a task still carrying one is named by its kind alone.
_REPEATS_KIND = _table(
    {
        TaskKind.FOLLOW_UP: "follow up",
        TaskKind.APPOINTMENT_REMINDER: "appointment reminder",
        TaskKind.ATTENDANCE_CHECK: "attended",
        TaskKind.TCM_CONTACT: "tcm interactive contact",
        TaskKind.TCM_VISIT: "tcm face to face visit",
        TaskKind.MED_REC: "medication reconciliation",
    }
)
_NOT_WORD = re.compile(r"[\W_]+")


def label(table: Mapping[str, str], value: str) -> str:
    """`value`'s label in `table`; a value the table lacks (an old stored value) as it is."""
    return table.get(value, value)


def inline_label(table: Mapping[str, str], value: str) -> str:
    """`value`'s label for the middle of a sentence ("phone call", "TCM contact")."""
    return inline(label(table, value))


def inline(text: str) -> str:
    """A label in the middle of a sentence: first letter lower-cased, unless the first word is
    an abbreviation ("phone call", "no-show", "TCM contact")."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first.isupper():
        return text
    return text[:1].lower() + text[1:]


def task_name(kind: str, title: str = "") -> str:
    """A task as every view names it, HTML-safe: "TCM contact", or "Follow-up: call back" when
    the task's own title says more than its kind."""
    name = TASK_KIND.get(kind, TASK_KIND[TaskKind.CUSTOM])
    own = task_title(kind, title)
    return f"{name}: {own}" if own else name


def task_title(kind: str, title: str) -> str:
    """A task's own title, clipped and HTML-safe; empty when it only says the kind again."""
    if not title or _repeats(kind, title):
        return ""
    return esc(clip(title, MAX_TITLE))


def _repeats(kind: str, title: str) -> bool:
    """Whether a task's title only says its kind again (whatever the case or punctuation)."""
    said = _NOT_WORD.sub(" ", title).strip().casefold()
    kind_words = _NOT_WORD.sub(" ", TASK_KIND.get(kind, "")).strip().casefold()
    return said in (kind_words, _REPEATS_KIND.get(kind))

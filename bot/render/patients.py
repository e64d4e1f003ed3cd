"""A patient's card and the short replies around it: pure text, HTML-escaped, <= 4096 chars.

Owns the card's view types (filled by bot.services.patients) and how they read. Dates are absolute,
with the weekday, in the nurse's zone, which the card names. Must not import telegram,
storage or sqlalchemy.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.render.careplans import GoalLine, ReferralLine
from bot.render.careplans import card_lines as careplan_lines

MAX_MESSAGE = 4096
MAX_NOTE = 140
MAX_TASKS_SHOWN = 8

RISK_LABELS = {"high": "High", "medium": "Medium", "low": "Low"}
TASK_LABELS = {
    "follow_up": "Follow-up",
    "appointment_reminder": "Appointment reminder",
    "attendance_check": "Attendance check",
    "tcm_contact": "TCM interactive contact",
    "tcm_visit": "TCM face-to-face visit",
    "med_rec": "Medication reconciliation",
    "cadence": "Routine check-in",
    "referral": "Referral",
    "custom": "Task",
}
CHANNEL_LABELS = {
    "phone": "Phone call",
    "visit": "Home visit",
    "clinic": "Clinic visit",
    "video": "Video visit",
    "text": "Text message",
    "voicemail": "Voicemail",
    "email": "Email",
}
APPOINTMENT_STATUS = {
    "scheduled": "scheduled",
    "attended": "attended",
    "no_show": "no-show",
    "cancelled": "cancelled",
    "rescheduled": "rescheduled",
}

NOT_YOURS = "That isn't one of your patients."
STALE = "That button is out of date. Send /patient and a name to open the card again."
OFFER_EXPIRED = "That offer has expired. Send /newpatient and the name to add the patient."
WHICH_PATIENT = "Which patient? Type the name (e.g. <i>Maria Lopez</i>), or /cancel."
WHO_IS_NEW = (
    "Who is the new patient? Type the name, and if you like the MRN, risk and conditions, "
    "e.g. <i>Maria Lopez MRN 12345 high risk CHF, COPD</i>. Or /cancel."
)


@dataclass(frozen=True)
class ContactLine:
    at: datetime
    channel: str
    outcome: str
    with_whom: str
    note: str


@dataclass(frozen=True)
class AppointmentLine:
    at: datetime
    with_whom: str
    location: str
    status: str


@dataclass(frozen=True)
class DischargeLine:
    on: date
    facility: str
    complexity: str | None


@dataclass(frozen=True)
class MedRecLine:
    at: datetime
    discrepancies: int | None


TimelineLine = ContactLine | AppointmentLine | DischargeLine | MedRecLine


@dataclass(frozen=True)
class TaskLine:
    kind: str
    title: str
    due_at: datetime
    attempts_documented: bool = False


@dataclass(frozen=True)
class PatientCard:
    """Everything the card shows, read in one transaction."""

    id: int
    name: str
    code: str
    risk: str
    conditions: str
    mrn: str | None
    status: str
    last_reached: ContactLine | None
    open_tasks: tuple[TaskLine, ...]
    next_appointment: AppointmentLine | None
    timeline: tuple[TimelineLine, ...]
    zone: str
    as_of: datetime
    goals: tuple[GoalLine, ...] = ()  # active care-plan goals
    referrals: tuple[ReferralLine, ...] = ()  # open referrals

    @property
    def active(self) -> bool:
        return self.status == "active"


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def day_label(day: date, *, today: date) -> str:
    """'Fri 27 Nov' (with the year when it is not this year's)."""
    label = f"{day:%a} {day.day} {day:%b}"
    return label if day.year == today.year else f"{label} {day.year}"


def moment_label(at: datetime, zone: ZoneInfo, *, today: date) -> str:
    """'Fri 27 Nov 14:30' in the nurse's zone."""
    local = at.astimezone(zone)
    return f"{day_label(local.date(), today=today)} {local:%H:%M}"


def _contact_text(line: ContactLine, zone: ZoneInfo, today: date) -> str:
    channel = CHANNEL_LABELS.get(line.channel, line.channel)
    who = "" if line.with_whom == "patient" else f" with {line.with_whom}"
    text = f"{moment_label(line.at, zone, today=today)} — {channel}{who}, {line.outcome}"
    if line.note:
        text += f": {_e(_clip(line.note, MAX_NOTE))}"
    return text


def _appointment_text(line: AppointmentLine, zone: ZoneInfo, today: date) -> str:
    text = f"{moment_label(line.at, zone, today=today)} — appointment"
    if line.with_whom:
        text += f" with {_e(_clip(line.with_whom, 60))}"
    if line.location:
        text += f" at {_e(_clip(line.location, 60))}"
    if line.status != "scheduled":
        text += f" ({APPOINTMENT_STATUS.get(line.status, line.status)})"
    return text


def _timeline_text(line: TimelineLine, zone: ZoneInfo, today: date) -> str:
    if isinstance(line, ContactLine):
        return _contact_text(line, zone, today)
    if isinstance(line, AppointmentLine):
        return _appointment_text(line, zone, today)
    if isinstance(line, DischargeLine):
        text = f"{day_label(line.on, today=today)} — discharged"
        if line.facility:
            text += f" from {_e(_clip(line.facility, 60))}"
        if line.complexity:
            text += f" ({line.complexity} complexity)"
        return text
    found = line.discrepancies
    detail = "" if found is None else f", {found} discrepanc{'y' if found == 1 else 'ies'}"
    return f"{moment_label(line.at, zone, today=today)} — medication reconciliation{detail}"


def _task_text(task: TaskLine, zone: ZoneInfo, now: datetime) -> str:
    today = now.astimezone(zone).date()
    label = TASK_LABELS.get(task.kind, task.kind)
    if task.title:
        label += f" ({_e(_clip(task.title, 60))})"
    text = f"{label} — due {moment_label(task.due_at, zone, today=today)}"
    if task.attempts_documented:
        text += ", attempts documented"
    if task.due_at < now:
        text += " <b>overdue</b>"
    return text


def render_card(card: PatientCard) -> str:
    """The patient card: risk, conditions, MRN, last reached, tasks, next appointment, timeline.

    A card too long for one message (pathological notes) is drawn again without notes and
    task titles, and cut at a line break if still too long; the zone footer always stays.
    """
    footer = f"\n\n<i>Times in {_e(card.zone)}.</i>"
    body = _card_body(card, compact=False)
    if len(body) + len(footer) > MAX_MESSAGE:
        body = _card_body(card, compact=True)
    return fit(body, MAX_MESSAGE - len(footer)) + footer


def _card_body(card: PatientCard, *, compact: bool) -> str:
    zone = ZoneInfo(card.zone)
    today = card.as_of.astimezone(zone).date()
    conditions = _clip(card.conditions, 120 if compact else 400)
    lines = [f"<b>{_e(_clip(card.name, 120))}</b> · {_e(card.code)}"]
    if not card.active:
        lines.append(f"<b>Case {_e(card.status)}</b>")
    lines.append(f"Risk: <b>{RISK_LABELS.get(card.risk, card.risk)}</b>")
    lines.append(f"MRN: {_e(card.mrn) if card.mrn else '—'}")
    lines.append(f"Conditions: {_e(conditions) if conditions else '—'}")
    if card.last_reached is None:
        lines.append("Last reached: never")
    else:
        last = replace(card.last_reached, note="") if compact else card.last_reached
        lines.append("Last reached: " + _contact_text(last, zone, today))
    if card.next_appointment is None:
        lines.append("Next appointment: none scheduled")
    else:
        lines.append("Next appointment: " + _appointment_text(card.next_appointment, zone, today))
    lines.append("")
    if card.open_tasks:
        shown = card.open_tasks[:MAX_TASKS_SHOWN]
        if compact:
            shown = tuple(replace(t, title="") for t in shown)
        lines.append(f"<b>Open tasks</b> ({len(card.open_tasks)})")
        lines.extend("• " + _task_text(t, zone, card.as_of) for t in shown)
        if len(card.open_tasks) > MAX_TASKS_SHOWN:
            lines.append(f"… and {len(card.open_tasks) - MAX_TASKS_SHOWN} more")
    else:
        lines.append("<b>Open tasks</b>: none")
    lines.append("")
    plan = careplan_lines(card.goals, card.referrals, today)
    if plan:
        lines.extend([*plan, ""])
    if card.timeline:
        timeline = tuple(_bare(item) for item in card.timeline) if compact else card.timeline
        lines.append("<b>Recent</b>")
        lines.extend("• " + _timeline_text(item, zone, today) for item in timeline)
    else:
        lines.append("<b>Recent</b>: nothing logged yet")
    return "\n".join(lines)


def _bare(line: TimelineLine) -> TimelineLine:
    """The same line without free text (notes, long places): for a card that must shrink."""
    if isinstance(line, ContactLine):
        return replace(line, note="")
    if isinstance(line, AppointmentLine):
        return replace(line, with_whom=_clip(line.with_whom, 20), location=_clip(line.location, 20))
    if isinstance(line, DischargeLine):
        return replace(line, facility=_clip(line.facility, 20))
    return line


def fit(text: str, limit: int = MAX_MESSAGE) -> str:
    """Cut a message to a limit at a line break (the card's lines are whole HTML)."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit - 2)
    return text[: cut if cut > 0 else limit - 2] + "\n…"


def saved_new_patient(card: PatientCard, *, risk_defaulted: bool) -> str:
    head = "Saved. New patient added."
    if risk_defaulted:
        head += " Risk is <b>medium</b> for now: tap a risk below to change it."
    return fit(f"{head}\n\n{render_card(card)}")


def already_added(card: PatientCard) -> str:
    """A redelivered "new patient" message: it was saved the first time."""
    head = "That message was already saved; no second patient was added."
    return fit(f"{head}\n\n{render_card(card)}")


def not_in_caseload(name: str, *, unsaved: bool = False) -> str:
    text = f"I don't have {_e(_clip(name, 80))} in your caseload."
    if unsaved:  # a record for a patient she has not added yet
        text += " Your message was <b>NOT saved</b>: add the patient, then send it again."
    return text


def add_button_label(name: str) -> str:
    return f"Add {_clip(name, 40)} as a new patient"


def duplicate_question(name: str, count: int) -> str:
    already = "a patient" if count == 1 else f"{count} patients"
    return (
        f"You already have {already} named <b>{_e(_clip(name, 80))}</b> in your caseload. "
        "Add another patient with the same name?"
    )


def which_of(text: str) -> str:
    return f"More than one patient matches “{_e(_clip(text, 80))}”. Which one?"


def changed(what: str, name: str, before: str, after: str) -> str:
    return (
        f"{what} for <b>{_e(name)}</b>: {_e(_clip(after, 400)) or '—'} "
        f"(was {_e(_clip(before, 200)) or '—'}). Saved."
    )


def ask_risk(name: str, current: str) -> str:
    return f"Risk for <b>{_e(name)}</b> is {RISK_LABELS.get(current, current).lower()}. New risk?"


def ask_conditions(name: str, current: str) -> str:
    now = _e(_clip(current, 400)) if current else "none"
    return (
        f"Conditions for <b>{_e(name)}</b>: {now}.\nType the new list, separated by commas "
        "(e.g. <i>CHF, COPD</i>), <i>none</i> to clear, or /cancel."
    )


def ask_mrn(name: str, current: str | None) -> str:
    return (
        f"MRN for <b>{_e(name)}</b>: {_e(current) if current else 'none'}.\n"
        "Type the new MRN, <i>none</i> to clear it, or /cancel."
    )


def ask_close(name: str, open_tasks: int) -> str:
    tail = f" Its {open_tasks} open task(s) will be cancelled." if open_tasks else ""
    return f"Close the case of <b>{_e(name)}</b>?{tail} It leaves your active caseload."


def closed(name: str, cancelled: int) -> str:
    tail = f" {cancelled} open task(s) cancelled." if cancelled else ""
    return f"Case closed: <b>{_e(name)}</b>.{tail} Saved."


def ask_transfer(name: str) -> str:
    return f"Transfer <b>{_e(name)}</b> to which nurse of your team?"


def no_teammates() -> str:
    return "There's no other active nurse on your team to transfer to."


def transferred_out(name: str, to_nurse: str, tasks: int) -> str:
    tail = f" {tasks} open task(s) went with the case." if tasks else ""
    return f"<b>{_e(name)}</b> is now {_e(to_nurse)}'s patient.{tail} Saved."


def transferred_in(patient_label: str, from_nurse: str, tasks: int) -> str:
    tail = f" with {tasks} open task(s)" if tasks else ""
    return (
        f"{_e(from_nurse)} transferred a patient to you: <b>{_e(patient_label)}</b>{tail}. "
        "Tap below to open the card."
    )


def pushed_name(name: str, initials: str, code: str, privacy_mode: str) -> str:
    """How a push names a patient, by the nurse's privacy setting (full, initials, code)."""
    if privacy_mode == "initials":
        return initials
    if privacy_mode == "code":
        return code
    return name

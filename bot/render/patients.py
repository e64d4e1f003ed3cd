"""A patient's card and the short replies around it: pure text, HTML-escaped, <= 4096 chars.

Owns the card's view types (filled by bot.services.patients) and how they read. Dates are absolute,
with the weekday, in the nurse's zone, which the card names. Must not import telegram,
storage or sqlalchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.render import labels
from bot.render.careplans import GoalLine, ReferralLine
from bot.render.careplans import card_lines as careplan_lines
from bot.render.labels import inline_label, label
from bot.render.tasks import TaskLine
from bot.render.text import MAX_MESSAGE, clip, day_label, esc, fit, when_label
from bot.vocab import AppointmentStatus, Party, PatientStatus, RecordKind, Refusal

MAX_NOTE = 140
MAX_TASKS_SHOWN = 8

NOT_YOURS = "That isn't one of your patients."
STALE = "That button is out of date. Send /patient and a name to open the card again."
OFFER_EXPIRED = "That offer has expired. Send /newpatient and the name to add the patient."
CASE_CLOSED = "That case is closed, so nothing was changed."
NOT_TEAMMATE = "That nurse isn't an active member of your team any more. Nothing was changed."
REFUSALS = {
    Refusal.NOT_FOUND: STALE,
    Refusal.NOT_YOURS: NOT_YOURS,
    Refusal.CLOSED: CASE_CLOSED,
    Refusal.NOT_TEAMMATE: NOT_TEAMMATE,
}
"""What a refused press or edit on a patient says."""
BAD_MRN = (
    "That doesn't look like an MRN (letters, digits and - . / only, up to 40). "
    "Type it again, <i>none</i> to clear it, or /cancel."
)
QUESTION_CLOSED = "I stopped waiting for an answer; nothing was changed."
WHICH_PATIENT = "Which patient? Type the name (e.g. <i>Maria Lopez</i>), or /cancel."
WHO_IS_NEW = (
    "Who is the new patient? Type the name, and if you like the MRN, risk and conditions, "
    "e.g. <i>Maria Lopez MRN 12345 high risk CHF, COPD</i>. Or /cancel."
)
NO_NAME = "I couldn't find a name in that. " + WHO_IS_NEW


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
    readmission: bool = False  # within 30 days of an earlier discharge


@dataclass(frozen=True)
class HospitalEventLine:
    on: date
    kind: str  # a HospitalEventKind value
    facility: str
    reason: str


@dataclass(frozen=True)
class VitalLine:
    """A vital's latest reading and the one before: ``direction`` 1 up, -1 down, 0 same."""

    kind: str  # a VitalKind value
    value: str
    unit: str
    at: datetime
    direction: int | None = None
    previous_value: str | None = None
    previous_at: datetime | None = None


@dataclass(frozen=True)
class MedRecLine:
    at: datetime
    discrepancies: int | None


TimelineLine = ContactLine | AppointmentLine | DischargeLine | MedRecLine | HospitalEventLine


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
    admitted_since: date | None = None  # in hospital: routine follow-ups wait
    vitals: tuple[VitalLine, ...] = ()  # the latest of each vital, with its trend

    @property
    def active(self) -> bool:
        return self.status == PatientStatus.ACTIVE


def _contact_text(line: ContactLine, zone: ZoneInfo, today: date) -> str:
    channel = label(labels.CHANNEL, line.channel)
    who = (
        ""
        if line.with_whom == Party.PATIENT
        else f" with {inline_label(labels.PARTY, line.with_whom)}"
    )
    outcome = inline_label(labels.OUTCOME, line.outcome)
    text = f"{when_label(line.at, zone, today=today)} — {channel}{who}, {outcome}"
    if line.note:
        text += f": {esc(clip(line.note, MAX_NOTE))}"
    return text


def _appointment_text(line: AppointmentLine, zone: ZoneInfo, today: date) -> str:
    what = inline_label(labels.RECORD_KIND, RecordKind.APPOINTMENT)
    text = f"{when_label(line.at, zone, today=today)} — {what}"
    if line.with_whom:
        text += f" with {esc(clip(line.with_whom, 60))}"
    if line.location:
        text += f" at {esc(clip(line.location, 60))}"
    if line.status != AppointmentStatus.SCHEDULED:
        text += f" ({inline_label(labels.APPOINTMENT_STATUS, line.status)})"
    return text


def _timeline_text(line: TimelineLine, zone: ZoneInfo, today: date) -> str:
    if isinstance(line, ContactLine):
        return _contact_text(line, zone, today)
    if isinstance(line, AppointmentLine):
        return _appointment_text(line, zone, today)
    if isinstance(line, DischargeLine):
        text = f"{day_label(line.on, today=today)} — discharged"
        if line.facility:
            text += f" from {esc(clip(line.facility, 60))}"
        if line.complexity:
            text += f" ({inline_label(labels.COMPLEXITY, line.complexity)} complexity)"
        if line.readmission:
            text += " · <b>readmission</b>"
        return text
    if isinstance(line, HospitalEventLine):
        text = (
            f"{day_label(line.on, today=today)} — {inline_label(labels.HOSPITAL_EVENT, line.kind)}"
        )
        if line.facility:
            text += f" at {esc(clip(line.facility, 60))}"
        if line.reason:
            text += f" ({esc(clip(line.reason, 60))})"
        return text
    found = line.discrepancies
    detail = "" if found is None else f", {found} discrepanc{'y' if found == 1 else 'ies'}"
    what = inline_label(labels.RECORD_KIND, RecordKind.MED_REC)
    return f"{when_label(line.at, zone, today=today)} — {what}{detail}"


ARROWS = {1: "↑", -1: "↓", 0: "→"}


def vital_text(line: VitalLine, zone: ZoneInfo, today: date) -> str:
    """ "BP 150/90 mmHg ↑ (was 138/84 on Mon 30 Nov)"."""
    unit = f" {esc(line.unit)}" if line.unit and line.unit != "%" else esc(line.unit)
    text = f"{label(labels.VITAL_KIND, line.kind)} {esc(line.value)}{unit}"
    text += f", {day_label(line.at.astimezone(zone).date(), today=today)}"
    if line.direction is not None and line.previous_value is not None:
        text += f" {ARROWS[line.direction]}"
        if line.previous_at is not None:
            was = day_label(line.previous_at.astimezone(zone).date(), today=today)
            text += f" (was {esc(line.previous_value)} on {was})"
    return text


def _task_text(task: TaskLine, zone: ZoneInfo, now: datetime) -> str:
    today = now.astimezone(zone).date()
    name = labels.task_name(task.kind, task.title)
    text = f"{name} — due {when_label(task.due_at, zone, today=today)}"
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
    footer = f"\n\n<i>Times in {esc(card.zone)}.</i>"
    body = _card_body(card, compact=False)
    if len(body) + len(footer) > MAX_MESSAGE:
        body = _card_body(card, compact=True)
    return fit(body, MAX_MESSAGE - len(footer)) + footer


def _card_body(card: PatientCard, *, compact: bool) -> str:
    zone = ZoneInfo(card.zone)
    today = card.as_of.astimezone(zone).date()
    conditions = clip(card.conditions, 120 if compact else 400)
    lines = [f"<b>{esc(clip(card.name, 120))}</b> · {esc(card.code)}"]
    if not card.active:
        lines.append(f"<b>Case {inline_label(labels.PATIENT_STATUS, card.status)}</b>")
    lines.append(f"Risk: <b>{label(labels.RISK, card.risk)}</b>")
    if card.admitted_since is not None:
        since = day_label(card.admitted_since, today=today)
        lines.append(f"<b>In hospital</b> since {since}: routine follow-ups and check-ins wait")
    lines.append(f"MRN: {esc(card.mrn) if card.mrn else '—'}")
    lines.append(f"Conditions: {esc(conditions) if conditions else '—'}")
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
    if card.vitals:
        lines.append("<b>Vitals</b>")
        lines.extend("• " + vital_text(v, zone, today) for v in card.vitals)
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
        return replace(line, with_whom=clip(line.with_whom, 20), location=clip(line.location, 20))
    if isinstance(line, DischargeLine):
        return replace(line, facility=clip(line.facility, 20))
    return line


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
    text = f"I don't have {esc(clip(name, 80))} in your caseload."
    if unsaved:  # a record for a patient she has not added yet
        text += " Your message was <b>NOT saved</b>: add the patient, then send it again."
    return text


def add_button_label(name: str) -> str:
    return f"Add {clip(name, 40)} as a new patient"


def duplicate_question(name: str, count: int) -> str:
    already = "a patient" if count == 1 else f"{count} patients"
    return (
        f"You already have {already} named <b>{esc(clip(name, 80))}</b> in your caseload. "
        "Add another patient with the same name?"
    )


def which_of(text: str) -> str:
    return f"More than one patient matches “{esc(clip(text, 80))}”. Which one?"


def changed(what: str, name: str, before: str, after: str) -> str:
    return (
        f"{what} for <b>{esc(name)}</b>: {esc(clip(after, 400)) or '—'} "
        f"(was {esc(clip(before, 200)) or '—'}). Saved."
    )


def ask_risk(name: str, current: str) -> str:
    return f"Risk for <b>{esc(name)}</b> is {inline_label(labels.RISK, current)}. New risk?"


def ask_conditions(name: str, current: str) -> str:
    now = esc(clip(current, 400)) if current else "none"
    return (
        f"Conditions for <b>{esc(name)}</b>: {now}.\nType the new list, separated by commas "
        "(e.g. <i>CHF, COPD</i>), <i>none</i> to clear, or /cancel."
    )


def ask_mrn(name: str, current: str | None) -> str:
    return (
        f"MRN for <b>{esc(name)}</b>: {esc(current) if current else 'none'}.\n"
        "Type the new MRN, <i>none</i> to clear it, or /cancel."
    )


def ask_close(name: str, open_tasks: int) -> str:
    tail = f" Its {open_tasks} open task(s) will be cancelled." if open_tasks else ""
    return f"Close the case of <b>{esc(name)}</b>?{tail} It leaves your active caseload."


def closed(name: str, cancelled: int) -> str:
    tail = f" {cancelled} open task(s) cancelled." if cancelled else ""
    return f"Case closed: <b>{esc(name)}</b>.{tail} Saved."


def ask_transfer(name: str) -> str:
    return f"Transfer <b>{esc(name)}</b> to which nurse of your team?"


def no_teammates() -> str:
    return "There's no other active nurse on your team to transfer to."


def transferred_out(name: str, to_nurse: str, tasks: int) -> str:
    tail = f" {tasks} open task(s) went with the case." if tasks else ""
    return f"<b>{esc(name)}</b> is now {esc(to_nurse)}'s patient.{tail} Saved."


def transferred_in(patient_label: str, from_nurse: str, tasks: int) -> str:
    tail = f" with {tasks} open task(s)" if tasks else ""
    return (
        f"{esc(from_nurse)} transferred a patient to you: <b>{esc(patient_label)}</b>{tail}. "
        "Tap below to open the card."
    )


def pushed_name(name: str, initials: str, code: str, privacy_mode: str) -> str:
    """How a push names a patient, by the nurse's privacy setting (full, initials, code)."""
    if privacy_mode == "initials":
        return initials
    if privacy_mode == "code":
        return code
    return name

"""Caseload answers as message text, pure: lists, pages, the team view, the help for questions.

Every name and free text is html-escaped; every date is absolute, in the nurse's zone, with its
weekday; every message fits Telegram's 4,096 characters (a page holds a bounded number of
clipped lines, and `fit` is the last guard). Button labels carry line numbers, never names;
callback data is built by the handlers from opaque ids.
Must not import telegram, storage or handlers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.render import labels
from bot.render.labels import inline_label, label
from bot.render.tasks import TaskLine
from bot.render.text import clip, day_label, esc, fit, time_label, when_label
from bot.vocab import Party, RecordKind, TaskKind, TaskResolution

MAX_NAME = 60

QUERY_HELP = (
    "I can answer these (type them, or use the command):\n"
    "• <i>my caseload</i> — /caseload\n"
    "• <i>what's on today</i> — /today\n"
    "• <i>anything for tmrw</i> — /tomorrow\n"
    "• <i>who do I need to call</i> — /calls\n"
    "• <i>who is overdue?</i> — /overdue\n"
    "• <i>this week</i> — /week\n"
    "• <i>high risk patients</i>\n"
    "• <i>who haven't I called in 2 weeks?</i>\n"
    "• <i>when did I last reach Maria Lopez?</i>\n"
    "• <i>when is Maria's next appt</i>\n"
    "• <i>does Maria have open referrals</i>\n"
    "• <i>show Maria</i> — /patient Maria\n"
    "• /stats for charts, /export for the contact log"
)
NOT_FOUND = "That isn't one of your patients, or the button is out of date."
NOT_SUPERVISOR = "Only a supervisor or an admin can see the team view."
NOT_IN_TEAM = "That nurse isn't an active member of your team."
NO_TEAM = "You aren't in a team, so there is no team view."
NO_TEAMMATES = "There is no other active nurse in that team to move the patient to."
EXPORT_NOT_ALLOWED = (
    "Your privacy setting keeps patient names out of this chat, so I won't send the contact "
    "log as a file here. Change it in /settings (names: full), or ask your admin to run "
    "<code>casebot export</code> on the server."
)


# -- what the renderers read (storage rows satisfy these) ------------------------------------


class CaseloadLine(Protocol):
    @property
    def patient_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def risk(self) -> str: ...
    @property
    def last_reached_at(self) -> datetime | None: ...
    @property
    def overdue_tasks(self) -> int: ...
    @property
    def open_tasks(self) -> int: ...
    @property
    def tcm_due_at(self) -> datetime | None: ...


class AppointmentLine(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def has_time(self) -> bool: ...
    @property
    def with_whom(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def patient_id(self) -> int: ...
    @property
    def patient_name(self) -> str: ...


class TeamLine(Protocol):
    @property
    def nurse_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def caseload(self) -> int: ...
    @property
    def overdue_tasks(self) -> int: ...
    @property
    def tcm_at_risk(self) -> int: ...
    @property
    def tcm_lapsed(self) -> int: ...
    @property
    def readmissions(self) -> int: ...


@dataclass(frozen=True)
class Rendered:
    """A message and what its buttons should do, by line number (1-based on the page)."""

    text: str
    page: int
    pages: int
    patient_ids: tuple[int, ...] = ()
    task_ids: tuple[int, ...] = ()


# -- small pieces ------------------------------------------------------------------------------


def _name(text: str) -> str:
    """A name (or other short nurse text) on one line, clipped and HTML-escaped."""
    return esc(clip(text, MAX_NAME))


def days_ago(at: datetime, zone: ZoneInfo, *, today: date) -> int:
    return (today - at.astimezone(zone).date()).days


def ago_text(days: int) -> str:
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{days} days ago"


def pages_of(total: int, size: int) -> int:
    return max(1, -(-total // size))


def _page_note(page: int, pages: int) -> str:
    return f" — page {page + 1} of {pages}" if pages > 1 else ""


def _zone_note(zone: ZoneInfo) -> str:
    return f"<i>Times in {esc(zone.key)}.</i>"


# -- a caseload --------------------------------------------------------------------------------


def caseload_line(
    number: int, row: CaseloadLine, zone: ZoneInfo, *, today: date, now: datetime
) -> str:
    parts = [f"{number}. <b>{_name(row.name)}</b>", label(labels.RISK, row.risk)]
    if row.overdue_tasks:
        parts.append(f"⚠️ {row.overdue_tasks} overdue")
    if row.tcm_due_at is not None:
        parts.append(f"TCM due {when_label(row.tcm_due_at, zone, today=today)}")
    elif row.open_tasks and not row.overdue_tasks:
        parts.append(f"{row.open_tasks} open")
    if row.last_reached_at is None:
        parts.append("never reached")
    else:
        reached = row.last_reached_at.astimezone(zone).date()
        parts.append(
            f"reached {day_label(reached, today=today)} "
            f"({ago_text(days_ago(row.last_reached_at, zone, today=today))})"
        )
    return " · ".join(parts)


def caseload_page(
    rows: Sequence[CaseloadLine],
    *,
    total: int,
    page: int,
    size: int,
    zone: ZoneInfo,
    now: datetime,
    title: str = "Your caseload",
    empty: str = "You have no active patients.",
    order_note: str = "most urgent first",
) -> Rendered:
    today = now.astimezone(zone).date()
    pages = pages_of(total, size)
    if not rows:
        return Rendered(text=empty if total == 0 else "That page is empty.", page=page, pages=pages)
    head = f"<b>{esc(title)}</b>: {total} patient{'s' if total != 1 else ''}, {order_note}"
    lines = [head + _page_note(page, pages)]
    start = page * size
    lines += [
        caseload_line(start + i + 1, row, zone, today=today, now=now) for i, row in enumerate(rows)
    ]
    lines.append(_zone_note(zone))
    return Rendered(
        text=fit("\n".join(lines)),
        page=page,
        pages=pages,
        patient_ids=tuple(r.patient_id for r in rows),
    )


def not_reached_page(
    rows: Sequence[CaseloadLine],
    *,
    total: int,
    page: int,
    size: int,
    days: int,
    zone: ZoneInfo,
    now: datetime,
) -> Rendered:
    today = now.astimezone(zone).date()
    pages = pages_of(total, size)
    if not rows:
        return Rendered(
            text=f"Everyone in your caseload was reached in the last {days} days.",
            page=page,
            pages=pages,
        )
    head = f"<b>Not reached in {days} days</b>: {total} patient{'s' if total != 1 else ''}"
    lines = [head + _page_note(page, pages)]
    start = page * size
    for i, row in enumerate(rows):
        risk = label(labels.RISK, row.risk)
        if row.last_reached_at is None:
            last = "never reached"
        else:
            day = day_label(row.last_reached_at.astimezone(zone).date(), today=today)
            last = (
                f"last reached {day} ({ago_text(days_ago(row.last_reached_at, zone, today=today))})"
            )
        lines.append(f"{start + i + 1}. <b>{_name(row.name)}</b> · {risk} · {last}")
    lines.append(_zone_note(zone))
    return Rendered(
        text=fit("\n".join(lines)),
        page=page,
        pages=pages,
        patient_ids=tuple(r.patient_id for r in rows),
    )


# -- tasks and appointments --------------------------------------------------------------------


def task_line(number: int, task: TaskLine, zone: ZoneInfo, *, today: date, now: datetime) -> str:
    what = labels.task_name(task.kind, task.title)
    who = f" · <b>{_name(task.patient_name)}</b>" if task.patient_name else ""
    due = when_label(task.due_at, zone, today=today)
    if task.due_at < now:
        overdue_days = (today - task.due_at.astimezone(zone).date()).days
        when = f"was due {due} ({ago_text(overdue_days)})"
    else:
        when = f"due {due}"
    flag = "❗ " if task.urgent else ""
    return f"{number}. {flag}{what}{who} · {when}"


def appointment_line(appt: AppointmentLine, zone: ZoneInfo, *, today: date) -> str:
    local = appt.at.astimezone(zone)
    when = (
        when_label(appt.at, zone, today=today)
        if appt.has_time
        else day_label(local.date(), today=today)
    )
    extra = []
    if appt.with_whom:
        extra.append(_name(appt.with_whom))
    if appt.location:
        extra.append(_name(appt.location))
    tail = f" — {', '.join(extra)}" if extra else ""
    return f"• {when} <b>{_name(appt.patient_name)}</b>{tail}"


def task_list(
    tasks: Sequence[TaskLine],
    *,
    total: int,
    page: int,
    size: int,
    zone: ZoneInfo,
    now: datetime,
    title: str,
    empty: str,
    appointments: Sequence[AppointmentLine] = (),
    appointments_total: int = 0,
    appointments_title: str = "Appointments",
    tasks_title: str = "Tasks",
) -> Rendered:
    """A titled list of appointments (first page only) and a page of tasks."""
    today = now.astimezone(zone).date()
    pages = pages_of(total, size)
    if not tasks and not appointments and page == 0:
        return Rendered(text=f"<b>{title}</b>\n{empty}", page=page, pages=pages)
    lines = [f"<b>{title}</b>" + _page_note(page, pages)]
    if appointments and page == 0:
        lines.append(f"\n<b>{appointments_title}</b> ({appointments_total})")
        lines += [appointment_line(a, zone, today=today) for a in appointments]
        if appointments_total > len(appointments):
            lines.append(f"… and {appointments_total - len(appointments)} more")
    if tasks:
        lines.append(f"\n<b>{tasks_title}</b> ({total})")
        start = page * size
        lines += [
            task_line(start + i + 1, t, zone, today=today, now=now) for i, t in enumerate(tasks)
        ]
    elif page == 0:
        lines.append(f"\nNo {tasks_title.lower()}.")
    lines.append(_zone_note(zone))
    return Rendered(
        text=fit("\n".join(lines)),
        page=page,
        pages=pages,
        task_ids=tuple(t.id for t in tasks),
        patient_ids=tuple(t.patient_id for t in tasks if t.patient_id is not None),
    )


def today_title(now: datetime, zone: ZoneInfo) -> str:
    return f"Today, {day_label(now.astimezone(zone).date(), with_year=True)}"


def week_title(now: datetime, zone: ZoneInfo, end: datetime) -> str:
    first = now.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return f"Next 7 days, {day_label(first, today=first)} – {day_label(last, today=first)}"


# -- one patient -------------------------------------------------------------------------------


def last_contact(
    name: str,
    *,
    reached_at: datetime | None,
    reached_channel: str | None,
    reached_with: str | None,
    attempt_at: datetime | None,
    zone: ZoneInfo,
    now: datetime,
) -> str:
    today = now.astimezone(zone).date()
    who = f"<b>{_name(name)}</b>"
    if reached_at is None:
        text = f"You have no reached contact with {who} on record."
    else:
        day = when_label(reached_at, zone, has_time=False, with_year=True)
        channel = (
            inline_label(labels.CHANNEL, reached_channel)
            if reached_channel
            else inline_label(labels.RECORD_KIND, RecordKind.CONTACT)
        )
        party = (
            f" with the {inline_label(labels.PARTY, reached_with)}"
            if reached_with and reached_with != Party.PATIENT
            else ""
        )
        text = (
            f"You last reached {who} on {day} at {time_label(reached_at, zone)} "
            f"({ago_text(days_ago(reached_at, zone, today=today))}): {channel}{party}."
        )
    if attempt_at is not None and (reached_at is None or attempt_at > reached_at):
        text += f"\nLast attempt: {when_label(attempt_at, zone, today=today)}."
    return f"{text}\n{_zone_note(zone)}"


def which_patient(text: str | None) -> str:
    if text:
        return f"Which patient did you mean by “{_name(text)}”?"
    return "Which patient? Say the name, e.g. <i>when did I last reach Maria Lopez?</i>"


def no_such_patient(text: str | None) -> str:
    if text:
        return f"I couldn't find “{_name(text)}” in your caseload."
    return "Which patient? Say the name, e.g. <i>show Maria Lopez</i>."


# -- a team ------------------------------------------------------------------------------------


def team_view(team_name: str, rows: Sequence[TeamLine]) -> Rendered:
    if not rows:
        return Rendered(text=f"<b>{esc(team_name)}</b>\nNo active nurses.", page=0, pages=1)
    total_patients = sum(r.caseload for r in rows)
    lines = [
        f"<b>{_name(team_name)}</b>: {len(rows)} nurse{'s' if len(rows) != 1 else ''}, "
        f"{total_patients} active patients"
    ]
    for i, r in enumerate(rows[:40]):
        line = (
            f"{i + 1}. <b>{_name(r.name)}</b> · {r.caseload} patients · "
            f"{r.overdue_tasks} overdue · {r.tcm_at_risk} TCM at risk"
        )
        if r.tcm_lapsed:
            line += f" · {r.tcm_lapsed} TCM lapsed"
        if r.readmissions:
            line += f" · {r.readmissions} readmission{'s' if r.readmissions != 1 else ''}"
        lines.append(line)
    if len(rows) > 40:
        lines.append(f"… and {len(rows) - 40} more")
    lines.append("<i>TCM at risk: overdue or due within 24 hours.</i>")
    if any(r.tcm_lapsed or r.readmissions for r in rows):
        lines.append("<i>Lapsed and readmissions: the last 30 days.</i>")
    return Rendered(text=fit("\n".join(lines)), page=0, pages=1)


class UnassignedLine(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def from_name(self) -> str: ...
    @property
    def since(self) -> datetime: ...
    @property
    def open_tasks(self) -> int: ...


UNASSIGNED_SHOWN = 8  # [Assign n] buttons: a phone's worth


def unassigned_section(rows: Sequence[UnassignedLine], *, zone: ZoneInfo) -> str:
    """The /team section for patients parked when their nurse was revoked ("" when none)."""
    if not rows:
        return ""
    lines = [f"<b>Unassigned</b>: {len(rows)} patient{'s' if len(rows) != 1 else ''}"]
    for i, r in enumerate(rows[:UNASSIGNED_SHOWN]):
        tasks = f" · {r.open_tasks} open" if r.open_tasks else ""
        since = day_label(r.since.astimezone(zone).date())
        lines.append(f"{i + 1}. {_name(r.name)} · was {_name(r.from_name)}'s, since {since}{tasks}")
    if len(rows) > UNASSIGNED_SHOWN:
        lines.append(f"… and {len(rows) - UNASSIGNED_SHOWN} more (assign these first)")
    lines.append("<i>You hold them (and their reminders) until you assign them.</i>")
    return "\n".join(lines)


def move_question(patient: str, from_nurse: str) -> str:
    return f"Move <b>{_name(patient)}</b> from {_name(from_nurse)} to which nurse?"


def moved_for_supervisor(patient: str, from_nurse: str, to_nurse: str, tasks: int) -> str:
    return (
        f"Moved <b>{_name(patient)}</b> from {_name(from_nurse)} to {_name(to_nurse)} "
        f"with {tasks} open task{'s' if tasks != 1 else ''}. Both nurses were told."
    )


def moved_away(patient_label: str, to_nurse: str, by: str) -> str:
    return (
        f"{esc(by)} moved your patient <b>{esc(patient_label)}</b> to {_name(to_nurse)}. "
        "Their open tasks went along."
    )


def moved_in(patient_label: str, from_nurse: str, by: str, tasks: int) -> str:
    return (
        f"{esc(by)} gave you a patient from {_name(from_nurse)}: <b>{esc(patient_label)}</b>, "
        f"with {tasks} open task{'s' if tasks != 1 else ''}. See /caseload."
    )


# -- stats text --------------------------------------------------------------------------------


def pushed_label(name: str, initials: str, code: str, privacy_mode: str) -> str:
    """How a push to another nurse names a patient, by her privacy setting."""
    if privacy_mode == "full":
        return name
    if privacy_mode == "code":
        return code
    return initials


def percent(numerator: int, denominator: int) -> str:
    if denominator == 0:
        return "n/a"
    return f"{round(100 * numerator / denominator)}% ({numerator} of {denominator})"


def stats_caption(
    *,
    contacts_28d: int,
    on_time: int,
    late: int,
    tcm: dict[int, tuple[int, int]],
    mrp: dict[int, tuple[int, int]],
    tcm_closed: Mapping[TaskResolution, int] | None = None,
) -> str:
    """The text under the chart: the compliance numbers over 30 and 90 days, and how her TCM
    deadlines closed in the last 30 days (lapses stay counted)."""
    lines = [
        "<b>Your numbers</b>",
        f"Contacts in the last 4 weeks: {contacts_28d}",
        f"Tasks done on time: {percent(on_time, on_time + late)}",
    ]
    tcm_contact = labels.TASK_KIND[TaskKind.TCM_CONTACT]
    med_rec = labels.TASK_KIND[TaskKind.MED_REC]
    for days in sorted(tcm):
        met, total = tcm[days]
        lines.append(
            f"{tcm_contact} within 2 business days, last {days} days: {percent(met, total)}"
        )
    for days in sorted(mrp):
        met, total = mrp[days]
        lines.append(f"{med_rec} within 30 days, last {days} days: {percent(met, total)}")
    if tcm_closed and any(tcm_closed.values()):
        closed = ", ".join(
            f"{labels.inline(labels.label(labels.TASK_RESOLUTION, k))} {n}"
            for k, n in tcm_closed.items()
            if n
        )
        lines.append(f"TCM deadlines closed, last 30 days: {closed}")
    return "\n".join(lines)

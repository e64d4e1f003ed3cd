"""Caseload answers as message text, pure: lists, pages, the team view, the help for questions.

Every name and free text is html-escaped; every date is absolute, in the nurse's zone, with its
weekday; every message fits Telegram's 4,096 characters (a page holds a bounded number of
clipped lines, and `fit` is the last guard). Button labels carry line numbers, never names;
callback data is built by the handlers from opaque ids.
Must not import telegram, storage or handlers.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

MAX_MESSAGE = 4096
MAX_NAME = 60

RISK_LABELS = {"high": "High", "medium": "Medium", "low": "Low"}
TASK_LABELS = {
    "follow_up": "Follow-up",
    "appointment_reminder": "Appointment reminder",
    "attendance_check": "Attendance check",
    "tcm_contact": "TCM contact",
    "tcm_visit": "TCM visit",
    "med_rec": "Med rec",
    "cadence": "Check-in",
    "referral": "Referral",
    "custom": "Task",
}
CHANNEL_LABELS = {
    "phone": "phone call",
    "visit": "home visit",
    "clinic": "clinic visit",
    "video": "video visit",
    "text": "text message",
    "voicemail": "voicemail",
    "email": "email",
}

QUERY_HELP = (
    "I can answer these (type them, or use the command):\n"
    "• <i>my caseload</i> — /caseload\n"
    "• <i>what's on today</i> — /today\n"
    "• <i>who is overdue?</i> — /overdue\n"
    "• <i>this week</i> — /week\n"
    "• <i>high risk patients</i>\n"
    "• <i>who haven't I called in 2 weeks?</i>\n"
    "• <i>when did I last reach Maria Lopez?</i>\n"
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
NO_CHART_DATA = "There is nothing to chart yet."


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


class TaskLine(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def due_at(self) -> datetime: ...
    @property
    def urgent(self) -> bool: ...
    @property
    def patient_id(self) -> int | None: ...
    @property
    def patient_name(self) -> str | None: ...


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


@dataclass(frozen=True)
class Rendered:
    """A message and what its buttons should do, by line number (1-based on the page)."""

    text: str
    page: int
    pages: int
    patient_ids: tuple[int, ...] = ()
    task_ids: tuple[int, ...] = ()


# -- small pieces ------------------------------------------------------------------------------


def e(text: str) -> str:
    return html.escape(text, quote=False)


def clip(text: str, limit: int = MAX_NAME) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def day_label(day: date) -> str:
    """'Fri 27 Nov 2026'."""
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def short_day(day: date, *, today: date) -> str:
    """'Fri 27 Nov' (with the year when it is not this year)."""
    label = f"{day:%a} {day.day} {day:%b}"
    return label if day.year == today.year else f"{label} {day.year}"


def moment(at: datetime, zone: ZoneInfo, *, today: date) -> str:
    """'Fri 27 Nov 14:30' in the nurse's zone."""
    local = at.astimezone(zone)
    return f"{short_day(local.date(), today=today)} {local:%H:%M}"


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


def fit(text: str, limit: int = MAX_MESSAGE) -> str:
    """The last guard: cut whole lines from the end so the message fits."""
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    while lines and len("\n".join(lines)) + 2 > limit:
        lines.pop()
    return "\n".join(lines) + "\n…"


def _page_note(page: int, pages: int) -> str:
    return f" — page {page + 1} of {pages}" if pages > 1 else ""


def _zone_note(zone: ZoneInfo) -> str:
    return f"<i>Times in {e(zone.key)}.</i>"


# -- a caseload --------------------------------------------------------------------------------


def caseload_line(
    number: int, row: CaseloadLine, zone: ZoneInfo, *, today: date, now: datetime
) -> str:
    parts = [f"{number}. <b>{e(clip(row.name))}</b>", RISK_LABELS.get(row.risk, row.risk)]
    if row.overdue_tasks:
        parts.append(f"⚠️ {row.overdue_tasks} overdue")
    if row.tcm_due_at is not None:
        parts.append(f"TCM due {moment(row.tcm_due_at, zone, today=today)}")
    elif row.open_tasks and not row.overdue_tasks:
        parts.append(f"{row.open_tasks} open")
    if row.last_reached_at is None:
        parts.append("never reached")
    else:
        reached = row.last_reached_at.astimezone(zone).date()
        parts.append(
            f"reached {short_day(reached, today=today)} "
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
    head = f"<b>{e(title)}</b>: {total} patient{'s' if total != 1 else ''}, {order_note}"
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
        risk = RISK_LABELS.get(row.risk, row.risk)
        if row.last_reached_at is None:
            last = "never reached"
        else:
            day = short_day(row.last_reached_at.astimezone(zone).date(), today=today)
            last = (
                f"last reached {day} ({ago_text(days_ago(row.last_reached_at, zone, today=today))})"
            )
        lines.append(f"{start + i + 1}. <b>{e(clip(row.name))}</b> · {risk} · {last}")
    lines.append(_zone_note(zone))
    return Rendered(
        text=fit("\n".join(lines)),
        page=page,
        pages=pages,
        patient_ids=tuple(r.patient_id for r in rows),
    )


# -- tasks and appointments --------------------------------------------------------------------


def task_line(number: int, task: TaskLine, zone: ZoneInfo, *, today: date, now: datetime) -> str:
    label = TASK_LABELS.get(task.kind, "Task")
    title = clip(task.title, 80) if task.title else ""
    what = f"{label}: {e(title)}" if title and title.lower() != label.lower() else label
    who = f" · <b>{e(clip(task.patient_name))}</b>" if task.patient_name else ""
    due = moment(task.due_at, zone, today=today)
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
        moment(appt.at, zone, today=today)
        if appt.has_time
        else short_day(local.date(), today=today)
    )
    extra = []
    if appt.with_whom:
        extra.append(e(clip(appt.with_whom, 60)))
    if appt.location:
        extra.append(e(clip(appt.location, 60)))
    tail = f" — {', '.join(extra)}" if extra else ""
    return f"• {when} <b>{e(clip(appt.patient_name))}</b>{tail}"


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
    return f"Today, {day_label(now.astimezone(zone).date())}"


def week_title(now: datetime, zone: ZoneInfo, end: datetime) -> str:
    first = now.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return f"Next 7 days, {short_day(first, today=first)} – {short_day(last, today=first)}"


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
    who = f"<b>{e(clip(name))}</b>"
    if reached_at is None:
        text = f"You have no reached contact with {who} on record."
    else:
        local = reached_at.astimezone(zone)
        channel = CHANNEL_LABELS.get(reached_channel or "", reached_channel or "contact")
        party = "" if reached_with in (None, "patient") else f" with the {reached_with}"
        text = (
            f"You last reached {who} on {day_label(local.date())} at {local:%H:%M} "
            f"({ago_text(days_ago(reached_at, zone, today=today))}): {channel}{party}."
        )
    if attempt_at is not None and (reached_at is None or attempt_at > reached_at):
        text += f"\nLast attempt: {moment(attempt_at, zone, today=today)}."
    return f"{text}\n{_zone_note(zone)}"


def which_patient(text: str | None) -> str:
    if text:
        return f"Which patient did you mean by “{e(clip(text))}”?"
    return "Which patient? Say the name, e.g. <i>when did I last reach Maria Lopez?</i>"


def no_such_patient(text: str | None) -> str:
    if text:
        return f"I couldn't find “{e(clip(text))}” in your caseload."
    return "Which patient? Say the name, e.g. <i>show Maria Lopez</i>."


# -- a team ------------------------------------------------------------------------------------


def team_view(team_name: str, rows: Sequence[TeamLine]) -> Rendered:
    if not rows:
        return Rendered(text=f"<b>{e(team_name)}</b>\nNo active nurses.", page=0, pages=1)
    total_patients = sum(r.caseload for r in rows)
    lines = [
        f"<b>{e(clip(team_name))}</b>: {len(rows)} nurse{'s' if len(rows) != 1 else ''}, "
        f"{total_patients} active patients"
    ]
    for i, r in enumerate(rows[:40]):
        lines.append(
            f"{i + 1}. <b>{e(clip(r.name))}</b> · {r.caseload} patients · "
            f"{r.overdue_tasks} overdue · {r.tcm_at_risk} TCM at risk"
        )
    if len(rows) > 40:
        lines.append(f"… and {len(rows) - 40} more")
    lines.append("<i>TCM at risk: overdue or due within 24 hours.</i>")
    return Rendered(text=fit("\n".join(lines)), page=0, pages=1)


def move_question(patient: str, from_nurse: str) -> str:
    return f"Move <b>{e(clip(patient))}</b> from {e(clip(from_nurse))} to which nurse?"


def moved_for_supervisor(patient: str, from_nurse: str, to_nurse: str, tasks: int) -> str:
    return (
        f"Moved <b>{e(clip(patient))}</b> from {e(clip(from_nurse))} to {e(clip(to_nurse))} "
        f"with {tasks} open task{'s' if tasks != 1 else ''}. Both nurses were told."
    )


def moved_away(patient_label: str, to_nurse: str, by: str) -> str:
    return (
        f"{e(by)} moved your patient <b>{e(patient_label)}</b> to {e(clip(to_nurse))}. "
        "Their open tasks went along."
    )


def moved_in(patient_label: str, from_nurse: str, by: str, tasks: int) -> str:
    return (
        f"{e(by)} gave you a patient from {e(clip(from_nurse))}: <b>{e(patient_label)}</b>, "
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
) -> str:
    """The text under the chart: the compliance numbers over 30 and 90 days."""
    lines = [
        "<b>Your numbers</b>",
        f"Contacts in the last 4 weeks: {contacts_28d}",
        f"Tasks done on time: {percent(on_time, on_time + late)}",
    ]
    for days in sorted(tcm):
        met, total = tcm[days]
        lines.append(f"TCM contact within 2 business days, last {days} days: {percent(met, total)}")
    for days in sorted(mrp):
        met, total = mrp[days]
        lines.append(f"Med rec within 30 days, last {days} days: {percent(met, total)}")
    return "\n".join(lines)

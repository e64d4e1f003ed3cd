"""The morning digest as text: today, readmissions, TCM deadlines with business-day
countdowns and attempts, due today and overdue (her work, counted), cadence, yesterday.

Pure: no telegram, no storage imports at run time (the row types are plain dataclasses).
A digest is one message of at most 4,096 characters; what does not fit is counted and offered
behind [Show all].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.render import labels
from bot.render.labels import inline_label
from bot.render.reminders import LATE_AFTER, patient_label
from bot.render.text import MAX_MESSAGE, clip, day_label, esc, time_label, when_label

SHOW_ALL = "Show all"
"""The button under a digest that was cut (its data: bot.render.callbacks.ShowDigest)."""
# Room kept for the "… and N more" line and the closing summary.
_RESERVE = 300


@dataclass(frozen=True)
class Person:
    name: str
    initials: str
    code: str


@dataclass(frozen=True)
class DigestData:
    local_day: date
    zone: ZoneInfo
    privacy: str
    appointments: Sequence[tuple[datetime, Person, str]]
    due_today: Sequence[tuple[str, str, datetime, Person | None]]  # kind, title, due, who
    overdue: Sequence[tuple[str, str, datetime, Person | None]]
    # kind, due, who, business days left, attempts logged in the window (TCM contacts)
    deadlines: Sequence[tuple[str, datetime, Person | None, int, int]]
    cadence: Sequence[tuple[Person, str, datetime | None, int]]  # who, risk, last, cadence days
    yesterday_done: int
    yesterday_total: int
    goals_past_target: Sequence[tuple[Person, str, date]] = ()  # who, goal, target date
    readmissions: Sequence[tuple[Person, date, str]] = ()  # who, discharged on, facility
    due_today_total: int | None = None  # the whole count when the lists were read cut
    overdue_total: int | None = None


def _who(person: Person | None, privacy: str) -> str:
    if person is None:
        return ""
    return esc(
        patient_label(privacy=privacy, name=person.name, initials=person.initials, code=person.code)
    )


def _countdown(days: int) -> str:
    if days < 0:
        return "<b>lapsed</b>"
    if days == 0:
        return "<b>due today</b>"
    return f"due in {days} business day{'s' if days != 1 else ''}"


def digest_sections(data: DigestData) -> list[tuple[str, list[str]]]:
    """The digest as (heading, lines) sections, in the order a nurse works them."""
    zone, privacy = data.zone, data.privacy
    sections: list[tuple[str, list[str]]] = []
    if data.appointments:
        sections.append(
            (
                "📅 Appointments today",
                [
                    f"• {time_label(at, zone)} {_who(p, privacy)}" + (f" – {esc(w)}" if w else "")
                    for at, p, w in data.appointments
                ],
            )
        )
    if data.readmissions:
        sections.append(
            (
                "🔁 Readmissions",
                [
                    f"• {_who(p, privacy)}: readmitted, discharged {day_label(on)}"
                    + (f" from {esc(clip(facility, 60))}" if facility and privacy == "full" else "")
                    for p, on, facility in data.readmissions
                ],
            )
        )
    if data.deadlines:
        lines = []
        for kind, due, person, days, attempts in data.deadlines:
            lines.append(
                f"• {labels.task_name(kind)} {_who(person, privacy)}: {_countdown(days)}"
                f" – by {_day(due, zone)}{_attempts(int(attempts))}"
            )
        sections.append(("🏥 Transition-of-care deadlines", lines))
    if data.due_today:
        sections.append(
            (
                f"✅ Due today ({_total(data.due_today, data.due_today_total)})",
                [
                    f"• {labels.task_name(kind)} {_who(p, privacy)}"
                    for kind, _title, _due, p in data.due_today
                ],
            )
        )
    if data.overdue:
        sections.append(
            (
                f"⏳ Overdue ({_total(data.overdue, data.overdue_total)}, oldest first)",
                [
                    f"• {labels.task_name(kind)} {_who(p, privacy)} – since {_day(due, zone)}"
                    for kind, _title, due, p in data.overdue
                ],
            )
        )
    if data.cadence:
        lines = []
        for person, risk, last, days in data.cadence:
            since = f"last reached {_day(last, zone)}" if last else "never reached"
            risk_word = inline_label(labels.RISK, risk)
            lines.append(f"• {_who(person, privacy)} ({risk_word} risk, every {days} d): {since}")
        sections.append(("📞 Past their contact cadence", lines))
    if data.goals_past_target:
        sections.append(
            (
                "🎯 Goals past target date",
                [
                    # The goal's words are clinical detail: only with full names in pushes.
                    f"• {_who(p, privacy)}"
                    + (f": {esc(clip(text, 80))}" if privacy == "full" else "")
                    + f" – target {day_label(target)}"
                    for p, text, target in data.goals_past_target
                ],
            )
        )
    return sections


def _attempts(n: int) -> str:
    if n >= 2:
        return f" ({n} attempts documented)"
    if n == 1:
        return " (1 attempt so far)"
    return ""


def _total(shown: Sequence[object], total: int | None) -> int:
    return total if total is not None else len(shown)


def _day(at: datetime, zone: ZoneInfo) -> str:
    return when_label(at, zone, has_time=False)


def render_digest(data: DigestData, *, limit: int = MAX_MESSAGE) -> tuple[str, bool]:
    """The digest message and whether it was cut (then the caller offers [Show all])."""
    day = data.local_day
    header = f"☀️ <b>Good morning — {day_label(day)}</b> ({data.zone.key})"
    footer = _yesterday(data)
    parts = [header]
    cut = False
    budget = limit - len(header) - len(footer) - _RESERVE
    for heading, lines in digest_sections(data):
        block = [f"\n<b>{heading}</b>"]
        shown = 0
        for line in lines:
            if sum(len(x) + 1 for x in block) + len(line) + 1 > budget:
                break
            block.append(line)
            shown += 1
        if shown < len(lines):
            block.append(f"… and {len(lines) - shown} more")
            cut = True
        text = "\n".join(block)
        budget -= len(text) + 1
        parts.append(text)
        if budget <= 0:
            cut = True
            break
    if len(parts) == 1:
        parts.append("\nNothing due today. 🎉")
    if footer:
        parts.append(footer)
    return "\n".join(parts), cut


def render_digest_push(
    data: DigestData, *, scheduled_for: datetime, sent_at: datetime, repeat: bool
) -> tuple[str, bool]:
    """The digest as pushed: render_digest, then "(due 07:30, sent late)" when it goes out
    more than LATE_AFTER after its time and "(repeat)" when it may have arrived before."""
    text, cut = render_digest(data)
    if sent_at - scheduled_for > LATE_AFTER:
        text += f"\n<i>(due {time_label(scheduled_for, data.zone)}, sent late)</i>"
    if repeat:
        text += "\n<i>(repeat)</i>"
    return text, cut


def render_digest_pages(data: DigestData, *, limit: int = MAX_MESSAGE) -> list[str]:
    """Everything in the digest, split into messages of at most `limit` characters."""
    pages: list[str] = []
    current = ""
    for heading, lines in digest_sections(data):
        for line in [f"<b>{heading}</b>", *lines]:
            if len(current) + len(line) + 1 > limit:
                pages.append(current)
                current = ""
            current = f"{current}\n{line}" if current else line
    if current:
        pages.append(current)
    return pages or ["Nothing due today."]


def _yesterday(data: DigestData) -> str:
    if not data.yesterday_total:
        return ""
    return f"\n📈 Yesterday: {data.yesterday_done} of {data.yesterday_total} tasks done on time"

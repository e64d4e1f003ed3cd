"""A task as a reply shows it: the one row type of the summaries after logging, the patient
card and the task lists (/today, /overdue, /week); the call list's lines, a list line edited
after [Done], what /done N closed, and a patient's next appointment and open referrals.

Services fill it from storage rows; renderers name it with ``bot.render.labels.task_name``.
Pure data: no telegram, no storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.render import labels
from bot.render.text import clip, day_label, esc, fit, when_label
from bot.vocab import TaskKind, TaskResolution


@dataclass(frozen=True)
class TaskLine:
    """One open (or just closed) task, plain and unescaped. ``has_time`` says the due moment is
    a time of day rather than the end of a day; ``patient_id`` and ``patient_name`` are set in
    lists that span patients; ``resolution`` says how a task that just closed met its
    deadline (a TCM contact "contacted late")."""

    id: int
    kind: TaskKind
    due_at: datetime
    title: str = ""
    has_time: bool = False
    attempts_documented: bool = False
    urgent: bool = False
    patient_id: int | None = None
    patient_name: str | None = None
    resolution: TaskResolution | None = None


# -- the call list, a list's edited line, what /done N closed ------------------------------------


class CallLine(Protocol):
    """A call list item (bot.services.lists.CallItem satisfies it)."""

    @property
    def patient_name(self) -> str: ...
    @property
    def kind(self) -> TaskKind: ...
    @property
    def deadline(self) -> datetime | None: ...
    @property
    def task_id(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    @property
    def risk(self) -> str: ...
    @property
    def last_reached_at(self) -> datetime | None: ...
    @property
    def cadence_days(self) -> int: ...


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def call_line(number: int, item: CallLine, zone: ZoneInfo, *, now: datetime) -> str:
    """'3. <b>Maria Lopez</b> · TCM contact · due Fri 27 Nov · 1 attempt so far'."""
    today = now.astimezone(zone).date()
    who = f"<b>{esc(clip(item.patient_name, 60))}</b>"
    if item.task_id is None:
        risk = labels.inline_label(labels.RISK, item.risk)
        last = (
            f"last reached {day_label(item.last_reached_at.astimezone(zone).date(), today=today)}"
            if item.last_reached_at is not None
            else "never reached"
        )
        return f"{number}. {who} · {risk} risk, every {item.cadence_days} d · {last}"
    parts = [f"{number}. {who}", labels.task_name(item.kind, item.title)]
    assert item.deadline is not None
    due = when_label(item.deadline, zone, today=today, has_time=False)
    parts.append(f"was due {due}" if item.deadline < now else f"due {due}")
    if item.kind == TaskKind.TCM_CONTACT:
        parts.append(f"{_plural(item.attempts, 'attempt')} so far")
    return " · ".join(parts)


def call_list(
    items: Sequence[CallLine],
    *,
    total: int,
    page: int,
    pages: int,
    first_number: int,
    zone: ZoneInfo,
    now: datetime,
) -> str:
    """Whom to call, soonest deadline first, one page."""
    if not items:
        return (
            "<b>Calls</b>\nNo calls due: no follow-ups today, no open TCM windows, and "
            "everyone is within their contact cadence."
        )
    head = f"<b>Calls</b>: {total}, soonest deadline first"
    if pages > 1:
        head += f" — page {page + 1} of {pages}"
    lines = [head]
    lines += [call_line(first_number + i, item, zone, now=now) for i, item in enumerate(items)]
    lines.append(f"<i>Times in {esc(zone.key)}. Tap a number, or send /done N.</i>")
    return fit("\n".join(lines))


def mark_line(text_html: str, number: int, note: str) -> str:
    """The list message with line `number` marked by `note` (the other lines as they were)."""
    lines = text_html.split("\n")
    prefix = f"{number}. "
    for i, line in enumerate(lines):
        if line.startswith(prefix):
            lines[i] = f"{line} — {note}"
            break
    return fit("\n".join(lines))


def closed_reply(number: int, task: TaskLine, view: str) -> str:
    """'✅ Done: 4. Follow-up · Maria Lopez' (what /done N closed)."""
    who = f" · <b>{esc(clip(task.patient_name, 60))}</b>" if task.patient_name else ""
    return f"✅ Done: {number}. {labels.task_name(task.kind, task.title)}{who} (from /{view})"


def snoozed_reply(number: int, task: TaskLine, view: str, until: datetime, zone: ZoneInfo) -> str:
    """'💤 4. Follow-up · Maria Lopez snoozed until Tue 24 Nov 14:00'."""
    who = f" · <b>{esc(clip(task.patient_name, 60))}</b>" if task.patient_name else ""
    return (
        f"💤 {number}. {labels.task_name(task.kind, task.title)}{who} snoozed until "
        f"{when_label(until, zone)} (from /{view})"
    )


# -- one patient's next appointment and open referrals ----------------------------------------


class NextAppointmentLine(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def has_time(self) -> bool: ...
    @property
    def with_whom(self) -> str: ...
    @property
    def location(self) -> str: ...


class ReferralLine(Protocol):
    @property
    def to_whom(self) -> str: ...
    @property
    def sent_on(self) -> date: ...
    @property
    def status(self) -> str: ...


def next_appointment(
    name: str, appointment: NextAppointmentLine | None, zone: ZoneInfo, *, now: datetime
) -> str:
    who = f"<b>{esc(clip(name, 60))}</b>"
    if appointment is None:
        return f"{who} has no upcoming appointment on file."
    today = now.astimezone(zone).date()
    when = when_label(appointment.at, zone, today=today, has_time=appointment.has_time)
    extra = [esc(clip(x, 60)) for x in (appointment.with_whom, appointment.location) if x]
    tail = f" — {', '.join(extra)}" if extra else ""
    return f"{who}'s next appointment: {when}{tail}\n<i>Times in {esc(zone.key)}.</i>"


def open_referrals(name: str, referrals: Sequence[ReferralLine]) -> str:
    who = f"<b>{esc(clip(name, 60))}</b>"
    if not referrals:
        return f"{who} has no open referrals."
    lines = [f"{who} has {_plural(len(referrals), 'open referral')}:"]
    for r in referrals:
        status = labels.inline_label(labels.REFERRAL_STATUS, r.status)
        lines.append(f"• {esc(clip(r.to_whom, 60))} — {status}, sent {day_label(r.sent_on)}")
    return "\n".join(lines)

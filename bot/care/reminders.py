"""Reminder timing: when to push about an appointment, quiet hours, business-day countdowns.

Owns the instants at which reminders are due (the day before at the nurse's digest time, and a
lead time before an appointment), whether a local time falls in quiet hours (which may wrap past
midnight, e.g. 21:00-07:00) and when they end, and "due in N business days" counts. Every instant
is aware UTC; wall times are naive local times in the given zone.

Pure: no clock reads (`now` is an argument), no I/O. Must not import telegram, storage,
sqlalchemy or handlers.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.care.calendar import BusinessCalendar
from bot.care.localtime import local_date, local_time_on, next_daily_occurrence, require_aware


def appointment_reminder_times(
    at: datetime,
    zone: ZoneInfo,
    digest_time: time,
    *,
    now: datetime,
    lead_hours: float = 2,
) -> list[datetime]:
    """Reminders for an appointment at `at`: the local day before at `digest_time`, and
    `lead_hours` before it; sorted, without duplicates, dropping those before `now`."""
    require_aware(at, "at")
    require_aware(now, "now")
    if lead_hours <= 0:
        raise ValueError(f"lead_hours must be positive, got {lead_hours}")
    day_before = local_time_on(local_date(at, zone) - timedelta(days=1), digest_time, zone)
    lead = at.astimezone(UTC) - timedelta(hours=lead_hours)
    return sorted({t for t in (day_before, lead) if now <= t < at})


def countdown_business_days(
    now: datetime, deadline: datetime, zone: ZoneInfo, calendar: BusinessCalendar
) -> int:
    """Business days from today to the deadline's local date, in `zone`: 0 when due today,
    1 for "due in 1 business day", negative when the date has passed.

    A deadline later today still counts 0; whether it is overdue is `now > deadline`.
    """
    today = local_date(now, zone)
    return calendar.business_days_between(today, local_date(deadline, zone))


def in_quiet_hours(now: datetime, zone: ZoneInfo, start: time, end: time) -> bool:
    """True when the local wall time at `now` is in [start, end); wraps past midnight when
    start > end. start == end means no quiet hours."""
    wall = require_aware(now, "now").astimezone(zone).time().replace(tzinfo=None)
    if start <= end:
        return start <= wall < end
    return wall >= start or wall < end


def quiet_hours_end(now: datetime, zone: ZoneInfo, start: time, end: time) -> datetime:
    """The first instant at or after `now` when pushes are allowed (aware UTC): the end of the
    current quiet hours, or `now` itself outside them."""
    if not in_quiet_hours(now, zone, start, end):
        return now.astimezone(UTC)
    return next_daily_occurrence(now, end, zone)

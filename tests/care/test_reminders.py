"""Reminder timing: appointment reminders, business-day countdowns, quiet hours."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.care.calendar import BusinessCalendar
from bot.care.reminders import (
    appointment_reminder_times,
    countdown_business_days,
    in_quiet_hours,
    quiet_hours_end,
)

CHICAGO = ZoneInfo("America/Chicago")
DIGEST = time(7, 30)
QUIET_START, QUIET_END = time(21, 0), time(7, 0)


def chicago(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("at", "now", "digest", "lead_hours", "expected"),
    [
        pytest.param(
            chicago(2026, 11, 24, 14),
            chicago(2026, 11, 23, 6),
            DIGEST,
            2,
            [chicago(2026, 11, 23, 7, 30), chicago(2026, 11, 24, 12)],
            id="both",
        ),
        pytest.param(
            chicago(2026, 11, 24, 14),
            chicago(2026, 11, 23, 8),
            DIGEST,
            2,
            [chicago(2026, 11, 24, 12)],
            id="digest-past",
        ),
        pytest.param(
            chicago(2026, 11, 24, 14),
            chicago(2026, 11, 24, 12),
            DIGEST,
            2,
            [chicago(2026, 11, 24, 12)],
            id="lead-exactly-now",
        ),
        pytest.param(
            chicago(2026, 11, 24, 14), chicago(2026, 11, 24, 13), DIGEST, 2, [], id="all-past"
        ),
        pytest.param(
            chicago(2026, 11, 24, 0, 30),
            chicago(2026, 11, 22),
            time(23, 0),
            2,
            [chicago(2026, 11, 23, 22, 30), chicago(2026, 11, 23, 23)],
            id="sorted-when-lead-comes-first",
        ),
        pytest.param(
            chicago(2026, 11, 24, 1),
            chicago(2026, 11, 22),
            time(23, 0),
            2,
            [chicago(2026, 11, 23, 23)],
            id="same-instant-once",
        ),
        pytest.param(
            chicago(2026, 3, 8, 3, 30),
            chicago(2026, 3, 6),
            DIGEST,
            2,
            [chicago(2026, 3, 7, 7, 30), chicago(2026, 3, 8, 0, 30)],  # 2 elapsed hours over DST
            id="lead-across-spring-forward",
        ),
        pytest.param(
            chicago(2026, 3, 9, 10),
            chicago(2026, 3, 6),
            time(2, 30),
            1.5,
            [datetime(2026, 3, 8, 8, tzinfo=UTC), chicago(2026, 3, 9, 8, 30)],  # 03:00 CDT
            id="digest-in-dst-gap",
        ),
    ],
)
def test_appointment_reminder_times(
    at: datetime, now: datetime, digest: time, lead_hours: float, expected: list[datetime]
) -> None:
    result = appointment_reminder_times(at, CHICAGO, digest, now=now, lead_hours=lead_hours)
    assert result == expected
    assert all(t.tzinfo is UTC for t in result)


def test_lead_must_be_positive() -> None:
    with pytest.raises(ValueError, match="lead_hours"):
        appointment_reminder_times(
            chicago(2026, 11, 24, 14), CHICAGO, DIGEST, now=chicago(2026, 11, 1), lead_hours=0
        )


CONTACT_DEADLINE = datetime.combine(date(2026, 11, 27), time.max, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(chicago(2026, 11, 24, 16), 2, id="discharge-day"),
        pytest.param(chicago(2026, 11, 25, 9), 1, id="wed-due-in-1-over-thanksgiving"),
        pytest.param(chicago(2026, 11, 25, 23, 30), 1, id="late-wed-is-still-wed"),
        pytest.param(chicago(2026, 11, 26, 9), 1, id="thanksgiving"),
        pytest.param(chicago(2026, 11, 27, 9), 0, id="due-today"),
        pytest.param(chicago(2026, 11, 28, 9), -1, id="saturday-after"),
        pytest.param(chicago(2026, 11, 30, 9), -1, id="monday-after"),
        pytest.param(chicago(2026, 12, 1, 9), -2, id="tuesday-after"),
    ],
)
def test_countdown_business_days(
    us_calendar: BusinessCalendar, now: datetime, expected: int
) -> None:
    assert countdown_business_days(now, CONTACT_DEADLINE, CHICAGO, us_calendar) == expected


@pytest.mark.parametrize(
    ("local", "start", "end", "expected"),
    [
        (time(20, 59), QUIET_START, QUIET_END, False),
        (time(21, 0), QUIET_START, QUIET_END, True),
        (time(23, 59), QUIET_START, QUIET_END, True),
        (time(0, 0), QUIET_START, QUIET_END, True),
        (time(6, 59), QUIET_START, QUIET_END, True),
        (time(7, 0), QUIET_START, QUIET_END, False),
        (time(12, 0), QUIET_START, QUIET_END, False),
        (time(12, 30), time(12, 0), time(13, 0), True),  # not wrapping
        (time(13, 0), time(12, 0), time(13, 0), False),
        (time(11, 59), time(12, 0), time(13, 0), False),
        (time(3, 0), time(7, 0), time(7, 0), False),  # start == end: no quiet hours
    ],
)
def test_in_quiet_hours(local: time, start: time, end: time, expected: bool) -> None:
    now = datetime.combine(date(2026, 6, 10), local, tzinfo=CHICAGO).astimezone(UTC)
    assert in_quiet_hours(now, CHICAGO, start, end) is expected


@pytest.mark.parametrize(
    ("now", "end", "expected"),
    [
        pytest.param(chicago(2026, 6, 10, 23), QUIET_END, chicago(2026, 6, 11, 7), id="evening"),
        pytest.param(chicago(2026, 6, 11, 5), QUIET_END, chicago(2026, 6, 11, 7), id="morning"),
        pytest.param(chicago(2026, 6, 11, 12), QUIET_END, chicago(2026, 6, 11, 12), id="not-quiet"),
        pytest.param(
            chicago(2026, 10, 31, 22),
            QUIET_END,
            datetime(2026, 11, 1, 13, tzinfo=UTC),  # 07:00 CST, ten hours after 22:00 CDT
            id="over-fall-back",
        ),
        pytest.param(
            chicago(2026, 3, 7, 22),
            time(2, 30),
            datetime(2026, 3, 8, 8, tzinfo=UTC),  # 02:30 does not exist: 03:00 CDT
            id="end-in-spring-gap",
        ),
        pytest.param(
            chicago(2026, 12, 31, 22), QUIET_END, chicago(2027, 1, 1, 7), id="over-new-year"
        ),
    ],
)
def test_quiet_hours_end(now: datetime, end: time, expected: datetime) -> None:
    result = quiet_hours_end(now, CHICAGO, QUIET_START, end)
    assert result == expected
    assert result.tzinfo is UTC


NAIVE = datetime(2026, 11, 24, 9)  # noqa: DTZ001 - deliberately naive
AWARE = chicago(2026, 11, 24, 9)


@pytest.mark.parametrize(
    "call",
    [
        lambda cal: appointment_reminder_times(NAIVE, CHICAGO, DIGEST, now=AWARE),
        lambda cal: appointment_reminder_times(AWARE, CHICAGO, DIGEST, now=NAIVE),
        lambda cal: countdown_business_days(NAIVE, CONTACT_DEADLINE, CHICAGO, cal),
        lambda cal: countdown_business_days(AWARE, NAIVE, CHICAGO, cal),
        lambda cal: in_quiet_hours(NAIVE, CHICAGO, QUIET_START, QUIET_END),
        lambda cal: quiet_hours_end(NAIVE, CHICAGO, QUIET_START, QUIET_END),
    ],
)
def test_naive_rejected(
    us_calendar: BusinessCalendar, call: Callable[[BusinessCalendar], object]
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(us_calendar)

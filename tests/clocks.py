"""The time tests run at: one start instant, optionally moved to another time of day.

`pytest --clock-at HH:MM` (America/Chicago) moves the default start (`START`, the `clock`
fixture's) to that local time on the same day, and anchors the running clock of the tests that
time real waits (APScheduler wake-ups) at it too. No test reads the wall clock for "now".
"""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHICAGO = ZoneInfo("America/Chicago")
# Mon 23 Nov 2026, 10:15 in America/Chicago.
BASE_START = datetime(2026, 11, 23, 16, 15, tzinfo=UTC)


def parse_clock_at(value: str) -> time:
    """ "HH:MM" as a local time; ValueError otherwise."""
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"--clock-at: expected HH:MM, got {value!r}")
    return time(int(hours), int(minutes))


def start_at(local: time | None, *, base: datetime = BASE_START) -> datetime:
    """`base` moved to `local` (America/Chicago) on its own local day; `base` when None."""
    if local is None:
        return base
    day = base.astimezone(CHICAGO).date()
    return datetime.combine(day, local, tzinfo=CHICAGO).astimezone(UTC)


class RunningClock:
    """A clock that starts at a chosen instant and then runs at the speed of real time: for
    the few tests that time real waits (timers) without depending on the hour they run at."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("RunningClock needs an aware datetime")
        self._start = start.astimezone(UTC)
        self._t0 = _time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=_time.monotonic() - self._t0)

    def set(self, when: datetime) -> None:
        """Jump to `when` and run on from there."""
        self._start = when.astimezone(UTC)
        self._t0 = _time.monotonic()

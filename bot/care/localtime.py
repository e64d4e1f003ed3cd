"""Local wall-clock times in a nurse's zone <-> aware UTC instants, across DST gaps and folds.

Owns the one rule for turning "this local date at this local time" into an instant: a time that
does not exist (spring-forward gap) moves forward to the first instant after the gap; a time that
happens twice (fall-back fold) means its first occurrence. Also owns the refusal of naive
datetimes, the start and end of a local day, and the next daily occurrence of a wall time.

Every instant returned is aware UTC. Pure: no clock reads (`now` is an argument), no I/O. Must not
import telegram, storage, sqlalchemy or handlers.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)


def require_aware(value: datetime, name: str = "datetime") -> datetime:
    """Return `value` unchanged if it is timezone-aware; raise ValueError if it is naive."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value


def require_date(value: object, name: str = "day") -> date:
    """Return `value` if it is a date and not a datetime; raise TypeError otherwise."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date (not a datetime), got {type(value).__name__}")
    return value


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    """The calendar date in `zone` at `instant`."""
    return require_aware(instant, "instant").astimezone(zone).date()


def local_time_on(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The instant (aware UTC) when clocks in `zone` show `wall` on `day`.

    In a DST gap the result is the first valid instant after the gap (02:30 on a spring-forward
    night in America/Chicago -> 03:00 CDT); in a fold it is the first occurrence (fold=0).
    """
    if wall.tzinfo is not None:
        raise ValueError("wall must be a naive local time; the zone is given separately")
    naive = datetime.combine(day, wall.replace(fold=0))
    instant = naive.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant
    return _end_of_gap(naive, zone)


def start_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """The first instant (aware UTC) of `day` in `zone`."""
    return local_time_on(day, time(0), zone)


def end_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """The last instant (aware UTC) of `day` in `zone`: 23:59:59.999999 local on a usual day."""
    return start_of_local_day(day + _ONE_DAY, zone) - _ONE_MICROSECOND


def next_daily_occurrence(after: datetime, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant strictly after `after` when `zone` shows `wall` (aware UTC).

    One occurrence per local date, DST or not: a skipped wall time happens at the end of the
    gap, a repeated one only at its first occurrence.
    """
    day = local_date(after, zone) - _ONE_DAY
    while (candidate := local_time_on(day, wall, zone)) <= after:
        day += _ONE_DAY
    return candidate


def _end_of_gap(naive: datetime, zone: ZoneInfo) -> datetime:
    """The first instant after the DST gap that swallowed the local time `naive`.

    With fold=1 a gap time is read with the offset after the transition, which gives an instant
    before it; with fold=0, with the offset before, which gives one after. The transition lies
    between; zone transitions fall on whole seconds, so a bisection over seconds finds it.
    """
    before = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    offset_after = after.astimezone(zone).utcoffset()
    low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
    while low < high:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle + 1
    return datetime.fromtimestamp(low, UTC)

"""Local wall times -> aware UTC: DST gaps move forward, folds take the first occurrence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.care.localtime import (
    end_of_local_day,
    local_date,
    local_time_on,
    next_daily_occurrence,
    require_aware,
    start_of_local_day,
)

CHICAGO = ZoneInfo("America/Chicago")
LONDON = ZoneInfo("Europe/London")
SANTIAGO = ZoneInfo("America/Santiago")  # DST changes at midnight
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # half-hour DST shift


@pytest.mark.parametrize(
    ("day", "wall", "zone", "expected_utc"),
    [
        pytest.param(
            date(2026, 6, 1), time(9, 0), CHICAGO, datetime(2026, 6, 1, 14, tzinfo=UTC), id="summer"
        ),
        pytest.param(
            date(2026, 1, 5), time(9, 0), CHICAGO, datetime(2026, 1, 5, 15, tzinfo=UTC), id="winter"
        ),
        pytest.param(
            date(2026, 3, 8),
            time(2, 30),
            CHICAGO,
            datetime(2026, 3, 8, 8, tzinfo=UTC),
            id="gap-0230-to-0300-cdt",
        ),
        pytest.param(
            date(2026, 3, 8),
            time(2, 0),
            CHICAGO,
            datetime(2026, 3, 8, 8, tzinfo=UTC),
            id="gap-start",
        ),
        pytest.param(
            date(2026, 3, 8),
            time(2, 59, 59, 999999),
            CHICAGO,
            datetime(2026, 3, 8, 8, tzinfo=UTC),
            id="gap-last-microsecond",
        ),
        pytest.param(
            date(2026, 3, 8),
            time(3, 0),
            CHICAGO,
            datetime(2026, 3, 8, 8, tzinfo=UTC),
            id="gap-end-exists",
        ),
        pytest.param(
            date(2026, 3, 8),
            time(1, 59),
            CHICAGO,
            datetime(2026, 3, 8, 7, 59, tzinfo=UTC),
            id="before-gap",
        ),
        pytest.param(
            date(2026, 11, 1),
            time(1, 30),
            CHICAGO,
            datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
            id="fold-first-occurrence-cdt",
        ),
        pytest.param(
            date(2026, 3, 29),
            time(1, 30),
            LONDON,
            datetime(2026, 3, 29, 1, tzinfo=UTC),
            id="london-gap",
        ),
        pytest.param(
            date(2026, 9, 6),
            time(0, 0),
            SANTIAGO,
            datetime(2026, 9, 6, 4, tzinfo=UTC),
            id="midnight-gap",
        ),
        pytest.param(
            date(2026, 10, 4),
            time(2, 15),
            LORD_HOWE,
            datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
            id="half-hour-gap",
        ),
    ],
)
def test_local_time_on(day: date, wall: time, zone: ZoneInfo, expected_utc: datetime) -> None:
    result = local_time_on(day, wall, zone)
    assert result == expected_utc
    assert result.tzinfo is UTC


def test_gap_time_lands_on_cdt_wall_clock() -> None:
    local = local_time_on(date(2026, 3, 8), time(2, 30), CHICAGO).astimezone(CHICAGO)
    assert (local.time(), local.tzname()) == (time(3, 0), "CDT")


def test_aware_wall_time_rejected() -> None:
    with pytest.raises(ValueError, match="naive local time"):
        local_time_on(date(2026, 3, 8), time(9, tzinfo=UTC), CHICAGO)


@pytest.mark.parametrize(
    ("day", "zone", "start_local", "end_offset"),
    [
        pytest.param(date(2026, 6, 1), CHICAGO, "2026-06-01T00:00-05:00", "-05:00", id="summer"),
        pytest.param(date(2026, 3, 8), CHICAGO, "2026-03-08T00:00-06:00", "-05:00", id="spring"),
        pytest.param(date(2026, 11, 1), CHICAGO, "2026-11-01T00:00-05:00", "-06:00", id="fall"),
        pytest.param(date(2026, 9, 5), SANTIAGO, "2026-09-05T00:00-04:00", "-04:00", id="eve"),
        pytest.param(date(2026, 9, 6), SANTIAGO, "2026-09-06T01:00-03:00", "-03:00", id="gap"),
    ],
)
def test_local_day_bounds(day: date, zone: ZoneInfo, start_local: str, end_offset: str) -> None:
    """A day starts at its first valid instant and ends at 23:59:59.999999 local."""
    assert start_of_local_day(day, zone) == datetime.fromisoformat(start_local)
    expected_end = datetime.fromisoformat(f"{day.isoformat()}T23:59:59.999999{end_offset}")
    assert end_of_local_day(day, zone) == expected_end


@pytest.mark.parametrize(
    "wall", [time(0, 0), time(1, 30), time(2, 0), time(2, 30), time(7, 30), time(23, 59)]
)
@pytest.mark.parametrize("first_day", [date(2026, 3, 6), date(2026, 10, 30)])
def test_next_daily_occurrence_once_per_local_day_across_dst(first_day: date, wall: time) -> None:
    after = start_of_local_day(first_day, CHICAGO) - timedelta(microseconds=1)
    occurrences = []
    for _ in range(5):
        after = next_daily_occurrence(after, wall, CHICAGO)
        occurrences.append(after)
    assert [local_date(t, CHICAGO) for t in occurrences] == [
        first_day + timedelta(days=i) for i in range(5)
    ]
    for instant in occurrences:
        assert instant == local_time_on(local_date(instant, CHICAGO), wall, CHICAGO)
        assert instant.tzinfo is UTC


@pytest.mark.parametrize(
    ("after_local", "wall", "expected_local"),
    [
        ("2026-03-07T07:29:00-06:00", time(7, 30), "2026-03-07T07:30:00-06:00"),
        ("2026-03-07T07:30:00-06:00", time(7, 30), "2026-03-08T07:30:00-05:00"),  # not itself
        ("2026-03-07T23:00:00-06:00", time(2, 30), "2026-03-08T03:00:00-05:00"),  # gap -> 03:00
        ("2026-03-08T03:00:00-05:00", time(2, 30), "2026-03-09T02:30:00-05:00"),
        ("2026-11-01T01:30:00-05:00", time(1, 30), "2026-11-02T01:30:00-06:00"),  # no double
        ("2026-11-01T01:10:00-06:00", time(1, 30), "2026-11-02T01:30:00-06:00"),  # 2nd pass
        ("2026-12-31T23:00:00-06:00", time(7, 0), "2027-01-01T07:00:00-06:00"),
    ],
)
def test_next_daily_occurrence(after_local: str, wall: time, expected_local: str) -> None:
    result = next_daily_occurrence(datetime.fromisoformat(after_local), wall, CHICAGO)
    assert result == datetime.fromisoformat(expected_local)


@pytest.mark.parametrize(
    "call",
    [
        lambda: require_aware(datetime(2026, 3, 8, 9)),  # noqa: DTZ001 - deliberately naive
        lambda: local_date(datetime(2026, 3, 8, 9), CHICAGO),  # noqa: DTZ001
        lambda: next_daily_occurrence(datetime(2026, 3, 8, 9), time(7), CHICAGO),  # noqa: DTZ001
    ],
)
def test_naive_datetimes_rejected(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()

"""Business days: US federal holidays, weekends, extra dates, arithmetic across year ends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.care.calendar import FRIDAY, SATURDAY, BusinessCalendar, HolidaySpec

US = BusinessCalendar(HolidaySpec(country="US"))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 25), True),  # Wednesday before Thanksgiving
        (date(2026, 11, 26), False),  # Thanksgiving
        (date(2026, 11, 27), True),  # day after Thanksgiving: not a federal holiday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 11, 29), False),  # Sunday
        (date(2026, 7, 3), False),  # Independence Day (observed), Friday
        (date(2026, 12, 31), True),
        (date(2027, 1, 1), False),  # New Year's Day
        (date(2027, 12, 31), False),  # New Year's Day 2028 observed on Friday
        (date(2028, 1, 3), True),
    ],
)
def test_is_business_day_us(day: date, expected: bool) -> None:
    assert US.is_business_day(day) is expected


def test_us_calendar_knows_thanksgiving() -> None:
    assert US.holiday_name(date(2026, 11, 26)) == "Thanksgiving Day"
    assert US.holiday_name(date(2026, 11, 27)) is None


@pytest.mark.parametrize(
    ("spec", "day", "expected"),
    [
        (HolidaySpec("US", "TX"), date(2026, 3, 2), False),  # Texas Independence Day
        (HolidaySpec("US"), date(2026, 3, 2), True),
        (HolidaySpec("US", extra_dates=frozenset({date(2026, 12, 24)})), date(2026, 12, 24), False),
        (HolidaySpec("US", weekend=frozenset({FRIDAY, SATURDAY})), date(2026, 11, 20), False),
        (HolidaySpec("US", weekend=frozenset({FRIDAY, SATURDAY})), date(2026, 11, 22), True),
    ],
)
def test_is_business_day_spec(spec: HolidaySpec, day: date, expected: bool) -> None:
    assert BusinessCalendar(spec).is_business_day(day) is expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 11, 24), 2, date(2026, 11, 27)),  # Tue, over Thanksgiving -> Fri
        (date(2026, 11, 20), 2, date(2026, 11, 24)),  # Fri -> Tue
        (date(2026, 11, 21), 2, date(2026, 11, 24)),  # Sat -> Tue
        (date(2026, 11, 22), 1, date(2026, 11, 23)),  # Sun -> Mon
        (date(2026, 12, 31), 2, date(2027, 1, 5)),  # over New Year's Day and a weekend
        (date(2027, 12, 30), 2, date(2028, 1, 4)),  # over the observed holiday on Dec 31
        (date(2026, 11, 28), 0, date(2026, 11, 28)),  # zero: unchanged, even on a Saturday
        (date(2026, 11, 30), -2, date(2026, 11, 25)),  # backwards over Thanksgiving
    ],
)
def test_add_business_days(start: date, n: int, expected: date) -> None:
    assert US.add_business_days(start, n) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 11, 24), date(2026, 11, 27), 2),
        (date(2026, 11, 24), date(2026, 11, 24), 0),
        (date(2026, 11, 27), date(2026, 11, 30), 1),  # Fri -> Mon
        (date(2026, 11, 27), date(2026, 11, 29), 0),  # Fri -> Sun
        (date(2026, 11, 27), date(2026, 11, 24), -2),  # back over Thanksgiving: Wed, Tue
        (date(2026, 11, 30), date(2026, 11, 27), -1),  # Mon back to Fri
        (date(2026, 11, 28), date(2026, 11, 27), -1),  # Sat back to Fri
        (date(2027, 1, 1), date(2026, 12, 31), -1),  # holiday back to the last business day
        (date(2026, 12, 31), date(2027, 1, 5), 2),
    ],
)
def test_business_days_between(start: date, end: date, expected: int) -> None:
    assert US.business_days_between(start, end) == expected


@settings(deadline=None)  # the first call in a year loads that year's holidays
@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    n=st.integers(min_value=-40, max_value=40),
)
def test_between_inverts_add(start: date, n: int) -> None:
    assert US.business_days_between(start, US.add_business_days(start, n)) == n


def test_holidays_loaded_once_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = holidays.country_holidays

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("years"))
        return real(*args, **kwargs)

    monkeypatch.setattr(holidays, "country_holidays", counting)
    calendar = BusinessCalendar(HolidaySpec("US"))
    for day in range(1, 29):
        calendar.is_business_day(date(2026, 2, day))
    calendar.is_business_day(date(2027, 2, 1))
    assert len([years for years in calls if years is not None]) == 2


def test_from_config_reads_iso_strings() -> None:
    spec = HolidaySpec.from_config("US", "", ["2026-12-24"])
    assert spec.subdivision is None
    assert spec.extra_dates == frozenset({date(2026, 12, 24)})
    assert not BusinessCalendar(spec).is_business_day(date(2026, 12, 24))


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(lambda: HolidaySpec(weekend=frozenset({7})), id="weekday-out-of-range"),
        pytest.param(lambda: HolidaySpec(weekend=frozenset(range(7))), id="all-week-weekend"),
        pytest.param(lambda: BusinessCalendar(HolidaySpec("XX")), id="unknown-country"),
        pytest.param(lambda: BusinessCalendar(HolidaySpec("US", "ZZ")), id="unknown-subdivision"),
    ],
)
def test_bad_specs_rejected(spec: Callable[[], object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by case
        spec()


@pytest.mark.parametrize(
    "call",
    [
        lambda: US.is_business_day(datetime(2026, 11, 24, tzinfo=UTC)),
        lambda: US.add_business_days(datetime(2026, 11, 24, tzinfo=UTC), 1),
        lambda: US.business_days_between(date(2026, 11, 24), "2026-11-27"),  # type: ignore[arg-type]
    ],
)
def test_non_dates_rejected(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="must be a date"):
        call()

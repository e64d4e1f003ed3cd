"""Business days: which local dates count, and arithmetic over them.

Owns `HolidaySpec` (a country's public holidays from the `holidays` library, an optional
subdivision, extra organisation holidays, the weekend days) and `BusinessCalendar`, which answers
"is this a business day", "the nth business day after", "how many business days between". Dates
here are local calendar dates in the nurse's zone; converting instants to dates is the caller's.

Pure: no clock reads, no I/O. Must not import telegram, storage, sqlalchemy or handlers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import holidays

from bot.care.localtime import require_date

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
DEFAULT_WEEKEND = frozenset({SATURDAY, SUNDAY})
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class HolidaySpec:
    """Which dates are not business days: a holiday calendar, extra dates and the weekend.

    `weekend` holds weekday numbers (Monday 0 .. Sunday 6). An empty `subdivision` means none.
    """

    country: str = "US"
    subdivision: str | None = None
    extra_dates: frozenset[date] = field(default_factory=frozenset)
    weekend: frozenset[int] = DEFAULT_WEEKEND

    def __post_init__(self) -> None:
        object.__setattr__(self, "subdivision", self.subdivision or None)
        object.__setattr__(self, "extra_dates", frozenset(self.extra_dates))
        object.__setattr__(self, "weekend", frozenset(self.weekend))
        for day in self.extra_dates:
            require_date(day, "extra holiday")
        if not all(isinstance(d, int) and 0 <= d <= 6 for d in self.weekend):
            raise ValueError(f"weekend days must be weekday numbers 0-6, got {set(self.weekend)}")
        if len(self.weekend) == 7:
            raise ValueError("weekend cannot cover the whole week")

    @classmethod
    def from_config(
        cls,
        country: str,
        subdivision: str = "",
        extra_dates: Iterable[str | date] = (),
        weekend: Iterable[int] = DEFAULT_WEEKEND,
    ) -> HolidaySpec:
        """Build from configuration values; extra dates may be "YYYY-MM-DD" strings."""
        extra = frozenset(
            day if isinstance(day, date) else date.fromisoformat(day) for day in extra_dates
        )
        return cls(country, subdivision or None, extra, frozenset(weekend))


class BusinessCalendar:
    """Business-day arithmetic over local dates, with holidays looked up once per year."""

    def __init__(self, spec: HolidaySpec) -> None:
        try:
            holidays.country_holidays(spec.country, subdiv=spec.subdivision)
        except (NotImplementedError, KeyError) as exc:
            raise ValueError(
                f"unknown holiday calendar {spec.country!r}/{spec.subdivision!r}: {exc}"
            ) from None
        self.spec = spec
        self._by_year: dict[int, dict[date, str]] = {}

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.spec!r})"

    def holiday_name(self, day: date) -> str | None:
        """The holiday's name if `day` is a holiday (weekends aside), else None."""
        require_date(day)
        return self._holidays_in(day.year).get(day)

    def is_business_day(self, day: date) -> bool:
        """True unless `day` falls on a weekend day or a holiday."""
        require_date(day)
        return day.weekday() not in self.spec.weekend and day not in self._holidays_in(day.year)

    def add_business_days(self, start: date, n: int) -> date:
        """The nth business day after `start` (before it when n < 0); `start` is not counted.

        n == 0 returns `start` unchanged, business day or not.
        """
        require_date(start)
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        day, remaining = start, abs(n)
        while remaining:
            day += step
            if self.is_business_day(day):
                remaining -= 1
        return day

    def business_days_between(self, start: date, end: date) -> int:
        """Signed business-day steps from `start` to `end`, the inverse of add_business_days.

        Forward it counts business days in (start, end]; backward, minus those in [end, start).
        So `business_days_between(d, add_business_days(d, n)) == n` for every n.
        """
        require_date(start)
        require_date(end)
        if end < start:
            return -self._count(end, (start - end).days)
        return self._count(start + _ONE_DAY, (end - start).days)

    def _count(self, first: date, days: int) -> int:
        """Business days among the `days` dates from `first` on."""
        return sum(self.is_business_day(first + timedelta(days=i)) for i in range(days))

    def _holidays_in(self, year: int) -> dict[date, str]:
        cached = self._by_year.get(year)
        if cached is None:
            cached = self._load_year(year)
            self._by_year[year] = cached
        return cached

    def _load_year(self, year: int) -> dict[date, str]:
        # Neighbouring years too: an observed holiday can fall in the year before its own
        # (New Year's Day on a Saturday is observed on Friday 31 December).
        calendar = holidays.country_holidays(
            self.spec.country, subdiv=self.spec.subdivision, years=range(year - 1, year + 2)
        )
        found = {day: str(name) for day, name in calendar.items() if day.year == year}
        for day in self.spec.extra_dates:
            if day.year == year:
                found.setdefault(day, "organisation holiday")
        return found

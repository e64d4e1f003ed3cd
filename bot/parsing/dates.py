"""Read the dates and times found in a nurse's message as days and moments.

Owns: ``DateReader``, which reads each fragment found by bot.parsing.date_fragments relative to
one moment in one zone with her day/month order: relative ones ("tomorrow", "Wed", "in 2 wks",
"EOM", "the 14th", "thanksgiving") by exact calendar arithmetic, calendar dates ("Dec 3rd",
"12/3") through dateparser with explicit formats; it validates the result, composes date + time
in the nurse's zone and converts to aware UTC, and flags a weekday that disagrees with its date.
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.

Why not ``dateparser.search_dates`` on the whole text: it is slow (tens of ms, seconds on long
input) and reads "99" as 2099, "on friday at 10" as October, swaps day/month silently and accepts
times that do not exist on a DST change. Here the input is capped, fragments are <= 64 chars and
at most ``MAX_FRAGMENTS``, the day/month order is the nurse's, and gap times are shifted and
flagged.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays
from dateparser.date import DateDataParser

from bot.parsing.date_fragments import (
    MONTHS,
    WEEKDAY_KEYS,
    WEEKDAYS,
    ClockTime,
    DateFragment,
    DayForm,
    find_fragments,
)
from bot.parsing.intents import When
from bot.vocab import DateOrder

Prefer = Literal["future", "past"]

MAX_YEARS_AHEAD = 2
MAX_YEARS_BACK = 2


@lru_cache(maxsize=16)
def _calendar_parser(base: datetime, prefer: Prefer, order: DateOrder) -> DateDataParser:
    """A DateDataParser for one (relative base, preference, date order); built once each."""
    return DateDataParser(
        languages=["en"],
        settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": prefer,
            "DATE_ORDER": order,
            "RETURN_AS_TIMEZONE_AWARE": False,
            "PREFER_DAY_OF_MONTH": "first",
        },
    )


class DateReader:
    """Reads date fragments relative to one moment in one zone with one day/month order."""

    def __init__(self, *, now: datetime, zone: ZoneInfo, date_order: DateOrder = "MDY") -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.zone = zone
        self.now_local = now.astimezone(zone)
        self.today = self.now_local.date()
        self.date_order = date_order

    # -- scanning ------------------------------------------------------------------------

    def fragments(self, text: str) -> list[DateFragment]:
        """Date/time fragments in reading order, times attached to the day next to them."""
        return find_fragments(text)

    # -- checking ------------------------------------------------------------------------

    def weekday_conflict(self, fragment: DateFragment, prefer: Prefer) -> tuple[When, When] | None:
        """For "fri 12/3" when 12/3 is a Thursday: (the date as written, the weekday's date).
        None when they agree or no weekday was written."""
        if fragment.weekday is None:
            return None
        by_date = self.resolve(fragment, prefer)
        if by_date is None:
            return None
        day = by_date.local_date(self.zone)
        if day.weekday() == fragment.weekday:
            return None
        by_weekday = self.resolve(
            DateFragment(DayForm.WEEKDAY, fragment.start, fragment.end, fragment.text,
                         (WEEKDAY_KEYS[fragment.weekday], ""), fragment.clock),
            prefer,
        )  # fmt: skip
        return (by_date, by_weekday) if by_weekday is not None else None

    def next_weekday_readings(self, fragment: DateFragment) -> tuple[When, When] | None:
        """For "next wed" said when this week's Wednesday is still ahead: (the coming one,
        next week's). None when both readings are the same day."""
        if fragment.form is not DayForm.WEEKDAY or fragment.parts[1] != "next":
            return None
        weekday = WEEKDAYS[fragment.parts[0]]
        if weekday <= self.today.weekday():
            return None
        coming = DateFragment(
            DayForm.WEEKDAY, fragment.start, fragment.end, fragment.text,
            (fragment.parts[0], "following"), fragment.clock,
        )  # fmt: skip
        first, second = self.resolve(fragment, "future"), self.resolve(coming, "future")
        if first is None or second is None:
            return None
        return first, second

    # -- resolving -----------------------------------------------------------------------

    def resolve(self, fragment: DateFragment, prefer: Prefer) -> When | None:
        """The fragment as an aware UTC moment, or None if it is not a valid, plausible date."""
        if fragment.form is DayForm.IN and fragment.parts[1].startswith("h"):
            return self._in_hours(int(fragment.parts[0]))
        day = self._resolve_day(fragment, prefer)
        if day is None or not self._plausible(day):
            return None
        if fragment.clock is None:
            return When(at=self._local_midnight(day), has_time=False)
        hour = _hour_24(fragment.clock, evening=fragment.form is DayForm.TONIGHT)
        moment, shifted = _localise(
            datetime.combine(day, time(hour, fragment.clock.minute)), self.zone
        )
        return When(at=moment.astimezone(UTC), has_time=True, dst_shifted=shifted)

    def resolve_day(self, fragment: DateFragment, prefer: Prefer) -> date | None:
        """Just the local calendar day of the fragment."""
        when = self.resolve(fragment, prefer)
        return when.local_date(self.zone) if when is not None else None

    def _resolve_day(self, fragment: DateFragment, prefer: Prefer) -> date | None:
        form, parts = fragment.form, fragment.parts
        if form in (DayForm.MONTH_NAME, DayForm.NUMERIC, DayForm.ISO):
            return self._calendar_day(fragment, prefer)
        if form is DayForm.WEEKDAY:
            return self._weekday(WEEKDAYS[parts[0]], parts[1], prefer)
        if form is DayForm.TIME_ONLY:
            return self._time_only_day(fragment, prefer)
        if form is DayForm.HOLIDAY:
            return _holiday(parts[0], self.today, prefer)
        if form is DayForm.DAY_OF_MONTH:
            return _day_of_month(int(parts[0]), self.today, prefer)
        return self._relative_day(form, parts)

    def _relative_day(self, form: DayForm, parts: tuple[str, ...]) -> date | None:
        today = self.today
        if form in (DayForm.IN, DayForm.SPAN, DayForm.AGO):
            sign = -1 if form is DayForm.AGO else 1
            return _add_span(today, sign * int(parts[0]), parts[1])
        simple = {
            DayForm.TODAY: today,
            DayForm.TONIGHT: today,
            DayForm.TOMORROW: today + timedelta(days=1),
            DayForm.YESTERDAY: today - timedelta(days=1),
            DayForm.END_OF_WEEK: _end_of_week(today),
            DayForm.END_OF_MONTH: _end_of_month(today),
        }
        if form in simple:
            return simple[form]
        if form is DayForm.NEXT_SPAN:
            if parts[0] == "w":
                return today + timedelta(days=7 - today.weekday())  # Monday of next week
            return _add_span(today, 1, parts[0])
        if form is DayForm.PART_OF_DAY:
            return self._part_of_day(parts[0])
        return None

    def _part_of_day(self, part: str) -> date:
        """'in the AM' means tomorrow morning (unless it is still early); 'in the PM' today."""
        hour = self.now_local.hour
        if part in ("am", "morning"):
            return self.today if hour < 6 else self.today + timedelta(days=1)
        return self.today if hour < 17 else self.today + timedelta(days=1)

    def _weekday(self, weekday: int, qualifier: str, prefer: Prefer) -> date:
        today = self.today
        if qualifier == "last" or (
            prefer == "past" and qualifier not in ("next", "this", "coming")
        ):
            back = (today.weekday() - weekday) % 7 or 7
            return today - timedelta(days=back)
        ahead = (weekday - today.weekday()) % 7 or 7
        if qualifier == "following":
            start_of_next_week = today + timedelta(days=7 - today.weekday())
            return start_of_next_week + timedelta(days=weekday)
        # "next Friday" reads as the coming one; when next week's could be meant too, the
        # parser reads it back (next_weekday_readings)
        return today + timedelta(days=ahead)

    def _time_only_day(self, fragment: DateFragment, prefer: Prefer) -> date:
        """A bare time ('f/u 3pm') is the nearest such moment ahead (or behind, for the past)."""
        assert fragment.clock is not None
        hour = _hour_24(fragment.clock, evening=False)
        later_today = (hour, fragment.clock.minute) > (self.now_local.hour, self.now_local.minute)
        if prefer == "future":
            return self.today if later_today else self.today + timedelta(days=1)
        return self.today - timedelta(days=1) if later_today else self.today

    def _calendar_day(self, fragment: DateFragment, prefer: Prefer) -> date | None:
        """Month/day (and maybe year) through dateparser with explicit formats, then the year.

        dateparser's format path fills a missing year from RELATIVE_BASE without applying
        PREFER_DATES_FROM, so the year is chosen here: the nearest one in the wanted direction.
        """
        canonical, formats, year_given = self._canonical(fragment)
        if canonical is None:
            return None
        base = self.now_local.replace(tzinfo=None, second=0, microsecond=0)
        parsed = _calendar_parser(base, prefer, self.date_order).get_date_data(
            canonical, date_formats=formats
        )
        if parsed.date_obj is None:
            return None
        found: date = parsed.date_obj.date()
        if (found.month, found.day) != self._written_month_day(fragment):
            return None  # dateparser fell back to another reading (e.g. swapped day/month)
        if year_given:
            return found
        return _nearest_year(found.month, found.day, self.today, prefer)

    def _written_month_day(self, fragment: DateFragment) -> tuple[int, int]:
        """Month and day exactly as the nurse wrote them, in her day/month order."""
        parts = fragment.parts
        if fragment.form is DayForm.ISO:
            return int(parts[1]), int(parts[2])
        if fragment.form is DayForm.MONTH_NAME:
            return MONTHS[parts[0]], int(parts[1])
        first, second = int(parts[0]), int(parts[1])
        return (first, second) if self.date_order == "MDY" else (second, first)

    def _canonical(self, fragment: DateFragment) -> tuple[str | None, list[str], bool]:
        """The fragment rewritten as 'Dec 3 [2026]' / '12/3[/26]' / ISO, with its formats."""
        parts = fragment.parts
        if fragment.form is DayForm.ISO:
            return "-".join(parts), ["%Y-%m-%d"], True
        if fragment.form is DayForm.MONTH_NAME:
            month, day, year = parts
            text = f"{month.capitalize()} {day} {year}".strip()
            return text, ["%b %d %Y" if year else "%b %d"], bool(year)
        first, second, year = parts
        month_first = self.date_order == "MDY"
        fmt = "%m/%d" if month_first else "%d/%m"
        if not year:
            return f"{first}/{second}", [fmt], False
        return f"{first}/{second}/{year}", [f"{fmt}/%Y" if len(year) == 4 else f"{fmt}/%y"], True

    def _in_hours(self, hours: int) -> When | None:
        """'in 2 hrs' is a moment; 'in 72 hrs' is a day (nobody means 10:15 three days on)."""
        moment = self.now_local + timedelta(hours=hours)
        if hours >= 24:
            return When(at=self._local_midnight(moment.date()), has_time=False)
        return When(at=moment.astimezone(UTC), has_time=True)

    def _plausible(self, day: date) -> bool:
        earliest = self.today.replace(year=self.today.year - MAX_YEARS_BACK, day=1)
        latest = self.today.replace(year=self.today.year + MAX_YEARS_AHEAD, day=1)
        return earliest <= day <= latest

    def _local_midnight(self, day: date) -> datetime:
        moment, _ = _localise(datetime.combine(day, time(0, 0)), self.zone)
        return moment.astimezone(UTC)


# -- days by name, times of day ----------------------------------------------------------


_FIXED_HOLIDAYS = {"xmas eve": (12, 24), "xmas": (12, 25), "nye": (12, 31), "new year": (1, 1),
                   "july 4th": (7, 4), "veterans day": (11, 11),
                   "boxing day": (12, 26)}  # fmt: skip
_FLOATING_HOLIDAYS = {"thanksgiving": "Thanksgiving", "memorial day": "Memorial Day",
                      "labor day": "Labor Day", "mlk day": "Martin Luther King"}  # fmt: skip


def _day_of_month(day: int, today: date, prefer: Prefer) -> date | None:
    """'the 14th': this month's if still ahead (or behind, for the past), else the next one's."""
    step = 1 if prefer == "future" else -1
    year, month = today.year, today.month
    for _ in range(13):
        found = _safe_date(year, month, day)
        if found is not None and ((found >= today) if prefer == "future" else (found <= today)):
            return found
        index = year * 12 + month - 1 + step
        year, month = divmod(index, 12)
        month += 1
    return None


def _holiday(key: str, today: date, prefer: Prefer) -> date | None:
    """The named day nearest to today in the wanted direction (US holidays by name)."""
    if key in _FIXED_HOLIDAYS:
        month, day = _FIXED_HOLIDAYS[key]
        return _nearest_year(month, day, today, prefer)
    name = _FLOATING_HOLIDAYS.get(key)
    if name is None:
        return None
    found = sorted(
        day
        for year in range(today.year - 1, today.year + 2)
        for day, title in holidays.country_holidays("US", years=year).items()
        if title.startswith(name)
    )
    if prefer == "future":
        return next((d for d in found if d >= today), None)
    behind = [d for d in found if d <= today]
    return behind[-1] if behind else None


def _hour_24(clock: ClockTime, *, evening: bool) -> int:
    """Business-hours reading of a bare hour: 1-6 -> afternoon, 7-11 -> morning."""
    if clock.meridiem_given:
        return clock.hour
    if evening and clock.hour < 12:
        return clock.hour + 12
    if 1 <= clock.hour <= 6:
        return clock.hour + 12
    return clock.hour


# -- calendar arithmetic -----------------------------------------------------------------


def _add_span(day: date, amount: int, unit: str) -> date | None:
    if unit == "w":
        return day + timedelta(weeks=amount)
    if unit == "m":
        return _add_months(day, amount)
    if unit == "h":
        return day + timedelta(days=amount // 24)
    if abs(amount) > 3 * 366:
        return None
    return day + timedelta(days=amount)


def _add_months(day: date, months: int) -> date | None:
    if abs(months) > 36:
        return None
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _end_of_week(today: date) -> date:
    """The coming Friday; on a Friday or at the weekend, next week's Friday."""
    return today + timedelta(days=(4 - today.weekday()) % 7 or 7)


def _end_of_month(today: date) -> date:
    return today.replace(day=calendar.monthrange(today.year, today.month)[1])


def _nearest_year(month: int, day: int, today: date, prefer: Prefer) -> date | None:
    """The month/day on or after today (future) or on or before today (past)."""
    years = range(today.year - 4, today.year + 5)
    dates = [d for d in (_safe_date(y, month, day) for y in years) if d is not None]
    if prefer == "future":
        ahead = [d for d in dates if d >= today]
        return ahead[0] if ahead else None
    behind = [d for d in dates if d <= today]
    return behind[-1] if behind else None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _localise(naive: datetime, zone: ZoneInfo) -> tuple[datetime, bool]:
    """Attach the zone; a wall time inside a DST gap is moved forward and flagged."""
    aware = naive.replace(tzinfo=zone)
    round_trip = aware.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != naive:
        return round_trip, True
    return aware, False

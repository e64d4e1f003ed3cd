"""Date and time extraction: relative, calendar, times, DMY, DST, validation."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.parsing.dates import DateOrder, DateReader, Prefer
from tests.parsing.conftest import CHICAGO, NOW


def read(
    text: str,
    prefer: Prefer = "future",
    *,
    now: datetime = NOW,
    order: DateOrder = "MDY",
    zone: ZoneInfo = CHICAGO,
) -> list[str | None]:
    reader = DateReader(now=now, zone=zone, date_order=order)
    results = [reader.resolve(f, prefer) for f in reader.fragments(text)]
    return [w.local_iso(zone) if w else None for w in results]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("f/u Friday", "2026-11-27"),
        ("f/u Fri", "2026-11-27"),
        ("will try Wed", "2026-11-25"),
        ("see him Mon", "2026-11-30"),
        ("call back Monday", "2026-11-30"),
        ("f/u Tues", "2026-11-24"),
        ("f/u Thurs", "2026-11-26"),
        ("next Friday", "2026-11-27"),  # the coming one; the parser asks (next_weekday_readings)
        ("this Friday", "2026-11-27"),
        ("today", "2026-11-23"),
        ("tomorrow", "2026-11-24"),
        ("tmrw", "2026-11-24"),
        ("in 3 days", "2026-11-26"),
        ("in 2 wks", "2026-12-07"),
        ("in 2 weeks", "2026-12-07"),
        ("in 1 month", "2026-12-23"),
        ("in 72 hrs", "2026-11-26"),
        ("in 2 hrs", "2026-11-23T12:15"),
        ("f/u 1 wk", "2026-11-30"),
        ("f/u 2wks", "2026-12-07"),
        ("recheck 1 month", "2026-12-23"),
        ("EOW", "2026-11-27"),
        ("EOM", "2026-11-30"),
        ("end of the month", "2026-11-30"),
        ("next week", "2026-11-30"),
        ("try again in the AM", "2026-11-24"),
        ("recheck 1/5", "2027-01-05"),
        ("12/3", "2026-12-03"),
        ("12/3 10:30", "2026-12-03T10:30"),
        ("Dec 3", "2026-12-03"),
        ("Dec 3rd", "2026-12-03"),
        ("December 3, 2027", "2027-12-03"),
        ("3 Dec", "2026-12-03"),
        ("Thursday Dec 10 1:45 pm", "2026-12-10T13:45"),
        ("12/2 @ 3pm", "2026-12-02T15:00"),
        ("12/2 @ 1330", "2026-12-02T13:30"),
        ("tmrw 8a", "2026-11-24T08:00"),
        ("tomorrow 2pm", "2026-11-24T14:00"),
        ("tomorrow 10:30am", "2026-11-24T10:30"),
        ("tonight 7pm", "2026-11-23T19:00"),
        ("tomorrow at noon", "2026-11-24T12:00"),
        ("12/10 at 9", "2026-12-10T09:00"),
        ("12/10 at 3", "2026-12-10T15:00"),
        ("2026-12-24", "2026-12-24"),
        ("12/3/26", "2026-12-03"),
    ],
)
def test_future_expressions(text: str, expected: str) -> None:
    assert read(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("discharged yesterday", "2026-11-22"),
        ("d/c'd 2 days ago", "2026-11-21"),
        ("seen 1 wk ago", "2026-11-16"),
        ("D/C from SNF 11/20", "2026-11-20"),
        ("called Friday", "2026-11-20"),
        ("Dec 3", "2025-12-03"),
        ("last Monday", "2026-11-16"),
    ],
)
def test_past_expressions(text: str, expected: str) -> None:
    assert read(text, "past") == [expected]


def test_time_only_is_next_such_moment() -> None:
    assert read("f/u 3pm") == ["2026-11-23T15:00"]
    assert read("f/u 9am") == ["2026-11-24T09:00"]


def test_day_month_order() -> None:
    assert read("12/3", order="DMY") == ["2027-03-12"]
    assert read("3/12", order="DMY") == ["2026-12-03"]
    assert read("13/3", order="MDY") == [None]  # no 13th month: rejected, not swapped


def test_bare_two_digit_number_is_never_year_2099() -> None:
    assert read("f/u 99") == []
    assert read("f/u 1/1/99") == [None]  # 1999: distant past


def test_far_future_rejected() -> None:
    assert read("f/u 1/1/2035") == [None]


def test_measurements_are_not_dates() -> None:
    assert read("pain 4/10, BP 90/60") == []
    assert read("Hgb 9.8, A1c 8.2, temp 98.6") == []
    assert read("take 1/2 tab") == []


def test_lowercase_sat_is_not_a_weekday() -> None:
    assert read("sat up in chair") == []


def test_dst_gap_is_shifted_and_flagged() -> None:
    reader = DateReader(now=NOW, zone=CHICAGO)
    [fragment] = reader.fragments("appt 3/14/27 2:30am")
    when = reader.resolve(fragment, "future")
    assert when is not None
    assert when.dst_shifted
    assert when.local_iso(CHICAGO) == "2027-03-14T03:30"


def test_normal_time_not_flagged() -> None:
    reader = DateReader(now=NOW, zone=CHICAGO)
    [fragment] = reader.fragments("appt 3/15/27 2:30am")
    when = reader.resolve(fragment, "future")
    assert when is not None
    assert not when.dst_shifted


def test_dmy_nurse_in_london() -> None:
    london = ZoneInfo("Europe/London")
    now = datetime(2026, 11, 23, 9, 0, tzinfo=london)
    assert read("f/u 5/1", now=now, order="DMY", zone=london) == ["2027-01-05"]


def test_naive_now_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        DateReader(now=datetime(2026, 1, 1), zone=CHICAGO)  # noqa: DTZ001


def test_fragment_count_capped() -> None:
    reader = DateReader(now=NOW, zone=CHICAGO)
    assert len(reader.fragments("12/3 " * 500)) <= 16

"""Transition-of-care deadlines: TCM contact, TCM visit, medication reconciliation, attempts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.care.calendar import BusinessCalendar
from bot.care.rules import (
    CareRules,
    TaskSpec,
    tcm_attempts_documented,
    transition_tasks,
    transition_window,
)
from bot.vocab import Complexity, Risk, TaskKind

CHICAGO = ZoneInfo("America/Chicago")
HIGH, MODERATE = Complexity.HIGH, Complexity.MODERATE


def chicago(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CHICAGO)


def end_of(day: date) -> datetime:
    """23:59:59.999999 Chicago time on `day`, as UTC."""
    return datetime.combine(day, time.max, tzinfo=CHICAGO).astimezone(UTC)


def by_kind(tasks: list[TaskSpec]) -> dict[TaskKind, TaskSpec]:
    return {task.kind: task for task in tasks}


@pytest.mark.parametrize(
    ("discharged", "complexity", "contact_due", "visit_due", "med_rec_due"),
    [
        pytest.param(
            date(2026, 11, 24),
            MODERATE,
            date(2026, 11, 27),
            date(2026, 12, 8),
            date(2026, 12, 8),
            id="tue-over-thanksgiving-to-fri",
        ),
        pytest.param(
            date(2026, 11, 20),
            HIGH,
            date(2026, 11, 24),
            date(2026, 11, 27),
            date(2026, 11, 27),
            id="friday-to-tuesday",
        ),
        pytest.param(
            date(2026, 11, 21),
            HIGH,
            date(2026, 11, 24),
            date(2026, 11, 28),
            date(2026, 11, 28),
            id="saturday-to-tuesday",
        ),
        pytest.param(
            date(2026, 12, 31),
            MODERATE,
            date(2027, 1, 5),
            date(2027, 1, 14),
            date(2027, 1, 14),
            id="new-years-eve-over-new-years-day",
        ),
        pytest.param(
            date(2027, 12, 30),
            HIGH,
            date(2028, 1, 4),
            date(2028, 1, 6),
            date(2028, 1, 6),
            id="over-observed-new-year-on-dec-31",
        ),
        pytest.param(
            date(2026, 3, 5),
            None,
            date(2026, 3, 9),
            date(2026, 3, 12),
            date(2026, 3, 12),
            id="unknown-complexity-takes-7-days-across-dst",
        ),
    ],
)
def test_transition_tasks(
    us_calendar: BusinessCalendar,
    rules: CareRules,
    discharged: date,
    complexity: Complexity | None,
    contact_due: date,
    visit_due: date,
    med_rec_due: date,
) -> None:
    tasks = by_kind(transition_tasks(discharged, complexity, CHICAGO, us_calendar, rules))
    assert list(tasks) == [TaskKind.TCM_CONTACT, TaskKind.TCM_VISIT, TaskKind.MED_REC]
    assert tasks[TaskKind.TCM_CONTACT].due_at == end_of(contact_due)
    assert tasks[TaskKind.TCM_VISIT].due_at == end_of(visit_due)
    assert tasks[TaskKind.MED_REC].due_at == end_of(med_rec_due)
    unknown = complexity is None
    assert tasks[TaskKind.TCM_CONTACT].complexity_unknown is False
    assert tasks[TaskKind.TCM_VISIT].complexity_unknown is unknown
    assert tasks[TaskKind.MED_REC].complexity_unknown is unknown


def test_thanksgiving_contact_due_friday_end_of_day_chicago(
    us_calendar: BusinessCalendar, rules: CareRules
) -> None:
    contact = transition_tasks(date(2026, 11, 24), HIGH, CHICAGO, us_calendar, rules)[0]
    assert contact.due_at == datetime(2026, 11, 28, 5, 59, 59, 999999, tzinfo=UTC)
    assert contact.due_at.tzinfo is UTC
    local = contact.due_at.astimezone(CHICAGO)
    assert (local.date(), local.time()) == (date(2026, 11, 27), time.max)
    assert contact.opens_at == chicago(2026, 11, 25)  # the day after discharge


@pytest.mark.parametrize(
    ("rules", "expected_med_rec_last_day"),
    [
        pytest.param(CareRules(), date(2026, 6, 8), id="visit-deadline-first"),
        pytest.param(CareRules(mrp_days=5), date(2026, 6, 6), id="mrp-window-first"),
        pytest.param(CareRules(mrp_days=7), date(2026, 6, 8), id="equal"),
    ],
)
def test_med_rec_due_at_earlier_of_visit_and_mrp(
    us_calendar: BusinessCalendar, rules: CareRules, expected_med_rec_last_day: date
) -> None:
    window = transition_window(date(2026, 6, 1), HIGH, us_calendar, rules)
    assert window.med_rec.first_day == date(2026, 6, 1)
    assert window.med_rec.last_day == expected_med_rec_last_day


def test_hedis_windows(us_calendar: BusinessCalendar, rules: CareRules) -> None:
    window = transition_window(date(2026, 1, 15), MODERATE, us_calendar, rules)
    mrp_days = (window.mrp.last_day - window.mrp.first_day).days + 1
    assert (window.mrp.first_day, mrp_days) == (date(2026, 1, 15), 31)
    assert date(2026, 1, 15) not in window.trc_engagement
    assert date(2026, 1, 16) in window.trc_engagement
    assert date(2026, 2, 14) in window.trc_engagement
    assert date(2026, 2, 15) not in window.trc_engagement


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        pytest.param([chicago(2026, 11, 25, 10), chicago(2026, 11, 27, 15)], True, id="two"),
        pytest.param([chicago(2026, 11, 25, 10), chicago(2026, 11, 25, 14)], True, id="same-day"),
        pytest.param([chicago(2026, 11, 25, 10)], False, id="one"),
        pytest.param([], False, id="none"),
        pytest.param([chicago(2026, 11, 25, 10)] * 2, False, id="one-recorded-twice"),
        pytest.param(
            [chicago(2026, 11, 25, 10), chicago(2026, 11, 25, 10).astimezone(UTC)],
            False,
            id="same-instant-other-zone",
        ),
        pytest.param(
            [chicago(2026, 11, 24, 18), chicago(2026, 11, 25, 10)], False, id="discharge-day"
        ),
        pytest.param(
            [chicago(2026, 11, 27, 12), chicago(2026, 11, 30, 9)], False, id="after-window"
        ),
        pytest.param(
            [chicago(2026, 11, 26, 11), chicago(2026, 11, 27, 23, 30)], True, id="holiday-late-fri"
        ),
    ],
)
def test_tcm_attempts_documented(
    us_calendar: BusinessCalendar, rules: CareRules, attempts: list[datetime], expected: bool
) -> None:
    discharged = date(2026, 11, 24)
    assert tcm_attempts_documented(attempts, discharged, CHICAGO, us_calendar, rules) is expected


def test_naive_attempt_rejected(us_calendar: BusinessCalendar, rules: CareRules) -> None:
    naive = datetime(2026, 11, 25, 10)  # noqa: DTZ001 - deliberately naive
    with pytest.raises(ValueError, match="timezone-aware"):
        tcm_attempts_documented([naive], date(2026, 11, 24), CHICAGO, us_calendar, rules)


def test_unknown_complexity_string_rejected(
    us_calendar: BusinessCalendar, rules: CareRules
) -> None:
    with pytest.raises(ValueError, match="urgent"):
        transition_window(date(2026, 11, 24), "urgent", us_calendar, rules)  # type: ignore[arg-type]


def test_window_holds_dates_only(us_calendar: BusinessCalendar, rules: CareRules) -> None:
    window = transition_window(date(2026, 11, 24), HIGH, us_calendar, rules)
    assert date(2026, 11, 27) in window.contact
    assert chicago(2026, 11, 27, 9) not in window.contact  # an instant needs a zone first


def test_discharge_datetime_rejected(us_calendar: BusinessCalendar, rules: CareRules) -> None:
    with pytest.raises(TypeError, match="must be a date"):
        transition_tasks(chicago(2026, 11, 24), HIGH, CHICAGO, us_calendar, rules)


@pytest.mark.parametrize(
    ("complexity", "expected"), [(HIGH, 7), (MODERATE, 14), (None, 7), ("high", 7)]
)
def test_visit_days(rules: CareRules, complexity: Complexity | None, expected: int) -> None:
    assert rules.visit_days(complexity) == expected


@pytest.mark.parametrize(
    ("risk", "expected"),
    [(Risk.HIGH, 7), ("medium", 14), (Risk.LOW, 30), ("unknown", None), (None, None)],
)
def test_cadence_for(rules: CareRules, risk: str | None, expected: int | None) -> None:
    assert rules.cadence_for(risk) == expected


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: CareRules(tcm_contact_business_days=0), id="zero"),
        pytest.param(lambda: CareRules(mrp_days=-1), id="negative"),
        pytest.param(lambda: CareRules(tcm_visit_days_high=True), id="bool"),
        pytest.param(lambda: CareRules(cadence_days={"high": 0}), id="cadence-zero"),
    ],
)
def test_bad_rules_rejected(make: Callable[[], CareRules]) -> None:
    with pytest.raises(ValueError, match="positive whole number"):
        make()


def test_rules_cadence_is_read_only() -> None:
    source = {"high": 3}
    rules = CareRules(cadence_days=source)
    source["high"] = 99
    assert rules.cadence_for("high") == 3
    with pytest.raises(TypeError):
        rules.cadence_days["high"] = 5  # type: ignore[index]


def test_windows_are_dates_tasks_are_utc(us_calendar: BusinessCalendar, rules: CareRules) -> None:
    tasks = transition_tasks(date(2026, 11, 1), None, CHICAGO, us_calendar, rules)
    for task in tasks:
        assert task.opens_at.tzinfo is UTC
        assert task.due_at.tzinfo is UTC
        assert task.due_at - task.opens_at > timedelta(days=1)

"""Risk cadence: the end of the local day `cadence` days after the last reached contact."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.care.cadence import cadence_due, is_past_cadence
from bot.care.rules import CareRules
from bot.vocab import Risk

CHICAGO = ZoneInfo("America/Chicago")
RULES = CareRules()


def chicago(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CHICAGO)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=CHICAGO).astimezone(UTC)


NOW = chicago(2026, 3, 4, 9)


@pytest.mark.parametrize(
    ("risk", "last_reached", "expected_due"),
    [
        pytest.param(Risk.HIGH, chicago(2026, 3, 2, 10), end_of(date(2026, 3, 9)), id="high"),
        pytest.param("medium", chicago(2026, 3, 2, 10), end_of(date(2026, 3, 16)), id="medium"),
        pytest.param("low", chicago(2026, 3, 2, 10), end_of(date(2026, 4, 1)), id="low"),
        pytest.param(
            "high",
            datetime(2026, 3, 3, 5, 30, tzinfo=UTC),  # 23:30 on 2 March in Chicago
            end_of(date(2026, 3, 9)),
            id="local-date-of-contact",
        ),
        pytest.param("high", None, NOW, id="never-reached-due-now"),
        pytest.param(None, chicago(2026, 3, 2), None, id="no-risk"),
        pytest.param("unrated", chicago(2026, 3, 2), None, id="risk-without-cadence"),
    ],
)
def test_cadence_due(
    risk: str | None, last_reached: datetime | None, expected_due: datetime | None
) -> None:
    assert cadence_due(risk, last_reached, NOW, CHICAGO, RULES) == expected_due


@pytest.mark.parametrize(
    ("risk", "last_reached", "now", "expected"),
    [
        pytest.param("high", chicago(2026, 3, 2, 10), chicago(2026, 3, 9, 23, 59), False, id="due"),
        pytest.param("high", chicago(2026, 3, 2, 10), chicago(2026, 3, 10), True, id="past"),
        pytest.param("high", None, NOW, True, id="never-reached"),
        pytest.param(None, None, NOW, False, id="no-cadence"),
        pytest.param("low", chicago(2026, 3, 2, 10), chicago(2026, 4, 1, 23), False, id="low-due"),
    ],
)
def test_is_past_cadence(
    risk: str | None, last_reached: datetime | None, now: datetime, expected: bool
) -> None:
    assert is_past_cadence(risk, last_reached, now, CHICAGO, RULES) is expected


def test_custom_cadence() -> None:
    rules = CareRules(cadence_days={"high": 3})
    due = cadence_due("high", chicago(2026, 3, 2, 10), NOW, CHICAGO, rules)
    assert due == end_of(date(2026, 3, 5))
    assert cadence_due("medium", chicago(2026, 3, 2, 10), NOW, CHICAGO, rules) is None


@pytest.mark.parametrize(
    ("last_reached", "now"),
    [
        pytest.param(datetime(2026, 3, 2, 10), NOW, id="naive-last-reached"),  # noqa: DTZ001
        pytest.param(chicago(2026, 3, 2), datetime(2026, 3, 4, 9), id="naive-now"),  # noqa: DTZ001
    ],
)
def test_naive_rejected(last_reached: datetime, now: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cadence_due("high", last_reached, now, CHICAGO, RULES)

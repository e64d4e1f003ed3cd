"""Vital trends: the latest reading of each vital and which way it moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.care.vitals import Reading, direction, trends
from bot.vocab import VitalKind

T0 = datetime(2026, 11, 20, 15, tzinfo=UTC)


def r(kind: VitalKind, value: str, unit: str = "", days: int = 0) -> Reading:
    return Reading(kind, value, unit, T0 + timedelta(days=days))


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (r(VitalKind.BP, "138/84"), r(VitalKind.BP, "150/90"), 1),
        (r(VitalKind.BP, "150/90"), r(VitalKind.BP, "150/84"), -1),  # systolic same: diastolic
        (r(VitalKind.BP, "150/90"), r(VitalKind.BP, "150/90"), 0),
        (r(VitalKind.WEIGHT, "185", "lb"), r(VitalKind.WEIGHT, "84", "kg"), 1),  # 185.2 lb
        (r(VitalKind.WEIGHT, "84", "kg"), r(VitalKind.WEIGHT, "180", "lb"), -1),
        (r(VitalKind.TEMP, "37", "C"), r(VitalKind.TEMP, "99.1", "F"), 1),  # 98.6 F
        (r(VitalKind.SPO2, "94", "%"), r(VitalKind.SPO2, "91", "%"), -1),
        (r(VitalKind.BP, "150/90"), r(VitalKind.BP, "150"), None),  # not comparable
    ],
)
def test_direction(before: Reading, after: Reading, expected: int | None) -> None:
    assert direction(before, after) == expected


def test_one_trend_per_vital_latest_first_whatever_the_order() -> None:
    found = trends(
        [
            r(VitalKind.WEIGHT, "182", "lb", days=3),
            r(VitalKind.BP, "150/90", days=2),
            r(VitalKind.BP, "120/80", days=0),
            r(VitalKind.BP, "138/84", days=1),
        ]
    )
    assert [(t.latest.kind, t.latest.value, t.previous and t.previous.value, t.direction)
            for t in found] == [
        (VitalKind.BP, "150/90", "138/84", 1),
        (VitalKind.WEIGHT, "182", None, None),
    ]  # fmt: skip

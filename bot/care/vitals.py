"""Vital sign trends: the latest reading of each vital and which way it moved since the one
before (a BP by its systolic, then its diastolic; weights and temperatures across units).

Pure: no clock reads, no I/O. Must not import telegram, storage, sqlalchemy or handlers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.vocab import VitalKind

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_KG_PER_LB = 0.45359237


@dataclass(frozen=True)
class Reading:
    kind: VitalKind
    value: str  # as written: "150/90", "182", "98.6"
    unit: str
    taken_at: datetime


@dataclass(frozen=True)
class VitalTrend:
    """The latest reading of one vital, the one before it, and the direction: 1 up, -1 down,
    0 the same, None when the two cannot be compared."""

    latest: Reading
    previous: Reading | None
    direction: int | None


def trends(readings: Iterable[Reading]) -> tuple[VitalTrend, ...]:
    """One trend per vital kind (in bot.vocab.VitalKind order), from readings in any order."""
    by_kind: dict[VitalKind, list[Reading]] = {}
    for reading in readings:
        by_kind.setdefault(reading.kind, []).append(reading)
    found = []
    for kind in VitalKind:
        series = sorted(by_kind.get(kind, []), key=lambda r: r.taken_at, reverse=True)
        if not series:
            continue
        latest = series[0]
        previous = series[1] if len(series) > 1 else None
        found.append(
            VitalTrend(latest, previous, None if previous is None else direction(previous, latest))
        )
    return tuple(found)


def direction(before: Reading, after: Reading) -> int | None:
    """Which way a vital moved from `before` to `after` (None: not comparable)."""
    old, new = _numbers(before), _numbers(after)
    if not old or not new or len(old) != len(new):
        return None
    for a, b in zip(old, new, strict=True):
        if b > a:
            return 1
        if b < a:
            return -1
    return 0


def _numbers(reading: Reading) -> tuple[float, ...]:
    values = tuple(float(v) for v in _NUMBER.findall(reading.value))
    unit = reading.unit.strip().lower()
    if reading.kind == VitalKind.WEIGHT and unit.startswith("kg") and values:
        return (values[0] / _KG_PER_LB,)  # compared in pounds
    if reading.kind == VitalKind.TEMP and unit.endswith("c") and values:
        return (values[0] * 9 / 5 + 32,)  # compared in Fahrenheit
    return values

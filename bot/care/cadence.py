"""Risk-based contact cadence: when a patient falls past the days allowed between contacts.

Owns the cadence deadline: the end of the local day `cadence_days[risk]` days after the last
reached contact (a deadline is an end of window, as everywhere in the care rules). A patient never
reached is due at once. Risk levels without a configured cadence have none.

Pure: no clock reads (`now` is an argument), no I/O. Must not import telegram, storage,
sqlalchemy or handlers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.care.localtime import end_of_local_day, local_date, require_aware
from bot.care.rules import CareRules


def cadence_due(
    risk: str | None,
    last_reached_at: datetime | None,
    now: datetime,
    zone: ZoneInfo,
    rules: CareRules,
) -> datetime | None:
    """When the patient falls past cadence (aware UTC); None if `risk` has no cadence.

    Never reached -> `now`. Otherwise the end of the local day `cadence_days[risk]` days after
    the local date of `last_reached_at`.
    """
    require_aware(now, "now")
    days = rules.cadence_for(risk)
    if days is None:
        return None
    if last_reached_at is None:
        return now.astimezone(UTC)
    last_day = local_date(require_aware(last_reached_at, "last_reached_at"), zone)
    return end_of_local_day(last_day + timedelta(days=days), zone)


def is_past_cadence(
    risk: str | None,
    last_reached_at: datetime | None,
    now: datetime,
    zone: ZoneInfo,
    rules: CareRules,
) -> bool:
    """True when `risk` has a cadence and the patient was never reached or is past its deadline."""
    due = cadence_due(risk, last_reached_at, now, zone, rules)
    if due is None:
        return False
    return last_reached_at is None or now > due

"""Time zones and clock times as nurses type them: "Chicago", "central", "7am", "07:30".

Pure: no telegram, no storage, no I/O beyond the system's zone database.
"""

from __future__ import annotations

import re
from datetime import time
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from rapidfuzz import fuzz, process

# Buttons offered first: the US zones most case managers work in, plus UTC.
COMMON_ZONES: tuple[tuple[str, str], ...] = (
    ("Eastern", "America/New_York"),
    ("Central", "America/Chicago"),
    ("Mountain", "America/Denver"),
    ("Arizona", "America/Phoenix"),
    ("Pacific", "America/Los_Angeles"),
    ("Alaska", "America/Anchorage"),
    ("Hawaii", "Pacific/Honolulu"),
    ("UTC", "UTC"),
)

_ALIASES = {
    "eastern": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "et": "America/New_York",
    "central": "America/Chicago",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "ct": "America/Chicago",
    "mountain": "America/Denver",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "pacific": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "utc": "UTC",
    "gmt": "UTC",
}


@cache
def _city_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name in available_timezones():
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        city = name.rsplit("/", 1)[1].replace("_", " ").lower()
        index.setdefault(city, name)
    return index


def resolve_zone(text: str) -> str | None:
    """An IANA zone name for what the nurse typed, or None if nothing fits well."""
    cleaned = " ".join(text.strip().split())[:64]
    if not cleaned:
        return None
    lowered = cleaned.lower()
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    for name in available_timezones():
        if name.lower() == lowered.replace(" ", "_"):
            return name
    index = _city_index()
    if lowered in index:
        return index[lowered]
    match = process.extractOne(lowered, index.keys(), scorer=fuzz.ratio, score_cutoff=85)
    return index[match[0]] if match else None


_TIME = re.compile(
    r"^\s*(?P<h>[01]?\d|2[0-3])(?:[:.h]?(?P<m>[0-5]\d))?\s*(?P<ap>a|am|a\.m\.|p|pm|p\.m\.)?\s*$",
    re.IGNORECASE,
)


def parse_clock_time(text: str) -> time | None:
    """ "7", "7am", "7:30 pm", "19:30", "0730" -> a time; anything else -> None."""
    match = _TIME.match(text[:20])
    if not match:
        return None
    hour, minute = int(match["h"]), int(match["m"] or 0)
    meridiem = (match["ap"] or "").lower()[:1]
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    return time(hour, minute)


def zone_label(name: str) -> str:
    for label, zone in COMMON_ZONES:
        if zone == name:
            return f"{label} ({zone})"
    ZoneInfo(name)
    return name

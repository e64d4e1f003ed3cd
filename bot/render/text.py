"""The small text helpers every reply uses: one escape, one clip, one fit, one way to name a
day and a time.

Nurse and patient text goes through ``clip`` (plain text, shortened) and then ``esc`` (HTML).
Days read "Fri 27 Nov" in the nurse's zone, with the year when it is not the current one (or
always, where a date is months away); times read "14:30".
Pure: no telegram, no storage, no clock reads (``today`` is passed in).
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

MAX_MESSAGE = 4096
"""Characters Telegram allows in one message."""
ELLIPSIS = "…"

_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);")


def esc(text: str) -> str:
    """Nurse or patient text, safe inside Telegram HTML (quotes need no escaping there)."""
    return html.escape(text, quote=False)


def clip(text: str, limit: int) -> str:
    """`text` on one line (runs of white space become one space), cut to at most `limit`
    characters with an ellipsis. A cut never splits an HTML entity such as ``&amp;``."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = limit - 1
    for entity in _ENTITY.finditer(text, 0, cut + 16):
        if entity.start() < cut < entity.end():
            cut = entity.start()
            break
    return text[:cut].rstrip() + ELLIPSIS


def fit(text: str, limit: int = MAX_MESSAGE) -> str:
    """A whole message cut to `limit` characters at a line break, marked with a last line
    "…". A single line longer than the limit is cut outside any HTML tag or entity."""
    if len(text) <= limit:
        return text
    room = limit - 2  # for "\n…"
    cut = text.rfind("\n", 0, room + 1)
    if cut <= 0:
        cut = room
        for opener, closer in (("<", ">"), ("&", ";")):
            start = text.rfind(opener, 0, cut)
            if start >= 0 and text.find(closer, start, cut) < 0:
                cut = min(cut, start)
    return text[:cut] + "\n" + ELLIPSIS


def day_label(day: date, *, today: date | None = None, with_year: bool = False) -> str:
    """'Fri 27 Nov'; 'Fri 27 Nov 2027' with `with_year`, or when `today` is in another year."""
    label = f"{day:%a} {day.day} {day:%b}"
    if with_year or (today is not None and today.year != day.year):
        label += f" {day.year}"
    return label


def time_label(at: datetime, zone: ZoneInfo) -> str:
    """'14:30' in the nurse's zone."""
    return f"{at.astimezone(zone):%H:%M}"


def when_label(
    at: datetime,
    zone: ZoneInfo,
    *,
    today: date | None = None,
    has_time: bool = True,
    with_year: bool = False,
) -> str:
    """'Fri 27 Nov 14:30' in the nurse's zone (the day alone when `has_time` is False); the
    year as in ``day_label``."""
    local = at.astimezone(zone)
    label = day_label(local.date(), today=today, with_year=with_year)
    return f"{label} {local:%H:%M}" if has_time else label

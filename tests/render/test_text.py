"""The one escape, clip, fit and day/time label every reply uses."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.render.text import clip, day_label, esc, fit, time_label, when_label

CHICAGO = ZoneInfo("America/Chicago")
ENTITY = re.compile(r"&[#A-Za-z0-9]*$")


def test_esc_makes_text_safe_in_telegram_html_and_leaves_quotes() -> None:
    assert esc('<b>R&D</b> "Ann\'s"') == '&lt;b&gt;R&amp;D&lt;/b&gt; "Ann\'s"'


@pytest.mark.parametrize(
    ("text", "limit", "clipped"),
    [
        ("Maria Lopez", 20, "Maria Lopez"),
        ("  Maria \n\t Lopez  ", 20, "Maria Lopez"),
        ("walk thirty minutes daily", 10, "walk thir…"),
        ("walk      thirty", 6, "walk…"),  # no space left before the ellipsis
        ("exactly ten", 11, "exactly ten"),
    ],
)
def test_clip_puts_text_on_one_line_and_cuts_with_an_ellipsis(
    text: str, limit: int, clipped: str
) -> None:
    assert clip(text, limit) == clipped
    assert len(clipped) <= limit


@pytest.mark.parametrize("limit", range(2, 30))
def test_clip_never_cuts_inside_an_html_entity(limit: int) -> None:
    escaped = esc("AT&T <and> R&D " * 3)
    clipped = clip(escaped, limit)
    assert len(clipped) <= limit
    assert not ENTITY.search(clipped.removesuffix("…"))


def test_fit_keeps_whole_lines_and_marks_the_cut() -> None:
    text = "\n".join(f"line {i:02}" for i in range(10))  # 10 lines of 7 characters
    assert fit(text, 100) == text
    assert fit(text, 30) == "line 00\nline 01\nline 02\n…"
    assert len(fit(text, 30)) <= 30


@pytest.mark.parametrize("limit", range(3, 40))
def test_fit_cuts_a_single_long_line_outside_tags_and_entities(limit: int) -> None:
    text = "<b>" + esc("R&D " * 20) + "</b>"
    cut = fit(text, limit)
    assert len(cut) <= limit
    body = cut.removesuffix("\n…")
    assert not ENTITY.search(body)
    assert body.rfind("<") <= body.rfind(">")


def test_day_labels_carry_the_year_only_when_it_is_not_the_current_one() -> None:
    friday = date(2026, 11, 27)
    assert day_label(friday) == "Fri 27 Nov"
    assert day_label(friday, today=date(2026, 1, 2)) == "Fri 27 Nov"
    assert day_label(friday, today=date(2027, 1, 2)) == "Fri 27 Nov 2026"
    assert day_label(friday, with_year=True) == "Fri 27 Nov 2026"


def test_times_read_in_the_nurses_zone() -> None:
    at = datetime(2026, 11, 27, 20, 30, tzinfo=ZoneInfo("UTC"))  # 14:30 in Chicago
    assert time_label(at, CHICAGO) == "14:30"
    assert when_label(at, CHICAGO) == "Fri 27 Nov 14:30"
    assert when_label(at, CHICAGO, has_time=False) == "Fri 27 Nov"
    assert when_label(at, CHICAGO, today=date(2027, 3, 1)) == "Fri 27 Nov 2026 14:30"

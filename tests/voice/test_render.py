"""The transcript reply: escaped and clipped, each reading with absolute dates (weekday and
zone), [Save] only when there is something to save, and button data that is opaque and small."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.parsing import Caseload, parse
from bot.render import voice as render
from tests.fakes.telegram_html import parse_html
from tests.voice_support import CASELOAD

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 10, 15, tzinfo=CHICAGO)  # a Monday
CASES = Caseload.from_names(list(CASELOAD))


def reply(transcript: str) -> str:
    intent = parse(transcript, now=NOW, zone=CHICAGO, caseload=CASES, date_order="MDY").first
    return render.transcript_reply(transcript, intent, CHICAGO, NOW)


@pytest.mark.parametrize(
    ("transcript", "lines"),
    [
        (
            "Called Maria Lopez, she is doing better, follow up Friday.",
            [
                "<b>I read:</b> Phone call with <b>Maria Lopez</b>, reached",
                "When: Mon 23 Nov 10:15, America/Chicago",
                "Follow-up: Fri 27 Nov, America/Chicago",
            ],
        ),
        (
            "Left voicemail for Harold Jensen, try again tomorrow.",
            [
                "<b>I read:</b> Voicemail with <b>Harold Jensen</b>, not reached (attempt)",
                "Follow-up: Tue 24 Nov, America/Chicago",
            ],
        ),
        (
            "Dorothy Chen, cardiology appointment December 3rd at 1030.",
            [
                "<b>I read:</b> appointment for <b>Dorothy Chen</b>",
                "When: Thu 3 Dec 10:30, America/Chicago",
            ],
        ),
        (
            "Med rec done for Robert King, one discrepancy.",
            [
                "<b>I read:</b> medication reconciliation for <b>Robert King</b>",
                "Done: Mon 23 Nov, America/Chicago",
            ],
        ),
        (
            "Linda Nguyen discharged from Mercy General today.",
            [
                "<b>I read:</b> discharge of <b>Linda Nguyen</b>",
                "Discharged: Mon 23 Nov, America/Chicago",
            ],
        ),
        (
            "Called Maria, f/u Friday.",
            [
                "<b>I read:</b> Phone call with <b>Maria Lopez</b> or <b>Maria Santos</b>? "
                "(I'll ask)"
            ],
        ),
        ("Called Mary Poppins, f/u Friday.", ["(not in your caseload)"]),
    ],
)
def test_each_reading_shows_its_dates_with_weekday_and_zone(
    transcript: str, lines: list[str]
) -> None:
    text = reply(transcript)
    for line in lines:
        assert line in text
    assert "Nothing is saved until you tap <b>Save</b>" in text


def test_a_question_is_answered_on_a_tap_and_chatter_cannot_be_saved() -> None:
    question = parse(
        "who is overdue?", now=NOW, zone=CHICAGO, caseload=CASES, date_order="MDY"
    ).first
    assert render.is_question(question)
    assert "until you tap <b>Answer</b>" in reply("who is overdue?")
    chatter = parse("thanks, bye", now=NOW, zone=CHICAGO, caseload=CASES, date_order="MDY").first
    assert not render.actionable(chatter)
    assert "Nothing was saved." in reply("thanks, bye")


@pytest.mark.parametrize(
    "transcript",
    [
        "Follow up with Maria Lopez tomorrow.",  # a task
        "Maria Lopez was admitted to Mercy General last night.",  # a hospital admission
    ],
)
def test_a_fact_the_chat_cannot_save_yet_offers_no_save(transcript: str) -> None:
    fact = parse(transcript, now=NOW, zone=CHICAGO, caseload=CASES, date_order="MDY").first
    assert not render.actionable(fact)
    text = reply(transcript)
    assert "no record I can save" in text
    assert "Nothing was saved." in text
    assert "until you tap" not in text


def test_the_transcript_is_escaped_and_clipped() -> None:
    text = reply("called <b>Maria Lopez</b> & co " + "very long " * 400)
    parsed = parse_html(text)  # valid Telegram HTML
    assert "called <b>Maria Lopez</b> & co" in parsed.text
    shown = parsed.text.splitlines()[1]
    assert len(shown) == render.MAX_TRANSCRIPT
    assert shown.endswith("…")
    assert len(parsed.text) < 4096


def test_lengths_read_as_a_nurse_would_say_them() -> None:
    assert "up to 2:00 min, and that one is 2:01 min long" in render.too_long(121, 120)
    assert "up to 3 s, and that one is longer than that" in render.too_long(None, 3)
    assert render.transcribing(2).endswith("(2 ahead of it)")

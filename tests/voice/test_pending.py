"""Transcripts waiting for a tap: opaque tokens, taken once, closed after 15 minutes, at most
five per nurse."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.voice.pending import MAX_PENDING, PENDING_FOR, PendingNote, PendingNotes

T0 = datetime(2026, 11, 23, 16, 15, tzinfo=UTC)


def _note(text: str = "called Maria Lopez", message_id: int = 7) -> PendingNote:
    return PendingNote(text, chat_id=1, message_id=message_id, heard_at=T0)


def test_a_transcript_is_taken_once_by_its_token() -> None:
    notes = PendingNotes()
    token = notes.add(_note(), now=T0)
    assert re.fullmatch(r"[A-Za-z0-9_-]{8}", token)
    assert "Maria" not in token
    assert notes.take(token, now=T0 + timedelta(minutes=1)) == _note()
    assert notes.take(token, now=T0 + timedelta(minutes=1)) is None
    assert notes.take("unknown", now=T0) is None


def test_a_transcript_closes_after_fifteen_minutes() -> None:
    notes = PendingNotes()
    token = notes.add(_note(), now=T0)
    assert notes.take(token, now=T0 + PENDING_FOR) is None
    kept = notes.add(_note(), now=T0)
    assert notes.take(kept, now=T0 + PENDING_FOR - timedelta(seconds=1)) is not None


def test_several_notes_wait_side_by_side_and_the_oldest_goes_first() -> None:
    notes = PendingNotes()
    tokens = [notes.add(_note(message_id=i), now=T0) for i in range(MAX_PENDING + 1)]
    assert len(set(tokens)) == MAX_PENDING + 1
    assert notes.take(tokens[0], now=T0) is None  # dropped for the sixth
    taken = [notes.take(t, now=T0) for t in tokens[1:]]
    assert [n.message_id if n else None for n in taken] == list(range(1, MAX_PENDING + 1))

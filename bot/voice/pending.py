"""Transcripts waiting for the nurse's tap: typed per-nurse state (kept in her user_data under
one key), each under an opaque random token that the buttons carry instead of any text.

A transcript waits at most `PENDING_FOR` (then its buttons say it closed and nothing is saved),
and a nurse has at most `MAX_PENDING` at once (the oldest goes first). Pure: no telegram, no
storage; `now` comes in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

PENDING_FOR = timedelta(minutes=15)
MAX_PENDING = 5


@dataclass(frozen=True)
class PendingNote:
    """One transcript and the voice message it came from (the redelivery key)."""

    transcript: str
    chat_id: int
    message_id: int
    heard_at: datetime


@dataclass
class PendingNotes:
    """This nurse's transcripts awaiting [Save] [Fix] [Cancel], by token."""

    notes: dict[str, PendingNote] = field(default_factory=dict)

    def add(self, note: PendingNote, *, now: datetime) -> str:
        """Keep a transcript; return the token its buttons carry."""
        self._expire(now)
        while len(self.notes) >= MAX_PENDING:
            self.notes.pop(next(iter(self.notes)))
        token = secrets.token_urlsafe(6)
        self.notes[token] = note
        return token

    def take(self, token: str, *, now: datetime) -> PendingNote | None:
        """Remove and return a transcript still waiting; None if unknown, taken or expired."""
        self._expire(now)
        return self.notes.pop(token, None)

    def _expire(self, now: datetime) -> None:
        for token, note in list(self.notes.items()):
            if now - note.heard_at >= PENDING_FOR:
                del self.notes[token]

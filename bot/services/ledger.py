"""The key of the message ledger: which nurse message a change came from.

Every use case that saves what a nurse typed takes a ``MessageKey`` and records it in the
(chat id, message id) ledger in the same transaction, so a redelivered Telegram update finds
its key there and saves nothing twice. Pure data: no telegram, no storage.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.vocab import Source


@dataclass(frozen=True)
class MessageKey:
    """The nurse message a change came from: the redelivery key, and how it came in (a voice
    note's changes are audited as "voice")."""

    chat_id: int
    message_id: int
    via: Source = Source.TEXT

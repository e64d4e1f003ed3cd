"""The key of the message ledger: which nurse message a change came from.

Every use case that saves what a nurse typed takes a ``MessageKey`` and records it in the
(chat id, message id) ledger in the same transaction, so a redelivered Telegram update finds
its key there and saves nothing twice. Pure data: no telegram, no storage.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageKey:
    """The nurse message a change came from: the redelivery key."""

    chat_id: int
    message_id: int

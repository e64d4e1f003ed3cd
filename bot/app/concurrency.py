"""Update processing: different chats concurrently, each chat's own updates in order.

A slow handler for one nurse must never stall the others, and a nurse's second message must
never overtake her first (conversation state depends on order). The poller (bot/app/polling.py)
keeps one lane per `lane_key` and runs each lane's updates one at a time; updates that reach the
Application another way (PTB's update queue, tests feeding updates) are serialised per chat here
by PerChatUpdateProcessor. Must not import storage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def ordering_key(update: object) -> tuple[str, int | None]:
    """The chat (or, for updates without one, the user) whose updates must stay in order."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
    return ("other", None)


def lane_key(update: object) -> str:
    """`ordering_key` as a short string: how the poller names a chat's lane (and stores it)."""
    kind, ident = ordering_key(update)
    return f"{kind}:{ident}" if ident is not None else str(kind)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Runs updates concurrently, serialised per chat with a FIFO lock."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[object, asyncio.Lock] = {}
        self._waiting: dict[object, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

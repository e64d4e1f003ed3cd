"""Long polling that confirms an update to Telegram only after its handlers have finished.

PTB's Updater confirms a batch (the next getUpdates offset) as soon as it is queued, so a crash
while a message is being handled loses that message: Telegram never sends it again. Here the
offset advances only past updates that are done; after a crash the in-flight ones come back,
and the (chat id, message id) ledger keeps a redelivered message from being logged twice.
Updates still go through the Application's update processor (per-chat order, cross-chat
concurrency).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta

from telegram import Update
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut

from bot.app.context import CasebotApplication

log = logging.getLogger(__name__)

# While only already-seen (in-flight) updates come back, wait this long between polls.
IN_FLIGHT_PAUSE = 0.5


class ConfirmingPoller:
    """getUpdates in a loop; each update is confirmed once it has been handled."""

    def __init__(
        self,
        app: CasebotApplication,
        *,
        timeout: int = 10,
        allowed_updates: Sequence[str] | None = None,
    ) -> None:
        self.app = app
        self.timeout = timeout
        self.allowed_updates = list(allowed_updates) if allowed_updates else Update.ALL_TYPES
        self._next: int | None = None  # the first update id not seen yet
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def confirm_offset(self) -> int | None:
        """The getUpdates offset: the oldest update still being handled, else the next new."""
        if self._in_flight:
            return min(self._in_flight)
        return self._next

    async def start(self) -> None:
        await self.app.bot.delete_webhook(drop_pending_updates=False)
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="casebot:polling")

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop polling, let handlers in flight finish (up to `grace` s), confirm what is done."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        pending = list(self._in_flight.values())
        if pending:
            await asyncio.wait(pending, timeout=grace)
        offset = self.confirm_offset()
        if offset is not None:
            with contextlib.suppress(TelegramError):
                await self.app.bot.get_updates(offset=offset, timeout=0, limit=1)

    async def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                updates = await self.app.bot.get_updates(
                    offset=self.confirm_offset(),
                    timeout=self.timeout,
                    allowed_updates=self.allowed_updates,
                )
                failures = 0
            except RetryAfter as exc:
                await self._sleep(_seconds(exc.retry_after))
                continue
            except (TimedOut, NetworkError) as exc:
                failures += 1
                log.warning("polling failed (%s); retrying", type(exc).__name__)
                await self._sleep(min(2.0**failures, 30.0))
                continue
            if not self._take(updates):
                await self._sleep(IN_FLIGHT_PAUSE)

    def _take(self, updates: Sequence[Update]) -> bool:
        """Start handling the new updates of a poll; False if it brought none."""
        new = False
        for update in updates:
            if self._next is not None and update.update_id < self._next:
                continue  # in flight, or already done and confirmed with the next poll
            self._next = update.update_id + 1
            new = True
            self._in_flight[update.update_id] = asyncio.create_task(self._handle(update))
        return new

    async def _handle(self, update: Update) -> None:
        try:
            processor = self.app.update_processor
            await processor.process_update(update, self.app.process_update(update))
        except Exception as exc:  # noqa: BLE001 - PTB's error handler has already run
            log.error("update %s failed: %s", update.update_id, type(exc).__name__)
        finally:
            self._in_flight.pop(update.update_id, None)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)


def _seconds(value: object) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)  # type: ignore[arg-type]

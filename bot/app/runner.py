"""Running the bot for real: update-handling leadership, the dispatcher, clean shutdown.

Telegram allows one getUpdates poller and a conversation's state lives in one process, so one
process at a time handles updates: on PostgreSQL, the one holding a session-level advisory
lock; the others stand by and take over within seconds when its connection dies. Every process
dispatches (claims are exclusive in the database) at its share of Telegram's per-bot budget.
On SQLite there is one process (the CLI holds a file lock), which is always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.app.context import CasebotApplication
from bot.app.polling import ConfirmingPoller
from bot.app.webhook import ConfirmingWebhook
from storage.db import Database

log = logging.getLogger(__name__)

# Any constant works: it only has to be the same in every process of one deployment.
UPDATES_LOCK_KEY = 0x0CA5EB01
CHECK_SECONDS = 2.0


class Leadership:
    """Who handles updates. Always this process on SQLite; an advisory lock on PostgreSQL."""

    def __init__(self, db: Database, *, key: int = UPDATES_LOCK_KEY) -> None:
        self.db = db
        self.key = key
        self._conn: AsyncConnection | None = None
        self.held = False

    async def try_acquire(self) -> bool:
        if self.db.dialect != "postgresql":
            self.held = True
            return True
        try:
            if self._conn is None:
                self._conn = await self.db.engine.connect()
            got = await self._conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
            await self._conn.commit()
        except Exception as exc:  # noqa: BLE001 - any fault means: not the leader now
            log.warning("leadership check failed: %s", type(exc).__name__)
            await self._drop()
            return False
        self.held = bool(got)
        return self.held

    async def still_held(self) -> bool:
        """True while the lock's connection is alive (the lock dies with it)."""
        if self.db.dialect != "postgresql":
            return True
        if self._conn is None:
            return False
        try:
            await self._conn.scalar(text("SELECT 1"))
            await self._conn.commit()
        except Exception as exc:  # noqa: BLE001 - a dead connection means the lock is gone
            log.warning("lost the update-handling lock: %s", type(exc).__name__)
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if self._conn is not None and self.held:
            with contextlib.suppress(Exception):
                await self._conn.scalar(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                await self._conn.commit()
        await self._drop()

    async def _drop(self) -> None:
        self.held = False
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None


async def serve(app: CasebotApplication, *, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or `stop`): dispatch always, handle updates when leader."""
    services = app.services
    config = services.config
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    leadership = Leadership(services.db)
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    handling = False
    try:
        while not stop.is_set():
            if not handling and await leadership.try_acquire():
                await _start_updates(app)
                handling = True
                log.info("handling updates (%s, %s)", services.process_id, config.telegram.mode)
            elif handling and not await leadership.still_held():
                await _stop_updates(app)
                handling = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CHECK_SECONDS)
    finally:
        if handling:
            await _stop_updates(app)
        await leadership.release()
        await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


async def _start_updates(app: CasebotApplication) -> None:
    from telegram import Update

    tg = app.services.config.telegram
    assert app.updater is not None
    if tg.mode == "webhook":
        path = "telegram"
        url = tg.webhook_url.rstrip("/")
        webhook = ConfirmingWebhook(
            app,
            listen=tg.listen,
            port=tg.port,
            path=path,
            webhook_url=url if url.endswith("/" + path) else f"{url}/{path}",
            secret_token=tg.secret_token,
            allowed_updates=Update.ALL_TYPES,
        )
        await webhook.start()
        app.services.extras["webhook"] = webhook
    else:
        poller = ConfirmingPoller(app, allowed_updates=Update.ALL_TYPES)
        await poller.start()
        app.services.extras["poller"] = poller


async def _stop_updates(app: CasebotApplication) -> None:
    for name in ("poller", "webhook"):
        receiver = app.services.extras.pop(name, None)
        if receiver is not None:
            await receiver.stop()
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()

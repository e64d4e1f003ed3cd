"""Running the bot for real: update-handling leadership, the watchdog, health, clean shutdown.

Telegram allows one getUpdates poller and a conversation's state lives in one process, so one
process at a time handles updates: on PostgreSQL, the one holding a session-level advisory
lock; the others stand by and take over within seconds when its connection dies. Every process
dispatches (claims are exclusive in the database) at its share of Telegram's per-bot budget.
On SQLite there is one process (the CLI holds a file lock), which is always the leader.

The leader gives up when polling cannot work:
- Telegram refuses the token (401/404): `PollingStopped` with EXIT_CONFIG and one clear line;
- getUpdates answers 409 Conflict (another poller with this token): on PostgreSQL the lock is
  released at once so a standby can take over, and this process waits HANDOVER_COOLDOWN s before
  it competes again; on SQLite the poller backs off and keeps trying;
- no getUpdates has succeeded for [telegram] poll_watchdog_seconds (the watchdog): on PostgreSQL
  leadership is handed over the same way; on SQLite `PollingStopped` with EXIT_WATCHDOG, so the
  supervisor (systemd) restarts the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram.error import InvalidToken

from bot.app.context import CasebotApplication
from bot.app.health import ROLE_LEADER, ROLE_STANDBY, Health, HealthServer
from bot.app.polling import Poller
from bot.app.webhook import ConfirmingWebhook
from bot.config import TelegramConfig
from storage.db import Database

log = logging.getLogger(__name__)

# Any constant works: it only has to be the same in every process of one deployment.
UPDATES_LOCK_KEY = 0x0CA5EB01
CHECK_SECONDS = 2.0
HANDOVER_COOLDOWN = 15.0  # after giving leadership up, let a standby have it this long
EXIT_CONFIG = 2  # the operator must fix something (the token)
EXIT_WATCHDOG = 75  # EX_TEMPFAIL: polling stalled; a restart may help


PRIVATE_UMASK = 0o077  # files we create: owner read/write only (0600), directories 0700
SQLITE_SUFFIXES = ("", "-wal", "-shm", ".lock")


def restrict_file_modes(sqlite_path: Path | None = None) -> None:
    """Files this process creates are its user's alone (umask 077), and a SQLite database
    created by an older version (0644) is tightened to 0600 with its WAL, SHM and lock.

    Patient data lives in these files; the process's whole life, every command included
    (backups, restores, the checkpoint file), runs under this umask."""
    os.umask(PRIVATE_UMASK)
    if sqlite_path is None:
        return
    for suffix in SQLITE_SUFFIXES:
        path = Path(str(sqlite_path) + suffix)
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)


class PollingStopped(Exception):
    """Update handling cannot go on in this process: `status` is the exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Leadership:
    """Who handles updates. Always this process on SQLite; an advisory lock on PostgreSQL."""

    def __init__(self, db: Database, *, key: int = UPDATES_LOCK_KEY) -> None:
        self.db = db
        self.key = key
        self._conn: AsyncConnection | None = None
        self.held = False

    @property
    def shared(self) -> bool:
        """Whether other processes can take over (PostgreSQL)."""
        return self.db.dialect == "postgresql"

    async def try_acquire(self) -> bool:
        if not self.shared:
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
        if not self.shared:
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


async def serve(
    app: CasebotApplication,
    *,
    stop: asyncio.Event | None = None,
    lock_key: int = UPDATES_LOCK_KEY,
) -> None:
    """Run until SIGINT/SIGTERM (or `stop`): dispatch always, handle updates when leader.

    Raises PollingStopped when update handling cannot go on here (see the module docstring).
    """
    services = app.services
    config = services.config
    tg = config.telegram
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            signals.append(sig)
    leadership = Leadership(services.db, key=lock_key)
    health = Health(
        mode=tg.mode, process_id=services.process_id, watchdog_seconds=tg.poll_watchdog_seconds
    )
    services.extras["health"] = health
    health_server = (
        HealthServer(health, listen=tg.health_listen, port=tg.health_port)
        if tg.health_port
        else None
    )
    if health_server is not None:
        health_server.start()
    try:
        await app.initialize()
    except InvalidToken:
        await _close_quietly(health_server, signals, loop)
        raise PollingStopped(
            "Telegram refused the bot token (getMe answered 401/404): check telegram.token "
            "(and telegram.base_url)",
            EXIT_CONFIG,
        ) from None
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    await start_audit_checkpoints(app)
    receiver: Poller | ConfirmingWebhook | None = None
    compete_after = 0.0
    try:
        while not stop.is_set():
            if receiver is None:
                if loop.time() >= compete_after and await leadership.try_acquire():
                    receiver = await _start_updates(app, health)
                    log.info("handling updates (%s, %s)", services.process_id, tg.mode)
            elif not await leadership.still_held():
                await _stop_updates(app, receiver, health)
                receiver = None
            elif isinstance(receiver, Poller) and (trouble := _trouble(receiver, tg)):
                kind, reason = trouble
                if kind == FATAL:
                    raise PollingStopped(reason, EXIT_CONFIG)
                if leadership.shared:
                    log.warning("%s; handing update handling to another process", reason)
                    await _stop_updates(app, receiver, health)
                    receiver = None
                    await leadership.release()
                    compete_after = loop.time() + HANDOVER_COOLDOWN
                elif kind == STALLED:
                    raise PollingStopped(reason, EXIT_WATCHDOG)
            health.role = ROLE_LEADER if receiver is not None else ROLE_STANDBY
            await _wait(stop, receiver.attention if isinstance(receiver, Poller) else None)
    finally:
        if receiver is not None:
            await _stop_updates(app, receiver, health)
        await leadership.release()
        await audit_checkpoint(app)
        await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
        await _close_quietly(health_server, signals, loop)


async def audit_checkpoint(app: CasebotApplication) -> None:
    """Append a signed checkpoint of the audit chain to the file and the log; a failure is
    logged (the next one covers the chain as well), never fatal."""
    from bot.services.audit_trail import write_checkpoint

    services = app.services
    try:
        await write_checkpoint(services.db, services.config, now=services.clock.now())
    except Exception as exc:  # noqa: BLE001 - the bot keeps serving; the log says why
        log.warning("audit checkpoint failed: %s", type(exc).__name__)


async def start_audit_checkpoints(app: CasebotApplication) -> None:
    """One checkpoint now, then every [audit] checkpoint_minutes (and one at shutdown)."""
    await audit_checkpoint(app)
    minutes = app.services.config.audit.checkpoint_minutes
    if app.job_queue is not None and minutes > 0:

        async def job(_context: object) -> None:
            await audit_checkpoint(app)

        app.job_queue.run_repeating(job, interval=minutes * 60, name="audit-checkpoint")


FATAL, CONFLICT, STALLED = "fatal", "conflict", "stalled"


def _trouble(poller: Poller, tg: TelegramConfig) -> tuple[str, str] | None:
    """Why this leader should give up polling (FATAL, CONFLICT or STALLED, and a line), or
    None. On SQLite a conflict is left to the poller's backoff (and, if it lasts, the
    watchdog)."""
    poller.attention.clear()
    status = poller.status()
    if status.fatal is not None:
        return FATAL, status.fatal
    if not status.running:
        return STALLED, f"polling stopped unexpectedly ({status.last_failure or 'no reason'})"
    if status.seconds_since_success >= tg.poll_watchdog_seconds:
        return STALLED, (
            f"watchdog: no successful getUpdates for {status.seconds_since_success:.0f} s "
            f"(last failure: {status.last_failure or 'none'}; limit "
            f"telegram.poll_watchdog_seconds = {tg.poll_watchdog_seconds})"
        )
    if status.in_conflict:
        return CONFLICT, "another instance is polling with this bot's token (409 Conflict)"
    return None


async def _wait(stop: asyncio.Event, attention: asyncio.Event | None) -> None:
    """Until the next check: CHECK_SECONDS, or sooner on stop or the poller's attention."""
    events = [stop] + ([attention] if attention is not None else [])
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=CHECK_SECONDS, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def _start_updates(app: CasebotApplication, health: Health) -> Poller | ConfirmingWebhook:
    from telegram import Update

    tg = app.services.config.telegram
    if app.services.caseloads is not None:  # another process may have handled updates
        app.services.caseloads.clear()
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
        return webhook
    poller = Poller(app, allowed_updates=Update.ALL_TYPES)
    await poller.start()
    health.poll_status = poller.status
    return poller


async def _stop_updates(
    app: CasebotApplication, receiver: Poller | ConfirmingWebhook, health: Health
) -> None:
    health.poll_status = None
    await receiver.stop()
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()


async def _close_quietly(
    server: HealthServer | None,
    signals: list[signal.Signals],
    loop: asyncio.AbstractEventLoop,
) -> None:
    if server is not None:
        await server.stop()
    for sig in signals:
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(sig)

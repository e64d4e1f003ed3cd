"""Engine, session factory and unit of work.

Owns how connections are made and how transactions begin and end. SQLite runs in WAL with
foreign keys on and a busy timeout, and write transactions begin IMMEDIATE so that concurrent
read-modify-write never loses an update. Repository functions never commit: `uow()` does.
Must not import telegram, handlers or bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import due

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 15_000
DueListener = Callable[[due.DueChanges], None]


class DatabaseUnavailable(Exception):
    """The database could not be reached or refused the transaction; nothing was saved."""


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


class Database:
    """One engine and its session factory; `uow()` is the only way to get a session."""

    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 10, schema: str | None = None
    ) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url, **engine_options(url, echo=echo, pool_size=pool_size, schema=schema)
        )
        if is_sqlite(url):
            _configure_sqlite(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        # SQLite has one writer at a time. Queue this process's write transactions here, in
        # order, rather than letting them spin in SQLite's busy handler (which wastes the
        # time it sleeps and times out under load). Other processes still meet the busy
        # timeout.
        self._sqlite_writer = asyncio.Lock() if is_sqlite(url) else None
        # Reads need no write lock: on SQLite they begin DEFERRED and see a WAL snapshot.
        self.read_sessions = async_sessionmaker(
            self.engine.execution_options(casebot_begin="DEFERRED"), expire_on_commit=False
        )
        self._listeners: list[DueListener] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def uow(self, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """One transaction: commits when the block ends, rolls back if it raises.

        Database faults surface as DatabaseUnavailable so callers can tell the nurse plainly
        that nothing was saved.
        """
        try:
            factory = self.read_sessions if read_only else self.sessions
            writer = None if read_only else self._sqlite_writer
            async with contextlib.AsyncExitStack() as stack:
                if writer is not None:
                    await stack.enter_async_context(writer)
                session = await stack.enter_async_context(factory())
                await stack.enter_async_context(session.begin())
                yield session
        except (OperationalError, DBAPIError, OSError, ConnectionError) as exc:
            if isinstance(exc, DBAPIError) and not _is_connectivity_error(exc):
                raise
            raise DatabaseUnavailable(type(exc).__name__) from exc
        changes = due.committed(session)
        if changes is not None:
            self._tell(changes)

    def on_commit(self, listener: DueListener) -> None:
        """Call `listener` with what each committed transaction noted (storage.due), after
        the commit, in the committing task. It must be quick and must not raise."""
        self._listeners.append(listener)

    def remove_listener(self, listener: DueListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _tell(self, changes: due.DueChanges) -> None:
        for listener in list(self._listeners):
            try:
                listener(changes)
            except Exception:  # a listener's fault must not fail a committed use case
                log.exception("a commit listener failed")

    async def ping(self) -> None:
        """Raise DatabaseUnavailable unless a trivial query succeeds."""
        from sqlalchemy import text

        async with self.uow(read_only=True) as session:
            await session.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


PG_STATEMENT_CACHE = 500
"""Prepared statements kept per PostgreSQL connection. casebot runs a few hundred distinct
statements (each built once, bound parameters); asyncpg's default of 100 would evict and
prepare them again all day."""


def engine_options(
    url: str, *, echo: bool = False, pool_size: int = 10, schema: str | None = None
) -> dict[str, Any]:
    """create_async_engine's arguments: the pool and the driver's settings.

    PostgreSQL: `pool_size` connections kept open (plus as many again at a peak), most
    recently used first so that a quiet bot keeps few warm ones; every statement prepared
    once per connection and reused (asyncpg's statement cache, SQLAlchemy's
    prepared_statement_cache_size). The handlers run up to 256 updates at once but each
    holds a connection only for its transaction, so they queue for the pool briefly rather
    than opening hundreds of server processes on a few cores. SQLite: one file, its busy
    timeout (writers are queued in order by `Database`)."""
    # Statement parameters are patient data: never in logs or exception messages.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if is_sqlite(url):
        if ":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:"):
            raise ValueError("use a file for SQLite: in-memory databases are per connection")
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        return kwargs
    connect_args: dict[str, Any] = {
        "prepared_statement_cache_size": PG_STATEMENT_CACHE,
        "statement_cache_size": PG_STATEMENT_CACHE,
    }
    if schema is not None:  # PostgreSQL schema (search_path), e.g. one per test
        connect_args["server_settings"] = {"search_path": schema}
    kwargs.update(
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,  # a connection the server dropped is replaced, not failed
        pool_use_lifo=True,
        pool_recycle=1800,
        connect_args=connect_args,
    )
    return kwargs


def _is_connectivity_error(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        return True
    name = type(exc.orig).__name__ if exc.orig is not None else ""
    return any(
        part in name
        for part in ("Connection", "CannotConnectNow", "AdminShutdown", "TooManyConnections")
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, busy timeout; BEGIN IMMEDIATE for write transactions."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite (which begins lazily and deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("casebot_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

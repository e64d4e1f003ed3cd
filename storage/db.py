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
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import audit, due

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 15_000
# PostgreSQL: a server that accepts the connection and then says nothing (hung, black-holed)
# must not keep a nurse waiting for asyncpg's default 60 s; nor a statement stuck behind a lock,
# nor a wait for a pooled connection. Each surfaces as DatabaseUnavailable ("NOT saved").
PG_CONNECT_TIMEOUT = 5.0
PG_COMMAND_TIMEOUT = 15.0
POOL_TIMEOUT = 10.0
# SQLSTATE classes and codes that mean "the database cannot take this transaction now", as
# opposed to a fault of ours (syntax, constraint): connection (08), login refused (28), no such
# database (3D), out of resources such as a full disk (53), operator intervention such as a
# statement timeout or shutdown (57), system/I-O error (58), and single codes: read only (25006),
# serialization failure and deadlock (40001, 40P01), lock not available (55P03), idle session or
# transaction timeouts (25P03, 57P05).
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "28", "3D", "53", "57", "58")
UNAVAILABLE_SQLSTATES = ("25006", "40001", "40P01", "55P03", "25P03")
# SQLite primary result codes with the same meaning: busy, locked, out of memory, read only,
# I/O error, corrupt, full, cannot open, protocol, not a database.
UNAVAILABLE_SQLITE_CODES = frozenset({5, 6, 7, 8, 10, 11, 13, 14, 15, 26})
DueListener = Callable[[due.DueChanges], None]


class DatabaseUnavailable(Exception):
    """The database could not be reached or refused the transaction; nothing was saved."""


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


class Database:
    """One engine and its session factory; `uow()` is the only way to get a session."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 10,
        schema: str | None = None,
        audit_key: str = "",
    ) -> None:
        """`audit_key`: the audit chain's HMAC key ([audit] key). Without one, SQLite uses the
        key file beside the database (made on first use) and PostgreSQL writes the unkeyed
        legacy chain (the CLI refuses to serve PostgreSQL without a key)."""
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url, **engine_options(url, echo=echo, pool_size=pool_size, schema=schema)
        )
        if is_sqlite(url):
            _configure_sqlite(self.engine)
        self.audit_key = _audit_key(url, audit_key)
        info = {audit.SESSION_KEY: self.audit_key}
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=True, info=info
        )
        # SQLite has one writer at a time. Queue this process's write transactions here, in
        # order, rather than letting them spin in SQLite's busy handler (which wastes the
        # time it sleeps and times out under load). Other processes still meet the busy
        # timeout.
        self._sqlite_writer = WriterQueue() if is_sqlite(url) else None
        # Reads need no write lock: on SQLite they begin DEFERRED and see a WAL snapshot.
        self.read_sessions = async_sessionmaker(
            self.engine.execution_options(casebot_begin="DEFERRED"),
            expire_on_commit=False,
            info=info,
        )
        self._listeners: list[DueListener] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def uow(
        self, *, read_only: bool = False, urgent: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """One transaction: commits when the block ends, rolls back if it raises.

        Database faults surface as DatabaseUnavailable so callers can tell the nurse plainly
        that nothing was saved. `urgent` write transactions go before the others queued on
        SQLite's one writer (the poller keeping a fetched batch, which every chat waits for).
        """
        try:
            factory = self.read_sessions if read_only else self.sessions
            writer = None if read_only else self._sqlite_writer
            async with contextlib.AsyncExitStack() as stack:
                if writer is not None:
                    await writer.acquire(urgent=urgent)
                    stack.callback(writer.release)
                session = await stack.enter_async_context(factory())
                await stack.enter_async_context(session.begin())
                yield session
        except (DBAPIError, OSError, PoolTimeout) as exc:
            if isinstance(exc, DBAPIError) and not is_unavailable(exc):
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
        "timeout": PG_CONNECT_TIMEOUT,
        "command_timeout": PG_COMMAND_TIMEOUT,
    }
    if schema is not None:  # PostgreSQL schema (search_path), e.g. one per test
        connect_args["server_settings"] = {"search_path": schema}
    kwargs.update(
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,  # a connection the server dropped is replaced, not failed
        pool_use_lifo=True,
        pool_recycle=1800,
        pool_timeout=POOL_TIMEOUT,
        connect_args=connect_args,
    )
    return kwargs


def _audit_key(url: str, configured: str) -> bytes | None:
    if configured:
        return configured.encode()
    if is_sqlite(url):
        database = make_url(url).database
        if database:
            return audit.load_or_create_key_file(audit.key_file_for(Path(database)))
    return None


class WriterQueue:
    """A lock granted in order, urgent waiters first (SQLite's one writer, in this process)."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    async def acquire(self, *, urgent: bool = False) -> None:
        if not self._held and not self._urgent and not self._normal:
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._normal
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted as it was cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    queue.remove(waiter)
            raise

    def release(self) -> None:
        """Hand the lock to the next waiter (urgent ones first), or free it."""
        for queue in (self._urgent, self._normal):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # still held: handed over
                    return
        self._held = False


def is_unavailable(exc: DBAPIError) -> bool:
    """Whether a driver error means the database cannot take the transaction now (down,
    refusing the login, read only, full, timing out) rather than a fault in our statement."""
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return True
    for cause in _chain(exc.orig):
        if isinstance(cause, OSError):  # refused, reset, timed out (TimeoutError is one)
            return True
        state = getattr(cause, "sqlstate", None)
        if isinstance(state, str) and (
            state.startswith(UNAVAILABLE_SQLSTATE_CLASSES) or state in UNAVAILABLE_SQLSTATES
        ):
            return True
        code = getattr(cause, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in UNAVAILABLE_SQLITE_CODES:
            return True
        name = type(cause).__name__
        if any(part in name for part in ("Connection", "CannotConnectNow", "TooManyConnections")):
            return True
    return False


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 10:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


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

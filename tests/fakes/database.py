"""Database faults for tests: real failures where the test can make them without harming a shared
server, injected driver errors where it cannot (a full disk).

- `unreachable_url`: a port nothing listens on (connection refused).
- `silent_server`: a socket that accepts connections and never answers (a hung server, a
  black-holed network): the connect times out.
- `refused_login` (PostgreSQL): a role of the test's own, then `ALTER ROLE ... NOLOGIN`, as an
  administrator disabling an account or rotating its password would; the shared server runs on.
- `read_only_role` (PostgreSQL): a role whose transactions default to read only (a replica, a
  server in recovery): reads work, every write is refused with SQLSTATE 25006.
- `SqliteFault`: the engine of a real Database raises a driver error (sqlite3, with its error
  code as SQLite would set it) on the statements chosen: "database or disk is full" on writes,
  "attempt to write a readonly database", an I/O error.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url

from storage.db import Database

# SQLite primary result codes (sqlite3.h).
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_FULL = 13

WRITES = ("INSERT", "UPDATE", "DELETE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def unreachable_url() -> str:
    """A PostgreSQL URL whose port nothing listens on (bound then released)."""
    return f"postgresql+asyncpg://casebot@127.0.0.1:{free_port()}/nowhere"


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A PostgreSQL URL whose server accepts the connection and then says nothing."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # kept open, never answered

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"postgresql+asyncpg://casebot@127.0.0.1:{port}/silent"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def _role(admin_url: str, *, schema: str | None, options: str = "") -> AsyncIterator[str]:
    """A LOGIN role of this test's own (dropped afterwards); yields its URL."""
    name = f"casebot_fault_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(_dsn(admin_url))
    try:
        await conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'fault-test' {options}")
        if schema is not None:
            await conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {name}')
            await conn.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO {name}')
            await conn.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO {name}')
        url = make_url(admin_url).set(username=name, password="fault-test")
        yield url.render_as_string(hide_password=False)
    finally:
        if schema is not None:
            await conn.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {name}')
            await conn.execute(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM {name}')
            await conn.execute(f'REVOKE ALL ON SCHEMA "{schema}" FROM {name}')
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", name
        )
        await conn.execute(f"DROP ROLE IF EXISTS {name}")
        await conn.close()


@asynccontextmanager
async def refused_login(admin_url: str) -> AsyncIterator[tuple[str, Callable[[], Any]]]:
    """(url, disable): a working role's URL, and a coroutine function that disables the role
    (ALTER ROLE ... NOLOGIN) and ends its sessions, so every new connection is refused."""
    async with _role(admin_url, schema=None) as url:
        name = make_url(url).username

        async def disable() -> None:
            conn = await asyncpg.connect(_dsn(admin_url))
            try:
                await conn.execute(f"ALTER ROLE {name} NOLOGIN")
                await conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
                    name,
                )
            finally:
                await conn.close()

        yield url, disable


@asynccontextmanager
async def read_only_role(admin_url: str, schema: str) -> AsyncIterator[str]:
    """A role that may read and write `schema` but whose transactions are read only."""
    async with _role(admin_url, schema=schema) as url:
        name = make_url(url).username
        conn = await asyncpg.connect(_dsn(admin_url))
        try:
            await conn.execute(f"ALTER ROLE {name} SET default_transaction_read_only = on")
        finally:
            await conn.close()
        yield url


class SqliteFault:
    """Make `db`'s SQLite engine raise `kind(message)` (with SQLite's error code) on every
    statement that starts with one of `verbs` while armed."""

    def __init__(
        self,
        db: Database,
        *,
        message: str,
        code: int,
        verbs: tuple[str, ...],
        kind: type[sqlite3.Error] = sqlite3.OperationalError,
    ) -> None:
        self.kind = kind
        self.db = db
        self.message = message
        self.code = code
        self.verbs = verbs
        self.armed = False
        self.raised = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._before)

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.armed and statement.lstrip().upper().startswith(self.verbs):
            self.raised += 1
            error = self.kind(self.message)
            error.sqlite_errorcode = self.code
            raise error

    def remove(self) -> None:
        event.remove(self.db.engine.sync_engine, "before_cursor_execute", self._before)


DISK_FULL = {"message": "database or disk is full", "code": SQLITE_FULL, "verbs": WRITES}
READ_ONLY = {
    "message": "attempt to write a readonly database",
    "code": SQLITE_READONLY,
    "verbs": WRITES,
}
IO_ERROR = {"message": "disk I/O error", "code": SQLITE_IOERR, "verbs": ("SELECT", *WRITES)}

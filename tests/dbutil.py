"""Test databases: a SQLite file per test, and a PostgreSQL schema per test when
CASEBOT_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from storage.db import Database
from storage.migrate import upgrade

PG_ENV = "CASEBOT_TEST_DATABASE_URL"
# The audit chain's key on PostgreSQL in tests (SQLite uses the key file beside the database).
TEST_AUDIT_KEY = "test-audit-key-not-secret"
PG_SKIP_REASON = (
    f"PostgreSQL tests need {PG_ENV} "
    "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test); .ci/run sets it"
)


def pg_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def pg_schema() -> AsyncIterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards."""
    url = pg_url()
    assert url is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        yield schema
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


_TEMPLATE: Path | None = None


async def _migrated_sqlite_template() -> Path:
    """An empty SQLite database migrated to head, made once per test process through the real
    migrations (tests/storage/test_migrations.py checks them on a database of its own)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        path = Path(tempfile.mkdtemp(prefix="casebot-template-")) / "template.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(db)
        finally:
            await db.dispose()
        for leftover in path.parent.glob("template.db.*"):  # its audit key file, WAL/SHM
            leftover.unlink()
        _TEMPLATE = path
    return _TEMPLATE


@asynccontextmanager
async def fresh_database(
    kind: str, tmp_path: Path, *, migrate: bool = True
) -> AsyncIterator[Database]:
    """An empty database of `kind` ("sqlite" or "postgres"), migrated to head by default."""
    if kind == "sqlite":
        path = tmp_path / "casebot.db"
        if migrate:  # a copy of one file migrated once per test process, not nine migrations
            shutil.copyfile(await _migrated_sqlite_template(), path)
            path.chmod(0o600)
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            yield db
        finally:
            await db.dispose()
        return
    async with pg_schema() as schema:
        url = pg_url()
        assert url is not None
        db = Database(url, schema=schema, pool_size=5, audit_key=TEST_AUDIT_KEY)
        try:
            if migrate:
                await upgrade(db)
            yield db
        finally:
            await db.dispose()

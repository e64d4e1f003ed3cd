"""The engine's PostgreSQL settings (storage.db.engine_options): statements are prepared once
per connection and kept, the pool is bounded; SQLite gets its busy timeout."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import (
    PG_COMMAND_TIMEOUT,
    PG_CONNECT_TIMEOUT,
    PG_STATEMENT_CACHE,
    POOL_TIMEOUT,
    Database,
    engine_options,
)


def test_postgres_keeps_prepared_statements_in_a_bounded_pool() -> None:
    options = engine_options("postgresql+asyncpg://u@h/db", pool_size=7, schema="s1")
    assert options["pool_size"] == 7
    assert options["max_overflow"] == 7
    assert options["hide_parameters"] is True  # parameters are patient data
    connect = options["connect_args"]
    assert connect["prepared_statement_cache_size"] == PG_STATEMENT_CACHE
    assert connect["statement_cache_size"] == PG_STATEMENT_CACHE
    assert connect["server_settings"] == {"search_path": "s1"}
    # a hung server or a long wait for a pooled connection ends in "NOT saved", not a hang
    assert connect["timeout"] == PG_CONNECT_TIMEOUT
    assert connect["command_timeout"] == PG_COMMAND_TIMEOUT
    assert options["pool_timeout"] == POOL_TIMEOUT


def test_sqlite_has_its_busy_timeout_and_no_memory_database(tmp_path: Path) -> None:
    options = engine_options(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert options["connect_args"] == {"timeout": 15.0}
    assert "pool_size" not in options
    with pytest.raises(ValueError, match="use a file"):
        engine_options("sqlite+aiosqlite:///:memory:")


async def test_a_statement_run_twice_is_prepared_once(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        cache = raw.dbapi_connection._prepared_statement_cache  # type: ignore[union-attr]
        assert cache.capacity == PG_STATEMENT_CACHE
        for value in (1, 2):
            await conn.execute(text("SELECT CAST(:v AS INTEGER) + 1"), {"v": value})
        assert len([k for k in cache if "+ 1" in k]) == 1

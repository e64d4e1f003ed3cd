"""A process that increments one counter N times with read-modify-write transactions.

Used by test_sqlite_concurrency: `python -m tests.storage.rmw_worker MODE FILE N GO_FILE`.
MODE "casebot" uses storage.db.Database (BEGIN IMMEDIATE); "pysqlite" uses the sqlite3
module's defaults. Prints "ok <errors>" where errors counts "database is locked" failures.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from pathlib import Path

from sqlalchemy import text

from storage.db import Database


def _wait_for(go: Path) -> None:
    """Say this worker is ready (imports done, connection open), then wait for the start."""
    Path(f"{go}.ready.{os.getpid()}").touch()
    deadline = time.monotonic() + 30
    while not go.exists():
        if time.monotonic() > deadline:
            raise SystemExit("no go signal")
        time.sleep(0.005)


async def casebot_mode(path: str, n: int, go: Path) -> int:
    db = Database(f"sqlite+aiosqlite:///{path}")
    _wait_for(go)
    for _ in range(n):
        async with db.uow() as session:
            value = (await session.execute(text("SELECT n FROM counter WHERE id = 1"))).scalar_one()
            await asyncio.sleep(0.002)
            await session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": value + 1})
    await db.dispose()
    return 0


def pysqlite_mode(path: str, n: int, go: Path) -> int:
    conn = sqlite3.connect(path, timeout=0.05)
    _wait_for(go)
    errors = 0
    for _ in range(n):
        try:
            value = conn.execute("SELECT n FROM counter WHERE id = 1").fetchone()[0]
            time.sleep(0.002)
            conn.execute("UPDATE counter SET n = ? WHERE id = 1", (value + 1,))
            conn.commit()
        except sqlite3.OperationalError:
            errors += 1
            conn.rollback()
    conn.close()
    return errors


def main() -> None:
    mode, path, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    errors = (
        asyncio.run(casebot_mode(path, n, go)) if mode == "casebot" else pysqlite_mode(path, n, go)
    )
    print(f"ok {errors}")


if __name__ == "__main__":
    main()

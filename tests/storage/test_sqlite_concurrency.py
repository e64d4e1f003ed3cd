"""Two processes doing read-modify-write on one SQLite file lose no update (BEGIN IMMEDIATE),
where the pysqlite default loses updates or fails with "database is locked"."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.db import Database

ROOT = Path(__file__).resolve().parents[2]
PER_PROCESS = 60


def _prepare(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    conn.execute("INSERT INTO counter VALUES (1, 0)")
    conn.commit()
    conn.close()


def _read(path: Path) -> int:
    conn = sqlite3.connect(path)
    value: int = conn.execute("SELECT n FROM counter").fetchone()[0]
    conn.close()
    return value


def _run_two(mode: str, path: Path, go: Path) -> list[int]:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.storage.rmw_worker",
                mode,
                str(path),
                str(PER_PROCESS),
                str(go),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    # Start both at once: a worker still importing when the other has finished would never
    # overlap with it, and the pysqlite contrast would then lose nothing by luck.
    deadline = time.monotonic() + 120
    while len(list(go.parent.glob(f"{go.name}.ready.*"))) < 2:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            for proc in procs:  # say why, and leave no process or pipe behind
                proc.kill()
            said = [proc.communicate()[1][-1000:] for proc in procs]
            raise AssertionError(f"workers did not get ready: {said}")
        time.sleep(0.01)
    go.touch()
    errors = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        errors.append(int(out.split()[-1]))
    return errors


@pytest.mark.slow
async def test_two_processes_lose_no_update_with_begin_immediate(tmp_path: Path) -> None:
    path = tmp_path / "rmw.db"
    _prepare(path)
    errors = await asyncio.to_thread(_run_two, "casebot", path, tmp_path / "go")
    assert errors == [0, 0]
    assert _read(path) == 2 * PER_PROCESS


@pytest.mark.slow
async def test_pysqlite_default_loses_updates(tmp_path: Path) -> None:
    """The contrast: the same workload with the driver's default transaction handling."""
    path = tmp_path / "rmw.db"
    _prepare(path)
    errors = await asyncio.to_thread(_run_two, "pysqlite", path, tmp_path / "go")
    # Updates are lost silently, or the transaction fails with "database is locked".
    assert _read(path) < 2 * PER_PROCESS
    assert _read(path) + sum(errors) <= 2 * PER_PROCESS


async def test_sqlite_connection_settings(sqlite_db: Database) -> None:
    from sqlalchemy import text

    async with sqlite_db.uow(read_only=True) as session:
        mode = (await session.execute(text("PRAGMA journal_mode"))).scalar_one()
        fks = (await session.execute(text("PRAGMA foreign_keys"))).scalar_one()
        busy = (await session.execute(text("PRAGMA busy_timeout"))).scalar_one()
    assert (mode, fks) == ("wal", 1)
    assert busy >= 5000

"""The restore drill: `casebot backup` while the bot runs, `casebot restore` refused while a bot
holds the database, then a lost database restored, checked, and served again."""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app.cli import SingleProcessLock
from bot.clock import ManualClock
from bot.config import Config
from bot.ops.backup import add_backup_commands, copy_sqlite, integrity_check, run_backup
from bot.services import audit_trail
from storage.audit import verify_chain
from storage.db import Database
from storage.models import AuditEvent
from tests.conftest import test_config
from tests.dbutil import pg_url
from tests.fakes.telegram import FakeTelegram
from tests.reliability.conftest import running_harness
from tests.reminder_support import add_patient


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="casebot")
    add_backup_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def _run(config: Config, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return run_backup(_args(*argv), config, out=out), out.getvalue()


async def _log(h: object, user: object, *lines: str) -> None:
    for line in lines:
        await h.send(user, line)  # type: ignore[attr-defined]
        assert "Saved" in h.last_text(user)  # type: ignore[attr-defined]


async def test_restore_drill(
    sqlite_db: Database, clock: ManualClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = test_config(tmp_path)
    live = tmp_path / "casebot.db"
    backup = tmp_path / "nightly.db"
    fake = FakeTelegram()
    async with running_harness(fake, sqlite_db, clock, tmp_path) as h:
        ana = await h.enroll("Ana")
        await add_patient(h, ana, "Maria Lopez")
        await _log(h, ana, *(f"spoke with Maria Lopez re refill {n}, f/u Fri" for n in range(3)))
        at_backup = await h.row_counts(except_audit=False)
        lock = SingleProcessLock(config.database.url)  # as `casebot run` holds it
        lock.acquire()
        try:
            status, shown = _run(config, "backup", "--out", str(backup))  # online, WAL open
            assert status == 0, shown
            assert "integrity check: ok" in shown
            status, _ = _run(config, "restore", str(backup))
            assert status == 2
            assert "stop the bot first" in capsys.readouterr().err
        finally:
            lock.release()
        await _log(h, ana, "spoke with Maria Lopez re after the backup, f/u Fri")
    # A checkpoint of the chain after the backup: the restore rolls it back, openly.
    assert await audit_trail.write_checkpoint(sqlite_db, config, now=clock.now()) is not None
    await sqlite_db.dispose()
    assert integrity_check(backup).ok
    status, _ = _run(config, "backup", "--out", str(backup))
    assert status == 2, "an existing backup is never overwritten"

    # The disk goes bad: the live database is garbage now.
    live.write_bytes(os.urandom(8192))  # noqa: ASYNC240 - test setup
    status, shown = _run(config, "restore", str(backup))
    assert status == 0, shown
    assert "integrity check: ok" in shown
    assert "previous database is kept" in shown
    assert "audit trail: restore from nightly.db recorded" in shown
    restored = Database(config.database.url)
    try:
        async with running_harness(fake, restored, clock, tmp_path) as h:
            # Everything as it was at the backup, and one event more: the restore itself,
            # naming the backup the trail was rolled back to.
            assert await h.row_counts(except_audit=False) == {
                **at_backup,
                "audit_events": at_backup["audit_events"] + 1,
            }
            async with restored.uow(read_only=True) as session:
                assert (await verify_chain(session)).ok
                last = await session.scalar(
                    select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)
                )
            assert last is not None
            assert last.action == "audit.restored"
            assert last.detail["backup"] == "nightly.db"
            assert last.detail["previous_kept_as"].startswith("casebot.db.before-restore-")
            report = await audit_trail.verify(restored, config)
            assert report.ok, report
            assert report.checkpoints_checked == 1  # the restore mark
            assert any("rolled back by the restore of nightly.db" in n for n in report.notes)
            await _log(h, ana, "spoke with Maria Lopez re after the restore, f/u Fri")
    finally:
        await restored.dispose()


def test_a_damaged_backup_is_refused_and_the_database_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    config = test_config(tmp_path)
    live = tmp_path / "casebot.db"
    with sqlite3.connect(live) as conn:
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
    conn.close()
    backup = tmp_path / "copy.db"
    copy_sqlite(live, backup)
    data = bytearray(backup.read_bytes())
    data[4096 : 4096 + 64] = b"\xff" * 64  # a torn b-tree page header
    backup.write_bytes(bytes(data))
    before = live.read_bytes()
    status, _ = _run(config, "restore", str(backup))
    assert status == 2
    assert "fails the integrity check" in capsys.readouterr().err
    assert live.read_bytes() == before
    status, _ = _run(config, "restore", str(tmp_path / "missing.db"))
    assert status == 2


@pytest.mark.postgres
async def test_postgres_backup_runs_pg_dump_and_prints_restore_guidance(tmp_path: Path) -> None:
    import shutil

    from tests.procs import pg_database

    base = pg_url()
    if base is None or shutil.which("pg_dump") is None:
        pytest.skip("needs CASEBOT_TEST_DATABASE_URL and pg_dump")
    async with pg_database(base) as url:
        config = test_config(tmp_path, CASEBOT_DATABASE_URL=url)
        dump = tmp_path / "casebot.dump"
        status, shown = _run(config, "backup", "--out", str(dump))
        assert "pg_dump" in shown
        if status != 0 and "version mismatch" in shown:
            pytest.skip("the local pg_dump is older than the server")
        assert status == 0, shown
        assert dump.stat().st_size > 0
        status, shown = _run(config, "restore", str(dump))
        assert status == 0
        assert "pg_restore --clean" in shown
        assert "--yes" in shown

"""The audit trail detects deletion, not only edits: the chain is keyed (HMAC-SHA256, the key
outside the database), signed checkpoints outside the database catch deleted newest events,
events written before the key keep verifying, and a restore is on the record."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from bot.app.cli import main
from bot.clock import ManualClock
from bot.config import ConfigError
from bot.services.audit_trail import require_audit_key
from storage import audit
from storage.db import Database
from storage.migrate import upgrade
from storage.models import AuditEvent
from tests.conftest import START, test_config
from tests.fakes.telegram import FakeTelegram
from tests.reliability.conftest import running_harness
from tests.reminder_support import add_patient

KEY = "trail-test-key"


def _config_file(tmp_path: Path, db_path: Path) -> list[str]:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "1:x"\n[database]\nurl = "sqlite+aiosqlite:///{db_path}"\n'
        f'[audit]\nkey = "{KEY}"\ncheckpoint_file = "{tmp_path / "checkpoints.jsonl"}"\n'
    )
    return ["--config", str(config), "audit"]


async def _activity(db_path: Path, tmp_path: Path) -> int:
    """The real bot writes reads and changes of patient data; the number of events."""
    db = Database(f"sqlite+aiosqlite:///{db_path}", audit_key=KEY)
    await upgrade(db)
    try:
        async with running_harness(FakeTelegram(), db, ManualClock(START), tmp_path) as h:
            ana = await h.enroll("Ana")
            await add_patient(h, ana, "Maria Lopez")
            await h.send(ana, "spoke with Maria Lopez re insulin, f/u Fri")
            assert "Saved" in h.last_text(ana)
            await h.send(ana, "/patient Maria Lopez")  # a read event
            await h.send(ana, "/patient Maria Lopez")
    finally:
        await db.dispose()
    with closing(sqlite3.connect(db_path)) as conn:
        return int(conn.execute("SELECT count(*) FROM audit_events").fetchone()[0])


def _delete_newest(db_path: Path, n: int) -> None:
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute(
            "DELETE FROM audit_events WHERE id IN "
            f"(SELECT id FROM audit_events ORDER BY id DESC LIMIT {n})"
        )
        conn.commit()


async def _delete_and_recompute_unkeyed(db_path: Path, *, from_start: bool = False) -> int:
    """An attacker with the database and the code, but not the key: deletes a read event and
    recomputes the hashes after it with the unkeyed SHA-256. The id deleted."""
    db = Database(f"sqlite+aiosqlite:///{db_path}", audit_key="not-the-key")
    try:
        async with db.uow() as session:
            events = list((await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all())
            victim = next(e for e in events if e.action == "patient.viewed")
            await session.execute(delete(AuditEvent).where(AuditEvent.id == victim.id))
            prev = ""
            for event in events:
                if event.id == victim.id:
                    continue
                if from_start or event.id > victim.id:
                    event.prev_hash = prev
                    event.hash = audit._legacy_digest(prev, event)
                prev = event.hash
        return victim.id
    finally:
        await db.dispose()


def test_tail_delete_is_reported_as_truncation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = tmp_path / "casebot.db"
    total = asyncio.run(_activity(db_path, tmp_path))
    base = _config_file(tmp_path, db_path)
    assert main([*base, "checkpoint"]) == 0
    assert main([*base, "verify"]) == 0
    shown = capsys.readouterr().out
    assert f"audit chain ok: {total} events" in shown
    assert "1 checkpoints checked" in shown

    _delete_newest(db_path, 2)  # the chain left is valid link by link
    assert main([*base, "verify"]) == 1
    shown = capsys.readouterr().out
    assert "truncated: the checkpoint of" in shown
    assert f"counted {total} events, the chain has {total - 2}" in shown
    assert "the newest events were deleted" in shown


def test_delete_and_recompute_with_the_unkeyed_hash_is_caught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = tmp_path / "casebot.db"
    asyncio.run(_activity(db_path, tmp_path))
    base = _config_file(tmp_path, db_path)
    victim = asyncio.run(_delete_and_recompute_unkeyed(db_path))
    assert main([*base, "verify"]) == 1
    shown = capsys.readouterr().out
    assert f"BROKEN at event id {victim + 1}" in shown  # the first recomputed event


def test_recomputing_the_whole_chain_unkeyed_is_caught_by_the_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = tmp_path / "casebot.db"
    asyncio.run(_activity(db_path, tmp_path))
    base = _config_file(tmp_path, db_path)
    assert main([*base, "checkpoint"]) == 0
    capsys.readouterr()
    # Every event recomputed unkeyed: link by link it now reads as an old, unkeyed chain.
    asyncio.run(_delete_and_recompute_unkeyed(db_path, from_start=True))
    assert main([*base, "verify"]) == 1
    assert "deleted or rewritten before the checkpoint" in capsys.readouterr().out


def test_a_forged_checkpoint_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db_path = tmp_path / "casebot.db"
    total = asyncio.run(_activity(db_path, tmp_path))
    base = _config_file(tmp_path, db_path)
    _delete_newest(db_path, 1)
    with closing(sqlite3.connect(db_path)) as conn:
        head_id, head_hash = conn.execute(
            "SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1"
        ).fetchone()
    forged = audit.Checkpoint(
        at="2026-11-23T16:30:00+00:00", count=total - 1, head_id=head_id, head_hash=head_hash
    )
    (tmp_path / "checkpoints.jsonl").write_text(forged.line(b"guessed-key") + "\n")
    assert main([*base, "verify"]) == 1
    assert "bad signature" in capsys.readouterr().out


async def test_events_written_before_the_key_keep_verifying(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}", audit_key=KEY)
    await upgrade(db)
    try:
        async with db.uow() as session:  # as version 0004 wrote them: unkeyed SHA-256
            session.info.pop(audit.SESSION_KEY)
            for n in range(3):
                await audit.record_audit(session, at=START, action="patient.read", entity_id=n)
        async with db.uow() as session:
            await audit.record_audit(session, at=START, action="patient.read", entity_id=9)
        async with db.uow(read_only=True) as session:
            report = await audit.verify_chain(session)
        assert report.ok
        assert (report.checked, report.legacy) == (4, 3)

        async with db.uow() as session:  # an unkeyed event after a keyed one: a break
            session.info.pop(audit.SESSION_KEY)
            late = await audit.record_audit(session, at=START, action="patient.read")
        async with db.uow(read_only=True) as session:
            report = await audit.verify_chain(session)
        assert report.first_bad_id == late.id
    finally:
        await db.dispose()


def test_postgresql_without_an_audit_key_is_a_clear_startup_error(tmp_path: Path) -> None:
    config = test_config(tmp_path, CASEBOT_DATABASE_URL="postgresql+asyncpg://u@127.0.0.1/db")
    with pytest.raises(ConfigError, match=r"audit\.key: required with PostgreSQL"):
        require_audit_key(config)
    keyed = test_config(
        tmp_path, CASEBOT_DATABASE_URL="postgresql+asyncpg://u@127.0.0.1/db", CASEBOT_AUDIT_KEY="k"
    )
    require_audit_key(keyed)


def test_sqlite_without_a_key_uses_a_private_key_file_beside_the_database(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    key_file = tmp_path / "demo.db.audit-key"
    assert db.audit_key == key_file.read_text().strip().encode()
    assert key_file.stat().st_mode & 0o777 == 0o600
    again = Database(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    assert again.audit_key == db.audit_key
    asyncio.run(db.dispose())
    asyncio.run(again.dispose())


def test_checkpoint_lines_hold_no_patient_data(tmp_path: Path) -> None:
    db_path = tmp_path / "casebot.db"
    asyncio.run(_activity(db_path, tmp_path))
    base = _config_file(tmp_path, db_path)
    assert main([*base, "checkpoint"]) == 0
    checkpoints = tmp_path / "checkpoints.jsonl"
    assert checkpoints.stat().st_mode & 0o777 == 0o600
    [line] = checkpoints.read_text().splitlines()
    assert set(json.loads(line)) == {"at", "count", "head_id", "head_hash", "kind", "backup", "sig"}
    assert "Maria" not in line

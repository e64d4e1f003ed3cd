"""`casebot audit verify` and `casebot audit export --since DATE` on a database the real bot
wrote: reads and changes of patient data are in the chain, a tampered event is found, the CSV
holds what was asked for."""

from __future__ import annotations

import asyncio
import csv
import sqlite3
from contextlib import closing
from datetime import UTC, timedelta
from pathlib import Path

import pytest

from bot.app.cli import main
from bot.clock import ManualClock
from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import START
from tests.fakes.telegram import FakeTelegram
from tests.reliability.conftest import running_harness
from tests.reminder_support import add_patient


async def _activity(db_path: Path, tmp_path: Path) -> list[tuple[str, int | None]]:
    db = Database(f"sqlite+aiosqlite:///{db_path}")
    await upgrade(db)
    try:
        async with running_harness(FakeTelegram(), db, ManualClock(START), tmp_path) as h:
            ana = await h.enroll("Ana")
            await add_patient(h, ana, "Maria Lopez")
            await h.send(ana, "spoke with Maria Lopez re insulin, f/u Fri")
            assert "Saved" in h.last_text(ana)
            await h.send(ana, "/patient Maria Lopez")
            await h.press(ana, "MRN")
            await h.send(ana, "A-77")
    finally:
        await db.dispose()
    with closing(sqlite3.connect(db_path)) as conn:
        return list(conn.execute("SELECT action, patient_id FROM audit_events ORDER BY id"))


def test_audit_verify_and_export_on_what_the_bot_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = tmp_path / "casebot.db"
    events = asyncio.run(_activity(db_path, tmp_path))
    with_patient = [action for action, patient in events if patient is not None]
    assert len(with_patient) >= 3, events  # the contact, the card read, the MRN change
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "1:x"\n[database]\nurl = "sqlite+aiosqlite:///{db_path}"\n'
    )
    base = ["--config", str(config), "audit"]

    assert main([*base, "verify"]) == 0
    assert f"audit chain ok: {len(events)} events" in capsys.readouterr().out

    out = tmp_path / "audit.csv"
    day = START.astimezone(UTC).date()  # --since is a UTC date (23:30 Chicago is tomorrow)
    assert main([*base, "export", "--since", day.isoformat(), "--out", str(out)]) == 0
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["action"] for r in rows] == [action for action, _ in events]
    assert all(r["hash"] for r in rows)
    next_day = (day + timedelta(days=1)).isoformat()
    assert main([*base, "export", "--since", next_day, "--out", str(out)]) == 0
    with out.open(newline="") as fh:
        assert list(csv.DictReader(fh)) == []

    # Someone edits an event in place: verify names it and fails.
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("UPDATE audit_events SET command = 'nothing to see' WHERE id = 3")
        conn.commit()
    assert main([*base, "verify"]) == 1
    assert "BROKEN at event id 3" in capsys.readouterr().out

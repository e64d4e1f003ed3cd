"""Patient-data files are the bot user's alone: the SQLite database with its WAL and SHM, a
backup, the copy a restore keeps aside, and the audit checkpoint file are 0600, including a
database an older version left 0644."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "CASEBOT_AUDIT_KEY": "modes-test"}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _casebot(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
        check=False,
    )


def test_database_wal_shm_backup_and_pre_restore_copy_are_0600(tmp_path: Path) -> None:
    db = tmp_path / "casebot.db"
    with closing(sqlite3.connect(db)):  # an older version's file, world-readable
        pass
    db.chmod(0o644)

    with subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", "chat"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=ENV,
    ) as chat:
        assert chat.stdin is not None
        assert chat.stdout is not None
        try:
            chat.stdin.write("Called Maria Lopez, discussed new insulin dose. f/u Friday\n")
            chat.stdin.flush()
            for line in chat.stdout:  # the bot is running, the database open in WAL mode
                if "Saved:" in line:
                    break
            live = {p.name: _mode(p) for p in tmp_path.glob("casebot.db*")}
            assert {"casebot.db", "casebot.db-wal", "casebot.db-shm"} <= set(live)
            assert set(live.values()) == {0o600}, live
            chat.stdin.write("/quit\n")
            chat.stdin.flush()
            assert chat.wait(timeout=60) == 0
        finally:
            if chat.poll() is None:
                chat.kill()

    backup = tmp_path / "nightly.db"
    done = _casebot(tmp_path, "backup", "--out", str(backup))
    assert done.returncode == 0, done.stderr
    assert _mode(backup) == 0o600

    db.chmod(0o644)  # even if someone loosened it since: the copy set aside is tightened
    done = _casebot(tmp_path, "restore", str(backup))
    assert done.returncode == 0, done.stderr
    kept = [p for p in tmp_path.glob("casebot.db.before-restore-*") if p.suffix != ".lock"]
    assert kept, done.stdout
    assert {p.name: _mode(p) for p in kept} == {p.name: 0o600 for p in kept}
    assert _mode(db) == 0o600
    for checkpoints in tmp_path.glob("*checkpoints*"):
        assert _mode(checkpoints) == 0o600

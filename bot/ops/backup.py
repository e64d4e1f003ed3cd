"""`casebot backup` and `casebot restore`: copies of the database that are known to be good.

SQLite: an online copy with sqlite3's backup API (consistent while the bot runs, WAL included),
then `PRAGMA integrity_check` on the copy. Restore checks the backup first, refuses while a bot
holds the database (the `<db>.lock` file a running bot keeps locked with fcntl.flock), keeps the
current file aside, copies the backup in with the same API, and checks the result.

PostgreSQL: `pg_dump --format=custom` if it is installed (else the command to run), and
`pg_restore` guidance; the password travels in PGPASSWORD, never on the command line.

Sync file I/O is fine here: these are one-shot CLI commands, not handlers. Must not import
telegram or handlers.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import URL, make_url

from bot.config import Config

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_REFUSED = 2


class BackupError(Exception):
    """A backup or restore that cannot go ahead, phrased for the operator (one line)."""


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str  # "ok", or the first lines integrity_check reported
    tables: int


def add_backup_commands(subparsers: Any) -> None:
    """Add `backup` and `restore` to the CLI's subcommands."""
    backup = subparsers.add_parser(
        "backup", help="copy the database to a file and check the copy (SQLite or PostgreSQL)"
    )
    backup.add_argument(
        "--out",
        type=Path,
        default=None,
        help="backup file (default: <database>.backup-<UTC time>.db, or .dump for PostgreSQL)",
    )
    restore = subparsers.add_parser(
        "restore",
        help="replace the database with a backup (the bot must be stopped)",
    )
    restore.add_argument("backup_file", type=Path, help="a file written by `casebot backup`")
    restore.add_argument(
        "--yes",
        action="store_true",
        help="PostgreSQL only: run pg_restore --clean (otherwise the command is printed)",
    )


def run_backup(args: argparse.Namespace, config: Config, *, out: IO[str] | None = None) -> int:
    """Run `backup` or `restore` as `args.command` says; print progress; return the status."""
    import sys

    stream = out or sys.stdout
    url = make_url(config.database.url)
    try:
        if args.command == "backup":
            if url.get_backend_name() == "sqlite":
                return _sqlite_backup(_sqlite_path(url), args.out, stream)
            return _pg_backup(url, args.out, stream)
        if args.command == "restore":
            if url.get_backend_name() == "sqlite":
                status, kept = _sqlite_restore(_sqlite_path(url), args.backup_file, stream)
                restored = status == EXIT_OK
            else:
                if args.yes:  # the restore event is signed like every other
                    from bot.services.audit_trail import require_audit_key

                    require_audit_key(config)
                status, kept = _pg_restore(url, args.backup_file, stream, run=args.yes), None
                restored = status == EXIT_OK and args.yes
            if restored:
                _record_restore(config, args.backup_file, kept, stream)
            return status
    except BackupError as exc:
        print(f"casebot: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    raise ValueError(f"not a backup command: {args.command}")


# -- SQLite ---------------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if not database or database == ":memory:":
        raise BackupError("database.url: an in-memory SQLite database cannot be backed up")
    return Path(database)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def integrity_check(path: Path) -> CheckResult:
    """`PRAGMA integrity_check` on a SQLite file; a file SQLite cannot read is not ok."""
    try:
        with closing(sqlite3.connect(path)) as conn:
            rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
            tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return CheckResult(ok=False, detail=str(exc), tables=0)
    ok = rows == ["ok"]
    return CheckResult(ok=ok, detail="ok" if ok else "; ".join(rows[:5]), tables=int(tables))


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (sqlite3's online backup API), readable
    by its owner only (0600, whatever the umask)."""
    target.touch(mode=0o600, exist_ok=True)
    target.chmod(0o600)
    with (
        closing(sqlite3.connect(source)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst, pages=1024)
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file


def _sqlite_backup(db_path: Path, out_path: Path | None, out: IO[str]) -> int:
    if not db_path.exists():
        raise BackupError(f"database.url: no SQLite file at {db_path}")
    target = out_path or db_path.with_name(f"{db_path.name}.backup-{_stamp()}.db")
    if target.exists():
        raise BackupError(f"{target} exists; choose another --out")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    copy_sqlite(db_path, partial)
    check = integrity_check(partial)
    if not check.ok:
        print(f"backup FAILED the integrity check: {check.detail}", file=out)
        print(f"the bad copy is kept at {partial} for inspection", file=out)
        return EXIT_FAILED
    partial.rename(target)
    size = target.stat().st_size
    print(f"backup written: {target} ({size} bytes, {check.tables} tables)", file=out)
    print("integrity check: ok", file=out)
    return EXIT_OK


@contextmanager
def _exclusive(db_path: Path) -> Iterator[None]:
    """Hold `<db>.lock` as a running bot does; refuse if a bot holds it."""
    lock_path = Path(str(db_path) + ".lock")
    with lock_path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"a running casebot holds {db_path} ({lock_path.name} is locked); stop the bot "
                "first, then restore"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _record_restore(config: Config, backup: Path, kept: Path | None, out: IO[str]) -> None:
    """The trail says it was rolled back: an audit event naming the backup, and a restore
    mark in the checkpoint file. Runs on its own event loop in a thread (the CLI may be
    called from async code, e.g. tests)."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.services.audit_trail import record_restore
    from storage.db import Database

    async def write() -> None:
        db = Database(config.database.url, audit_key=config.audit.key)
        try:
            await record_restore(db, config, now=datetime.now(UTC), backup=backup, kept=kept)
        finally:
            await db.dispose()

    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, write()).result()
    except Exception as exc:  # noqa: BLE001 - the files are restored; say what is missing
        print(
            f"WARNING: the restore is done but could not be recorded in the audit trail "
            f"({type(exc).__name__}); run `casebot db upgrade`, then `casebot audit verify`",
            file=out,
        )
        return
    print(f"audit trail: restore from {backup.name} recorded", file=out)


def _sqlite_restore(db_path: Path, backup: Path, out: IO[str]) -> tuple[int, Path | None]:
    if not backup.is_file():
        raise BackupError(f"no backup file at {backup}")
    check = integrity_check(backup)
    if not check.ok:
        raise BackupError(f"{backup} fails the integrity check ({check.detail}); not restored")
    with _exclusive(db_path):
        staged = db_path.with_name(db_path.name + ".restoring")
        staged.unlink(missing_ok=True)
        copy_sqlite(backup, staged)
        result = integrity_check(staged)
        if not result.ok:
            print(f"restore FAILED the integrity check: {result.detail}", file=out)
            staged.unlink()
            return EXIT_FAILED, None
        kept: Path | None = None
        if db_path.exists():
            # Set the current files aside as they are (they may be damaged: no SQLite API).
            kept = db_path.with_name(f"{db_path.name}.before-restore-{_stamp()}")
            for suffix in ("", "-wal", "-shm"):
                current = Path(str(db_path) + suffix)
                if current.exists():
                    aside = Path(str(kept) + suffix)
                    current.rename(aside)
                    aside.chmod(0o600)  # an older version's file may have been 0644
        os.replace(staged, db_path)
    print(
        f"restored {db_path} from {backup} ({result.tables} tables); integrity check: ok", file=out
    )
    if kept is not None:
        print(f"the previous database is kept at {kept}", file=out)
    print("run `casebot db upgrade` if the backup is from an older version", file=out)
    return EXIT_OK, kept


# -- PostgreSQL -----------------------------------------------------------------------------------


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """pg_dump connection arguments and environment (the password only in PGPASSWORD)."""
    args = ["--dbname", url.database or "postgres"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _shown(command: list[str]) -> str:
    return " ".join(command)


def _pg_backup(url: URL, out_path: Path | None, out: IO[str]) -> int:
    target = out_path or Path(f"casebot-{url.database or 'db'}-{_stamp()}.dump")
    conn, env = _libpq(url)
    command = ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *conn]
    print("PostgreSQL: back up with pg_dump (custom format; restore with pg_restore).", file=out)
    print("For point-in-time recovery, also archive the WAL (see PostgreSQL's docs).", file=out)
    if shutil.which("pg_dump") is None:
        print("pg_dump is not installed here; run on a machine that has it:", file=out)
        print(f"  PGPASSWORD=... {_shown(command)}", file=out)
        return EXIT_FAILED
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"pg_dump failed (status {done.returncode}): {done.stderr.strip()[:500]}", file=out)
        return EXIT_FAILED
    if shutil.which("pg_restore") is not None:
        listing = subprocess.run(
            ["pg_restore", "--list", str(target)], capture_output=True, text=True, check=False
        )
        if listing.returncode != 0:
            print(f"the dump at {target} cannot be read back by pg_restore", file=out)
            return EXIT_FAILED
    print(
        f"backup written: {target} ({target.stat().st_size} bytes); pg_restore --list: ok", file=out
    )
    return EXIT_OK


def _pg_restore(url: URL, backup: Path, out: IO[str], *, run: bool) -> int:
    if not backup.is_file():
        raise BackupError(f"no backup file at {backup}")
    conn, env = _libpq(url)
    command = ["pg_restore", "--clean", "--if-exists", "--no-owner", *conn, str(backup)]
    print("PostgreSQL: stop every casebot process first, then restore with:", file=out)
    print(f"  PGPASSWORD=... {_shown(command)}", file=out)
    if not run:
        print("(add --yes to run it now)", file=out)
        return EXIT_OK
    if shutil.which("pg_restore") is None:
        print("pg_restore is not installed here", file=out)
        return EXIT_FAILED
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(
            f"pg_restore failed (status {done.returncode}): {done.stderr.strip()[:500]}", file=out
        )
        return EXIT_FAILED
    print("restored", file=out)
    return EXIT_OK

"""The `casebot` command: run, chat, db, invite, revoke, nurses, parse, audit.

The entry point is the only place configuration is loaded and logging is set up. Problems the
operator can fix (bad config, unreachable database) end with one clear line and status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import fcntl
import json
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import make_url

from bot.app.logs import configure_logging
from bot.clock import SystemClock
from bot.config import Config, ConfigError, load_config
from bot.vocab import Role
from storage.audit import ChainReport
from storage.db import Database, DatabaseUnavailable, is_sqlite

EXIT_CONFIG = 2
DEFAULT_CONFIG = Path("config.toml")
log = logging.getLogger("casebot")


class CliError(Exception):
    """An operator-fixable problem: printed as one line, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="casebot",
        description="A Telegram assistant for nurse case managers.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML configuration file (default: ./config.toml if present; see config.example.toml)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser(
        "run",
        help="serve Telegram (polling or webhook); without a token, open the local chat demo",
    )
    chat = sub.add_parser("chat", help="talk to the bot in this terminal as a demo nurse")
    chat.add_argument("--fresh", action="store_true", help="start from an empty demo database")

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="migrate the database to the newest schema")
    db_sub.add_parser("current", help="print the schema revision of the database")

    invite = sub.add_parser("invite", help="print a one-time enrollment code and link")
    invite.add_argument("--role", choices=[r.value for r in Role], default="nurse")
    invite.add_argument("--team", default=None, help="team name (created if new)")
    invite.add_argument("--name", default=None, help="the nurse's display name")
    invite.add_argument(
        "--hours",
        type=_invite_hours,
        default=None,
        help=f"valid for, 1 to {MAX_INVITE_HOURS} hours (default 72)",
    )

    revoke = sub.add_parser(
        "revoke",
        help="revoke a nurse's access (takes effect at once) and hand her caseload over",
    )
    revoke.add_argument("telegram_user_id", type=int)
    handover = revoke.add_mutually_exclusive_group(required=True)
    handover.add_argument(
        "--to",
        metavar="NURSE",
        help="the new owner of her patients, open tasks and pending reminders: a nurse or the "
        "supervisor of her team (Telegram user id or display name)",
    )
    handover.add_argument(
        "--park",
        action="store_true",
        help="the team's supervisor holds her patients as unassigned (listed in /team, "
        "reassigned with buttons); their reminders go to the supervisor meanwhile",
    )

    sub.add_parser("nurses", help="list enrolled nurses")

    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    audit_sub.add_parser(
        "verify",
        help="check the keyed hash chain of every audit event, and the chain against the "
        "signed checkpoints (reports edits, deletions and deleted newest events)",
    )
    audit_sub.add_parser(
        "checkpoint", help="append a signed checkpoint of the chain to the checkpoint file"
    )
    export = audit_sub.add_parser("export", help="write audit events as CSV")
    export.add_argument("--since", default=None, help="YYYY-MM-DD (UTC)")
    export.add_argument("--out", type=Path, default=None, help="file (default: stdout)")

    _add_parse(sub)
    from bot.ops.seed import add_seed_command
    from bot.services.exports import add_export_command

    add_seed_command(sub)
    add_export_command(sub)
    from bot.ops.backup import add_backup_commands

    add_backup_commands(sub)
    return parser


def _add_parse(sub: Any) -> None:
    try:
        from bot.parsing.cli import add_parse_command
    except ImportError:  # the parser package is optional for the foundation
        return
    add_parse_command(sub)


MAX_INVITE_HOURS = 24 * 30


def _invite_hours(value: str) -> int:
    """--hours: a whole number from 1 to MAX_INVITE_HOURS (0 or less would print a code that is
    already expired, or silently mean the default)."""
    try:
        hours = int(value)
    except ValueError:
        hours = 0
    if not 1 <= hours <= MAX_INVITE_HOURS:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of hours from 1 to {MAX_INVITE_HOURS}, not {value!r}"
        )
    return hours


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "parse":
            from bot.parsing.cli import run_parse

            return int(run_parse(args))
        config = _load(args.config)
        _private_files(config)
        quiet = args.command == "chat" or (args.command == "run" and not config.telegram.token)
        configure_logging(
            logging.DEBUG if args.verbose else logging.WARNING if quiet else logging.INFO,
            config.telegram.token,
            config.telegram.secret_token,
        )
        return _dispatch(args, config)
    except (ConfigError, CliError) as exc:
        print(f"casebot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


def _private_files(config: Config) -> None:
    """umask 077 before any file is opened; an existing SQLite database tightened to 0600."""
    from bot.app.runner import restrict_file_modes

    url = config.database.url
    database = make_url(url).database if is_sqlite(url) else None
    restrict_file_modes(Path(database) if database else None)


def _load(path: Path | None) -> Config:
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    return load_config(path)


def _dispatch(args: argparse.Namespace, config: Config) -> int:
    command: str = args.command
    if command == "run":
        if not config.telegram.token:
            print(
                "No Telegram token configured (telegram.token or CASEBOT_TELEGRAM_TOKEN): "
                "opening the local chat with a demo caseload instead.",
                file=sys.stderr,
            )
            return _run_async(_chat(config, fresh=False))
        return _serve(config)
    if command in {"backup", "restore"}:
        from bot.ops.backup import run_backup

        return int(run_backup(args, config))
    if command == "seed":
        from bot.ops.seed import run_seed

        args.database_url = args.database_url or config.database.url
        return int(run_seed(args))
    if command == "export":
        from bot.services.exports import run_export

        return int(run_export(args, config))
    handlers: dict[str, Callable[[], Coroutine[Any, Any, int]]] = {
        "chat": lambda: _chat(config, fresh=args.fresh),
        "db": lambda: _db(config, args.db_command),
        "invite": lambda: _invite(config, args),
        "revoke": lambda: _revoke(config, args),
        "nurses": lambda: _nurses(config),
        "audit": lambda: _audit(config, args),
    }
    return _run_async(handlers[command]())


def _run_async(coro: Coroutine[Any, Any, int]) -> int:
    return asyncio.run(coro)


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def open_database(
    config: Config, *, upgrade: bool | None = None, audit: bool = True
) -> Database:
    """Connect, check the connection, and migrate if configured: or raise CliError.

    `audit`: the command writes or checks the audit chain, so it needs the audit key."""
    from bot.services.audit_trail import require_audit_key

    if audit:
        require_audit_key(config)
    db = Database(config.database.url, echo=config.database.echo, audit_key=config.audit.key)
    try:
        await db.ping()
        if config.database.upgrade_on_start if upgrade is None else upgrade:
            from storage.migrate import upgrade as do_upgrade

            await do_upgrade(db)
    except (DatabaseUnavailable, OSError) as exc:
        await db.dispose()
        raise CliError(
            f"{config.source}: database.url: cannot connect to {_safe_url(config.database.url)} "
            f"({type(exc.__cause__ or exc).__name__}); expected a reachable database"
        ) from None
    return db


async def _db(config: Config, action: str) -> int:
    from storage.migrate import current_revision, head_revision

    db = await open_database(config, upgrade=action == "upgrade", audit=False)
    try:
        current = await current_revision(db)
        print(f"database at revision {current} (newest: {head_revision()})")
    finally:
        await db.dispose()
    return 0


async def _invite(config: Config, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot.services.enrollment import create_invite

    db = await open_database(config)
    try:
        invite = await create_invite(
            db,
            config,
            SystemClock(),
            role=Role(args.role),
            team=args.team,
            display_name=args.name,
            ttl=timedelta(hours=args.hours) if args.hours is not None else None,
        )
    finally:
        await db.dispose()
    print(f"code:    {invite.code}")
    print(f"link:    {invite.deep_link(config.telegram.bot_username)}")
    print(f"or send: /start {invite.code}")
    print(f"expires: {invite.expires_at.astimezone(config.zone):%a %d %b %Y %H:%M %Z}")
    print("single use; give it to one person over a trusted channel")
    return 0


async def _revoke(config: Config, args: argparse.Namespace) -> int:
    from bot.services.enrollment import revoke

    db = await open_database(config)
    try:
        result = await revoke(
            db, SystemClock(), telegram_user_id=args.telegram_user_id, to=args.to, park=args.park
        )
    finally:
        await db.dispose()
    if not result.revoked:
        print(f"not revoked: {result.problem}")
        return 1
    print("revoked")
    if result.handed is not None:
        handed = result.handed
        where = (
            f"parked with {result.to_name} (unassigned, in /team)"
            if result.parked
            else f"handed to {result.to_name}"
        )
        print(
            f"{len(handed.patient_ids)} patients, {len(handed.task_ids)} open tasks, "
            f"{handed.deliveries_moved} pending reminders and {handed.appointments_moved} "
            f"appointments {where}"
        )
    return 0


async def _nurses(config: Config) -> int:
    from storage.people import list_nurses

    db = await open_database(config)
    try:
        async with db.uow(read_only=True) as session:
            rows = await list_nurses(session)
            for n in rows:
                state = "active" if n.active else "revoked"
                print(f"{n.telegram_user_id}\t{n.role.value}\t{state}\t{n.display_name}")
    finally:
        await db.dispose()
    return 0


async def _audit(config: Config, args: argparse.Namespace) -> int:
    from bot.services import audit_trail
    from storage.audit import iter_events

    db = await open_database(config)
    try:
        if args.audit_command == "verify":
            return _show_verification(await audit_trail.verify(db, config))
        if args.audit_command == "checkpoint":
            mark = await audit_trail.write_checkpoint(db, config, now=SystemClock().now())
            if mark is None:
                return 1
            print(f"checkpoint written to {audit_trail.checkpoint_path(config)}: {mark.describe()}")
            return 0
        async with db.uow(read_only=True) as session:
            try:
                since = (
                    datetime.fromisoformat(args.since).replace(tzinfo=UTC) if args.since else None
                )
            except ValueError:
                raise CliError(
                    f"audit export --since: expected a date as YYYY-MM-DD, got {args.since!r}"
                ) from None
            out: IO[str] = args.out.open("w", newline="") if args.out else sys.stdout
            writer = csv.writer(out)
            writer.writerow(
                [
                    "id",
                    "at",
                    "actor_nurse_id",
                    "actor_telegram_id",
                    "action",
                    "command",
                    "patient_id",
                    "entity",
                    "entity_id",
                    "detail",
                    "prev_hash",
                    "hash",
                ]
            )
            async for e in iter_events(session, since=since):
                writer.writerow(
                    [
                        e.id,
                        e.at.isoformat(),
                        e.actor_nurse_id,
                        e.actor_telegram_id,
                        e.action,
                        e.command,
                        e.patient_id,
                        e.entity,
                        e.entity_id,
                        json.dumps(e.detail, sort_keys=True),
                        e.prev_hash,
                        e.hash,
                    ]
                )
            if args.out:
                out.close()
    finally:
        await db.dispose()
    return 0


def _show_verification(report: ChainReport) -> int:
    for note in report.notes:
        print(f"note: {note}")
    for problem in report.problems:
        print(f"audit trail: {problem}")
    legacy = f", {report.legacy} of them unkeyed (before 0008)" if report.legacy else ""
    matched = f"; {report.checkpoints_checked} checkpoints checked"
    if report.first_bad_id is not None:
        print(
            f"audit chain BROKEN at event id {report.first_bad_id} "
            f"(the events before it are intact{legacy}){matched}"
        )
        return 1
    if report.problems:
        print(f"audit trail NOT intact: {report.checked} events{legacy}{matched}")
        return 1
    print(f"audit chain ok: {report.checked} events{legacy}{matched}")
    return 0


def _remove_sqlite_files(url: str) -> None:
    """A fresh demo: the database, its WAL/SHM, and its audit key and checkpoints."""
    path = Path(make_url(url).database or "")
    for suffix in ("", "-wal", "-shm", ".audit-key", ".audit-checkpoints.jsonl"):
        Path(str(path) + suffix).unlink(missing_ok=True)


class SingleProcessLock:
    """An exclusive lock beside a SQLite file: SQLite deployments run one bot process."""

    def __init__(self, database_url: str) -> None:
        database = make_url(database_url).database or "casebot.db"
        self.path = Path(database + ".lock")
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        fh = self.path.open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise CliError(
                f"database.url: another casebot process is already running on this SQLite "
                f"file ({self.path.name} is locked); SQLite deployments run one process, use "
                "PostgreSQL for several"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def _serve(config: Config) -> int:
    lock = SingleProcessLock(config.database.url) if is_sqlite(config.database.url) else None
    if lock is not None:
        lock.acquire()
    try:
        return _run_async(_serve_async(config))
    finally:
        if lock is not None:
            lock.release()


async def _serve_async(config: Config) -> int:
    from bot.app.factory import build_application
    from bot.app.runner import PollingStopped, serve

    db = await open_database(config)
    app = build_application(config, db=db)
    log.info(
        "casebot starting (%s mode, process %s)", config.telegram.mode, app.services.process_id
    )
    try:
        await serve(app)
    except PollingStopped as exc:
        print(f"casebot: {exc}", file=sys.stderr)
        return exc.status
    finally:
        await db.dispose()
    return 0


async def _chat(config: Config, *, fresh: bool) -> int:
    from bot.app.localchat import run_chat
    from bot.config import with_database

    if fresh and is_sqlite(config.database.url):
        _remove_sqlite_files(config.database.url)
    lock = SingleProcessLock(config.database.url) if is_sqlite(config.database.url) else None
    if lock is not None:
        lock.acquire()
    config = with_database(config, config.database.url)
    if not config.telegram.token:
        from dataclasses import replace

        config = replace(config, telegram=replace(config.telegram, token="local:chat-demo"))
    try:
        db = await open_database(config)
        try:
            await run_chat(
                config, db, SystemClock(), stdin=sys.stdin, interactive=sys.stdin.isatty()
            )
        finally:
            await db.dispose()
    finally:
        if lock is not None:
            lock.release()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

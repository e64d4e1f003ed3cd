"""The audit trail's use cases: signed checkpoints outside the database, verification against
them, and the event a restore writes.

The key comes from the configuration ([audit] key / CASEBOT_AUDIT_KEY) into storage.db.Database;
checkpoints go to a file (config [audit] checkpoint_file) and to the log, never to the database.
Must not import telegram or handlers.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.config import Config, ConfigError
from storage import audit
from storage.db import Database, is_sqlite

log = logging.getLogger(__name__)

PG_CHECKPOINT_FILE = "casebot-audit-checkpoints.jsonl"


def require_audit_key(config: Config) -> None:
    """PostgreSQL serves several processes that must sign with one key: refuse to start
    without it (SQLite falls back to a key file beside the database, see storage.audit)."""
    if not config.audit.key and not is_sqlite(config.database.url):
        raise ConfigError(
            f"{config.source}: audit.key: required with PostgreSQL (or set CASEBOT_AUDIT_KEY); "
            "expected a secret kept outside the database, the same in every process, e.g. the "
            'output of python3 -c "import secrets; print(secrets.token_hex(32))"'
        )


def checkpoint_path(config: Config) -> Path:
    if config.audit.checkpoint_file:
        return Path(config.audit.checkpoint_file)
    if is_sqlite(config.database.url):
        database = make_url(config.database.url).database or "casebot.db"
        return Path(database + audit.CHECKPOINT_FILE_SUFFIX)
    return Path(PG_CHECKPOINT_FILE)


async def write_checkpoint(
    db: Database, config: Config, *, now: datetime, kind: str = "checkpoint", backup: str = ""
) -> audit.Checkpoint | None:
    """Append a signed checkpoint of the chain to the file and the log (None: no key)."""
    if db.audit_key is None:
        log.warning("audit checkpoint skipped: no audit key")
        return None
    async with db.uow(read_only=True) as session:
        checkpoint = await audit.take_checkpoint(session, at=now, kind=kind, backup=backup)
    line = checkpoint.line(db.audit_key)
    await asyncio.to_thread(
        audit.append_checkpoint, checkpoint_path(config), checkpoint, db.audit_key
    )
    log.info("audit checkpoint %s", line)
    return checkpoint


async def verify(db: Database, config: Config) -> audit.ChainReport:
    """The chain checked link by link and against every checkpoint in the file."""
    found = await asyncio.to_thread(audit.read_checkpoints, checkpoint_path(config), db.audit_key)
    async with db.uow(read_only=True) as session:
        report = await audit.verify_chain(session, found.checkpoints, key=db.audit_key)
    if found.problems:
        report = replace(report, problems=found.problems + report.problems)
    return report


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def record_restore(
    db: Database, config: Config, *, now: datetime, backup: Path, kept: Path | None
) -> None:
    """After a restore: an event naming the backup the trail rolled back to, and a restore
    mark in the checkpoint file (checkpoints past the backup's chain are rolled back, not
    missing)."""
    detail = {
        "backup": backup.name,
        "backup_sha256": await asyncio.to_thread(file_sha256, backup),
        "previous_kept_as": kept.name if kept is not None else None,
    }
    async with db.uow() as session:
        await audit.record_audit(
            session, at=now, action="audit.restored", command="restore", detail=detail
        )
    await write_checkpoint(db, config, now=now, kind="restore", backup=backup.name)

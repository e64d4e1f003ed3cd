"""The audit trail: append-only events in a keyed hash chain, with signed checkpoints outside
the database that catch deleted events.

Each event carries the hash of the one before and its own hash, an HMAC-SHA256 over the previous
hash and its fields with a key the database never holds (`[audit] key` / CASEBOT_AUDIT_KEY;
on SQLite without one, a key file beside the database: see key_file_for). Someone who can write
the database but lacks the key cannot recompute the chain after editing or deleting an event.
Deleting the newest events leaves a valid chain, so `write_checkpoint` appends the chain's
length and head hash, signed with the key, to a file outside the database (and the log); the
verifier compares the chain with every checkpoint (see verify_chain).

Events written before the chain was keyed (unkeyed SHA-256, schema 0004 and older) keep
verifying as a legacy prefix: an unkeyed event after the first keyed one is a break. The first
checkpoint written after the upgrade covers that prefix (its head hash chains over it).

Owns writing and verifying the chain and the checkpoint file's format. Events hold ids and
prior values, never shown in logs. Repository functions take the session first and never
commit. Must not import telegram, handlers or bot.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent

# Any constant works: it only has to be the same in every process writing the chain.
_AUDIT_LOCK_KEY = 0x0CA5EB07
# Where a session finds the chain's key (storage.db.Database puts it in every session's info).
SESSION_KEY = "casebot_audit_key"
KEY_FILE_SUFFIX = ".audit-key"
CHECKPOINT_FILE_SUFFIX = ".audit-checkpoints.jsonl"


def _body(prev_hash: str, event: AuditEvent) -> bytes:
    body = {
        "at": event.at.isoformat(),
        "actor_nurse_id": event.actor_nurse_id,
        "actor_telegram_id": event.actor_telegram_id,
        "action": event.action,
        "command": event.command,
        "patient_id": event.patient_id,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "detail": event.detail,
    }
    blob = prev_hash + json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return blob.encode()


def _legacy_digest(prev_hash: str, event: AuditEvent) -> str:
    """The unkeyed SHA-256 of events written before the chain was keyed."""
    return hashlib.sha256(_body(prev_hash, event)).hexdigest()


def _keyed_digest(key: bytes, prev_hash: str, event: AuditEvent) -> str:
    return hmac.new(key, _body(prev_hash, event), hashlib.sha256).hexdigest()


def session_key(session: AsyncSession) -> bytes | None:
    key = session.info.get(SESSION_KEY)
    return key if isinstance(key, bytes) and key else None


def key_file_for(sqlite_path: Path) -> Path:
    return Path(str(sqlite_path) + KEY_FILE_SUFFIX)


def load_or_create_key_file(path: Path) -> bytes:
    """The key in `path`, made (256 random bits, mode 0600) if there is none yet.

    The fallback for a SQLite deployment with no `[audit] key`: the key lives beside the
    database, so it protects against edits through the database alone, not against someone
    who can read the directory. Production sets `[audit] key` (docs/reliability.md)."""
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    key = path.read_text().strip()
    if not key:
        raise ValueError(f"{path}: empty audit key file")
    return key.encode()


async def record_audit(
    session: AsyncSession,
    *,
    at: datetime,
    action: str,
    actor_nurse_id: int | None = None,
    actor_telegram_id: int | None = None,
    command: str = "",
    patient_id: int | None = None,
    entity: str = "",
    entity_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain (serialised across processes on PostgreSQL)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
    prev = await session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        at=at.astimezone(UTC),
        action=action,
        actor_nurse_id=actor_nurse_id,
        actor_telegram_id=actor_telegram_id,
        command=command,
        patient_id=patient_id,
        entity=entity,
        entity_id=entity_id,
        detail=detail or {},
        prev_hash=prev or "",
    )
    key = session_key(session)
    event.hash = (
        _keyed_digest(key, event.prev_hash, event)
        if key is not None
        else _legacy_digest(event.prev_hash, event)
    )
    session.add(event)
    await session.flush()
    return event


async def iter_events(
    session: AsyncSession, *, since: datetime | None = None, batch: int = 2000
) -> AsyncIterator[AuditEvent]:
    last_id = 0
    while True:
        query = select(AuditEvent).where(AuditEvent.id > last_id)
        if since is not None:
            query = query.where(AuditEvent.at >= since)
        rows = (await session.scalars(query.order_by(AuditEvent.id).limit(batch))).all()
        if not rows:
            return
        for row in rows:
            yield row
        last_id = rows[-1].id


# -- checkpoints ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """The chain as it stood: `count` events, the newest `head_id` with `head_hash`.

    kind "checkpoint", or "restore": the database was rolled back to `backup`, whose chain
    had `count` events (checkpoints written before it past that count were rolled back)."""

    at: str
    count: int
    head_id: int
    head_hash: str
    kind: str = "checkpoint"
    backup: str = ""

    def payload(self) -> bytes:
        fields = {
            "at": self.at,
            "count": self.count,
            "head_id": self.head_id,
            "head_hash": self.head_hash,
            "kind": self.kind,
            "backup": self.backup,
        }
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def line(self, key: bytes) -> str:
        signature = hmac.new(key, self.payload(), hashlib.sha256).hexdigest()
        return json.dumps({**json.loads(self.payload()), "sig": signature}, sort_keys=True)

    def describe(self) -> str:
        return f"{self.kind} of {self.at} ({self.count} events, head id {self.head_id})"


async def chain_head(session: AsyncSession) -> tuple[int, int, str]:
    """(count, head id, head hash) of the chain now; (0, 0, "") when it is empty."""
    head = (
        await session.execute(
            select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
        )
    ).first()
    if head is None:
        return 0, 0, ""
    count = await session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= head.id)
    )
    return int(count or 0), int(head.id), str(head.hash)


async def take_checkpoint(
    session: AsyncSession, *, at: datetime, kind: str = "checkpoint", backup: str = ""
) -> Checkpoint:
    count, head_id, head_hash = await chain_head(session)
    return Checkpoint(
        at=at.astimezone(UTC).isoformat(timespec="seconds"),
        count=count,
        head_id=head_id,
        head_hash=head_hash,
        kind=kind,
        backup=backup,
    )


def append_checkpoint(path: Path, checkpoint: Checkpoint, key: bytes) -> None:
    """Append one signed line (sync file I/O: call it in a thread from async code)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(checkpoint.line(key) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


@dataclass(frozen=True)
class CheckpointFile:
    checkpoints: tuple[Checkpoint, ...]
    problems: tuple[str, ...]


def read_checkpoints(path: Path, key: bytes | None) -> CheckpointFile:
    """The checkpoints in `path` whose signature checks; a problem line for each that does
    not (forged, or signed with another key). No file: none."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return CheckpointFile((), ())
    found: list[Checkpoint] = []
    problems: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            signature = str(raw.pop("sig"))
            checkpoint = Checkpoint(**raw)
        except (ValueError, TypeError, KeyError):
            problems.append(f"{path.name} line {number}: not a checkpoint")
            continue
        if key is None:
            problems.append(f"{path.name} line {number}: no audit key to check its signature")
            continue
        wanted = hmac.new(key, checkpoint.payload(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(wanted, signature):
            problems.append(
                f"{path.name} line {number}: bad signature (forged, or another audit key)"
            )
            continue
        found.append(checkpoint)
    return CheckpointFile(tuple(found), tuple(problems))


# -- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_id: int | None
    legacy: int = 0  # unkeyed events before the first keyed one (written before 0008)
    checkpoints_checked: int = 0
    problems: tuple[str, ...] = ()  # truncation, deletion, rewriting, forged checkpoints
    notes: tuple[str, ...] = field(default=())  # restores and what they rolled back

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None and not self.problems


async def verify_chain(
    session: AsyncSession,
    checkpoints: Iterable[Checkpoint] = (),
    *,
    key: bytes | None = None,
) -> ChainReport:
    """Recompute every hash in id order and compare the chain with the checkpoints.

    Reports the first event whose link or hash is wrong (an edit; a deletion inside the chain;
    events recomputed without the key, e.g. with the old unkeyed hash after a keyed event), and
    every checkpoint the chain no longer matches: fewer events than a checkpoint counted
    (the newest events deleted: truncation), or another event at its position (events deleted
    or rewritten before it). Checkpoints rolled back by a later restore are noted, not failed.
    """
    key = key or session_key(session)
    marks = list(checkpoints)
    problems: list[str] = []
    notes: list[str] = []
    to_check = _checkpoints_in_force(marks, notes)
    wanted = {c.count for c in to_check}
    at_position: dict[int, tuple[int, str]] = {}
    prev = ""
    checked = legacy = 0
    keyed_seen = False
    first_bad: int | None = None
    last_id = 0
    async for event in iter_events(session):
        last_id = event.id
        position = checked + 1
        if position in wanted:
            at_position[position] = (event.id, event.hash)
        checked = position
        if first_bad is not None:
            continue
        good = event.prev_hash == prev
        if good and key is not None and event.hash == _keyed_digest(key, prev, event):
            keyed_seen = True
        elif good and not keyed_seen and event.hash == _legacy_digest(prev, event):
            legacy += 1
        else:
            first_bad = event.id
        prev = event.hash
    for mark in to_check:
        if mark.head_id > last_id:
            problems.append(
                f"truncated: the {mark.describe()} counted {mark.count} events, the chain has "
                f"{checked} (newest id {last_id}): the newest events were deleted"
            )
        elif at_position.get(mark.count) != (mark.head_id, mark.head_hash):
            problems.append(
                f"events deleted or rewritten before the {mark.describe()}: the chain has "
                f"{_count_before(at_position, mark, checked)}"
            )
    return ChainReport(
        checked=checked,
        first_bad_id=first_bad,
        legacy=legacy,
        checkpoints_checked=len(to_check),
        problems=tuple(problems),
        notes=tuple(notes),
    )


def _count_before(at_position: dict[int, tuple[int, str]], mark: Checkpoint, total: int) -> str:
    found = at_position.get(mark.count)
    if found is None:
        return f"{total} events in all, fewer than the {mark.count} it counted"
    return f"event id {found[0]} at its position {mark.count}, not id {mark.head_id} as recorded"


def _checkpoints_in_force(marks: list[Checkpoint], notes: list[str]) -> list[Checkpoint]:
    """Every checkpoint, except those a later restore rolled back (kept as notes)."""
    in_force: list[Checkpoint] = []
    for index, mark in enumerate(marks):
        later_restores = [m for m in marks[index + 1 :] if m.kind == "restore"]
        # A restore's count includes its own event: the backup's chain was one shorter.
        rolled_back_by = next((r for r in later_restores if mark.count >= r.count), None)
        if rolled_back_by is not None:
            notes.append(
                f"the {mark.describe()} was rolled back by the restore of "
                f"{rolled_back_by.backup} at {rolled_back_by.at}"
            )
            continue
        if mark.kind == "restore":
            notes.append(f"restored from {mark.backup} at {mark.at} ({mark.count} events)")
        in_force.append(mark)
    return in_force

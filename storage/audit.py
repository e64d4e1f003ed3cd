"""The audit trail: append-only events, each carrying the hash of the one before.

Owns writing and verifying the chain. Events hold ids and prior values, never shown in logs.
Repository functions take the session first and never commit. Must not import telegram,
handlers or bot.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent

# Any constant works: it only has to be the same in every process writing the chain.
_AUDIT_LOCK_KEY = 0x0CA5EB07


def _digest(prev_hash: str, event: AuditEvent) -> str:
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
    return hashlib.sha256(blob.encode()).hexdigest()


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
    event.hash = _digest(event.prev_hash, event)
    session.add(event)
    await session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_id: int | None

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None


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


async def verify_chain(session: AsyncSession) -> ChainReport:
    """Recompute every hash in id order; report the first event that does not match."""
    prev = ""
    checked = 0
    async for event in iter_events(session):
        if event.prev_hash != prev or _digest(prev, event) != event.hash:
            return ChainReport(checked=checked, first_bad_id=event.id)
        prev = event.hash
        checked += 1
    return ChainReport(checked=checked, first_bad_id=None)

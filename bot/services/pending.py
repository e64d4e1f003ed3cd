"""What waits for her: a message read back until she taps [Save] [Fix] [Cancel], or a
question waiting for her typed answer (a new time for an appointment).

Kept in the database (storage.pending), so a restart loses nothing; each row expires
(``READBACK_TTL``, ``QUESTION_TTL``) and closes once: a second tap finds it closed. The row
keeps the text as read and when it was read, and the slots she fixed as ids and codes. One
transaction each, audited. Must not import telegram or handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.services.ledger import MessageKey
from bot.services.nurse import NurseView
from bot.vocab import Refusal, Source
from storage import audit
from storage import pending as store
from storage.db import Database
from storage.models import PendingReading

READBACK_TTL = timedelta(hours=24)
"""How long a read-back waits for her tap."""
QUESTION_TTL = timedelta(minutes=30)
"""How long a question waits for her typed answer."""


@dataclass(frozen=True)
class Pending:
    id: int
    kind: str
    key: MessageKey
    text: str
    payload: dict[str, Any]
    read_at: datetime


def _view(row: PendingReading) -> Pending:
    key = MessageKey(chat_id=row.chat_id, message_id=row.message_id, via=Source(row.via))
    return Pending(row.id, row.kind, key, row.text, dict(row.payload), row.read_at)


async def hold(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    key: MessageKey,
    kind: str,
    text: str,
    payload: dict[str, Any] | None = None,
    read_at: datetime | None = None,
    ttl: timedelta = READBACK_TTL,
) -> Pending:
    """Keep a message (or question) waiting; the same message held again is the same row."""
    now = clock.now()
    async with db.uow() as session:
        row = await store.find_pending(
            session, chat_id=key.chat_id, message_id=key.message_id, kind=kind
        )
        if row is None:
            row = await store.add_pending(
                session, nurse_id=nurse.id, chat_id=key.chat_id, message_id=key.message_id,
                via=key.via.value, kind=kind, text=text, payload=payload or {},
                read_at=read_at or now, expires_at=now + ttl,
            )  # fmt: skip
            await audit.record_audit(
                session, at=now, action="pending.held", actor_nurse_id=nurse.id,
                command=kind, entity="pending_reading", entity_id=row.id,
            )  # fmt: skip
        return _view(row)


async def get(
    db: Database, clock: Clock, *, nurse: NurseView, pending_id: int
) -> Pending | Refusal:
    """An open row of hers: NOT_FOUND (not hers), ALREADY_ANSWERED (closed), EXPIRED."""
    async with db.uow(read_only=True) as session:
        row = await session.get(PendingReading, pending_id)
        return _check(row, nurse, clock.now())


def _check(row: PendingReading | None, nurse: NurseView, now: datetime) -> Pending | Refusal:
    if row is None or row.nurse_id != nurse.id:
        return Refusal.NOT_FOUND
    if row.closed_at is not None:
        return Refusal.ALREADY_ANSWERED
    if row.expires_at <= now:
        return Refusal.EXPIRED
    return _view(row)


async def update_payload(
    db: Database, clock: Clock, *, nurse: NurseView, pending_id: int, payload: dict[str, Any]
) -> Pending | Refusal:
    """Keep what she fixed."""
    now = clock.now()
    async with db.uow() as session:
        row = await session.get(PendingReading, pending_id)
        found = _check(row, nurse, now)
        if isinstance(found, Refusal):
            return found
        assert row is not None
        row.payload = dict(payload)
        await audit.record_audit(
            session, at=now, action="pending.fixed", actor_nurse_id=nurse.id,
            command=row.kind, entity="pending_reading", entity_id=row.id,
            detail={"slots": sorted(payload)},
        )  # fmt: skip
        return _view(row)


async def close(db: Database, clock: Clock, *, nurse: NurseView, pending_id: int, how: str) -> bool:
    """Close an open row of hers; True for the one call that closed it."""
    now = clock.now()
    async with db.uow() as session:
        row = await session.get(PendingReading, pending_id)
        if row is None or row.nurse_id != nurse.id:
            return False
        closed = await store.close_pending(session, pending_id=pending_id, now=now)
        if closed:
            await audit.record_audit(
                session, at=now, action="pending.closed", actor_nurse_id=nurse.id,
                command=row.kind, entity="pending_reading", entity_id=row.id,
                detail={"how": how},
            )  # fmt: skip
        return closed


async def waiting(
    db: Database, clock: Clock, *, nurse: NurseView, chat_id: int, kinds: tuple[str, ...]
) -> Pending | None:
    """Her newest open question of these kinds in this chat."""
    async with db.uow(read_only=True) as session:
        rows = await store.open_pending(
            session, nurse_id=nurse.id, chat_id=chat_id, kinds=kinds, now=clock.now()
        )
        return _view(rows[0]) if rows else None

"""Pending readings: messages read back and waiting for her tap, questions waiting for her
typed answer (bot.services.pending is the one user).

Repository functions take the session first and never commit. Must not import telegram,
handlers or bot (beyond bot.vocab).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PendingReading


async def find_pending(
    session: AsyncSession, *, chat_id: int, message_id: int, kind: str
) -> PendingReading | None:
    query = select(PendingReading).where(
        PendingReading.chat_id == chat_id,
        PendingReading.message_id == message_id,
        PendingReading.kind == kind,
    )
    return (await session.scalars(query)).first()


async def add_pending(
    session: AsyncSession,
    *,
    nurse_id: int,
    chat_id: int,
    message_id: int,
    via: str,
    kind: str,
    text: str,
    payload: dict[str, Any],
    read_at: datetime,
    expires_at: datetime,
) -> PendingReading:
    row = PendingReading(
        nurse_id=nurse_id, chat_id=chat_id, message_id=message_id, via=via, kind=kind,
        text=text, payload=payload, read_at=read_at, expires_at=expires_at, closed_at=None,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    return row


async def open_pending(
    session: AsyncSession, *, nurse_id: int, chat_id: int, kinds: tuple[str, ...], now: datetime
) -> list[PendingReading]:
    """Her open, unexpired rows in this chat of these kinds, newest first."""
    query = (
        select(PendingReading)
        .where(
            PendingReading.nurse_id == nurse_id,
            PendingReading.chat_id == chat_id,
            PendingReading.kind.in_(kinds),
            PendingReading.closed_at.is_(None),
            PendingReading.expires_at > now,
        )
        .order_by(PendingReading.id.desc())
    )
    return list((await session.scalars(query)).all())


async def close_pending(session: AsyncSession, *, pending_id: int, now: datetime) -> bool:
    """Close a row that is still open: True for the one caller that closed it (a second tap
    finds it closed)."""
    result = await session.execute(
        update(PendingReading)
        .where(PendingReading.id == pending_id, PendingReading.closed_at.is_(None))
        .values(closed_at=now)
    )
    return bool(getattr(result, "rowcount", 0))

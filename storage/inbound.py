"""The poller's durable backlog (`inbound_updates`) and the updates it set aside (`dead_letters`).

Repository functions take the session first and never commit. A dead letter holds ids, the
stage and the error's class: never the update's text. Must not import telegram, handlers or bot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DeadLetter, InboundUpdate

STAGE_PARSE = "parse"  # the library could not read the update
STAGE_HANDLE = "handle"  # handling it kept failing (or kept killing the process)


@dataclass(frozen=True)
class Accepted:
    """An update to keep until it has been handled."""

    update_id: int
    lane: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class SetAside:
    """An update to set aside: ids and the error's class only."""

    update_id: int
    chat_id: int | None
    stage: str
    error: str
    attempts: int


@dataclass(frozen=True)
class Backlog:
    """What a crash left: each lane's update ids in order, and what was set aside meanwhile."""

    lanes: dict[str, list[int]]
    set_aside: list[SetAside]


async def add_inbound(session: AsyncSession, *, rows: Sequence[Accepted], now: datetime) -> None:
    if not rows:
        return
    await session.execute(
        insert(InboundUpdate),
        [
            {
                "update_id": row.update_id,
                "lane": row.lane,
                "payload": row.payload,
                "received_at": now,
                "attempts": 0,
            }
            for row in rows
        ],
    )


async def delete_inbound(session: AsyncSession, *, update_ids: Iterable[int]) -> None:
    ids = sorted(set(update_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        await session.execute(delete(InboundUpdate).where(InboundUpdate.update_id.in_(chunk)))


async def inbound_payloads(
    session: AsyncSession, *, update_ids: Sequence[int]
) -> list[tuple[int, dict[str, Any]]]:
    """The stored updates among `update_ids`, in update order (ones already gone are left out)."""
    if not update_ids:
        return []
    rows = await session.execute(
        select(InboundUpdate.update_id, InboundUpdate.payload)
        .where(InboundUpdate.update_id.in_(list(update_ids)))
        .order_by(InboundUpdate.update_id)
    )
    return [(update_id, payload) for update_id, payload in rows]


async def take_backlog(session: AsyncSession, *, max_attempts: int, now: datetime) -> Backlog:
    """After a (re)start: count an interrupted attempt against each lane's first update (the
    only one of its lane that can have been in progress), set aside the ones that have now
    failed `max_attempts` times, and return the rest by lane, in order."""
    heads = select(func.min(InboundUpdate.update_id)).group_by(InboundUpdate.lane)
    await session.execute(
        update(InboundUpdate)
        .where(InboundUpdate.update_id.in_(heads.scalar_subquery()))
        .values(attempts=InboundUpdate.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    rows = await session.execute(
        select(
            InboundUpdate.update_id,
            InboundUpdate.lane,
            InboundUpdate.attempts,
            InboundUpdate.payload,
        ).order_by(InboundUpdate.update_id)
    )
    lanes: dict[str, list[int]] = {}
    exhausted: list[SetAside] = []
    for update_id, lane, attempts, payload in rows:
        if attempts >= max_attempts:
            exhausted.append(
                SetAside(
                    update_id=update_id,
                    chat_id=chat_id_of(payload),
                    stage=STAGE_HANDLE,
                    error="InterruptedRepeatedly",
                    attempts=attempts,
                )
            )
        else:
            lanes.setdefault(lane, []).append(update_id)
    if exhausted:
        await delete_inbound(session, update_ids=[row.update_id for row in exhausted])
        await add_dead_letters(session, rows=exhausted, now=now)
    return Backlog(lanes=lanes, set_aside=exhausted)


async def add_dead_letters(
    session: AsyncSession, *, rows: Sequence[SetAside], now: datetime
) -> None:
    """Record set-aside updates."""
    if not rows:
        return
    await session.execute(
        insert(DeadLetter),
        [
            {
                "update_id": row.update_id,
                "chat_id": row.chat_id,
                "stage": row.stage,
                "error": row.error[:80],
                "attempts": row.attempts,
                "at": now,
            }
            for row in rows
        ],
    )


async def count_dead_letters(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(DeadLetter)) or 0)


def chat_id_of(payload: object) -> int | None:
    """The chat an update's JSON belongs to, read defensively (the update may be malformed)."""
    if not isinstance(payload, dict):
        return None
    for key, body in payload.items():
        if key == "update_id" or not isinstance(body, dict):
            continue
        for holder in (body, body.get("message")):
            chat = holder.get("chat") if isinstance(holder, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
        sender = body.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return None

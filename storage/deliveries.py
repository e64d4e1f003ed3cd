"""The outbox: planning, claiming and settling deliveries (one row per push).

A delivery is claimed (status 'sending', a lease, the claimer's id) before it is sent and marked
sent with the Telegram message id after. Claims use SELECT ... FOR UPDATE SKIP LOCKED on
PostgreSQL, so several processes never claim the same row; on SQLite the write transaction is
BEGIN IMMEDIATE, which serialises claimers. Just before the Bot API call its claimer commits
`send_started_at` (mark_send_started). A row left in 'sending' past its lease (its claimer died)
is claimed again, and marked `repeat` only if that mark says the dead claimer may have sent it.
Repository functions take the session first and never commit. Must not import telegram,
handlers or bot.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocab import DeliveryStatus, TaskStatus
from storage.models import Delivery, DispatchWorker, Task

CLAIM_LOCK_KEY = 0x0CA5EB02  # any constant, the same in every process of a deployment


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, which has ON CONFLICT."""
    return postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert


class PlannedDelivery(Protocol):
    """A push to insert (bot.outbox.planning.Push is one); `kind` is a DeliveryKind value."""

    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def nurse_id(self) -> int: ...
    @property
    def due_at(self) -> datetime: ...
    @property
    def task_id(self) -> int | None: ...
    @property
    def next_try_at(self) -> datetime | None: ...
    @property
    def urgent(self) -> bool: ...


async def insert_deliveries(
    session: AsyncSession, planned: Sequence[PlannedDelivery], *, now: datetime
) -> set[str]:
    """Insert the deliveries whose key is new (existing keys are left alone), in one
    statement. Returns the keys this call inserted."""
    if not planned:
        return set()
    rows: list[dict[str, Any]] = [
        {
            "key": p.key,
            "kind": p.kind,
            "nurse_id": p.nurse_id,
            "task_id": p.task_id,
            "due_at": p.due_at,
            "next_try_at": p.next_try_at,
            "urgent": p.urgent,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "repeat": False,
            "created_at": now,
        }
        for p in planned
    ]
    statement = _insert(session)(Delivery).on_conflict_do_nothing(index_elements=["key"])
    result = await session.execute(statement.returning(Delivery.key), rows)
    return set(result.scalars().all())


async def existing_keys(session: AsyncSession, *, keys: Collection[str]) -> set[str]:
    """Which of these delivery keys exist already (one indexed IN query)."""
    if not keys:
        return set()
    query = select(Delivery.key).where(Delivery.key.in_(sorted(keys)))
    return set((await session.scalars(query)).all())


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    worker: str,
    lease: timedelta,
    limit: int,
    per_chat: int = 3,
    chat_gap: timedelta = timedelta(0),
) -> list[Delivery]:
    """Claim up to `limit` due deliveries for `worker`. An expired lease comes back as a
    repeat if its claimer had started sending it (send_started_at), as a first send if not."""
    if _dialect(session) == "postgresql":
        # One claim at a time, so each sees the chats the others just claimed (SKIP LOCKED
        # alone lets two claims take different rows of one chat and send to it together).
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CLAIM_LOCK_KEY})
    due = and_(
        Delivery.status == DeliveryStatus.PENDING,
        Delivery.due_at <= now,
        or_(Delivery.next_try_at.is_(None), Delivery.next_try_at <= now),
    )
    abandoned = and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now)
    # A chat whose pushes another live worker is sending, or sent less than `chat_gap` ago,
    # stays with that worker, so that two processes never send to one chat in the same second
    # (Telegram allows about one).
    held = Delivery.__table__.alias("held")
    held_chats = select(held.c.nurse_id).where(
        held.c.claimed_by != worker,
        or_(
            and_(held.c.status == DeliveryStatus.SENDING, held.c.lease_until >= now),
            and_(held.c.status == DeliveryStatus.SENT, held.c.sent_at > now - chat_gap),
        ),
    )
    # At most `per_chat` rows per recipient in one claim: pushes to one chat are spaced about a
    # second apart, so a batch spread over many chats is what keeps the send rate up.
    ranked = (
        select(
            Delivery.id,
            func.row_number()
            .over(partition_by=Delivery.nurse_id, order_by=(Delivery.due_at, Delivery.id))
            .label("rank"),
        )
        .where(or_(due, abandoned), Delivery.nurse_id.not_in(held_chats))
        .subquery()
    )
    # Computed once (MATERIALIZED): as a plain subquery, a planner that believes the table is
    # nearly empty (statistics from before a burst of inserts) re-ranks it for every row.
    spread = (
        select(ranked.c.id)
        .where(ranked.c.rank <= per_chat)
        .cte("spread")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    query = (
        select(Delivery)
        .where(Delivery.id.in_(select(spread.c.id)), or_(due, abandoned))
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = list((await session.scalars(query)).all())
    for delivery in claimed:
        if delivery.status == DeliveryStatus.SENDING and delivery.send_started_at is not None:
            delivery.repeat = True  # its first claimer called Telegram, then died: it may be there
        delivery.send_started_at = None  # this claim's own attempt is marked when it is made
        delivery.status = DeliveryStatus.SENDING
        delivery.claimed_by = worker
        delivery.lease_until = now + lease
        delivery.attempts += 1
    await session.flush()
    return claimed


async def heartbeat(
    session: AsyncSession, *, worker: str, now: datetime, alive_within: timedelta
) -> int:
    """Record that `worker` dispatches; return how many workers did within `alive_within`
    (itself included), forgetting those silent for a day."""
    statement = _insert(session)(DispatchWorker).values(
        worker_id=worker, started_at=now, seen_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(index_elements=["worker_id"], set_={"seen_at": now})
    )
    await session.execute(
        delete(DispatchWorker).where(DispatchWorker.seen_at < now - timedelta(days=1))
    )
    live = await session.scalar(
        select(func.count())
        .select_from(DispatchWorker)
        .where(
            or_(DispatchWorker.seen_at >= now - alive_within, DispatchWorker.worker_id == worker)
        )
    )
    return max(int(live or 0), 1)


async def forget_worker(session: AsyncSession, *, worker: str) -> None:
    """A worker stopping cleanly: the others take its share of the budget at their next beat."""
    await session.execute(delete(DispatchWorker).where(DispatchWorker.worker_id == worker))


async def mark_send_started(session: AsyncSession, *, delivery_id: int, now: datetime) -> None:
    """Record that the Bot API is about to be called for this delivery (one UPDATE by id),
    committed before the call: should its claimer die now, the next claim says "(repeat)"."""
    await session.execute(
        update(Delivery).where(Delivery.id == delivery_id).values(send_started_at=now)
    )


async def mark_sent(
    session: AsyncSession, *, delivery_id: int, message_id: int | None, now: datetime
) -> None:
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(
            status=DeliveryStatus.SENT,
            sent_at=now,
            telegram_message_id=message_id,
            lease_until=None,
            last_error=None,
        )
    )


async def retry_later(
    session: AsyncSession,
    *,
    delivery_id: int,
    at: datetime,
    error: str,
    maybe_delivered: bool = False,
) -> None:
    """Back to pending, not before `at`. `maybe_delivered`: the next send says "(repeat)"."""
    values: dict[str, Any] = {
        "status": DeliveryStatus.PENDING,
        "next_try_at": at,
        "lease_until": None,
        "last_error": error[:200],
    }
    if maybe_delivered:
        values["repeat"] = True
    await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


async def settle(
    session: AsyncSession, *, delivery_id: int, status: DeliveryStatus, error: str | None
) -> None:
    """End a delivery without sending: cancelled (obsolete) or failed (gave up)."""
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(status=status, lease_until=None, last_error=error[:200] if error else None)
    )


async def mark_sent_many(
    session: AsyncSession, *, sent: Sequence[tuple[int, int]], now: datetime
) -> None:
    """Mark a batch of (delivery id, Telegram message id) sent, in one executemany."""
    if not sent:
        return
    await session.execute(
        update(Delivery),
        [
            {
                "id": delivery_id,
                "status": DeliveryStatus.SENT,
                "sent_at": now,
                "telegram_message_id": message_id,
                "lease_until": None,
                "last_error": None,
            }
            for delivery_id, message_id in sent
        ],
    )


async def settle_many(
    session: AsyncSession, *, delivery_ids: Collection[int], status: DeliveryStatus, error: str
) -> None:
    """End several deliveries without sending them, in one statement."""
    if not delivery_ids:
        return
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(sorted(delivery_ids)))
        .values(status=status, lease_until=None, last_error=error[:200])
    )


async def cancel_pending_for_task(session: AsyncSession, *, task_id: int) -> int:
    result = await session.execute(
        update(Delivery)
        .where(Delivery.task_id == task_id, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class OutboxState:
    """Where the outbox stands: when something may next become sendable, and the newest task."""

    next_pending: datetime | None  # the earliest pending push's time (or retry time)
    next_lease_end: datetime | None  # the earliest lease of a push being sent to run out
    next_reminder: datetime | None  # the earliest reminder after `now` not planned yet
    max_task_id: int

    def sendable(self, now: datetime) -> bool:
        """Whether a claim now might find something (a due push or an abandoned claim)."""
        return (self.next_pending is not None and self.next_pending <= now) or (
            self.next_lease_end is not None and self.next_lease_end < now
        )

    def next_wake(self) -> datetime | None:
        """The earliest moment something may become sendable."""
        times = [t for t in (self.next_pending, self.next_lease_end, self.next_reminder) if t]
        return min(times) if times else None


async def outbox_state(session: AsyncSession, *, now: datetime) -> OutboxState:
    """The outbox's state in one statement of four indexed aggregates."""
    pending = (
        select(func.min(func.coalesce(Delivery.next_try_at, Delivery.due_at)))
        .where(Delivery.status == DeliveryStatus.PENDING)
        .scalar_subquery()
    )
    lease = (
        select(func.min(Delivery.lease_until))
        .where(Delivery.status == DeliveryStatus.SENDING)
        .scalar_subquery()
    )
    has_delivery = (
        select(Delivery.id)
        .where(Delivery.task_id == Task.id, Delivery.due_at == Task.remind_at)
        .exists()
    )
    reminder = (
        select(func.min(Task.remind_at))
        .where(
            Task.status == TaskStatus.OPEN,
            Task.remind_at.is_not(None),
            Task.remind_at > now,
            ~has_delivery,
        )
        .scalar_subquery()
    )
    newest = select(func.max(Task.id)).scalar_subquery()
    row = (await session.execute(select(pending, lease, reminder, newest))).one()
    return OutboxState(
        next_pending=row[0], next_lease_end=row[1], next_reminder=row[2], max_task_id=row[3] or 0
    )

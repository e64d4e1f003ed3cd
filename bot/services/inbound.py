"""The poller's use cases on its durable backlog: accept, forget, resume, set aside.

An update is *accepted* (its JSON written to `inbound_updates`) before the poller confirms it to
Telegram, and *forgotten* (its row deleted) once it has been handled; `resume` hands a restarted
leader what a crash left. Updates that could not be read, or kept failing, are set aside as dead
letters: ids and the error's class, never their text. One transaction each.

Works on plain JSON: must not import telegram or handlers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.clock import Clock
from storage import inbound
from storage.db import Database
from storage.inbound import Accepted, Backlog, SetAside

__all__ = [
    "Accepted",
    "Backlog",
    "SetAside",
    "accept",
    "count_dead_letters",
    "forget",
    "load",
    "resume",
    "set_aside",
]


async def accept(
    db: Database, clock: Clock, *, rows: Sequence[Accepted], set_aside: Sequence[SetAside] = ()
) -> None:
    """Keep these updates until they are handled, and record the unreadable ones, at once."""
    if not rows and not set_aside:
        return
    async with db.uow(urgent=True) as session:  # every chat's next fetch waits for this
        now = clock.now()
        await inbound.add_inbound(session, rows=rows, now=now)
        await inbound.add_dead_letters(session, rows=set_aside, now=now)


async def forget(db: Database, *, update_ids: Sequence[int]) -> None:
    """These updates have been handled: drop their rows."""
    if not update_ids:
        return
    async with db.uow() as session:
        await inbound.delete_inbound(session, update_ids=update_ids)


async def load(db: Database, *, update_ids: Sequence[int]) -> list[tuple[int, dict[str, Any]]]:
    """The stored JSON of these updates, in order."""
    async with db.uow(read_only=True) as session:
        return await inbound.inbound_payloads(session, update_ids=update_ids)


async def resume(db: Database, clock: Clock, *, max_attempts: int) -> Backlog:
    """What a crash left to handle, lane by lane; updates interrupted `max_attempts` times are
    set aside instead."""
    async with db.uow() as session:
        return await inbound.take_backlog(session, max_attempts=max_attempts, now=clock.now())


async def set_aside(db: Database, clock: Clock, *, row: SetAside) -> None:
    """Move one update from the backlog (if it is there) to the dead letters."""
    async with db.uow() as session:
        await inbound.delete_inbound(session, update_ids=[row.update_id])
        await inbound.add_dead_letters(session, rows=[row], now=clock.now())


async def count_dead_letters(db: Database) -> int:
    async with db.uow(read_only=True) as session:
        return await inbound.count_dead_letters(session)

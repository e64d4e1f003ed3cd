"""SQLite's one writer in this process: granted in order, the poller's urgent writes first, and
a waiter cancelled in the queue (or just as it is granted) never strands the lock."""

from __future__ import annotations

import asyncio

from storage.db import WriterQueue


async def test_urgent_writers_go_first_then_the_rest_in_order() -> None:
    queue = WriterQueue()
    order: list[str] = []
    await queue.acquire()

    async def writer(name: str, *, urgent: bool = False) -> None:
        await queue.acquire(urgent=urgent)
        order.append(name)
        queue.release()

    tasks = [asyncio.create_task(writer("a")), asyncio.create_task(writer("b"))]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(writer("poller", urgent=True)))
    await asyncio.sleep(0)
    queue.release()
    await asyncio.gather(*tasks)
    assert order == ["poller", "a", "b"]


async def test_a_cancelled_waiter_does_not_strand_the_lock() -> None:
    queue = WriterQueue()
    await queue.acquire()
    gone = asyncio.create_task(queue.acquire())
    granted_as_cancelled = asyncio.create_task(queue.acquire())
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    queue.release()  # hands it to the second waiter, which is cancelled before it runs
    granted_as_cancelled.cancel()
    await asyncio.gather(gone, granted_as_cancelled, return_exceptions=True)
    async with asyncio.timeout(1):
        await queue.acquire()  # free again
    queue.release()

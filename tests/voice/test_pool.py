"""The transcription pool: admission up to workers + queue, places given back whatever happens,
work done in threads while the event loop runs, and no more than `workers` at once."""

from __future__ import annotations

import asyncio
import os

import pytest

from bot.voice.pool import Ticket, TranscriptionPool, default_workers
from tests.voice_support import GatedTranscriber, until


def test_a_core_stays_free_for_the_event_loop() -> None:
    assert default_workers() == max(1, len(os.sched_getaffinity(0)) - 1)


def test_admission_counts_places_and_says_how_many_are_ahead() -> None:
    pool = TranscriptionPool(GatedTranscriber("x"), workers=2, queue=1)
    tickets = [pool.admit() for _ in range(3)]
    assert [t.ahead if t else None for t in tickets] == [0, 0, 1]
    assert pool.admit() is None  # 2 workers + 1 waiting: full
    assert tickets[0] is not None
    tickets[0].release()
    tickets[0].release()  # twice is once
    assert pool.admitted == 2
    assert pool.admit() is not None


def test_a_pool_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least one worker"):
        TranscriptionPool(GatedTranscriber("x"), workers=0, queue=1)


async def test_no_more_than_workers_run_at_once_and_the_loop_stays_free() -> None:
    gated = GatedTranscriber("heard")
    pool = TranscriptionPool(gated, workers=2, queue=2)
    tickets = [pool.admit() for _ in range(4)]
    assert all(t is not None for t in tickets)

    async def one(ticket: Ticket | None) -> str:
        assert ticket is not None
        async with ticket:
            heard = await ticket.transcribe(b"audio", names=["Maria Lopez"], max_seconds=5)
            return heard.text

    tasks = [asyncio.create_task(one(t)) for t in tickets]
    await until(lambda: pool.running == 2, "two workers busy")
    ticks = 0
    for _ in range(20):  # the event loop keeps turning while both threads are blocked
        await asyncio.sleep(0)
        ticks += 1
    assert ticks == 20
    assert pool.running == 2
    assert len(gated.heard) == 2  # the other two wait their turn
    gated.gate.set()
    assert await asyncio.gather(*tasks) == ["heard"] * 4
    assert (pool.running, pool.admitted) == (0, 0)
    pool.close()


async def test_a_failed_transcription_gives_its_place_back() -> None:
    class Broken:
        def transcribe(self, audio: bytes, *, names: object, max_seconds: float) -> object:
            raise ValueError("not audio")

    pool = TranscriptionPool(Broken(), workers=1, queue=0)  # type: ignore[arg-type]
    ticket = pool.admit()
    assert ticket is not None
    with pytest.raises(ValueError, match="not audio"):
        async with ticket:
            await ticket.transcribe(b"", names=[], max_seconds=5)
    assert (pool.admitted, pool.running) == (0, 0)
    assert pool.admit() is not None
    pool.close()

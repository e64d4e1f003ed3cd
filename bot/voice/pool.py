"""Transcription off the event loop: a bounded pool of worker threads and a bounded queue.

Owns admission (a note is admitted while fewer than `workers + queue` are in hand; otherwise
the nurse is told the bot is busy, before anything is downloaded), the FIFO wait for a worker,
and the threads. CTranslate2 releases the GIL while it computes, so threads run in parallel
and the event loop keeps answering other nurses. One pool per process. Must not import
telegram or storage.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType

from bot.voice.engine import Transcriber, Transcript


def default_workers() -> int:
    """One fewer than the cores this process may use, at least one: a core stays free for
    the event loop and the database."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 2
    return max(1, cores - 1)


@dataclass
class Ticket:
    """A note's place in the pool, from admission until it is transcribed or given up.

    Use as `async with`: leaving the block gives the place back, whatever happened."""

    pool: TranscriptionPool
    ahead: int  # notes that were waiting or running when this one was admitted
    _done: bool = field(default=False, repr=False)

    async def transcribe(
        self, audio: bytes, *, names: Sequence[str], max_seconds: float
    ) -> Transcript:
        """Wait for a worker, then transcribe there."""
        return await self.pool._run(audio, names, max_seconds)

    def release(self) -> None:
        if not self._done:
            self._done = True
            self.pool._admitted -= 1

    async def __aenter__(self) -> Ticket:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class TranscriptionPool:
    """At most `workers` transcriptions at once, at most `queue` more waiting."""

    def __init__(self, transcriber: Transcriber, *, workers: int, queue: int) -> None:
        if workers < 1 or queue < 0:
            raise ValueError("a pool needs at least one worker and a queue of 0 or more")
        self.transcriber = transcriber
        self.workers = workers
        self.queue = queue
        self._admitted = 0
        self._running = 0
        self._slots: asyncio.Semaphore | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def admitted(self) -> int:
        """Notes in hand: downloading, waiting for a worker, or being transcribed."""
        return self._admitted

    @property
    def running(self) -> int:
        """Notes being transcribed right now."""
        return self._running

    def admit(self) -> Ticket | None:
        """A place for one more note, or None when the pool and its queue are full."""
        if self._admitted >= self.workers + self.queue:
            return None
        ahead = max(0, self._admitted - self.workers + 1)
        self._admitted += 1
        return Ticket(self, ahead=ahead)

    async def _run(self, audio: bytes, names: Sequence[str], max_seconds: float) -> Transcript:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="casebot-voice")
        async with self._slots:
            self._running += 1
            try:
                call = partial(
                    self.transcriber.transcribe, audio, names=tuple(names), max_seconds=max_seconds
                )
                return await asyncio.get_running_loop().run_in_executor(self._executor, call)
            finally:
                self._running -= 1

    def close(self) -> None:
        """Stop the threads (a transcription under way finishes; waiting ones are dropped)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

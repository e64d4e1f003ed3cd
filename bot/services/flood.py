"""Per-nurse flood control: past the limit, slow her down in order; never drop silently.

Each nurse may send `flood_messages` updates (messages, edits, button presses) per
`flood_window_seconds`. An update past that is not refused: it waits for its slot and is then
handled as usual (her updates are already serialised per chat, so order is kept), and she gets
one "slow down" notice per burst. Only an update that would wait longer than
`flood_max_delay_seconds` is refused, and then she is told plainly that it was NOT saved.

Decisions depend only on (arrival time, her recent admissions); handlers/flood.py sleeps and
replies. Must not import telegram or storage.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum

from bot.config import LimitsConfig

SLOW_DOWN = (
    "You're sending faster than I can file safely, so I'm slowing down a little. "
    "Everything you send is still handled, in order; I'll say if anything is not saved."
)
NOT_SAVED = (
    "Too many messages at once: that one was <b>NOT saved</b>. "
    "Please wait a minute and send it again."
)


class Verdict(Enum):
    NOW = "now"  # within the limit
    WAIT = "wait"  # over the limit: handle after `delay` seconds
    REFUSE = "refuse"  # would wait too long: tell her it was not saved


@dataclass(frozen=True)
class Admission:
    verdict: Verdict
    delay: float = 0.0
    notify: bool = False  # send the one "slow down" notice of this burst


@dataclass
class _Window:
    admitted: deque[float] = field(default_factory=deque)
    notified: bool = False


class FloodControl:
    """Sliding-window admission per nurse; `admit` is called once per update, in her order."""

    def __init__(
        self,
        limits: LimitsConfig,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limit = limits.flood_messages
        self.window = float(limits.flood_window_seconds)
        self.max_delay = float(limits.flood_max_delay_seconds)
        self.monotonic = monotonic
        self.sleep = sleep
        self._windows: dict[int, _Window] = {}
        self.delayed = 0
        self.refused = 0

    def admit(self, nurse_id: int) -> Admission:
        """Decide for her next update, and book its slot if it is to be handled."""
        now = self.monotonic()
        state = self._windows.setdefault(nurse_id, _Window())
        admitted = state.admitted
        while admitted and admitted[0] <= now - self.window:
            admitted.popleft()
        if len(admitted) < self.limit:
            if not admitted:
                state.notified = False  # a quiet window ends the burst
            admitted.append(now)
            return Admission(Verdict.NOW)
        # Her slot: `limit` admissions after the one `limit` places back, one window later.
        slot = admitted[-self.limit] + self.window
        delay = max(slot - now, 0.0)
        notify = not state.notified
        state.notified = True
        if delay > self.max_delay:
            self.refused += 1
            return Admission(Verdict.REFUSE, delay=delay, notify=notify)
        admitted.append(slot)
        self.delayed += 1
        return Admission(Verdict.WAIT, delay=delay, notify=notify)

    def forget_idle(self) -> None:
        """Drop the state of nurses whose window is empty (bounded memory)."""
        now = self.monotonic()
        for nurse_id in [
            n
            for n, w in self._windows.items()
            if not w.admitted or w.admitted[-1] <= now - self.window
        ]:
            del self._windows[nurse_id]

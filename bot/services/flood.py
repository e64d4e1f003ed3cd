"""Flood control: a bursting nurse is slowed down in order, never dropped silently; strangers
get one refusal per period, their repeats only counted.

Each nurse may send `flood_messages` updates (messages, edits, button presses) per
`flood_window_seconds`. An update past that is not refused: it waits for its slot and is then
handled as usual (her updates are already serialised per chat, so order is kept), and she gets
one "slow down" notice per burst. Only an update that would wait longer than
`flood_max_delay_seconds` after it *arrived* is refused, and then she is told plainly that it was
NOT saved: the first refused message of a run gets the notice, and when the run ends one more
message says how many in a row were not saved (so a burst of 160 refusals costs two messages,
not 160 sends against Telegram's budget shared with every other nurse).

Slots are computed from arrival times (the poller stamps when it fetched each update), so the
decision is the same however long the update queued behind her own earlier ones: slot(k) =
max(arrived(k), slot(k - limit) + window).

`StrangerThrottle`: someone not enrolled gets one polite refusal per `stranger_refusal_minutes`
per chat; what they send meanwhile is only counted, in memory, and the count goes into the
next refusal's audit event.

Decisions depend only on (arrival time, recent admissions); handlers/flood.py and
handlers/access.py sleep and reply. Must not import telegram or storage.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
NOT_SAVED_RUN = (
    "Too many messages at once: {count} in a row were <b>NOT saved</b>, from the one I marked "
    "first up to this one. Please wait a minute and send them again."
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


@dataclass(frozen=True)
class RefusedRun:
    """Messages of hers refused in a row: how many, and the first and last message ids."""

    count: int
    first_message_id: int | None
    last_message_id: int | None


@dataclass
class _Window:
    admitted: deque[float] = field(default_factory=deque)  # booked slots, oldest first
    notified: bool = False
    run: int = 0
    run_first: int | None = None
    run_last: int | None = None


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

    def admit(self, nurse_id: int, *, arrived: float | None = None) -> Admission:
        """Decide for her next update, which arrived at `arrived` (None: now), and book its
        slot if it is to be handled."""
        now = self.monotonic()
        at = now if arrived is None else min(arrived, now)
        state = self._windows.setdefault(nurse_id, _Window())
        admitted = state.admitted
        while admitted and admitted[0] <= at - self.window:
            admitted.popleft()
        if len(admitted) < self.limit:
            if not admitted:
                state.notified = False  # a quiet window ends the burst
            admitted.append(at)
            return Admission(Verdict.NOW)
        # Her slot: `limit` admissions after the one `limit` places back, one window later.
        slot = max(admitted[-self.limit] + self.window, at)
        delay = max(slot - now, 0.0)
        notify = not state.notified
        state.notified = True
        if slot - at > self.max_delay:
            self.refused += 1
            return Admission(Verdict.REFUSE, delay=delay, notify=notify)
        admitted.append(slot)
        if delay > 0:
            self.delayed += 1
            return Admission(Verdict.WAIT, delay=delay, notify=notify)
        return Admission(Verdict.NOW, notify=notify)

    def refused_message(self, nurse_id: int, message_id: int | None) -> int:
        """Count one more refused message in her current run; return the run's length."""
        state = self._windows.setdefault(nurse_id, _Window())
        state.run += 1
        if state.run == 1:
            state.run_first = message_id
        state.run_last = message_id
        return state.run

    def end_run(self, nurse_id: int) -> RefusedRun | None:
        """Close her run of refused messages, if one is open."""
        state = self._windows.get(nurse_id)
        if state is None or state.run == 0:
            return None
        run = RefusedRun(state.run, state.run_first, state.run_last)
        state.run, state.run_first, state.run_last = 0, None, None
        return run

    def forget_idle(self) -> None:
        """Drop the state of nurses whose window is empty (bounded memory)."""
        now = self.monotonic()
        for nurse_id in [
            n
            for n, w in self._windows.items()
            if (not w.admitted or w.admitted[-1] <= now - self.window) and not w.run
        ]:
            del self._windows[nurse_id]


@dataclass(frozen=True)
class StrangerVerdict:
    """Whether to answer a stranger now, and how many of their updates went unanswered since
    the last answer."""

    answer: bool
    unanswered: int


@dataclass
class _Seen:
    answered_at: datetime
    repeats: int = 0


class StrangerThrottle:
    """One refusal per `every` per chat; in between, updates are only counted. Remembers at
    most `max_tracked` chats (the oldest are forgotten: they get a refusal again)."""

    def __init__(self, every: timedelta, *, max_tracked: int = 10_000) -> None:
        self.every = every
        self.max_tracked = max_tracked
        self._seen: OrderedDict[int, _Seen] = OrderedDict()
        self.unanswered = 0

    def arrive(self, chat_id: int, now: datetime) -> StrangerVerdict:
        seen = self._seen.get(chat_id)
        if seen is not None and now - seen.answered_at < self.every:
            seen.repeats += 1
            self.unanswered += 1
            return StrangerVerdict(answer=False, unanswered=seen.repeats)
        repeats = seen.repeats if seen is not None else 0
        self._seen[chat_id] = _Seen(answered_at=now)
        self._seen.move_to_end(chat_id)
        while len(self._seen) > self.max_tracked:
            self._seen.popitem(last=False)
        return StrangerVerdict(answer=True, unanswered=repeats)

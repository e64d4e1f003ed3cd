"""Faults the fake Telegram can answer with, and Telegram's flood limits.

Owns `FaultPlan` (faults injected for the next N calls of a method, or drawn at random for chaos
tests) and `RateLimiter` (sliding-window message limits measured on an injected monotonic clock).
Both only decide; the fake server turns a decision into an HTTP answer.

Pure: imports neither telegram nor anything that does I/O.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Literal, get_args

FaultKind = Literal["429", "5xx", "timeout", "timeout_after_delivery", "403", "409", "401"]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

#: Methods that post or change a message: the ones chaos and flood limits apply to by default.
MESSAGE_METHODS: frozenset[str] = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
        "sendDocument",
        "sendPhoto",
        "sendChatAction",
        "answerCallbackQuery",
    }
)
#: Methods that count towards Telegram's "messages per second" limits.
FLOOD_LIMITED_METHODS: frozenset[str] = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument", "sendPhoto"}
)


@dataclass(frozen=True)
class Fault:
    """One fault to answer a call with."""

    kind: FaultKind
    retry_after: int = 1
    delay: float | None = None  # HTTP mode: seconds to hold a timed-out answer (None: default)


@dataclass
class _Injected:
    method: str | None
    fault: Fault
    remaining: int


@dataclass(frozen=True)
class _RandomFaults:
    rate: float
    kinds: tuple[FaultKind, ...]
    methods: frozenset[str]
    rng: random.Random
    retry_after: int


class FaultPlan:
    """Which calls fail, and how; counts every fault it hands out, per kind."""

    def __init__(self) -> None:
        self._injected: list[_Injected] = []
        self._random: _RandomFaults | None = None
        self.counts: Counter[str] = Counter()

    def inject(
        self,
        method: str | None,
        kind: FaultKind,
        *,
        retry_after: int = 1,
        times: int = 1,
        delay: float | None = None,
    ) -> None:
        """Fail the next `times` calls of `method` (None: of any method) with `kind`."""
        _check_kind(kind)
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        fault = Fault(kind=kind, retry_after=retry_after, delay=delay)
        self._injected.append(_Injected(method=method, fault=fault, remaining=times))

    def fail_randomly(
        self,
        *,
        rate: float,
        kinds: Iterable[FaultKind] = ("429", "5xx", "timeout"),
        seed: int = 0,
        methods: Collection[str] = MESSAGE_METHODS,
        retry_after: int = 1,
    ) -> None:
        """Fail each call of `methods` with probability `rate`, kind drawn from `kinds`."""
        chosen = tuple(kinds)
        for kind in chosen:
            _check_kind(kind)
        if not 0.0 <= rate <= 1.0 or not chosen:
            raise ValueError("rate must be within [0, 1] and kinds must not be empty")
        self._random = _RandomFaults(
            rate=rate,
            kinds=chosen,
            methods=frozenset(methods),
            rng=random.Random(seed),
            retry_after=retry_after,
        )

    def clear(self) -> None:
        """Forget injected and random faults (the counts stay)."""
        self._injected.clear()
        self._random = None

    def take(self, method: str) -> Fault | None:
        """The fault to answer this call of `method` with, if any; consumes an injected one."""
        for injected in self._injected:
            if injected.method in (None, method):
                injected.remaining -= 1
                if injected.remaining == 0:
                    self._injected.remove(injected)
                self.counts[injected.fault.kind] += 1
                return injected.fault
        chaos = self._random
        if chaos is not None and method in chaos.methods and chaos.rng.random() < chaos.rate:
            fault = Fault(kind=chaos.rng.choice(chaos.kinds), retry_after=chaos.retry_after)
            self.counts[fault.kind] += 1
            return fault
        return None


class RateLimiter:
    """Telegram's flood limits over sliding windows; answers how long to wait when exceeded."""

    def __init__(
        self,
        *,
        global_per_sec: int,
        per_chat_per_sec: int,
        per_group_per_min: int | None,
        monotonic: Callable[[], float],
    ) -> None:
        self._global_per_sec = global_per_sec
        self._per_chat_per_sec = per_chat_per_sec
        self._per_group_per_min = per_group_per_min
        self._monotonic = monotonic
        self._global: deque[float] = deque()
        self._per_chat: dict[int | str, deque[float]] = {}
        self._per_group: dict[int | str, deque[float]] = {}

    def admit(self, chat_id: int | str | None) -> int | None:
        """Record a message to `chat_id` and return None, or return retry_after seconds."""
        now = self._monotonic()
        windows: list[tuple[deque[float], int, float]] = [(self._global, self._global_per_sec, 1.0)]
        if chat_id is not None:
            windows.append(
                (self._per_chat.setdefault(chat_id, deque()), self._per_chat_per_sec, 1.0)
            )
            if self._per_group_per_min is not None and _is_group(chat_id):
                windows.append(
                    (self._per_group.setdefault(chat_id, deque()), self._per_group_per_min, 60.0)
                )
        waits = [_wait(window, limit, span, now) for window, limit, span in windows]
        if any(wait > 0 for wait in waits):
            return max(1, math.ceil(max(waits)))
        for window, _limit, _span in windows:
            window.append(now)
        return None


def _wait(window: deque[float], limit: int, span: float, now: float) -> float:
    while window and window[0] <= now - span:
        window.popleft()
    if len(window) < limit:
        return 0.0
    return window[0] + span - now


def _is_group(chat_id: int | str) -> bool:
    return isinstance(chat_id, str) or chat_id < 0


def _check_kind(kind: str) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")

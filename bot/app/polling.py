"""Long polling that keeps fetching while handlers run, is fair per chat, and cannot die quietly.

## When an update is confirmed: once it is accepted, not once it is handled

getUpdates(offset=N) confirms every update below N, and a call returns at most 100 updates from
the oldest unconfirmed one. Two consequences decide the design:

- While an update is unconfirmed, every getUpdates returns it again at once, so a poller that
  confirms only handled updates cannot long-poll while anything is in flight: it either spins or
  sleeps (the previous poller slept a fixed 0.5 s, which every quick second message paid, and
  made two getUpdates calls per message).
- Nothing past the oldest unconfirmed update + 100 can even be seen. A bounded in-memory window
  that confirms only the contiguous handled prefix is therefore unfair by construction: one
  nurse's 300-message burst, slowed by flood control, pins the window and another nurse's /help
  behind it waits for minutes.

So the poller confirms an update as soon as it is *accepted*: its JSON is written to the
`inbound_updates` table (one transaction per fetched batch, in parallel with the handling, which
starts at once), and only then does the next getUpdates move the offset past it. When the update
has been handled its row is deleted (deletes are coalesced). A crash at any point leaves every
confirmed-but-unfinished update in the table, and whoever leads next (this process restarted, or a
standby on PostgreSQL) handles it first, lane by lane; the (chat id, message id) ledger keeps a
message that was saved just before the crash from being logged twice. If the database refuses the
write, nothing is confirmed past the oldest update that is neither handled nor written: the old
confirm-after-handling rule, so nothing acknowledged is ever lost, only fairness degrades while the
database is down. No fixed pause remains: the waits are the long poll itself, exponential backoff
with jitter after a failure, Telegram's retry_after, and events (an update finished or accepted).

## Fair per chat

Every chat has a lane (bot.app.concurrency.lane_key). A lane runs its updates one at a time, in
arrival order; lanes run concurrently (bounded by the Application's update processor). A lane holds
at most `chat_window` updates in memory; the rest of a burst waits in the table (already accepted
and confirmed) and is paged back in as the lane drains. So a burst costs other chats neither memory
nor fetch slots. Fetching pauses, waiting for an update to finish, only when `max_backlog`
accepted updates are unfinished in all.

## Failures

Every getUpdates failure is classified: RetryAfter waits the time Telegram asks; timeouts,
network errors and 5xx back off exponentially with jitter; 409 Conflict (another poller with this
token) is logged once per episode, backs off, and raises `attention` so the runner can hand
leadership to a standby on PostgreSQL; 401/404 (a rejected token) is fatal: `fatal` says so in one
line and the runner exits non-zero. Anything else backs off and is logged by type. An update the
library cannot parse is set aside at once (a dead letter: ids and the error's class, never its
text) and the nurse is told it was NOT saved; so is one whose handling fails `update_attempts`
times, counting handlings that a crash interrupted (kept in the table across restarts). An update
whose failure the error handler could not report to the nurse (Telegram refused the notice) is
handled again after a backoff, not confirmed in silence.

Must not import handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import warnings
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from bot.app.concurrency import lane_key
from bot.app.context import CasebotApplication, Services
from bot.config import TelegramConfig
from bot.services import inbound
from bot.services.inbound import Accepted, SetAside
from storage.inbound import STAGE_HANDLE, STAGE_PARSE, chat_id_of

log = logging.getLogger(__name__)

EXTRAS_KEY = "poller"
POLL_TIMEOUT = 10  # seconds Telegram holds a getUpdates call open when nothing is new
READ_SLACK = 5.0  # seconds on top of the long poll before the HTTP read times out
SET_ASIDE_NOTICE = (
    "I could not read or handle one of your messages, so it was <b>NOT saved</b>. "
    "Please send it again (in other words, if it fails again)."
)

UNTOLD_ATTEMPTS = 10  # handlings of an update whose nurse could not be told it failed
JSON = dict[str, Any]


@dataclass
class Backoff:
    """Exponential backoff with jitter: the n-th wait is in [c/2, c], c = min(cap, base*2^(n-1))."""

    base: float
    cap: float
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next(self) -> float:
        self.failures += 1
        ceiling: float = min(self.cap, self.base * 2.0 ** min(self.failures - 1, 30))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.failures = 0


@dataclass(frozen=True)
class PollerSettings:
    """How the poller fetches, holds and retries; from [telegram] by `from_config`."""

    timeout: int = POLL_TIMEOUT
    update_attempts: int = 3
    chat_window: int = 50
    max_backlog: int = 10_000
    network_backoff: tuple[float, float] = (1.0, 60.0)  # base, cap (seconds)
    conflict_backoff: tuple[float, float] = (5.0, 60.0)
    database_backoff: tuple[float, float] = (0.5, 30.0)

    @classmethod
    def from_config(cls, tg: TelegramConfig, **overrides: Any) -> PollerSettings:
        values: dict[str, Any] = {
            "update_attempts": tg.update_attempts,
            "chat_window": tg.chat_window,
            "max_backlog": tg.max_backlog,
        }
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class PollStatus:
    """What /healthz reports about polling."""

    running: bool
    seconds_since_success: float
    ever_succeeded: bool
    in_conflict: bool
    last_failure: str | None
    backlog: int
    dead_letters: int
    fatal: str | None


@dataclass(eq=False)
class _Entry:
    update_id: int
    update: Update
    lane: str
    arrived: datetime
    raw: JSON | None  # kept until the update is accepted
    accepted: bool = False
    done: bool = False
    failures: int = 0
    untold: int = 0  # handlings whose failure the nurse could not be told of


@dataclass(eq=False)
class _Lane:
    """One chat's updates, oldest first: `ready` (in memory) < `parked` (ids in the table) <
    `overflow` (in memory, beyond the window, not yet written)."""

    key: str
    ready: deque[_Entry] = field(default_factory=deque)
    parked: deque[int] = field(default_factory=deque)
    overflow: deque[_Entry] = field(default_factory=deque)
    current: _Entry | None = None
    loading: bool = False
    task: asyncio.Task[None] | None = None

    def in_memory(self) -> int:
        return len(self.ready) + (self.current is not None)

    def waiting(self) -> int:
        return len(self.ready) + len(self.parked) + len(self.overflow)


class Poller:
    """getUpdates in a loop; see the module docstring for what is confirmed when."""

    def __init__(
        self,
        app: CasebotApplication,
        *,
        settings: PollerSettings | None = None,
        allowed_updates: Sequence[str] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.app = app
        self.services: Services = app.services
        self.settings = settings or PollerSettings.from_config(app.services.config.telegram)
        self.allowed_updates = list(allowed_updates) if allowed_updates else Update.ALL_TYPES
        rng = rng or random.Random()
        s = self.settings
        self._network_backoff = Backoff(*s.network_backoff, rng=rng)
        self._conflict_backoff = Backoff(*s.conflict_backoff, rng=rng)
        self._database_backoff = Backoff(*s.database_backoff, rng=rng)
        # Observable state (runner, health, tests).
        self.fatal: str | None = None
        self.in_conflict = False
        self.conflicts = 0
        self.dead_letters = 0
        self.last_failure: str | None = None
        self.attention = asyncio.Event()  # set on a conflict or a fatal error
        self.waits: deque[tuple[str, float]] = deque(maxlen=200)  # (reason, seconds) planned
        # Bookkeeping.
        self._highest: int | None = None  # the highest update id fetched (or left in the table)
        self._unaccepted: dict[int, _Entry] = {}  # fetched, not handled, not yet written
        self._unreadable: dict[int, SetAside] = {}  # could not be parsed, not yet recorded
        self._lanes: dict[str, _Lane] = {}
        self._arrivals: dict[int, datetime] = {}  # parked ids: when they were fetched
        self._backlog = 0  # fetched or resumed, not finished
        self._forget: list[int] = []
        self._forget_wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._forget_task: asyncio.Task[None] | None = None
        self._notices: set[asyncio.Task[None]] = set()
        self._untold: set[int] = set()  # updates whose nurse the error handler could not tell
        self._started_at = 0.0
        self._succeeded_at: float | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start fetching (after handing over what a previous run left in the table)."""
        loop = asyncio.get_running_loop()
        self._started_at = loop.time()
        self._stopping.clear()
        self.services.extras[EXTRAS_KEY] = self
        try:
            await self.app.bot.delete_webhook(drop_pending_updates=False)
        except InvalidToken:
            self._fail_fatally()
            return
        except TelegramError as exc:  # getUpdates will say more (409 while a webhook is set)
            log.warning("deleteWebhook failed (%s); polling anyway", type(exc).__name__)
        self._task = asyncio.create_task(self._run(), name="casebot:polling")
        self._forget_task = asyncio.create_task(self._forget_loop(), name="casebot:forget")

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop fetching; let each chat finish the update it is on (up to `grace` s); confirm
        what was accepted. Updates not yet handled stay in the table for the next leader."""
        self._stopping.set()
        await _cancel(self._task)
        self._task = None
        lanes = [lane.task for lane in self._lanes.values() if lane.task is not None]
        if lanes:
            _, pending = await asyncio.wait(lanes, timeout=grace)
            for task in pending:
                await _cancel(task)
        self._forget_wake.set()
        await _cancel(self._forget_task)
        self._forget_task = None
        await self._flush_forget()
        offset = self._offset()
        if offset is not None and self.fatal is None:
            with contextlib.suppress(Exception):  # confirming is a courtesy: all is in the table
                await self.app.bot._post(  # noqa: SLF001 - see _poll
                    "getUpdates", {"offset": offset, "timeout": 0, "limit": 1}
                )
        for task in list(self._notices):
            await _cancel(task)
        if self.services.extras.get(EXTRAS_KEY) is self:
            del self.services.extras[EXTRAS_KEY]

    async def abandon(self) -> None:
        """Stop at once and write nothing more, as a killed process would (tests use it to
        crash in process)."""
        self._stopping.set()
        tasks = [self._task, self._forget_task, *(lane.task for lane in self._lanes.values())]
        for task in [*tasks, *self._notices]:
            await _cancel(task)
        if self.services.extras.get(EXTRAS_KEY) is self:
            del self.services.extras[EXTRAS_KEY]

    # ------------------------------------------------------------------ what others ask

    def status(self) -> PollStatus:
        loop = asyncio.get_running_loop()
        since = self._succeeded_at if self._succeeded_at is not None else self._started_at
        return PollStatus(
            running=self.running,
            seconds_since_success=max(0.0, loop.time() - since),
            ever_succeeded=self._succeeded_at is not None,
            in_conflict=self.in_conflict,
            last_failure=self.last_failure,
            backlog=self._backlog,
            dead_letters=self.dead_letters,
            fatal=self.fatal,
        )

    def arrived_at(self, update: object) -> datetime | None:
        """When this update was fetched (the flood control's clock is that of Services)."""
        lane = self._lanes.get(lane_key(update))
        if lane is None or not isinstance(update, Update):
            return None
        if lane.current is not None and lane.current.update_id == update.update_id:
            return lane.current.arrived
        return None

    def could_not_tell(self, update: object) -> None:
        """The error handler could not tell the nurse that this update failed (Telegram
        refused the notice too): handle it again later rather than confirm it in silence."""
        if isinstance(update, Update):
            self._untold.add(update.update_id)

    def waiting_behind(self, update: object) -> int:
        """How many updates of the same chat wait behind this one."""
        lane = self._lanes.get(lane_key(update))
        return 0 if lane is None else lane.waiting()

    # ------------------------------------------------------------------ fetching

    async def _run(self) -> None:
        try:
            await self._fetch()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug, not a Telegram or database fault (those are handled where they happen):
            # say so, and let the runner restart polling or hand it over (status().running).
            self.last_failure = type(exc).__name__
            log.exception("polling stopped unexpectedly")
            self.attention.set()

    async def _fetch(self) -> None:
        if not await self._resume():
            return
        timeout = self.settings.timeout
        while not self._stopping.is_set():
            if self._backlog >= self.settings.max_backlog:
                await self._pause("backlog full", None, wake=self._progress)
                if self._progress.is_set():  # held on purpose while handlers make progress:
                    self._succeeded_at = asyncio.get_running_loop().time()  # not a stall
                continue
            if (self._unaccepted or self._unreadable) and not await self._accept():
                await self._pause("database", self._database_backoff.next(), wake=self._progress)
            offset = self._offset()
            blocked = offset is not None and self._highest is not None and offset <= self._highest
            batch = await self._poll(offset, 0 if blocked else timeout)
            if batch is not None:
                self._take(batch)
            if self.fatal is not None:
                return

    def _offset(self) -> int | None:
        """The getUpdates offset: the oldest update that is neither handled nor written, else
        the one after the newest fetched (None before anything was fetched)."""
        pending = [*self._unaccepted, *self._unreadable]
        if pending:
            return min(pending)
        return None if self._highest is None else self._highest + 1

    async def _poll(self, offset: int | None, wait: int) -> list[JSON] | None:
        """One getUpdates call (a long poll of `wait` s): the raw updates, or None after a
        failure (and its backoff)."""
        data: JSON = {"timeout": wait, "allowed_updates": self.allowed_updates}
        if offset is not None:
            data["offset"] = offset
        try:
            # Bot._post returns the raw JSON: Bot.get_updates parses the whole batch at once,
            # fails on one bad update and logs the batch (message texts) at CRITICAL.
            result = await self.app.bot._post(  # noqa: SLF001
                "getUpdates", data, read_timeout=wait + READ_SLACK
            )
        except asyncio.CancelledError:
            raise
        except RetryAfter as exc:
            self._failed(exc)
            await self._pause("retry_after", _retry_seconds(exc))
            return None
        except Conflict as exc:
            self._failed(exc)
            self._conflict()
            await self._pause("conflict", self._conflict_backoff.next())
            return None
        except InvalidToken:
            self._fail_fatally()
            return None
        except Exception as exc:  # noqa: BLE001 - timeouts, network, 5xx, the unexpected
            self._failed(exc)
            await self._pause("network", self._network_backoff.next())
            return None
        if not isinstance(result, list):
            self._failed(TypeError("getUpdates did not return a list"))
            await self._pause("network", self._network_backoff.next())
            return None
        self._succeeded()
        return [item for item in result if isinstance(item, dict)]

    def _succeeded(self) -> None:
        self._succeeded_at = asyncio.get_running_loop().time()
        if self.in_conflict:
            log.info("getUpdates works again: no other instance is polling now")
        if self._network_backoff.failures:
            log.info("getUpdates works again after %d failures", self._network_backoff.failures)
        self.in_conflict = False
        self._network_backoff.reset()
        self._conflict_backoff.reset()

    def _failed(self, exc: BaseException) -> None:
        self.last_failure = type(exc).__name__
        failures = self._network_backoff.failures
        if isinstance(exc, Conflict | RetryAfter):
            return
        # The first failure of a run, then every tenth: a flapping network is not a log flood.
        if failures % 10 == 0:
            log.warning(
                "getUpdates failed (%s, %d in a row); backing off", type(exc).__name__, failures + 1
            )

    def _conflict(self) -> None:
        self.conflicts += 1
        if not self.in_conflict:
            self.in_conflict = True
            log.warning(
                "getUpdates: another instance is polling with this bot's token (409 Conflict); "
                "backing off"
            )
            self.attention.set()

    def _fail_fatally(self) -> None:
        self.fatal = (
            "Telegram refused the bot token (401/404 on getUpdates): check telegram.token "
            "(and telegram.base_url)"
        )
        self.last_failure = "InvalidToken"
        log.error("%s", self.fatal)
        self.attention.set()

    def _take(self, batch: list[JSON]) -> None:
        """Schedule the new updates of a batch (ones seen before come back until confirmed)."""
        now = self.services.clock.now()
        for item in batch:
            update_id = item.get("update_id")
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                log.warning("getUpdates returned an update without an update_id; ignored")
                continue
            if self._highest is not None and update_id <= self._highest:
                continue
            self._highest = update_id
            try:
                update = Update.de_json(item, self.app.bot)
            except Exception as exc:  # noqa: BLE001 - any parse failure makes it unreadable
                self._unreadable[update_id] = _unreadable(update_id, item, exc)
                log.error(
                    "update %s could not be read (%s); setting it aside",
                    update_id,
                    type(exc).__name__,
                )
                continue
            entry = _Entry(update_id, update, lane_key(update), now, raw=item)
            self._unaccepted[update_id] = entry
            self._backlog += 1
            self._schedule(entry)

    async def _accept(self) -> bool:
        """Write the fetched, unfinished updates (and the unreadable ones) in one transaction."""
        entries = list(self._unaccepted.values())
        unreadable = list(self._unreadable.values())
        rows = [Accepted(update_id=e.update_id, lane=e.lane, payload=e.raw or {}) for e in entries]
        try:
            await inbound.accept(
                self.services.db, self.services.clock, rows=rows, set_aside=unreadable
            )
        except Exception as exc:  # noqa: BLE001 - DatabaseUnavailable and any other fault
            log.warning(
                "could not keep %d fetched updates (%s); confirming them only once handled",
                len(rows),
                type(exc).__name__,
            )
            return False
        self._database_backoff.reset()
        for entry in entries:
            entry.accepted, entry.raw = True, None
            self._unaccepted.pop(entry.update_id, None)
            if entry.done:  # finished while it was being written
                self._forget_ids([entry.update_id])
        for row in unreadable:
            self._unreadable.pop(row.update_id, None)
            self.dead_letters += 1
            self._tell_not_saved(row.chat_id)
        for lane in self._lanes.values():
            while lane.overflow and lane.overflow[0].accepted:
                entry = lane.overflow.popleft()
                lane.parked.append(entry.update_id)
                self._arrivals[entry.update_id] = entry.arrived
            self._wake(lane)
        self._progress.set()
        return True

    async def _resume(self) -> bool:
        """Take over what a stop or crash left in the table, before fetching anything new."""
        backoff = Backoff(*self.settings.database_backoff)
        while True:
            try:
                backlog = await inbound.resume(
                    self.services.db,
                    self.services.clock,
                    max_attempts=self.settings.update_attempts,
                )
                break
            except Exception as exc:  # noqa: BLE001 - the database may be down at start
                log.warning("could not read the update backlog (%s); retrying", type(exc).__name__)
                await self._pause("database", backoff.next())
                if self._stopping.is_set():
                    return False
        for row in backlog.set_aside:
            self.dead_letters += 1
            log.error(
                "update %s interrupted %d times (the process died while handling it); set aside",
                row.update_id,
                row.attempts,
            )
            self._tell_not_saved(row.chat_id)
        total = 0
        for key, ids in backlog.lanes.items():
            lane = self._lanes.setdefault(key, _Lane(key))
            lane.parked.extend(ids)
            total += len(ids)
            self._highest = max(self._highest or 0, ids[-1])
            self._wake(lane)
        self._backlog += total
        if total:
            log.info("handling %d updates left by the last run first", total)
        return True

    # ------------------------------------------------------------------ lanes

    def _schedule(self, entry: _Entry) -> None:
        lane = self._lanes.setdefault(entry.lane, _Lane(entry.lane))
        if (
            lane.parked
            or lane.overflow
            or lane.loading
            or lane.in_memory() >= self.settings.chat_window
        ):
            lane.overflow.append(entry)
        else:
            lane.ready.append(entry)
        self._wake(lane)

    def _wake(self, lane: _Lane) -> None:
        if lane.task is None and not self._stopping.is_set() and lane.waiting():
            lane.task = asyncio.create_task(self._run_lane(lane), name=f"casebot:{lane.key}")

    async def _run_lane(self, lane: _Lane) -> None:
        try:
            while not self._stopping.is_set():
                if not lane.ready and not await self._refill(lane):
                    break
                entry = lane.ready.popleft()
                lane.current = entry
                try:
                    await self._process(entry)
                finally:
                    lane.current = None
                self._finish(entry)
        finally:
            lane.task = None
            if not lane.waiting() and self._lanes.get(lane.key) is lane:
                del self._lanes[lane.key]

    async def _refill(self, lane: _Lane) -> bool:
        """Bring the lane's next updates into memory: parked ones from the table, or (while
        they cannot be written) overflow held in memory. False when the lane is empty."""
        window = self.settings.chat_window
        while not self._stopping.is_set():
            if lane.ready:
                return True
            if lane.parked:
                ids = [lane.parked.popleft() for _ in range(min(window, len(lane.parked)))]
                lane.loading = True  # what arrives meanwhile queues behind these
                try:
                    try:
                        rows = await inbound.load(self.services.db, update_ids=ids)
                    except Exception as exc:  # noqa: BLE001 - the database is down: wait, retry
                        lane.parked.extendleft(reversed(ids))
                        log.warning("could not load waiting updates (%s)", type(exc).__name__)
                        await self._pause("database", self._database_backoff.next())
                        continue
                    await self._page_in(lane, ids, rows)
                finally:
                    lane.loading = False
                continue
            if lane.overflow:
                for _ in range(min(window, len(lane.overflow))):
                    lane.ready.append(lane.overflow.popleft())
                continue
            return False
        return False

    async def _page_in(self, lane: _Lane, ids: list[int], rows: list[tuple[int, JSON]]) -> None:
        found = dict(rows)
        now = self.services.clock.now()
        for update_id in ids:
            arrived = self._arrivals.pop(update_id, now)
            payload = found.get(update_id)
            if payload is None:  # gone (set aside by another leader): nothing to do
                self._backlog -= 1
                continue
            try:
                update = Update.de_json(payload, self.app.bot)
            except Exception as exc:  # noqa: BLE001 - e.g. stored before a library upgrade
                row = _unreadable(update_id, payload, exc)
                await self._record_set_aside(row)
                self._backlog -= 1
                continue
            lane.ready.append(_Entry(update_id, update, lane.key, arrived, raw=None, accepted=True))

    async def _process(self, entry: _Entry) -> None:
        """Run the update through the Application; retry one whose processing raises, and set
        it aside after `update_attempts` failures. (Handler errors do not raise here: PTB hands
        them to the error handler, which tells the nurse; when it cannot, it says so
        (`could_not_tell`) and the update is handled again after a backoff, up to
        UNTOLD_ATTEMPTS times, rather than confirmed in silence.)"""
        app = self.app
        backoff = Backoff(*self.settings.database_backoff)
        while True:
            try:
                await app.update_processor.process_update(
                    entry.update, app.process_update(entry.update)
                )
                if entry.update_id not in self._untold:
                    return
                self._untold.discard(entry.update_id)
                raise _Untold  # handled again below, after a pause
            except asyncio.CancelledError:
                raise
            except _Untold:
                entry.untold += 1
                if entry.untold < UNTOLD_ATTEMPTS:  # Telegram may be down: wait, handle again
                    await self._pause("untold", backoff.next())
                    continue
                log.error(
                    "update %s: its nurse could not be told it failed; set aside", entry.update_id
                )
                await self._record_set_aside(
                    SetAside(
                        update_id=entry.update_id,
                        chat_id=entry.update.effective_chat.id
                        if entry.update.effective_chat is not None
                        else None,
                        stage=STAGE_HANDLE,
                        error="Untold",
                        attempts=entry.untold,
                    )
                )
                entry.accepted = False
                return
            except Exception as exc:
                if self._stopping.is_set():
                    raise
                entry.failures += 1
                log.error(
                    "update %s: processing failed (%s), attempt %d of %d",
                    entry.update_id,
                    type(exc).__name__,
                    entry.failures,
                    self.settings.update_attempts,
                )
                if entry.failures >= self.settings.update_attempts:
                    chat = entry.update.effective_chat
                    await self._record_set_aside(
                        SetAside(
                            update_id=entry.update_id,
                            chat_id=chat.id if chat is not None else None,
                            stage=STAGE_HANDLE,
                            error=type(exc).__name__,
                            attempts=entry.failures,
                        )
                    )
                    entry.accepted = False  # its row went with it
                    return

    def _finish(self, entry: _Entry) -> None:
        entry.done = True
        self._unaccepted.pop(entry.update_id, None)
        self._backlog -= 1
        if entry.accepted:
            self._forget_ids([entry.update_id])
        self._progress.set()

    async def _record_set_aside(self, row: SetAside) -> None:
        self.dead_letters += 1
        try:
            await inbound.set_aside(self.services.db, self.services.clock, row=row)
        except Exception as exc:  # noqa: BLE001 - logged; the nurse is still told
            log.error(
                "update %s could not be recorded as set aside (%s)",
                row.update_id,
                type(exc).__name__,
            )
        self._tell_not_saved(row.chat_id)

    # ------------------------------------------------------------------ forgetting handled ones

    def _forget_ids(self, ids: list[int]) -> None:
        self._forget.extend(ids)
        self._forget_wake.set()

    async def _forget_loop(self) -> None:
        while True:
            await self._forget_wake.wait()
            self._forget_wake.clear()
            if not await self._flush_forget():
                await self._pause("database", self._database_backoff.next())
                self._forget_wake.set()

    async def _flush_forget(self) -> bool:
        ids, self._forget = self._forget, []
        if not ids:
            return True
        try:
            await inbound.forget(self.services.db, update_ids=ids)
        except asyncio.CancelledError:
            self._forget[:0] = ids  # stop() flushes them once more
            raise
        except Exception as exc:  # noqa: BLE001 - kept for the next try; a restart replays them
            self._forget[:0] = ids
            log.warning("could not drop %d handled updates (%s)", len(ids), type(exc).__name__)
            return False
        return True

    # ------------------------------------------------------------------ helpers

    def _tell_not_saved(self, chat_id: int | None) -> None:
        """Tell a nurse (private chats only) that an update of hers was set aside."""
        if chat_id is None or chat_id <= 0:
            return

        async def tell() -> None:
            try:
                await self.app.bot.send_message(chat_id, SET_ASIDE_NOTICE)
            except TelegramError as exc:
                log.warning("could not tell chat %s about a set-aside update: %s", chat_id, exc)

        task = asyncio.create_task(tell())
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def _pause(
        self, reason: str, seconds: float | None, *, wake: asyncio.Event | None = None
    ) -> None:
        """Wait `seconds` (None: until woken), or less if stopping or `wake` is set."""
        self.waits.append((reason, -1.0 if seconds is None else seconds))
        events = [self._stopping] + ([wake] if wake is not None else [])
        if wake is not None:
            wake.clear()
        waiters = [asyncio.create_task(event.wait()) for event in events]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


class _Untold(Exception):  # noqa: N818 - a state, not an error of ours
    """The update failed and the error handler could not tell the nurse so."""


def poller_of(services: Services) -> Poller | None:
    """The running poller of this application, if it polls."""
    poller = services.extras.get(EXTRAS_KEY)
    return poller if isinstance(poller, Poller) else None


def _unreadable(update_id: int, payload: JSON, exc: BaseException) -> SetAside:
    return SetAside(
        update_id=update_id,
        chat_id=chat_id_of(payload),
        stage=STAGE_PARSE,
        error=type(exc).__name__,
        attempts=1,
    )


def _retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after will become a timedelta
        warnings.simplefilter("ignore")
        value: object = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)  # type: ignore[arg-type]


async def _cancel(task: asyncio.Task[Any] | None) -> None:
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

"""The dispatcher: turns due tasks and digests into outbox rows, claims them, sends, settles.

APScheduler (PTB's JobQueue) only wakes it; the database decides what is due. Every process
may dispatch: claims are exclusive (storage.deliveries). Never lost: what came due while the bot
was down is sent on start and says it is late; a claim whose process died is retried after its
lease, and says "(repeat)" if that process had started sending it (a mark committed just
before each Bot API call). Never twice in the normal case: a delivery is sent by one claimer and
marked sent with its Telegram message id. No transaction is held across a Telegram call.

Work follows change. A pass reads only what can have become due since the last one (due
windows crossed, tasks created or noted as changed: bot.outbox.planning.Progress), in one read
transaction of a bounded number of statements, decides in Python, then writes in one short
write transaction. Updates do not wake it: a use case that commits something due before the
next poll says so (storage.due) and the dispatcher wakes for that; wakes share passes.

This module is the loop: wake-ups, heartbeat, plan (read, decide with bot.outbox.planning,
write), claim, send, retry, settle. The SQL is storage's, the wording bot.render's through
bot.outbox.compose.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time as monotonic_time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiolimiter import AsyncLimiter
from apscheduler.jobstores.base import JobLookupError
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.clock import Clock
from bot.config import Config
from bot.outbox import planning
from bot.outbox.compose import Outgoing, compose
from bot.render.digest import DigestData
from bot.services.digests import read_digest
from bot.services.records import business_calendar, care_rules
from bot.vocab import DeliveryKind, DeliveryStatus
from storage import deliveries as outbox
from storage import digest as digest_store
from storage import people, pushes
from storage.audit import record_audit
from storage.db import Database, DatabaseUnavailable
from storage.due import DueChanges
from storage.models import Delivery

log = logging.getLogger(__name__)

PER_CHAT_GAP = 1.05  # seconds between two pushes to one chat (Telegram: about 1 a second)
SETTLE_EVERY = 25  # sends marked sent per write transaction
HEARTBEAT_SECONDS = 5.0  # how often a dispatcher says it is alive and recounts the others
ALIVE_WITHIN = timedelta(seconds=3 * HEARTBEAT_SECONDS)  # silent longer: its share is freed
CLAIM_SECONDS = 7  # one claim holds about this many seconds of sending at the dispatcher's pace
WAKE_DELAY = 0.2  # seconds from a wake-up to its pass: the wakes of a burst of updates share it
READ_LIMIT = 2000  # rows per planning read; a read cut here makes the next pass a sweep


@dataclass
class DispatchReport:
    planned: int = 0
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    next_wake: datetime | None = None
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Dispatcher:
    """Plans, claims and sends pushes for one process."""

    def __init__(
        self,
        *,
        db: Database,
        bot: Bot,
        config: Config,
        clock: Clock,
        worker_id: str,
        batch: int = 200,
        concurrency: int = 32,
    ) -> None:
        self.db = db
        self.bot = bot
        self.config = config
        self.clock = clock
        self.worker_id = worker_id
        self.batch = batch
        self.calendar = business_calendar(config)
        self.cadence_days = dict(care_rules(config).cadence_days)
        self.escalation_lead = timedelta(hours=config.reminders.escalation_hours)
        self.progress = planning.Progress()
        self.passes = 0  # passes run, and wake-ups asked by committed changes (observability)
        self.wakes = 0
        self._again = False
        self._wake_at = 0.0
        self._concurrency = asyncio.Semaphore(concurrency)
        self._last_sent: dict[int, float] = {}
        self.per_chat_gap = PER_CHAT_GAP
        self._pass_lock = asyncio.Lock()
        self._paused_until = 0.0
        self._job: Any = None
        self._poll_job: Any = None
        self._job_queue: Any = None
        self._heartbeat_job: Any = None
        self._running: asyncio.Task[None] | None = None
        # Telegram's per-bot budget is shared by every dispatching process: each paces its
        # pushes at budget / live dispatchers (counted in the database every few seconds).
        self.workers = 1
        self._share: AsyncLimiter | None = None  # alone: PTB's AIORateLimiter paces it all
        db.on_commit(self._committed)

    # ------------------------------------------------------------------ scheduling

    def start(self, job_queue: Any) -> None:
        """Poll every poll_seconds and wake at the next due time (APScheduler via JobQueue)."""
        self._job_queue = job_queue
        self._poll_job = job_queue.run_repeating(
            self._tick,
            interval=self.config.reminders.poll_seconds,
            first=0.1,
            name="dispatch-poll",
        )
        if self.db.dialect == "postgresql":  # on SQLite one process runs (the CLI's file lock)
            self._heartbeat_job = job_queue.run_repeating(
                self._beat, interval=HEARTBEAT_SECONDS, first=0, name="dispatch-heartbeat"
            )

    async def _beat(self, _context: Any) -> None:
        try:
            await self.heartbeat()
        except Exception as exc:  # noqa: BLE001 - keep the last share; the next beat retries
            log.warning("dispatch heartbeat failed: %s", type(exc).__name__)

    async def heartbeat(self) -> int:
        """Say this dispatcher is alive; re-pace to its share if others came or went."""
        async with self.db.uow() as session:
            workers = await outbox.heartbeat(
                session, worker=self.worker_id, now=self.clock.now(), alive_within=ALIVE_WITHIN
            )
        if workers != self.workers:
            log.info("dispatchers sharing the send budget: %d (was %d)", workers, self.workers)
            self.workers = workers
            self._share = _pacer(self._share_of(workers)) if workers > 1 else None
        return workers

    def _share_of(self, workers: int) -> float:
        """Messages a second for one of `workers` dispatchers. Each even pace can fit one send
        more than its rate into a one-second window, so one per extra dispatcher is held back."""
        budget = self.config.telegram.max_messages_per_second
        return max(budget - (workers - 1), 1) / workers

    async def close(self, *, grace: float = 5.0) -> None:
        """Stop: let a pass in progress finish (up to `grace` s, so what it sent is marked
        sent), then free this dispatcher's share of the budget for the others at once."""
        running, self._running = self._running, None
        self.db.remove_listener(self._committed)
        with contextlib.suppress(Exception):  # the JobQueue may already be shut down
            self.stop()
        if running is not None and not running.done():
            done, _ = await asyncio.wait({running}, timeout=grace)
            if not done:
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await running
        with contextlib.suppress(Exception):  # best effort: it expires after ALIVE_WITHIN anyway
            async with self.db.uow() as session:
                await outbox.forget_worker(session, worker=self.worker_id)

    def stop(self) -> None:
        for job in (self._job, self._poll_job, self._heartbeat_job):
            if job is not None and not job.removed:
                with contextlib.suppress(JobLookupError):
                    job.schedule_removal()
        self._job = self._poll_job = self._heartbeat_job = None
        if self._running is not None:
            self._running.cancel()

    @property
    def busy(self) -> bool:
        """A pass started by a wake-up or the poll is running."""
        return self._running is not None and not self._running.done()

    def wake_soon(self, delay: float = WAKE_DELAY) -> None:
        """Run a pass shortly. Wakes coalesce: one already due as soon shares it, and a wake
        during a pass makes one more pass after it, however many came."""
        if self.busy:
            self._again = True
            return
        self._schedule(delay)

    def _schedule(self, delay: float) -> None:
        """A pass in `delay` seconds, unless one is scheduled as soon already."""
        if self._job_queue is None:
            return
        now = monotonic_time.monotonic()
        at = now + max(delay, 0.01)
        if self._job is not None and not self._job.removed and now < self._wake_at <= at:
            return
        if self._job is not None and not self._job.removed:
            with contextlib.suppress(JobLookupError):  # it ran (and was removed) meanwhile
                self._job.schedule_removal()
        self._job = self._job_queue.run_once(self._tick, when=at - now, name="dispatch")
        self._wake_at = at

    def _committed(self, changes: DueChanges) -> None:
        """A use case committed `changes` (storage.due): plan them at the next pass, and wake
        for it now only if something is due before the next poll."""
        self.progress.note(changes)
        soon = planning.due_soon(
            changes,
            now=self.clock.now(),
            within=timedelta(seconds=self.config.reminders.poll_seconds),
            escalation_lead=self.escalation_lead,
        )
        if soon:
            self.wakes += 1
            self.wake_soon()

    async def _tick(self, _context: Any) -> None:
        """Start a pass in the background unless one is running (the job returns at once)."""
        if self.busy:
            self._again = True
            return
        self._running = asyncio.create_task(self._pass_and_reschedule())

    async def _pass_and_reschedule(self) -> None:
        again = True
        while again:
            self._again = False
            try:
                report = await self.run_once()
            except DatabaseUnavailable:
                log.warning("dispatch pass skipped: database unavailable")
                self._schedule(5.0)
                return
            except Exception as exc:  # noqa: BLE001 - the next poll retries; never die silently
                log.error("dispatch pass failed: %s", type(exc).__name__)
                self._schedule(5.0)
                return
            again = self._again
        if report.next_wake is not None:
            delay = (report.next_wake - self.clock.now()).total_seconds()
            if delay < self.config.reminders.poll_seconds:
                self._schedule(delay)

    # ------------------------------------------------------------------ one pass

    async def run_once(self) -> DispatchReport:
        """Plan what became due, then claim and send until nothing due is left."""
        async with self._pass_lock:
            self.passes += 1
            report = DispatchReport()
            now = self.clock.now()
            report.planned, state, schedules = await self._plan(now)
            # Alone, the state read says whether a claim can find anything; with other
            # dispatchers, what they planned since is theirs and ours to send: always claim.
            if report.planned or state.sendable(now) or self.workers > 1:
                while True:
                    wait = self._paused_until - monotonic_time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    claimed = await self._claim()
                    if not claimed:
                        break
                    report.claimed += len(claimed)
                    await self._send_all(claimed, report)
            now = self.clock.now()
            if report.claimed:  # retries and new leases moved the next wake
                async with self.db.uow(read_only=True) as session:
                    state = await outbox.outbox_state(session, now=now)
            wakes = [state.next_wake(), planning.next_digest_instant(schedules, now)]
            report.next_wake = min((t for t in wakes if t is not None), default=None)
            return report

    async def _claim(self) -> list[Delivery]:
        lease = timedelta(seconds=self.config.reminders.lease_seconds)
        # About CLAIM_SECONDS of sending at this dispatcher's share: with several dispatchers,
        # claims alternate in small batches, so each has work while the others do.
        limit = max(1, min(self.batch, math.ceil(self._share_of(self.workers) * CLAIM_SECONDS)))
        async with self.db.uow() as session:
            return await outbox.claim_due(
                session,
                now=self.clock.now(),
                worker=self.worker_id,
                lease=lease,
                limit=limit,
                chat_gap=timedelta(seconds=self.per_chat_gap),
            )

    # ------------------------------------------------------------------ planning

    async def plan(self, now: datetime) -> int:
        """Insert the deliveries that became due: reminders, digests, escalations."""
        planned, _, _ = await self._plan(now)
        return planned

    async def _plan(
        self, now: datetime
    ) -> tuple[int, outbox.OutboxState, list[pushes.PushSchedule]]:
        """Read what can have become due (one read transaction, a bounded number of
        statements whatever the number of tasks), decide (bot.outbox.planning), then write
        the new deliveries and cadence tasks in one short write transaction.

        Returns how many deliveries were inserted, the outbox's state and the push schedules
        (read before the write)."""
        scan = self.progress.scan(now)
        async with self.db.uow(read_only=True) as session:
            state = await outbox.outbox_state(session, now=now)  # first: its max task id
            schedules = await pushes.push_schedules(session)
            reminders = await pushes.reminders_due(
                session,
                now=now,
                since=scan.since,
                after_task_id=scan.after_task_id,
                task_ids=scan.task_ids,
                limit=READ_LIMIT,
            )
            overdue = await pushes.escalations_due(
                session,
                horizon=now + self.escalation_lead,
                since=None if scan.since is None else scan.since + self.escalation_lead,
                after_task_id=scan.after_task_id,
                task_ids=scan.task_ids,
                limit=READ_LIMIT,
            )
            teams = {r.team_id for r in overdue if r.supervisor_id is None and r.team_id}
            supervisors = await people.team_supervisors(session, team_ids=teams)
            candidates = planning.digest_pushes(schedules, now=now, done=self.progress.digests_done)
            have = await outbox.existing_keys(session, keys=[p.key for p in candidates])
            digests = [p for p in candidates if p.key not in have]
            cadence = await self._cadence_tasks(session, schedules, digests, now)
        if READ_LIMIT in (len(reminders), len(overdue)):
            self.progress.ask_sweep()  # cut at the limit: the next pass reads the rest
        urgent_in_quiet_hours = self.config.reminders.urgent_in_quiet_hours
        planned = [
            *planning.reminder_pushes(
                reminders, now=now, urgent_in_quiet_hours=urgent_in_quiet_hours
            ),
            *digests,
            *planning.escalation_pushes(overdue, supervisors=supervisors, now=now),
        ]
        inserted: set[str] = set()
        if planned:
            async with self.db.uow() as session:
                inserted = await outbox.insert_deliveries(session, planned, now=now)
                # A patient past her risk cadence gets one open check-in task, created with
                # the digest that lists her (by the process whose digest row went in).
                digested = {p.nurse_id for p in digests if p.key in inserted}
                new_tasks = [t for t in cadence if t.nurse_id in digested]
                await pushes.add_cadence_tasks(session, new_tasks, now=now)
        self.progress.done(
            scan,
            now=now,
            max_task_id=state.max_task_id,
            digests=planning.digest_days(candidates, schedules),
        )
        return len(inserted), state, schedules

    async def _cadence_tasks(
        self,
        session: Any,
        schedules: list[pushes.PushSchedule],
        digests: list[planning.Push],
        now: datetime,
    ) -> list[planning.CadenceTask]:
        """The check-in tasks the new digests create (read for all their nurses at once)."""
        nurses = {p.nurse_id for p in digests}
        if not nurses:
            return []
        gaps = await digest_store.past_cadence_of(
            session, nurse_ids=nurses, now=now, cadence_days=self.cadence_days
        )
        have = await pushes.open_cadence_patients(session, nurse_ids=nurses)
        zones = {s.nurse_id: ZoneInfo(s.timezone) for s in schedules}
        return [
            task
            for nurse in sorted(nurses)
            for task in planning.cadence_tasks(
                nurse_id=nurse,
                zone=zones[nurse],
                gaps=[(g.patient.id, g.risk) for g in gaps.get(nurse, [])],
                open_cadence=have.get(nurse, set()),
                now=now,
            )
        ]

    # ------------------------------------------------------------------ sending

    async def _send_all(self, claimed: list[Delivery], report: DispatchReport) -> None:
        """Compose the whole batch in one read, send per chat in order, settle in batches."""
        now = self.clock.now()
        composed = await self._compose_batch(claimed, now)
        obsolete = [d.id for d in claimed if composed.get(d.id) is None]
        if obsolete:
            async with self.db.uow() as session:
                await outbox.settle_many(
                    session,
                    delivery_ids=obsolete,
                    status=DeliveryStatus.CANCELLED,
                    error="obsolete",
                )
            report.cancelled += len(obsolete)
        by_chat: dict[int, list[tuple[Delivery, Outgoing]]] = defaultdict(list)
        for delivery in claimed:
            outgoing = composed.get(delivery.id)
            if outgoing is not None:
                by_chat[outgoing.chat_id].append((delivery, outgoing))
        sent: list[tuple[int, int]] = []

        async def run_chat(items: list[tuple[Delivery, Outgoing]]) -> None:
            for delivery, outgoing in items:
                async with self._concurrency:
                    message_id = await self._deliver(delivery, outgoing, now, report)
                if message_id is not None:
                    sent.append((delivery.id, message_id))
                    if len(sent) >= SETTLE_EVERY:
                        await self._settle_sent(sent, report)

        await asyncio.gather(*(run_chat(items) for items in by_chat.values()))
        await self._settle_sent(sent, report)

    async def _settle_sent(self, sent: list[tuple[int, int]], report: DispatchReport) -> None:
        """Mark a batch of sends as sent (a crash before this turns them into repeats)."""
        if not sent:
            return
        batch = list(sent)
        sent.clear()
        async with self.db.uow() as session:
            await outbox.mark_sent_many(session, sent=batch, now=self.clock.now())
        report.sent += len(batch)

    async def _deliver(
        self, delivery: Delivery, outgoing: Outgoing, now: datetime, report: DispatchReport
    ) -> int | None:
        """Send one push; the Telegram message id, or None after arranging a retry or failure."""
        await self._space(outgoing.chat_id)
        if self._share is not None:
            await self._share.acquire()
        try:  # committed before the call: a kill after it says "(repeat)", one before it not
            async with self.db.uow() as session:
                await outbox.mark_send_started(session, delivery_id=delivery.id, now=now)
        except Exception as exc:  # noqa: BLE001 - not sent now, not lost: its lease returns it
            log.warning("delivery %s not sent: %s", delivery.id, type(exc).__name__)
            return None
        try:
            message = await self.bot.send_message(
                outgoing.chat_id, outgoing.text, reply_markup=outgoing.buttons
            )
        except RetryAfter as exc:
            delay = _seconds(exc.retry_after)
            self._paused_until = monotonic_time.monotonic() + delay
            await self._retry(delivery, now + timedelta(seconds=delay), "429", report)
            return None
        except TimedOut:
            # It may have arrived: at-least-once, and the next send says "(repeat)".
            await self._retry(
                delivery,
                now + planning.backoff(delivery.attempts),
                "timeout",
                report,
                maybe_delivered=True,
            )
            return None
        except Forbidden:
            await self._unreachable(delivery, now, report)
            return None
        except BadRequest as exc:
            log.error("delivery %s refused by Telegram: %s", delivery.id, type(exc).__name__)
            await self._fail(delivery, "bad request", report)
            return None
        except NetworkError:
            await self._retry(
                delivery, now + planning.backoff(delivery.attempts), "network", report
            )
            return None
        self._last_sent[outgoing.chat_id] = monotonic_time.monotonic()
        return message.message_id

    async def _space(self, chat_id: int) -> None:
        last = self._last_sent.get(chat_id)
        if last is not None:
            wait = self.per_chat_gap - (monotonic_time.monotonic() - last)
            if wait > 0:
                await asyncio.sleep(wait)

    async def _retry(
        self,
        delivery: Delivery,
        at: datetime,
        error: str,
        report: DispatchReport,
        *,
        maybe_delivered: bool = False,
    ) -> None:
        report.errors[error] += 1
        if delivery.attempts >= self.config.reminders.max_attempts:
            await self._fail(delivery, f"gave up after {delivery.attempts}: {error}", report)
            return
        async with self.db.uow() as session:
            await outbox.retry_later(
                session,
                delivery_id=delivery.id,
                at=at,
                error=error,
                maybe_delivered=maybe_delivered,
            )
        report.retried += 1

    async def _fail(self, delivery: Delivery, error: str, report: DispatchReport) -> None:
        async with self.db.uow() as session:
            await outbox.settle(
                session, delivery_id=delivery.id, status=DeliveryStatus.FAILED, error=error
            )
        report.failed += 1

    async def _unreachable(self, delivery: Delivery, now: datetime, report: DispatchReport) -> None:
        """She blocked the bot: stop pushing, mark her unreachable, tell a supervisor or admin."""
        async with self.db.uow() as session:
            await outbox.settle(
                session, delivery_id=delivery.id, status=DeliveryStatus.FAILED, error="blocked"
            )
            nurse = await people.mark_unreachable(session, nurse_id=delivery.nurse_id)
            if nurse is not None:
                await record_audit(
                    session,
                    at=now,
                    action="nurse.unreachable",
                    entity="nurse",
                    entity_id=nurse.id,
                    command="dispatch",
                )
                teams = [nurse.team_id] if nurse.team_id is not None else []
                targets = planning.supervisors_of(
                    nurse_id=nurse.id,
                    supervisor_id=nurse.supervisor_id,
                    team_id=nurse.team_id,
                    supervisors=await people.team_supervisors(session, team_ids=teams),
                )
                if not targets:
                    targets = await people.admin_ids(session, except_nurse_id=nurse.id)
                notices = planning.notice_pushes(subject_id=nurse.id, recipients=targets, now=now)
                await outbox.insert_deliveries(session, notices, now=now)
        report.failed += 1
        report.errors["403"] += 1

    # ------------------------------------------------------------------ composing

    async def _compose_batch(
        self, claimed: list[Delivery], now: datetime
    ) -> dict[int, Outgoing | None]:
        """Every claimed push's message, from one read transaction (rows read by id in bulk)."""
        subjects = [planning.notice_subject(d.key) for d in claimed]
        async with self.db.uow(read_only=True) as session:
            rows = await pushes.push_rows(
                session, claimed, also_nurses=[s for s in subjects if s is not None]
            )
            digests: dict[int, DigestData] = {}
            for delivery in claimed:
                nurse = rows.nurses.get(delivery.nurse_id)
                if (
                    delivery.kind == DeliveryKind.DIGEST
                    and nurse is not None
                    and nurse.active
                    and nurse.chat_id is not None
                ):
                    digests[delivery.id] = await read_digest(
                        session,
                        nurse,
                        now,
                        self.config,
                        self.calendar,
                        scheduled_for=delivery.due_at,
                    )
        push_names = self.config.privacy.push_names
        return {
            d.id: compose(d, rows, now=now, push_names=push_names, digest=digests.get(d.id))
            for d in claimed
        }


def _pacer(per_second: float) -> AsyncLimiter:
    """Evenly spaced sends at `per_second` (no bursts, so several pacers add up smoothly)."""
    return AsyncLimiter(1, 1 / per_second)


def _seconds(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)

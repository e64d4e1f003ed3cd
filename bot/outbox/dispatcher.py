"""The dispatcher: turns due tasks and digests into outbox rows, claims them, sends, settles.

APScheduler (PTB's JobQueue) only wakes it; the database decides what is due. Every process
may dispatch: claims are exclusive (storage.deliveries). Never lost: what came due while the bot
was down is sent on start and says it is late; a claim whose process died is retried after its
lease and says "(repeat)". Never twice in the normal case: a delivery is sent by one claimer and
marked sent with its Telegram message id. No transaction is held across a Telegram call.

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
from storage import deliveries as outbox
from storage import digest as digest_store
from storage import people, pushes
from storage.audit import record_audit
from storage.db import Database, DatabaseUnavailable
from storage.models import Delivery, DeliveryKind, DeliveryStatus

log = logging.getLogger(__name__)

PER_CHAT_GAP = 1.05  # seconds between two pushes to one chat (Telegram: about 1 a second)
SETTLE_EVERY = 25  # sends marked sent per write transaction
HEARTBEAT_SECONDS = 5.0  # how often a dispatcher says it is alive and recounts the others
ALIVE_WITHIN = timedelta(seconds=3 * HEARTBEAT_SECONDS)  # silent longer: its share is freed
CLAIM_SECONDS = 7  # one claim holds about this many seconds of sending at the dispatcher's pace


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

    def wake_soon(self, delay: float = 0.2) -> None:
        """Run a pass shortly (after a handler created tasks, say)."""
        self._schedule(delay)

    def _schedule(self, delay: float) -> None:
        if self._job_queue is None:
            return
        if self._job is not None and not self._job.removed:
            with contextlib.suppress(JobLookupError):  # it ran (and was removed) meanwhile
                self._job.schedule_removal()
        self._job = self._job_queue.run_once(self._tick, when=max(delay, 0.01), name="dispatch")

    async def _tick(self, _context: Any) -> None:
        """Start a pass in the background unless one is running (the job returns at once)."""
        if self._running is not None and not self._running.done():
            return
        self._running = asyncio.create_task(self._pass_and_reschedule())

    async def _pass_and_reschedule(self) -> None:
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
        if report.next_wake is not None:
            delay = (report.next_wake - self.clock.now()).total_seconds()
            if delay < self.config.reminders.poll_seconds:
                self._schedule(delay)

    # ------------------------------------------------------------------ one pass

    async def run_once(self) -> DispatchReport:
        """Plan what is due, then claim and send until nothing due is left."""
        async with self._pass_lock:
            report = DispatchReport()
            report.planned = await self.plan(self.clock.now())
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
            async with self.db.uow(read_only=True) as session:
                report.next_wake = await outbox.next_wake(session, now=now)
                schedules = await pushes.push_schedules(session)
            digest_wake = planning.next_digest_instant(schedules, now)
            if digest_wake is not None and (
                report.next_wake is None or digest_wake < report.next_wake
            ):
                report.next_wake = digest_wake
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
        """Insert the deliveries that are due now: reminders, digests, escalations."""
        return (
            await self._plan_reminders(now)
            + await self._plan_digests(now)
            + await self._plan_escalations(now)
        )

    async def _plan_reminders(self, now: datetime) -> int:
        async with self.db.uow() as session:
            due = await pushes.reminders_due(session, until=now)
            planned = planning.reminder_pushes(
                due, now=now, urgent_in_quiet_hours=self.config.reminders.urgent_in_quiet_hours
            )
            return await outbox.insert_deliveries(session, planned, now=now)

    async def _plan_digests(self, now: datetime) -> int:
        async with self.db.uow() as session:
            schedules = await pushes.push_schedules(session)
            planned = planning.digest_pushes(schedules, now=now)
            inserted = await outbox.insert_deliveries(session, planned, now=now)
            if inserted:
                # A patient past her risk cadence gets one open cadence task (due end of today).
                for nurse in schedules:
                    gaps = await digest_store.past_cadence(
                        session, nurse_id=nurse.nurse_id, now=now, cadence_days=self.cadence_days
                    )
                    if not gaps:
                        continue
                    have = await pushes.open_cadence_patients(session, nurse_id=nurse.nurse_id)
                    tasks = planning.cadence_tasks(
                        nurse_id=nurse.nurse_id,
                        zone=ZoneInfo(nurse.timezone),
                        gaps=[(g.patient.id, g.risk) for g in gaps],
                        open_cadence=have,
                        now=now,
                    )
                    await pushes.add_cadence_tasks(session, tasks, now=now)
            return inserted

    async def _plan_escalations(self, now: datetime) -> int:
        """TCM contact tasks about to lapse (or lapsed) also go to the nurse's supervisor."""
        lead = timedelta(hours=self.config.reminders.escalation_hours)
        async with self.db.uow() as session:
            rows = await pushes.tcm_contacts_due_by(session, horizon=now + lead)
            teams = {r.team_id for r in rows if r.supervisor_id is None and r.team_id is not None}
            supervisors = await people.team_supervisors(session, team_ids=teams)
            planned = planning.escalation_pushes(rows, supervisors=supervisors, now=now)
            return await outbox.insert_deliveries(session, planned, now=now)

    # ------------------------------------------------------------------ sending
    # ------------------------------------------------------------------ sending

    async def _send_all(self, claimed: list[Delivery], report: DispatchReport) -> None:
        """Compose the whole batch in one read, send per chat in order, settle in batches."""
        now = self.clock.now()
        composed = await self._compose_batch(claimed, now)
        obsolete = [d.id for d in claimed if composed.get(d.id) is None]
        if obsolete:
            async with self.db.uow() as session:
                for delivery_id in obsolete:
                    await outbox.settle(
                        session,
                        delivery_id=delivery_id,
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
            for delivery_id, message_id in batch:
                await outbox.mark_sent(
                    session, delivery_id=delivery_id, message_id=message_id, now=self.clock.now()
                )
        report.sent += len(batch)

    async def _deliver(
        self, delivery: Delivery, outgoing: Outgoing, now: datetime, report: DispatchReport
    ) -> int | None:
        """Send one push; the Telegram message id, or None after arranging a retry or failure."""
        await self._space(outgoing.chat_id)
        if self._share is not None:
            await self._share.acquire()
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

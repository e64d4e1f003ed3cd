"""The dispatcher: turns due tasks and digests into outbox rows, claims them, sends, settles.

APScheduler (PTB's JobQueue) only wakes it; the database decides what is due. Every process
may dispatch: claims are exclusive (storage.deliveries). Never lost: what came due while the bot
was down is sent on start and says it is late; a claim whose process died is retried after its
lease and says "(repeat)". Never twice in the normal case: a delivery is sent by one claimer and
marked sent with its Telegram message id. No transaction is held across a Telegram call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time as monotonic_time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiolimiter import AsyncLimiter
from apscheduler.jobstores.base import JobLookupError
from sqlalchemy import select
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.care import (
    BusinessCalendar,
    HolidaySpec,
    countdown_business_days,
    end_of_local_day,
    in_quiet_hours,
    local_time_on,
    quiet_hours_end,
    start_of_local_day,
)
from bot.clock import Clock
from bot.config import Config
from bot.render import digest as digest_render
from bot.render import records as records_render
from bot.render.callbacks import Attendance, ShowDigest, TaskAction
from bot.render.reminders import (
    TASK_BUTTONS,
    ReminderFacts,
    patient_label,
    render_reminder,
)
from bot.render.text import esc, time_label
from bot.services.records import AttendanceCheck
from bot.vocab import DeliveryKind, DeliveryStatus, Role, TaskKind, TaskStatus
from storage import careplans as careplan_store
from storage import deliveries as outbox
from storage import digest as digest_store
from storage import queries as query_store
from storage.audit import record_audit
from storage.db import Database, DatabaseUnavailable
from storage.models import Appointment, Contact, Delivery, Nurse, Patient, Task

log = logging.getLogger(__name__)

URGENT_KINDS = {TaskKind.TCM_CONTACT.value, TaskKind.TCM_VISIT.value, TaskKind.MED_REC.value}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PER_CHAT_GAP = 1.05  # seconds between two pushes to one chat (Telegram: about 1 a second)
SETTLE_EVERY = 25  # sends marked sent per write transaction
HEARTBEAT_SECONDS = 5.0  # how often a dispatcher says it is alive and recounts the others
ALIVE_WITHIN = timedelta(seconds=3 * HEARTBEAT_SECONDS)  # silent longer: its share is freed
CLAIM_SECONDS = 7  # one claim holds about this many seconds of sending at the dispatcher's pace


@dataclass(frozen=True)
class Outgoing:
    chat_id: int
    text: str
    buttons: InlineKeyboardMarkup | None


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


def calendar_from(config: Config) -> BusinessCalendar:
    care = config.care
    return BusinessCalendar(
        HolidaySpec.from_config(care.holiday_country, care.holiday_subdivision, care.extra_holidays)
    )


def cadence_days(config: Config) -> dict[str, int]:
    care = config.care
    return {
        "high": care.cadence_high_days,
        "medium": care.cadence_medium_days,
        "low": care.cadence_low_days,
    }


def digest_instant(day: date, digest_time: time, zone: ZoneInfo) -> datetime:
    """The digest's moment on a local day (a DST gap moves it forward; a fold takes the first)."""
    return local_time_on(day, digest_time, zone)


def is_day_off(day: date, days_off: str) -> bool:
    """`days_off` holds weekday names or ISO numbers, comma-separated ("sat,sun" or "6,7")."""
    wanted = {d.strip().lower()[:3] for d in days_off.split(",") if d.strip()}
    return WEEKDAYS[day.weekday()] in wanted or str(day.isoweekday()) in wanted


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
        self.calendar = calendar_from(config)
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
            async with self.db.uow(read_only=True) as session:
                report.next_wake = await outbox.next_wake(session, now=self.clock.now())
            digest_wake = await self._next_digest_instant(self.clock.now())
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
            due = await outbox.tasks_needing_reminders(session, until=now)
            if not due:
                return 0
            nurses = await self._nurses(session, {t.nurse_id for t in due})
            planned = []
            for task in due:
                nurse = nurses[task.nurse_id]
                zone = ZoneInfo(nurse.timezone)
                urgent = task.urgent or (
                    task.kind in URGENT_KINDS
                    and task.due_at.astimezone(zone).date() <= now.astimezone(zone).date()
                )
                planned.append(
                    outbox.PlannedDelivery(
                        key=f"task:{task.task_id}:{int(task.remind_at.timestamp())}",
                        kind=DeliveryKind.REMINDER,
                        nurse_id=task.nurse_id,
                        task_id=task.task_id,
                        due_at=task.remind_at,
                        next_try_at=self._not_before(nurse, now, urgent=urgent),
                        urgent=urgent,
                    )
                )
            return await outbox.insert_deliveries(session, planned, now=now)

    def _not_before(self, nurse: Nurse, now: datetime, *, urgent: bool) -> datetime | None:
        """The end of her quiet hours if now falls in them (urgent pushes go anyway)."""
        if urgent and self.config.reminders.urgent_in_quiet_hours:
            return None
        if nurse.quiet_start is None or nurse.quiet_end is None:
            return None
        zone = ZoneInfo(nurse.timezone)
        if in_quiet_hours(now, zone, nurse.quiet_start, nurse.quiet_end):
            return quiet_hours_end(now, zone, nurse.quiet_start, nurse.quiet_end)
        return None

    async def _plan_digests(self, now: datetime) -> int:
        async with self.db.uow() as session:
            nurses = await self._active_nurses(session)
            planned = []
            for nurse in nurses:
                zone = ZoneInfo(nurse.timezone)
                today = now.astimezone(zone).date()
                instant = digest_instant(today, nurse.digest_time, zone)
                if instant > now or instant < nurse.enrolled_at:
                    continue
                if is_day_off(today, nurse.days_off):
                    continue
                planned.append(
                    outbox.PlannedDelivery(
                        key=f"digest:{nurse.id}:{today.isoformat()}",
                        kind=DeliveryKind.DIGEST,
                        nurse_id=nurse.id,
                        due_at=instant,
                    )
                )
            inserted = await outbox.insert_deliveries(session, planned, now=now)
            if inserted:
                await self._create_cadence_tasks(session, nurses, now)
            return inserted

    async def _next_digest_instant(self, now: datetime) -> datetime | None:
        async with self.db.uow(read_only=True) as session:
            nurses = await self._active_nurses(session)
        upcoming = []
        for nurse in nurses:
            zone = ZoneInfo(nurse.timezone)
            today = now.astimezone(zone).date()
            for day in (today, today + timedelta(days=1)):
                instant = digest_instant(day, nurse.digest_time, zone)
                if instant > now:
                    upcoming.append(instant)
                    break
        return min(upcoming) if upcoming else None

    async def _create_cadence_tasks(
        self, session: Any, nurses: Sequence[Nurse], now: datetime
    ) -> None:
        """A patient past her risk cadence gets one open cadence task (due end of today)."""
        for nurse in nurses:
            gaps = await digest_store.past_cadence(
                session, nurse_id=nurse.id, now=now, cadence_days=cadence_days(self.config)
            )
            if not gaps:
                continue
            open_cadence = set(
                (
                    await session.scalars(
                        select(Task.patient_id).where(
                            Task.nurse_id == nurse.id,
                            Task.kind == TaskKind.CADENCE,
                            Task.status == TaskStatus.OPEN,
                        )
                    )
                ).all()
            )
            zone = ZoneInfo(nurse.timezone)
            for gap in gaps:
                if gap.patient.id in open_cadence:
                    continue
                session.add(
                    Task(
                        nurse_id=nurse.id,
                        patient_id=gap.patient.id,
                        kind=TaskKind.CADENCE,
                        title=f"{gap.risk} risk: no reached contact",
                        due_at=end_of_local_day(now.astimezone(zone).date(), zone),
                        origin_kind="cadence",
                        created_at=now,
                    )
                )

    async def _plan_escalations(self, now: datetime) -> int:
        """TCM contact tasks about to lapse (or lapsed) also go to the nurse's supervisor."""
        lead = timedelta(hours=self.config.reminders.escalation_hours)
        async with self.db.uow() as session:
            rows = (
                await session.execute(
                    select(Task.id, Task.nurse_id, Nurse.supervisor_id, Nurse.team_id)
                    .join(Nurse, Nurse.id == Task.nurse_id)
                    .where(
                        Task.kind == TaskKind.TCM_CONTACT,
                        Task.status == TaskStatus.OPEN,
                        Task.attempts_documented.is_(False),
                        Task.due_at <= now + lead,
                    )
                    .limit(1000)
                )
            ).all()
            planned = []
            for row in rows:
                for supervisor in await self._supervisors(
                    session, row.supervisor_id, row.team_id, row.nurse_id
                ):
                    planned.append(
                        outbox.PlannedDelivery(
                            key=f"escalation:{row.id}:{supervisor}",
                            kind=DeliveryKind.ESCALATION,
                            nurse_id=supervisor,
                            task_id=row.id,
                            due_at=now,
                            urgent=True,
                        )
                    )
            return await outbox.insert_deliveries(session, planned, now=now)

    async def _supervisors(
        self, session: Any, supervisor_id: int | None, team_id: int | None, nurse_id: int
    ) -> list[int]:
        if supervisor_id is not None:
            return [supervisor_id]
        if team_id is None:
            return []
        ids = (
            await session.scalars(
                select(Nurse.id).where(
                    Nurse.team_id == team_id,
                    Nurse.role == Role.SUPERVISOR,
                    Nurse.active.is_(True),
                    Nurse.id != nurse_id,
                )
            )
        ).all()
        return list(ids)

    async def _nurses(self, session: Any, ids: set[int]) -> dict[int, Nurse]:
        rows = (await session.scalars(select(Nurse).where(Nurse.id.in_(ids)))).all()
        return {n.id: n for n in rows}

    async def _active_nurses(self, session: Any) -> list[Nurse]:
        query = select(Nurse).where(
            Nurse.active.is_(True), Nurse.unreachable.is_(False), Nurse.chat_id.is_not(None)
        )
        return list((await session.scalars(query)).all())

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
                delivery, now + self._backoff(delivery), "timeout", report, maybe_delivered=True
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
            await self._retry(delivery, now + self._backoff(delivery), "network", report)
            return None
        self._last_sent[outgoing.chat_id] = monotonic_time.monotonic()
        return message.message_id

    async def _space(self, chat_id: int) -> None:
        last = self._last_sent.get(chat_id)
        if last is not None:
            wait = self.per_chat_gap - (monotonic_time.monotonic() - last)
            if wait > 0:
                await asyncio.sleep(wait)

    def _backoff(self, delivery: Delivery) -> timedelta:
        return timedelta(seconds=min(2 ** max(delivery.attempts - 1, 0), 300))

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
            nurse = await session.get(Nurse, delivery.nurse_id)
            if nurse is not None and not nurse.unreachable:
                nurse.unreachable = True
                await record_audit(
                    session,
                    at=now,
                    action="nurse.unreachable",
                    entity="nurse",
                    entity_id=nurse.id,
                    command="dispatch",
                )
                targets = await self._supervisors(
                    session, nurse.supervisor_id, nurse.team_id, nurse.id
                )
                if not targets:
                    targets = list(
                        (
                            await session.scalars(
                                select(Nurse.id).where(
                                    Nurse.role == Role.ADMIN,
                                    Nurse.active.is_(True),
                                    Nurse.id != nurse.id,
                                )
                            )
                        ).all()
                    )
                await outbox.insert_deliveries(
                    session,
                    [
                        outbox.PlannedDelivery(
                            key=f"unreachable:{nurse.id}:{target}:{now.date().isoformat()}",
                            kind=DeliveryKind.NOTICE,
                            nurse_id=target,
                            due_at=now,
                            urgent=True,
                        )
                        for target in targets
                    ],
                    now=now,
                )
        report.failed += 1
        report.errors["403"] += 1

    # ------------------------------------------------------------------ composing

    async def _compose_batch(
        self, claimed: list[Delivery], now: datetime
    ) -> dict[int, Outgoing | None]:
        """Every claimed push's message, read in one transaction (rows prefetched by id)."""
        composed: dict[int, Outgoing | None] = {}
        async with self.db.uow(read_only=True) as session:
            keep = await self._prefetch(session, claimed)  # noqa: F841 - held: weak identity map
            for delivery in claimed:
                composed[delivery.id] = await self._compose(session, delivery, now)
        return composed

    async def _prefetch(self, session: Any, claimed: list[Delivery]) -> list[Any]:
        """Load the batch's tasks, nurses, patients and origins into the identity map.

        The session's identity map holds objects weakly, so the caller keeps the returned
        list alive while it composes.
        """
        task_ids = {d.task_id for d in claimed if d.task_id is not None}
        tasks = list((await session.scalars(select(Task).where(Task.id.in_(task_ids)))).all())
        loaded: list[Any] = list(tasks)
        nurse_ids = {d.nurse_id for d in claimed} | {t.nurse_id for t in tasks}
        patient_ids = {t.patient_id for t in tasks if t.patient_id is not None}
        contact_ids = {t.origin_id for t in tasks if t.origin_kind == "contact" and t.origin_id}
        appointment_ids = {
            t.origin_id for t in tasks if t.origin_kind == "appointment" and t.origin_id
        }
        for model, ids in (
            (Nurse, nurse_ids),
            (Patient, patient_ids),
            (Contact, contact_ids),
            (Appointment, appointment_ids),
        ):
            if ids:
                loaded.extend((await session.scalars(select(model).where(model.id.in_(ids)))).all())
        return loaded

    async def _compose(self, session: Any, delivery: Delivery, now: datetime) -> Outgoing | None:
        recipient = await session.get(Nurse, delivery.nurse_id)
        if recipient is None or not recipient.active or recipient.chat_id is None:
            return None
        if delivery.kind == DeliveryKind.DIGEST:
            return await self._compose_digest(session, delivery, recipient, now)
        if delivery.kind == DeliveryKind.NOTICE:
            return await self._compose_notice(session, delivery, recipient)
        return await self._compose_task(session, delivery, recipient, now)

    async def _compose_notice(self, session: Any, delivery: Delivery, recipient: Nurse) -> Outgoing:
        """ "She blocked the bot" notices name the nurse (staff, not patient data)."""
        assert recipient.chat_id is not None
        subject = await session.get(Nurse, int(delivery.key.split(":")[1]))
        name = esc(subject.display_name) if subject else "A nurse on your team"
        text = (
            f"⚠️ {name} can no longer receive casebot messages: she has blocked the bot, so "
            "her reminders and digests are paused. Please check in with her."
        )
        return Outgoing(recipient.chat_id, text, None)

    async def _compose_task(
        self, session: Any, delivery: Delivery, recipient: Nurse, now: datetime
    ) -> Outgoing | None:
        task = await session.get(Task, delivery.task_id) if delivery.task_id else None
        if task is None or task.status != TaskStatus.OPEN:
            return None
        if delivery.kind == DeliveryKind.REMINDER and task.remind_at != delivery.due_at:
            return None  # snoozed or moved since this push was planned
        owner = (
            recipient if task.nurse_id == recipient.id else await session.get(Nurse, task.nurse_id)
        )
        patient = await session.get(Patient, task.patient_id) if task.patient_id else None
        privacy = recipient.privacy_mode or self.config.privacy.push_names
        if task.kind == TaskKind.ATTENDANCE_CHECK and delivery.kind == DeliveryKind.REMINDER:
            return await self._compose_attendance(session, task, recipient, patient, privacy)
        label = (
            patient_label(
                privacy=privacy,
                name=patient.display_name,
                initials=patient.initials,
                code=patient.code,
            )
            if patient is not None
            else None
        )
        origin_channel = origin_at = appointment_at = None
        appointment_with = None
        if task.origin_kind == "contact" and task.origin_id:
            contact = await session.get(Contact, task.origin_id)
            if contact is not None:
                origin_channel, origin_at = contact.channel.value, contact.occurred_at
        if task.origin_kind == "appointment" and task.origin_id:
            appointment = await session.get(Appointment, task.origin_id)
            if appointment is not None:
                appointment_at, appointment_with = appointment.at, appointment.with_whom
        zone = ZoneInfo(recipient.timezone)
        facts = ReminderFacts(
            kind=task.kind.value,
            title=task.title,
            patient=label,
            due_at=task.due_at,
            has_time=task.has_time,
            origin_channel=origin_channel,
            origin_at=origin_at,
            appointment_at=appointment_at,
            appointment_with=appointment_with,
            scheduled_for=delivery.due_at,
            sent_at=now,
            repeat=delivery.repeat,
            escalation_for=owner.display_name
            if delivery.kind == DeliveryKind.ESCALATION and owner
            else None,
        )
        text = render_reminder(facts, zone)
        buttons = None
        if delivery.kind == DeliveryKind.REMINDER:
            buttons = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            label_, callback_data=TaskAction(action, task.id).pack()
                        )
                        for label_, action in TASK_BUTTONS[:2]
                    ],
                    [
                        InlineKeyboardButton(
                            label_, callback_data=TaskAction(action, task.id).pack()
                        )
                        for label_, action in TASK_BUTTONS[2:]
                    ],
                ]
            )
        assert recipient.chat_id is not None
        return Outgoing(recipient.chat_id, text, buttons)

    async def _compose_attendance(
        self, session: Any, task: Task, nurse: Nurse, patient: Patient | None, privacy: str
    ) -> Outgoing | None:
        """The "did the appointment happen?" check, with [Attended] [No-show] [Rescheduled]."""
        appointment = await session.get(Appointment, task.origin_id) if task.origin_id else None
        if appointment is None or appointment.undone_at is not None or patient is None:
            return None
        check = AttendanceCheck(
            task_id=task.id,
            chat_id=nurse.chat_id,
            zone=nurse.timezone,
            patient_label=patient_label(
                privacy=privacy,
                name=patient.display_name,
                initials=patient.initials,
                code=patient.code,
            ),
            at=appointment.at,
            has_time=appointment.has_time,
            with_whom=appointment.with_whom,
            open=True,
        )
        buttons = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(label, callback_data=Attendance(task.id, status).pack())
                    for status, label in records_render.ATTENDANCE_BUTTONS
                ]
            ]
        )
        assert nurse.chat_id is not None
        return Outgoing(nurse.chat_id, records_render.render_attendance_check(check), buttons)

    async def _compose_digest(
        self, session: Any, delivery: Delivery, nurse: Nurse, now: datetime
    ) -> Outgoing:
        data = await gather_digest(
            session, nurse, now, self.config, self.calendar, scheduled_for=delivery.due_at
        )
        text, cut = digest_render.render_digest(data)
        if now - delivery.due_at > timedelta(minutes=2):
            due = time_label(delivery.due_at, ZoneInfo(nurse.timezone))
            text += f"\n<i>(due {due}, sent late)</i>"
        if delivery.repeat:
            text += "\n<i>(repeat)</i>"
        buttons = None
        if cut:
            buttons = InlineKeyboardMarkup(
                [[InlineKeyboardButton("Show all", callback_data=ShowDigest(delivery.id).pack())]]
            )
        assert nurse.chat_id is not None
        return Outgoing(nurse.chat_id, text, buttons)


def _pacer(per_second: float) -> AsyncLimiter:
    """Evenly spaced sends at `per_second` (no bursts, so several pacers add up smoothly)."""
    return AsyncLimiter(1, 1 / per_second)


def _seconds(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


# Rows read per digest list (what one message cannot hold is behind [Show all]): the due-today
# and overdue task lists, then the appointments and the deadlines.
DIGEST_TASKS = 200
DIGEST_ROWS = 100
# TCM/med-rec deadlines (with countdowns) and cadence check-ins have sections of their own and
# are not due-today lines; the overdue list leaves out only the cadence check-ins.
NOT_IN_TASK_LISTS = (*query_store.TCM_KINDS, TaskKind.CADENCE)


async def gather_digest(
    session: Any,
    nurse: Nurse,
    now: datetime,
    config: Config,
    calendar: BusinessCalendar,
    *,
    scheduled_for: datetime | None = None,
) -> digest_render.DigestData:
    """Read everything the digest shows for `nurse` on her local day of `now`."""
    zone = ZoneInfo(nurse.timezone)
    day = (scheduled_for or now).astimezone(zone).date()
    start, end = start_of_local_day(day, zone), end_of_local_day(day, zone)
    end_excl = end + timedelta(microseconds=1)
    yesterday = day - timedelta(days=1)
    appointments = await query_store.appointments_between(
        session, nurse_id=nurse.id, start=start, end=end_excl, offset=0, limit=DIGEST_ROWS
    )
    due_today = await query_store.tasks_due(
        session,
        nurse_id=nurse.id,
        start=start,
        end=end_excl,
        offset=0,
        limit=DIGEST_TASKS,
        except_kinds=NOT_IN_TASK_LISTS,
    )
    overdue = await query_store.tasks_due(
        session,
        nurse_id=nurse.id,
        start=None,
        end=start,
        offset=0,
        limit=DIGEST_TASKS,
        except_kinds=(TaskKind.CADENCE,),
    )
    deadlines = await query_store.tasks_due(
        session,
        nurse_id=nurse.id,
        start=start,
        end=start + timedelta(days=31),
        offset=0,
        limit=DIGEST_ROWS,
        kinds=query_store.TCM_KINDS,
    )
    days = cadence_days(config)
    gaps = await digest_store.past_cadence(session, nurse_id=nurse.id, now=now, cadence_days=days)
    completion = await digest_store.completion_between(
        session,
        nurse_id=nurse.id,
        start=start_of_local_day(yesterday, zone),
        end=start,
    )
    goals = await careplan_store.goals_past_target(session, nurse_id=nurse.id, today=day)

    def task_person(t: query_store.TaskRow) -> digest_render.Person | None:
        if t.patient_name is None or t.patient_initials is None or t.patient_code is None:
            return None
        return digest_render.Person(t.patient_name, t.patient_initials, t.patient_code)

    return digest_render.DigestData(
        local_day=day,
        zone=zone,
        privacy=nurse.privacy_mode or config.privacy.push_names,
        appointments=[
            (
                a.at,
                digest_render.Person(a.patient_name, a.patient_initials, a.patient_code),
                a.with_whom,
            )
            for a in appointments.rows
        ],
        due_today=[(t.kind, t.title, t.due_at, task_person(t)) for t in due_today.rows],
        overdue=[(t.kind, t.title, t.due_at, task_person(t)) for t in overdue.rows],
        deadlines=[
            (
                t.kind,
                t.due_at,
                task_person(t),
                countdown_business_days(max(now, start), t.due_at, zone, calendar),
                t.attempts_documented,
            )
            for t in deadlines.rows
        ],
        cadence=[
            (
                digest_render.Person(g.patient.name, g.patient.initials, g.patient.code),
                g.risk,
                g.last_reached_at,
                days[g.risk],
            )
            for g in gaps
        ],
        yesterday_done=completion.done_on_time,
        yesterday_total=completion.total,
        goals_past_target=[
            (digest_render.Person(p.display_name, p.initials, p.code), g.text, g.target_on)
            for g, p in goals
            if g.target_on is not None
        ],
    )

"""The outbox's decisions, as pure functions of plain rows and `now`.

Which reminders, digests and escalations are due, when a push may go (quiet hours, urgency),
which patients get a cadence task, whom an escalation or a "she blocked the bot" notice goes
to, and how long to wait before a retry. The dispatcher reads the rows (storage), asks these
functions, and writes what they return; nothing here reads a clock or the database, so every
rule is tested as a table (tests/outbox/test_planning.py).

Pure: no telegram, no sqlalchemy, no storage, no I/O. The rows are read through the Protocols
below, which storage's row dataclasses satisfy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.care import end_of_local_day, in_quiet_hours, local_time_on, quiet_hours_end
from bot.render.reminders import cadence_title
from bot.vocab import DeliveryKind, TaskKind

# Deadlines that count for the nurse's metrics: pushed even in quiet hours on their last day.
URGENT_KINDS = frozenset({TaskKind.TCM_CONTACT, TaskKind.TCM_VISIT, TaskKind.MED_REC})
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_BACKOFF = timedelta(minutes=5)
SWEEP_EVERY = timedelta(minutes=10)


# -- what planning reads ------------------------------------------------------------------------


class ReminderRow(Protocol):
    """An open task whose reminder time has come, with its nurse's push settings."""

    @property
    def task_id(self) -> int: ...
    @property
    def nurse_id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def remind_at(self) -> datetime: ...
    @property
    def due_at(self) -> datetime: ...
    @property
    def urgent(self) -> bool: ...
    @property
    def timezone(self) -> str: ...
    @property
    def quiet_start(self) -> time | None: ...
    @property
    def quiet_end(self) -> time | None: ...


class NurseSchedule(Protocol):
    """An active, reachable nurse's digest settings."""

    @property
    def nurse_id(self) -> int: ...
    @property
    def timezone(self) -> str: ...
    @property
    def digest_time(self) -> time: ...
    @property
    def days_off(self) -> str: ...
    @property
    def enrolled_at(self) -> datetime: ...


class EscalationRow(Protocol):
    """An open TCM contact task near or past its deadline, with its nurse's reporting line."""

    @property
    def task_id(self) -> int: ...
    @property
    def nurse_id(self) -> int: ...
    @property
    def supervisor_id(self) -> int | None: ...
    @property
    def team_id(self) -> int | None: ...


class Supervisor(Protocol):
    """An active supervisor and her team."""

    @property
    def nurse_id(self) -> int: ...
    @property
    def team_id(self) -> int | None: ...


# -- what planning decides ----------------------------------------------------------------------


@dataclass(frozen=True)
class Push:
    """One outbox row to insert; its key makes it once-only (an existing key is left alone)."""

    key: str
    kind: DeliveryKind
    nurse_id: int
    due_at: datetime
    task_id: int | None = None
    next_try_at: datetime | None = None  # not before (the end of her quiet hours)
    urgent: bool = False


@dataclass(frozen=True)
class CadenceTask:
    """A check-in task for a patient past her risk level's contact cadence."""

    nurse_id: int
    patient_id: int
    title: str
    due_at: datetime


# -- keys ---------------------------------------------------------------------------------------


def reminder_key(task_id: int, remind_at: datetime) -> str:
    return f"task:{task_id}:{int(remind_at.timestamp())}"


def digest_key(nurse_id: int, day: date) -> str:
    return f"digest:{nurse_id}:{day.isoformat()}"


def escalation_key(task_id: int, supervisor_id: int) -> str:
    return f"escalation:{task_id}:{supervisor_id}"


def notice_key(subject_id: int, recipient_id: int, day: date) -> str:
    return f"unreachable:{subject_id}:{recipient_id}:{day.isoformat()}"


def notice_subject(key: str) -> int | None:
    """The nurse an "unreachable" notice is about, from its key (see notice_key)."""
    prefix, _, rest = key.partition(":")
    subject = rest.partition(":")[0]
    return int(subject) if prefix == "unreachable" and subject.isdigit() else None


# -- reminders ----------------------------------------------------------------------------------


def is_urgent(*, kind: str, flagged: bool, due_at: datetime, now: datetime, zone: ZoneInfo) -> bool:
    """Flagged urgent, or a TCM/med-rec deadline on or before today (her local day)."""
    if flagged:
        return True
    return kind in URGENT_KINDS and due_at.astimezone(zone).date() <= now.astimezone(zone).date()


def quiet_hours_hold(
    *,
    now: datetime,
    zone: ZoneInfo,
    quiet_start: time | None,
    quiet_end: time | None,
    urgent: bool,
    urgent_in_quiet_hours: bool,
) -> datetime | None:
    """The end of her quiet hours if `now` falls in them, else None (urgent pushes go anyway
    when `urgent_in_quiet_hours`)."""
    if urgent and urgent_in_quiet_hours:
        return None
    if quiet_start is None or quiet_end is None:
        return None
    if in_quiet_hours(now, zone, quiet_start, quiet_end):
        return quiet_hours_end(now, zone, quiet_start, quiet_end)
    return None


def reminder_pushes(
    rows: Iterable[ReminderRow], *, now: datetime, urgent_in_quiet_hours: bool
) -> list[Push]:
    """One push per task reminder that has come, held until her quiet hours end if routine."""
    pushes = []
    for row in rows:
        zone = ZoneInfo(row.timezone)
        urgent = is_urgent(kind=row.kind, flagged=row.urgent, due_at=row.due_at, now=now, zone=zone)
        pushes.append(
            Push(
                key=reminder_key(row.task_id, row.remind_at),
                kind=DeliveryKind.REMINDER,
                nurse_id=row.nurse_id,
                task_id=row.task_id,
                due_at=row.remind_at,
                next_try_at=quiet_hours_hold(
                    now=now,
                    zone=zone,
                    quiet_start=row.quiet_start,
                    quiet_end=row.quiet_end,
                    urgent=urgent,
                    urgent_in_quiet_hours=urgent_in_quiet_hours,
                ),
                urgent=urgent,
            )
        )
    return pushes


# -- digests ------------------------------------------------------------------------------------


def digest_instant(day: date, digest_time: time, zone: ZoneInfo) -> datetime:
    """The digest's moment on a local day (a DST gap moves it forward; a fold takes the first)."""
    return local_time_on(day, digest_time, zone)


def is_day_off(day: date, days_off: str) -> bool:
    """`days_off` holds weekday names or ISO numbers, comma-separated ("sat,sun" or "6,7")."""
    wanted = {d.strip().lower()[:3] for d in days_off.split(",") if d.strip()}
    return WEEKDAYS[day.weekday()] in wanted or str(day.isoweekday()) in wanted


def digest_pushes(
    nurses: Iterable[NurseSchedule], *, now: datetime, done: Mapping[int, date] | None = None
) -> list[Push]:
    """Today's digest (her local day) for each nurse whose digest time has come, unless it is
    her day off, she enrolled after it, or `done` says that day's digest exists already."""
    pushes = []
    for nurse in nurses:
        zone = ZoneInfo(nurse.timezone)
        today = now.astimezone(zone).date()
        if done is not None and done.get(nurse.nurse_id) == today:
            continue
        instant = digest_instant(today, nurse.digest_time, zone)
        if instant > now or instant < nurse.enrolled_at or is_day_off(today, nurse.days_off):
            continue
        pushes.append(
            Push(
                key=digest_key(nurse.nurse_id, today),
                kind=DeliveryKind.DIGEST,
                nurse_id=nurse.nurse_id,
                due_at=instant,
            )
        )
    return pushes


def digest_days(pushes: Iterable[Push], nurses: Iterable[NurseSchedule]) -> dict[int, date]:
    """The local day of each digest push (nurse -> day), for `digest_pushes(done=...)`."""
    zones = {n.nurse_id: ZoneInfo(n.timezone) for n in nurses}
    return {
        p.nurse_id: p.due_at.astimezone(zones[p.nurse_id]).date()
        for p in pushes
        if p.kind == DeliveryKind.DIGEST and p.nurse_id in zones
    }


def next_digest_instant(nurses: Iterable[NurseSchedule], now: datetime) -> datetime | None:
    """The earliest digest moment after `now` (today's or tomorrow's, in each nurse's zone)."""
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


def cadence_tasks(
    *,
    nurse_id: int,
    zone: ZoneInfo,
    gaps: Iterable[tuple[int, str]],
    open_cadence: Iterable[int],
    now: datetime,
) -> list[CadenceTask]:
    """A check-in task due at the end of her day for each (patient, risk) past its cadence
    that has no open cadence task yet."""
    have = set(open_cadence)
    due = end_of_local_day(now.astimezone(zone).date(), zone)
    tasks = []
    for patient_id, risk in gaps:
        if patient_id in have:
            continue
        have.add(patient_id)
        tasks.append(
            CadenceTask(
                nurse_id=nurse_id, patient_id=patient_id, title=cadence_title(risk), due_at=due
            )
        )
    return tasks


# -- escalations and notices --------------------------------------------------------------------


def supervisors_of(
    *,
    nurse_id: int,
    supervisor_id: int | None,
    team_id: int | None,
    supervisors: Iterable[Supervisor],
) -> list[int]:
    """Her own supervisor if she has one, else her team's active supervisors (not herself)."""
    if supervisor_id is not None:
        return [supervisor_id]
    if team_id is None:
        return []
    return [s.nurse_id for s in supervisors if s.team_id == team_id and s.nurse_id != nurse_id]


def escalation_pushes(
    rows: Iterable[EscalationRow], *, supervisors: Sequence[Supervisor], now: datetime
) -> list[Push]:
    """Each TCM contact task about to lapse also goes, urgent, to the nurse's supervisor(s)."""
    pushes = []
    for row in rows:
        for target in supervisors_of(
            nurse_id=row.nurse_id,
            supervisor_id=row.supervisor_id,
            team_id=row.team_id,
            supervisors=supervisors,
        ):
            pushes.append(
                Push(
                    key=escalation_key(row.task_id, target),
                    kind=DeliveryKind.ESCALATION,
                    nurse_id=target,
                    task_id=row.task_id,
                    due_at=now,
                    urgent=True,
                )
            )
    return pushes


def notice_pushes(*, subject_id: int, recipients: Iterable[int], now: datetime) -> list[Push]:
    """ "She blocked the bot" notices, once a day per recipient, urgent."""
    return [
        Push(
            key=notice_key(subject_id, recipient, now.date()),
            kind=DeliveryKind.NOTICE,
            nurse_id=recipient,
            due_at=now,
            urgent=True,
        )
        for recipient in recipients
    ]


# -- what changed, and what a pass reads --------------------------------------------------------


class TaskChangeRow(Protocol):
    """A task as a use case committed it (storage.due.TaskChange)."""

    @property
    def task_id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def open(self) -> bool: ...
    @property
    def remind_at(self) -> datetime | None: ...
    @property
    def due_at(self) -> datetime: ...
    @property
    def attempts_documented(self) -> bool: ...


class Changes(Protocol):
    """What one committed transaction noted (storage.due.DueChanges)."""

    @property
    def tasks(self) -> Sequence[TaskChangeRow]: ...
    @property
    def nurse_ids(self) -> AbstractSet[int]: ...


def due_soon(
    changes: Changes, *, now: datetime, within: timedelta, escalation_lead: timedelta
) -> bool:
    """Whether a committed change needs a pass before the next poll: a nurse's pushes changed,
    or an open task's reminder, or its escalation (a TCM contact without two documented
    attempts), comes at or before `now + within`. Everything later is the poll's."""
    if changes.nurse_ids:
        return True
    horizon = now + within
    for task in changes.tasks:
        if not task.open:
            continue
        if task.remind_at is not None and task.remind_at <= horizon:
            return True
        escalates = task.kind == TaskKind.TCM_CONTACT and not task.attempts_documented
        if escalates and task.due_at - escalation_lead <= horizon:
            return True
    return False


@dataclass(frozen=True)
class Scan:
    """Which tasks one pass reads.

    A sweep reads every task whose reminder or escalation moment has come. Otherwise a pass
    reads only what can have changed since the last one: tasks whose moment fell in
    (since, now], tasks created since (id above `after_task_id`), and the tasks use cases
    noted as changed (`task_ids`).
    """

    sweep: bool
    since: datetime | None
    after_task_id: int
    task_ids: frozenset[int]
    generation: int  # of the notes it includes


class Progress:
    """How far one dispatcher's planning has got: what makes its passes incremental.

    It holds the last pass's `now`, the newest task id it had seen, the tasks and nurses use
    cases noted since, and the digests known to exist. A sweep happens on the first pass, when
    the clock went back, after a nurse's push settings changed, when a read was cut at its
    limit, and every `sweep_every` as the safety net for changes noted in another process that
    died before planning them. Pure: the dispatcher passes `now` in.
    """

    def __init__(self, *, sweep_every: timedelta = SWEEP_EVERY) -> None:
        self.sweep_every = sweep_every
        self.digests_done: dict[int, date] = {}  # nurse -> the local day of her last digest
        self._last_now: datetime | None = None
        self._last_sweep: datetime | None = None
        self._max_task_id = 0
        self._generation = 0
        self._noted: dict[int, int] = {}  # task id -> generation of its latest note
        self._sweep_asked = 0  # generation of the latest request for a sweep
        self._sweep_done = 0

    def note(self, changes: Changes) -> None:
        """Remember what a committed transaction changed, for the next pass."""
        self._generation += 1
        for task in changes.tasks:
            self._noted[task.task_id] = self._generation
        if changes.nurse_ids:
            self._sweep_asked = self._generation

    def ask_sweep(self) -> None:
        """The next pass reads everything (a read was cut at its limit, say)."""
        self._generation += 1
        self._sweep_asked = self._generation

    def scan(self, now: datetime) -> Scan:
        """What the pass at `now` reads."""
        sweep = (
            self._last_now is None
            or self._last_sweep is None
            or now < self._last_now
            or self._sweep_asked > self._sweep_done
            or now - self._last_sweep >= self.sweep_every
        )
        return Scan(
            sweep=sweep,
            since=None if sweep else self._last_now,
            after_task_id=self._max_task_id,
            task_ids=frozenset(self._noted),
            generation=self._generation,
        )

    def done(
        self, scan: Scan, *, now: datetime, max_task_id: int, digests: Mapping[int, date]
    ) -> None:
        """The pass that read `scan` at `now` planned everything it read: move on."""
        self._last_now = now
        if scan.sweep:
            self._last_sweep = now
            self._sweep_done = scan.generation
        self._max_task_id = max(self._max_task_id, max_task_id)
        self._noted = {t: g for t, g in self._noted.items() if g > scan.generation}
        self.digests_done.update(digests)


# -- retries ------------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after a failed one: 1, 2, 4 ... seconds, at most 5 minutes."""
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), MAX_BACKOFF.total_seconds()))

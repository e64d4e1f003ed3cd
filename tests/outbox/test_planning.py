"""bot.outbox.planning as tables: urgency, quiet hours, digests, cadence, escalation targets,
notices, backoff. Every row names its case; times are pinned, never the wall clock's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.outbox import planning
from bot.vocab import DeliveryKind

CHICAGO = ZoneInfo("America/Chicago")
QUIET = (time(21, 0), time(7, 0))  # across midnight, the default


def c(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Chicago wall time in 2026, as the aware UTC instant the code works with."""
    return datetime(2026, month, day, hour, minute, tzinfo=CHICAGO).astimezone(UTC)


def u(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC time in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# -- urgency ------------------------------------------------------------------------------------

URGENCY = [
    # kind, flagged, due, now, urgent?
    pytest.param("follow_up", True, c(11, 30, 9), c(11, 27, 9), True, id="flagged"),
    pytest.param("tcm_contact", False, c(11, 27, 23, 59), c(11, 27, 8), True, id="tcm-today"),
    pytest.param("tcm_contact", False, c(11, 28, 23, 59), c(11, 27, 8), False, id="tcm-tomorrow"),
    pytest.param("med_rec", False, c(11, 20, 23, 59), c(11, 27, 8), True, id="med-rec-overdue"),
    pytest.param("tcm_visit", False, c(11, 27, 12), c(11, 27, 11), True, id="tcm-visit-today"),
    pytest.param("follow_up", False, c(11, 27, 23), c(11, 27, 8), False, id="follow-up-routine"),
    pytest.param("cadence", False, c(11, 1, 23), c(11, 27, 8), False, id="cadence-routine"),
    # 23:00 local on the 27th is the 28th in UTC, as is the deadline: her local day decides.
    pytest.param("tcm_contact", False, c(11, 28, 0, 30), c(11, 27, 23), False, id="her-day"),
    pytest.param("tcm_contact", False, c(11, 1, 23, 59), c(11, 1, 1, 30), True, id="fall-back"),
    pytest.param("med_rec", False, c(3, 8, 23, 59), c(3, 8, 3, 30), True, id="spring-forward"),
]


@pytest.mark.parametrize(("kind", "flagged", "due", "now", "expected"), URGENCY)
def test_urgency(kind: str, flagged: bool, due: datetime, now: datetime, expected: bool) -> None:
    urgent = planning.is_urgent(kind=kind, flagged=flagged, due_at=due, now=now, zone=CHICAGO)
    assert urgent is expected


# -- quiet hours --------------------------------------------------------------------------------

HOLDS = [
    # now, (start, end), urgent, urgent_in_quiet_hours, held until
    pytest.param(c(11, 27, 22), QUIET, False, True, c(11, 28, 7), id="evening-to-morning"),
    pytest.param(c(11, 28, 2), QUIET, False, True, c(11, 28, 7), id="after-midnight"),
    pytest.param(c(11, 27, 21), QUIET, False, True, c(11, 28, 7), id="start-is-quiet"),
    pytest.param(c(11, 28, 7), QUIET, False, True, None, id="end-is-not-quiet"),
    pytest.param(c(11, 27, 20, 59), QUIET, False, True, None, id="just-before"),
    pytest.param(c(11, 27, 12), QUIET, False, True, None, id="midday"),
    pytest.param(c(11, 27, 22), QUIET, True, True, None, id="urgent-goes-anyway"),
    pytest.param(c(11, 27, 22), QUIET, True, False, c(11, 28, 7), id="urgent-held-by-config"),
    pytest.param(c(11, 27, 23), (None, None), False, True, None, id="no-quiet-hours"),
    pytest.param(c(11, 27, 13, 30), (time(13), time(14)), False, True, c(11, 27, 14), id="noon"),
    pytest.param(c(11, 27, 13), (time(13), time(13)), False, True, None, id="start-equals-end"),
    # 07:00 on the morning after a DST change: 12:00 UTC in spring, 13:00 UTC in autumn.
    pytest.param(c(3, 7, 23), QUIET, False, True, u(3, 8, 12), id="spring-forward-night"),
    pytest.param(c(10, 31, 23), QUIET, False, True, u(11, 1, 13), id="fall-back-night"),
]


@pytest.mark.parametrize(("now", "quiet", "urgent", "allowed", "expected"), HOLDS)
def test_quiet_hours_hold(
    now: datetime,
    quiet: tuple[time | None, time | None],
    urgent: bool,
    allowed: bool,
    expected: datetime | None,
) -> None:
    held = planning.quiet_hours_hold(
        now=now,
        zone=CHICAGO,
        quiet_start=quiet[0],
        quiet_end=quiet[1],
        urgent=urgent,
        urgent_in_quiet_hours=allowed,
    )
    assert held == expected


@dataclass(frozen=True)
class Reminder:
    task_id: int
    nurse_id: int
    kind: str
    remind_at: datetime
    due_at: datetime
    urgent: bool = False
    timezone: str = "America/Chicago"
    quiet_start: time | None = QUIET[0]
    quiet_end: time | None = QUIET[1]


def test_reminder_pushes_hold_routine_ones_in_quiet_hours_and_key_by_time() -> None:
    night, deadline = c(11, 27, 22), c(11, 27, 23, 59)
    rows = [
        Reminder(1, 7, "follow_up", remind_at=night, due_at=deadline),
        Reminder(2, 7, "tcm_contact", remind_at=night, due_at=deadline),
        Reminder(3, 8, "follow_up", remind_at=night, due_at=deadline, quiet_start=None),
        Reminder(4, 8, "follow_up", remind_at=night, due_at=deadline, urgent=True),
    ]
    pushes = planning.reminder_pushes(rows, now=night, urgent_in_quiet_hours=True)
    assert [(p.task_id, p.next_try_at, p.urgent) for p in pushes] == [
        (1, c(11, 28, 7), False),
        (2, None, True),
        (3, None, False),
        (4, None, True),
    ]
    assert pushes[0].key == f"task:1:{int(night.timestamp())}"
    assert {p.kind for p in pushes} == {DeliveryKind.REMINDER}
    assert all(p.due_at == night for p in pushes)


# -- digests ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    nurse_id: int = 1
    zone: str = "America/Chicago"
    at: time = time(7, 30)
    days_off: str = ""
    enrolled: datetime = datetime(2026, 1, 1, tzinfo=UTC)

    @property
    def timezone(self) -> str:
        return self.zone

    @property
    def digest_time(self) -> time:
        return self.at

    @property
    def enrolled_at(self) -> datetime:
        return self.enrolled


TODAY, YESTERDAY = date(2026, 11, 24), date(2026, 11, 23)

DIGESTS = [
    # schedule, now, done (nurse -> local day), the digest's instant or None
    pytest.param(Schedule(), c(11, 24, 7, 30), {}, c(11, 24, 7, 30), id="at-its-time"),
    pytest.param(Schedule(), c(11, 24, 7, 29), {}, None, id="a-minute-early"),
    pytest.param(Schedule(), c(11, 24, 9, 45), {}, c(11, 24, 7, 30), id="late-after-downtime"),
    pytest.param(Schedule(), c(11, 24, 23, 59), {}, c(11, 24, 7, 30), id="before-midnight"),
    pytest.param(Schedule(), c(11, 24, 9), {1: TODAY}, None, id="already-sent-today"),
    pytest.param(Schedule(), c(11, 24, 9), {1: YESTERDAY}, c(11, 24, 7, 30), id="sent-yesterday"),
    pytest.param(Schedule(), c(11, 24, 9), {2: TODAY}, c(11, 24, 7, 30), id="other-nurse-sent"),
    pytest.param(Schedule(days_off="sat,sun"), c(11, 28, 12), {}, None, id="day-off-by-name"),
    pytest.param(Schedule(days_off="6,7"), c(11, 29, 12), {}, None, id="day-off-by-number"),
    pytest.param(Schedule(days_off="sat,sun"), c(11, 30, 8), {}, c(11, 30, 7, 30), id="workday"),
    pytest.param(Schedule(enrolled=c(11, 24, 8)), c(11, 24, 9), {}, None, id="enrolled-after"),
    pytest.param(Schedule(enrolled=c(11, 24, 7)), c(11, 24, 9), {}, c(11, 24, 7, 30), id="before"),
    # 02:30 does not exist on 8 Mar 2026 in Chicago: the digest goes at 03:00 CDT (08:00 UTC).
    pytest.param(Schedule(at=time(2, 30)), c(3, 8, 3), {}, u(3, 8, 8), id="dst-gap-forward"),
    pytest.param(Schedule(at=time(2, 30)), u(3, 8, 7, 59), {}, None, id="dst-gap-not-yet"),
    # 01:30 happens twice on 1 Nov 2026: the first (CDT, 06:30 UTC) is the digest's.
    pytest.param(Schedule(at=time(1, 30)), u(11, 1, 6, 30), {}, u(11, 1, 6, 30), id="dst-fold"),
    pytest.param(Schedule(), u(3, 8, 12, 30), {}, u(3, 8, 12, 30), id="usual-time-on-dst-day"),
    # In Tokyo it is Wednesday 08:00 while UTC says Tuesday 23:00: her zone decides the day.
    pytest.param(Schedule(zone="Asia/Tokyo"), u(11, 24, 23), {}, u(11, 24, 22, 30), id="tokyo"),
]


@pytest.mark.parametrize(("schedule", "now", "done", "expected"), DIGESTS)
def test_digest_pushes(
    schedule: Schedule, now: datetime, done: dict[int, date], expected: datetime | None
) -> None:
    pushes = planning.digest_pushes([schedule], now=now, done=done)
    if expected is None:
        assert pushes == []
        return
    local_day = expected.astimezone(ZoneInfo(schedule.zone)).date()
    assert pushes == [
        planning.Push(
            key=f"digest:1:{local_day.isoformat()}",
            kind=DeliveryKind.DIGEST,
            nurse_id=1,
            due_at=expected,
        )
    ]


NEXT_DIGEST = [
    pytest.param([Schedule()], c(11, 24, 6), c(11, 24, 7, 30), id="later-today"),
    pytest.param([Schedule()], c(11, 24, 7, 30), c(11, 25, 7, 30), id="tomorrow-once-past"),
    pytest.param(
        [Schedule(), Schedule(2, at=time(6, 45))], c(11, 24, 5), c(11, 24, 6, 45), id="earliest"
    ),
    pytest.param([Schedule()], c(3, 7, 8), u(3, 8, 12, 30), id="over-a-dst-change"),
    pytest.param([], c(11, 24, 5), None, id="nobody"),
]


@pytest.mark.parametrize(("schedules", "now", "expected"), NEXT_DIGEST)
def test_next_digest_instant(
    schedules: list[Schedule], now: datetime, expected: datetime | None
) -> None:
    assert planning.next_digest_instant(schedules, now) == expected


@pytest.mark.parametrize(
    ("days_off", "day", "off"),
    [
        ("", date(2026, 11, 28), False),
        ("sat,sun", date(2026, 11, 28), True),
        ("Saturday, Sunday", date(2026, 11, 29), True),
        ("6,7", date(2026, 11, 29), True),
        ("6,7", date(2026, 11, 30), False),
        ("mon", date(2026, 11, 30), True),
        (" , ,", date(2026, 11, 30), False),
    ],
)
def test_days_off(days_off: str, day: date, off: bool) -> None:
    assert planning.is_day_off(day, days_off) is off


# -- cadence ------------------------------------------------------------------------------------


def test_cadence_tasks_skip_patients_with_one_open_and_are_due_at_the_end_of_her_day() -> None:
    tasks = planning.cadence_tasks(
        nurse_id=3,
        zone=CHICAGO,
        gaps=[(10, "high"), (11, "medium"), (12, "low"), (10, "high")],
        open_cadence=[11],
        now=c(11, 24, 7, 30),
    )
    end_of_day = datetime(2026, 11, 25, 5, 59, 59, 999999, tzinfo=UTC)
    assert tasks == [
        planning.CadenceTask(3, 10, "high risk: no reached contact", end_of_day),
        planning.CadenceTask(3, 12, "low risk: no reached contact", end_of_day),
    ]


# -- escalations and notices --------------------------------------------------------------------


@dataclass(frozen=True)
class Sup:
    nurse_id: int
    team_id: int | None


@dataclass(frozen=True)
class Overdue:
    task_id: int
    nurse_id: int
    supervisor_id: int | None
    team_id: int | None


SUPERVISORS = [Sup(90, 1), Sup(91, 1), Sup(92, 2), Sup(93, None)]

TARGETS = [
    # nurse, her supervisor, her team, whom her escalations go to
    pytest.param(5, 77, 1, [77], id="her-own-supervisor-wins"),
    pytest.param(5, None, 1, [90, 91], id="team-supervisors"),
    pytest.param(6, None, 2, [92], id="one-team-supervisor"),
    pytest.param(90, None, 1, [91], id="a-supervisor-is-not-her-own-escalation"),
    pytest.param(7, None, None, [], id="no-team-no-supervisor"),
    pytest.param(8, None, 3, [], id="team-without-supervisors"),
]


@pytest.mark.parametrize(("nurse", "supervisor", "team", "expected"), TARGETS)
def test_supervisors_of(
    nurse: int, supervisor: int | None, team: int | None, expected: list[int]
) -> None:
    targets = planning.supervisors_of(
        nurse_id=nurse, supervisor_id=supervisor, team_id=team, supervisors=SUPERVISORS
    )
    assert targets == expected


def test_escalation_pushes_go_urgent_to_each_supervisor_keyed_per_task_and_supervisor() -> None:
    now = c(11, 27, 20)
    rows = [Overdue(100, 5, None, 1), Overdue(101, 6, None, 2), Overdue(102, 7, 77, None)]
    pushes = planning.escalation_pushes(rows, supervisors=SUPERVISORS, now=now)
    assert [(p.key, p.nurse_id, p.task_id) for p in pushes] == [
        ("escalation:100:90", 90, 100),
        ("escalation:100:91", 91, 100),
        ("escalation:101:92", 92, 101),
        ("escalation:102:77", 77, 102),
    ]
    assert all(p.urgent and p.due_at == now and p.kind == DeliveryKind.ESCALATION for p in pushes)


def test_notices_are_keyed_per_subject_recipient_and_day() -> None:
    pushes = planning.notice_pushes(subject_id=5, recipients=[90, 91], now=u(11, 27, 15))
    assert [p.key for p in pushes] == ["unreachable:5:90:2026-11-27", "unreachable:5:91:2026-11-27"]
    assert [planning.notice_subject(p.key) for p in pushes] == [5, 5]
    assert planning.notice_subject("digest:5:2026-11-27") is None
    assert planning.notice_subject("unreachable:x:1:2026-11-27") is None


# -- retries ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(0, 1), (1, 1), (2, 2), (3, 4), (9, 256), (10, 300), (12, 300), (1000, 300)],
)
def test_backoff_doubles_up_to_five_minutes(attempts: int, seconds: int) -> None:
    assert planning.backoff(attempts) == timedelta(seconds=seconds)


# -- waking for a committed change --------------------------------------------------------------

POLL = timedelta(seconds=30)
LEAD = timedelta(hours=4)
NOW = c(11, 27, 10)


@dataclass(frozen=True)
class Changed:
    task_id: int = 1
    kind: str = "follow_up"
    open: bool = True
    remind_at: datetime | None = None
    due_at: datetime = c(11, 30, 23, 59)
    attempts_documented: bool = False


@dataclass(frozen=True)
class Commit:
    tasks: tuple[Changed, ...] = ()
    nurse_ids: frozenset[int] = frozenset()


SECOND = timedelta(seconds=1)

WAKES = [
    # what a transaction committed, whether it wakes the dispatcher before its next poll
    pytest.param(Commit(), False, id="nothing-noted"),
    pytest.param(Commit((Changed(remind_at=c(11, 30, 9)),)), False, id="reminder-on-friday"),
    pytest.param(Commit((Changed(remind_at=NOW - SECOND),)), True, id="reminder-already-due"),
    pytest.param(Commit((Changed(remind_at=NOW + POLL),)), True, id="reminder-before-next-poll"),
    pytest.param(Commit((Changed(remind_at=NOW + POLL + SECOND),)), False, id="after-next-poll"),
    pytest.param(Commit((Changed(remind_at=NOW, open=False),)), False, id="task-closed"),
    pytest.param(Commit((Changed(),)), False, id="no-reminder-at-all"),
    pytest.param(
        Commit((Changed(kind="tcm_contact", due_at=NOW + LEAD),)), True, id="tcm-escalates"
    ),
    pytest.param(
        Commit((Changed(kind="tcm_contact", due_at=NOW + LEAD + POLL + SECOND),)),
        False,
        id="tcm-escalates-after-next-poll",
    ),
    pytest.param(
        Commit((Changed(kind="tcm_contact", due_at=NOW, attempts_documented=True),)),
        False,
        id="tcm-with-two-attempts-does-not-escalate",
    ),
    pytest.param(
        Commit((Changed(kind="tcm_visit", due_at=NOW),)), False, id="tcm-visit-no-escalation"
    ),
    pytest.param(
        Commit((Changed(remind_at=c(11, 30, 9)), Changed(2, remind_at=NOW))), True, id="any-one"
    ),
    pytest.param(Commit(nurse_ids=frozenset({3})), True, id="nurse-settings-changed"),
]


@pytest.mark.parametrize(("changes", "wakes"), WAKES)
def test_due_soon(changes: Commit, wakes: bool) -> None:
    assert planning.due_soon(changes, now=NOW, within=POLL, escalation_lead=LEAD) is wakes


# -- what each pass reads -----------------------------------------------------------------------


def test_first_pass_sweeps_then_passes_read_since_the_last_one() -> None:
    progress = planning.Progress()
    first = progress.scan(NOW)
    assert (first.sweep, first.since, first.after_task_id) == (True, None, 0)
    progress.done(first, now=NOW, max_task_id=40, digests={})
    second = progress.scan(NOW + POLL)
    assert (second.sweep, second.since, second.after_task_id) == (False, NOW, 40)
    assert second.task_ids == frozenset()


def test_noted_tasks_are_read_until_a_pass_that_included_them_is_done() -> None:
    progress = planning.Progress()
    progress.done(progress.scan(NOW), now=NOW, max_task_id=40, digests={})
    progress.note(Commit((Changed(7), Changed(8))))
    scan = progress.scan(NOW + POLL)
    assert scan.task_ids == {7, 8}
    progress.note(Commit((Changed(8), Changed(9))))  # committed while that pass ran
    progress.done(scan, now=NOW + POLL, max_task_id=40, digests={})
    assert progress.scan(NOW + 2 * POLL).task_ids == {8, 9}


def test_a_failed_pass_leaves_its_window_and_notes_for_the_next() -> None:
    progress = planning.Progress()
    progress.done(progress.scan(NOW), now=NOW, max_task_id=40, digests={})
    progress.note(Commit((Changed(7),)))
    progress.scan(NOW + POLL)  # this pass fails: done() is not called
    retry = progress.scan(NOW + 2 * POLL)
    assert (retry.since, retry.task_ids) == (NOW, frozenset({7}))


SWEEPS = [
    # what happened since the last pass (at NOW), when the next pass runs, does it sweep?
    pytest.param("nothing", NOW + POLL, False, id="incremental"),
    pytest.param("nothing", NOW + planning.SWEEP_EVERY, True, id="every-ten-minutes"),
    pytest.param("nothing", NOW - SECOND, True, id="clock-went-back"),
    pytest.param("nurse", NOW + POLL, True, id="a-nurse-changed"),
    pytest.param("cut", NOW + POLL, True, id="a-read-was-cut-at-its-limit"),
]


@pytest.mark.parametrize(("event", "at", "sweeps"), SWEEPS)
def test_when_a_pass_sweeps(event: str, at: datetime, sweeps: bool) -> None:
    progress = planning.Progress()
    progress.done(progress.scan(NOW), now=NOW, max_task_id=40, digests={})
    if event == "nurse":
        progress.note(Commit(nurse_ids=frozenset({3})))
    if event == "cut":
        progress.ask_sweep()
    scan = progress.scan(at)
    assert scan.sweep is sweeps
    progress.done(scan, now=at, max_task_id=40, digests={})
    assert progress.scan(at + SECOND).sweep is False  # one sweep answers it


def test_digests_known_to_exist_are_not_planned_again() -> None:
    progress = planning.Progress()
    schedules = [Schedule(1), Schedule(2, at=time(9))]
    now = c(11, 24, 8)
    scan = progress.scan(now)
    due = planning.digest_pushes(schedules, now=now, done=progress.digests_done)
    assert [p.nurse_id for p in due] == [1]
    progress.done(scan, now=now, max_task_id=0, digests=planning.digest_days(due, schedules))
    later = c(11, 24, 9, 30)
    assert [
        p.nurse_id for p in planning.digest_pushes(schedules, now=later, done=progress.digests_done)
    ] == [2]
    tomorrow = c(11, 25, 9, 30)
    assert len(planning.digest_pushes(schedules, now=tomorrow, done=progress.digests_done)) == 2

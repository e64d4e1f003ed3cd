"""The closing rules as tables: each row is a new record against one patient's open tasks.

The patient was discharged Mon 23 Nov 2026 (America/Chicago): her TCM contact window is
Tue 24 – Wed 25 Nov, the visit window Tue 24 Nov – Mon 30 Nov, the med-rec one Mon 23 – Mon
30 Nov. She also has a follow-up due today (Tue 24 Nov, 23:59), one due at 09:00 today, one
due Thu 26 Nov, a check-in due today, a referral follow-up, her own task, an appointment
reminder and an attendance check.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.care import end_of_local_day, local_time_on, start_of_local_day
from bot.care.closing import (
    Closing,
    Closure,
    ContactLogged,
    MedRecLogged,
    NewRecord,
    OpenTask,
    ReferralDone,
    attempts_documented,
    closing_for,
    resolution_when_marked_done,
)
from bot.vocab import Channel, CloseThrough, Outcome, Party, TaskKind, TaskResolution

CHI = ZoneInfo("America/Chicago")


def day(d: int, hh: int = 12, mm: int = 0) -> datetime:
    """Nov ``d`` 2026 at hh:mm Chicago, as UTC."""
    return local_time_on(date(2026, 11, d), time(hh, mm), CHI).astimezone(UTC)


DEC_1 = local_time_on(date(2026, 12, 1), time(9), CHI).astimezone(UTC)


def end(d: int) -> datetime:
    return end_of_local_day(date(2026, 11, d), CHI)


def start(d: int) -> datetime:
    return start_of_local_day(date(2026, 11, d), CHI)


TCM_CONTACT = OpenTask(1, TaskKind.TCM_CONTACT, end(25), start(24), "episode", 7)
TCM_VISIT = OpenTask(2, TaskKind.TCM_VISIT, end(30), start(24), "episode", 7)
MED_REC = OpenTask(3, TaskKind.MED_REC, end(30), start(23), "episode", 7)
FOLLOW_UP_TODAY = OpenTask(4, TaskKind.FOLLOW_UP, end(24), None, "contact", 50)
FOLLOW_UP_NINE = OpenTask(5, TaskKind.FOLLOW_UP, day(24, 9), None, "contact", 51)
FOLLOW_UP_THU = OpenTask(6, TaskKind.FOLLOW_UP, end(26), None, "contact", 52)
CHECK_IN = OpenTask(7, TaskKind.CADENCE, end(24), None, "cadence", None)
REFERRAL = OpenTask(8, TaskKind.REFERRAL, end(30), None, "referral", 3)
OWN_TASK = OpenTask(9, TaskKind.CUSTOM, end(24), None, "task", 9)
APPT_REMINDER = OpenTask(10, TaskKind.APPOINTMENT_REMINDER, day(24, 16), None, "appointment", 4)
ATTENDANCE = OpenTask(11, TaskKind.ATTENDANCE_CHECK, day(24, 17), None, "appointment", 4)
OTHER_REFERRAL = OpenTask(12, TaskKind.REFERRAL, end(30), None, "referral", 4)
TASKS = (
    TCM_CONTACT, TCM_VISIT, MED_REC, FOLLOW_UP_TODAY, FOLLOW_UP_NINE, FOLLOW_UP_THU, CHECK_IN,
    REFERRAL, OWN_TASK, APPT_REMINDER, ATTENDANCE, OTHER_REFERRAL,
)  # fmt: skip

MET, LATE, DOCUMENTED = TaskResolution.MET, TaskResolution.LATE, TaskResolution.ATTEMPTS_DOCUMENTED
PHONE, VISIT, TEXT, VIDEO = Channel.PHONE, Channel.VISIT, Channel.TEXT, Channel.VIDEO
REACHED, ATTEMPTED = Outcome.REACHED, Outcome.ATTEMPTED
PATIENT, CAREGIVER, PROVIDER = Party.PATIENT, Party.CAREGIVER, Party.PROVIDER


def call(
    at: datetime,
    channel: Channel = PHONE,
    outcome: Outcome = REACHED,
    who: Party = PATIENT,
    from_task: int | None = None,
) -> ContactLogged:
    return ContactLogged(99, at, channel, outcome, who, from_task)


CASES: list[tuple[str, NewRecord, tuple[datetime, ...], dict[int, TaskResolution]]] = [
    # name, record, attempts on file, {task id: resolution} expected closed
    (
        "reached phone call at 10:00 closes today's follow-ups, check-in and the TCM contact",
        call(day(24, 10)),
        (),
        {1: MET, 4: MET, 5: LATE, 7: MET},
    ),
    (
        "reached caregiver counts as reaching the patient",
        call(day(24, 10), who=CAREGIVER),
        (),
        {1: MET, 4: MET, 5: LATE, 7: MET},
    ),
    (
        "a text reached closes follow-ups but is not a TCM interactive contact",
        call(day(24, 10), channel=TEXT),
        (),
        {4: MET, 5: LATE, 7: MET},
    ),
    ("reaching the provider closes nothing", call(day(24, 10), who=PROVIDER), (), {}),
    ("an attempt closes nothing", call(day(24, 10), outcome=ATTEMPTED), (day(24, 10),), {}),
    (
        "a home visit with the patient closes the TCM visit too",
        call(day(24, 10), channel=VISIT),
        (),
        {1: MET, 2: MET, 4: MET, 5: LATE, 7: MET},
    ),
    (
        "a home visit with the caregiver is no TCM face-to-face visit",
        call(day(24, 10), channel=VISIT, who=CAREGIVER),
        (),
        {1: MET, 4: MET, 5: LATE, 7: MET},
    ),
    (
        "a video visit is interactive but not face-to-face",
        call(day(24, 10), channel=VIDEO),
        (),
        {1: MET, 4: MET, 5: LATE, 7: MET},
    ),
    (
        "a call logged for yesterday closes only what was due by the end of yesterday",
        call(day(23, 15)),
        (),
        {},
    ),
    (
        "a call after the TCM deadline closes the TCM contact as contacted late",
        call(day(27, 10)),
        (),
        {1: LATE, 4: LATE, 5: LATE, 6: LATE, 7: LATE},
    ),
    (
        "a late call after two attempts inside the window: attempts documented",
        call(day(27, 10)),
        (day(24, 9), day(25, 16)),
        {1: DOCUMENTED, 4: LATE, 5: LATE, 6: LATE, 7: LATE},
    ),
    (
        "two attempts at the same instant count once",
        call(day(27, 10)),
        (day(24, 9), day(24, 9)),
        {1: LATE, 4: LATE, 5: LATE, 6: LATE, 7: LATE},
    ),
    (
        "an attempt outside the window does not count",
        call(day(27, 10)),
        (day(23, 15), day(25, 16)),
        {1: LATE, 4: LATE, 5: LATE, 6: LATE, 7: LATE},
    ),
    (
        "a contact on the discharge day is before the TCM window: it stays open",
        call(day(23, 18)),
        (),
        {},
    ),
    (
        "[Log contact] on the Thursday follow-up's reminder closes it today",
        call(day(24, 10), from_task=6),
        (),
        {1: MET, 4: MET, 5: LATE, 6: MET, 7: MET},
    ),
    (
        "[Log contact] on her own task's reminder closes it",
        call(day(24, 10), from_task=9),
        (),
        {1: MET, 4: MET, 5: LATE, 7: MET, 9: MET},
    ),
    (
        "[Log contact] then an attempt closes nothing, not even the reminder",
        call(day(24, 10), outcome=ATTEMPTED, from_task=6),
        (day(24, 10),),
        {},
    ),
    (
        "[Log contact] on a TCM task follows the TCM rule, not the reminder rule",
        call(day(24, 10), channel=TEXT, from_task=2),
        (),
        {4: MET, 5: LATE, 7: MET},
    ),
    ("a med rec closes the med-rec task", MedRecLogged(40, day(24, 10)), (), {3: MET}),
    (
        "a med rec on the deadline's last minute is met",
        MedRecLogged(40, day(30, 23, 59)),
        (),
        {3: MET},
    ),
    ("a late med rec closes it as late", MedRecLogged(40, DEC_1), (), {3: LATE}),
    ("a med rec before its window closes nothing", MedRecLogged(40, day(22, 10)), (), {}),
    ("a completed referral closes its own follow-up", ReferralDone(3, day(24, 10)), (), {8: MET}),
    ("another referral closes nothing of this one", ReferralDone(5, day(24, 10)), (), {}),
]


@pytest.mark.parametrize(
    ("record", "attempts", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_closing_table(
    record: NewRecord, attempts: tuple[datetime, ...], expected: dict[int, TaskResolution]
) -> None:
    closing = closing_for(record, TASKS, zone=CHI, attempt_times=attempts)
    assert {c.task_id: c.resolution for c in closing.closed} == expected
    # Reminders and attendance checks are pushes: no record closes them.
    assert not {10, 11} & set(closing.closed_ids)


def test_only_up_to_the_contact_itself_when_configured() -> None:
    closing = closing_for(call(day(24, 10)), TASKS, zone=CHI, through=CloseThrough.CONTACT_TIME)
    assert {c.task_id for c in closing.closed} == {1, 5}


def test_a_contact_never_closes_the_follow_up_it_created() -> None:
    own = OpenTask(20, TaskKind.FOLLOW_UP, end(24), None, "contact", 99)
    closing = closing_for(call(day(24, 10)), (own, FOLLOW_UP_TODAY), zone=CHI)
    assert closing.closed_ids == (4,)


def test_attempts_are_counted_for_every_open_tcm_contact_it_does_not_close() -> None:
    one = closing_for(
        call(day(24, 9), outcome=ATTEMPTED), TASKS, zone=CHI, attempt_times=[day(24, 9)]
    )
    assert one.attempts == ((1, False),)
    two = closing_for(
        call(day(25, 9), outcome=ATTEMPTED),
        TASKS,
        zone=CHI,
        attempt_times=[day(24, 9), day(25, 9)],
    )
    assert two.documented_ids == (1,)
    assert two.closed == ()


def test_late_closures_are_lapses() -> None:
    closing = closing_for(call(day(27, 10)), (TCM_CONTACT,), zone=CHI)
    assert closing == Closing(closed=(Closure(1, LATE),))
    assert closing.closed[0].lapsed
    assert not Closure(1, MET).lapsed


def test_attempts_inside_a_window_bounded_by_its_own_start_and_deadline() -> None:
    assert attempts_documented(TCM_CONTACT, [start(24), end(25)])
    assert not attempts_documented(TCM_CONTACT, [start(24), start(26)])
    assert not attempts_documented(TCM_CONTACT, [day(23, 23, 59), end(25)])


@pytest.mark.parametrize(
    ("kind", "at", "expected"),
    [
        (TaskKind.TCM_CONTACT, day(25, 10), MET),
        (TaskKind.TCM_CONTACT, day(26, 10), TaskResolution.NOT_MET),
        (TaskKind.MED_REC, day(26, 10), TaskResolution.NOT_MET),
        (TaskKind.FOLLOW_UP, day(26, 10), LATE),
        (TaskKind.CUSTOM, day(25, 10), MET),
    ],
)
def test_done_pressed_without_a_record(
    kind: TaskKind, at: datetime, expected: TaskResolution
) -> None:
    assert resolution_when_marked_done(kind, end(25), at) == expected

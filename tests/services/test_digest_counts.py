"""The digest counts only her work: a table of one task each and what it adds to Tuesday's
digest (due today, overdue, yesterday's completion), read by bot.services.digests.read_digest.

Tue 24 Nov 2026, 07:30 America/Chicago. Overdue = her open work past due now; due today = her
open work due from now to the end of the day; yesterday's completion = her work due Monday
that existed when Monday began, done by its due time (cancelled tasks and pushes not counted).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time

import pytest

from bot.care import end_of_local_day
from bot.clock import ManualClock
from bot.config import Config
from bot.render.digest import DigestData, render_digest
from bot.services.digests import read_digest
from bot.services.ledger import MessageKey
from bot.services.messages import SavedMessage, save_message
from bot.services.records import business_calendar
from bot.vocab import Channel, Outcome, TaskKind, TaskStatus
from storage.db import Database
from storage.models import Contact, Nurse, Patient, Task
from tests.services.facts_support import CHICAGO, discharge, make_nurse, make_patient

SUN, MON, TUE = date(2026, 11, 22), date(2026, 11, 23), date(2026, 11, 24)
NOW = datetime.combine(TUE, time(7, 30), tzinfo=CHICAGO)


def eod(day: date) -> datetime:
    return end_of_local_day(day, CHICAGO)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=CHICAGO)


@dataclass(frozen=True)
class Row:
    kind: TaskKind = TaskKind.FOLLOW_UP
    due: datetime = eod(TUE)
    made: datetime = at(SUN, 12)
    status: TaskStatus = TaskStatus.OPEN
    done_at: datetime | None = None
    patient: bool = True
    in_hospital: bool = False
    other_nurse: bool = False


@dataclass(frozen=True)
class Counts:
    due_today: int = 0
    overdue: int = 0
    done: int = 0
    total: int = 0


TABLE = [
    pytest.param(Row(), Counts(due_today=1), id="follow-up-due-today"),
    pytest.param(Row(kind=TaskKind.CUSTOM, patient=False), Counts(due_today=1), id="own-task"),
    pytest.param(Row(due=at(TUE, 6)), Counts(overdue=1), id="due-earlier-this-morning"),
    pytest.param(Row(due=eod(MON)), Counts(overdue=1, total=1), id="due-yesterday-open"),
    pytest.param(
        Row(due=eod(MON), status=TaskStatus.DONE, done_at=at(MON, 10)),
        Counts(done=1, total=1),
        id="due-yesterday-done-on-time",
    ),
    pytest.param(
        Row(due=eod(MON), status=TaskStatus.DONE, done_at=at(TUE, 7)),
        Counts(total=1),
        id="due-yesterday-done-late",
    ),
    pytest.param(
        Row(due=eod(MON), made=at(MON, 9), status=TaskStatus.DONE, done_at=at(MON, 10)),
        Counts(),
        id="made-yesterday-not-counted",
    ),
    pytest.param(
        Row(due=eod(MON), made=at(MON, 9)), Counts(overdue=1), id="made-yesterday-still-overdue"
    ),
    pytest.param(Row(due=eod(MON), status=TaskStatus.CANCELLED), Counts(), id="cancelled"),
    pytest.param(
        Row(kind=TaskKind.APPOINTMENT_REMINDER, due=eod(MON)), Counts(), id="appointment-push"
    ),
    pytest.param(Row(kind=TaskKind.ATTENDANCE_CHECK), Counts(), id="attendance-check"),
    pytest.param(Row(in_hospital=True), Counts(), id="paused-in-hospital"),
    pytest.param(
        Row(kind=TaskKind.MED_REC, due=eod(MON)), Counts(overdue=1, total=1), id="med-rec-lapsed"
    ),
    pytest.param(Row(kind=TaskKind.TCM_CONTACT), Counts(), id="tcm-in-its-own-section"),
    pytest.param(Row(kind=TaskKind.CADENCE, due=eod(MON)), Counts(total=1), id="check-in"),
    pytest.param(Row(other_nurse=True), Counts(), id="another-nurses-task"),
]


async def _digest(db: Database, config: Config, row: Row) -> DigestData:
    ana = await make_nurse(db, config, 501)
    bea = await make_nurse(db, config, 502)
    owner = bea if row.other_nurse else ana
    patient = await make_patient(db, owner, "Maria Lopez")
    async with db.uow() as session:
        if row.in_hospital:
            p = await session.get(Patient, patient.id)
            assert p is not None
            p.admitted_since = at(MON, 8)
        session.add(
            Task(
                nurse_id=owner.id,
                patient_id=patient.id if row.patient else None,
                kind=row.kind,
                title="",
                due_at=row.due,
                status=row.status,
                completed_at=row.done_at,
                created_at=row.made,
            )
        )
    async with db.uow() as session:
        nurse = await session.get(Nurse, ana.id)
        assert nurse is not None
        return await read_digest(session, nurse, NOW, config, business_calendar(config))


@pytest.mark.parametrize(("row", "counts"), TABLE)
async def test_what_one_task_adds_to_the_digest(
    db: Database, config: Config, row: Row, counts: Counts
) -> None:
    data = await _digest(db, config, row)
    assert (
        Counts(
            due_today=len(data.due_today),
            overdue=len(data.overdue),
            done=data.yesterday_done,
            total=data.yesterday_total,
        )
        == counts
    )
    assert data.due_today_total == len(data.due_today)
    assert data.overdue_total == len(data.overdue)


async def test_a_tcm_contact_shows_its_countdown_and_the_attempts_in_its_window(
    db: Database, config: Config
) -> None:
    ana = await make_nurse(db, config, 501)
    patient = await make_patient(db, ana, "Ed Kim")
    async with db.uow() as session:
        session.add(
            Task(
                nurse_id=ana.id,
                patient_id=patient.id,
                kind=TaskKind.TCM_CONTACT,
                title="",
                due_at=eod(date(2026, 11, 25)),
                window_start=at(MON, 0),
                created_at=at(MON, 8),
            )
        )
        for when, outcome in (
            (at(SUN, 10), Outcome.ATTEMPTED),  # before the window: not counted
            (at(MON, 9), Outcome.ATTEMPTED),
            (at(MON, 16), Outcome.ATTEMPTED),
        ):
            session.add(
                Contact(
                    patient_id=patient.id,
                    nurse_id=ana.id,
                    occurred_at=when,
                    channel=Channel.PHONE,
                    outcome=outcome,
                    note="",
                    created_at=when,
                )
            )
    async with db.uow() as session:
        nurse = await session.get(Nurse, ana.id)
        assert nurse is not None
        data = await read_digest(session, nurse, NOW, config, business_calendar(config))
    assert [(kind, days, attempts) for kind, _due, _who, days, attempts in data.deadlines] == [
        (TaskKind.TCM_CONTACT, 1, 2)
    ]
    assert data.due_today == []


async def test_a_readmission_is_flagged_in_the_digest(db: Database, config: Config) -> None:
    ana = await make_nurse(db, config, 501)
    ed = await make_patient(db, ana, "Ed Kim")
    clock = ManualClock(NOW)
    for n, day in enumerate((date(2026, 11, 2), date(2026, 11, 20))):
        saved = await save_message(
            db, config, clock, nurse=ana, key=MessageKey(501, 10 + n), facts=[discharge(ed, day)]
        )
        assert isinstance(saved, SavedMessage)
    async with db.uow() as session:
        nurse = await session.get(Nurse, ana.id)
        assert nurse is not None
        data = await read_digest(session, nurse, NOW, config, business_calendar(config))
    assert [(p.name, on) for p, on, _facility in data.readmissions] == [
        ("Ed Kim", date(2026, 11, 20))
    ]
    text, _cut = render_digest(replace(data, privacy="full"))
    assert "<b>🔁 Readmissions</b>\n• Ed Kim: readmitted, discharged Fri 20 Nov from Mercy" in text

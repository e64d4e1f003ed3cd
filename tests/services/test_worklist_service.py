"""The worklist stays true: what a contact closes (and says it closed), TCM lapses that leave
her list but stay in the supervisor's view and the numbers, routine work paused while the
patient is in hospital, readmissions flagged, vitals with their trend on the card, and her
own tasks without a patient in every list and push."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import Config
from bot.parsing import AdmissionIntent, NoteIntent, TaskIntent, Vital, When
from bot.render.patients import render_card
from bot.services import lists, queries
from bot.services import patients as patient_service
from bot.services.enrollment import view_of
from bot.services.ledger import MessageKey
from bot.services.messages import SavedMessage, save_message
from bot.services.records import Logged, log_contact
from bot.services.tasks import complete_task
from bot.vocab import (
    Channel,
    Outcome,
    Party,
    Risk,
    Role,
    TaskKind,
    TaskResolution,
    TaskStatus,
    VitalKind,
)
from storage import digest
from storage import pushes as outbox_reads
from storage.db import Database
from storage.models import Nurse, Patient, Task, Team
from tests.harness import Harness
from tests.reminder_support import nurse_row, run_pass
from tests.services.facts_support import (
    CHICAGO,
    NOW,
    at,
    contact,
    discharge,
    local,
    make_nurse,
    make_patient,
    on,
)

MON = date(2026, 11, 23)
TUE = date(2026, 11, 24)
THU = date(2026, 11, 26)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def _tasks(db: Database) -> dict[int, Task]:
    async with db.uow(read_only=True) as session:
        return {t.id: t for t in (await session.scalars(select(Task))).all()}


async def _check_in(db: Database, nurse_id: int, patient_id: int | None, due: date) -> int:
    async with db.uow() as session:
        task = Task(
            nurse_id=nurse_id, patient_id=patient_id, kind=TaskKind.CADENCE, title="",
            due_at=local(due, 23, 59), origin_kind="cadence", created_at=NOW,
        )  # fmt: skip
        session.add(task)
        await session.flush()
        return task.id


async def test_a_reached_call_closes_todays_follow_ups_and_check_in_and_names_them(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    assert tom.id is not None
    clock.set(local(MON, 10))
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[
            contact(tom, clock.now(), outcome=Outcome.ATTEMPTED, follow_up=on(TUE)),
            contact(tom, clock.now(), outcome=Outcome.ATTEMPTED, follow_up=at(TUE, 9)),
            contact(tom, clock.now(), outcome=Outcome.ATTEMPTED, follow_up=on(THU)),
        ],
    )  # fmt: skip
    check_in = await _check_in(db, nurse.id, tom.id, TUE)
    clock.set(local(TUE, 8, 12))
    logged = await log_contact(
        db, config, clock, nurse=nurse, source=MessageKey(1, 2), patient_id=tom.id,
        channel=Channel.PHONE, outcome=Outcome.REACHED, with_whom=Party.PATIENT,
        occurred_at=clock.now(), follow_up=None, note="",
    )  # fmt: skip
    assert isinstance(logged, Logged)
    closed = [(t.kind, t.due_at.astimezone(CHICAGO).strftime("%a %H:%M")) for t in logged.closed]
    assert sorted(closed) == [
        (TaskKind.CADENCE, "Tue 23:59"),
        (TaskKind.FOLLOW_UP, "Tue 09:00"),
        (TaskKind.FOLLOW_UP, "Tue 23:59"),
    ]
    tasks = await _tasks(db)
    assert tasks[check_in].status == TaskStatus.DONE
    [thursday] = [t for t in tasks.values() if t.status == TaskStatus.OPEN]
    # [Log contact] on Thursday's reminder, and a second call: it closes that reminder too.
    again = await log_contact(
        db, config, clock, nurse=nurse, source=MessageKey(1, 3), patient_id=tom.id,
        channel=Channel.PHONE, outcome=Outcome.REACHED, with_whom=Party.PATIENT,
        occurred_at=clock.now(), follow_up=None, note="", from_task_id=thursday.id,
    )  # fmt: skip
    assert isinstance(again, Logged)
    assert [t.id for t in again.closed] == [thursday.id]
    assert (await _tasks(db))[thursday.id].closed_by_kind == "contact"


async def test_a_late_tcm_contact_lapses_off_her_list_but_stays_counted(
    db: Database, config: Config, clock: ManualClock
) -> None:
    async with db.uow() as session:
        north = Team(name="North", created_at=NOW)
        session.add(north)
        await session.flush()
        team_id = north.id
    nurse = await make_nurse(db, config, 1, team_id=team_id)
    boss = await make_nurse(db, config, 2, team_id=team_id)
    async with db.uow() as session:
        row = await session.get(Nurse, boss.id)
        assert row is not None
        row.role = Role.SUPERVISOR
    boss = view_of(row, config)
    ana = await make_patient(db, nurse, "Ana Ruiz")
    bo = await make_patient(db, nurse, "Bo Lane")
    clock.set(local(date(2026, 11, 20), 9))  # Friday: contact window Mon 23 - Tue 24 Nov
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[discharge(ana, date(2026, 11, 20)), discharge(bo, date(2026, 11, 20))],
    )  # fmt: skip
    clock.set(local(MON, 10))
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2),
        facts=[contact(bo, clock.now(), outcome=Outcome.ATTEMPTED)],
    )  # fmt: skip
    clock.set(local(TUE, 16))
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 3),
        facts=[contact(bo, clock.now(), outcome=Outcome.ATTEMPTED)],
    )  # fmt: skip
    clock.set(local(date(2026, 11, 25), 10))  # Wednesday: both windows lapsed
    overdue = await lists.overdue(db, nurse, now=clock.now())
    assert sorted(t.kind for t in overdue.tasks.rows) == [TaskKind.TCM_CONTACT] * 2
    saved = await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 4),
        facts=[contact(ana, clock.now()), contact(bo, clock.now())],
    )  # fmt: skip
    assert isinstance(saved, SavedMessage)
    ana_closed = {t.kind: t.resolution for t in saved.results[0].closed}
    bo_closed = {t.kind: t.resolution for t in saved.results[1].closed}
    assert ana_closed[TaskKind.TCM_CONTACT] == TaskResolution.LATE
    assert bo_closed[TaskKind.TCM_CONTACT] == TaskResolution.ATTEMPTS_DOCUMENTED
    overdue = await lists.overdue(db, nurse, now=clock.now())
    assert [t.kind for t in overdue.tasks.rows] == []  # off her to-do list ...
    team = await queries.team(db, boss, now=clock.now())
    assert isinstance(team, queries.TeamView)
    [row_for_her] = [r for r in team.rows if r.nurse_id == nurse.id]
    assert row_for_her.tcm_lapsed == 2  # ... and still in the supervisor's view
    stats = await queries.stats(db, nurse, config, now=clock.now())
    assert stats.tcm_closed[TaskResolution.LATE] == 1
    assert stats.tcm_closed[TaskResolution.ATTEMPTS_DOCUMENTED] == 1


async def test_done_pressed_on_a_lapsed_tcm_task_is_not_met(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    ana = await make_patient(db, nurse, "Ana Ruiz")
    clock.set(local(date(2026, 11, 20), 9))
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[discharge(ana, date(2026, 11, 20))],
    )  # fmt: skip
    [tcm] = [t for t in (await _tasks(db)).values() if t.kind == TaskKind.TCM_CONTACT]
    clock.set(local(date(2026, 11, 25), 10))
    await complete_task(db, clock, nurse_id=nurse.id, task_id=tcm.id)
    assert (await _tasks(db))[tcm.id].resolution == TaskResolution.NOT_MET


async def test_an_admission_pauses_routine_work_until_the_discharge(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    assert tom.id is not None
    async with db.uow() as session:
        row = await session.get(Patient, tom.id)
        assert row is not None
        row.risk = Risk.HIGH  # never reached: past her cadence
    clock.set(local(MON, 10))
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[contact(tom, clock.now(), outcome=Outcome.ATTEMPTED, follow_up=at(TUE, 11))],
    )  # fmt: skip
    clock.set(local(TUE, 8))

    async def visible() -> tuple[int, int, int, int]:
        now = clock.now()
        today = await lists.today(db, nurse, now=now)
        page = await queries.caseload(db, nurse, now=now)
        async with db.uow(read_only=True) as session:
            gaps = await digest.past_cadence(
                session, nurse_id=nurse.id, now=now, cadence_days={"high": 7}
            )
            pushes = await outbox_reads.reminders_due(session, now=now + timedelta(days=1))
        return today.tasks.total, page.rows[0].open_tasks, len(gaps), len(pushes)

    assert await visible() == (1, 1, 1, 1)
    saved = await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2),
        facts=[AdmissionIntent(tom, (), None, TUE, "Mercy", "CHF", "")],
    )  # fmt: skip
    assert isinstance(saved, SavedMessage)
    assert saved.results[0].paused
    assert await visible() == (0, 0, 0, 0)
    card = await patient_service.patient_card(db, clock, nurse=nurse, patient_id=tom.id)
    assert "<b>In hospital</b> since Tue 24 Nov" in render_card(card)  # type: ignore[arg-type]
    back = await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 3), facts=[discharge(tom, TUE)]
    )
    assert isinstance(back, SavedMessage)
    assert back.results[0].resumed
    today, cases, gaps, pushes = await visible()
    assert (today, gaps) == (1, 1)  # the follow-up is back; TCM tasks start at tomorrow
    assert cases == 4
    assert pushes >= 1


async def test_a_reminder_that_came_due_in_hospital_is_pushed_at_the_next_pass_after_discharge(
    harness: Harness,
) -> None:
    """The dispatcher plans incrementally: a pass reads only reminders that fell due since the
    last one, new tasks and the tasks a use case noted. A discharge notes the routine work it
    resumes, so a reminder that came due while she was in hospital is pushed at the very next
    pass, not at the next sweep."""
    h = harness
    ana = await h.enroll("Ana")
    nurse = view_of(await nurse_row(h, ana), h.app.services.config)
    config = h.app.services.config
    tom = await make_patient(h.db, nurse, "Tom Jensen")
    h.clock.set(local(TUE, 9))
    await save_message(
        h.db, config, h.clock, nurse=nurse, key=MessageKey(ana.id, 901),
        facts=[contact(tom, h.clock.now(), follow_up=at(TUE, 11))],
    )  # fmt: skip
    await save_message(
        h.db, config, h.clock, nurse=nurse, key=MessageKey(ana.id, 902),
        facts=[AdmissionIntent(tom, (), None, TUE, "Mercy", "CHF", "")],
    )  # fmt: skip

    def reminders() -> list[str]:
        return [m.text or "" for m in h.fake.sent_messages(ana.id) if "⏰" in (m.text or "")]

    h.clock.set(local(TUE, 11, 5))
    await run_pass(h)  # a sweep: her follow-up is paused
    assert reminders() == []
    h.clock.set(local(TUE, 11, 6))
    await save_message(
        h.db, config, h.clock, nurse=nurse, key=MessageKey(ana.id, 903),
        facts=[discharge(tom, TUE)],
    )  # fmt: skip
    h.clock.set(local(TUE, 11, 7))
    await run_pass(h)  # not a sweep (the last was two minutes ago)
    [pushed] = reminders()
    assert pushed.startswith("⏰ Follow-up: T.J.")  # initials: pushes name no one


async def test_a_discharge_within_30_days_is_a_readmission_on_the_card_and_for_the_team(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    ana = await make_patient(db, nurse, "Ana Ruiz")
    assert ana.id is not None
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[discharge(ana, date(2026, 10, 26))],
    )  # fmt: skip
    first = await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2), facts=[discharge(ana, TUE)]
    )
    assert isinstance(first, SavedMessage)
    assert first.results[0].readmission  # 29 days after the last one
    card = await patient_service.patient_card(db, clock, nurse=nurse, patient_id=ana.id)
    assert "discharged from Mercy · <b>readmission</b>" in render_card(card)  # type: ignore[arg-type]
    async with db.uow(read_only=True) as session:
        found = await digest.readmissions_since(session, nurse_id=nurse.id, since=TUE)
    assert [(r.patient.name, r.discharged_on) for r in found] == [("Ana Ruiz", TUE)]


async def test_the_card_shows_each_vital_with_its_trend(
    db: Database, config: Config, clock: ManualClock
) -> None:
    nurse = await make_nurse(db, config, 1)
    tom = await make_patient(db, nurse, "Tom Jensen")
    assert tom.id is not None
    clock.set(local(date(2026, 11, 16), 10))  # Mon 16 Nov
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 1),
        facts=[NoteIntent(tom, (), None, "", (
            Vital(VitalKind.BP, "138/84", "mmHg"), Vital(VitalKind.WEIGHT, "185", "lb"),
        ), "")],
    )  # fmt: skip
    clock.set(local(TUE, 10))
    await save_message(
        db, config, clock, nurse=nurse, key=MessageKey(1, 2),
        facts=[NoteIntent(tom, (), None, "", (
            Vital(VitalKind.BP, "150/90", "mmHg"), Vital(VitalKind.WEIGHT, "84", "kg"),
            Vital(VitalKind.SPO2, "94", "%"),
        ), "")],
    )  # fmt: skip
    card = await patient_service.patient_card(db, clock, nurse=nurse, patient_id=tom.id)
    text = render_card(card)  # type: ignore[arg-type]
    assert "• BP 150/90 mmHg, Tue 24 Nov ↑ (was 138/84 on Mon 16 Nov)" in text
    assert "• Weight 84 kg, Tue 24 Nov ↑ (was 185 on Mon 16 Nov)" in text  # 185.2 lb
    assert "• SpO2 94%, Tue 24 Nov" in text


async def test_her_own_task_without_a_patient_is_listed_and_pushed(harness: Harness) -> None:
    h = harness
    ana = await h.enroll("Ana")
    row = await nurse_row(h, ana)
    nurse = view_of(row, h.app.services.config)
    noon = When(h.clock.now().replace(hour=18, minute=0), has_time=True)  # 12:00 Chicago
    saved = await save_message(
        h.db, h.app.services.config, h.clock, nurse=nurse, key=MessageKey(ana.id, 900),
        facts=[TaskIntent(None, (), None, "fax orders to Dr Lee", noon, "")],
    )  # fmt: skip
    assert isinstance(saved, SavedMessage)
    await h.send(ana, "/today")
    assert "fax orders to Dr Lee" in h.last_text(ana)
    h.clock.set(noon.at)
    await run_pass(h)
    pushes = [m.text or "" for m in h.fake.sent_messages(ana.id) if "⏰" in (m.text or "")]
    assert len(pushes) == 1
    assert "fax orders to Dr Lee" in pushes[0]

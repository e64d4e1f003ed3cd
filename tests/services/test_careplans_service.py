"""Care-plan, referral and resource use cases against a real database (SQLite, and PostgreSQL
when set up): audits with prior values, goal picking, ownership, redelivery, the referral's
follow-up task and its link to an appointment, and the per-team directory."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.care import end_of_local_day, local_time_on
from bot.clock import ManualClock
from bot.config import Config, ConfigError, load_config
from bot.parsing import When
from bot.services import careplans as plans
from bot.services import records, referrals, resources
from bot.services.enrollment import view_of
from bot.services.ledger import MessageKey
from bot.services.nurse import NurseView
from bot.vocab import GoalStatus, ReferralStatus, Refusal, ResourceKind, TaskKind, TaskStatus
from storage import patients
from storage.db import Database
from storage.models import AuditEvent, CareGoal, Nurse, Referral, Task, Team

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tue 24 Nov 2026, 09:00 in Chicago


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def _nurse(db: Database, config: Config, telegram_id: int, team: str | None = None
                 ) -> NurseView:  # fmt: skip
    async with db.uow() as session:
        team_id = None
        if team is not None:
            found = await session.scalar(select(Team).where(Team.name == team))
            if found is None:
                found = Team(name=team, created_at=NOW)
                session.add(found)
                await session.flush()
            team_id = found.id
        nurse = Nurse(
            telegram_user_id=telegram_id, chat_id=telegram_id, display_name=f"N{telegram_id}",
            timezone="America/Chicago", digest_time=time(7, 30), enrolled_at=NOW,
            settings_done=True, team_id=team_id,
        )  # fmt: skip
        session.add(nurse)
        await session.flush()
        return view_of(nurse, config)


async def _patient(db: Database, nurse: NurseView, name: str) -> int:
    async with db.uow() as session:
        patient = await patients.create_patient(
            session, nurse_id=nurse.id, team_id=nurse.team_id, display_name=name, now=NOW
        )
        return patient.id


async def _audits(db: Database, action: str) -> list[AuditEvent]:
    async with db.uow(read_only=True) as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list((await session.scalars(query)).all())


# -- goals ----------------------------------------------------------------------------------------


async def test_goal_closed_is_audited_with_its_prior_status(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await _nurse(db, config, 1)
    maria = await _patient(db, ana, "Maria Lopez")
    saved = await plans.add_goal(
        db, clock, nurse=ana, source=None, patient_id=maria, text="A1c under 8",
        target_on=date(2027, 3, 31),
    )  # fmt: skip
    assert isinstance(saved, plans.GoalSaved)
    closed = await plans.close_goal(
        db, clock, nurse=ana, source=None, patient_id=maria, change=GoalStatus.NOT_MET,
        outcome="A1c 9.1",
    )  # fmt: skip
    assert isinstance(closed, plans.GoalSaved)
    assert closed.goal.status == "not_met"
    [event] = await _audits(db, "goal.status_changed")
    assert event.detail["prior"] == {"status": "active", "outcome": ""}
    assert event.patient_id == maria
    again = await plans.close_goal(
        db, clock, nurse=ana, source=None, patient_id=maria, change=GoalStatus.MET, outcome="",
        goal_id=saved.goal.id,
    )  # fmt: skip
    assert again == Refusal.ALREADY_ANSWERED


async def test_the_outcome_picks_among_several_goals_or_asks(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await _nurse(db, config, 1)
    maria = await _patient(db, ana, "Maria Lopez")
    for text in ("walk 20 min daily", "A1c under 8"):
        await plans.add_goal(
            db, clock, nurse=ana, source=None, patient_id=maria, text=text, target_on=None
        )
    picked = await plans.close_goal(
        db, clock, nurse=ana, source=None, patient_id=maria, change=GoalStatus.MET,
        outcome="walking 20 min daily",
    )  # fmt: skip
    assert isinstance(picked, plans.GoalSaved)
    assert picked.goal.text == "walk 20 min daily"
    await plans.add_goal(
        db, clock, nurse=ana, source=None, patient_id=maria, text="no ER visits", target_on=None
    )
    choice = await plans.close_goal(
        db, clock, nurse=ana, source=None, patient_id=maria, change=GoalStatus.DISCONTINUED,
        outcome="moved away",
    )  # fmt: skip
    assert isinstance(choice, plans.GoalChoice)
    assert [g.text for g in choice.goals] == ["A1c under 8", "no ER visits"]


async def test_goals_refuse_another_nurses_patient_and_no_active_goal(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await _nurse(db, config, 1)
    bea = await _nurse(db, config, 2)
    maria = await _patient(db, ana, "Maria Lopez")
    refused = await plans.add_goal(
        db, clock, nurse=bea, source=None, patient_id=maria, text="x", target_on=None
    )
    assert refused == Refusal.NO_PATIENT
    none = await plans.close_goal(
        db, clock, nurse=ana, source=None, patient_id=maria, change=GoalStatus.MET, outcome=""
    )
    assert none == Refusal.NO_GOAL
    assert await plans.plan(db, clock, nurse=bea, patient_id=maria) == Refusal.NOT_FOUND


async def test_a_redelivered_goal_message_is_saved_once(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await _nurse(db, config, 1)
    maria = await _patient(db, ana, "Maria Lopez")
    source = MessageKey(chat_id=1, message_id=77)
    for _ in range(2):
        await plans.add_goal(
            db, clock, nurse=ana, source=source, patient_id=maria, text="A1c", target_on=None
        )
    async with db.uow(read_only=True) as session:
        assert len((await session.scalars(select(CareGoal))).all()) == 1


async def test_plan_holds_interventions_and_progress_notes(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await _nurse(db, config, 1)
    maria = await _patient(db, ana, "Maria Lopez")
    goal = await plans.add_goal(
        db, clock, nurse=ana, source=None, patient_id=maria, text="A1c under 8", target_on=None
    )
    assert isinstance(goal, plans.GoalSaved)
    await plans.add_intervention(db, clock, nurse=ana, goal_id=goal.goal.id, text="diet teaching")
    await plans.add_progress_note(db, clock, nurse=ana, patient_id=maria, text="A1c 8.4, better")
    view = await plans.plan(db, clock, nurse=ana, patient_id=maria)
    assert isinstance(view, plans.PlanView)
    assert view.goals[0].interventions == ("diet teaching",)
    assert [n.text for n in view.notes] == ["A1c 8.4, better"]
    assert (await _audits(db, "careplan.viewed"))[0].patient_id == maria


# -- referrals ------------------------------------------------------------------------------------


async def _refer(
    db: Database, config: Config, clock: ManualClock, nurse: NurseView, patient_id: int,
    to_whom: str, specialty: str | None,
) -> referrals.ReferralView:  # fmt: skip
    view = await referrals.log_referral(
        db, config, clock, nurse=nurse, source=None, patient_id=patient_id, to_whom=to_whom,
        specialty=specialty, reason="", sent_on=date(2026, 11, 24),
    )  # fmt: skip
    assert isinstance(view, referrals.ReferralView)
    return view


async def _appointment(
    db: Database, config: Config, clock: ManualClock, nurse: NurseView, patient_id: int,
    with_whom: str,
) -> records.Logged:  # fmt: skip
    at = When(at=datetime(2026, 12, 3, 14, 0, tzinfo=CHICAGO).astimezone(UTC), has_time=True)
    logged = await records.log_appointment(
        db, config, clock, nurse=nurse, source=None, patient_id=patient_id, at=at,
        with_whom=with_whom, location="", note=f"appt {with_whom}",
    )  # fmt: skip
    assert isinstance(logged, records.Logged)
    return logged


async def _referral_rows(db: Database) -> tuple[list[Referral], list[Task]]:
    async with db.uow(read_only=True) as session:
        rows = list((await session.scalars(select(Referral).order_by(Referral.id))).all())
        query = select(Task).where(Task.kind == TaskKind.REFERRAL).order_by(Task.id)
        return rows, list((await session.scalars(query)).all())


async def test_referral_task_falls_n_days_after_it_was_sent(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await _nurse(db, config, 1)
    robert = await _patient(db, ana, "Robert King")
    view = await _refer(db, config, clock, ana, robert, "cardiology", "cardiology")
    [_], [task] = await _referral_rows(db)
    day = date(2026, 12, 8)  # 24 Nov + 14
    assert view.follow_up_due == end_of_local_day(day, CHICAGO)
    assert task.remind_at == local_time_on(day, config.reminders.follow_up_time, CHICAGO)
    assert (task.has_time, task.status) == (False, TaskStatus.OPEN)


async def test_only_a_matching_appointment_of_the_same_patient_answers_a_referral(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await _nurse(db, config, 1)
    robert = await _patient(db, ana, "Robert King")
    grace = await _patient(db, ana, "Grace Kim")
    await _refer(db, config, clock, ana, robert, "cardio", None)  # canonical: cardiology
    await _appointment(db, config, clock, ana, grace, "cardiology")  # another patient
    await _appointment(db, config, clock, ana, robert, "podiatry")  # another specialty
    [referral], [task] = await _referral_rows(db)
    assert (referral.status, task.status) == (ReferralStatus.SENT, TaskStatus.OPEN)
    logged = await _appointment(db, config, clock, ana, robert, "cardiology")
    [referral], [task] = await _referral_rows(db)
    assert referral.status == ReferralStatus.SCHEDULED
    assert referral.appointment_id == logged.record_id
    assert (task.status, task.closed_by_kind, task.closed_by_id) == (
        TaskStatus.DONE, "appointment", logged.record_id,
    )  # fmt: skip
    assert [line.kind for line in logged.closed] == [TaskKind.REFERRAL]


async def test_referral_status_changes_are_audited_and_owned(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await _nurse(db, config, 1)
    bea = await _nurse(db, config, 2)
    robert = await _patient(db, ana, "Robert King")
    view = await _refer(db, config, clock, ana, robert, "Dr Alvarez", None)
    refused = await referrals.set_status(
        db, clock, nurse=bea, referral_id=view.id, status=ReferralStatus.DECLINED
    )
    assert refused == Refusal.NOT_FOUND
    done = await referrals.set_status(
        db, clock, nurse=ana, referral_id=view.id, status=ReferralStatus.COMPLETED
    )
    assert isinstance(done, referrals.ReferralView)
    [referral], [task] = await _referral_rows(db)
    assert referral.closed_at == NOW
    assert task.status == TaskStatus.DONE
    [event] = await _audits(db, "referral.status_changed")
    assert (event.detail["prior_status"], event.detail["status"]) == ("sent", "completed")


async def test_a_referral_status_message_moves_the_referral_that_fits(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await _nurse(db, config, 1)
    bea = await _nurse(db, config, 2)
    robert = await _patient(db, ana, "Robert King")
    cardio = await _refer(db, config, clock, ana, robert, "cardio", None)
    alvarez = await _refer(db, config, clock, ana, robert, "Dr Alvarez", None)
    source = MessageKey(chat_id=1, message_id=10)
    moved = await referrals.move_referral(
        db, clock, nurse=ana, source=source, patient_id=robert, to_whom="cardiology",
        specialty="cardiology", status=ReferralStatus.SCHEDULED,
    )  # fmt: skip
    assert isinstance(moved, referrals.ReferralView)
    assert (moved.id, moved.status) == (cardio.id, "scheduled")
    rows, tasks = await _referral_rows(db)
    assert [r.status for r in rows] == [ReferralStatus.SCHEDULED, ReferralStatus.SENT]
    assert rows[0].closed_at is None  # scheduled is still open
    assert [t.status for t in tasks] == [TaskStatus.DONE, TaskStatus.OPEN]
    [event] = await _audits(db, "referral.status_changed")
    assert (event.entity_id, event.command, event.patient_id) == (cardio.id, "text", robert)
    assert event.detail == {
        "prior_status": "sent", "status": "scheduled", "tasks_closed": [tasks[0].id],
    }  # fmt: skip
    again = await referrals.move_referral(
        db, clock, nurse=ana, source=source, patient_id=robert, to_whom="cardiology",
        specialty="cardiology", status=ReferralStatus.COMPLETED,
    )  # fmt: skip
    assert again == Refusal.DUPLICATE
    declined = await referrals.move_referral(
        db, clock, nurse=ana, source=None, patient_id=robert, to_whom="dr. alvarez",
        specialty=None, status=ReferralStatus.DECLINED,
    )  # fmt: skip
    assert isinstance(declined, referrals.ReferralView)
    assert (declined.id, declined.status) == (alvarez.id, "declined")
    missing = await referrals.move_referral(
        db, clock, nurse=ana, source=None, patient_id=robert, to_whom="podiatry",
        specialty="podiatry", status=ReferralStatus.COMPLETED,
    )  # fmt: skip
    assert isinstance(missing, referrals.NoMatchingReferral)
    assert [(r.id, r.status) for r in missing.open_referrals] == [(cardio.id, "scheduled")]
    assert missing.already is None
    already = await referrals.move_referral(
        db, clock, nurse=ana, source=None, patient_id=robert, to_whom="cardio",
        specialty="cardiology", status=ReferralStatus.SCHEDULED,
    )  # fmt: skip
    assert isinstance(already, referrals.NoMatchingReferral)
    assert already.already is not None
    assert already.already.id == cardio.id
    not_hers = await referrals.move_referral(
        db, clock, nurse=bea, source=None, patient_id=robert, to_whom="cardio",
        specialty="cardiology", status=ReferralStatus.COMPLETED,
    )  # fmt: skip
    assert not_hers == Refusal.NO_PATIENT
    assert len(await _audits(db, "referral.status_changed")) == 2


async def test_several_fitting_referrals_come_back_to_choose_from(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await _nurse(db, config, 1)
    robert = await _patient(db, ana, "Robert King")
    first = await _refer(db, config, clock, ana, robert, "cardiology", "cardiology")
    second = await _refer(db, config, clock, ana, robert, "cardiology", "cardiology")
    choice = await referrals.move_referral(
        db, clock, nurse=ana, source=None, patient_id=robert, to_whom="cardio",
        specialty="cardiology", status=ReferralStatus.COMPLETED,
    )  # fmt: skip
    assert isinstance(choice, referrals.ReferralChoice)
    assert [r.id for r in choice.referrals] == [first.id, second.id]
    assert (choice.patient_name, choice.status) == ("Robert King", "completed")
    rows, _ = await _referral_rows(db)
    assert [r.status for r in rows] == [ReferralStatus.SENT, ReferralStatus.SENT]
    [listed] = await _audits(db, "referral.listed")
    assert listed.detail == {"referral_ids": [first.id, second.id]}
    source = MessageKey(chat_id=1, message_id=20)
    picked = await referrals.set_status(
        db, clock, nurse=ana, referral_id=second.id, status=ReferralStatus.COMPLETED,
        command="text", source=source,
    )  # fmt: skip
    assert isinstance(picked, referrals.ReferralView)
    twice = await referrals.set_status(
        db, clock, nurse=ana, referral_id=first.id, status=ReferralStatus.COMPLETED,
        command="text", source=source,
    )  # fmt: skip
    assert twice == Refusal.DUPLICATE
    rows, _ = await _referral_rows(db)
    assert [r.status for r in rows] == [ReferralStatus.SENT, ReferralStatus.COMPLETED]


@pytest.mark.parametrize(
    ("to_whom", "specialty", "saved_to", "saved_specialty", "fits"),
    [
        ("cardio", "cardiology", "cardiology", "cardiology", True),
        ("dietitian", "nutrition", "nutrition", "nutrition", True),
        ("Dr. Alvarez", None, "Dr Alvarez", "", True),
        ("Alvarez", None, "Dr Alvarez", "", True),
        ("Dr Kim", None, "Dr Alvarez", "", False),
        ("cardiology", "cardiology", "Dr Alvarez", "", False),
        ("podiatry", "podiatry", "cardiology", "cardiology", False),
        ("", None, "cardiology", "cardiology", True),
    ],
)
def test_which_referral_a_message_names(
    to_whom: str, specialty: str | None, saved_to: str, saved_specialty: str, fits: bool
) -> None:
    referral = Referral(to_whom=saved_to, specialty=saved_specialty)
    assert referrals.referral_fits(referral, to_whom=to_whom, specialty=specialty) is fits


# -- resources ------------------------------------------------------------------------------------


async def test_directory_is_per_team_and_given_links_the_entry(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await _nurse(db, config, 1, team="A")
    bea = await _nurse(db, config, 2, team="A")
    cleo = await _nurse(db, config, 3, team="B")
    await resources.add_resource(
        db, clock, nurse=ana, kind=ResourceKind.TRANSPORT, name="Metro Access", contact="555"
    )
    assert [r.name for r in await resources.search(db, nurse=bea, kind=ResourceKind.TRANSPORT)] == [
        "Metro Access"
    ]
    assert await resources.search(db, nurse=cleo) == []
    assert [r.name for r in await resources.search(db, nurse=bea, words="metro")] == [
        "Metro Access"
    ]
    john = await _patient(db, bea, "John Smith")
    given = await resources.record_given(
        db, clock, nurse=bea, source=None, patient_id=john,
        resource_text="the metro access number", given_on=date(2026, 11, 23),
    )  # fmt: skip
    assert isinstance(given, resources.Given)
    assert given.resource is not None
    assert given.resource.name == "Metro Access"
    [event] = await _audits(db, "resource.given")
    assert event.patient_id == john


# -- configuration --------------------------------------------------------------------------------


def test_referral_follow_up_days_is_configurable_and_must_be_positive(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[care]\nreferral_follow_up_days = 10\n")
    env = {"CASEBOT_TELEGRAM_TOKEN": "1:x"}
    assert load_config(path, environ=env).care.referral_follow_up_days == 10
    assert Config().care.referral_follow_up_days == 14
    path.write_text("[care]\nreferral_follow_up_days = 0\n")
    with pytest.raises(ConfigError, match="referral_follow_up_days"):
        load_config(path, environ=env)


def test_care_plan_rendering_and_parsing_stay_pure() -> None:
    import subprocess
    import sys

    code = (
        "import sys, bot.render.careplans, bot.parsing.careplans;"
        "bad = [m for m in sys.modules if m.split('.')[0] in"
        " ('telegram', 'storage', 'sqlalchemy', 'handlers')];"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""

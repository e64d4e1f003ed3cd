"""Care-plan goals end to end through the fake Telegram: set by free text, closed by free text
(one goal, or chosen among several), /plan with its goal buttons, a goal past its target date
in the morning digest and on /patient, and ownership."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from storage.models import CareGoal, GoalStatus
from tests.fakes.telegram import FakeUser
from tests.harness import Harness
from tests.reminder_support import CHICAGO, add_patient, run_pass


@pytest.fixture
def h(harness: Harness) -> Harness:
    return harness


async def _goals(h: Harness) -> list[CareGoal]:
    async with h.db.uow(read_only=True) as session:
        return list((await session.scalars(select(CareGoal).order_by(CareGoal.id))).all())


async def _ana_with_maria(h: Harness) -> tuple[FakeUser, int]:
    ana = await h.enroll("Ana")
    maria = await add_patient(h, ana, "Maria Lopez", "high")
    return ana, maria


async def test_goal_set_by_free_text_with_a_month_target(h: Harness) -> None:
    ana, maria = await _ana_with_maria(h)
    await h.send(ana, "goal for Maria: A1c under 8 by March")
    assert h.last_text(ana) == (
        "Saved ✔ Goal for Maria Lopez: A1c under 8\nTarget: Wed 31 Mar 2027 (America/Chicago)"
    )
    [goal] = await _goals(h)
    assert (goal.patient_id, goal.text, goal.target_on) == (maria, "A1c under 8", date(2027, 3, 31))
    assert goal.status == GoalStatus.ACTIVE
    assert "goal.created" in await h.audit_actions()


async def test_goal_met_by_free_text_closes_the_only_active_goal(h: Harness) -> None:
    ana, _ = await _ana_with_maria(h)
    await h.send(ana, "goal for Maria: walking 20 min daily by 12/31")
    await h.send(ana, "Maria goal met: walking 20 min daily")
    assert h.last_text(ana) == (
        "Saved ✔ Maria Lopez goal met ✔: walking 20 min daily\nOutcome: walking 20 min daily"
    )
    [goal] = await _goals(h)
    assert goal.status == GoalStatus.MET
    assert goal.outcome == "walking 20 min daily"
    assert goal.closed_at == h.clock.now()
    assert "goal.status_changed" in await h.audit_actions()


async def test_several_goals_the_nurse_picks_which_one_closed(h: Harness) -> None:
    ana, _ = await _ana_with_maria(h)
    await h.send(ana, "goal for Maria: A1c under 8 by March")
    await h.send(ana, "goal for Maria: walk 30 min daily by 1/15")
    await h.send(ana, "Maria goal discontinued: moved out of state")
    message = h.fake.last_message(ana.id)
    assert message.text == "Which of Maria Lopez's goals?"
    assert message.button_labels == ["walk 30 min daily", "A1c under 8"]  # by target date
    assert all((b.callback_data or "").startswith("cg:p:") for b in message.buttons)
    await h.press(ana, "walk 30 min daily")
    assert h.last_text(ana).startswith("Saved ✔ Maria Lopez goal discontinued: walk 30 min daily")
    goals = await _goals(h)
    assert [g.status for g in goals] == [GoalStatus.ACTIVE, GoalStatus.DISCONTINUED]
    assert goals[1].outcome == "moved out of state"


async def test_plan_command_shows_goals_and_its_buttons_close_one(h: Harness) -> None:
    ana, _ = await _ana_with_maria(h)
    await h.send(ana, "goal for Maria: A1c under 8 by March")
    await h.send(ana, "goal for Maria: no ER visits")
    await h.send(ana, "/plan Maria Lopez")
    message = h.fake.last_message(ana.id)
    assert message.text == (
        "📋 Care plan — Maria Lopez\n"
        "1. A1c under 8 — by Wed 31 Mar 2027\n"
        "2. no ER visits\n"
        "\n"
        "Dates in America/Chicago."
    )
    assert message.button_labels == [
        "1. Met", "1. Not met", "1. Discontinue", "1. Add intervention",
        "2. Met", "2. Not met", "2. Discontinue", "2. Add intervention",
        "Add progress note",
    ]  # fmt: skip
    await h.press(ana, "1. Not met")
    assert h.last_text(ana) == "Goal → Not met. What was the outcome? Type it, or /skip."
    await h.send(ana, "A1c 9.1 on 3/30")
    assert h.last_text(ana) == (
        "Saved ✔ Maria Lopez goal not met: A1c under 8\nOutcome: A1c 9.1 on 3/30"
    )
    await h.send(ana, "/plan Maria")
    assert "1. no ER visits\n2. A1c under 8 — by Wed 31 Mar 2027 — not met: A1c 9.1 on 3/30" in (
        h.last_text(ana)
    )
    assert h.fake.last_message(ana.id).button_labels == [
        "1. Met", "1. Not met", "1. Discontinue", "1. Add intervention", "Add progress note",
    ]  # fmt: skip
    assert "careplan.viewed" in await h.audit_actions()


async def test_plan_button_with_skip_saves_no_outcome(h: Harness) -> None:
    ana, _ = await _ana_with_maria(h)
    await h.send(ana, "goal for Maria: quit smoking")
    await h.send(ana, "/plan Maria")
    await h.press(ana, "1. Met")
    await h.send(ana, "/skip")
    assert h.last_text(ana) == "Saved ✔ Maria Lopez goal met ✔: quit smoking"
    [goal] = await _goals(h)
    assert (goal.status, goal.outcome) == (GoalStatus.MET, "")


async def test_goal_past_target_date_appears_in_the_digest_and_on_the_patient_card(
    h: Harness,
) -> None:
    ana, _ = await _ana_with_maria(h)  # privacy: initials in pushes
    await h.send(ana, "goal for Maria: walk daily by 11/25")
    await h.send(ana, "goal for Maria: A1c under 8 by March")
    h.clock.set(datetime(2026, 11, 26, 7, 30, tzinfo=CHICAGO))
    await run_pass(h)
    digests = [
        m.text or "" for m in h.fake.sent_messages(ana.id) if "Good morning" in (m.text or "")
    ]
    assert len(digests) == 1
    # Initials in pushes (the default): the goal's words stay out of the digest.
    assert "🎯 Goals past target date\n• M.L. – target Wed 25 Nov" in digests[0]
    assert "walk daily" not in digests[0]
    assert "A1c under 8" not in digests[0]
    await h.send(ana, "/patient Maria Lopez")
    card = h.last_text(ana)
    assert "Goals (2 active)" in card
    assert "• walk daily — by Wed 25 Nov 2026 past target" in card
    assert "• A1c under 8 — by Wed 31 Mar 2027" in card


async def test_a_goal_met_is_no_longer_past_target_in_the_digest(h: Harness) -> None:
    ana, _ = await _ana_with_maria(h)
    await h.send(ana, "goal for Maria: walk daily by 11/25")
    await h.send(ana, "Maria goal met: walks 25 min a day")
    h.clock.set(datetime(2026, 11, 26, 7, 30, tzinfo=CHICAGO))
    await run_pass(h)
    digest = next(
        m.text or "" for m in h.fake.sent_messages(ana.id) if "Good morning" in (m.text or "")
    )
    assert "Goals past target date" not in digest


async def test_goal_for_a_name_not_in_the_caseload_saves_nothing(h: Harness) -> None:
    ana, _ = await _ana_with_maria(h)
    await h.send(ana, "goal for Bob Jones: walk daily")
    assert "Nothing saved" in h.last_text(ana)
    assert await _goals(h) == []


async def forge(h: Harness, user: FakeUser, data: str) -> None:
    """Press the first button of her latest keyboard, with forged callback data."""
    message = next(m for m in reversed(h.fake.sent_messages(user.id)) if m.buttons)
    update = h.fake.callback_press(user, message.message_id, message.buttons[0].label)
    update["callback_query"]["data"] = data
    await h.fake._feed_and_collect(h.app, update)


async def test_another_nurse_cannot_close_a_goal_by_a_forged_button(h: Harness) -> None:
    ana, _ = await _ana_with_maria(h)
    await h.send(ana, "goal for Maria: walk daily")
    [goal] = await _goals(h)
    bea = await h.enroll("Bea")
    await h.send(bea, "/resources")  # any keyboard of hers to forge a press on
    await forge(h, bea, f"cg:m:{goal.id}")
    await h.send(bea, "she did it")
    assert h.last_text(bea) == "That patient is not in your active caseload. Nothing saved."
    [goal] = await _goals(h)
    assert goal.status == GoalStatus.ACTIVE


async def test_interventions_and_progress_notes_from_the_plan(h: Harness) -> None:
    ana, _ = await _ana_with_maria(h)
    await h.send(ana, "goal for Maria: A1c under 8 by March")
    await h.send(ana, "/plan Maria")
    await h.press(ana, "1. Add intervention")
    await h.send(ana, "diabetes teaching weekly")
    assert h.last_text(ana) == "Saved ✔ Intervention for Maria Lopez: diabetes teaching weekly"
    await h.send(ana, "/plan Maria")
    await h.press(ana, "Add progress note")
    await h.send(ana, "A1c down to 8.4 <better>")
    assert h.last_text(ana) == "Saved ✔ Progress note on Maria Lopez's care plan."
    await h.send(ana, "/plan Maria")
    assert h.last_text(ana) == (
        "📋 Care plan — Maria Lopez\n"
        "1. A1c under 8 — by Wed 31 Mar 2027\n"
        "   ↳ diabetes teaching weekly\n"
        "\n"
        "Progress notes\n"
        "• Mon 23 Nov: A1c down to 8.4 <better>\n"
        "\n"
        "Dates in America/Chicago."
    )
    assert "progress_note.created" in await h.audit_actions()

"""Care-plan goals end to end through the fake Telegram: set by free text, closed by free text
(one goal, or chosen among several), /plan with its goal buttons, a goal past its target date
in the morning digest and on /patient, and ownership."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.vocab import GoalStatus
from storage.models import CareGoal, ProgressNote, Referral, ResourceGiven
from tests.fakes.telegram import Call, FakeUser
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


async def forge(h: Harness, user: FakeUser, data: str) -> list[Call]:
    """Press the first button of her latest keyboard, with forged callback data."""
    message = next(m for m in reversed(h.fake.sent_messages(user.id)) if m.buttons)
    update = h.fake.callback_press(user, message.message_id, message.buttons[0].label)
    update["callback_query"]["data"] = data
    return await h.fake._feed_and_collect(h.app, update)


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


# -- an ambiguous name: candidate buttons, the action kept server-side ----------------------------

PICK = "Which patient did you mean by “Maria”? Tap one; nothing is saved until you do."
CHOICE_CLOSED = "That choice has closed. Nothing was changed; send your message again."


async def _two_marias(h: Harness) -> tuple[FakeUser, int, int]:
    ana = await h.enroll("Ana")
    lopez = await add_patient(h, ana, "Maria Lopez", "high")
    santos = await add_patient(h, ana, "Maria Santos", "low")
    return ana, lopez, santos


def _asked_which_maria(h: Harness, user: FakeUser) -> None:
    message = h.fake.last_message(user.id)
    assert message.text == PICK
    assert sorted(message.button_labels) == ["Maria Lopez", "Maria Santos"]
    for button in message.buttons:
        # A one-time token and a patient id: no names, no message text.
        assert re.fullmatch(r"cp:[A-Za-z0-9_-]{8}:\d+", button.callback_data or "")


async def test_an_ambiguous_name_in_a_goal_asks_with_buttons_and_saves_for_the_one_tapped(
    h: Harness,
) -> None:
    ana, _, santos = await _two_marias(h)
    await h.send(ana, "goal for Maria: A1c under 8 by March")
    _asked_which_maria(h, ana)
    assert await _goals(h) == []  # nothing saved before the tap
    await h.press(ana, "Maria Santos")
    assert h.last_text(ana) == (
        "Saved ✔ Goal for Maria Santos: A1c under 8\nTarget: Wed 31 Mar 2027 (America/Chicago)"
    )
    [goal] = await _goals(h)
    assert (goal.patient_id, goal.text, goal.target_on) == (
        santos, "A1c under 8", date(2027, 3, 31),
    )  # fmt: skip
    # The other button of the answered question changes nothing.
    await h.press(ana, "Maria Lopez")
    assert h.last_text(ana) == CHOICE_CLOSED
    assert len(await _goals(h)) == 1


async def test_an_ambiguous_name_in_a_goal_met_closes_the_chosen_patients_goal(
    h: Harness,
) -> None:
    ana, lopez, _ = await _two_marias(h)
    await h.send(ana, "goal for Maria Lopez: walk daily")
    await h.send(ana, "goal for Maria Santos: walk daily")
    await h.send(ana, "Maria goal met: walks 25 min a day")
    _asked_which_maria(h, ana)
    await h.press(ana, "Maria Lopez")
    assert h.last_text(ana) == (
        "Saved ✔ Maria Lopez goal met ✔: walk daily\nOutcome: walks 25 min a day"
    )
    goals = await _goals(h)
    assert [(g.patient_id == lopez, g.status) for g in goals] == [
        (True, GoalStatus.MET), (False, GoalStatus.ACTIVE),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "reply", "table"),
    [
        ("referred Maria to cardiology today",
         "Saved ✔ Referral for Maria Santos to cardiology\nSent: Mon 23 Nov 2026\n"
         "Follow-up if no appointment is logged: Mon 7 Dec, America/Chicago", Referral),
        ("gave Maria the food pantry flyer",
         "Saved ✔ Gave Maria Santos: food pantry flyer (Mon 23 Nov 2026)\n"
         "(Not in your team's directory — add it with /resources.)", ResourceGiven),
    ],
    ids=["referral", "resource given"],
)  # fmt: skip
async def test_an_ambiguous_name_in_a_referral_or_resource_given_saves_for_the_one_tapped(
    h: Harness, typed: str, reply: str, table: type[Referral] | type[ResourceGiven]
) -> None:
    ana, _, santos = await _two_marias(h)
    await h.send(ana, typed)
    _asked_which_maria(h, ana)
    await h.press(ana, "Maria Santos")
    assert h.last_text(ana) == reply
    async with h.db.uow(read_only=True) as session:
        rows = list((await session.scalars(select(table))).all())
    assert [r.patient_id for r in rows] == [santos]


async def test_plan_with_an_ambiguous_name_asks_then_notes_and_interventions_go_to_her(
    h: Harness,
) -> None:
    ana, _, santos = await _two_marias(h)
    await h.send(ana, "goal for Maria Santos: no ER visits")
    await h.send(ana, "/plan Maria")
    _asked_which_maria(h, ana)
    await h.press(ana, "Maria Santos")
    assert h.last_text(ana) == (
        "📋 Care plan — Maria Santos\n1. no ER visits\n\nDates in America/Chicago."
    )
    await h.press(ana, "1. Add intervention")
    await h.send(ana, "weekly call to review symptoms")
    assert h.last_text(ana) == (
        "Saved ✔ Intervention for Maria Santos: weekly call to review symptoms"
    )
    await h.send(ana, "/plan Maria")
    await h.press(ana, "Maria Santos")
    await h.press(ana, "Add progress note")
    await h.send(ana, "no ER visits this month")
    assert h.last_text(ana) == "Saved ✔ Progress note on Maria Santos's care plan."
    async with h.db.uow(read_only=True) as session:
        [note] = list((await session.scalars(select(ProgressNote))).all())
    assert note.patient_id == santos


async def test_a_redelivered_ambiguous_message_is_saved_once_after_the_tap(h: Harness) -> None:
    ana, _, _ = await _two_marias(h)
    update = h.fake.private_text(ana, "goal for Maria: quit smoking")
    await h.fake._feed_and_collect(h.app, update)
    await h.press(ana, "Maria Lopez")
    again = dict(update, update_id=update["update_id"] + 1000)
    await h.fake._feed_and_collect(h.app, again)
    await h.press(ana, "Maria Lopez")
    assert h.last_text(ana) == "That message was already saved."
    assert len(await _goals(h)) == 1


async def test_a_forged_or_stale_patient_button_saves_nothing(h: Harness) -> None:
    ana, lopez, _ = await _two_marias(h)
    bea = await h.enroll("Bea")
    not_hers = await add_patient(h, bea, "Maria Ruiz")
    await h.send(ana, "goal for Maria: walk daily")
    question = h.fake.last_message(ana.id)
    token = (question.buttons[0].callback_data or "").split(":")[1]
    await forge(h, ana, f"cp:{token}:{not_hers}")  # another nurse's patient
    assert h.last_text(ana) == "That wasn't one of the choices. Nothing was changed."
    await forge(h, ana, f"cp:wrongtok:{lopez}")
    assert h.last_text(ana) == CHOICE_CLOSED
    calls = await forge(h, ana, "cp:Maria Lopez")  # malformed: answered, nothing changes
    assert [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"] == [
        CHOICE_CLOSED
    ]
    await h.send(bea, "/resources")  # Bea replays Ana's button: the pending action is Ana's
    await forge(h, bea, f"cp:{token}:{lopez}")
    assert h.last_text(bea) == CHOICE_CLOSED
    assert await _goals(h) == []
    # A newer question replaces the older one: the older buttons are stale.
    await h.send(ana, "goal for Maria: A1c under 8")
    await h.press(ana, "Maria Lopez", message_id=question.message_id)
    assert h.last_text(ana) == CHOICE_CLOSED
    # After the question's 15 minutes, its buttons are stale too.
    h.clock.advance(timedelta(minutes=16))
    await h.press(ana, "Maria Lopez")
    assert h.last_text(ana) == CHOICE_CLOSED
    assert await _goals(h) == []

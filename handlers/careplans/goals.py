"""Goals and the care plan: /plan with its goal and note buttons, a goal set or closed by a
message, interventions and progress notes typed after a button.

Must not import storage or another handlers topic.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ConversationHandler

from bot import vocab
from bot.app.context import CaseContext
from bot.parsing.careplans import GoalIntent
from bot.render import careplans as render
from bot.render.callbacks import CloseGoal, GoalAction, PlanNote
from bot.services import careplans as plans
from bot.services.ledger import MessageKey
from bot.services.patients import find_patients
from bot.vocab import GoalStatus, Refusal
from handlers.careplans.state import (
    GoalClosing,
    Step,
    TextFor,
    answer_press,
    ask_patient,
    say,
    state,
    today,
)

MAX_GOAL_ROWS = 40
"""Keyboard rows for goals under /plan (Telegram allows 100 buttons per keyboard)."""

CHANGE_LABELS = {
    vocab.GoalStatus.MET: render.MET,
    vocab.GoalStatus.NOT_MET: render.NOT_MET,
    vocab.GoalStatus.DISCONTINUED: render.DISCONTINUE,
}


# -- a goal set or closed by a message ------------------------------------------------------------


async def save_goal(
    update: Update,
    context: CaseContext,
    intent: GoalIntent,
    patient_id: int,
    source: MessageKey | None,
) -> None:
    """A new goal, or a goal that closed (asking which goal when several fit)."""
    services, nurse = context.services, context.me
    if intent.change is None:
        saved = await plans.add_goal(
            services.db, services.clock, nurse=nurse, source=source, patient_id=patient_id,
            text=intent.text, target_on=intent.target,
        )  # fmt: skip
        if isinstance(saved, Refusal):
            await say(update, context, render.refusal(saved))
            return
        await say(
            update,
            context,
            render.goal_saved(
                saved.patient_name,
                saved.goal.text,
                saved.goal.target_on,
                today(context),
                nurse.zone,
            ),  # fmt: skip
        )
        return
    result = await plans.close_goal(
        services.db, services.clock, nurse=nurse, source=source, patient_id=patient_id,
        change=intent.change, outcome=intent.outcome, hint=intent.text,
    )  # fmt: skip
    await _after_close(update, context, result, intent.change, intent.outcome)


async def _after_close(
    update: Update,
    context: CaseContext,
    result: plans.GoalSaved | plans.GoalChoice | Refusal,
    change: GoalStatus,
    outcome: str,
) -> None:
    if isinstance(result, plans.GoalChoice):
        state(context).question = GoalClosing(change, outcome, patient_id=result.patient_id)
        buttons = [
            [
                InlineKeyboardButton(
                    render.goal_button(g.text), callback_data=GoalAction("pick", g.id).pack()
                )
            ]
            for g in result.goals
        ]
        await say(
            update, context, render.which_goal(result.patient_name), InlineKeyboardMarkup(buttons)
        )
        return
    if isinstance(result, Refusal):
        await say(update, context, render.refusal(result))
        return
    goal = result.goal
    await say(
        update, context, render.goal_closed(result.patient_name, goal.text, goal.status, outcome)
    )


async def pick_goal(update: Update, context: CaseContext, press: GoalAction) -> None:
    """Close the goal the nurse tapped with the outcome her message gave."""
    await answer_press(update)
    mine = state(context)
    question = mine.question
    # A goal button of /plan ([Met] ...) pends a change too, but for a goal it already knows.
    if not isinstance(question, GoalClosing) or question.patient_id is None:
        await say(update, context, render.TIMED_OUT)
        return
    mine.question = None
    services = context.services
    result = await plans.close_goal(
        services.db, services.clock, nurse=context.me, source=None,
        patient_id=question.patient_id, change=question.change, outcome=question.outcome,
        goal_id=press.goal_id,
        command="button",
    )  # fmt: skip
    await _after_close(update, context, result, question.change, question.outcome)


# -- /plan and the goal buttons -----------------------------------------------------------------


async def plan_command(update: Update, context: CaseContext) -> None:
    """/plan <name>: the patient's care plan with [Met] [Not met] [Discontinue] per goal."""
    services, nurse = context.services, context.me
    name = " ".join(context.args or []).strip()
    if not name:
        await say(update, context, render.PLAN_USAGE)
        return
    lookup = await find_patients(services.db, services.clock, nurse=nurse, name=name)
    if lookup.patient is None or lookup.patient.id is None:
        choices = tuple(c for c in lookup.candidates if c.id is not None)
        if choices:
            await ask_patient(update, context, name, choices, None, None)
        else:
            await say(update, context, render.not_found_patient(name))
        return
    await show_plan(update, context, lookup.patient.id)


async def show_plan(update: Update, context: CaseContext, patient_id: int) -> None:
    """The patient's care plan with its goal and note buttons."""
    services, nurse = context.services, context.me
    view = await plans.plan(services.db, services.clock, nurse=nurse, patient_id=patient_id)
    if isinstance(view, Refusal):
        await say(update, context, render.refusal(view))
        return
    text = render.render_plan(
        name=view.patient_name,
        goals=[(g.text, g.target_on, g.status, g.outcome, g.interventions) for g in view.goals],
        notes=[(n.at, n.text) for n in view.notes],
        referrals=[(r.to_whom, r.sent_on, r.status) for r in view.referrals],
        given=[(g.at, g.text) for g in view.given],
        zone=nurse.zone,
        today=today(context),
    )
    rows: list[list[InlineKeyboardButton]] = []
    for i, goal in enumerate(view.goals, 1):
        if goal.status != "active" or len(rows) >= MAX_GOAL_ROWS:
            continue
        rows.append(
            [
                InlineKeyboardButton(
                    f"{i}. {label}", callback_data=CloseGoal(status, goal.id).pack()
                )
                for status, label in CHANGE_LABELS.items()
            ]
        )
        rows.append(
            [
                InlineKeyboardButton(
                    f"{i}. {render.ADD_INTERVENTION}",
                    callback_data=GoalAction("intervention", goal.id).pack(),
                )
            ]
        )
    rows.append(
        [InlineKeyboardButton(render.ADD_NOTE, callback_data=PlanNote(view.patient_id).pack())]
    )
    await say(update, context, text, InlineKeyboardMarkup(rows))


async def _ask_for_text(
    update: Update, context: CaseContext, *, row_id: int, prompt: str, step: Step
) -> int:
    """A button that asks for a typed answer: keep its id, ask, wait in `step`."""
    await answer_press(update)
    state(context).question = TextFor(step, row_id)
    await say(update, context, prompt)
    return step


async def intervention_button(update: Update, context: CaseContext, press: GoalAction) -> int:
    """[Add intervention] under a goal: ask what it is."""
    return await _ask_for_text(
        update, context, row_id=press.goal_id, prompt=render.ASK_INTERVENTION,
        step=Step.INTERVENTION,
    )  # fmt: skip


async def _typed_answer(update: Update, context: CaseContext, step: Step) -> tuple[int, str] | None:
    """The id the button of `step` asked about and the text typed for it; None, after saying
    the question timed out, when there is no such question or nothing was typed."""
    message = update.effective_message
    assert message is not None
    mine = state(context)
    question, mine.question = mine.question, None
    text = (message.text or "").strip()
    if not isinstance(question, TextFor) or question.step != step or not text:
        await say(update, context, render.TIMED_OUT)
        return None
    return question.row_id, text


async def _done(update: Update, context: CaseContext, reply: str | Refusal) -> int:
    """Say how a typed answer was saved (or why not) and end the question."""
    await say(update, context, render.refusal(reply) if isinstance(reply, Refusal) else reply)
    return ConversationHandler.END


async def intervention_text(update: Update, context: CaseContext) -> int:
    """The intervention typed: save it under the goal."""
    answer = await _typed_answer(update, context, Step.INTERVENTION)
    if answer is None:
        return ConversationHandler.END
    goal_id, text = answer
    services = context.services
    saved = await plans.add_intervention(
        services.db, services.clock, nurse=context.me, goal_id=goal_id, text=text
    )
    reply = (
        saved if isinstance(saved, Refusal) else render.intervention_saved(saved.patient_name, text)
    )
    return await _done(update, context, reply)


async def note_button(update: Update, context: CaseContext, press: PlanNote) -> int:
    """[Add progress note] under the plan: ask for it."""
    return await _ask_for_text(
        update, context, row_id=press.patient_id, prompt=render.ASK_NOTE, step=Step.NOTE
    )


async def note_text(update: Update, context: CaseContext) -> int:
    """The progress note typed: save it on the plan."""
    answer = await _typed_answer(update, context, Step.NOTE)
    if answer is None:
        return ConversationHandler.END
    patient_id, text = answer
    services = context.services
    saved = await plans.add_progress_note(
        services.db, services.clock, nurse=context.me, patient_id=patient_id, text=text
    )
    reply = saved if isinstance(saved, Refusal) else render.note_saved(saved.patient_name)
    return await _done(update, context, reply)


async def goal_button(update: Update, context: CaseContext, press: CloseGoal) -> int:
    """[Met] / [Not met] / [Discontinue] under a goal: ask for the outcome."""
    await answer_press(update)
    state(context).question = GoalClosing(press.status, goal_id=press.goal_id)
    await say(update, context, render.ask_outcome(CHANGE_LABELS[press.status]))
    return Step.OUTCOME


async def outcome_text(update: Update, context: CaseContext) -> int:
    """The outcome typed after a goal button (or /skip)."""
    message = update.effective_message
    assert message is not None
    mine = state(context)
    question = mine.question
    if not isinstance(question, GoalClosing) or question.goal_id is None:
        await say(update, context, render.TIMED_OUT)
        return ConversationHandler.END
    text = (message.text or "").strip()
    outcome = "" if text.lower() == render.SKIP else text
    mine.question = None
    services = context.services
    result = await plans.close_goal(
        services.db, services.clock, nurse=context.me, source=MessageKey(message.chat_id,
        message.message_id), patient_id=None, change=question.change, outcome=outcome,
        goal_id=question.goal_id, command="plan",
    )  # fmt: skip
    await _after_close(update, context, result, question.change, outcome)
    return ConversationHandler.END

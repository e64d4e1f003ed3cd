"""Care plans, referrals and community resources by chat: /plan, /referrals, /resources, the
goal and referral buttons, adding a resource, and the care-plan intents the free-text router
hands over (``handle_intent``).

One topic in four modules: goals (the plan, goals, interventions, notes), referrals,
resources, intents (the free-text entry and the patient choice), over state (the nurse's typed
question and pending choices). Thin: call bot.services.careplans / referrals / resources,
render with bot.render.careplans, reply. Button data is typed (bot.render.callbacks) and
carries row ids only. When a message names several patients, or several referrals fit, the
pending action stays in the nurse's state and the buttons carry a one-time token and an id: a
press of an older, expired or forged button changes nothing and says so.

Must not import storage or another handlers topic.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.app.context import CaseContext
from bot.render import careplans as render
from bot.render.callbacks import (
    AddResource,
    CloseGoal,
    GoalAction,
    MoveReferral,
    PatientChoice,
    PlanNote,
    ReferralChoice,
    ResourceKindChoice,
)
from handlers import inbox
from handlers.careplans import goals, referrals, resources
from handlers.careplans.intents import handle_intent, patient_button
from handlers.careplans.state import CONVERSATION_TIMEOUT, Step, say, state
from handlers.common import on_press, quiet_conversation

__all__ = ["conversation", "handle_intent", "register"]


async def cancel(update: Update, context: CaseContext) -> int:
    """/cancel inside a care-plan question."""
    state(context).question = None
    await say(update, context, render.CANCELLED)
    return ConversationHandler.END


async def timed_out(update: Update, context: CaseContext) -> None:
    """A question left unanswered for a while."""
    state(context).question = None


def conversation() -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
    skip = CommandHandler("skip", goals.outcome_text)
    return quiet_conversation(
        entry_points=[
            on_press(CloseGoal, goals.goal_button),
            on_press(AddResource, resources.add_resource_button),
            on_press(GoalAction, goals.intervention_button, action="intervention"),
            on_press(PlanNote, goals.note_button),
        ],
        states={
            Step.OUTCOME: [MessageHandler(text, inbox.unless_new(goals.outcome_text)), skip],
            Step.RESOURCE_NAME: [MessageHandler(text, inbox.unless_new(resources.resource_name))],
            Step.RESOURCE_KIND: [on_press(ResourceKindChoice, resources.resource_kind)],
            Step.RESOURCE_CONTACT: [
                MessageHandler(text, inbox.unless_new(resources.resource_contact)),
                CommandHandler("skip", resources.resource_contact),
            ],
            Step.RESOURCE_NOTES: [
                MessageHandler(text, inbox.unless_new(resources.resource_notes)),
                CommandHandler("skip", resources.resource_notes),
            ],
            Step.INTERVENTION: [MessageHandler(text, inbox.unless_new(goals.intervention_text))],
            Step.NOTE: [MessageHandler(text, inbox.unless_new(goals.note_text))],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        conversation_timeout=CONVERSATION_TIMEOUT,
        name="careplans",
    )


def register(app: Application, group: int = 0) -> None:  # type: ignore[type-arg]
    """/plan, /referrals, /resources, their buttons and the care-plan questions. Must come
    before handlers.records (its free-text catch-all would take the typed answers)."""
    app.add_handler(conversation(), group=group)
    inbox.add_route(app, inbox.Route.CARE_PLAN, _care_plan_route)
    app.add_handler(CommandHandler("plan", goals.plan_command), group=group)
    app.add_handler(CommandHandler("referrals", referrals.referrals_command), group=group)
    app.add_handler(CommandHandler("resources", resources.resources_command), group=group)
    for button in (
        on_press(GoalAction, goals.pick_goal, action="pick"),
        on_press(MoveReferral, referrals.referral_button),
        on_press(PatientChoice, patient_button, stale=render.CHOICE_CLOSED),
        on_press(ReferralChoice, referrals.referral_choice_button, stale=render.CHOICE_CLOSED),
    ):
        app.add_handler(button, group=group)


async def _care_plan_route(update: Update, context: CaseContext, inbound: inbox.Inbound) -> None:
    """The inbox's CARE_PLAN route: a goal, referral or resource message."""
    intent = inbound.reading.first
    assert isinstance(intent, inbox.CARE_PLAN_FACTS)
    await handle_intent(update, context, intent, inbound.key)

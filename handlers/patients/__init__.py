"""/patient, /newpatient and the buttons under a patient's card.

One ConversationHandler for what needs typed answers (which patient? who is new? the new
conditions or MRN); the buttons that carry their whole meaning (risk, close, transfer, open a
card, add an offered patient) are plain callbacks, so they keep working after a conversation
ended. Every button carries typed data from bot.render.callbacks with only opaque ids (patient,
nurse, a random offer token), and each press is checked by the service against the nurse
pressing it. One topic in three modules: lookup (finding and adding), edits (changing a
patient from her card), shared (steps, keyboards, the chat's typed state). Exposes
reply_patient_card, register_from_intent and offer_new_patient for the free-text router.

Must not import storage or another handlers topic.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.app.context import CaseContext
from bot.parsing import NewPatientIntent, QueryIntent
from bot.render import messages
from bot.render import patients as render
from bot.render.callbacks import (
    KeepPatient,
    PatientAction,
    PatientOffer,
    SetRisk,
    TransferTo,
    namespace_pattern,
)
from handlers import inbox
from handlers.common import on_press, quiet_conversation
from handlers.patients import edits, lookup
from handlers.patients.lookup import offer_new_patient, register_from_intent, reply_patient_card
from handlers.patients.shared import Step, say, take_editing

__all__ = [
    "conversation",
    "offer_new_patient",
    "register",
    "register_from_intent",
    "reply_patient_card",
]


async def cancel(update: Update, context: CaseContext) -> int:
    """Leave the patient conversation without changing anything."""
    take_editing(context)
    await say(update, context, messages.CANCELLED)
    return ConversationHandler.END


async def timed_out(update: Update, context: CaseContext) -> None:
    """Tell the nurse the question closed, and that nothing changed."""
    take_editing(context)
    if update.effective_chat is not None:
        await context.bot.send_message(
            update.effective_chat.id,
            render.QUESTION_CLOSED,
        )


def conversation() -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
    return quiet_conversation(
        entry_points=[
            CommandHandler("patient", lookup.patient_command, filters=filters.UpdateType.MESSAGE),
            CommandHandler(
                "newpatient", lookup.newpatient_command, filters=filters.UpdateType.MESSAGE
            ),
            on_press(PatientAction, edits.ask_conditions, stale=render.STALE, action="conditions"),
            on_press(PatientAction, edits.ask_mrn, stale=render.STALE, action="mrn"),
        ],
        states={
            Step.NAME: [MessageHandler(text, inbox.unless_new(lookup.patient_name))],
            Step.NEW: [MessageHandler(text, inbox.unless_new(lookup.newpatient_text))],
            Step.CONDITIONS: [MessageHandler(text, inbox.unless_new(edits.conditions_text))],
            Step.MRN: [MessageHandler(text, inbox.unless_new(edits.mrn_text))],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        conversation_timeout=15 * 60,
        name="patient",
        allow_reentry=True,
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(conversation())
    for button in (
        on_press(PatientAction, lookup.open_card, stale=render.STALE, action="card"),
        on_press(PatientAction, edits.choose_risk, stale=render.STALE, action="risk"),
        on_press(SetRisk, edits.set_risk, stale=render.STALE),
        on_press(PatientAction, edits.ask_close, stale=render.STALE, action="close"),
        on_press(PatientAction, edits.confirm_close, stale=render.STALE, action="close_ok"),
        on_press(PatientAction, edits.ask_transfer, stale=render.STALE, action="transfer"),
        on_press(TransferTo, edits.do_transfer, stale=render.STALE),
        on_press(
            PatientOffer, lookup.add_offered, stale=render.STALE, action=("add", "add_anyway")
        ),
        on_press(PatientOffer, lookup.drop_offer, stale=render.STALE, action="drop"),
        on_press(KeepPatient, edits.keep, stale=render.STALE),
    ):
        app.add_handler(button)
    # Any other patient button (an old layout, or the conversation's buttons after it ended).
    app.add_handler(CallbackQueryHandler(edits.stale, pattern=namespace_pattern(PatientAction)))
    inbox.add_route(app, inbox.Route.NEW_PATIENT, _new_patient_route)
    inbox.add_route(app, inbox.Route.LOOKUP, _lookup_route)


async def _new_patient_route(update: Update, context: CaseContext, inbound: inbox.Inbound) -> None:
    """The inbox's NEW_PATIENT route: "new patient ..." on its own."""
    intent = inbound.reading.first
    assert isinstance(intent, NewPatientIntent)
    await register_from_intent(update, context, intent)


async def _lookup_route(update: Update, context: CaseContext, inbound: inbox.Inbound) -> None:
    """The inbox's LOOKUP route: a name on no list; offered as a new patient (`unsaved`: the
    message was a record, which is not saved)."""
    fact = inbound.reading.first
    written = getattr(fact, "patient_text", None) or ""
    unsaved = not isinstance(fact, QueryIntent)
    await offer_new_patient(update, context, written, unsaved=unsaved)

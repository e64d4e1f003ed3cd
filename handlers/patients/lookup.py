"""Finding and adding patients: /patient (the card, the candidates, or an offer to add),
/newpatient, a new patient read from a message, and the buttons that open a card or add an
offered patient. Exposes reply_patient_card, register_from_intent and offer_new_patient for
the free-text router.

Must not import storage or another handlers topic.
"""

from __future__ import annotations

from typing import cast

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ConversationHandler

from bot.app.context import CaseContext
from bot.parsing import Caseload, NewPatientIntent, parse
from bot.render import messages
from bot.render import patients as render
from bot.render.callbacks import PatientAction, PatientOffer
from bot.services import patients as service
from bot.services.ledger import MessageKey
from bot.vocab import DateOrder, Refusal
from handlers.patients.shared import (
    Step,
    answered,
    candidate_keyboard,
    card_button,
    card_keyboard,
    now,
    query_of,
    say,
    stash,
    unstash,
)

# -- the API the free-text router calls -----------------------------------------------------


async def reply_patient_card(update: Update, context: CaseContext, patient_id: int) -> None:
    """Send her patient's card with its buttons (the read is audited)."""
    card = await service.patient_card(
        context.services.db, context.services.clock, nurse=context.me, patient_id=patient_id
    )
    if isinstance(card, Refusal):
        await say(update, context, render.REFUSALS[card])
        return
    await say(update, context, render.render_card(card), card_keyboard(card))


async def register_from_intent(
    update: Update, context: CaseContext, intent: NewPatientIntent
) -> None:
    """Save a new patient read from a message and reply with the card (or ask about a twin)."""
    await _add(update, context, intent, allow_duplicate=False, edit=None)


async def offer_new_patient(
    update: Update, context: CaseContext, name: str, *, unsaved: bool = False
) -> None:
    """Say she has no such patient and offer to add one under that name (`unsaved`: the
    message was a record for that patient, and was not saved)."""
    name = service.clean_name(name)
    if not name:
        await say(update, context, render.WHICH_PATIENT)
        return
    token = stash(context, NewPatientIntent(name=name, mrn=None, risk=None))
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    render.add_button_label(name), callback_data=PatientOffer("add", token).pack()
                )
            ],
            [InlineKeyboardButton("Cancel", callback_data=PatientOffer("drop", token).pack())],
        ]
    )
    await say(update, context, render.not_in_caseload(name, unsaved=unsaved), markup)


async def _add(
    update: Update,
    context: CaseContext,
    intent: NewPatientIntent,
    *,
    allow_duplicate: bool,
    edit: CallbackQuery | None,
) -> None:
    message = update.effective_message
    # The nurse's own message is the redelivery key; a button press has none of its own.
    source = (
        MessageKey(chat_id=message.chat_id, message_id=message.message_id)
        if edit is None and message is not None
        else None
    )
    result = await service.add_patient(
        context.services.db,
        context.services.clock,
        nurse=context.me,
        name=intent.name,
        mrn=intent.mrn,
        risk=intent.risk,
        conditions=intent.conditions,
        allow_duplicate=allow_duplicate,
        source=source,
    )
    if isinstance(result, service.AlreadyAdded):
        text = render.already_added(result.card)
        markup = card_keyboard(result.card)
    elif isinstance(result, service.Duplicate):
        token = stash(context, intent)
        rows = [
            [
                InlineKeyboardButton(
                    "Add anyway", callback_data=PatientOffer("add_anyway", token).pack()
                )
            ]
        ]
        rows.append(
            [
                card_button("Open existing", ref.id)
                for ref in result.existing[:1]
                if ref.id is not None
            ]
        )
        rows.append(
            [InlineKeyboardButton("Cancel", callback_data=PatientOffer("drop", token).pack())]
        )
        text = render.duplicate_question(intent.name, len(result.existing))
        markup = InlineKeyboardMarkup(rows)
    else:
        text = render.saved_new_patient(result.card, risk_defaulted=result.risk_defaulted)
        markup = card_keyboard(result.card, with_risk_choices=result.risk_defaulted)
    if edit is not None:
        await edit.edit_message_text(text, reply_markup=markup)
    else:
        await say(update, context, text, markup)


# -- /patient and /newpatient ---------------------------------------------------------------


async def patient_command(update: Update, context: CaseContext) -> int:
    """/patient <name>: show the card, the candidates, or offer to add; no name: ask."""
    text = " ".join(context.args or [])
    if not text.strip():
        await say(update, context, render.WHICH_PATIENT)
        return Step.NAME
    await _show_patient(update, context, text)
    return ConversationHandler.END


async def patient_name(update: Update, context: CaseContext) -> int:
    """The name typed after a bare /patient."""
    message = update.effective_message
    assert message is not None
    await _show_patient(update, context, message.text or "")
    return ConversationHandler.END


async def _show_patient(update: Update, context: CaseContext, text: str) -> None:
    lookup = await service.find_patients(
        context.services.db, context.services.clock, nurse=context.me, name=text
    )
    if lookup.patient is not None and lookup.patient.id is not None:
        await reply_patient_card(update, context, lookup.patient.id)
    elif lookup.candidates:
        await say(
            update, context, render.which_of(lookup.text), candidate_keyboard(lookup.candidates)
        )
    else:
        await offer_new_patient(update, context, lookup.text)


async def newpatient_command(update: Update, context: CaseContext) -> int:
    """/newpatient <name, MRN, risk, conditions>: add the patient; no details: ask."""
    text = " ".join(context.args or [])
    if not text.strip():
        await say(update, context, render.WHO_IS_NEW)
        return Step.NEW
    return await _register_text(update, context, text)


async def newpatient_text(update: Update, context: CaseContext) -> int:
    """The details typed after a bare /newpatient."""
    message = update.effective_message
    assert message is not None
    return await _register_text(update, context, message.text or "")


async def _register_text(update: Update, context: CaseContext, text: str) -> int:
    me = context.me
    intent = parse(
        f"new patient {text}",
        now=now(context),
        zone=me.zone,
        caseload=Caseload(()),
        date_order=cast(DateOrder, me.date_order),
    ).first
    if not isinstance(intent, NewPatientIntent):
        await say(update, context, render.NO_NAME)
        return Step.NEW
    await register_from_intent(update, context, intent)
    return ConversationHandler.END


# -- buttons: open a card, add or drop an offered patient -------------------------------------


async def open_card(update: Update, context: CaseContext, press: PatientAction) -> None:
    """Open a patient's card from a candidate or notice button."""
    found = await service.patient_card(
        context.services.db, context.services.clock, nurse=context.me, patient_id=press.patient_id
    )
    card = await answered(update, found)
    if card is not None:
        await say(update, context, render.render_card(card), card_keyboard(card))


async def add_offered(update: Update, context: CaseContext, press: PatientOffer) -> None:
    """Add the patient offered after a name matched nobody (or after a twin warning)."""
    query = query_of(update)
    intent = unstash(context, press.token)
    if intent is None:
        await query.answer(render.OFFER_EXPIRED, show_alert=True)
        return
    await query.answer()
    allow_duplicate = press.action == "add_anyway"
    await _add(update, context, intent, allow_duplicate=allow_duplicate, edit=query)


async def drop_offer(update: Update, context: CaseContext, press: PatientOffer) -> None:
    """Forget an offered patient."""
    query = query_of(update)
    unstash(context, press.token)
    await query.answer()
    await query.edit_message_text(messages.CANCELLED)

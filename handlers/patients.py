"""/patient, /newpatient and the buttons under a patient's card.

One ConversationHandler for what needs typed answers (which patient? who is new? the new
conditions or MRN); the buttons that carry their whole meaning (risk, close, transfer, open a
card, add an offered patient) are plain callbacks, so they keep working after a conversation
ended. Every button carries typed data from bot.render.callbacks with only opaque ids (patient,
nurse, a random offer token), and each press is checked by the service against the nurse
pressing it. Exposes reply_patient_card,
register_from_intent and offer_new_patient for the free-text router.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from enum import IntEnum
from typing import Any, cast

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
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
from bot.parsing import Caseload, NewPatientIntent, PatientRef, QueryIntent, parse
from bot.parsing.dates import DateOrder
from bot.render import labels, messages
from bot.render import patients as render
from bot.render.callbacks import (
    KeepPatient,
    PatientAction,
    PatientOffer,
    SetRisk,
    TransferTo,
    namespace_pattern,
)
from bot.render.patients import PatientCard
from bot.render.text import esc, fit
from bot.services import patients as service
from bot.services.ledger import MessageKey
from bot.vocab import Refusal, Risk
from handlers import inbox
from handlers.common import on_press, quiet_conversation

log = logging.getLogger(__name__)

OFFERS_KEY = "patient_offers"
EDIT_KEY = "patient_edit"
MAX_OFFERS = 20
MAX_CANDIDATES = 8
RISK_CHOICES = tuple((labels.RISK[risk], risk) for risk in (Risk.HIGH, Risk.MEDIUM, Risk.LOW))

REFUSALS = {
    Refusal.NOT_FOUND: render.STALE,
    Refusal.NOT_YOURS: render.NOT_YOURS,
    Refusal.CLOSED: "That case is closed, so nothing was changed.",
    Refusal.NOT_TEAMMATE: (
        "That nurse isn't an active member of your team any more. Nothing was changed."
    ),
}


class Step(IntEnum):
    NAME = 1
    NEW = 2
    CONDITIONS = 3
    MRN = 4


# -- keyboards ------------------------------------------------------------------------------


def card_keyboard(card: PatientCard, *, with_risk_choices: bool = False) -> InlineKeyboardMarkup:
    if not card.active:
        return InlineKeyboardMarkup([])
    pid = card.id
    rows = []
    if with_risk_choices:
        rows.append(_risk_buttons(pid, suffix=" risk"))
    rows.append(
        [
            InlineKeyboardButton("Risk", callback_data=PatientAction("risk", pid).pack()),
            InlineKeyboardButton(
                "Conditions", callback_data=PatientAction("conditions", pid).pack()
            ),
            InlineKeyboardButton("MRN", callback_data=PatientAction("mrn", pid).pack()),
        ]
    )
    rows.append(
        [
            InlineKeyboardButton("Close case", callback_data=PatientAction("close", pid).pack()),
            InlineKeyboardButton("Transfer", callback_data=PatientAction("transfer", pid).pack()),
        ]
    )
    return InlineKeyboardMarkup(rows)


def _risk_buttons(patient_id: int, *, suffix: str = "") -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(label + suffix, callback_data=SetRisk(patient_id, risk).pack())
        for label, risk in RISK_CHOICES
    ]


def _card_button(label: str, patient_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=PatientAction("card", patient_id).pack())


def _keep_button(label: str = "Cancel") -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=KeepPatient().pack())


def _candidate_keyboard(refs: tuple[PatientRef, ...]) -> InlineKeyboardMarkup:
    seen: dict[str, int] = {}
    rows = []
    for ref in refs[:MAX_CANDIDATES]:
        seen[ref.name] = seen.get(ref.name, 0) + 1
        label = ref.name if seen[ref.name] == 1 else f"{ref.name} ({seen[ref.name]})"
        if ref.id is not None:
            rows.append([_card_button(label, ref.id)])
    rows.append([_keep_button()])
    return InlineKeyboardMarkup(rows)


# -- helpers --------------------------------------------------------------------------------


def _now(context: CaseContext) -> datetime:
    return context.services.clock.now()


async def _say(
    update: Update, context: CaseContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


def _query(update: Update) -> CallbackQuery:
    query = update.callback_query
    assert query is not None
    return query


def _stash(context: CaseContext, intent: NewPatientIntent) -> str:
    """Keep a pending new patient under a short random token (never in callback_data)."""
    chat_data = cast(dict[str, Any], context.chat_data)
    offers: dict[str, NewPatientIntent] = chat_data.setdefault(OFFERS_KEY, {})
    while len(offers) >= MAX_OFFERS:
        offers.pop(next(iter(offers)))
    token = secrets.token_urlsafe(6)
    offers[token] = intent
    return token


def _unstash(context: CaseContext, token: str) -> NewPatientIntent | None:
    chat_data = cast(dict[str, Any], context.chat_data)
    offers: dict[str, NewPatientIntent] = chat_data.get(OFFERS_KEY, {})
    return offers.pop(token, None)


async def _refuse_press(query: CallbackQuery, refusal: Refusal) -> None:
    await query.answer(REFUSALS[refusal], show_alert=True)


# -- the API the free-text router calls -----------------------------------------------------


async def reply_patient_card(update: Update, context: CaseContext, patient_id: int) -> None:
    """Send her patient's card with its buttons (the read is audited)."""
    card = await service.patient_card(
        context.services.db, context.me, patient_id, now=_now(context)
    )
    if isinstance(card, Refusal):
        await _say(update, context, REFUSALS[card])
        return
    await _say(update, context, render.render_card(card), card_keyboard(card))


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
        await _say(update, context, render.WHICH_PATIENT)
        return
    token = _stash(context, NewPatientIntent(name=name, mrn=None, risk=None))
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
    await _say(update, context, render.not_in_caseload(name, unsaved=unsaved), markup)


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
        context.me,
        now=_now(context),
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
        token = _stash(context, intent)
        rows = [
            [
                InlineKeyboardButton(
                    "Add anyway", callback_data=PatientOffer("add_anyway", token).pack()
                )
            ]
        ]
        rows.append(
            [
                _card_button("Open existing", ref.id)
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
        await _say(update, context, text, markup)


# -- commands and the conversation ----------------------------------------------------------


async def patient_command(update: Update, context: CaseContext) -> int:
    """/patient <name>: show the card, the candidates, or offer to add; no name: ask."""
    text = " ".join(context.args or [])
    if not text.strip():
        await _say(update, context, render.WHICH_PATIENT)
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
    lookup = await service.find_patients(context.services.db, context.me, text, now=_now(context))
    if lookup.patient is not None and lookup.patient.id is not None:
        await reply_patient_card(update, context, lookup.patient.id)
    elif lookup.candidates:
        await _say(
            update, context, render.which_of(lookup.text), _candidate_keyboard(lookup.candidates)
        )
    else:
        await offer_new_patient(update, context, lookup.text)


async def newpatient_command(update: Update, context: CaseContext) -> int:
    """/newpatient <name, MRN, risk, conditions>: add the patient; no details: ask."""
    text = " ".join(context.args or [])
    if not text.strip():
        await _say(update, context, render.WHO_IS_NEW)
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
        now=_now(context),
        zone=me.zone,
        caseload=Caseload(()),
        date_order=cast(DateOrder, me.date_order),
    ).first
    if not isinstance(intent, NewPatientIntent):
        await _say(
            update,
            context,
            "I couldn't find a name in that. " + render.WHO_IS_NEW,
        )
        return Step.NEW
    await register_from_intent(update, context, intent)
    return ConversationHandler.END


async def ask_conditions(update: Update, context: CaseContext, press: PatientAction) -> int:
    """Ask for the new list of conditions of the patient on the card."""
    return await _ask_field(update, context, press.patient_id, Step.CONDITIONS)


async def ask_mrn(update: Update, context: CaseContext, press: PatientAction) -> int:
    """Ask for the new MRN of the patient on the card."""
    return await _ask_field(update, context, press.patient_id, Step.MRN)


async def _ask_field(update: Update, context: CaseContext, pid: int, step: Step) -> int:
    query = _query(update)
    command = "conditions" if step is Step.CONDITIONS else "mrn"
    brief = await service.patient_brief(
        context.services.db, context.me, pid, now=_now(context), command=command
    )
    if isinstance(brief, Refusal):
        await _refuse_press(query, brief)
        return ConversationHandler.END
    await query.answer()
    cast(dict[str, Any], context.chat_data)[EDIT_KEY] = pid
    if step is Step.CONDITIONS:
        text = render.ask_conditions(brief.name, brief.conditions)
    else:
        text = render.ask_mrn(brief.name, brief.mrn)
    await _say(update, context, text)
    return step


def _editing(context: CaseContext) -> int | None:
    pid = cast(dict[str, Any], context.chat_data).pop(EDIT_KEY, None)
    return pid if isinstance(pid, int) else None


async def conditions_text(update: Update, context: CaseContext) -> int:
    """Save the conditions she typed."""
    message = update.effective_message
    assert message is not None
    pid = _editing(context)
    if pid is None:
        await _say(update, context, render.STALE)
        return ConversationHandler.END
    conditions = service.parse_conditions(message.text or "")
    result = await service.edit_conditions(
        context.services.db, context.me, pid, conditions, now=_now(context)
    )
    await _reply_changed(update, context, "Conditions", result)
    return ConversationHandler.END


async def mrn_text(update: Update, context: CaseContext) -> int:
    """Save the MRN she typed, or ask again kindly."""
    message = update.effective_message
    assert message is not None
    try:
        mrn = service.parse_mrn(message.text or "")
    except service.InvalidMrn:
        await _say(
            update,
            context,
            "That doesn't look like an MRN (letters, digits and - . / only, up to 40). "
            "Type it again, <i>none</i> to clear it, or /cancel.",
        )
        return Step.MRN
    pid = _editing(context)
    if pid is None:
        await _say(update, context, render.STALE)
        return ConversationHandler.END
    result = await service.edit_mrn(context.services.db, context.me, pid, mrn, now=_now(context))
    await _reply_changed(update, context, "MRN", result)
    return ConversationHandler.END


async def _reply_changed(
    update: Update, context: CaseContext, what: str, result: service.Changed | Refusal
) -> None:
    if isinstance(result, Refusal):
        await _say(update, context, REFUSALS[result])
        return
    head = render.changed(what, result.card.name, result.before, result.after)
    text = fit(f"{head}\n\n{render.render_card(result.card)}")
    await _say(update, context, text, card_keyboard(result.card))


async def cancel(update: Update, context: CaseContext) -> int:
    """Leave the patient conversation without changing anything."""
    _editing(context)
    await _say(update, context, messages.CANCELLED)
    return ConversationHandler.END


async def timed_out(update: Update, context: CaseContext) -> None:
    """Tell the nurse the question closed, and that nothing changed."""
    _editing(context)
    if update.effective_chat is not None:
        await context.bot.send_message(
            update.effective_chat.id,
            "I stopped waiting for an answer; nothing was changed.",
        )


# -- plain buttons --------------------------------------------------------------------------


async def open_card(update: Update, context: CaseContext, press: PatientAction) -> None:
    """Open a patient's card from a candidate or notice button."""
    query = _query(update)
    card = await service.patient_card(
        context.services.db, context.me, press.patient_id, now=_now(context)
    )
    if isinstance(card, Refusal):
        await _refuse_press(query, card)
        return
    await query.answer()
    await _say(update, context, render.render_card(card), card_keyboard(card))


async def choose_risk(update: Update, context: CaseContext, press: PatientAction) -> None:
    """Offer the three risk levels for the patient on the card."""
    query = _query(update)
    brief = await service.patient_brief(
        context.services.db, context.me, press.patient_id, now=_now(context), command="risk"
    )
    if isinstance(brief, Refusal):
        await _refuse_press(query, brief)
        return
    await query.answer()
    await _say(
        update,
        context,
        render.ask_risk(brief.name, brief.risk),
        InlineKeyboardMarkup([_risk_buttons(brief.id), [_keep_button()]]),
    )


async def set_risk(update: Update, context: CaseContext, press: SetRisk) -> None:
    """Save the risk level pressed."""
    query = _query(update)
    result = await service.edit_risk(
        context.services.db, context.me, press.patient_id, press.risk, now=_now(context)
    )
    if isinstance(result, Refusal):
        await _refuse_press(query, result)
        return
    await query.answer("Saved")
    head = render.changed("Risk", result.card.name, result.before, result.after)
    await query.edit_message_text(
        fit(f"{head}\n\n{render.render_card(result.card)}"),
        reply_markup=card_keyboard(result.card),
    )


async def ask_close(update: Update, context: CaseContext, press: PatientAction) -> None:
    """Ask her to confirm closing the case."""
    query = _query(update)
    brief = await service.patient_brief(
        context.services.db, context.me, press.patient_id, now=_now(context), command="close"
    )
    if isinstance(brief, Refusal):
        await _refuse_press(query, brief)
        return
    await query.answer()
    yes = PatientAction("close_ok", brief.id).pack()
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Yes, close the case", callback_data=yes)],
            [_keep_button("Keep it open")],
        ]
    )
    await _say(update, context, render.ask_close(brief.name, brief.open_tasks), markup)


async def confirm_close(update: Update, context: CaseContext, press: PatientAction) -> None:
    """Close the case she confirmed."""
    query = _query(update)
    result = await service.close_case(
        context.services.db, context.me, press.patient_id, now=_now(context)
    )
    if isinstance(result, Refusal):
        await _refuse_press(query, result)
        return
    await query.answer("Saved")
    await query.edit_message_text(render.closed(result.name, result.cancelled_tasks))


async def ask_transfer(update: Update, context: CaseContext, press: PatientAction) -> None:
    """List the other active nurses of her team as buttons."""
    query = _query(update)
    options = await service.transfer_options(
        context.services.db, context.me, press.patient_id, now=_now(context)
    )
    if isinstance(options, Refusal):
        await _refuse_press(query, options)
        return
    await query.answer()
    brief, mates = options
    if not mates:
        await _say(update, context, render.no_teammates())
        return
    rows = [
        [InlineKeyboardButton(mate.name, callback_data=TransferTo(brief.id, mate.id).pack())]
        for mate in mates[:20]
    ]
    rows.append([_keep_button()])
    await _say(update, context, render.ask_transfer(brief.name), InlineKeyboardMarkup(rows))


async def do_transfer(update: Update, context: CaseContext, press: TransferTo) -> None:
    """Transfer the patient to the nurse pressed, and tell both nurses."""
    query = _query(update)
    result = await service.transfer_patient(
        context.services.db, context.me, press.patient_id, press.nurse_id, now=_now(context)
    )
    if isinstance(result, Refusal):
        await _refuse_press(query, result)
        return
    await query.answer("Saved")
    text = render.transferred_out(result.name, result.to_name, result.tasks_moved)
    if not await _tell_receiver(context, result):
        text += f"\nI couldn't message {esc(result.to_name)}: please tell her."
    await query.edit_message_text(text)


async def _tell_receiver(context: CaseContext, moved: service.Transferred) -> bool:
    if moved.to_chat_id is None:
        return False
    label = render.pushed_name(moved.name, moved.initials, moved.code, moved.to_privacy_mode)
    markup = InlineKeyboardMarkup([[_card_button("Open card", moved.patient_id)]])
    try:
        await context.bot.send_message(
            moved.to_chat_id,
            render.transferred_in(label, moved.from_name, moved.tasks_moved),
            reply_markup=markup,
        )
    except TelegramError as exc:
        log.warning("transfer notice not delivered: %s", type(exc).__name__)
        return False
    return True


async def add_offered(update: Update, context: CaseContext, press: PatientOffer) -> None:
    """Add the patient offered after a name matched nobody (or after a twin warning)."""
    query = _query(update)
    intent = _unstash(context, press.token)
    if intent is None:
        await query.answer(render.OFFER_EXPIRED, show_alert=True)
        return
    await query.answer()
    allow_duplicate = press.action == "add_anyway"
    await _add(update, context, intent, allow_duplicate=allow_duplicate, edit=query)


async def drop_offer(update: Update, context: CaseContext, press: PatientOffer) -> None:
    """Forget an offered patient."""
    query = _query(update)
    _unstash(context, press.token)
    await query.answer()
    await query.edit_message_text(messages.CANCELLED)


async def keep(update: Update, context: CaseContext, press: KeepPatient) -> None:
    """Dismiss a question without changing anything."""
    query = _query(update)
    await query.answer()
    await query.edit_message_text(messages.CANCELLED)


async def stale(update: Update, context: CaseContext) -> None:
    """Any other patient button (an old layout): answer kindly."""
    await _query(update).answer(render.STALE, show_alert=True)


# -- registration ---------------------------------------------------------------------------


def conversation() -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
    return quiet_conversation(
        entry_points=[
            CommandHandler("patient", patient_command, filters=filters.UpdateType.MESSAGE),
            CommandHandler("newpatient", newpatient_command, filters=filters.UpdateType.MESSAGE),
            on_press(PatientAction, ask_conditions, stale=render.STALE, action="conditions"),
            on_press(PatientAction, ask_mrn, stale=render.STALE, action="mrn"),
        ],
        states={
            Step.NAME: [MessageHandler(text, inbox.unless_new(patient_name))],
            Step.NEW: [MessageHandler(text, inbox.unless_new(newpatient_text))],
            Step.CONDITIONS: [MessageHandler(text, inbox.unless_new(conditions_text))],
            Step.MRN: [MessageHandler(text, inbox.unless_new(mrn_text))],
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
        on_press(PatientAction, open_card, stale=render.STALE, action="card"),
        on_press(PatientAction, choose_risk, stale=render.STALE, action="risk"),
        on_press(SetRisk, set_risk, stale=render.STALE),
        on_press(PatientAction, ask_close, stale=render.STALE, action="close"),
        on_press(PatientAction, confirm_close, stale=render.STALE, action="close_ok"),
        on_press(PatientAction, ask_transfer, stale=render.STALE, action="transfer"),
        on_press(TransferTo, do_transfer, stale=render.STALE),
        on_press(PatientOffer, add_offered, stale=render.STALE, action=("add", "add_anyway")),
        on_press(PatientOffer, drop_offer, stale=render.STALE, action="drop"),
        on_press(KeepPatient, keep, stale=render.STALE),
    ):
        app.add_handler(button)
    # Any other patient button (an old layout, or the conversation's buttons after it ended).
    app.add_handler(CallbackQueryHandler(stale, pattern=namespace_pattern(PatientAction)))
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

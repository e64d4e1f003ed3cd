"""Changing a patient from her card: risk, conditions and MRN, closing the case, transferring
it to a teammate (and telling her), and dismissing a question.

Must not import storage or another handlers topic.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import ConversationHandler

from bot.app.context import CaseContext
from bot.render import messages
from bot.render import patients as render
from bot.render.callbacks import KeepPatient, PatientAction, SetRisk, TransferTo
from bot.render.text import esc, fit
from bot.services import patients as service
from bot.vocab import Refusal
from handlers.patients.shared import (
    Step,
    answered,
    card_button,
    card_keyboard,
    chat_state,
    keep_button,
    query_of,
    risk_buttons,
    say,
    take_editing,
)

log = logging.getLogger(__name__)


async def _brief(context: CaseContext, patient_id: int, command: str) -> service.Brief | Refusal:
    return await service.patient_brief(
        context.services.db,
        context.services.clock,
        nurse=context.me,
        patient_id=patient_id,
        command=command,
    )


# -- conditions and MRN: typed answers ------------------------------------------------------


async def ask_conditions(update: Update, context: CaseContext, press: PatientAction) -> int:
    """Ask for the new list of conditions of the patient on the card."""
    return await _ask_field(update, context, press.patient_id, Step.CONDITIONS)


async def ask_mrn(update: Update, context: CaseContext, press: PatientAction) -> int:
    """Ask for the new MRN of the patient on the card."""
    return await _ask_field(update, context, press.patient_id, Step.MRN)


async def _ask_field(update: Update, context: CaseContext, pid: int, step: Step) -> int:
    command = "conditions" if step is Step.CONDITIONS else "mrn"
    brief = await answered(update, await _brief(context, pid, command))
    if brief is None:
        return ConversationHandler.END
    chat_state(context).editing = pid
    if step is Step.CONDITIONS:
        text = render.ask_conditions(brief.name, brief.conditions)
    else:
        text = render.ask_mrn(brief.name, brief.mrn)
    await say(update, context, text)
    return step


async def conditions_text(update: Update, context: CaseContext) -> int:
    """Save the conditions she typed."""
    message = update.effective_message
    assert message is not None
    pid = take_editing(context)
    if pid is None:
        await say(update, context, render.STALE)
        return ConversationHandler.END
    conditions = service.parse_conditions(message.text or "")
    result = await service.edit_conditions(
        context.services.db,
        context.services.clock,
        nurse=context.me,
        patient_id=pid,
        conditions=conditions,
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
        await say(update, context, render.BAD_MRN)
        return Step.MRN
    pid = take_editing(context)
    if pid is None:
        await say(update, context, render.STALE)
        return ConversationHandler.END
    result = await service.edit_mrn(
        context.services.db, context.services.clock, nurse=context.me, patient_id=pid, mrn=mrn
    )
    await _reply_changed(update, context, "MRN", result)
    return ConversationHandler.END


async def _reply_changed(
    update: Update, context: CaseContext, what: str, result: service.Changed | Refusal
) -> None:
    if isinstance(result, Refusal):
        await say(update, context, render.REFUSALS[result])
        return
    await say(update, context, _changed_text(what, result), card_keyboard(result.card))


def _changed_text(what: str, result: service.Changed) -> str:
    head = render.changed(what, result.card.name, result.before, result.after)
    return fit(f"{head}\n\n{render.render_card(result.card)}")


# -- risk -----------------------------------------------------------------------------------


async def choose_risk(update: Update, context: CaseContext, press: PatientAction) -> None:
    """Offer the three risk levels for the patient on the card."""
    brief = await answered(update, await _brief(context, press.patient_id, "risk"))
    if brief is None:
        return
    await say(
        update,
        context,
        render.ask_risk(brief.name, brief.risk),
        InlineKeyboardMarkup([risk_buttons(brief.id), [keep_button()]]),
    )


async def set_risk(update: Update, context: CaseContext, press: SetRisk) -> None:
    """Save the risk level pressed."""
    result = await service.edit_risk(
        context.services.db,
        context.services.clock,
        nurse=context.me,
        patient_id=press.patient_id,
        risk=press.risk,
    )
    changed = await answered(update, result, note="Saved")
    if changed is None:
        return
    await query_of(update).edit_message_text(
        _changed_text("Risk", changed), reply_markup=card_keyboard(changed.card)
    )


# -- closing and transferring the case --------------------------------------------------------


async def ask_close(update: Update, context: CaseContext, press: PatientAction) -> None:
    """Ask her to confirm closing the case."""
    brief = await answered(update, await _brief(context, press.patient_id, "close"))
    if brief is None:
        return
    yes = PatientAction("close_ok", brief.id).pack()
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Yes, close the case", callback_data=yes)],
            [keep_button("Keep it open")],
        ]
    )
    await say(update, context, render.ask_close(brief.name, brief.open_tasks), markup)


async def confirm_close(update: Update, context: CaseContext, press: PatientAction) -> None:
    """Close the case she confirmed."""
    result = await service.close_case(
        context.services.db, context.services.clock, nurse=context.me, patient_id=press.patient_id
    )
    closed = await answered(update, result, note="Saved")
    if closed is not None:
        await query_of(update).edit_message_text(render.closed(closed.name, closed.cancelled_tasks))


async def ask_transfer(update: Update, context: CaseContext, press: PatientAction) -> None:
    """List the other active nurses of her team as buttons."""
    options = await service.transfer_options(
        context.services.db, context.services.clock, nurse=context.me, patient_id=press.patient_id
    )
    found = await answered(update, options)
    if found is None:
        return
    brief, mates = found
    if not mates:
        await say(update, context, render.no_teammates())
        return
    rows = [
        [InlineKeyboardButton(mate.name, callback_data=TransferTo(brief.id, mate.id).pack())]
        for mate in mates[:20]
    ]
    rows.append([keep_button()])
    await say(update, context, render.ask_transfer(brief.name), InlineKeyboardMarkup(rows))


async def do_transfer(update: Update, context: CaseContext, press: TransferTo) -> None:
    """Transfer the patient to the nurse pressed, and tell both nurses."""
    result = await service.transfer_patient(
        context.services.db,
        context.services.clock,
        nurse=context.me,
        patient_id=press.patient_id,
        to_nurse_id=press.nurse_id,
    )
    moved = await answered(update, result, note="Saved")
    if moved is None:
        return
    text = render.transferred_out(moved.name, moved.to_name, moved.tasks_moved)
    if not await _tell_receiver(context, moved):
        text += f"\nI couldn't message {esc(moved.to_name)}: please tell her."
    await query_of(update).edit_message_text(text)


async def _tell_receiver(context: CaseContext, moved: service.Transferred) -> bool:
    if moved.to_chat_id is None:
        return False
    label = render.pushed_name(moved.name, moved.initials, moved.code, moved.to_privacy_mode)
    markup = InlineKeyboardMarkup([[card_button("Open card", moved.patient_id)]])
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


# -- dismissing -----------------------------------------------------------------------------


async def keep(update: Update, context: CaseContext, press: KeepPatient) -> None:
    """Dismiss a question without changing anything."""
    query = query_of(update)
    await query.answer()
    await query.edit_message_text(messages.CANCELLED)


async def stale(update: Update, context: CaseContext) -> None:
    """Any other patient button (an old layout): answer kindly."""
    await query_of(update).answer(render.STALE, show_alert=True)

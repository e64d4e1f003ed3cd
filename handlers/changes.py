"""Changes by text and by button: "actually make that thursday", "change Tom's appt to 10a",
"cancel Ana's fri appt", "scratch that"; [Change time] and [Cancel appt] under a saved
appointment.

The inbox's CHANGE route: a correction amends her latest matching record
(bot.services.amend), a cancellation or reschedule picks the scheduled appointment that fits
(bot.services.appointments; several fit: she taps which), "undo" takes her latest message
back (bot.services.undo). Nothing is ever saved twice: each change is keyed on her message.
[Change time] asks for the new day or time; the question waits in the database (the inbox's
ANSWER route takes her reply), unless the reply reads as a new message: then the question is
dropped, saying so, and the message is handled as new.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.app.context import CaseContext
from bot.parsing import (
    CancelIntent,
    CorrectionIntent,
    RescheduleIntent,
    UndoIntent,
    When,
)
from bot.render import inbox as render
from bot.render import records as records_render
from bot.render.callbacks import AppointmentAction, AppointmentPick, namespace_pattern
from bot.services import appointments, pending
from bot.services import undo as undo_service
from bot.services.amend import amend_latest
from bot.services.appointments import AppointmentChanged, AppointmentChoice
from bot.services.ledger import MessageKey
from bot.vocab import Refusal
from handlers import inbox
from handlers.common import caseload_of, on_press

CHOICE = "appointment_choice"
NEW_TIME = "new_time"


async def _say(update: Update, context: CaseContext, text: str, markup: Any = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


# -- the CHANGE route ------------------------------------------------------------------------------


async def change_route(update: Update, context: CaseContext, inbound: inbox.Inbound) -> None:
    """A correction, cancellation, reschedule or undo written as a message."""
    fact = inbound.reading.first
    services = context.services
    db, config, clock, nurse = services.db, services.config, services.clock, context.me
    if isinstance(fact, UndoIntent):
        undone = await undo_service.undo_latest(db, config, clock, nurse=nurse, key=inbound.key)
        if undone == Refusal.NOT_FOUND:
            await _say(update, context, render.NOTHING_TO_UNDO)
        elif isinstance(undone, Refusal):
            await _say(update, context, records_render.refusal(undone))
        else:
            await _say(update, context, render.message_undone(undone))
        return
    if isinstance(fact, CorrectionIntent):
        amended = await amend_latest(
            db, config, clock, nurse=nurse, key=inbound.key, correction=fact
        )
        if isinstance(amended, Refusal):
            await _say(update, context, _refusal(amended))
        else:
            await _say(update, context, render.amended(amended, nurse.zone, clock.now()))
        return
    assert isinstance(fact, CancelIntent | RescheduleIntent)
    if fact.patient is None or fact.patient.id is None:
        await _say(update, context, render.NO_PATIENT_FOR_CHANGE)
        return
    change = _change_of(fact)
    await _apply(update, context, inbound.key, fact.patient.id, change, None)


def _refusal(reason: Refusal) -> str:
    if reason == Refusal.NOTHING_TO_CHANGE:
        return "Your latest record has nothing that change fits. Nothing was changed."
    if reason == Refusal.NOT_FOUND:
        return "I found no recent record of yours to change. Nothing was changed."
    return records_render.refusal(reason)


def _change_of(fact: CancelIntent | RescheduleIntent) -> dict[str, Any]:
    """The change as ids and ISO values (kept while she picks the appointment)."""
    change: dict[str, Any] = {"action": "cancel" if isinstance(fact, CancelIntent) else "move"}
    if isinstance(fact, CancelIntent) and fact.on is not None:
        change["on"] = [fact.on.at.isoformat(), fact.on.has_time]
    if isinstance(fact, RescheduleIntent):
        if fact.new is not None:
            change["new"] = [fact.new.at.isoformat(), fact.new.has_time]
        if fact.new_time is not None:
            change["new_time"] = list(fact.new_time)
    if fact.what:
        change["what"] = fact.what[:80]
    return change


def _when(value: Any) -> When | None:
    if not value:
        return None
    return When(datetime.fromisoformat(value[0]), has_time=bool(value[1]))


async def _apply(
    update: Update,
    context: CaseContext,
    key: MessageKey | None,
    patient_id: int,
    change: dict[str, Any],
    appointment_id: int | None,
) -> None:
    services = context.services
    db, config, clock, nurse = services.db, services.config, services.clock, context.me
    result: AppointmentChanged | AppointmentChoice | Refusal
    new_time = change.get("new_time")
    if change["action"] == "cancel":
        result = await appointments.cancel_appointment(
            db, config, clock, nurse=nurse, key=key, patient_id=patient_id,
            on=_when(change.get("on")), what=change.get("what"), appointment_id=appointment_id,
        )  # fmt: skip
    else:
        result = await appointments.reschedule_appointment(
            db, config, clock, nurse=nurse, key=key, patient_id=patient_id,
            new=_when(change.get("new")), new_time=tuple(new_time) if new_time else None,
            what=None if appointment_id else change.get("what"), appointment_id=appointment_id,
        )  # fmt: skip
    now = clock.now()
    if isinstance(result, AppointmentChoice):
        held = await pending.hold(
            db, clock, nurse=nurse, key=key or _button_key(update), kind=CHOICE, text="",
            payload={"patient_id": patient_id, "change": change},
        )  # fmt: skip
        buttons = [
            [
                InlineKeyboardButton(
                    render.appointment_option(option, nurse.zone, now)[:60],
                    callback_data=AppointmentPick(held.id, option.record_id).pack(),
                )
            ]
            for option in result.options[:8]
        ]
        await _say(
            update,
            context,
            render.which_appointment(result, nurse.zone, now),
            InlineKeyboardMarkup(buttons),
        )
        return
    if result == Refusal.NOT_FOUND:
        await _say(update, context, render.NOTHING_MATCHED)
    elif isinstance(result, Refusal):
        await _say(update, context, records_render.refusal(result))
    else:
        await _say(update, context, render.appointment_changed(result, nurse.zone, now))


def _button_key(update: Update) -> MessageKey:
    """A question asked from a button is keyed on the message the button was under."""
    query = update.callback_query
    assert query is not None
    message = query.message
    assert message is not None
    return MessageKey(chat_id=message.chat.id, message_id=message.message_id)


# -- buttons ---------------------------------------------------------------------------------------


async def pick_button(update: Update, context: CaseContext, press: AppointmentPick) -> None:
    """Which appointment a cancel or reschedule by text meant."""
    query = update.callback_query
    assert query is not None
    services = context.services
    nurse = context.me
    held = await pending.get(services.db, services.clock, nurse=nurse, pending_id=press.pending_id)
    if isinstance(held, Refusal) or not await pending.close(
        services.db, services.clock, nurse=nurse, pending_id=press.pending_id, how="picked"
    ):
        await query.answer(render.CLOSED, show_alert=True)
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    patient_id = int(held.payload["patient_id"])
    await _apply(
        update, context, held.key, patient_id, held.payload["change"], press.appointment_id
    )


async def appointment_button(
    update: Update, context: CaseContext, press: AppointmentAction
) -> None:
    """[Cancel appt] cancels it with its reminders; [Change time] asks for the new time."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    if press.action == "cancel":
        await query.edit_message_reply_markup(None)
        # Keyed on the reply it was under: "scratch that" takes it back, a double tap is one.
        key = _button_key(update)
        await _apply(
            update, context, key, press.patient_id, {"action": "cancel"}, press.appointment_id
        )
        return
    services = context.services
    refs = await _patient_name(context, press.patient_id)
    if refs is None:
        await _say(update, context, records_render.refusal(Refusal.NO_PATIENT))
        return
    await pending.hold(
        services.db, services.clock, nurse=context.me, key=_button_key(update), kind=NEW_TIME,
        text="", payload={"patient_id": press.patient_id, "appointment_id": press.appointment_id},
        ttl=pending.QUESTION_TTL,
    )  # fmt: skip
    await _say(update, context, render.ask_new_time(refs))


async def _patient_name(context: CaseContext, patient_id: int) -> str | None:
    refs = (await caseload_of(context)).refs
    return next((r.name for r in refs if r.id == patient_id), None)


# -- the typed new time ----------------------------------------------------------------------------


async def _waiting(update: Update, context: CaseContext) -> pending.Pending | None:
    chat = update.effective_chat
    if chat is None or context.nurse is None:
        return None
    services = context.services
    return await pending.waiting(
        services.db, services.clock, nurse=context.me, chat_id=chat.id, kinds=(NEW_TIME,)
    )


async def is_waiting(update: Update, context: CaseContext) -> bool:
    """Whether [Change time] waits for this message."""
    return await _waiting(update, context) is not None


async def answer_route(update: Update, context: CaseContext, inbound: inbox.Inbound) -> int | None:
    """The new day or time for an appointment; a new message drops the question instead."""
    held = await _waiting(update, context)
    services = context.services
    nurse = context.me
    if held is None:
        return await inbox.dispatch(update, context, inbound)
    if inbox.reads_as_new(inbound.reading, inbound.text):
        await pending.close(
            services.db, services.clock, nurse=nurse, pending_id=held.id, how="dropped"
        )
        await _say(update, context, render.QUESTION_DROPPED)
        return await inbox.dispatch(update, context, inbound)
    moved = (await inbox.read(context, f"move appt to {inbound.text[:200]}")).first
    if not isinstance(moved, RescheduleIntent) or (moved.new is None and moved.new_time is None):
        await _say(update, context, render.ASK_NEW_TIME_AGAIN)
        return None
    await pending.close(
        services.db, services.clock, nurse=nurse, pending_id=held.id, how="answered"
    )
    change = _change_of(moved)
    change.pop("what", None)
    await _apply(
        update, context, inbound.key, int(held.payload["patient_id"]), change,
        int(held.payload["appointment_id"]),
    )  # fmt: skip
    return None


async def stale(update: Update, context: CaseContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(render.CLOSED, show_alert=True)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The CHANGE and ANSWER routes, and the appointment buttons."""
    inbox.add_route(app, inbox.Route.CHANGE, change_route)
    inbox.add_route(app, inbox.Route.ANSWER, answer_route)
    inbox.add_waiting(app, is_waiting)
    app.add_handler(on_press(AppointmentAction, appointment_button, stale=render.CLOSED))
    app.add_handler(on_press(AppointmentPick, pick_button, stale=render.CLOSED))
    app.add_handler(
        CallbackQueryHandler(stale, pattern=namespace_pattern(AppointmentAction, AppointmentPick))
    )

"""Flood control in group -95 (after the access gate): slow a flooding nurse down, in order.

The policy is bot/services/flood.py; this handler sends the one "slow down" notice, waits for her
slot, or refuses an update that would wait too long with an explicit "NOT saved" reply (the
first of a run of refusals, and a count when the run ends). The poller says when each update
arrived, so time spent queued behind her own earlier messages counts as waiting.
"""

from __future__ import annotations

import logging

from telegram import ReplyParameters, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.app.context import CaseContext, Services
from bot.app.polling import poller_of
from bot.services.flood import NOT_SAVED, NOT_SAVED_RUN, SLOW_DOWN, FloodControl, Verdict

FLOOD_GROUP = -95
EXTRAS_KEY = "flood"
log = logging.getLogger(__name__)


def flood_control(services: Services) -> FloodControl:
    """This application's FloodControl, made on first use from the [limits] config, on the
    application's clock (the one the poller stamps arrivals with)."""
    control = services.extras.get(EXTRAS_KEY)
    if not isinstance(control, FloodControl):
        clock = services.clock
        control = services.extras[EXTRAS_KEY] = FloodControl(
            services.config.limits, monotonic=lambda: clock.now().timestamp()
        )
    return control


def _reply_to(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


async def _close_run(context: CaseContext, control: FloodControl, chat_id: int) -> None:
    """Her run of refused messages is over: if it was more than one, say how many."""
    run = control.end_run(context.me.id)
    if run is not None and run.count > 1:
        await context.bot.send_message(
            chat_id,
            NOT_SAVED_RUN.format(count=run.count),
            reply_parameters=_reply_to(run.last_message_id),
        )


async def pace(update: object, context: CaseContext) -> None:
    """Let the update through now, after a wait, or refuse it and say it was not saved."""
    if not isinstance(update, Update) or context.nurse is None or update.effective_chat is None:
        return
    services = context.services
    control = flood_control(services)
    poller = poller_of(services)
    arrived = poller.arrived_at(update) if poller is not None else None
    admission = control.admit(
        context.nurse.id, arrived=arrived.timestamp() if arrived is not None else None
    )
    refuse = admission.verdict is Verdict.REFUSE
    chat_id = update.effective_chat.id
    try:
        if not refuse:
            await _close_run(context, control, chat_id)
        if admission.notify:
            await context.bot.send_message(chat_id, SLOW_DOWN)
        if refuse and update.callback_query is not None:
            await update.callback_query.answer(
                "Too many at once: that was not done. Please try again in a minute.",
                show_alert=True,
            )
        elif refuse:
            message = update.effective_message
            message_id = message.message_id if message is not None else None
            if control.refused_message(context.nurse.id, message_id) == 1:
                await context.bot.send_message(
                    chat_id, NOT_SAVED, reply_parameters=_reply_to(message_id)
                )
            if poller is None or not poller.waiting_behind(update):
                await _close_run(context, control, chat_id)
    except TelegramError as exc:
        log.warning("flood notice not sent: %s", type(exc).__name__)
    if refuse:
        log.info("flood: refused an update of nurse %s", context.nurse.id)
        raise ApplicationHandlerStop
    if admission.delay > 0:
        await control.sleep(admission.delay)


def register(app: Application) -> None:  # type: ignore[type-arg]
    if any(getattr(h, "callback", None) is pace for h in app.handlers.get(FLOOD_GROUP, [])):
        return
    app.add_handler(TypeHandler(Update, pace), group=FLOOD_GROUP)

"""Flood control in group -95 (after the access gate): slow a flooding nurse down, in order.

The policy is bot/flood.py; this handler sends the one "slow down" notice, waits for her slot,
or refuses an update that would wait too long with an explicit "NOT saved" reply.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.app.context import CaseContext, Services
from bot.services.flood import NOT_SAVED, SLOW_DOWN, FloodControl, Verdict

FLOOD_GROUP = -95
EXTRAS_KEY = "flood"
log = logging.getLogger(__name__)


def flood_control(services: Services) -> FloodControl:
    """This application's FloodControl, made on first use from the [limits] config."""
    control = services.extras.get(EXTRAS_KEY)
    if not isinstance(control, FloodControl):
        control = services.extras[EXTRAS_KEY] = FloodControl(services.config.limits)
    return control


async def pace(update: object, context: CaseContext) -> None:
    """Let the update through now, after a wait, or refuse it and say it was not saved."""
    if not isinstance(update, Update) or context.nurse is None or update.effective_chat is None:
        return
    control = flood_control(context.services)
    admission = control.admit(context.nurse.id)
    if admission.verdict is Verdict.NOW:
        return
    chat_id = update.effective_chat.id
    try:
        if admission.notify:
            await context.bot.send_message(chat_id, SLOW_DOWN)
        if admission.verdict is Verdict.REFUSE:
            if update.callback_query is not None:
                await update.callback_query.answer(
                    "Too many at once: that was not done. Please try again in a minute.",
                    show_alert=True,
                )
            else:
                await context.bot.send_message(chat_id, NOT_SAVED)
    except TelegramError as exc:
        log.warning("flood notice not sent: %s", type(exc).__name__)
    if admission.verdict is Verdict.REFUSE:
        log.info("flood: refused an update of nurse %s", context.nurse.id)
        raise ApplicationHandlerStop
    await control.sleep(admission.delay)


def register(app: Application) -> None:  # type: ignore[type-arg]
    if any(getattr(h, "callback", None) is pace for h in app.handlers.get(FLOOD_GROUP, [])):
        return
    app.add_handler(TypeHandler(Update, pace), group=FLOOD_GROUP)

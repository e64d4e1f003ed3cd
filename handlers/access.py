"""The access gate: runs first for every update; only enrolled nurses in private chats pass.

Everyone else gets a polite refusal and no data; the bot leaves groups and channels. A stranger
is refused (and the refusal audited) once per [limits] stranger_refusal_minutes per chat; what
they send meanwhile is counted in memory and the count goes into the next refusal's audit event,
so a stranger's flood costs neither replies nor audit rows. The only update a stranger may get
through is "/start <code>" in a private chat. A nurse's button press whose data no button family
can read (forged) is audited here ("press.refused", reason "malformed") and passed on to be
answered.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Chat, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.app.context import CaseContext, Services
from bot.render import messages
from bot.services import enrollment, presses
from bot.services.flood import StrangerThrottle
from handlers.common import readable

GATE_GROUP = -100
THROTTLE_KEY = "strangers"
log = logging.getLogger(__name__)


def stranger_throttle(services: Services) -> StrangerThrottle:
    """This application's StrangerThrottle, made on first use from the [limits] config."""
    throttle = services.extras.get(THROTTLE_KEY)
    if not isinstance(throttle, StrangerThrottle):
        minutes = services.config.limits.stranger_refusal_minutes
        throttle = services.extras[THROTTLE_KEY] = StrangerThrottle(timedelta(minutes=minutes))
    return throttle


def _is_invite_start(update: Update) -> bool:
    message = update.message
    if message is None or message.text is None:
        return False
    parts = message.text.split(maxsplit=1)
    return len(parts) == 2 and parts[0].split("@", 1)[0] == "/start"


def _bot_already_gone(update: Update) -> bool:
    member = update.my_chat_member
    return member is not None and member.new_chat_member.status in (
        ChatMemberStatus.LEFT,
        ChatMemberStatus.BANNED,
    )


def _kind(update: Update) -> str:
    for attr in ("message", "edited_message", "callback_query", "my_chat_member", "channel_post"):
        if getattr(update, attr, None) is not None:
            return attr
    return "other"


async def gate(update: object, context: CaseContext) -> None:
    """Let enrolled nurses through; refuse, audit and stop everyone and everything else."""
    if not isinstance(update, Update):
        raise ApplicationHandlerStop
    services = context.services
    chat = update.effective_chat
    user = update.effective_user
    if chat is not None and chat.type != ChatType.PRIVATE:
        if not _bot_already_gone(update):
            await _leave(context, chat)
        await enrollment.record_refusal(
            services.db,
            services.clock,
            telegram_user_id=user.id if user else None,
            kind=f"{_kind(update)}:{chat.type}",
        )
        raise ApplicationHandlerStop
    if user is None:
        raise ApplicationHandlerStop
    nurse = await enrollment.load_nurse(services.db, services.config, user.id)
    if nurse is not None:
        if nurse.unreachable:
            await enrollment.mark_reachable(services.db, services.clock, nurse_id=nurse.id)
        context.nurse = nurse
        query = update.callback_query
        if query is not None and not readable(query.data):
            # Forged (or from a layout long gone): no handler can act on it; audited once here.
            await presses.record_malformed(
                services.db,
                services.clock,
                nurse_id=nurse.id,
                telegram_user_id=user.id,
                family="?",  # the data itself is not kept: anyone can put anything there
            )
        return
    if _is_invite_start(update):
        return  # the /start handler redeems or refuses, and audits
    verdict = stranger_throttle(services).arrive(
        chat.id if chat is not None else user.id, services.clock.now()
    )
    if not verdict.answer:
        raise ApplicationHandlerStop  # refused a moment ago: counted, not answered again
    await enrollment.record_refusal(
        services.db,
        services.clock,
        telegram_user_id=user.id,
        kind=_kind(update),
        unanswered=verdict.unanswered,
    )
    await _refuse(update, context)
    raise ApplicationHandlerStop


async def _refuse(update: Update, context: CaseContext) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(messages.REFUSAL, show_alert=True)
        return
    if update.effective_chat is not None and (update.message or update.edited_message):
        await context.bot.send_message(update.effective_chat.id, messages.REFUSAL)


async def _leave(context: CaseContext, chat: Chat) -> None:
    try:
        if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
            await context.bot.send_message(chat.id, messages.GROUP_REFUSAL)
        await context.bot.leave_chat(chat.id)
    except TelegramError as exc:
        log.warning("could not leave chat %s: %s", chat.id, type(exc).__name__)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, gate), group=GATE_GROUP)

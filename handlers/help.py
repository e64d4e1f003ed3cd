"""/help, a /cancel outside any conversation, and the catch-alls for unknown commands, other
kinds of message (locations, contacts, dice) and buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.app.context import CaseContext
from bot.render import messages
from bot.services import presses
from handlers.common import readable


async def show_help(update: Update, context: CaseContext) -> None:
    """List what the bot understands, with examples."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(messages.HELP)


async def cancel_nothing(update: Update, context: CaseContext) -> None:
    """Answer /cancel when no conversation is open."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(messages.NOTHING_TO_CANCEL)


async def unknown_command(update: Update, context: CaseContext) -> None:
    """Answer a command the bot does not have."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(messages.UNKNOWN_COMMAND)


async def unknown_button(update: Update, context: CaseContext) -> None:
    """Answer a press no button family claims (forged data, or a layout long gone): nothing
    changes, the spinner on her button stops, and the press is audited."""
    query = update.callback_query
    assert query is not None
    if readable(query.data):  # (unreadable data was audited by the access gate)
        nurse = context.nurse
        await presses.record_malformed(
            context.services.db,
            context.services.clock,
            nurse_id=nurse.id if nurse is not None else None,
            telegram_user_id=query.from_user.id,
            family=(query.data or "").split(":", 1)[0][:8],
            reason=presses.UNROUTED,
        )
    await query.answer(messages.BUTTON_GONE, show_alert=True)


async def other_kind(update: Update, context: CaseContext) -> None:
    """Answer a message nothing else reads (a location, a contact card, dice, a poll, a message
    with no content): never silence."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(messages.OTHER_KIND)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("help", show_help))
    app.add_handler(CommandHandler("cancel", cancel_nothing))
    # Last among message handlers: any other /command gets a pointer to /help.
    app.add_handler(MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, unknown_command))
    # Last of all for messages: any kind nothing above reads (service messages aside).
    app.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, other_kind)
    )
    # Last among button handlers: a press nothing above routed.
    app.add_handler(CallbackQueryHandler(unknown_button))

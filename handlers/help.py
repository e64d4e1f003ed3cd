"""/help and a /cancel outside any conversation."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.app.context import CaseContext
from bot.render import messages


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


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("help", show_help))
    app.add_handler(CommandHandler("cancel", cancel_nothing))
    # Last among message handlers: any other /command gets a pointer to /help.
    app.add_handler(MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, unknown_command))

"""/help and a /cancel outside any conversation."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import CaseContext
from bot.render import messages


async def show_help(update: Update, context: CaseContext) -> None:
    """List what the bot understands, with examples."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(messages.HELP)


async def cancel_nothing(update: Update, context: CaseContext) -> None:
    """Answer /cancel when no conversation is open."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(messages.NOTHING_TO_CANCEL)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("help", show_help))
    app.add_handler(CommandHandler("cancel", cancel_nothing))

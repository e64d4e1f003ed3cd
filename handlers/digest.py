"""[Show all] under a digest that was cut."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.app.context import CaseContext
from bot.services.digests import digest_pages_for

CALLBACK = re.compile(r"^dga:(\d{1,18})$")


async def show_all(update: Update, context: CaseContext) -> None:
    """Send the whole digest a [Show all] button belongs to, in as many messages as needed."""
    query = update.callback_query
    assert query is not None
    match = CALLBACK.match(query.data or "")
    services = context.services
    pages = None
    if match is not None:
        pages = await digest_pages_for(
            services.db,
            services.config,
            services.clock,
            nurse_id=context.me.id,
            delivery_id=int(match[1]),
        )
    if pages is None:
        await query.answer("That digest has expired.", show_alert=True)
        return
    await query.answer()
    assert update.effective_chat is not None
    for page in pages:
        await context.bot.send_message(update.effective_chat.id, page)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(show_all, pattern=r"^dga:"))

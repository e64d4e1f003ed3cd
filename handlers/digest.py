"""[Show all] under a digest that was cut."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application

from bot.app.context import CaseContext
from bot.render.callbacks import ShowDigest
from bot.services.digests import digest_pages_for
from handlers.common import on_press


async def show_all(update: Update, context: CaseContext, press: ShowDigest) -> None:
    """Send the whole digest a [Show all] button belongs to, in as many messages as needed."""
    query = update.callback_query
    assert query is not None
    services = context.services
    pages = await digest_pages_for(
        services.db,
        services.config,
        services.clock,
        nurse_id=context.me.id,
        delivery_id=press.delivery_id,
    )
    if pages is None:
        await query.answer("That digest has expired.", show_alert=True)
        return
    await query.answer()
    assert update.effective_chat is not None
    for page in pages:
        await context.bot.send_message(update.effective_chat.id, page)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(on_press(ShowDigest, show_all))

"""Small pieces shared by handler modules."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler
from telegram.warnings import PTBUserWarning

from bot.app.context import CaseContext
from bot.parsing import Caseload
from bot.render import messages
from bot.render.callbacks import (
    CallbackData,
)
from bot.services import records as record_service
from bot.services import shorthand as shorthand_service

Data = TypeVar("Data", bound=CallbackData)
Result = TypeVar("Result")


def quiet_conversation(**kwargs: Any) -> ConversationHandler:  # type: ignore[type-arg]
    """A ConversationHandler without PTB's per_message advice.

    Our conversations are per chat and user on purpose: a nurse answers the bot's latest
    question, and buttons belong to that question, so tracking per message is not wanted.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PTBUserWarning, message=".*per_message.*")
        return ConversationHandler(**kwargs)


def on_press(
    family: type[Data],
    callback: Callable[[Update, CaseContext, Data], Awaitable[Result]],
    *,
    stale: str = messages.BUTTON_GONE,
    **only: object,
) -> CallbackQueryHandler[CaseContext, Result | None]:
    """Route presses of one button family to `callback`, which gets the typed data.

    `only` narrows the route on the family's leading choice fields (`action="undo"`). A press
    of the family whose data is malformed or forged is answered with `stale` and reaches no
    callback; it returns None, so a conversation stays where it was. Presses that are well
    formed but not hers are the services' to refuse (and audit).
    """

    async def press(update: Update, context: CaseContext) -> Result | None:
        query = update.callback_query
        data = family.unpack(query.data) if query is not None else None
        if data is None:
            if query is not None:
                await query.answer(stale, show_alert=True)
            return None
        return await callback(update, context, data)

    press.__name__ = press.__qualname__ = getattr(callback, "__name__", family.__name__)
    press.__doc__ = callback.__doc__
    return CallbackQueryHandler(press, pattern=family.pattern(**only))


def is_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²" or "₀", which int() refuses."""
    return text.isascii() and text.isdigit()


async def caseload_of(context: CaseContext) -> Caseload:
    """Her caseload as the parser's name index: the one the application keeps between
    messages (bot.services.caseload_index), or read now when it keeps none."""
    index = context.services.caseloads
    if index is not None:
        return await index.caseload_index(context.me.id)
    db = context.services.db
    return Caseload(await record_service.caseload_refs(db, nurse_id=context.me.id))


async def shorthand_of(context: CaseContext) -> dict[str, str]:
    """Her learned terms for the parser, kept the same way."""
    index = context.services.caseloads
    if index is not None:
        return await index.shorthand(context.me.id)
    return await shorthand_service.shorthand_for(context.services.db, context.me.id)

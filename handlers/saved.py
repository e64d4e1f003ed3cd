"""The buttons under a saved record and under an attended? check, and what is never logged.

[Undo] takes one record back (its tasks cancelled, tasks it closed reopened); [Moderate]
[High] set a discharge's complexity; [Attended] [No-show] [Rescheduled] answer an attended?
check. Edited, forwarded and media messages are never logged and say so (voice notes are
handlers.voice's). [Change follow-up] and [Add note] ask a question, so they are the logging
conversation's (handlers.records).
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bot.app.context import CaseContext
from bot.render import records as render
from bot.render.callbacks import EpisodeComplexity, RecordAction
from bot.services import records as service
from bot.vocab import Complexity, Refusal
from handlers.common import on_press


async def _say(update: Update, context: CaseContext, text: str, markup: Any = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


# -- buttons under a saved record --------------------------------------------------------------


async def undo_button(update: Update, context: CaseContext, press: RecordAction) -> None:
    """Undo a logged record (its tasks are cancelled, tasks it closed reopen)."""
    query = update.callback_query
    assert query is not None
    services = context.services
    result = await service.undo_record(
        services.db, services.clock, nurse=context.me, kind=press.kind,
        record_id=press.record_id,
    )  # fmt: skip
    if isinstance(result, Refusal):
        await query.answer(render.refusal(result))
        await _say(update, context, render.refusal(result))
        return
    await query.answer("Undone")
    await _say(update, context, render.undone(result))


async def complexity_button(update: Update, context: CaseContext, press: EpisodeComplexity) -> None:
    """[Moderate] [High]: set a discharge's complexity and re-date its visit task."""
    query = update.callback_query
    assert query is not None
    services = context.services
    result = await service.set_complexity(
        services.db,
        services.config,
        services.clock,
        nurse=context.me,
        episode_id=press.episode_id,
        complexity=Complexity(press.complexity),
    )
    if isinstance(result, Refusal):
        await query.answer(render.refusal(result))
        await _say(update, context, render.refusal(result))
        return
    await query.answer()
    now = services.clock.now()
    await _say(update, context, render.complexity_set(result, context.me.zone, now))


# -- what is never logged --------------------------------------------------------------------------


async def on_edited(update: Update, context: CaseContext) -> None:
    """An edited message changes nothing: say how to change a record instead."""
    await _say(update, context, render.EDITED)


async def on_forwarded(update: Update, context: CaseContext) -> None:
    """Forwarded messages are not logged."""
    await _say(update, context, render.FORWARDED)


async def on_media(update: Update, context: CaseContext) -> None:
    """Photos and files are not logged (voice notes are handlers.voice's)."""
    await _say(update, context, render.MEDIA)


# -- registration ----------------------------------------------------------------------------------


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Before the logging conversation: edited, forwarded and media messages never reach its
    free-text entry."""
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edited))
    app.add_handler(MessageHandler(filters.FORWARDED & filters.UpdateType.MESSAGE, on_forwarded))
    media = (  # voice notes are handlers.voice's
        filters.PHOTO
        | filters.AUDIO
        | filters.VIDEO
        | filters.VIDEO_NOTE
        | filters.Document.ALL
        | filters.Sticker.ALL
    )
    app.add_handler(MessageHandler(media & filters.UpdateType.MESSAGE, on_media))
    app.add_handler(on_press(RecordAction, undo_button, action="undo"))
    app.add_handler(on_press(EpisodeComplexity, complexity_button))

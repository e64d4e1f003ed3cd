"""The one error handler: logs ids and code locations only, apologises to the nurse.

Exception messages can carry patient data (SQL parameters, message text), so the log line has
the exception type and the stack's file:line:function, never str(exc) or the update.
It cannot fail: if working out the answer fails, the plain apology goes out. If Telegram refuses
the answer (5xx, network, 429), the poller is told to handle the update again later rather than
confirm it while she heard nothing.
"""

from __future__ import annotations

import logging
import traceback

from telegram import Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError, TimedOut
from telegram.ext import Application, ApplicationHandlerStop

from bot.app.context import CaseContext
from bot.app.polling import poller_of
from bot.render import messages
from bot.services import records
from storage.db import DatabaseUnavailable

log = logging.getLogger("casebot.errors")


def describe(error: BaseException) -> str:
    """Type and where it happened, without the message: safe for logs."""
    frames = traceback.extract_tb(error.__traceback__)[-6:]
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in frames)
    return f"{type(error).__name__} at {where or '?'}"


async def on_error(update: object, context: CaseContext) -> None:
    """Log the fault by ids and tell the nurse plainly that nothing was saved. Never raises
    (but ApplicationHandlerStop): an error handler that fails leaves the nurse in silence."""
    try:
        await _answer(update, context)
    except ApplicationHandlerStop:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence must hold
        log.error("the error handler failed too: %s", describe(exc))
        await _last_resort(update, context)
    # One update, one answer: after a fault, no later handler group replies as well.
    raise ApplicationHandlerStop


async def _answer(update: object, context: CaseContext) -> None:
    error = context.error
    if error is None:
        return
    ids = {}
    if isinstance(update, Update):
        ids = {
            "update_id": update.update_id,
            "chat_id": update.effective_chat.id if update.effective_chat else None,
            "user_id": update.effective_user.id if update.effective_user else None,
        }
    log.error("handler failed: %s ids=%s", describe(error), ids)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    if isinstance(error, DatabaseUnavailable):
        text = messages.DB_UNAVAILABLE
    elif await _already_saved(update, context):
        text = messages.SAVED_BUT_REPLY_FAILED  # only the confirmation failed
    else:
        text = messages.ERROR_APOLOGY
    try:
        if update.callback_query is not None:
            await update.callback_query.answer("Sorry, that did not work. Please try again.")
        await context.bot.send_message(update.effective_chat.id, text)
    except (TimedOut, Forbidden, BadRequest) as exc:  # it may have arrived, or never will
        log.warning("could not apologise: %s", type(exc).__name__)
    except TelegramError as exc:  # Telegram down (5xx, network, 429): try the update again
        log.warning("could not apologise: %s; the update will be handled again", type(exc).__name__)
        poller = poller_of(context.services)
        if poller is not None:  # not confirmed in silence: handled again after a pause
            poller.could_not_tell(update)


async def _last_resort(update: object, context: CaseContext) -> None:
    """The plain apology, when working out the right one failed."""
    try:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is not None and chat.type == ChatType.PRIVATE:
            await context.bot.send_message(chat.id, messages.ERROR_APOLOGY)
    except Exception as exc:  # noqa: BLE001 - nothing more can be done; it is logged
        log.warning("could not apologise: %s", type(exc).__name__)


async def _already_saved(update: Update, context: CaseContext) -> bool:
    """Whether the message behind this update was committed before the fault (the ledger of
    logged messages says so), so the nurse is never told "not saved" about a saved record."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or update.callback_query is not None:
        return False
    try:
        return await records.message_was_saved(
            context.services.db, chat_id=chat.id, message_id=message.message_id
        )
    except Exception:  # noqa: BLE001 - unknown: say "not saved", she resends, the ledger dedups
        return False


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_error_handler(on_error)

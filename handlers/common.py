"""Small pieces shared by handler modules."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ConversationHandler
from telegram.warnings import PTBUserWarning

from bot import vocab
from bot.app.context import CaseContext
from bot.parsing import Caseload
from bot.render import inbox as inbox_render
from bot.render import messages
from bot.render import records as records_render
from bot.render.callbacks import (
    AppointmentAction,
    AppointmentPress,
    CallbackData,
    EpisodeComplexity,
    MessageUndo,
    RecordAction,
    RecordPress,
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


_SAVED_BUTTONS: tuple[tuple[str, RecordPress], ...] = (
    (records_render.UNDO, "undo"),
    (records_render.CHANGE_FOLLOW_UP, "follow_up"),
    (records_render.ADD_NOTE, "note"),
)
_APPOINTMENT_BUTTONS: tuple[tuple[str, AppointmentPress], ...] = (
    (inbox_render.CHANGE_TIME, "time"),
    (inbox_render.CANCEL_APPOINTMENT, "cancel"),
)
_RECORD_BUTTON_KINDS = {
    vocab.RecordKind.CONTACT,
    vocab.RecordKind.EPISODE,
    vocab.RecordKind.MED_REC,
}


def saved_keyboard(
    logged: record_service.Logged, *, message_id: int | None = None
) -> InlineKeyboardMarkup | None:
    """The buttons under one saved record: [Undo] [Change follow-up] [Add note] (and
    [Moderate] [High] for a discharge of unknown complexity); an appointment gets [Change
    time] [Cancel appt] [Undo]; other records [Undo] of their message (`message_id`); an
    appointment already on file none."""
    kind, record_id = vocab.RecordKind(logged.kind), logged.record_id
    if logged.existing:  # already on file: nothing of this message to change or undo
        return None
    if kind == vocab.RecordKind.APPOINTMENT and logged.patient_id is not None:
        row = [
            InlineKeyboardButton(
                label,
                callback_data=AppointmentAction(action, logged.patient_id, record_id).pack(),
            )
            for label, action in _APPOINTMENT_BUTTONS
        ]
        undo = RecordAction("undo", kind, record_id).pack()
        row.append(InlineKeyboardButton(records_render.UNDO, callback_data=undo))
        return InlineKeyboardMarkup([row])
    if kind not in _RECORD_BUTTON_KINDS:
        assert message_id is not None, f"a {kind} is undone with its message"
        undo = MessageUndo(message_id).pack()
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(records_render.UNDO, callback_data=undo)]]
        )
    rows = [
        [
            InlineKeyboardButton(label, callback_data=RecordAction(action, kind, record_id).pack())
            for label, action in _SAVED_BUTTONS
        ]
    ]
    if kind == vocab.RecordKind.EPISODE and logged.complexity is None:
        rows.append(
            [
                InlineKeyboardButton(
                    label, callback_data=EpisodeComplexity(record_id, complexity).pack()
                )
                for label, complexity in (
                    (records_render.MODERATE, vocab.Complexity.MODERATE),
                    (records_render.HIGH, vocab.Complexity.HIGH),
                )
            ]
        )
    return InlineKeyboardMarkup(rows)

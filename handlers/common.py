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
    FAMILIES,
    Attendance,
    CallbackData,
    CloseGoal,
    EpisodeComplexity,
    GoalAction,
    MoveReferral,
    PatientChoice,
    PlanNote,
    RecordAction,
    ReferralChoice,
)
from bot.services import presses
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
    of the family whose data is malformed is answered with `stale` and reaches no callback; it
    returns None, so a conversation stays where it was (the access gate audited it). A press of
    one of OWNED_FAMILIES that names a row that is not hers, or none, is audited here and then
    handed on: its use case refuses it in its own words (and changes nothing).
    """

    async def press(update: Update, context: CaseContext) -> Result | None:
        query = update.callback_query
        if query is None:
            return None
        data = family.unpack(query.data)
        if data is None:
            await query.answer(stale, show_alert=True)
            return None
        await audit_if_not_hers(context, family, data)
        return await callback(update, context, data)

    press.__name__ = press.__qualname__ = getattr(callback, "__name__", family.__name__)
    press.__doc__ = callback.__doc__
    return CallbackQueryHandler(press, pattern=family.pattern(**only))


# Button families whose rows must be hers: a record, an episode, an attendance check, a goal, a
# care plan, a referral, a patient offered as a choice. (Supervisor views name other nurses'
# rows on purpose; their families are checked by their services.)
OWNED_FAMILIES: tuple[type[CallbackData], ...] = (
    RecordAction,
    EpisodeComplexity,
    Attendance,
    CloseGoal,
    GoalAction,
    PlanNote,
    MoveReferral,
    ReferralChoice,
    PatientChoice,
)
_ID_FIELDS = {
    "episode_id": "episode",
    "task_id": "task",
    "goal_id": "goal",
    "referral_id": "referral",
    "patient_id": "patient",
}


def readable(data: str | None) -> bool:
    """Whether some button family can read this callback data (else it is forged, or from a
    layout long gone)."""
    return data is not None and any(family.unpack(data) is not None for family in FAMILIES)


def owned_rows(data: CallbackData) -> list[tuple[str, int]]:
    """The (kind, id) rows a press names that must be the nurse's own."""
    if not isinstance(data, OWNED_FAMILIES):
        return []
    if isinstance(data, RecordAction):
        return [(str(data.kind), data.record_id)]
    return [
        (kind, int(getattr(data, name))) for name, kind in _ID_FIELDS.items() if hasattr(data, name)
    ]


async def audit_if_not_hers(
    context: CaseContext, family: type[CallbackData], data: CallbackData
) -> None:
    rows = owned_rows(data)
    nurse = context.nurse
    if not rows or nurse is None:
        return
    await presses.check(
        context.services.db,
        context.services.clock,
        nurse_id=nurse.id,
        telegram_user_id=nurse.telegram_user_id,
        family=family.prefix,
        rows=rows,
    )


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

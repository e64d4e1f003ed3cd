"""What the patient handlers share: the conversation's steps, the card's keyboards, the chat's
typed state (offered new patients, the patient whose field is being edited) and the reply
helpers (a refused press says bot.render.patients.REFUSALS).

Must not import storage or another handlers topic.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import TypeVar

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.app.context import CaseContext
from bot.parsing import NewPatientIntent, PatientRef
from bot.render import labels
from bot.render import patients as render
from bot.render.callbacks import KeepPatient, PatientAction, SetRisk
from bot.render.patients import PatientCard
from bot.vocab import Refusal, Risk

MAX_OFFERS = 20
MAX_CANDIDATES = 8
RISK_CHOICES = tuple((labels.RISK[risk], risk) for risk in (Risk.HIGH, Risk.MEDIUM, Risk.LOW))


class Step(IntEnum):
    NAME = 1
    NEW = 2
    CONDITIONS = 3
    MRN = 4


# -- the chat's state -----------------------------------------------------------------------------


@dataclass
class PatientChatState:
    """New patients offered under a short random token (never in callback_data), oldest
    first, and the patient whose conditions or MRN she is typing
    (``context.state(PatientChatState, per_chat=True)``)."""

    offers: dict[str, NewPatientIntent] = field(default_factory=dict)
    editing: int | None = None


def chat_state(context: CaseContext) -> PatientChatState:
    return context.state(PatientChatState, per_chat=True)


def stash(context: CaseContext, intent: NewPatientIntent) -> str:
    """Keep a pending new patient under a short random token (never in callback_data)."""
    offers = chat_state(context).offers
    while len(offers) >= MAX_OFFERS:
        offers.pop(next(iter(offers)))
    token = secrets.token_urlsafe(6)
    offers[token] = intent
    return token


def unstash(context: CaseContext, token: str) -> NewPatientIntent | None:
    return chat_state(context).offers.pop(token, None)


def take_editing(context: CaseContext) -> int | None:
    """The patient whose field she was asked to type, forgotten as it is read."""
    mine = chat_state(context)
    pid, mine.editing = mine.editing, None
    return pid


# -- keyboards ------------------------------------------------------------------------------


def card_keyboard(card: PatientCard, *, with_risk_choices: bool = False) -> InlineKeyboardMarkup:
    if not card.active:
        return InlineKeyboardMarkup([])
    pid = card.id
    rows = []
    if with_risk_choices:
        rows.append(risk_buttons(pid, suffix=" risk"))
    rows.append(
        [
            InlineKeyboardButton("Risk", callback_data=PatientAction("risk", pid).pack()),
            InlineKeyboardButton(
                "Conditions", callback_data=PatientAction("conditions", pid).pack()
            ),
            InlineKeyboardButton("MRN", callback_data=PatientAction("mrn", pid).pack()),
        ]
    )
    rows.append(
        [
            InlineKeyboardButton("Close case", callback_data=PatientAction("close", pid).pack()),
            InlineKeyboardButton("Transfer", callback_data=PatientAction("transfer", pid).pack()),
        ]
    )
    return InlineKeyboardMarkup(rows)


def risk_buttons(patient_id: int, *, suffix: str = "") -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(label + suffix, callback_data=SetRisk(patient_id, risk).pack())
        for label, risk in RISK_CHOICES
    ]


def card_button(label: str, patient_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=PatientAction("card", patient_id).pack())


def keep_button(label: str = "Cancel") -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=KeepPatient().pack())


def candidate_keyboard(refs: tuple[PatientRef, ...]) -> InlineKeyboardMarkup:
    seen: dict[str, int] = {}
    rows = []
    for ref in refs[:MAX_CANDIDATES]:
        seen[ref.name] = seen.get(ref.name, 0) + 1
        label = ref.name if seen[ref.name] == 1 else f"{ref.name} ({seen[ref.name]})"
        if ref.id is not None:
            rows.append([card_button(label, ref.id)])
    rows.append([keep_button()])
    return InlineKeyboardMarkup(rows)


# -- replies --------------------------------------------------------------------------------


def now(context: CaseContext) -> datetime:
    return context.services.clock.now()


async def say(
    update: Update, context: CaseContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


def query_of(update: Update) -> CallbackQuery:
    query = update.callback_query
    assert query is not None
    return query


async def refuse_press(query: CallbackQuery, refusal: Refusal) -> None:
    await query.answer(render.REFUSALS[refusal], show_alert=True)


Result = TypeVar("Result")


async def answered(
    update: Update, result: Result | Refusal, *, note: str | None = None
) -> Result | None:
    """Answer the button press a use case ran for: with the refusal's alert (None back), or
    with `note` ("Saved") and the result back."""
    query = query_of(update)
    if isinstance(result, Refusal):
        await refuse_press(query, result)
        return None
    await query.answer(note)
    return result

"""What the care-plan handlers share: the nurse's typed question state, the one-time choices
(which patient, which referral) that wait server-side for a tap, the conversation's steps, and
the reply helper.

Must not import storage or another handlers topic.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.app.context import CaseContext
from bot.parsing.careplans import (
    GoalIntent,
    ReferralIntent,
    ReferralStatusIntent,
    ResourceGivenIntent,
)
from bot.parsing.intents import PatientRef
from bot.render import careplans as render
from bot.render.callbacks import PatientChoice
from bot.services.ledger import MessageKey
from bot.vocab import GoalStatus, ReferralStatus, ResourceKind

CONVERSATION_TIMEOUT = 15 * 60
CHOICE_TIMEOUT = timedelta(seconds=CONVERSATION_TIMEOUT)
"""How long candidate buttons (patients, referrals) stay good."""

PatientIntent = GoalIntent | ReferralIntent | ReferralStatusIntent | ResourceGivenIntent
"""Care-plan messages about one patient."""


class Step(IntEnum):
    """Where a care-plan question is."""

    OUTCOME = 1
    RESOURCE_NAME = 2
    RESOURCE_KIND = 3
    RESOURCE_CONTACT = 4
    RESOURCE_NOTES = 5
    INTERVENTION = 6
    NOTE = 7


# -- the question she is answering ----------------------------------------------------------------


@dataclass(frozen=True)
class GoalClosing:
    """A goal change waiting for which of the patient's goals (``patient_id``, after a message)
    or for the outcome typed (``goal_id``, after a goal button)."""

    change: GoalStatus
    outcome: str = ""
    patient_id: int | None = None
    goal_id: int | None = None


@dataclass(frozen=True)
class TextFor:
    """A button that asked for typed text: an intervention under goal ``row_id`` or a progress
    note on patient ``row_id``'s plan."""

    step: Step
    row_id: int


@dataclass
class NewResource:
    """A community resource being added, one answer at a time."""

    name: str
    kind: ResourceKind | None = None
    contact: str = ""


# -- choices among patients or referrals: the action waits server-side -------------------------


@dataclass(frozen=True)
class PendingPatient:
    """A care-plan message (``intent``) or /plan (``intent`` None) waiting for the nurse to
    tap which of ``candidates`` she meant. Kept in her state, never in callback data."""

    token: str
    candidates: tuple[PatientRef, ...]
    intent: PatientIntent | None
    source: MessageKey | None
    asked_at: datetime

    @property
    def choice_ids(self) -> tuple[int | None, ...]:
        return tuple(c.id for c in self.candidates)


@dataclass(frozen=True)
class PendingReferral:
    """A referral status change waiting for the nurse to tap which referral moved on."""

    token: str
    status: ReferralStatus
    referral_ids: tuple[int, ...]
    source: MessageKey | None
    asked_at: datetime

    @property
    def choice_ids(self) -> tuple[int, ...]:
        return self.referral_ids


_Pending = TypeVar("_Pending", PendingPatient, PendingReferral)


@dataclass
class Choice:
    """The one choice of its family waiting for a tap (a newer question replaces it)."""

    waiting: PendingPatient | PendingReferral | None = None


@dataclass
class CarePlanState:
    """This nurse's care-plan state (``context.state(CarePlanState)``)."""

    question: GoalClosing | TextFor | NewResource | None = None
    patients: Choice = field(default_factory=Choice)
    referrals: Choice = field(default_factory=Choice)


def state(context: CaseContext) -> CarePlanState:
    return context.state(CarePlanState)


def remember_choice(
    context: CaseContext,
    choice: Choice,
    make: Callable[[str, datetime], PendingPatient | PendingReferral],
) -> str:
    """Keep a new pending choice (replacing an older one) and return its one-time token."""
    token = secrets.token_urlsafe(6)
    choice.waiting = make(token, context.services.clock.now())
    return token


def take_choice(
    context: CaseContext, choice: Choice, token: str, chosen: int, kind: type[_Pending]
) -> tuple[_Pending, int] | str:
    """The pending choice a press (`token`, `chosen` id) answers, taken out of her state; or
    the reply for a press of an older question, expired or not one of the choices (forged),
    which takes nothing. No await inside: two quick presses cannot both take it."""
    found = choice.waiting
    if not isinstance(found, kind):
        return render.CHOICE_CLOSED
    if not secrets.compare_digest(found.token.encode(), token.encode()):
        return render.CHOICE_CLOSED
    if context.services.clock.now() - found.asked_at > CHOICE_TIMEOUT:
        choice.waiting = None
        return render.CHOICE_CLOSED
    if chosen not in found.choice_ids:
        return render.NOT_A_CHOICE
    choice.waiting = None
    return found, chosen


async def press_choice(
    update: Update,
    context: CaseContext,
    choice: Choice,
    token: str,
    chosen: int,
    kind: type[_Pending],
) -> tuple[_Pending, int] | None:
    """Answer a choice button and take what it chose; None after saying why it chose nothing."""
    await answer_press(update)
    taken = take_choice(context, choice, token, chosen, kind)
    if isinstance(taken, str):
        await say(update, context, taken)
        return None
    return taken


async def ask_patient(
    update: Update,
    context: CaseContext,
    written: str | None,
    candidates: tuple[PatientRef, ...],
    intent: PatientIntent | None,
    source: MessageKey | None,
) -> None:
    """Keep the action pending and show one button per candidate patient."""
    token = remember_choice(
        context,
        state(context).patients,
        lambda token, at: PendingPatient(token, candidates, intent, source, at),
    )
    rows = [
        [
            InlineKeyboardButton(
                render.patient_button(c.name), callback_data=PatientChoice(token, c.id).pack()
            )
        ]
        for c in candidates
        if c.id is not None
    ]
    await say(update, context, render.pick_patient(written), InlineKeyboardMarkup(rows))


# -- replies -------------------------------------------------------------------------------------


async def say(update: Update, context: CaseContext, text: str, markup: Any = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


async def answer_press(update: Update) -> None:
    """Stop the tapped button's spinner."""
    query = update.callback_query
    assert query is not None
    await query.answer()


def today(context: CaseContext) -> date:
    return context.services.clock.now().astimezone(context.me.zone).date()

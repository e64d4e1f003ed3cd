"""Care plans, referrals and community resources by chat: /plan, /referrals, /resources, the
goal and referral buttons, adding a resource, and the care-plan intents the free-text router
hands over (``handle_intent``).

Thin: authorise (the access gate did), pull the text, call bot.services.careplans /
bot.services.referrals / bot.services.resources, render with bot.render.careplans, reply.
Button data is typed (bot.render.callbacks) and carries row ids only.
When a message names several patients, or several referrals fit, the pending action stays in
the nurse's user_data and the buttons carry a one-time token and an id: a press of an older,
expired or forged button changes nothing and says so.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import vocab
from bot.app.context import CaseContext
from bot.parsing.careplans import (
    CarePlanIntent,
    GoalIntent,
    ReferralIntent,
    ReferralStatusIntent,
    ResourceGivenIntent,
    ResourceQueryIntent,
    resource_kind_of,
)
from bot.parsing.intents import PatientRef
from bot.render import careplans as render
from bot.render import labels
from bot.render.callbacks import (
    AddResource,
    CloseGoal,
    GoalAction,
    MoveReferral,
    PatientChoice,
    PlanNote,
    ReferralChoice,
    ResourceKindChoice,
)
from bot.services import careplans as plans
from bot.services import referrals, resources
from bot.services.ledger import MessageKey
from bot.services.patients import find_patients
from bot.vocab import GoalStatus, ReferralStatus, Refusal, ResourceKind
from handlers import inbox
from handlers.common import on_press, quiet_conversation

PENDING_KEY = "careplans.pending"
PATIENT_CHOICE_KEY = "careplans.patient_choice"
REFERRAL_CHOICE_KEY = "careplans.referral_choice"
CONVERSATION_TIMEOUT = 15 * 60
CHOICE_TIMEOUT = timedelta(seconds=CONVERSATION_TIMEOUT)
"""How long candidate buttons (patients, referrals) stay good."""
MAX_GOAL_ROWS = 40
"""Keyboard rows for goals under /plan (Telegram allows 100 buttons per keyboard)."""

_CHANGE_LABELS = {
    vocab.GoalStatus.MET: render.MET,
    vocab.GoalStatus.NOT_MET: render.NOT_MET,
    vocab.GoalStatus.DISCONTINUED: render.DISCONTINUE,
}
_REFERRAL_MOVES = (
    (render.SCHEDULED, vocab.ReferralStatus.SCHEDULED),
    (render.COMPLETED, vocab.ReferralStatus.COMPLETED),
    (render.DECLINED, vocab.ReferralStatus.DECLINED),
)


PatientIntent = GoalIntent | ReferralIntent | ReferralStatusIntent | ResourceGivenIntent
"""Care-plan messages about one patient."""


@dataclass(frozen=True)
class PendingPatient:
    """A care-plan message (``intent``) or /plan (``intent`` None) waiting for the nurse to
    tap which of ``candidates`` she meant. Kept in her user_data, never in callback data."""

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


class Step(IntEnum):
    """Where a care-plan question is."""

    OUTCOME = 1
    RESOURCE_NAME = 2
    RESOURCE_KIND = 3
    RESOURCE_CONTACT = 4
    RESOURCE_NOTES = 5
    INTERVENTION = 6
    NOTE = 7


async def _say(update: Update, context: CaseContext, text: str, markup: Any = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


def _pending(context: CaseContext) -> dict[str, Any]:
    data = context.user_data
    assert data is not None
    found = data.get(PENDING_KEY)
    if not isinstance(found, dict):
        found = {}
        data[PENDING_KEY] = found
    return found


def _clear(context: CaseContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(PENDING_KEY, None)


def _today(context: CaseContext) -> date:
    return context.services.clock.now().astimezone(context.me.zone).date()


# -- free text, from handlers.records' router ---------------------------------------------------


async def handle_intent(
    update: Update, context: CaseContext, intent: CarePlanIntent, source: MessageKey | None
) -> None:
    """Save or answer a goal, referral, referral status, resource search or resource given;
    with several patients of that name, ask which one with buttons first."""
    if isinstance(intent, ResourceQueryIntent):
        await _answer_resources(update, context, intent.resource_kind, intent.search)
        return
    patient = intent.patient
    if patient is not None and patient.id is not None:
        await _carry_out(update, context, intent, patient.id, source)
        return
    choices = tuple(c for c in intent.candidates if c.id is not None)
    if choices:
        await _ask_patient(update, context, intent.patient_text, choices, intent, source)
        return
    await _say(update, context, render.patient_unclear(intent.patient_text, intent.candidates))


async def _carry_out(
    update: Update,
    context: CaseContext,
    intent: PatientIntent,
    patient_id: int,
    source: MessageKey | None,
) -> None:
    """Save a care-plan message about one known patient, and reply after the commit."""
    services, nurse = context.services, context.me
    if isinstance(intent, GoalIntent):
        await _goal(update, context, intent, patient_id, source)
    elif isinstance(intent, ReferralStatusIntent):
        await _move_referral(update, context, intent, patient_id, source)
    elif isinstance(intent, ReferralIntent):
        if not intent.to_whom:
            name = intent.patient.name if intent.patient is not None else ""
            await _say(update, context, render.referral_needs_whom(name))
            return
        result = await referrals.log_referral(
            services.db, services.config, services.clock, nurse=nurse, source=source,
            patient_id=patient_id, to_whom=intent.to_whom, specialty=intent.specialty,
            reason=intent.reason, sent_on=intent.sent_on,
        )  # fmt: skip
        if isinstance(result, Refusal):
            await _say(update, context, render.refusal(result))
            return
        await _say(
            update,
            context,
            render.referral_saved(
                result.patient_name,
                result.to_whom,
                result.reason,
                result.sent_on,
                result.follow_up_due,
                nurse.zone,
            ),  # fmt: skip
        )
    else:
        given = await resources.record_given(
            services.db, services.clock, nurse=nurse, source=source, patient_id=patient_id,
            resource_text=intent.resource, given_on=intent.given_on,
        )  # fmt: skip
        if isinstance(given, Refusal):
            await _say(update, context, render.refusal(given))
            return
        await _say(
            update,
            context,
            render.given_saved(
                given.patient_name,
                given.resource_text,
                given.resource is not None,
                given.given_on,
            ),  # fmt: skip
        )


# -- choosing among patients or referrals: the action waits server-side ----------------------


async def _ask_patient(
    update: Update,
    context: CaseContext,
    written: str | None,
    candidates: tuple[PatientRef, ...],
    intent: PatientIntent | None,
    source: MessageKey | None,
) -> None:
    """Keep the action pending and show one button per candidate patient."""
    token = _remember_choice(
        context,
        PATIENT_CHOICE_KEY,
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
    await _say(update, context, render.pick_patient(written), InlineKeyboardMarkup(rows))


def _remember_choice(
    context: CaseContext,
    key: str,
    make: Callable[[str, datetime], PendingPatient | PendingReferral],
) -> str:
    """Store a new pending choice under ``key`` (replacing an older one) and return its
    one-time token."""
    token = secrets.token_urlsafe(6)
    data = context.user_data
    assert data is not None
    data[key] = make(token, context.services.clock.now())
    return token


def _take_choice(
    context: CaseContext, key: str, token: str, chosen: int, kind: type[_Pending]
) -> tuple[_Pending, int] | str:
    """The pending choice a press (`token`, `chosen` id) answers, taken out of user_data; or
    the reply for a press of an older question, expired or not one of the choices (forged),
    which takes nothing. No await inside: two quick presses cannot both take it."""
    user_data = context.user_data
    found = user_data.get(key) if user_data is not None else None
    if not isinstance(found, kind):
        return render.CHOICE_CLOSED
    assert user_data is not None
    if not secrets.compare_digest(found.token.encode(), token.encode()):
        return render.CHOICE_CLOSED
    if context.services.clock.now() - found.asked_at > CHOICE_TIMEOUT:
        user_data.pop(key, None)
        return render.CHOICE_CLOSED
    if chosen not in found.choice_ids:
        return render.NOT_A_CHOICE
    user_data.pop(key, None)
    return found, chosen


async def patient_button(update: Update, context: CaseContext, press: PatientChoice) -> None:
    """A candidate patient tapped: carry out the pending care-plan message (or /plan) for her."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    taken = _take_choice(context, PATIENT_CHOICE_KEY, press.token, press.patient_id, PendingPatient)
    if isinstance(taken, str):
        await _say(update, context, taken)
        return
    pending, patient_id = taken
    if pending.intent is None:
        await _show_plan(update, context, patient_id)
        return
    chosen = next(c for c in pending.candidates if c.id == patient_id)
    intent = dataclasses.replace(pending.intent, patient=chosen, candidates=())
    await _carry_out(update, context, intent, patient_id, pending.source)


async def _move_referral(
    update: Update,
    context: CaseContext,
    intent: ReferralStatusIntent,
    patient_id: int,
    source: MessageKey | None,
) -> None:
    """Move the referral the message names; ask which one when several fit."""
    services = context.services
    status = intent.status
    result = await referrals.move_referral(
        services.db, services.clock, nurse=context.me, source=source, patient_id=patient_id,
        to_whom=intent.to_whom, specialty=intent.specialty, status=status,
    )  # fmt: skip
    if isinstance(result, Refusal):
        await _say(update, context, render.refusal(result))
    elif isinstance(result, referrals.NoMatchingReferral):
        reply = render.no_matching_referral(
            result.patient_name,
            intent.to_whom,
            status.value,
            [(r.to_whom, r.status) for r in result.open_referrals],
            result.already.to_whom if result.already is not None else None,
        )
        await _say(update, context, reply)
    elif isinstance(result, referrals.ReferralChoice):
        ids = tuple(r.id for r in result.referrals)
        token = _remember_choice(
            context,
            REFERRAL_CHOICE_KEY,
            lambda token, at: PendingReferral(token, status, ids, source, at),
        )
        rows = [
            [
                InlineKeyboardButton(
                    render.referral_choice_label(r.to_whom, r.sent_on, r.status),
                    callback_data=ReferralChoice(token, r.id).pack(),
                )
            ]
            for r in result.referrals
        ]
        await _say(
            update,
            context,
            render.which_referral(result.patient_name, status.value),
            InlineKeyboardMarkup(rows),
        )
    else:
        await _say(
            update,
            context,
            render.referral_status(result.patient_name, result.to_whom, result.status),
        )


async def referral_choice_button(
    update: Update, context: CaseContext, press: ReferralChoice
) -> None:
    """A referral tapped among those a status message fitted: move it."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    taken = _take_choice(
        context, REFERRAL_CHOICE_KEY, press.token, press.referral_id, PendingReferral
    )
    if isinstance(taken, str):
        await _say(update, context, taken)
        return
    pending, referral_id = taken
    services = context.services
    result = await referrals.set_status(
        services.db, services.clock, nurse=context.me, referral_id=referral_id,
        status=pending.status, command="text", source=pending.source,
    )  # fmt: skip
    if isinstance(result, Refusal):
        await _say(update, context, render.refusal(result))
        return
    await _say(
        update, context, render.referral_status(result.patient_name, result.to_whom, result.status)
    )


async def _goal(
    update: Update,
    context: CaseContext,
    intent: GoalIntent,
    patient_id: int,
    source: MessageKey | None,
) -> None:
    services, nurse = context.services, context.me
    if intent.change is None:
        saved = await plans.add_goal(
            services.db, services.clock, nurse=nurse, source=source, patient_id=patient_id,
            text=intent.text, target_on=intent.target,
        )  # fmt: skip
        if isinstance(saved, Refusal):
            await _say(update, context, render.refusal(saved))
            return
        await _say(
            update,
            context,
            render.goal_saved(
                saved.patient_name,
                saved.goal.text,
                saved.goal.target_on,
                _today(context),
                nurse.zone,
            ),  # fmt: skip
        )
        return
    result = await plans.close_goal(
        services.db, services.clock, nurse=nurse, source=source, patient_id=patient_id,
        change=intent.change, outcome=intent.outcome, hint=intent.text,
    )  # fmt: skip
    await _after_close(update, context, result, intent.change, intent.outcome)


async def _after_close(
    update: Update,
    context: CaseContext,
    result: plans.GoalSaved | plans.GoalChoice | Refusal,
    change: GoalStatus,
    outcome: str,
) -> None:
    if isinstance(result, plans.GoalChoice):
        pending = _pending(context)
        pending.update(change=change.value, outcome=outcome, patient_id=result.patient_id)
        buttons = [
            [
                InlineKeyboardButton(
                    render.goal_button(g.text), callback_data=GoalAction("pick", g.id).pack()
                )
            ]
            for g in result.goals
        ]
        await _say(
            update, context, render.which_goal(result.patient_name), InlineKeyboardMarkup(buttons)
        )
        return
    if isinstance(result, Refusal):
        await _say(update, context, render.refusal(result))
        return
    goal = result.goal
    await _say(
        update, context, render.goal_closed(result.patient_name, goal.text, goal.status, outcome)
    )


async def pick_goal(update: Update, context: CaseContext, press: GoalAction) -> None:
    """Close the goal the nurse tapped with the outcome her message gave."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    pending = _pending(context)
    # A goal button of /plan ([Met] ...) pends a change too, but for a goal it already knows.
    if "change" not in pending or "patient_id" not in pending:
        await _say(update, context, render.TIMED_OUT)
        return
    _clear(context)
    services = context.services
    change = GoalStatus(pending["change"])
    outcome = str(pending.get("outcome", ""))
    result = await plans.close_goal(
        services.db, services.clock, nurse=context.me, source=None,
        patient_id=int(pending["patient_id"]), change=change, outcome=outcome,
        goal_id=press.goal_id,
        command="button",
    )  # fmt: skip
    await _after_close(update, context, result, change, outcome)


# -- /plan and the goal buttons -----------------------------------------------------------------


async def plan_command(update: Update, context: CaseContext) -> None:
    """/plan <name>: the patient's care plan with [Met] [Not met] [Discontinue] per goal."""
    services, nurse = context.services, context.me
    name = " ".join(context.args or []).strip()
    if not name:
        await _say(update, context, render.PLAN_USAGE)
        return
    lookup = await find_patients(services.db, nurse, name, now=services.clock.now())
    if lookup.patient is None or lookup.patient.id is None:
        choices = tuple(c for c in lookup.candidates if c.id is not None)
        if choices:
            await _ask_patient(update, context, name, choices, None, None)
        else:
            await _say(update, context, render.not_found_patient(name))
        return
    await _show_plan(update, context, lookup.patient.id)


async def _show_plan(update: Update, context: CaseContext, patient_id: int) -> None:
    """The patient's care plan with its goal and note buttons."""
    services, nurse = context.services, context.me
    view = await plans.plan(services.db, services.clock, nurse=nurse, patient_id=patient_id)
    if isinstance(view, Refusal):
        await _say(update, context, render.refusal(view))
        return
    text = render.render_plan(
        name=view.patient_name,
        goals=[(g.text, g.target_on, g.status, g.outcome, g.interventions) for g in view.goals],
        notes=[(n.at, n.text) for n in view.notes],
        referrals=[(r.to_whom, r.sent_on, r.status) for r in view.referrals],
        given=[(g.at, g.text) for g in view.given],
        zone=nurse.zone,
        today=_today(context),
    )
    rows: list[list[InlineKeyboardButton]] = []
    for i, goal in enumerate(view.goals, 1):
        if goal.status != "active" or len(rows) >= MAX_GOAL_ROWS:
            continue
        rows.append(
            [
                InlineKeyboardButton(
                    f"{i}. {label}", callback_data=CloseGoal(status, goal.id).pack()
                )
                for status, label in _CHANGE_LABELS.items()
            ]
        )
        rows.append(
            [
                InlineKeyboardButton(
                    f"{i}. {render.ADD_INTERVENTION}",
                    callback_data=GoalAction("intervention", goal.id).pack(),
                )
            ]
        )
    rows.append(
        [InlineKeyboardButton(render.ADD_NOTE, callback_data=PlanNote(view.patient_id).pack())]
    )
    await _say(update, context, text, InlineKeyboardMarkup(rows))


async def _ask_for_text(
    update: Update, context: CaseContext, *, row_id: int, key: str, prompt: str, step: Step
) -> int:
    """A button that asks for a typed answer: keep its id under `key`, ask, wait in `step`."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    _clear(context)
    _pending(context)[key] = row_id
    await _say(update, context, prompt)
    return step


async def intervention_button(update: Update, context: CaseContext, press: GoalAction) -> int:
    """[Add intervention] under a goal: ask what it is."""
    return await _ask_for_text(
        update, context, row_id=press.goal_id, key="goal_id", prompt=render.ASK_INTERVENTION,
        step=Step.INTERVENTION,
    )  # fmt: skip


async def _typed_answer(update: Update, context: CaseContext, key: str) -> tuple[int, str] | None:
    """The id a button asked about (``key``) and the text typed for it; None, after saying
    the question timed out, when there is no such question or nothing was typed."""
    message = update.effective_message
    assert message is not None
    pending = _pending(context)
    _clear(context)
    text = (message.text or "").strip()
    if key not in pending or not text:
        await _say(update, context, render.TIMED_OUT)
        return None
    return int(pending[key]), text


async def intervention_text(update: Update, context: CaseContext) -> int:
    """The intervention typed: save it under the goal."""
    answer = await _typed_answer(update, context, "goal_id")
    if answer is None:
        return ConversationHandler.END
    goal_id, text = answer
    services = context.services
    saved = await plans.add_intervention(
        services.db, services.clock, nurse=context.me, goal_id=goal_id, text=text
    )
    if isinstance(saved, Refusal):
        await _say(update, context, render.refusal(saved))
    else:
        await _say(update, context, render.intervention_saved(saved.patient_name, text))
    return ConversationHandler.END


async def note_button(update: Update, context: CaseContext, press: PlanNote) -> int:
    """[Add progress note] under the plan: ask for it."""
    return await _ask_for_text(
        update, context, row_id=press.patient_id, key="patient_id", prompt=render.ASK_NOTE,
        step=Step.NOTE,
    )  # fmt: skip


async def note_text(update: Update, context: CaseContext) -> int:
    """The progress note typed: save it on the plan."""
    answer = await _typed_answer(update, context, "patient_id")
    if answer is None:
        return ConversationHandler.END
    patient_id, text = answer
    services = context.services
    saved = await plans.add_progress_note(
        services.db, services.clock, nurse=context.me, patient_id=patient_id, text=text
    )
    if isinstance(saved, Refusal):
        await _say(update, context, render.refusal(saved))
    else:
        await _say(update, context, render.note_saved(saved.patient_name))
    return ConversationHandler.END


async def goal_button(update: Update, context: CaseContext, press: CloseGoal) -> int:
    """[Met] / [Not met] / [Discontinue] under a goal: ask for the outcome."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    _clear(context)
    _pending(context).update(goal_id=press.goal_id, change=press.status.value)
    await _say(update, context, render.ask_outcome(_CHANGE_LABELS[press.status]))
    return Step.OUTCOME


async def outcome_text(update: Update, context: CaseContext) -> int:
    """The outcome typed after a goal button (or /skip)."""
    message = update.effective_message
    assert message is not None
    pending = _pending(context)
    if "goal_id" not in pending:
        await _say(update, context, render.TIMED_OUT)
        return ConversationHandler.END
    text = (message.text or "").strip()
    outcome = "" if text.lower() == render.SKIP else text
    _clear(context)
    services = context.services
    goal_id = int(pending["goal_id"])
    change = GoalStatus(pending["change"])
    result = await plans.close_goal(
        services.db, services.clock, nurse=context.me, source=MessageKey(message.chat_id,
        message.message_id), patient_id=None, change=change, outcome=outcome,
        goal_id=goal_id, command="plan",
    )  # fmt: skip
    await _after_close(update, context, result, change, outcome)
    return ConversationHandler.END


# -- /referrals -----------------------------------------------------------------------------------


async def referrals_command(update: Update, context: CaseContext) -> None:
    """/referrals: her open referrals with status buttons."""
    services, nurse = context.services, context.me
    views = await referrals.open_referrals(services.db, services.clock, nurse=nurse)
    text = render.render_referrals(
        [(v.patient_name, v.to_whom, v.sent_on, v.status, v.follow_up_due) for v in views],
        nurse.zone,
        _today(context),
    )
    rows = [
        [
            InlineKeyboardButton(f"{i}. {label}", callback_data=MoveReferral(status, v.id).pack())
            for label, status in _REFERRAL_MOVES
            if status.value != v.status
        ]
        for i, v in enumerate(views, 1)
    ]
    await _say(update, context, text, InlineKeyboardMarkup(rows[:30]) if rows else None)


async def referral_button(update: Update, context: CaseContext, press: MoveReferral) -> None:
    """Move a referral to scheduled / completed / declined."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    services = context.services
    result = await referrals.set_status(
        services.db, services.clock, nurse=context.me, referral_id=press.referral_id,
        status=ReferralStatus(press.status),
    )  # fmt: skip
    if isinstance(result, Refusal):
        await _say(update, context, render.refusal(result))
        return
    await _say(
        update, context, render.referral_status(result.patient_name, result.to_whom, result.status)
    )


# -- /resources -----------------------------------------------------------------------------------


def _add_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(render.ADD_RESOURCE, callback_data=AddResource().pack())]]
    )


async def _answer_resources(
    update: Update, context: CaseContext, kind_text: str | None, words: str
) -> None:
    kind = ResourceKind(kind_text) if kind_text else None
    rows = await resources.search(context.services.db, nurse=context.me, kind=kind, words=words)
    what = labels.RESOURCE_KIND[kind] if kind else (words or None)
    text = render.render_resources([(r.kind, r.name, r.contact, r.notes) for r in rows], what=what)
    await _say(update, context, text, _add_keyboard())


async def resources_command(update: Update, context: CaseContext) -> None:
    """/resources [kind or words]: search the team's directory."""
    words = " ".join(context.args or []).strip()
    kind = resource_kind_of(words) if words else None
    await _answer_resources(update, context, kind.value if kind else None, "" if kind else words)


async def add_resource_button(update: Update, context: CaseContext, press: AddResource) -> int:
    """[Add a resource]: ask its name."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    _clear(context)
    await _say(update, context, render.ASK_RESOURCE_NAME)
    return Step.RESOURCE_NAME


async def resource_name(update: Update, context: CaseContext) -> int:
    """The new resource's name: ask its kind."""
    message = update.effective_message
    assert message is not None
    name = " ".join((message.text or "").split())[:120]
    if not name:
        await _say(update, context, render.ASK_RESOURCE_NAME)
        return Step.RESOURCE_NAME
    _pending(context)["name"] = name
    buttons = [
        InlineKeyboardButton(label, callback_data=ResourceKindChoice(ResourceKind(kind)).pack())
        for kind, label in labels.RESOURCE_KIND.items()
    ]
    await _say(
        update,
        context,
        render.ask_resource_kind(name),
        InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
    )
    return Step.RESOURCE_KIND


async def resource_kind(update: Update, context: CaseContext, press: ResourceKindChoice) -> int:
    """The kind tapped: ask contact details."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    pending = _pending(context)
    if "name" not in pending:
        await _say(update, context, render.TIMED_OUT)
        return ConversationHandler.END
    pending["kind"] = press.kind.value
    await _say(update, context, render.ask_resource_contact(pending["name"]))
    return Step.RESOURCE_CONTACT


async def resource_contact(update: Update, context: CaseContext) -> int:
    """Contact details (or /skip): ask notes."""
    message = update.effective_message
    assert message is not None
    text = (message.text or "").strip()
    pending = _pending(context)
    pending["contact"] = "" if text.lower() == render.SKIP else text[:200]
    await _say(update, context, render.ask_resource_notes(pending.get("name", "")))
    return Step.RESOURCE_NOTES


async def resource_notes(update: Update, context: CaseContext) -> int:
    """Notes (or /skip): save the resource."""
    message = update.effective_message
    assert message is not None
    text = (message.text or "").strip()
    pending = _pending(context)
    _clear(context)
    if "kind" not in pending:
        await _say(update, context, render.TIMED_OUT)
        return ConversationHandler.END
    services = context.services
    saved = await resources.add_resource(
        services.db, services.clock, nurse=context.me, kind=ResourceKind(pending["kind"]),
        name=pending["name"], contact=pending.get("contact", ""),
        notes="" if text.lower() == render.SKIP else text,
    )  # fmt: skip
    await _say(update, context, render.resource_saved(saved.name, saved.kind))
    return ConversationHandler.END


async def cancel(update: Update, context: CaseContext) -> int:
    """/cancel inside a care-plan question."""
    _clear(context)
    await _say(update, context, render.CANCELLED)
    return ConversationHandler.END


async def timed_out(update: Update, context: CaseContext) -> None:
    """A question left unanswered for a while."""
    _clear(context)


# -- registration ---------------------------------------------------------------------------------


def conversation() -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
    skip = CommandHandler("skip", outcome_text)
    return quiet_conversation(
        entry_points=[
            on_press(CloseGoal, goal_button),
            on_press(AddResource, add_resource_button),
            on_press(GoalAction, intervention_button, action="intervention"),
            on_press(PlanNote, note_button),
        ],
        states={
            Step.OUTCOME: [MessageHandler(text, inbox.unless_new(outcome_text)), skip],
            Step.RESOURCE_NAME: [MessageHandler(text, inbox.unless_new(resource_name))],
            Step.RESOURCE_KIND: [on_press(ResourceKindChoice, resource_kind)],
            Step.RESOURCE_CONTACT: [
                MessageHandler(text, inbox.unless_new(resource_contact)),
                CommandHandler("skip", resource_contact),
            ],
            Step.RESOURCE_NOTES: [
                MessageHandler(text, inbox.unless_new(resource_notes)),
                CommandHandler("skip", resource_notes),
            ],
            Step.INTERVENTION: [MessageHandler(text, inbox.unless_new(intervention_text))],
            Step.NOTE: [MessageHandler(text, inbox.unless_new(note_text))],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        conversation_timeout=CONVERSATION_TIMEOUT,
        name="careplans",
    )


def register(app: Application, group: int = 0) -> None:  # type: ignore[type-arg]
    """/plan, /referrals, /resources, their buttons and the care-plan questions. Must come
    before handlers.records (its free-text catch-all would take the typed answers)."""
    app.add_handler(conversation(), group=group)
    inbox.add_route(app, inbox.Route.CARE_PLAN, _care_plan_route)
    app.add_handler(CommandHandler("plan", plan_command), group=group)
    app.add_handler(CommandHandler("referrals", referrals_command), group=group)
    app.add_handler(CommandHandler("resources", resources_command), group=group)
    for button in (
        on_press(GoalAction, pick_goal, action="pick"),
        on_press(MoveReferral, referral_button),
        on_press(PatientChoice, patient_button, stale=render.CHOICE_CLOSED),
        on_press(ReferralChoice, referral_choice_button, stale=render.CHOICE_CLOSED),
    ):
        app.add_handler(button, group=group)


async def _care_plan_route(update: Update, context: CaseContext, inbound: inbox.Inbound) -> None:
    """The inbox's CARE_PLAN route: a goal, referral or resource message."""
    intent = inbound.reading.first
    assert isinstance(intent, inbox.CARE_PLAN_FACTS)
    await handle_intent(update, context, intent, inbound.key)

"""The care-plan messages the free-text router hands over (``handle_intent``): save the goal,
referral, referral status or resource given for the one patient named, or ask which patient
with buttons first; answer a resource question.

Must not import storage or another handlers topic.
"""

from __future__ import annotations

import dataclasses

from telegram import Update

from bot.app.context import CaseContext
from bot.parsing.careplans import (
    CarePlanIntent,
    GoalIntent,
    ReferralIntent,
    ReferralStatusIntent,
    ResourceQueryIntent,
)
from bot.render import careplans as render
from bot.render.callbacks import PatientChoice
from bot.services.ledger import MessageKey
from handlers.careplans import goals, referrals, resources
from handlers.careplans.state import (
    PatientIntent,
    PendingPatient,
    ask_patient,
    press_choice,
    say,
    state,
)


async def handle_intent(
    update: Update, context: CaseContext, intent: CarePlanIntent, source: MessageKey | None
) -> None:
    """Save or answer a goal, referral, referral status, resource search or resource given;
    with several patients of that name, ask which one with buttons first."""
    if isinstance(intent, ResourceQueryIntent):
        await resources.answer_resources(update, context, intent.resource_kind, intent.search)
        return
    patient = intent.patient
    if patient is not None and patient.id is not None:
        await _carry_out(update, context, intent, patient.id, source)
        return
    choices = tuple(c for c in intent.candidates if c.id is not None)
    if choices:
        await ask_patient(update, context, intent.patient_text, choices, intent, source)
        return
    await say(update, context, render.patient_unclear(intent.patient_text, intent.candidates))


async def _carry_out(
    update: Update,
    context: CaseContext,
    intent: PatientIntent,
    patient_id: int,
    source: MessageKey | None,
) -> None:
    """Save a care-plan message about one known patient, and reply after the commit."""
    if isinstance(intent, GoalIntent):
        await goals.save_goal(update, context, intent, patient_id, source)
    elif isinstance(intent, ReferralStatusIntent):
        await referrals.move_referral(update, context, intent, patient_id, source)
    elif isinstance(intent, ReferralIntent):
        await referrals.log_referral(update, context, intent, patient_id, source)
    else:
        await resources.record_given(update, context, intent, patient_id, source)


async def patient_button(update: Update, context: CaseContext, press: PatientChoice) -> None:
    """A candidate patient tapped: carry out the pending care-plan message (or /plan) for her."""
    taken = await press_choice(
        update, context, state(context).patients, press.token, press.patient_id, PendingPatient
    )
    if taken is None:
        return
    pending, patient_id = taken
    if pending.intent is None:
        await goals.show_plan(update, context, patient_id)
        return
    chosen = next(c for c in pending.candidates if c.id == patient_id)
    intent = dataclasses.replace(pending.intent, patient=chosen, candidates=())
    await _carry_out(update, context, intent, patient_id, pending.source)

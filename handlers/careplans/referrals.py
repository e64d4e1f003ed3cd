"""Referrals by chat: a referral logged or moved on by a message (asking which one when several
fit), /referrals with its status buttons.

Must not import storage or another handlers topic.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import vocab
from bot.app.context import CaseContext
from bot.parsing.careplans import ReferralIntent, ReferralStatusIntent
from bot.render import careplans as render
from bot.render.callbacks import MoveReferral, ReferralChoice
from bot.services import referrals as service
from bot.services.ledger import MessageKey
from bot.vocab import Refusal
from handlers.careplans.state import (
    PendingReferral,
    answer_press,
    press_choice,
    remember_choice,
    say,
    state,
    today,
)

_REFERRAL_MOVES = (
    (render.SCHEDULED, vocab.ReferralStatus.SCHEDULED),
    (render.COMPLETED, vocab.ReferralStatus.COMPLETED),
    (render.DECLINED, vocab.ReferralStatus.DECLINED),
)


async def log_referral(
    update: Update,
    context: CaseContext,
    intent: ReferralIntent,
    patient_id: int,
    source: MessageKey | None,
) -> None:
    """Save a referral the message sent (to whom it went is required)."""
    services, nurse = context.services, context.me
    if not intent.to_whom:
        name = intent.patient.name if intent.patient is not None else ""
        await say(update, context, render.referral_needs_whom(name))
        return
    result = await service.log_referral(
        services.db, services.config, services.clock, nurse=nurse, source=source,
        patient_id=patient_id, to_whom=intent.to_whom, specialty=intent.specialty,
        reason=intent.reason, sent_on=intent.sent_on,
    )  # fmt: skip
    if isinstance(result, Refusal):
        await say(update, context, render.refusal(result))
        return
    await say(
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


async def move_referral(
    update: Update,
    context: CaseContext,
    intent: ReferralStatusIntent,
    patient_id: int,
    source: MessageKey | None,
) -> None:
    """Move the referral the message names; ask which one when several fit."""
    services = context.services
    status = intent.status
    result = await service.move_referral(
        services.db, services.clock, nurse=context.me, source=source, patient_id=patient_id,
        to_whom=intent.to_whom, specialty=intent.specialty, status=status,
    )  # fmt: skip
    if isinstance(result, Refusal):
        await say(update, context, render.refusal(result))
    elif isinstance(result, service.NoMatchingReferral):
        reply = render.no_matching_referral(
            result.patient_name,
            intent.to_whom,
            status.value,
            [(r.to_whom, r.status) for r in result.open_referrals],
            result.already.to_whom if result.already is not None else None,
        )
        await say(update, context, reply)
    elif isinstance(result, service.ReferralChoice):
        ids = tuple(r.id for r in result.referrals)
        token = remember_choice(
            context,
            state(context).referrals,
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
        await say(
            update,
            context,
            render.which_referral(result.patient_name, status.value),
            InlineKeyboardMarkup(rows),
        )
    else:
        await say(
            update,
            context,
            render.referral_status(result.patient_name, result.to_whom, result.status),
        )


async def referral_choice_button(
    update: Update, context: CaseContext, press: ReferralChoice
) -> None:
    """A referral tapped among those a status message fitted: move it."""
    taken = await press_choice(
        update, context, state(context).referrals, press.token, press.referral_id, PendingReferral
    )
    if taken is None:
        return
    pending, referral_id = taken
    services = context.services
    result = await service.set_status(
        services.db, services.clock, nurse=context.me, referral_id=referral_id,
        status=pending.status, command="text", source=pending.source,
    )  # fmt: skip
    await _say_moved(update, context, result)


async def _say_moved(
    update: Update, context: CaseContext, result: service.ReferralView | Refusal
) -> None:
    if isinstance(result, Refusal):
        await say(update, context, render.refusal(result))
        return
    await say(
        update, context, render.referral_status(result.patient_name, result.to_whom, result.status)
    )


# -- /referrals -----------------------------------------------------------------------------------


async def referrals_command(update: Update, context: CaseContext) -> None:
    """/referrals: her open referrals with status buttons."""
    services, nurse = context.services, context.me
    views = await service.open_referrals(services.db, services.clock, nurse=nurse)
    text = render.render_referrals(
        [(v.patient_name, v.to_whom, v.sent_on, v.status, v.follow_up_due) for v in views],
        nurse.zone,
        today(context),
    )
    rows = [
        [
            InlineKeyboardButton(f"{i}. {label}", callback_data=MoveReferral(status, v.id).pack())
            for label, status in _REFERRAL_MOVES
            if status.value != v.status
        ]
        for i, v in enumerate(views, 1)
    ]
    await say(update, context, text, InlineKeyboardMarkup(rows[:30]) if rows else None)


async def referral_button(update: Update, context: CaseContext, press: MoveReferral) -> None:
    """Move a referral to scheduled / completed / declined."""
    await answer_press(update)
    services = context.services
    result = await service.set_status(
        services.db, services.clock, nurse=context.me, referral_id=press.referral_id,
        status=press.status,
    )  # fmt: skip
    await _say_moved(update, context, result)

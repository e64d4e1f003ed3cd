"""/start <code> (enrollment) and /settings: time zone, digest time, how pushes name patients.

One ConversationHandler: enrolling leads straight into the time-zone and digest-time steps,
and /settings reopens them. Buttons carry only short choices (bot.render.callbacks), never
patient data.
"""

from __future__ import annotations

import html
from datetime import time
from enum import IntEnum
from typing import get_args

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.app.context import CaseContext
from bot.parsing.zones import COMMON_ZONES, parse_clock_time, resolve_zone, zone_label
from bot.render import inbox as inbox_render
from bot.render import labels, messages
from bot.render.callbacks import (
    DigestTime,
    ForgetTerm,
    PrivacyChoice,
    SettingsMenu,
    ShowTerms,
    ZoneChoice,
)
from bot.services import enrollment, shorthand
from bot.vocab import PrivacyMode, RedeemFailure, Refusal
from handlers import inbox
from handlers.common import on_press, quiet_conversation

DIGEST_CHOICES = (time(6, 30), time(7, 0), time(7, 30), time(8, 0), time(8, 30), time(9, 0))
PRIVACY_CHOICES: tuple[tuple[PrivacyMode, str], ...] = tuple(
    (mode, labels.PRIVACY_MODE[mode]) for mode in get_args(PrivacyMode)
)


class Step(IntEnum):
    MENU = 1
    ZONE = 2
    DIGEST = 3
    PRIVACY = 4


def zone_keyboard() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(label, callback_data=ZoneChoice(zone).pack())
        for label, zone in COMMON_ZONES
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def digest_keyboard() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(t.strftime("%H:%M"), callback_data=DigestTime(t).pack())
        for t in DIGEST_CHOICES
    ]
    return InlineKeyboardMarkup([buttons[0:3], buttons[3:6]])


def menu_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Time zone", callback_data=SettingsMenu("zone").pack())],
            [
                InlineKeyboardButton(
                    "Morning digest time", callback_data=SettingsMenu("digest").pack()
                )
            ],
            [
                InlineKeyboardButton(
                    "Patient names in pushes", callback_data=SettingsMenu("privacy").pack()
                )
            ],
            [InlineKeyboardButton(inbox_render.MY_WORDS, callback_data=ShowTerms().pack())],
            [InlineKeyboardButton("Done", callback_data=SettingsMenu("done").pack())],
        ]
    )


def privacy_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=PrivacyChoice(mode).pack())]
            for mode, label in PRIVACY_CHOICES
        ]
    )


DIGEST_QUESTION = (
    "<b>When should your morning digest arrive?</b> Tap a time or type one (e.g. <i>6:45</i>)."
)


async def start(update: Update, context: CaseContext) -> int:
    """Enroll with an invite code, or greet an enrolled nurse."""
    assert update.effective_user is not None
    assert update.effective_chat is not None
    message = update.effective_message
    assert message is not None
    if context.nurse is not None:
        await message.reply_text(
            f"Hello again, {html.escape(context.nurse.display_name)}. "
            "Send /help to see what I can do."
        )
        return ConversationHandler.END
    code = (context.args or [""])[0][:64]
    user = update.effective_user
    services = context.services
    result = await enrollment.redeem_invite(
        services.db,
        services.config,
        services.clock,
        code=code,
        telegram_user_id=user.id,
        chat_id=update.effective_chat.id,
        fallback_name=user.full_name[:120] or "Nurse",
    )
    if isinstance(result, RedeemFailure):
        await message.reply_text(messages.INVITE_INVALID)
        return ConversationHandler.END
    context.nurse = result
    await message.reply_text(
        messages.welcome(result.display_name, result.role), reply_markup=zone_keyboard()
    )
    return Step.ZONE


async def open_settings(update: Update, context: CaseContext) -> int:
    """Show the settings menu with the current values."""
    nurse = context.me
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _summary(nurse.timezone, nurse.digest_time, nurse.privacy_mode),
        reply_markup=menu_keyboard(),
    )
    return Step.MENU


def _summary(zone: str, digest: time, privacy: str) -> str:
    names = next((label for mode, label in PRIVACY_CHOICES if mode == privacy), privacy)
    return (
        "<b>Your settings</b>\n"
        f"Time zone: {html.escape(zone_label(zone))}\n"
        f"Morning digest: {digest.strftime('%H:%M')}\n"
        f"Patients in pushes: {names}"
    )


async def menu_choice(update: Update, context: CaseContext, press: SettingsMenu) -> int:
    """Open the step the nurse picked from the settings menu."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    choice = press.item
    if choice == "zone":
        await query.edit_message_text(
            "Which time zone do you work in? Tap one or type a city.", reply_markup=zone_keyboard()
        )
        return Step.ZONE
    if choice == "digest":
        await query.edit_message_text(DIGEST_QUESTION, reply_markup=digest_keyboard())
        return Step.DIGEST
    if choice == "privacy":
        await query.edit_message_text(
            "<b>How should reminders and digests name patients?</b> Telegram is not a "
            "HIPAA-covered channel, so initials or a code are safer.",
            reply_markup=privacy_keyboard(),
        )
        return Step.PRIVACY
    nurse = context.me
    await query.edit_message_text(_summary(nurse.timezone, nurse.digest_time, nurse.privacy_mode))
    return ConversationHandler.END


async def zone_button(update: Update, context: CaseContext, press: ZoneChoice) -> int:
    """Save a time zone picked from the buttons."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    return await _save_zone(update, context, press.zone)


async def zone_text(update: Update, context: CaseContext) -> int:
    """Save a time zone typed as a city or zone name, or ask again kindly."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    zone = resolve_zone(message.text)
    if zone is None:
        await message.reply_text(
            f"I don't know the time zone “{html.escape(message.text[:40])}”. "
            "Try a nearby big city (e.g. <i>Denver</i>) or tap one:",
            reply_markup=zone_keyboard(),
        )
        return Step.ZONE
    return await _save_zone(update, context, zone)


async def _save_zone(update: Update, context: CaseContext, zone: str) -> int:
    services = context.services
    nurse = await enrollment.update_settings(
        services.db, services.config, services.clock, nurse_id=context.me.id, timezone=zone
    )
    context.nurse = nurse
    text = f"Time zone: <b>{html.escape(zone_label(zone))}</b>."
    assert update.effective_chat is not None
    if nurse.settings_done:
        await context.bot.send_message(update.effective_chat.id, text + " Saved.")
        return ConversationHandler.END
    await context.bot.send_message(
        update.effective_chat.id, f"{text}\n\n{DIGEST_QUESTION}", reply_markup=digest_keyboard()
    )
    return Step.DIGEST


async def digest_button(update: Update, context: CaseContext, press: DigestTime) -> int:
    """Save a digest time picked from the buttons."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    return await _save_digest(update, context, press.at)


async def digest_text(update: Update, context: CaseContext) -> int:
    """Save a typed digest time, or ask again kindly."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    chosen = parse_clock_time(message.text)
    if chosen is None:
        await message.reply_text(
            "I couldn't read that as a time. Please type it like <i>7:30</i> or <i>7am</i>, "
            "or tap one:",
            reply_markup=digest_keyboard(),
        )
        return Step.DIGEST
    return await _save_digest(update, context, chosen)


async def _save_digest(update: Update, context: CaseContext, chosen: time) -> int:
    services = context.services
    first_time = not context.me.settings_done
    nurse = await enrollment.update_settings(
        services.db,
        services.config,
        services.clock,
        nurse_id=context.me.id,
        digest_time=chosen,
        settings_done=True,
    )
    context.nurse = nurse
    assert update.effective_chat is not None
    text = f"Morning digest at <b>{chosen.strftime('%H:%M')}</b> ({html.escape(nurse.timezone)})."
    if first_time:
        text += " You're all set.\n\n" + messages.HELP
    else:
        text += " Saved."
    await context.bot.send_message(update.effective_chat.id, text)
    return ConversationHandler.END


async def privacy_button(update: Update, context: CaseContext, press: PrivacyChoice) -> int:
    """Save how pushes name patients."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    choice = press.mode
    services = context.services
    nurse = await enrollment.update_settings(
        services.db, services.config, services.clock, nurse_id=context.me.id, privacy_mode=choice
    )
    context.nurse = nurse
    await query.edit_message_text(
        f"Pushes will show: <b>{dict(PRIVACY_CHOICES)[choice]}</b>. Saved."
    )
    return ConversationHandler.END


async def cancel(update: Update, context: CaseContext) -> int:
    """Leave the settings conversation without changing anything."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(messages.CANCELLED)
    return ConversationHandler.END


async def timed_out(update: Update, context: CaseContext) -> None:
    """Tell the nurse the settings conversation closed."""
    if update.effective_chat is not None:
        await context.bot.send_message(
            update.effective_chat.id,
            "Settings closed after a quiet while; nothing else was changed. /settings reopens.",
        )


def conversation() -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
    return quiet_conversation(
        entry_points=[
            CommandHandler("start", start, filters=filters.UpdateType.MESSAGE),
            CommandHandler("settings", open_settings, filters=filters.UpdateType.MESSAGE),
        ],
        states={
            Step.MENU: [on_press(SettingsMenu, menu_choice)],
            Step.ZONE: [
                on_press(ZoneChoice, zone_button),
                MessageHandler(text, inbox.unless_new(zone_text)),
            ],
            Step.DIGEST: [
                on_press(DigestTime, digest_button),
                MessageHandler(text, inbox.unless_new(digest_text)),
            ],
            Step.PRIVACY: [on_press(PrivacyChoice, privacy_button)],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        conversation_timeout=15 * 60,
        name="settings",
        allow_reentry=True,
    )


async def show_terms(update: Update, context: CaseContext, press: ShowTerms) -> None:
    """[My words]: her learned terms, each with [Forget]."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await _send_terms(update, context)


async def _send_terms(update: Update, context: CaseContext) -> None:
    terms = await shorthand.list_terms(context.services.db, nurse=context.me)
    buttons = [
        [InlineKeyboardButton(f"{inbox_render.FORGET} {t.term}", callback_data=data)]
        for t in terms[:20]
        for data in (ForgetTerm(t.id).pack(),)
    ]
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id,
        inbox_render.terms_list([(t.term, t.meaning) for t in terms]),
        reply_markup=InlineKeyboardMarkup(buttons) if buttons else None,
    )


async def forget_term(update: Update, context: CaseContext, press: ForgetTerm) -> None:
    """[Forget ...]: she no longer means that by the word."""
    query = update.callback_query
    assert query is not None
    services = context.services
    gone = await shorthand.delete_term(
        services.db, services.clock, nurse=context.me, term_id=press.term_id
    )
    if isinstance(gone, Refusal):
        await query.answer(inbox_render.CLOSED, show_alert=True)
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, inbox_render.forgot(gone.term))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(conversation())
    # Her learned words (outside the conversation: they work from any /settings message).
    app.add_handler(on_press(ShowTerms, show_terms))
    app.add_handler(on_press(ForgetTerm, forget_term))

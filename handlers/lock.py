"""The idle lock, in group -90 (after the access gate and flood control, before everything else).

When `privacy.idle_lock_minutes` is set: a nurse without a PIN is asked to choose one; after the
idle minutes, anything but /help, /cancel and /start asks for her PIN first, and says plainly
that what she sent was NOT saved (send it again once unlocked). Messages holding a PIN are
deleted from the chat. Five wrong PINs lock her out and tell the admins; `/unlock <telegram id>`
(admins) lifts it. `/pin <new PIN>` changes the PIN while unlocked.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.app.context import CaseContext
from bot.render.text import esc
from bot.services import pin

LOCK_GROUP = -90
EXTRAS_KEY = "idle_lock"
EXEMPT_COMMANDS = frozenset({"/help", "/cancel", "/start"})
log = logging.getLogger(__name__)

CHOOSE_PIN = (
    "🔒 To protect patient data when your phone is left alone, choose a PIN of 4 to 8 digits "
    "and send it now. I'll delete the message with it. "
    "What you just sent was <b>NOT saved</b>: send it again after."
)
ASK_PIN = (
    "🔒 Locked after {minutes} idle minutes: send your PIN to continue. "
    "What you just sent was <b>NOT saved</b>: send it again after."
)
PIN_SET = "PIN set. You can carry on (send again anything that was not saved)."
PIN_CHANGED = "PIN changed."
UNLOCKED = "Unlocked. Send again anything that was not saved."
WRONG_PIN = "Wrong PIN. {remaining} tries left before your access is locked."
LOCKED_OUT = (
    "Your access is locked after {attempts} wrong PINs. An admin has been told and can unlock "
    "you; nothing you send is saved until then."
)
ADMIN_NOTICE = (
    "🔒 {name} typed {attempts} wrong PINs and is locked out. "
    "If that was her, unlock with /unlock {telegram_id} (she then chooses a new PIN)."
)
PIN_USAGE = "Send /pin followed by a new PIN of 4 to 8 digits, e.g. /pin 482913."
LOCK_OFF = "The idle lock is off on this server, so no PIN is needed."


def _tracker(context: CaseContext) -> pin.IdleTracker:
    extras = context.services.extras
    tracker = extras.get(EXTRAS_KEY)
    if not isinstance(tracker, pin.IdleTracker):
        tracker = extras[EXTRAS_KEY] = pin.IdleTracker()
    return tracker


def _command(text: str) -> tuple[str, str]:
    head, _, rest = text.strip().partition(" ")
    return head.split("@", 1)[0].lower(), rest.strip()


async def _forget(context: CaseContext, message: Message) -> None:
    """Delete a message that holds a PIN (private chats allow it for 48 h)."""
    try:
        await context.bot.delete_message(message.chat_id, message.message_id)
    except TelegramError as exc:
        log.info("could not delete a PIN message: %s", type(exc).__name__)


async def _say(update: Update, context: CaseContext, text: str) -> None:
    chat = update.effective_chat
    if update.callback_query is not None:
        await update.callback_query.answer("🔒 Locked: send your PIN in the chat first.")
    if chat is not None:
        await context.bot.send_message(chat.id, text)


async def guard(update: object, context: CaseContext) -> None:
    """Ask for a PIN after idleness; check it; lock out after 5 wrong; let the rest through."""
    if not isinstance(update, Update) or context.nurse is None:
        return
    services = context.services
    minutes = services.config.privacy.idle_lock_minutes
    message = update.message
    text = (message.text or "") if message is not None else ""
    command, argument = _command(text) if text.startswith("/") else ("", "")
    if minutes <= 0:
        if command == "/pin":
            await _say(update, context, LOCK_OFF)
            raise ApplicationHandlerStop
        return
    nurse = context.nurse
    state = await pin.pin_state(services.db, nurse_id=nurse.id)
    if state.locked:
        await _say(update, context, LOCKED_OUT.format(attempts=pin.MAX_ATTEMPTS))
        raise ApplicationHandlerStop
    tracker = _tracker(context)
    now = services.clock.now()
    if not state.has_pin:
        candidate = argument if command == "/pin" else text
        if message is not None and pin.looks_like_pin(candidate):
            await _forget(context, message)
            await pin.set_pin(services.db, services.clock, nurse_id=nurse.id, pin=candidate)
            tracker.touch(nurse.id, now)
            await _say(update, context, PIN_SET)
            raise ApplicationHandlerStop
        if command in EXEMPT_COMMANDS or not nurse.settings_done:
            return  # enrollment's own questions come first
        await _say(update, context, CHOOSE_PIN)
        raise ApplicationHandlerStop
    if tracker.is_idle(nurse.id, now, minutes):
        if message is not None and pin.looks_like_pin(text):
            await _forget(context, message)
            await _check(update, context, text.strip())
            raise ApplicationHandlerStop
        if command in EXEMPT_COMMANDS:
            return
        await _say(update, context, ASK_PIN.format(minutes=minutes))
        raise ApplicationHandlerStop
    tracker.touch(nurse.id, now)
    if command == "/pin" and message is not None:
        await _forget(context, message)
        if not pin.looks_like_pin(argument):
            await _say(update, context, PIN_USAGE)
        else:
            await pin.set_pin(services.db, services.clock, nurse_id=nurse.id, pin=argument)
            await _say(update, context, PIN_CHANGED)
        raise ApplicationHandlerStop
    if command == "/unlock" and nurse.is_admin:
        await _unlock(update, context, argument)
        raise ApplicationHandlerStop


async def _check(update: Update, context: CaseContext, typed: str) -> None:
    services = context.services
    nurse = context.me
    outcome = await pin.check_pin(services.db, services.clock, nurse_id=nurse.id, pin=typed)
    if outcome.result is pin.PinCheck.OK:
        _tracker(context).touch(nurse.id, services.clock.now())
        await _say(update, context, UNLOCKED)
        return
    if outcome.result is pin.PinCheck.WRONG:
        await _say(update, context, WRONG_PIN.format(remaining=outcome.remaining))
        return
    await _say(update, context, LOCKED_OUT.format(attempts=pin.MAX_ATTEMPTS))
    for chat_id in outcome.admin_chat_ids:
        try:
            await context.bot.send_message(
                chat_id,
                ADMIN_NOTICE.format(
                    name=esc(outcome.nurse_name),
                    attempts=pin.MAX_ATTEMPTS,
                    telegram_id=nurse.telegram_user_id,
                ),
            )
        except TelegramError as exc:
            log.warning("could not tell an admin about a lock-out: %s", type(exc).__name__)


async def _unlock(update: Update, context: CaseContext, argument: str) -> None:
    services = context.services
    if not argument.isdigit():
        await _say(update, context, "Send /unlock followed by the nurse's Telegram id.")
        return
    done = await pin.unlock(
        services.db, services.clock, telegram_user_id=int(argument), by_nurse_id=context.me.id
    )
    await _say(
        update,
        context,
        "Unlocked: she chooses a new PIN on her next message."
        if done
        else "No locked-out nurse has that Telegram id.",
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    if any(getattr(h, "callback", None) is guard for h in app.handlers.get(LOCK_GROUP, [])):
        return
    app.add_handler(TypeHandler(Update, guard), group=LOCK_GROUP)

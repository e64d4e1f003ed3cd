"""Voice notes: transcribed on this host, read back, saved only on a tap.

A nurse's voice message is refused at once when voice is off here or when it is longer than
`[voice] max_seconds`; otherwise it takes a place in the transcription pool (or she is told the
bot is busy), is downloaded with getFile and the file URL (which holds the bot token: never
logged), transcribed off the event loop, and answered, by editing the "Transcribing…" message,
with the transcript and the parser's reading over [Save] [Fix] [Cancel]. Nothing is saved
without a tap: [Save] hands the transcript to the typed-text path (`save_transcript`, the one
seam), keyed on the voice message; [Fix] asks her to type it; [Cancel] drops it. The audio is
held in memory only, until its transcription ends. Callback data carries an opaque token.
"""

from __future__ import annotations

import logging
import math
import warnings
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, Voice
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import Application, BaseHandler, MessageHandler, filters
from telegram.warnings import PTBDeprecationWarning

from bot.app.context import CaseContext
from bot.parsing import Caseload, PatientRef, parse
from bot.parsing.careplans import CarePlanIntent
from bot.parsing.intents import Intent
from bot.render import voice as render
from bot.render.callbacks import VoiceNote
from bot.services.ledger import MessageKey
from bot.vocab import Source as Via
from bot.voice import Voice as VoiceSetup
from bot.voice import voice_for
from bot.voice.engine import AudioTooLong, AudioUnreadable, Transcript, VoiceUnavailable
from bot.voice.pending import PendingNote, PendingNotes
from bot.voice.pool import Ticket
from handlers import inbox
from handlers.common import caseload_of, on_press, shorthand_of

log = logging.getLogger(__name__)

NOTES_KEY = "voice.pending"
"""user_data key of this nurse's PendingNotes."""


def _setup(context: CaseContext) -> VoiceSetup:
    services = context.services
    return voice_for(services.extras, services.config.voice)


def _notes(context: CaseContext) -> PendingNotes:
    data = context.user_data
    assert data is not None
    found = data.get(NOTES_KEY)
    if not isinstance(found, PendingNotes):
        found = data[NOTES_KEY] = PendingNotes()
    return found


def _seconds(voice: Voice) -> int:
    """The length the voice message declares (PTB 22 warns on `duration` until it becomes a
    timedelta; either form is read)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        duration = voice.duration
    return math.ceil(duration.total_seconds() if isinstance(duration, timedelta) else duration)


def _keyboard(token: str, intent: Intent | CarePlanIntent) -> InlineKeyboardMarkup:
    row = []
    if render.actionable(intent):
        label = render.ANSWER if render.is_question(intent) else render.SAVE
        row.append(InlineKeyboardButton(label, callback_data=VoiceNote("save", token).pack()))
    row.append(InlineKeyboardButton(render.FIX, callback_data=VoiceNote("fix", token).pack()))
    row.append(InlineKeyboardButton(render.CANCEL, callback_data=VoiceNote("cancel", token).pack()))
    return InlineKeyboardMarkup([row])


# -- the voice message -----------------------------------------------------------------------------


async def on_voice(update: Update, context: CaseContext) -> None:
    """Transcribe a voice note and show what was heard, with [Save] [Fix] [Cancel]."""
    message = update.effective_message
    assert message is not None
    assert message.voice is not None
    chat_id = message.chat_id
    setup = _setup(context)
    if setup.pool is None:
        await context.bot.send_message(chat_id, render.VOICE_OFF)
        return
    seconds = _seconds(message.voice)
    if seconds > setup.max_seconds:
        await context.bot.send_message(chat_id, render.too_long(seconds, setup.max_seconds))
        return
    ticket = setup.pool.admit()
    if ticket is None:
        log.info("voice note refused: the transcription queue is full (chat %s)", chat_id)
        await context.bot.send_message(chat_id, render.BUSY)
        return
    async with ticket:
        waiting = await context.bot.send_message(chat_id, render.transcribing(ticket.ahead))
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        caseload = await caseload_of(context)
        heard = await _hear(context, ticket, message.voice, list(caseload.refs), setup.max_seconds)
    if isinstance(heard, str):  # what went wrong, as her answer
        await waiting.edit_text(heard)
        return
    if not heard.text:
        await waiting.edit_text(render.NO_SPEECH)
        return
    log.info(
        "voice note transcribed: %.1f s of audio in %.2f s (chat %s)",
        heard.audio_seconds,
        heard.seconds,
        chat_id,
    )
    intent = _read(context, heard.text, caseload, await shorthand_of(context))
    now = context.services.clock.now()
    note = PendingNote(heard.text, chat_id, message.message_id, heard_at=now)
    token = _notes(context).add(note, now=now)
    await waiting.edit_text(
        render.transcript_reply(heard.text, intent, context.me.zone, now),
        reply_markup=_keyboard(token, intent),
    )


async def _hear(
    context: CaseContext,
    ticket: Ticket,
    voice: Voice,
    refs: list[PatientRef],
    max_seconds: int,
) -> Transcript | str:
    """Download and transcribe (the audio is dropped when this returns); a str is the answer
    to give instead when that fails."""
    try:
        file = await context.bot.get_file(voice.file_id)
        audio = bytes(await file.download_as_bytearray())
    except TelegramError as exc:  # its text can hold the file URL, and so the token
        log.warning("voice note download failed: %s", type(exc).__name__)
        return render.DOWNLOAD_FAILED
    try:
        names = [ref.name for ref in refs]
        return await ticket.transcribe(audio, names=names, max_seconds=max_seconds)
    except AudioTooLong:
        return render.too_long(None, max_seconds)  # decoding stopped at the limit
    except AudioUnreadable:
        return render.UNREADABLE
    except VoiceUnavailable as exc:
        log.error("voice notes are off: %s", exc)
        return render.VOICE_OFF
    finally:
        del audio


def _read(
    context: CaseContext, text: str, caseload: Caseload, shorthand: dict[str, str]
) -> Intent | CarePlanIntent:
    """The reading the typed-text path would give (bot.parsing.parse)."""
    nurse = context.me
    return parse(
        text,
        now=context.services.clock.now(),
        zone=nurse.zone,
        caseload=caseload,
        date_order="DMY" if nurse.date_order == "DMY" else "MDY",
        shorthand=shorthand,
    ).first


# -- the buttons -----------------------------------------------------------------------------------


async def save_transcript(
    update: Update, context: CaseContext, transcript: str, key: tuple[int, int]
) -> int:
    """The seam between voice notes and logging: save what the transcript says through the
    typed-text path, keyed on the voice message (chat id, message id) so a second save of the
    same note saves nothing; audited as "voice". Returns the logging conversation's state."""
    chat_id, message_id = key
    source = MessageKey(chat_id=chat_id, message_id=message_id, via=Via.VOICE)
    return await inbox.handle_as_text(update, context, transcript, source)


async def _take(update: Update, context: CaseContext, press: VoiceNote) -> PendingNote | None:
    """The pressed button's transcript (its buttons removed); None, said so, if it closed."""
    query = update.callback_query
    assert query is not None
    note = _notes(context).take(press.token, now=context.services.clock.now())
    if note is None:
        await query.answer(render.CLOSED, show_alert=True)
        return None
    await query.answer()
    await query.edit_message_reply_markup(None)
    return note


async def save_button(update: Update, context: CaseContext, press: VoiceNote) -> int | None:
    """[Save] (or [Answer]): hand the transcript to logging, as if she had typed it."""
    note = await _take(update, context, press)
    if note is None:
        return None  # a conversation under way stays where it is
    return await save_transcript(update, context, note.transcript, (note.chat_id, note.message_id))


async def fix_button(update: Update, context: CaseContext, press: VoiceNote) -> None:
    """[Fix]: drop the transcript and ask her to type the note; that message is typed text."""
    note = await _take(update, context, press)
    if note is not None and update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, render.FIX_PROMPT)


async def cancel_button(update: Update, context: CaseContext, press: VoiceNote) -> None:
    """[Cancel]: drop the transcript; nothing is saved."""
    note = await _take(update, context, press)
    if note is not None and update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, render.CANCELLED)


# -- registration ----------------------------------------------------------------------------------


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    """[Save] enters the logging conversation (its answer may ask which patient, how, when):
    handlers.records registers it among the conversation's entry points and fallbacks."""
    return [on_press(VoiceNote, save_button, stale=render.CLOSED, action="save")]


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the voice message handler and the [Fix] [Cancel] buttons (forwarded voice notes are
    left to handlers.records, which logs no forwarded message)."""
    app.add_handler(
        MessageHandler(
            filters.VOICE & ~filters.FORWARDED & filters.UpdateType.MESSAGE,
            on_voice,
        )
    )
    app.add_handler(on_press(VoiceNote, fix_button, stale=render.CLOSED, action="fix"))
    app.add_handler(on_press(VoiceNote, cancel_button, stale=render.CLOSED, action="cancel"))

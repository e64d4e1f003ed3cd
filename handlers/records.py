"""Logging from chat, one missing piece at a time: the inbox's ASK route (a record that names
no patient or several, a contact without how or follow-up, an appointment without a time),
/contact /appt /discharge /medrec /note, [Change follow-up] and [Add note].

One ConversationHandler asks what is missing, then saves the record as the message's one fact
(bot.services.messages) and answers with its summary and buttons (handlers.keyboards). Its
free-text entry is the inbox's (handlers.inbox.on_text): every plain message goes there. A
typed answer that reads as a new message drops the question, saying so. Button data is typed
(bot.render.callbacks) and carries opaque ids only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum
from typing import Any

from telegram import Message, Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import care
from bot.app.context import CaseContext
from bot.parsing import (
    AppointmentIntent,
    ContactIntent,
    DateReader,
    DischargeIntent,
    DoubtReason,
    Intent,
    MedRecIntent,
    PatientRef,
    QueryIntent,
    When,
)
from bot.parsing.careplans import (
    CarePlanIntent,
)
from bot.render import records as render
from bot.render.callbacks import (
    ContactHow,
    FollowUp,
    FollowUpChoice,
    PatientPick,
    RecordAction,
    namespace_pattern,
)
from bot.services import messages
from bot.services import records as service
from bot.services.ledger import MessageKey
from bot.vocab import (
    Channel,
    Outcome,
    Party,
    RecordKind,
    Refusal,
)
from handlers import inbox, keyboards
from handlers.common import caseload_of, on_press, quiet_conversation

RecordIntent = ContactIntent | AppointmentIntent | DischargeIntent | MedRecIntent
DRAFT_KEY = "records.draft"
CONVERSATION_TIMEOUT = 15 * 60

_KIND_PREFIX = {
    "contact": "contacted ",  # says nothing of how: "called" would be a phone call
    "appointment": "appt ",
    "discharge": "d/c ",
    "med_rec": "med rec ",
}
_INTENT_KIND = {
    ContactIntent: "contact",
    AppointmentIntent: "appointment",
    DischargeIntent: "discharge",
    MedRecIntent: "med_rec",
}
_FOLLOW_UP_DAYS: dict[FollowUp, int] = {"tomorrow": 1, "in_a_week": 7}


class Step(IntEnum):
    """Where the logging conversation is."""

    PATIENT = 1
    CHANNEL = 2
    WHEN = 3
    FOLLOW_UP = 4
    NOTE = 5
    WHAT = 6


@dataclass
class Draft:
    """What is being logged while pieces are missing (kept in this nurse's user_data)."""

    kind: str  # contact, appointment, discharge, med_rec, note, change_follow_up, add_note
    intent: RecordIntent | None = None
    source: MessageKey | None = None
    patient: PatientRef | None = None
    channel: Channel | None = None
    outcome: Outcome | None = None
    follow_up_answered: bool = False
    outcome_asked: bool = False  # the outcome is what her "how" button says (reached unless not)
    target: tuple[RecordKind, int] | None = None
    target_name: str | None = None


# -- small helpers ---------------------------------------------------------------------------------


def _draft(context: CaseContext) -> Draft | None:
    data = context.user_data
    found = data.get(DRAFT_KEY) if data is not None else None
    return found if isinstance(found, Draft) else None


def _keep(context: CaseContext, draft: Draft | None) -> None:
    data = context.user_data
    if data is None:
        return
    if draft is None:
        data.pop(DRAFT_KEY, None)
    else:
        data[DRAFT_KEY] = draft


def _source(message: Message) -> MessageKey:
    return MessageKey(chat_id=message.chat_id, message_id=message.message_id)


async def _say(update: Update, context: CaseContext, text: str, markup: Any = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


async def _parse(context: CaseContext, text: str) -> Intent | CarePlanIntent:
    """The first fact of a short typed answer."""
    return (await inbox.read(context, text)).first


def _read_date(context: CaseContext, text: str) -> When | None:
    """The first future date (and time) in a short typed answer."""
    nurse = context.me
    reader = DateReader(
        now=context.services.clock.now(),
        zone=nurse.zone,
        date_order="DMY" if nurse.date_order == "DMY" else "MDY",
    )
    for fragment in reader.fragments(text[:200]):
        when = reader.resolve(fragment, "future")
        if when is not None:
            return when
    return None


# -- the logging conversation's entry from the inbox -----------------------------------------------


async def ask_route(update: Update, context: CaseContext, inbound: inbox.Inbound) -> int:
    """One record with a piece missing (the inbox's ASK route): ask for it."""
    intent = inbound.reading.first
    assert isinstance(intent, ContactIntent | AppointmentIntent | DischargeIntent | MedRecIntent)
    return await _start(update, context, intent, inbound.key)


async def unknown_route(update: Update, context: CaseContext, inbound: inbox.Inbound) -> None:
    """Nothing to act on: say what can be logged."""
    await _say(update, context, render.UNKNOWN)


async def _start(
    update: Update, context: CaseContext, intent: RecordIntent, source: MessageKey
) -> int:
    draft = Draft(kind=_INTENT_KIND[type(intent)], intent=intent, source=source)
    draft.patient = intent.patient
    doubted = isinstance(intent, ContactIntent) and any(
        d.reason in (DoubtReason.WEAK_CUE, DoubtReason.UNKNOWN_WORD) for d in intent.doubts
    )
    if doubted:  # how it went is not guessed: "How was the contact?" asks it
        draft.outcome_asked = True
    elif isinstance(intent, ContactIntent) and intent.channel is not None:
        draft.channel = intent.channel
    return await _advance(update, context, draft)


async def _switch_to_new_message(update: Update, context: CaseContext, draft: Draft) -> int:
    """Drop the pending question (saying so) and handle the message as a new one. A contact
    that waited only for its (optional) follow-up is saved first, without one: she moved on,
    and the call she made must not be lost."""
    _keep(context, None)
    if _only_follow_up_missing(draft):
        await _save(update, context, draft)
        await _say(update, context, render.SAVED_WITHOUT_FOLLOW_UP)
        return await inbox.on_text(update, context)
    dropped = render.CHANGE_DROPPED if draft.target is not None else render.ENTRY_DROPPED
    await _say(update, context, dropped)
    return await inbox.on_text(update, context)


def _only_follow_up_missing(draft: Draft) -> bool:
    return (
        draft.kind == "contact"
        and draft.target is None
        and draft.source is not None
        and draft.patient is not None
        and draft.channel is not None
        and isinstance(draft.intent, ContactIntent)
        and draft.intent.follow_up is None
        and not draft.follow_up_answered
    )


async def _advance(update: Update, context: CaseContext, draft: Draft) -> int:
    """Ask for the next missing piece, or save when nothing is missing."""
    intent = draft.intent
    if draft.patient is None:
        if intent is not None and intent.candidates:
            question = render.which_patient(intent.patient_text)
            markup = keyboards.candidates(intent.candidates)
            return await _ask(update, context, draft, question, Step.PATIENT, markup)
        return await _ask(update, context, draft, render.which_patient(None), Step.PATIENT)
    name = draft.patient.name
    if isinstance(intent, ContactIntent) and draft.channel is None:
        return await _ask(
            update, context, draft, render.ask_channel(name), Step.CHANNEL, keyboards.channels()
        )
    if isinstance(intent, AppointmentIntent) and intent.at is None:
        return await _ask(update, context, draft, render.ask_when(), Step.WHEN)
    if (
        isinstance(intent, ContactIntent)
        and intent.follow_up is None
        and not draft.follow_up_answered
    ):
        markup = keyboards.follow_ups()
        return await _ask(
            update, context, draft, render.ask_follow_up(name), Step.FOLLOW_UP, markup
        )
    if draft.kind == "note":
        return await _ask(update, context, draft, render.ask_note(name), Step.NOTE)
    _keep(context, None)
    await _save(update, context, draft)
    return ConversationHandler.END


async def _ask(
    update: Update,
    context: CaseContext,
    draft: Draft,
    question: str,
    step: Step,
    markup: Any = None,
) -> int:
    """Keep the draft and ask its next question."""
    _keep(context, draft)
    await _say(update, context, question, markup)
    return step


async def _save(update: Update, context: CaseContext, draft: Draft) -> None:
    """Save the completed record as her message's one fact (bot.services.messages), keyed on
    the message it came from (or the message her last tap was under)."""
    services = context.services
    nurse = context.me
    intent = draft.intent
    if not isinstance(intent, ContactIntent | AppointmentIntent | DischargeIntent | MedRecIntent):
        raise AssertionError(f"nothing to save for a {draft.kind} draft")
    fact: RecordIntent = dataclasses.replace(intent, patient=draft.patient, candidates=())
    if isinstance(fact, ContactIntent):
        channel = draft.channel or Channel.PHONE
        outcome = draft.outcome or (None if draft.outcome_asked else fact.outcome)
        if outcome is None:
            outcome = Outcome.ATTEMPTED if channel == Channel.VOICEMAIL else Outcome.REACHED
        fact = dataclasses.replace(fact, channel=channel, outcome=outcome)
    result = await messages.save_message(
        services.db, services.config, services.clock, nurse=nurse,
        key=draft.source or inbox.key_of(update), facts=[fact],
        command="text" if draft.kind in _KIND_PREFIX else draft.kind,
    )  # fmt: skip
    if isinstance(result, Refusal):
        await _say(update, context, render.refusal(result))
        return
    if result.duplicate:
        await _say(update, context, render.duplicate())
        return
    [logged] = result.results
    now = services.clock.now()
    markup = keyboards.saved(logged, message_id=(draft.source or inbox.key_of(update)).message_id)
    await _say(update, context, render.summary(logged, nurse.zone, now), markup)


# -- conversation steps ----------------------------------------------------------------------------


async def pick_patient(update: Update, context: CaseContext, press: PatientPick) -> int:
    """Take the patient the nurse tapped among the candidates."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    draft = _draft(context)
    if draft is None:
        await _say(update, context, render.TIMED_OUT)
        return ConversationHandler.END
    picked = press.patient_id
    chosen = next(
        (r for r in (draft.intent.candidates if draft.intent else ()) if r.id == picked), None
    )
    if chosen is None:
        refs = (await caseload_of(context)).refs
        chosen = next((r for r in refs if r.id == picked), None)
    if chosen is None:
        await _say(update, context, render.refusal(Refusal.NO_PATIENT))
        return ConversationHandler.END
    draft.patient = chosen
    return await _advance(update, context, draft)


async def patient_text(update: Update, context: CaseContext) -> int:
    """Match a typed patient name against the caseload."""
    message = update.effective_message
    assert message is not None
    text = (message.text or "")[:200]
    draft = _draft(context)
    if draft is None:
        return await inbox.on_text(update, context)
    mention = (await caseload_of(context)).find(text).mention
    if mention.patient is not None:
        draft.patient = mention.patient
        return await _advance(update, context, draft)
    if mention.candidates:
        await _say(
            update,
            context,
            render.which_patient(mention.patient_text),
            keyboards.candidates(mention.candidates),
        )
        return Step.PATIENT
    if await inbox.is_new_message(context, text):  # "who is overdue?" rather than a name
        return await _switch_to_new_message(update, context, draft)
    await _say(update, context, render.patient_not_found(text))
    return Step.PATIENT


async def pick_channel(update: Update, context: CaseContext, press: ContactHow) -> int:
    """Take how the contact happened."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    draft = _draft(context)
    if draft is None or not isinstance(draft.intent, ContactIntent):
        await _say(update, context, render.TIMED_OUT)
        return ConversationHandler.END
    channel, outcome = press.way
    draft.channel = Channel(channel)
    if outcome is not None:
        draft.outcome = Outcome(outcome)
    return await _advance(update, context, draft)


async def start_contact_for_patient(update: Update, context: CaseContext, patient_id: int) -> None:
    """Begin logging a contact with a known patient (e.g. from a reminder's button): ask how
    it went; the answer's button enters the logging conversation."""
    refs = (await caseload_of(context)).refs
    patient = next((r for r in refs if r.id == patient_id), None)
    if patient is None:
        await _say(update, context, render.refusal(Refusal.NO_PATIENT))
        return
    now = context.services.clock.now()
    intent = ContactIntent(
        patient=patient, candidates=(), patient_text=patient.name, channel=None, outcome=None,
        with_whom=Party.PATIENT, occurred_at=When(now, has_time=True), follow_up=None,
        attempts=1, note="",
    )  # fmt: skip
    _keep(context, Draft(kind="contact", intent=intent, patient=patient))
    await _say(
        update,
        context,
        render.ask_channel(patient.name),
        keyboards.channels(),
    )


async def channel_text(update: Update, context: CaseContext) -> int:
    """Take a typed channel ("LVM", "home visit"); a new message is handled as new; anything
    else gets the buttons again."""
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    draft = _draft(context)
    if draft is None:
        return await inbox.on_text(update, context)
    typed = await _parse(context, text)
    if (
        isinstance(typed, ContactIntent)
        and typed.channel is not None
        and typed.patient is None
        and not typed.patient_text
    ):
        draft.channel = typed.channel
        if typed.outcome is not None:
            draft.outcome = typed.outcome
        return await _advance(update, context, draft)
    if await inbox.is_new_message(context, text):
        return await _switch_to_new_message(update, context, draft)
    await _say(update, context, "Please tap how the contact happened:", keyboards.channels())
    return Step.CHANNEL


async def when_text(update: Update, context: CaseContext) -> int:
    """Read the appointment's date and time."""
    message = update.effective_message
    assert message is not None
    draft = _draft(context)
    if draft is None or not isinstance(draft.intent, AppointmentIntent):
        return await inbox.on_text(update, context)
    if await inbox.is_new_message(context, message.text or ""):
        return await _switch_to_new_message(update, context, draft)
    when = _read_date(context, message.text or "")
    if when is None:
        await _say(update, context, render.ask_when_again())
        return Step.WHEN
    draft.intent = dataclasses.replace(draft.intent, at=when)
    return await _advance(update, context, draft)


async def follow_up_button(update: Update, context: CaseContext, press: FollowUpChoice) -> int:
    """Take [Tomorrow] [In 1 week] [No follow-up]."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    draft = _draft(context)
    if draft is None:
        await _say(update, context, render.TIMED_OUT)
        return ConversationHandler.END
    days = _FOLLOW_UP_DAYS.get(press.choice)
    when = None
    if days is not None:
        zone = context.me.zone
        day = care.local_date(context.services.clock.now(), zone) + timedelta(days=days)
        when = When(care.start_of_local_day(day, zone), has_time=False)
    return await _follow_up_chosen(update, context, draft, when)


async def follow_up_text(update: Update, context: CaseContext) -> int:
    """Read a typed follow-up date ('no' means none)."""
    message = update.effective_message
    assert message is not None
    draft = _draft(context)
    if draft is None:
        return await inbox.on_text(update, context)
    text = (message.text or "").strip()
    if text.lower().rstrip(".!") in {"no", "none", "no follow-up", "no f/u", "n/a"}:
        return await _follow_up_chosen(update, context, draft, None)
    if await inbox.is_new_message(context, text):
        return await _switch_to_new_message(update, context, draft)
    when = _read_date(context, text)
    if when is None:
        await _say(update, context, render.ask_follow_up_again(), keyboards.follow_ups())
        return Step.FOLLOW_UP
    return await _follow_up_chosen(update, context, draft, when)


async def _follow_up_chosen(
    update: Update, context: CaseContext, draft: Draft, when: When | None
) -> int:
    if draft.target is not None:
        _keep(context, None)
        services = context.services
        kind, record_id = draft.target
        result = await service.change_follow_up(
            services.db, services.clock, nurse=context.me, kind=kind, record_id=record_id,
            follow_up=when,
        )  # fmt: skip
        if isinstance(result, Refusal):
            await _say(update, context, render.refusal(result))
        else:
            now = services.clock.now()
            await _say(update, context, render.follow_up_changed(result, context.me.zone, now))
        return ConversationHandler.END
    if isinstance(draft.intent, ContactIntent):
        draft.intent = dataclasses.replace(draft.intent, follow_up=when)
    draft.follow_up_answered = True
    return await _advance(update, context, draft)


async def note_text(update: Update, context: CaseContext) -> int:
    """Save the typed note on the record or patient."""
    message = update.effective_message
    assert message is not None
    draft = _draft(context)
    if draft is None:
        return await inbox.on_text(update, context)
    if await inbox.is_new_message(context, message.text or ""):
        return await _switch_to_new_message(update, context, draft)
    _keep(context, None)
    services = context.services
    text = (message.text or "").strip()[:4000]
    result: service.NoteAdded | Refusal
    if draft.target is not None:
        kind, record_id = draft.target
        result = await service.add_note(
            services.db, services.clock, nurse=context.me, kind=kind, record_id=record_id,
            text=text, source=_source(message),
        )  # fmt: skip
    else:
        assert draft.patient is not None
        assert draft.patient.id is not None
        result = await service.log_note(
            services.db, services.clock, nurse=context.me, source=_source(message),
            patient_id=draft.patient.id, text=text,
        )  # fmt: skip
    if isinstance(result, Refusal):
        await _say(update, context, render.refusal(result))
    else:
        await _say(update, context, render.note_added(result.patient_name))
    return ConversationHandler.END


async def what_text(update: Update, context: CaseContext) -> int:
    """Read the one-line description a command asked for, as that kind of record."""
    message = update.effective_message
    assert message is not None
    draft = _draft(context)
    if draft is None:
        return await inbox.on_text(update, context)
    return await _forced(update, context, draft.kind, message.text or "", _source(message))


async def _forced(
    update: Update, context: CaseContext, kind: str, text: str, source: MessageKey
) -> int:
    intent = await _parse(context, text)
    if isinstance(intent, QueryIntent):  # she asks something instead: answer it
        return await inbox.handle_as_text(update, context, text, source)
    if _INTENT_KIND.get(type(intent)) != kind:
        intent = await _parse(context, _KIND_PREFIX[kind] + text)
    if _INTENT_KIND.get(type(intent)) != kind:
        _keep(context, Draft(kind=kind))
        await _say(update, context, render.not_understood_as(kind))
        return Step.WHAT
    assert isinstance(intent, ContactIntent | AppointmentIntent | DischargeIntent | MedRecIntent)
    return await _start(update, context, intent, source)


# -- commands --------------------------------------------------------------------------------------


async def record_command(update: Update, context: CaseContext) -> int:
    """/contact /appt /discharge /medrec [text]: log that kind of record, asking what is missing."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    command = message.text.split(maxsplit=1)[0].lstrip("/").split("@")[0].lower()
    kind = {"contact": "contact", "appt": "appointment", "discharge": "discharge"}.get(
        command, "med_rec"
    )
    rest = " ".join(context.args or [])
    if rest.strip():
        return await _forced(update, context, kind, rest, _source(message))
    _keep(context, Draft(kind=kind))
    await _say(update, context, render.ASK_ONE_LINE[kind] + " Or /cancel.")
    return Step.WHAT


async def note_command(update: Update, context: CaseContext) -> int:
    """/note [name]: add a free note to a patient."""
    draft = Draft(kind="note")
    rest = " ".join(context.args or [])
    if rest.strip():
        mention = (await caseload_of(context)).find(rest[:200]).mention
        draft.patient = mention.patient
    _keep(context, draft)
    if draft.patient is None:
        await _say(update, context, render.which_patient(None))
        return Step.PATIENT
    return await _advance(update, context, draft)


async def cancel(update: Update, context: CaseContext) -> int:
    """Leave the logging conversation; nothing is saved."""
    _keep(context, None)
    await _say(update, context, render.CANCELLED)
    return ConversationHandler.END


async def timed_out(update: Update, context: CaseContext) -> None:
    """Tell the nurse the open question closed and nothing was saved."""
    _keep(context, None)
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, render.TIMED_OUT)


# -- buttons that enter the conversation, and closed questions ----------------------------------


async def change_button(update: Update, context: CaseContext, press: RecordAction) -> int:
    """[Change follow-up] or [Add note]: check the record still takes changes, then ask."""
    query = update.callback_query
    assert query is not None
    services = context.services
    ref = (press.kind, press.record_id)
    found = await service.check_changeable(
        services.db, services.clock, nurse=context.me, kind=ref[0], record_id=ref[1]
    )
    if isinstance(found, Refusal):
        await query.answer(render.refusal(found))
        await _say(update, context, render.refusal(found))
        _keep(context, None)
        return ConversationHandler.END
    await query.answer()
    if press.action == "follow_up":
        _keep(context, Draft(kind="change_follow_up", target=ref, target_name=found))
        await _say(update, context, render.ask_follow_up(found), keyboards.follow_ups())
        return Step.FOLLOW_UP
    _keep(context, Draft(kind="add_note", target=ref, target_name=found))
    await _say(update, context, render.ask_note(found))
    return Step.NOTE


async def stale_question(update: Update, context: CaseContext) -> None:
    """A button of a question that already closed."""
    query = update.callback_query
    assert query is not None
    await query.answer("That question has closed; nothing was saved.", show_alert=True)


# -- registration ----------------------------------------------------------------------------------


def conversation(
    entries: Sequence[BaseHandler[Any, Any, Any]] = (),
) -> ConversationHandler:  # type: ignore[type-arg]
    """The logging conversation; `entries` are other modules' buttons that hand a message to
    it (handle_as_text) and so must enter it, from anywhere (handlers.voice's [Save])."""
    text = filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
    commands = [
        CommandHandler(
            ["contact", "appt", "discharge", "medrec"],
            record_command,
            filters=filters.UpdateType.MESSAGE,
        ),
        CommandHandler("note", note_command, filters=filters.UpdateType.MESSAGE),
    ]
    change = on_press(RecordAction, change_button, action=("follow_up", "note"))
    # How a contact went: also an entry, for contacts begun outside (start_contact_for_patient).
    channel = on_press(ContactHow, pick_channel)
    return quiet_conversation(
        entry_points=[*commands, change, channel, *entries, MessageHandler(text, inbox.on_text)],
        states={
            Step.PATIENT: [
                on_press(PatientPick, pick_patient),
                MessageHandler(text, patient_text),
            ],
            Step.CHANNEL: [channel, MessageHandler(text, channel_text)],
            Step.WHEN: [MessageHandler(text, when_text)],
            Step.FOLLOW_UP: [
                on_press(FollowUpChoice, follow_up_button),
                MessageHandler(text, follow_up_text),
            ],
            Step.NOTE: [MessageHandler(text, note_text)],
            Step.WHAT: [MessageHandler(text, what_text)],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
        },
        # Commands and the record buttons also restart from inside a question.
        fallbacks=[CommandHandler("cancel", cancel), *commands, change, channel, *entries],
        conversation_timeout=CONVERSATION_TIMEOUT,
        name="records",
    )


def register(
    app: Application,  # type: ignore[type-arg]
    *,
    entries: Sequence[BaseHandler[Any, Any, Any]] = (),
) -> None:
    """Add the logging handlers. Must come after every other conversation (their typed answers
    win) and before help's plain /cancel (so /cancel here says nothing was saved). `entries`
    enter the logging conversation (see `conversation`)."""
    inbox.add_route(app, inbox.Route.ASK, ask_route)
    inbox.add_route(app, inbox.Route.UNKNOWN, unknown_route)
    app.add_handler(conversation(entries))
    closed = namespace_pattern(PatientPick, ContactHow, FollowUpChoice, RecordAction)
    app.add_handler(CallbackQueryHandler(stale_question, pattern=closed))

"""Logging from chat: the free-text router, the missing-piece conversation, /contact /appt
/discharge /medrec /note, and the buttons under a saved record and the attended? check.

A message that parses completely is saved at once and answered with its summary and
[Undo] [Change follow-up] [Add note]; what is missing (which patient, how, when, follow-up) is
asked in one ConversationHandler. Edited, forwarded and media messages are never logged
(voice notes are handlers.voice's: transcribed, then handed to `handle_as_text` on a tap).
Button data is typed (bot.render.callbacks) and carries opaque ids only. New patients and
patient lookups are handed to handlers.patients.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
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

from bot import care, vocab
from bot.app.context import CaseContext
from bot.parsing import (
    AppointmentIntent,
    ContactIntent,
    DateReader,
    DischargeIntent,
    Intent,
    MedRecIntent,
    PatientRef,
    QueryIntent,
    When,
)
from bot.parsing.careplans import (
    CarePlanIntent,
)
from bot.render import labels
from bot.render import records as render
from bot.render.callbacks import (
    Attendance,
    ContactHow,
    ContactWay,
    EpisodeComplexity,
    FollowUp,
    FollowUpChoice,
    PatientPick,
    RecordAction,
    namespace_pattern,
)
from bot.services import records as service
from bot.services.ledger import MessageKey
from bot.vocab import (
    AppointmentStatus,
    Channel,
    Complexity,
    Outcome,
    Party,
    RecordKind,
    Refusal,
)
from handlers import inbox
from handlers.common import caseload_of, on_press, quiet_conversation, saved_keyboard

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
_CHANNEL_CHOICES: tuple[tuple[str, ContactWay], ...] = (
    (labels.CHANNEL[vocab.Channel.PHONE], (vocab.Channel.PHONE, None)),
    ("Call, no answer", (vocab.Channel.PHONE, vocab.Outcome.ATTEMPTED)),
    (labels.CHANNEL[vocab.Channel.VISIT], (vocab.Channel.VISIT, None)),
    (labels.CHANNEL[vocab.Channel.VIDEO], (vocab.Channel.VIDEO, None)),
    (labels.CHANNEL[vocab.Channel.VOICEMAIL], (vocab.Channel.VOICEMAIL, None)),
    (labels.CHANNEL[vocab.Channel.TEXT], (vocab.Channel.TEXT, None)),
    (labels.CHANNEL[vocab.Channel.EMAIL], (vocab.Channel.EMAIL, None)),
)
_FOLLOW_UP_BUTTONS: tuple[tuple[str, FollowUp], ...] = (
    (render.TOMORROW, "tomorrow"),
    (render.IN_ONE_WEEK, "in_a_week"),
    (render.NO_FOLLOW_UP, "none"),
)
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


def follow_up_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=FollowUpChoice(choice).pack())
                for label, choice in _FOLLOW_UP_BUTTONS
            ]
        ]
    )


def _candidate_keyboard(refs: tuple[PatientRef, ...]) -> InlineKeyboardMarkup:
    labels = render.candidate_labels([r.name for r in refs])
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=PatientPick(ref.id).pack())]
            for label, ref in zip(labels, refs, strict=True)
            if ref.id is not None
        ]
    )


def _channel_keyboard() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(label, callback_data=ContactHow(way).pack())
        for label, way in _CHANNEL_CHOICES
    ]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


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
    if isinstance(intent, ContactIntent) and intent.channel is not None:
        draft.channel = intent.channel
    return await _advance(update, context, draft)


async def _is_new_entry(context: CaseContext, text: str) -> bool:
    """Whether a typed answer is really a new message (see handlers.inbox.reads_as_new)."""
    return await inbox.is_new_message(context, text)


async def _switch_to_new_message(update: Update, context: CaseContext, draft: Draft) -> int:
    """Drop the pending question (saying so) and handle the message as a new one."""
    _keep(context, None)
    dropped = render.CHANGE_DROPPED if draft.target is not None else render.ENTRY_DROPPED
    await _say(update, context, dropped)
    return await inbox.on_text(update, context)


async def _advance(update: Update, context: CaseContext, draft: Draft) -> int:
    """Ask for the next missing piece, or save when nothing is missing."""
    intent = draft.intent
    if draft.patient is None:
        if intent is not None and intent.candidates:
            _keep(context, draft)
            await _say(
                update,
                context,
                render.which_patient(intent.patient_text),
                _candidate_keyboard(intent.candidates),
            )
            return Step.PATIENT
        _keep(context, draft)
        await _say(update, context, render.which_patient(None))
        return Step.PATIENT
    name = draft.patient.name
    if isinstance(intent, ContactIntent) and draft.channel is None:
        _keep(context, draft)
        await _say(
            update,
            context,
            render.ask_channel(name),
            _channel_keyboard(),
        )
        return Step.CHANNEL
    if isinstance(intent, AppointmentIntent) and intent.at is None:
        _keep(context, draft)
        await _say(update, context, render.ask_when())
        return Step.WHEN
    if (
        isinstance(intent, ContactIntent)
        and intent.follow_up is None
        and not draft.follow_up_answered
    ):
        _keep(context, draft)
        await _say(update, context, render.ask_follow_up(name), follow_up_keyboard())
        return Step.FOLLOW_UP
    if draft.kind == "note":
        _keep(context, draft)
        await _say(update, context, render.ask_note(name))
        return Step.NOTE
    _keep(context, None)
    await _save(update, context, draft)
    return ConversationHandler.END


async def _save(update: Update, context: CaseContext, draft: Draft) -> None:
    services = context.services
    nurse = context.me
    intent = draft.intent
    assert draft.patient is not None
    assert draft.patient.id is not None
    patient_id = draft.patient.id
    db, config, clock = services.db, services.config, services.clock
    command = "text" if draft.kind in _KIND_PREFIX else draft.kind
    result: service.Logged | Refusal
    if isinstance(intent, ContactIntent):
        channel = draft.channel or Channel.PHONE
        outcome = draft.outcome or (
            intent.outcome
            if intent.outcome is not None
            else Outcome.ATTEMPTED
            if channel == Channel.VOICEMAIL
            else Outcome.REACHED
        )
        result = await service.log_contact(
            db, config, clock, nurse=nurse, source=draft.source, patient_id=patient_id,
            channel=channel, outcome=outcome, with_whom=intent.with_whom,
            occurred_at=intent.occurred_at.at, follow_up=intent.follow_up, note=intent.note,
            command=command,
        )  # fmt: skip
    elif isinstance(intent, AppointmentIntent):
        assert intent.at is not None
        result = await service.log_appointment(
            db, config, clock, nurse=nurse, source=draft.source, patient_id=patient_id,
            at=intent.at, with_whom=intent.with_whom or "", location=intent.where or "",
            note=intent.note, command=command,
        )  # fmt: skip
    elif isinstance(intent, DischargeIntent):
        result = await service.log_discharge(
            db, config, clock, nurse=nurse, source=draft.source, patient_id=patient_id,
            discharged_on=intent.discharged, facility=intent.facility or "",
            complexity=intent.complexity,
            note=intent.note, command=command,
        )  # fmt: skip
    elif isinstance(intent, MedRecIntent):
        result = await service.log_med_rec(
            db, config, clock, nurse=nurse, source=draft.source, patient_id=patient_id,
            reconciled_on=intent.reconciled_on, discrepancies=intent.discrepancies,
            note=intent.note, command=command,
        )  # fmt: skip
    else:
        raise AssertionError(f"nothing to save for a {draft.kind} draft")
    if isinstance(result, Refusal):
        await _say(update, context, render.refusal(result))
        return
    await _say(
        update,
        context,
        render.summary(result, nurse.zone, clock.now()),
        saved_keyboard(result),
    )


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
            _candidate_keyboard(mention.candidates),
        )
        return Step.PATIENT
    if await _is_new_entry(context, text):  # "who is overdue?" rather than a name
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
        _channel_keyboard(),
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
    if await _is_new_entry(context, text):
        return await _switch_to_new_message(update, context, draft)
    await _say(update, context, "Please tap how the contact happened:", _channel_keyboard())
    return Step.CHANNEL


async def when_text(update: Update, context: CaseContext) -> int:
    """Read the appointment's date and time."""
    message = update.effective_message
    assert message is not None
    draft = _draft(context)
    if draft is None or not isinstance(draft.intent, AppointmentIntent):
        return await inbox.on_text(update, context)
    if await _is_new_entry(context, message.text or ""):
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
    if await _is_new_entry(context, text):
        return await _switch_to_new_message(update, context, draft)
    when = _read_date(context, text)
    if when is None:
        await _say(update, context, render.ask_follow_up_again(), follow_up_keyboard())
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
    if await _is_new_entry(context, message.text or ""):
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


# -- buttons under a saved record --------------------------------------------------------------


async def undo_button(update: Update, context: CaseContext, press: RecordAction) -> None:
    """Undo a logged record (its tasks are cancelled, tasks it closed reopen)."""
    query = update.callback_query
    assert query is not None
    services = context.services
    result = await service.undo_record(
        services.db, services.clock, nurse=context.me, kind=press.kind,
        record_id=press.record_id,
    )  # fmt: skip
    if isinstance(result, Refusal):
        await query.answer(render.refusal(result))
        await _say(update, context, render.refusal(result))
        return
    await query.answer("Undone")
    await _say(update, context, render.undone(result))


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
        await _say(update, context, render.ask_follow_up(found), follow_up_keyboard())
        return Step.FOLLOW_UP
    _keep(context, Draft(kind="add_note", target=ref, target_name=found))
    await _say(update, context, render.ask_note(found))
    return Step.NOTE


async def complexity_button(update: Update, context: CaseContext, press: EpisodeComplexity) -> None:
    """[Moderate] [High]: set a discharge's complexity and re-date its visit task."""
    query = update.callback_query
    assert query is not None
    services = context.services
    result = await service.set_complexity(
        services.db,
        services.config,
        services.clock,
        nurse=context.me,
        episode_id=press.episode_id,
        complexity=Complexity(press.complexity),
    )
    if isinstance(result, Refusal):
        await query.answer(render.refusal(result))
        await _say(update, context, render.refusal(result))
        return
    await query.answer()
    now = services.clock.now()
    await _say(update, context, render.complexity_set(result, context.me.zone, now))


async def attendance_button(update: Update, context: CaseContext, press: Attendance) -> None:
    """[Attended] [No-show] [Rescheduled] under an attended? check."""
    query = update.callback_query
    assert query is not None
    services = context.services
    result = await service.set_attendance(
        services.db,
        services.clock,
        nurse=context.me,
        task_id=press.task_id,
        status=AppointmentStatus(press.status),
    )
    if isinstance(result, Refusal):
        await query.answer(render.refusal(result))
        await _say(update, context, render.refusal(result))
        return
    await query.answer()
    now = services.clock.now()
    await _say(update, context, render.attendance_set(result, context.me.zone, now))


async def stale_question(update: Update, context: CaseContext) -> None:
    """A button of a question that already closed."""
    query = update.callback_query
    assert query is not None
    await query.answer("That question has closed; nothing was saved.", show_alert=True)


# -- what is never logged --------------------------------------------------------------------------


async def on_edited(update: Update, context: CaseContext) -> None:
    """An edited message changes nothing: say how to change a record instead."""
    await _say(update, context, render.EDITED)


async def on_forwarded(update: Update, context: CaseContext) -> None:
    """Forwarded messages are not logged."""
    _keep(context, None)
    await _say(update, context, render.FORWARDED)


async def on_media(update: Update, context: CaseContext) -> None:
    """Photos and files are not logged (voice notes are handlers.voice's)."""
    await _say(update, context, render.MEDIA)


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
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edited))
    app.add_handler(MessageHandler(filters.FORWARDED & filters.UpdateType.MESSAGE, on_forwarded))
    media = (  # voice notes are handlers.voice's
        filters.PHOTO
        | filters.AUDIO
        | filters.VIDEO
        | filters.VIDEO_NOTE
        | filters.Document.ALL
        | filters.Sticker.ALL
    )
    app.add_handler(MessageHandler(media & filters.UpdateType.MESSAGE, on_media))
    inbox.add_route(app, inbox.Route.ASK, ask_route)
    inbox.add_route(app, inbox.Route.UNKNOWN, unknown_route)
    app.add_handler(conversation(entries))
    app.add_handler(on_press(RecordAction, undo_button, action="undo"))
    app.add_handler(on_press(EpisodeComplexity, complexity_button))
    app.add_handler(on_press(Attendance, attendance_button))
    closed = namespace_pattern(PatientPick, ContactHow, FollowUpChoice, RecordAction)
    app.add_handler(CallbackQueryHandler(stale_question, pattern=closed))

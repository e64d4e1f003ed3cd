"""Inline keyboards built from typed button data, shared by handler modules: the buttons
under a saved record, and the logging conversation's questions (which patient, how, follow-up).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import vocab
from bot.parsing import PatientRef
from bot.render import inbox as inbox_render
from bot.render import labels
from bot.render import records as records_render
from bot.render.callbacks import (
    AppointmentAction,
    AppointmentPress,
    ContactHow,
    ContactWay,
    EpisodeComplexity,
    FollowUp,
    FollowUpChoice,
    MessageUndo,
    PatientPick,
    RecordAction,
    RecordPress,
)
from bot.services import records as record_service

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
    (records_render.TOMORROW, "tomorrow"),
    (records_render.IN_ONE_WEEK, "in_a_week"),
    (records_render.NO_FOLLOW_UP, "none"),
)
_SAVED_BUTTONS: tuple[tuple[str, RecordPress], ...] = (
    (records_render.UNDO, "undo"),
    (records_render.CHANGE_FOLLOW_UP, "follow_up"),
    (records_render.ADD_NOTE, "note"),
)
_APPOINTMENT_BUTTONS: tuple[tuple[str, AppointmentPress], ...] = (
    (inbox_render.CHANGE_TIME, "time"),
    (inbox_render.CANCEL_APPOINTMENT, "cancel"),
)
_RECORD_BUTTON_KINDS = {
    vocab.RecordKind.CONTACT,
    vocab.RecordKind.EPISODE,
    vocab.RecordKind.MED_REC,
}


def saved(
    logged: record_service.Logged, *, message_id: int | None = None
) -> InlineKeyboardMarkup | None:
    """The buttons under one saved record: [Undo] [Change follow-up] [Add note] (and
    [Moderate] [High] for a discharge of unknown complexity); an appointment gets [Change
    time] [Cancel appt] [Undo]; other records [Undo] of their message (`message_id`); an
    appointment already on file none."""
    kind, record_id = vocab.RecordKind(logged.kind), logged.record_id
    if logged.existing:  # already on file: nothing of this message to change or undo
        return None
    if kind == vocab.RecordKind.APPOINTMENT and logged.patient_id is not None:
        row = [
            InlineKeyboardButton(
                label,
                callback_data=AppointmentAction(action, logged.patient_id, record_id).pack(),
            )
            for label, action in _APPOINTMENT_BUTTONS
        ]
        undo = RecordAction("undo", kind, record_id).pack()
        row.append(InlineKeyboardButton(records_render.UNDO, callback_data=undo))
        return InlineKeyboardMarkup([row])
    if kind not in _RECORD_BUTTON_KINDS:
        assert message_id is not None, f"a {kind} is undone with its message"
        undo = MessageUndo(message_id).pack()
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(records_render.UNDO, callback_data=undo)]]
        )
    rows = [
        [
            InlineKeyboardButton(label, callback_data=RecordAction(action, kind, record_id).pack())
            for label, action in _SAVED_BUTTONS
        ]
    ]
    if kind == vocab.RecordKind.EPISODE and logged.complexity is None:
        rows.append(
            [
                InlineKeyboardButton(
                    label, callback_data=EpisodeComplexity(record_id, complexity).pack()
                )
                for label, complexity in (
                    (records_render.MODERATE, vocab.Complexity.MODERATE),
                    (records_render.HIGH, vocab.Complexity.HIGH),
                )
            ]
        )
    return InlineKeyboardMarkup(rows)


def follow_ups() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=FollowUpChoice(choice).pack())
                for label, choice in _FOLLOW_UP_BUTTONS
            ]
        ]
    )


def candidates(refs: tuple[PatientRef, ...]) -> InlineKeyboardMarkup:
    names = records_render.candidate_labels([r.name for r in refs])
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=PatientPick(ref.id).pack())]
            for label, ref in zip(names, refs, strict=True)
            if ref.id is not None
        ]
    )


def channels() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(label, callback_data=ContactHow(way).pack())
        for label, way in _CHANNEL_CHOICES
    ]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])

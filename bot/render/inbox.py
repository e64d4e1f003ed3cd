"""Replies of the inbox: a message's facts read back before saving ("I read: ..."), the
[Fix] choices, several saved records in one reply, and changes made by text (a correction, a
cancelled or moved appointment, an undone message, a learned word).

Pure: text in, HTML-safe text out; every piece of nurse or patient text is escaped here and
every date is absolute, with weekday and zone. Must not import telegram or storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.parsing import (
    AdmissionIntent,
    AppointmentIntent,
    ContactIntent,
    DischargeIntent,
    DoubtReason,
    EdVisitIntent,
    Fact,
    MedRecIntent,
    NewPatientIntent,
    NoteIntent,
    TaskIntent,
    When,
    doubts_of,
)
from bot.render import labels
from bot.render import records as records_render
from bot.render.labels import inline_label
from bot.render.text import clip, day_label, esc, when_label
from bot.vocab import Channel, Outcome, RecordKind

if TYPE_CHECKING:
    from bot.services.amend import Amended
    from bot.services.appointments import AppointmentChanged, AppointmentChoice
    from bot.services.saving import Logged
    from bot.services.undo import MessageUndone

MAX_NAME = 60
SAVE = "Save"
FIX = "Fix"
CANCEL = "Cancel"
BACK = "Back"
YES = "Yes"
NO = "No"
FORGET = "Forget"
MY_WORDS = "My words"
CHANGE_TIME = "Change time"
CANCEL_APPOINTMENT = "Cancel appt"
REACHED = "Reached"
NOT_REACHED = "NOT reached"
FIX_CHANNELS: tuple[Channel, ...] = (
    Channel.PHONE,
    Channel.VISIT,
    Channel.VIDEO,
    Channel.TEXT,
    Channel.VOICEMAIL,
    Channel.EMAIL,
)
"""The channels [Fix] offers, in order (a button carries the place in this list)."""

_DOUBTS = {
    DoubtReason.AMBIGUOUS_PATIENT: "which patient",
    DoubtReason.UNKNOWN_PATIENT: "a name not on your list",
    DoubtReason.GUESSED_PATIENT: "the patient (a close spelling)",
    DoubtReason.DATE_CONFLICT: "the weekday and the date disagree",
    DoubtReason.AMBIGUOUS_WEEKDAY: "which week",
    DoubtReason.UNKNOWN_WORD: "a word I don't know",
    DoubtReason.WEAK_CUE: "what kind of record, or how it went",
    DoubtReason.NO_TIME: "no time of day",
}


def _text(text: str) -> str:
    return esc(clip(text, MAX_NAME))


def _when(when: When, zone: ZoneInfo, today: date) -> str:
    return f"{when_label(when.at, zone, today=today, has_time=when.has_time)}"


def _day(day: date, today: date) -> str:
    return day_label(day, today=today)


def who(fact: Fact) -> str:
    """The fact's patient as read: a name, the names it could be, or the name as written."""
    patient = getattr(fact, "patient", None)
    if patient is not None:
        return f"<b>{_text(patient.name)}</b>"
    candidates = getattr(fact, "candidates", ())
    if candidates:
        return "<b>?</b> (" + " or ".join(_text(c.name) for c in candidates[:4]) + ")"
    written = getattr(fact, "patient_text", None)
    if written:
        return f"<b>{_text(written)}</b> (not on your list)"
    return "<b>?</b> (no patient named)"


def fact_line(fact: Fact, zone: ZoneInfo, now: datetime) -> str:
    """One fact as read, every date absolute: 'Phone call with Tom Jensen, NOT reached, Wed 2
    Dec 08:10 · follow-up Thu 3 Dec'."""
    today = now.astimezone(zone).date()
    if isinstance(fact, ContactIntent):
        channel = labels.CHANNEL.get(fact.channel or "", "Contact (how?)")
        outcome = REACHED if fact.outcome == Outcome.REACHED else NOT_REACHED
        if fact.outcome is None:
            outcome = NOT_REACHED if fact.channel == Channel.VOICEMAIL else REACHED
        line = f"{channel} with {who(fact)}, {outcome}, {_when(fact.occurred_at, zone, today)}"
        if fact.follow_up is not None:
            line += f" · follow-up {_when(fact.follow_up, zone, today)}"
        return line
    if isinstance(fact, AppointmentIntent):
        with_whom = f" with {_text(fact.with_whom)}" if fact.with_whom else ""
        when = _when(fact.at, zone, today) if fact.at is not None else "<b>no date</b>"
        return f"Appointment for {who(fact)}{with_whom}, {when}"
    if isinstance(fact, DischargeIntent):
        where = f" from {_text(fact.facility)}" if fact.facility else ""
        return f"Discharge of {who(fact)}{where}, {_day(fact.discharged, today)}"
    if isinstance(fact, AdmissionIntent | EdVisitIntent):
        what = "Admission" if isinstance(fact, AdmissionIntent) else "ED visit"
        where = f" at {_text(fact.facility)}" if fact.facility else ""
        why = f" for {_text(fact.reason)}" if fact.reason else ""
        return f"{what} of {who(fact)}{where}{why}, {_day(fact.on, today)}"
    if isinstance(fact, MedRecIntent):
        return f"Med rec for {who(fact)}, {_day(fact.reconciled_on, today)}"
    if isinstance(fact, TaskIntent):
        whose = f" for {who(fact)}" if fact.patient or fact.patient_text or fact.candidates else ""
        due = f", due {_when(fact.due, zone, today)}" if fact.due is not None else ""
        return f"Task{whose}: {_text(fact.what)}{due}"
    if isinstance(fact, NoteIntent):
        vitals = ", ".join(
            f"{labels.label(labels.VITAL_KIND, v.kind)} {_text(v.value)}" for v in fact.vitals
        )
        body = vitals or _text(fact.text or fact.note)
        return f"Note on {who(fact)}: {body}"
    if isinstance(fact, NewPatientIntent):
        return f"New patient <b>{_text(fact.name)}</b>"
    return "Something I can't save"


def read_back(
    facts: Sequence[Fact], zone: ZoneInfo, now: datetime, *, blocked: Sequence[str] = ()
) -> str:
    """'I read: ...' with what is unsure, before anything is saved."""
    lines = ["🔎 <b>I read</b> (nothing saved yet):"]
    numbered = len(facts) > 1
    for i, fact in enumerate(facts, 1):
        lines.append(
            f"{i}. {fact_line(fact, zone, now)}" if numbered else fact_line(fact, zone, now)
        )
    unsure = []
    for i, fact in enumerate(facts, 1):
        for doubt in doubts_of(fact):
            where = f"{i}: " if numbered else ""
            detail = f" ('{_text(doubt.detail)}')" if doubt.detail and doubt.reason in (
                DoubtReason.UNKNOWN_WORD, DoubtReason.GUESSED_PATIENT
            ) else ""  # fmt: skip
            unsure.append(f"{where}{_DOUBTS.get(doubt.reason, 'not sure')}{detail}")
    if unsure:
        lines.append("Not sure of: " + "; ".join(unsure) + ".")
    lines.append(f"<i>Times in {zone.key}.</i>")
    lines.extend(f"⚠️ {line}" for line in blocked)
    lines.append(f"Tap <b>{SAVE}</b> if that is right, <b>{FIX}</b> to change a part.")
    if blocked:
        lines[-1] = (
            f"I can't save it as it is: tap <b>{FIX}</b>, or <b>{CANCEL}</b> and send it again."
        )
    return "\n".join(lines)


def which_patient_first(many: bool, index: int) -> str:
    where = f" in line {index + 1}" if many else ""
    return f"<b>Which patient{where}?</b> Tap the name; nothing is saved until you tap Save."


def left_out(kinds: Sequence[str]) -> str:
    """The facts of a message this reply did not act on (a referral beside a call ...)."""
    names = ", ".join(labels.label(labels.FACT_KIND, kind) for kind in kinds)
    return f"⚠️ <b>Not saved</b> from that message: the {names}. Send it on its own."


def cannot_save_unknown(written: str) -> str:
    return f"'{_text(written)}' is not on your list: add them (/newpatient) first."


NO_APPOINTMENT_DATE = "the appointment has no date: send it on its own with its day and time."
NO_PATIENT = "one fact names no patient."


def fix_menu_text(facts: Sequence[Fact], zone: ZoneInfo, now: datetime) -> str:
    lines = ["What should I change?"]
    if len(facts) > 1:
        lines.extend(f"{i}. {fact_line(f, zone, now)}" for i, f in enumerate(facts, 1))
    return "\n".join(lines)


def slot_button(slot: str, index: int, many: bool) -> str:
    name = {"patient": "Patient", "outcome": "Reached?", "channel": "How", "date": "Date"}[slot]
    return f"{index + 1}· {name}" if many else name


def date_option(when: When, zone: ZoneInfo, now: datetime) -> str:
    return _when(when, zone, now.astimezone(zone).date())


def channel_button(channel: Channel) -> str:
    return labels.CHANNEL[channel]


SLOT_QUESTION = {
    "patient": "Which patient?",
    "outcome": "Did you reach them?",
    "channel": "How was the contact?",
    "date": "Which day did you mean?",
}
CANCELLED = "Cancelled. Nothing was saved."
CLOSED = "That reading has closed; nothing more was saved."


def saved(results: Sequence[Logged], zone: ZoneInfo, now: datetime) -> str:
    """Several records of one message: each with its absolute dates."""
    parts = [records_render.summary(logged, zone, now) for logged in results]
    if len(parts) > 1:
        parts.append("<i>Undo takes the whole message back.</i>")
    return "\n\n".join(parts)


def message_undone(result: MessageUndone) -> str:
    if not result.records:
        return "↩️ Undone. Nothing was left to take back."
    lines = ["↩️ <b>Undone</b>:"]
    for undone in result.records:
        what = inline_label(labels.RECORD_KIND, undone.kind)
        name = f" for <b>{_text(undone.patient_name)}</b>" if undone.patient_name else ""
        how = "" if undone.change == "created" else " (change taken back)"
        lines.append(f"• the {what}{name}{how}")
    return "\n".join(lines)


NOTHING_TO_UNDO = "I found nothing of yours to undo in the last 48 hours. Nothing was changed."


def learn_offer(term: str, meaning: str) -> str:
    return f"Remember '<b>{_text(term)}</b>' = {_text(meaning)} for you?"


def learned(term: str, meaning: str) -> str:
    return f"Learned: '<b>{_text(term)}</b>' means {_text(meaning)} for you (/settings lists them)."


NOT_LEARNED = "OK, I won't remember it."
REFUSED_TERM = (
    "I can't learn that word: medication, dose and frequency words and Do Not Use "
    "abbreviations are never learned."
)


def terms_list(terms: Sequence[tuple[str, str]]) -> str:
    if not terms:
        return (
            "You have no learned words yet. When you fix a word I read wrong, I offer to learn it."
        )
    lines = ["<b>Your words</b> (tap to forget one):"]
    lines.extend(f"• {_text(term)} = {_text(meaning)}" for term, meaning in terms)
    return "\n".join(lines)


def forgot(term: str) -> str:
    return f"Forgotten: '{_text(term)}'."


# -- changes by text ---------------------------------------------------------------------------


_SLOT_NAMES = {
    "at": "Time",
    "day": "Day",
    "due_at": "Due",
    "follow_up": "Follow-up",
    "occurred_at": "When",
    "channel": "How",
    "outcome": "Outcome",
    "patient": "Patient",
}


def amended(result: Amended, zone: ZoneInfo, now: datetime) -> str:
    summary = records_render.summary(result.record, zone, now).removeprefix("✅ <b>Saved</b>: ")
    lines = [f"✏️ <b>Changed</b>: {summary}"]
    today = now.astimezone(zone).date()
    for name, before, after in result.changes:
        shown_before = _slot_value(name, before, zone, today)
        shown_after = _slot_value(name, after, zone, today)
        lines.append(f"{_SLOT_NAMES.get(name, name)}: {shown_before} → {shown_after}")
    return "\n".join(lines)


def _slot_value(name: str, value: str | None, zone: ZoneInfo, today: date) -> str:
    """A changed slot as she reads it: 'Fri 4 Dec 14:00', 'Phone call', 'Attempted'."""
    if not value:
        return "—"
    if name == "channel" and value in labels.CHANNEL:
        return labels.CHANNEL[value]
    if name == "outcome" and value in labels.OUTCOME:
        return labels.OUTCOME[value]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return _text(value)
    if moment.tzinfo is None and len(value) <= 10:
        return day_label(moment.date(), today=today)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return when_label(moment, zone, today=today)


def appointment_changed(result: AppointmentChanged, zone: ZoneInfo, now: datetime) -> str:
    logged = result.appointment
    name = _text(logged.patient_name)
    today = now.astimezone(zone).date()
    before = when_label(result.prior_at, zone, today=today, has_time=logged.has_time)
    if logged.at is not None and logged.at != result.prior_at:
        after = when_label(logged.at, zone, today=today, has_time=logged.has_time)
        head = (
            f"📅 <b>Moved</b>: appointment for <b>{name}</b> from {before} to {after}, {zone.key}."
        )
    else:
        head = f"🚫 <b>Cancelled</b>: appointment for <b>{name}</b> on {before}, {zone.key}."
    lines = [head]
    if result.cancelled:
        lines.append(f"{len(result.cancelled)} reminder(s) taken away.")
    if result.created:
        lines.append(f"{len(result.created)} reminder(s) set for the new time.")
    return "\n".join(lines)


def which_appointment(choice: AppointmentChoice, zone: ZoneInfo, now: datetime) -> str:
    return f"<b>{_text(choice.patient_name)}</b> has several appointments. Which one?"


def appointment_option(logged: Logged, zone: ZoneInfo, now: datetime) -> str:
    today = now.astimezone(zone).date()
    when = when_label(logged.at, zone, today=today, has_time=logged.has_time) if logged.at else "?"
    with_whom = f" {clip(logged.with_whom, 24)}" if logged.with_whom else ""
    return f"{when}{with_whom}"


def ask_new_time(patient_name: str) -> str:
    return (
        f"What is the new day or time for <b>{_text(patient_name)}</b>'s appointment? "
        "(e.g. <i>thu 10:30</i>, <i>2p</i>)"
    )


ASK_NEW_TIME_AGAIN = "I couldn't read a day or time in that. Try e.g. <i>fri 9:15a</i>."
QUESTION_DROPPED = (
    "That looks like a new message, so I stopped waiting for the new time (the appointment "
    "stays as it was). Now your new message:"
)
STEP_DROPPED = (
    "That looks like a new message, so I stopped asking my earlier question "
    "(<b>nothing from it was saved</b>). Now your new message:"
)
NO_PATIENT_FOR_CHANGE = (
    "Which patient's appointment? Send it with the name, e.g. <i>cancel Ana's fri appt</i>."
)
NOTHING_MATCHED = "I found no scheduled appointment that fits. Nothing was changed."
CHANGE_TARGET = {
    RecordKind.APPOINTMENT: "appointment",
}

"""The inbox through the fake Telegram: several facts in one message with one [Undo], unsure
facts read back ([Save], [Fix], [Cancel]) and never saved before her tap, a read-back that
survives a restart, tasks, notes and vitals, hospital events, corrections, cancellations,
reschedules and undo by text, the buttons under a saved appointment, and a learned word."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app.factory import build_application
from bot.render import inbox as inbox_render
from bot.render import records as render
from bot.vocab import AppointmentStatus, TaskKind, TaskStatus
from storage import patients
from storage.models import (
    Appointment,
    Contact,
    HospitalEvent,
    Note,
    Nurse,
    NurseTerm,
    Patient,
    PendingReading,
    Task,
    Vital,
)
from tests.conftest import test_config
from tests.fakes.telegram import FakeUser
from tests.harness import Harness

CHICAGO = ZoneInfo("America/Chicago")


async def _rows(harness: Harness, model: type) -> list:  # type: ignore[type-arg]
    async with harness.db.uow(read_only=True) as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())


@pytest.fixture
async def ana(harness: Harness) -> FakeUser:
    user = await harness.enroll("Ana")
    async with harness.db.uow() as session:
        nurse = await session.scalar(select(Nurse).where(Nurse.telegram_user_id == user.id))
        assert nurse is not None
        for name in ("Tom Jensen", "Ana Ruiz", "Maria Lopez", "Maria Santos"):
            await patients.create_patient(
                session, nurse_id=nurse.id, team_id=None, display_name=name,
                now=harness.clock.now(),
            )  # fmt: skip
    return user


def _local_day(at: datetime) -> str:
    return at.astimezone(CHICAGO).date().isoformat()


async def _live(harness: Harness, model: type) -> list:  # type: ignore[type-arg]
    return [r for r in await _rows(harness, model) if getattr(r, "undone_at", None) is None]


# -- several facts, one message, one [Undo] -----------------------------------------------------


async def test_a_call_and_the_appointment_it_made_are_both_saved_and_one_undo_takes_both_back(
    harness: Harness, ana: FakeUser
) -> None:
    calls = await harness.send(
        ana, "spoke with Tom Jensen, reached, made appt with cardio fri 12/4 at 10a"
    )
    assert [c.method for c in calls] == ["sendMessage"]
    text = harness.last_text(ana)
    assert "Saved: Phone call with Tom Jensen, reached." in text
    assert "Saved: appointment for Tom Jensen." in text
    assert "When: Fri 4 Dec 10:00, America/Chicago" in text
    reply = harness.fake.last_message(ana.id)
    assert reply.button_labels == [render.UNDO]  # one [Undo] for the whole message
    [contact] = await _rows(harness, Contact)
    [appointment] = await _rows(harness, Appointment)
    assert contact.outcome.value == "reached"

    await harness.press(ana, render.UNDO)
    assert "Undone" in harness.last_text(ana)
    assert await _live(harness, Contact) == []
    assert await _live(harness, Appointment) == []
    pushes = [t for t in await _rows(harness, Task) if t.origin_kind == "appointment"]
    assert pushes
    assert all(t.status == TaskStatus.CANCELLED for t in pushes)
    assert appointment.id == (await _rows(harness, Appointment))[0].id


# -- never save a guess ----------------------------------------------------------------------------


async def test_an_unsure_contact_is_read_back_and_saved_once_on_save(
    harness: Harness, ana: FakeUser
) -> None:
    before = await harness.row_counts()
    await harness.send(ana, "called Tom Jensen nrtc, f/u thu")
    readback = harness.fake.last_message(ana.id)
    assert (readback.text or "").startswith("🔎 I read (nothing saved yet):")
    assert "Phone call with Tom Jensen, Reached, Mon 23 Nov 10:15 · follow-up Thu 26 Nov" in (
        readback.text or ""
    )
    assert readback.button_labels == [inbox_render.SAVE, inbox_render.FIX, inbox_render.CANCEL]
    assert all("Tom" not in (b.callback_data or "") for b in readback.buttons)
    counts = await harness.row_counts()
    assert counts["contacts"] == before["contacts"] == 0
    assert counts["tasks"] == before["tasks"]

    # A double tap: two presses of the same [Save], both sent before the first is answered.
    first = harness.fake.callback_press(ana, readback.message_id, inbox_render.SAVE)
    second = harness.fake.callback_press(ana, readback.message_id, inbox_render.SAVE)
    await harness.fake._feed_and_collect(harness.app, first)
    assert "Saved: Phone call with Tom Jensen" in harness.last_text(ana)
    await harness.fake._feed_and_collect(harness.app, second)
    assert len(await _rows(harness, Contact)) == 1
    assert len([t for t in await _rows(harness, Task) if t.kind == TaskKind.FOLLOW_UP]) == 1


async def test_cancel_on_a_read_back_saves_nothing(harness: Harness, ana: FakeUser) -> None:
    await harness.send(ana, "called Tom Jensen nrtc")
    await harness.press(ana, inbox_render.CANCEL)
    assert harness.last_text(ana) == inbox_render.CANCELLED
    assert await _rows(harness, Contact) == []
    [held] = await _rows(harness, PendingReading)
    assert held.closed_at is not None


async def test_a_guessed_name_is_fixed_by_picking_the_patient_she_meant(
    harness: Harness, ana: FakeUser
) -> None:
    """'tom garcia' when her Tom is Jensen: read back; [Fix] offers her nearest patients, and
    the one she picks is saved, not the guess."""
    await harness.send(ana, "tried tom garcia no answer, try again tmrw")
    assert "Not sure of: the patient" in harness.last_text(ana)
    assert await _rows(harness, Contact) == []
    await harness.press(ana, inbox_render.FIX)
    await harness.press(ana, "Patient")
    await harness.press(ana, "Ana Ruiz")
    readback = next(m for m in harness.fake.sent_messages(ana.id) if "I read" in (m.text or ""))
    assert "Phone call with Ana Ruiz, NOT reached" in (readback.text or "")
    await harness.press(ana, inbox_render.SAVE, message_id=readback.message_id)
    [contact] = await _rows(harness, Contact)
    async with harness.db.uow(read_only=True) as session:
        saved_for = await session.scalar(
            select(Patient.display_name).where(Patient.id == contact.patient_id)
        )
    assert saved_for == "Ana Ruiz"


async def test_fix_not_reached_then_learn_the_word_and_use_it_next_time(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "called Tom Jensen nrtc")
    await harness.press(ana, inbox_render.FIX)
    await harness.press(ana, "Reached?")
    await harness.press(ana, inbox_render.NOT_REACHED)
    readback = next(m for m in harness.fake.sent_messages(ana.id) if "I read" in (m.text or ""))
    assert "Phone call with Tom Jensen, NOT reached" in (readback.text or "")
    assert harness.last_text(ana) == "Remember 'nrtc' = no answer for you?"
    assert await _rows(harness, Contact) == []  # still nothing saved

    await harness.press(ana, inbox_render.YES)
    assert "Learned" in harness.last_text(ana)
    [term] = await _rows(harness, NurseTerm)
    assert (term.term, term.meaning) == ("nrtc", "no answer")

    await harness.press(ana, inbox_render.SAVE, message_id=readback.message_id)
    [contact] = await _rows(harness, Contact)
    assert contact.outcome.value == "attempted"

    # Her word now reads as she means it: saved at once, as an attempt.
    await harness.send(ana, "called Ana Ruiz nrtc, f/u fri")
    assert "Saved: Phone call with Ana Ruiz, attempted." in harness.last_text(ana)

    await harness.send(ana, "/settings")
    await harness.press(ana, "My words")
    assert "nrtc = no answer" in harness.last_text(ana)
    await harness.press(ana, "Forget nrtc")
    assert await _rows(harness, NurseTerm) == []


async def test_a_weekday_that_disagrees_with_the_date_shows_both_and_saves_her_pick(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "spoke with Tom Jensen, f/u fri 12/3")
    assert "the weekday and the date disagree" in harness.last_text(ana)
    await harness.press(ana, inbox_render.FIX)
    await harness.press(ana, "Date")
    labels = harness.fake.last_message(ana.id).button_labels
    assert labels == ["Thu 3 Dec", "Fri 27 Nov"]
    await harness.press(ana, "Fri 27 Nov")
    assert "follow-up Fri 27 Nov" in harness.last_text(ana)
    await harness.press(ana, inbox_render.SAVE)
    [task] = [t for t in await _rows(harness, Task) if t.kind == TaskKind.FOLLOW_UP]
    assert _local_day(task.due_at) == "2026-11-27"


async def test_a_name_that_fits_two_patients_is_asked_and_then_how_it_went(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "called maria, f/u mon")
    reply = harness.fake.last_message(ana.id)
    assert reply.button_labels == ["Maria Lopez", "Maria Santos"]
    await harness.press(ana, "Maria Santos")
    assert "How was the contact" in harness.last_text(ana)  # "called" is not "reached"
    assert await _rows(harness, Contact) == []
    await harness.press(ana, "Call, no answer")
    [contact] = await _rows(harness, Contact)
    ids = {p.display_name: p.id for p in await _rows(harness, patients.Patient)}
    assert (contact.patient_id, contact.outcome.value) == (ids["Maria Santos"], "attempted")


async def test_a_pending_read_back_survives_a_restart(
    harness: Harness, ana: FakeUser, tmp_path: Path
) -> None:
    await harness.send(ana, "called Tom Jensen nrtc, f/u thu")
    readback = harness.fake.last_message(ana.id)
    harness.clock.advance(timedelta(hours=2))
    config = test_config(tmp_path, CASEBOT_TELEGRAM_TOKEN=harness.fake.token)
    restarted = build_application(
        config, db=harness.db, clock=harness.clock, request=harness.fake.request(),
        get_updates_request=harness.fake.request(), dispatch=False,
    )  # fmt: skip
    await restarted.initialize()
    try:
        await harness.fake.press(restarted, ana, inbox_render.SAVE, message_id=readback.message_id)
    finally:
        await restarted.shutdown()
    assert "Saved: Phone call with Tom Jensen" in harness.last_text(ana)
    [contact] = await _rows(harness, Contact)
    # Read as of when it came: "thu" is the Thursday after Mon 23 Nov, the call at 10:15.
    assert contact.occurred_at.astimezone(CHICAGO).strftime("%m-%d %H:%M") == "11-23 10:15"
    [task] = [t for t in await _rows(harness, Task) if t.kind == TaskKind.FOLLOW_UP]
    assert _local_day(task.due_at) == "2026-11-26"


# -- every kind of message -------------------------------------------------------------------------


async def test_a_task_for_herself_is_saved(harness: Harness, ana: FakeUser) -> None:
    await harness.send(ana, "remind me to fax orders fri")
    assert "Saved: task: fax orders" in harness.last_text(ana)
    [task] = await _rows(harness, Task)
    assert (task.kind, task.patient_id, _local_day(task.due_at)) == (
        TaskKind.CUSTOM, None, "2026-11-27",
    )  # fmt: skip
    await harness.press(ana, render.UNDO)
    [task] = await _rows(harness, Task)
    assert task.status == TaskStatus.CANCELLED


async def test_vitals_are_saved_as_a_note_with_typed_values(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "Tom BP 150/90 wt 182")
    text = harness.last_text(ana)
    assert "Saved: note on Tom Jensen." in text
    assert "150/90 mmHg" in text
    assert len(await _rows(harness, Note)) == 1
    assert sorted((v.kind.value, v.value) for v in await _rows(harness, Vital)) == [
        ("bp", "150/90"),
        ("weight", "182"),
    ]


@pytest.mark.parametrize(
    ("text", "kind", "said"),
    [
        ("Ana admitted to Mercy for CHF", "admission", "Saved: admission of Ana Ruiz."),
        ("Tom in the ED last night for SOB", "ed_visit", "Saved: ED visit of Tom Jensen."),
    ],
)
async def test_hospital_events_are_saved(
    harness: Harness, ana: FakeUser, text: str, kind: str, said: str
) -> None:
    await harness.send(ana, text)
    assert said.lower() in harness.last_text(ana).lower()
    [event] = await _rows(harness, HospitalEvent)
    assert event.kind.value == kind


async def test_an_appointment_already_on_file_warns_instead_of_doubling(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "Ana Ruiz cardiology appt Dec 3 10:30am")
    await harness.send(ana, "Ana Ruiz cardiology appt Dec 3 10:30am")
    assert "Already on file" in harness.last_text(ana)
    assert harness.fake.last_message(ana.id).button_labels == []
    assert len(await _rows(harness, Appointment)) == 1


# -- changes by text -------------------------------------------------------------------------------


async def test_actually_make_that_thursday_moves_the_follow_up_without_a_second_contact(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "spoke with Tom Jensen, f/u fri")
    await harness.send(ana, "actually make that thursday")
    assert "Changed" in harness.last_text(ana)
    assert len(await _rows(harness, Contact)) == 1
    [task] = [
        t
        for t in await _rows(harness, Task)
        if t.kind == TaskKind.FOLLOW_UP and t.status == TaskStatus.OPEN
    ]
    assert _local_day(task.due_at) == "2026-11-26"


async def test_cancel_an_appointment_by_text(harness: Harness, ana: FakeUser) -> None:
    await harness.send(ana, "Ana Ruiz cardiology appt fri 10:30am")
    await harness.send(ana, "cancel Ana's fri appt")
    assert "Cancelled: appointment for Ana Ruiz" in harness.last_text(ana)
    [appointment] = await _rows(harness, Appointment)
    assert appointment.status == AppointmentStatus.CANCELLED
    pushes = [t for t in await _rows(harness, Task) if t.origin_kind == "appointment"]
    assert all(t.status != TaskStatus.OPEN for t in pushes)


async def test_reschedule_by_text_asks_which_when_two_fit(harness: Harness, ana: FakeUser) -> None:
    await harness.send(ana, "Ana Ruiz cardiology appt Dec 3 10:30am")
    await harness.send(ana, "Ana Ruiz dermatology appt Dec 4 9am")
    await harness.send(ana, "change Ana's appt to 2p")
    labels = harness.fake.last_message(ana.id).button_labels
    assert len(labels) == 2
    assert labels[1].startswith("Fri 4 Dec 09:00")
    await harness.press(ana, labels[1])
    assert "Moved: appointment for Ana Ruiz" in harness.last_text(ana)
    moved = [a for a in await _rows(harness, Appointment) if a.with_whom == "dermatology"]
    assert moved[0].at.astimezone(CHICAGO).strftime("%m-%d %H:%M") == "12-04 14:00"
    assert len(await _rows(harness, Appointment)) == 2


async def test_scratch_that_undoes_her_latest_message(harness: Harness, ana: FakeUser) -> None:
    await harness.send(ana, "remind me to fax orders fri")
    await harness.send(ana, "spoke with Tom Jensen, f/u fri")
    await harness.send(ana, "scratch that")
    assert "Undone" in harness.last_text(ana)
    [contact] = await _rows(harness, Contact)
    assert contact.undone_at is not None
    custom = [t for t in await _rows(harness, Task) if t.kind == TaskKind.CUSTOM]
    assert [t.status for t in custom] == [TaskStatus.OPEN]  # the earlier message stays


# -- the buttons under a saved appointment -------------------------------------------------------


async def test_change_time_asks_and_moves_the_appointment_with_its_reminders(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "Tom Jensen cardiology appt Dec 3 10:30am")
    assert harness.fake.last_message(ana.id).button_labels == [
        inbox_render.CHANGE_TIME, inbox_render.CANCEL_APPOINTMENT, render.UNDO,
    ]  # fmt: skip
    await harness.press(ana, inbox_render.CHANGE_TIME)
    assert "new day or time" in harness.last_text(ana)
    await harness.send(ana, "fri 2p")
    assert "Moved: appointment for Tom Jensen" in harness.last_text(ana)
    [appointment] = await _rows(harness, Appointment)
    assert appointment.at.astimezone(CHICAGO).strftime("%m-%d %H:%M") == "11-27 14:00"
    reminders = [
        t
        for t in await _rows(harness, Task)
        if t.kind == TaskKind.APPOINTMENT_REMINDER and t.status == TaskStatus.OPEN
    ]
    assert reminders
    assert all(t.due_at <= appointment.at for t in reminders)


async def test_a_new_message_while_a_new_time_is_asked_is_handled_as_new(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "Tom Jensen cardiology appt Dec 3 10:30am")
    await harness.press(ana, inbox_render.CHANGE_TIME)
    calls = await harness.send(ana, "remind me to fax orders fri")
    texts = [str(c.params.get("text")) for c in calls if c.method == "sendMessage"]
    assert texts[0] == inbox_render.QUESTION_DROPPED.replace("<b>", "").replace("</b>", "")
    assert "Saved: task: fax orders" in harness.last_text(ana)
    [appointment] = await _rows(harness, Appointment)
    assert appointment.at.astimezone(CHICAGO).strftime("%m-%d %H:%M") == "12-03 10:30"


async def test_cancel_appt_button(harness: Harness, ana: FakeUser) -> None:
    await harness.send(ana, "Tom Jensen cardiology appt Dec 3 10:30am")
    await harness.press(ana, inbox_render.CANCEL_APPOINTMENT)
    assert "Cancelled: appointment for Tom Jensen" in harness.last_text(ana)
    [appointment] = await _rows(harness, Appointment)
    assert appointment.status == AppointmentStatus.CANCELLED
    # "scratch that" takes the cancellation back: the appointment and its reminders return.
    await harness.send(ana, "scratch that")
    assert "Undone" in harness.last_text(ana)
    [appointment] = await _rows(harness, Appointment)
    assert appointment.status == AppointmentStatus.SCHEDULED


async def test_a_fact_the_inbox_cannot_save_with_the_others_is_named_not_dropped(
    harness: Harness, ana: FakeUser
) -> None:
    calls = await harness.send(ana, "spoke with Tom Jensen, reached, referred him to cardiology")
    said = [str(c.params.get("text")) for c in calls if c.method == "sendMessage"]
    assert said[0] == "⚠️ <b>Not saved</b> from that message: the referral. Send it on its own."
    assert "Saved: Phone call with Tom Jensen, reached." in harness.last_text(ana)
    assert len(await _rows(harness, Contact)) == 1


async def test_a_read_back_expires_after_a_day_and_saves_nothing(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "called Tom Jensen nrtc")
    harness.clock.advance(timedelta(hours=25))
    calls = await harness.press(ana, inbox_render.SAVE)
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params.get("text") == inbox_render.CLOSED
    assert await _rows(harness, Contact) == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "new patient Jane Doe high risk, d/c from Mercy today",
            ["Saved: new patient Jane Doe.", "Saved: discharge of Jane Doe."],
        ),
        ("med rec done for Tom Jensen, 1 discrepancy", ["Saved: med rec for Tom Jensen."]),
        (
            "TCM call with Tom Jensen, reached, med rec done",
            ["Saved: Phone call with Tom Jensen, reached.", "Saved: med rec for Tom Jensen."],
        ),
        ("todo: fax orders", ["Saved: task: fax orders"]),
        ("need to check on Tom fri", ["Saved: task for Tom Jensen"]),
        ("note for Ana: daughter is caregiver", ["Saved: note on Ana Ruiz."]),
    ],
)
async def test_each_kind_of_record_is_saved_and_listed(
    harness: Harness, ana: FakeUser, text: str, said: list[str]
) -> None:
    calls = await harness.send(ana, text)
    assert [c.method for c in calls] == ["sendMessage"]
    reply = harness.last_text(ana)
    for line in said:
        assert line.lower() in reply.lower(), reply
    assert render.UNDO in harness.fake.last_message(ana.id).button_labels

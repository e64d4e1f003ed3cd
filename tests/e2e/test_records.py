"""Logging from chat through the fake Telegram: one-message logging of each intent, the
missing-piece conversation, ambiguity buttons, undo, TCM deadlines across a holiday, the
appointment reminders and the attended check, and what is never logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bot.render import records as render
from bot.vocab import AppointmentStatus, TaskKind, TaskStatus
from storage import patients
from storage.models import (
    Appointment,
    AuditEvent,
    Contact,
    Episode,
    MedicationReconciliation,
    Note,
    Nurse,
    Task,
)
from tests.fakes.telegram import FakeUser
from tests.harness import Harness
from tests.reminder_support import run_pass

CHICAGO = ZoneInfo("America/Chicago")


async def _nurse_id(harness: Harness, user: FakeUser) -> int:
    async with harness.db.uow(read_only=True) as session:
        nurse = await session.scalar(select(Nurse).where(Nurse.telegram_user_id == user.id))
        assert nurse is not None
        return nurse.id


async def _add_patients(harness: Harness, user: FakeUser, *names: str) -> dict[str, int]:
    nurse_id = await _nurse_id(harness, user)
    ids = {}
    async with harness.db.uow() as session:
        for name in names:
            patient = await patients.create_patient(
                session, nurse_id=nurse_id, team_id=None, display_name=name,
                now=harness.clock.now(),
            )  # fmt: skip
            ids[name] = patient.id
    return ids


async def _rows(harness: Harness, model: type) -> list:  # type: ignore[type-arg]
    async with harness.db.uow(read_only=True) as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())


async def _tasks(harness: Harness) -> list[Task]:
    return await _rows(harness, Task)


@pytest.fixture
async def ana(harness: Harness) -> FakeUser:
    user = await harness.enroll("Ana")
    await _add_patients(harness, user, "Maria Lopez", "Maria Santos", "John Smith")
    return user


def _local(at: datetime) -> datetime:
    return at.astimezone(CHICAGO)


# -- one message, one record -------------------------------------------------------------------


async def test_contact_with_follow_up_is_saved_at_once_with_a_follow_up_task(
    harness: Harness, ana: FakeUser
) -> None:
    calls = await harness.send(ana, "spoke with Maria Lopez re insulin, f/u Fri")
    assert [c.method for c in calls] == ["sendMessage"]
    reply = harness.fake.last_message(ana.id)
    assert "Saved" in (reply.text or "")
    assert "Maria Lopez" in (reply.text or "")
    assert "Follow-up: Fri 27 Nov, America/Chicago" in (reply.text or "")
    assert reply.button_labels == [render.UNDO, render.CHANGE_FOLLOW_UP, render.ADD_NOTE]
    assert all("Maria" not in (b.callback_data or "") for b in reply.buttons)

    [contact] = await _rows(harness, Contact)
    assert (contact.channel.value, contact.outcome.value) == ("phone", "reached")
    [task] = await _tasks(harness)
    assert task.kind == TaskKind.FOLLOW_UP
    assert (task.origin_kind, task.origin_id) == ("contact", contact.id)
    assert _local(task.due_at).date().isoformat() == "2026-11-27"
    assert "contact.logged" in await harness.audit_actions()


async def test_a_message_that_says_two_things_saves_both_in_one_reply(
    harness: Harness, ana: FakeUser
) -> None:
    calls = await harness.send(
        ana, "LVM for John Smith, try again tomorrow. Maria Lopez d/c from Mercy today"
    )
    assert [c.method for c in calls] == ["sendMessage"]  # one reply lists both
    assert "Saved: Voicemail with John Smith" in harness.last_text(ana)
    assert "Saved: discharge of Maria Lopez" in harness.last_text(ana)
    [contact] = await _rows(harness, Contact)
    assert (contact.channel.value, contact.outcome.value) == ("voicemail", "attempted")
    assert len(await _rows(harness, Episode)) == 1


async def test_appointment_creates_two_reminders_and_an_attended_check(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "John Smith cardiology appt Dec 3 10:30am")
    text = harness.last_text(ana)
    assert "When: Thu 3 Dec 10:30, America/Chicago" in text
    [appointment] = await _rows(harness, Appointment)
    assert appointment.with_whom == "cardiology"
    tasks = await _tasks(harness)
    assert [t.kind for t in tasks] == [
        TaskKind.APPOINTMENT_REMINDER,
        TaskKind.APPOINTMENT_REMINDER,
        TaskKind.ATTENDANCE_CHECK,
    ]
    # The day before at the nurse's digest time (07:30), and 2 h before; "Attended?" when it
    # ends ([care] appointment_minutes = 60), not at its start.
    assert [_local(t.remind_at).strftime("%a %d %H:%M") for t in tasks if t.remind_at] == [
        "Wed 02 07:30",
        "Thu 03 08:30",
        "Thu 03 11:30",
    ]


async def test_discharge_before_thanksgiving_gives_tcm_contact_due_friday(
    harness: Harness, ana: FakeUser
) -> None:
    harness.clock.set(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))  # Tue 24 Nov, 09:00 Chicago
    await harness.send(ana, "John Smith d/c from Mercy today")
    text = harness.last_text(ana)
    assert "Discharged: Tue 24 Nov, America/Chicago" in text
    assert "TCM contact: by Fri 27 Nov 23:59, America/Chicago" in text
    reply = harness.fake.last_message(ana.id)
    assert render.MODERATE in reply.button_labels
    assert render.HIGH in reply.button_labels

    tasks = {t.kind: t for t in await _tasks(harness)}
    contact = _local(tasks[TaskKind.TCM_CONTACT].due_at)
    assert (contact.date().isoformat(), contact.strftime("%H:%M")) == ("2026-11-27", "23:59")
    # Unknown complexity: the visit is on the safe 7-day side until the nurse says.
    assert _local(tasks[TaskKind.TCM_VISIT].due_at).date().isoformat() == "2026-12-01"

    await harness.press(ana, render.MODERATE)
    assert "TCM visit: by Tue 8 Dec 23:59, America/Chicago" in harness.last_text(ana)
    [episode] = await _rows(harness, Episode)
    assert episode.complexity is not None
    assert episode.complexity.value == "moderate"
    tasks = {t.kind: t for t in await _tasks(harness)}
    assert _local(tasks[TaskKind.TCM_VISIT].due_at).date().isoformat() == "2026-12-08"
    assert "discharge.complexity_set" in await harness.audit_actions()


async def test_reached_call_closes_tcm_contact_and_med_rec_closes_med_rec_task(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "John Smith d/c from Mercy yesterday high complexity")
    harness.clock.advance(timedelta(hours=1))
    await harness.send(ana, "called John Smith, doing ok, f/u next week")
    assert "Closed: TCM contact task" in harness.last_text(ana)
    await harness.send(ana, "med rec done for John Smith, 1 discrepancy")
    assert "Closed: Med rec task" in harness.last_text(ana)
    [med_rec] = await _rows(harness, MedicationReconciliation)
    assert med_rec.discrepancies == 1
    status = {t.kind: t.status for t in await _tasks(harness)}
    assert status[TaskKind.TCM_CONTACT] == TaskStatus.DONE
    assert status[TaskKind.MED_REC] == TaskStatus.DONE
    assert status[TaskKind.TCM_VISIT] == TaskStatus.OPEN


async def test_two_attempts_in_the_window_mark_attempts_documented(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "John Smith d/c from Mercy yesterday")
    await harness.send(ana, "LVM for John Smith, f/u tomorrow")
    harness.clock.advance(timedelta(hours=3))
    await harness.send(ana, "LVM for John Smith again, f/u tomorrow")
    assert "two attempts documented" in harness.last_text(ana)
    [tcm] = [t for t in await _tasks(harness) if t.kind == TaskKind.TCM_CONTACT]
    assert (tcm.status, tcm.attempts_documented) == (TaskStatus.OPEN, True)


# -- ambiguity and missing pieces ----------------------------------------------------------------


async def test_ambiguous_first_name_offers_buttons_then_saves(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "spoke with Maria, f/u tomorrow")
    reply = harness.fake.last_message(ana.id)
    assert sorted(reply.button_labels) == ["Maria Lopez", "Maria Santos"]
    assert all("Maria" not in (b.callback_data or "") for b in reply.buttons)
    assert await _rows(harness, Contact) == []

    await harness.press(ana, "Maria Santos")
    assert "Maria Santos" in harness.last_text(ana)
    assert "Saved" in harness.last_text(ana)
    [contact] = await _rows(harness, Contact)
    ids = {p.display_name: p.id for p in await _rows(harness, patients.Patient)}
    assert contact.patient_id == ids["Maria Santos"]


async def test_missing_follow_up_is_asked_with_buttons(harness: Harness, ana: FakeUser) -> None:
    await harness.send(ana, "spoke with John Smith")
    reply = harness.fake.last_message(ana.id)
    assert reply.button_labels == [render.TOMORROW, render.IN_ONE_WEEK, render.NO_FOLLOW_UP]
    assert await _rows(harness, Contact) == []
    await harness.press(ana, render.IN_ONE_WEEK)
    assert "Follow-up: Mon 30 Nov, America/Chicago" in harness.last_text(ana)
    assert len(await _rows(harness, Contact)) == 1


async def test_missing_patient_and_time_are_asked_and_typed(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "/appt")
    assert "one line" in harness.last_text(ana)
    await harness.send(ana, "John Smith appt with dermatology")
    assert "When is the appointment" in harness.last_text(ana)
    await harness.send(ana, "sometime")
    assert "couldn't read a date" in harness.last_text(ana)
    await harness.send(ana, "Fri 2pm")
    assert "When: Fri 27 Nov 14:00, America/Chicago" in harness.last_text(ana)
    assert len(await _rows(harness, Appointment)) == 1


async def test_cancel_says_nothing_was_saved(harness: Harness, ana: FakeUser) -> None:
    before = await harness.row_counts()
    await harness.send(ana, "spoke with Maria")
    await harness.send(ana, "/cancel")
    assert harness.last_text(ana) == render.CANCELLED
    assert await harness.row_counts() == before


async def test_contact_without_channel_asks_how(harness: Harness, ana: FakeUser) -> None:
    await harness.send(ana, "/contact")
    await harness.send(ana, "John Smith doing better, f/u Fri")
    assert "How was the contact" in harness.last_text(ana)
    await harness.press(ana, "Home visit")
    assert "Home visit with <b>John Smith</b>" in (harness.fake.last_message(ana.id).source or "")


async def test_note_command_saves_a_note(harness: Harness, ana: FakeUser) -> None:
    await harness.send(ana, "/note")
    await harness.send(ana, "Maria Lopez")
    assert "Type the note" in harness.last_text(ana)
    await harness.send(ana, "daughter <b>visits</b> Sundays")
    assert "Note added for Maria Lopez" in harness.last_text(ana)
    [note] = await _rows(harness, Note)
    assert note.text == "daughter <b>visits</b> Sundays"


# -- undo and changes ------------------------------------------------------------------------------


async def test_undo_marks_the_record_undone_cancels_its_task_and_is_audited(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "spoke with Maria Lopez, f/u Fri")
    harness.clock.advance(timedelta(hours=23))
    await harness.press(ana, render.UNDO)
    assert "Undone" in harness.last_text(ana)
    [contact] = await _rows(harness, Contact)
    assert contact.undone_at is not None
    [task] = await _tasks(harness)
    assert task.status == TaskStatus.CANCELLED
    [event] = [e for e in await _rows(harness, AuditEvent) if e.action == "record.undone"]
    assert event.detail["prior"]["undone_at"] is None
    assert event.detail["cancelled_task_ids"] == [task.id]

    await harness.press(ana, render.UNDO)  # a stale button answers instead of failing
    assert harness.last_text(ana) == render.refusal("already_undone")


async def test_change_follow_up_and_add_note_within_the_window_then_expired(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "spoke with Maria Lopez, f/u Fri")
    await harness.press(ana, render.CHANGE_FOLLOW_UP)
    await harness.send(ana, "Dec 4")
    assert "Follow-up for Maria Lopez: Fri 4 Dec, America/Chicago" in harness.last_text(ana)
    [task] = await _tasks(harness)
    assert _local(task.due_at).date().isoformat() == "2026-12-04"
    [event] = [
        e for e in await _rows(harness, AuditEvent) if e.action == "record.follow_up_changed"
    ]
    assert event.detail["prior"][0]["due_at"].startswith("2026-11-28")  # Fri 23:59 Chicago

    await harness.press(ana, render.ADD_NOTE)
    await harness.send(ana, "pharmacy called back")
    assert "Note added" in harness.last_text(ana)

    harness.clock.advance(timedelta(days=3))
    await harness.press(ana, render.CHANGE_FOLLOW_UP)
    assert harness.last_text(ana) == render.refusal("expired")


# -- the attended check ----------------------------------------------------------------------------


async def test_attended_check_no_show_creates_a_follow_up_task(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "John Smith cardiology appt tomorrow 10am")
    [check] = [t for t in await _tasks(harness) if t.kind == TaskKind.ATTENDANCE_CHECK]
    # The moment the appointment is over, whatever hour the test started at (--clock-at).
    harness.clock.set((check.remind_at or check.due_at) + timedelta(minutes=5))
    await run_pass(harness)  # the dispatcher pushes the check when the appointment is over
    [pushed] = [m for m in harness.fake.sent_messages(ana.id) if render.ATTENDED in m.button_labels]
    assert pushed.button_labels == [render.ATTENDED, render.NO_SHOW, render.RESCHEDULED]
    assert "J.S." in (pushed.text or "")  # pushes follow the privacy setting (initials)
    assert "John Smith" not in (pushed.text or "")

    await harness.press(ana, render.NO_SHOW)
    assert "no-show" in harness.last_text(ana)
    [appointment] = await _rows(harness, Appointment)
    assert appointment.status == AppointmentStatus.NO_SHOW
    tasks = await _tasks(harness)
    follow = [t for t in tasks if t.kind == TaskKind.FOLLOW_UP]
    assert len(follow) == 1
    assert follow[0].status == TaskStatus.OPEN
    assert all(
        t.status != TaskStatus.OPEN for t in tasks if t.kind == TaskKind.APPOINTMENT_REMINDER
    )
    await harness.press(ana, render.ATTENDED)
    assert harness.last_text(ana) == render.refusal("already_answered")


# -- never logged, never twice --------------------------------------------------------------------


async def test_an_edited_message_creates_no_second_record(harness: Harness, ana: FakeUser) -> None:
    update = harness.fake.private_text(ana, "spoke with Maria Lopez, f/u Fri")
    await harness.fake._feed_and_collect(harness.app, update)
    before = await harness.row_counts()
    edit = harness.fake.edited_text(ana, update["message"]["message_id"], "called Maria Santos")
    calls = await harness.fake._feed_and_collect(harness.app, edit)
    assert [c.method for c in calls] == ["sendMessage"]
    assert harness.last_text(ana).startswith("I saw you edited a message")
    assert await harness.row_counts() == before


async def test_a_redelivered_update_logs_nothing_twice(harness: Harness, ana: FakeUser) -> None:
    update = harness.fake.private_text(ana, "spoke with Maria Lopez, f/u Fri")
    await harness.fake._feed_and_collect(harness.app, update)
    again = dict(update, update_id=update["update_id"] + 1000)
    await harness.fake._feed_and_collect(harness.app, again)
    assert harness.last_text(ana) == render.duplicate()
    assert len(await _rows(harness, Contact)) == 1
    assert len(await _tasks(harness)) == 1


# Voice notes are transcribed and saved on a tap: tests/e2e/test_voice.py.
@pytest.mark.parametrize("kind", ["forwarded", "photo", "document"])
async def test_forwarded_and_media_are_not_logged(
    harness: Harness, ana: FakeUser, kind: str
) -> None:
    before = await harness.row_counts()
    fake = harness.fake
    update = {
        "forwarded": lambda: fake.forwarded_text(ana, "spoke with Maria Lopez, f/u Fri"),
        "photo": lambda: fake.photo_message(ana, caption="called Maria Lopez"),
        "document": lambda: fake.document_message(ana),
    }[kind]()
    calls = await fake._feed_and_collect(harness.app, update)
    assert [c.method for c in calls] == ["sendMessage"]
    assert "nothing was saved" in harness.last_text(ana)
    assert await harness.row_counts() == before


async def test_database_unavailable_says_not_saved_and_stores_nothing(
    harness: Harness, ana: FakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await harness.row_counts()
    # Writes go to a server that refuses connections (a real driver-level failure); the
    # access gate and the caseload read still work, so the failure is at the save itself.
    dead = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    monkeypatch.setattr(harness.db, "sessions", async_sessionmaker(dead, expire_on_commit=False))
    try:
        await harness.send(ana, "spoke with Maria Lopez, f/u Fri")
    finally:
        await dead.dispose()
    assert "NOT saved" in harness.last_text(ana)
    monkeypatch.undo()
    assert await harness.row_counts() == before


# -- other intents -------------------------------------------------------------------------------


async def test_caseload_questions_are_answered_and_unknown_text_gets_a_short_reply(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "who is overdue?")
    assert harness.last_text(ana).startswith("Overdue")
    await harness.send(ana, "what is the meaning of life?")
    assert "I can answer" in harness.last_text(ana) or "/caseload" in harness.last_text(ana)
    await harness.send(ana, "hello there <script>")
    assert harness.last_text(ana).startswith("I didn't catch a record")
    assert await _rows(harness, Contact) == []


async def test_new_patients_and_lookups_are_handed_to_the_patient_handlers(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "new patient Rosa Diaz MRN 555 high risk CHF")
    assert "Rosa Diaz" in harness.last_text(ana)
    names = {p.display_name for p in await _rows(harness, patients.Patient)}
    assert "Rosa Diaz" in names

    await harness.send(ana, "John Smith")
    card = harness.last_text(ana)
    assert "John Smith" in card

    await harness.send(ana, "called Bob Jones, f/u Fri")
    offer = harness.fake.last_message(ana.id)
    assert "Bob Jones" in (offer.text or "")
    assert await _rows(harness, Contact) == []


async def test_log_contact_from_a_reminder_asks_how_then_saves(
    harness: Harness, ana: FakeUser
) -> None:
    from tests.reminder_support import add_follow_up, run_pass

    ids = {p.display_name: p.id for p in await _rows(harness, patients.Patient)}
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    await add_follow_up(harness, ana, ids["John Smith"], day=friday)
    harness.clock.set(friday)
    await run_pass(harness)
    await harness.press(ana, "Log contact")
    assert "How was the contact with John Smith" in harness.last_text(ana)
    await harness.press(ana, "Call, no answer")
    await harness.press(ana, render.TOMORROW)
    assert "Phone call with John Smith, attempted." in harness.last_text(ana)
    contacts = [c for c in await _rows(harness, Contact) if c.patient_id == ids["John Smith"]]
    assert [(c.channel.value, c.outcome.value) for c in contacts][-1] == ("phone", "attempted")


async def test_buttons_are_checked_against_the_pressing_nurse(
    harness: Harness, ana: FakeUser
) -> None:
    bea = await harness.enroll("Bea")
    await harness.send(ana, "spoke with Maria Lopez, f/u Fri")
    await harness.press(bea, render.UNDO, chat_id=ana.id)
    [contact] = await _rows(harness, Contact)
    assert contact.undone_at is None
    assert "record.undone" not in await harness.audit_actions()


async def test_a_new_message_while_asked_for_a_date_is_not_swallowed(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "spoke with John Smith")  # no follow-up: it asks
    assert "Follow-up" in harness.last_text(ana)
    before = await _rows(harness, Contact)
    calls = await harness.send(ana, "LVM for Maria Lopez, try again tomorrow")
    texts = [str(c.params.get("text")) for c in calls if c.method == "sendMessage"]
    # John's call waited only for its optional follow-up: saved without one, not lost.
    assert any("saved <b>without a follow-up</b>" in t for t in texts)
    contacts = await _rows(harness, Contact)
    assert len(contacts) == len(before) + 2
    assert "John Smith" in contacts[-2].note
    assert "Maria Lopez" in contacts[-1].note
    john_follow_ups = [t for t in await _tasks(harness) if t.patient_id == contacts[-2].patient_id]
    assert john_follow_ups == []  # no follow-up taken from Maria's line


async def test_a_line_about_a_patient_she_has_not_added_is_not_taken_as_the_date(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "spoke with John Smith")  # no follow-up: it asks
    calls = await harness.send(ana, "called Zelda Fitzgerald, f/u Fri")
    texts = [str(c.params.get("text")) for c in calls if c.method == "sendMessage"]
    assert any("saved <b>without a follow-up</b>" in t for t in texts)
    assert harness.last_text(ana) == (
        "I don't have Zelda Fitzgerald in your caseload. Your message was NOT saved: "
        "add the patient, then send it again."
    )
    # Before: "Fri" was read from Zelda's line as John's follow-up, and her line vanished.
    [john] = await _rows(harness, Contact)
    assert "John Smith" in john.note
    assert await _tasks(harness) == []


async def test_a_question_while_asked_how_the_contact_happened_is_answered(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "contacted John Smith, f/u tomorrow")  # how is not said
    assert harness.last_text(ana).startswith("How was the contact with John Smith?")
    calls = await harness.send(ana, "who is overdue?")
    texts = [str(c.params.get("text")) for c in calls if c.method == "sendMessage"]
    assert any("the earlier one was NOT saved" in t for t in texts)
    assert harness.last_text(ana).startswith("Overdue")
    assert await _rows(harness, Contact) == []


async def test_a_typed_channel_answers_how_the_contact_happened(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "contacted John Smith, f/u tomorrow")  # how is not said
    assert harness.last_text(ana).startswith("How was the contact with John Smith?")
    await harness.send(ana, "LVM")
    assert "Saved" in harness.last_text(ana)
    [contact] = await _rows(harness, Contact)
    assert (contact.channel.value, contact.outcome.value) == ("voicemail", "attempted")
    await harness.send(ana, "contacted Maria Lopez, f/u tomorrow")
    await harness.send(ana, "blah")  # neither a channel nor a new message: the buttons again
    assert harness.last_text(ana) == "Please tap how the contact happened:"


async def test_a_question_instead_of_a_patient_name_is_answered(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "LVM, try again tomorrow")  # no name: it asks which patient
    asked = harness.last_text(ana)
    calls = await harness.send(ana, "who is overdue?")
    texts = [str(c.params.get("text")) for c in calls if c.method == "sendMessage"]
    assert any("the earlier one was NOT saved" in t for t in texts), asked
    assert harness.last_text(ana).startswith("Overdue")
    assert await _rows(harness, Contact) == []


async def test_a_question_after_contact_command_is_answered(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.send(ana, "/contact")
    await harness.send(ana, "who is overdue?")
    assert harness.last_text(ana).startswith("Overdue")

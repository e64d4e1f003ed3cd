"""Caseload questions end to end through the fake Telegram, on fixed data.

Commands (/caseload, /today, /overdue, /week, /team, /stats, /export), their free-text forms
(parsed by the real parser and answered by handlers.queries.answer_query, as the free-text
router does), pagination, a supervisor's team view and a reassignment.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select, update

from bot.clock import ManualClock
from bot.services.charts import PNG_SIGNATURE
from bot.vocab import AppointmentStatus, Channel, Outcome, Party, Risk, Role, TaskKind, TaskStatus
from storage.models import Appointment, Contact, Nurse, Patient, Task
from storage.patients import create_patient
from tests.clocks import BASE_START
from tests.fakes.telegram import FakeUser
from tests.harness import Harness


def ct(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A time in November/December 2026 written in America/Chicago (UTC-6)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) + timedelta(hours=6)


@pytest.fixture
def h(harness: Harness) -> Harness:
    return harness


@pytest.fixture
def clock() -> ManualClock:
    """The fixed caseload below is dated around Mon 23 Nov 2026 10:15 Chicago: these tests stay
    at that instant whatever hour `--clock-at` moves the others to."""
    return ManualClock(BASE_START)


async def ask(h: Harness, user: FakeUser, question: str) -> str:
    """Send a free-text question through the real router (parser -> query views)."""
    await h.send(user, question)
    return h.last_text(user)


async def forge(h: Harness, user: FakeUser, data: str) -> None:
    """Press the first button of her latest keyboard, with forged callback data."""
    message = next(m for m in reversed(h.fake.sent_messages(user.id)) if m.buttons)
    update = h.fake.callback_press(user, message.message_id, message.buttons[0].label)
    update["callback_query"]["data"] = data
    await h.fake._feed_and_collect(h.app, update)


async def nurse_of(h: Harness, user: FakeUser) -> Nurse:
    async with h.db.uow(read_only=True) as session:
        nurse = await session.scalar(select(Nurse).where(Nurse.telegram_user_id == user.id))
    assert nurse is not None
    return nurse


@dataclass
class Fixed:
    maria: int
    tom: int
    rosa: int
    ed: int
    tcm_task: int
    overdue_task: int
    today_task: int


async def add_patient(
    h: Harness, nurse: Nurse, name: str, risk: Risk, reached: datetime | None = None
) -> int:
    async with h.db.uow() as session:
        patient = await create_patient(
            session,
            nurse_id=nurse.id,
            team_id=nurse.team_id,
            display_name=name,
            now=h.clock.now() - timedelta(days=60),
            risk=risk,
        )
        patient.last_reached_at = reached
        return patient.id


async def add_contact(
    h: Harness, nurse: Nurse, patient_id: int, at: datetime, outcome: Outcome, note: str = ""
) -> None:
    async with h.db.uow() as session:
        session.add(
            Contact(
                patient_id=patient_id,
                nurse_id=nurse.id,
                occurred_at=at,
                channel=Channel.PHONE,
                outcome=outcome,
                with_whom=Party.PATIENT,
                note=note,
                created_at=at,
            )
        )


async def add_task(
    h: Harness, nurse: Nurse, patient_id: int, kind: TaskKind, due: datetime, title: str = ""
) -> int:
    async with h.db.uow() as session:
        task = Task(
            nurse_id=nurse.id,
            patient_id=patient_id,
            kind=kind,
            title=title,
            due_at=due,
            status=TaskStatus.OPEN,
            created_at=due - timedelta(days=3),
        )
        session.add(task)
        await session.flush()
        return task.id


async def add_appointment(
    h: Harness, nurse: Nurse, patient_id: int, at: datetime, with_whom: str, where: str
) -> int:
    async with h.db.uow() as session:
        appt = Appointment(
            patient_id=patient_id,
            nurse_id=nurse.id,
            at=at,
            has_time=True,
            with_whom=with_whom,
            location=where,
            status=AppointmentStatus.SCHEDULED,
            created_at=at - timedelta(days=7),
        )
        session.add(appt)
        await session.flush()
        return appt.id


async def fixed_caseload(h: Harness, user: FakeUser) -> Fixed:
    """Now is Mon 23 Nov 2026 10:15 America/Chicago."""
    nurse = await nurse_of(h, user)
    maria = await add_patient(h, nurse, "Maria Lopez", Risk.HIGH, ct(11, 16, 9, 30))
    tom = await add_patient(h, nurse, "Tom Jensen", Risk.MEDIUM, ct(11, 9, 14, 5))
    rosa = await add_patient(h, nurse, "Rosa Diaz", Risk.LOW, None)
    ed = await add_patient(h, nurse, "Ed Kim", Risk.HIGH, ct(11, 22, 11, 0))
    await add_contact(h, nurse, maria, ct(11, 16, 9, 30), Outcome.REACHED, "insulin review")
    await add_contact(h, nurse, tom, ct(11, 9, 14, 5), Outcome.REACHED, "BP ok")
    await add_contact(h, nurse, tom, ct(11, 19, 16, 0), Outcome.ATTEMPTED, "no answer")
    await add_contact(h, nurse, ed, ct(11, 22, 11, 0), Outcome.REACHED, "")
    tcm = await add_task(h, nurse, maria, TaskKind.TCM_CONTACT, ct(11, 24, 23, 59))
    overdue = await add_task(h, nurse, maria, TaskKind.FOLLOW_UP, ct(11, 20, 9, 0), "labs")
    today = await add_task(h, nurse, rosa, TaskKind.FOLLOW_UP, ct(11, 23, 17, 0), "call back")
    await add_appointment(h, nurse, rosa, ct(11, 23, 14, 30), "Dr Patel", "Northside Clinic")
    await add_appointment(h, nurse, maria, ct(11, 26, 9, 0), "Cardiology", "")
    return Fixed(maria, tom, rosa, ed, tcm, overdue, today)


# -- the queries -------------------------------------------------------------------------------


async def test_caseload_orders_by_need_and_has_open_buttons(h: Harness) -> None:
    ana = await h.enroll("Ana")
    data = await fixed_caseload(h, ana)
    await h.send(ana, "/caseload")
    message = h.fake.last_message(ana.id)
    assert message.text == (
        "Your caseload: 4 patients, most urgent first\n"
        "1. Maria Lopez · High · ⚠️ 1 overdue · TCM due Tue 24 Nov 23:59 · "
        "reached Mon 16 Nov (7 days ago)\n"
        "2. Ed Kim · High · reached Sun 22 Nov (yesterday)\n"
        "3. Tom Jensen · Medium · reached Mon 9 Nov (14 days ago)\n"
        "4. Rosa Diaz · Low · 1 open · never reached\n"
        "Times in America/Chicago."
    )
    assert message.button_labels == ["Open 1", "Open 2", "Open 3", "Open 4"]
    datas = [b.callback_data for b in message.buttons]
    assert datas == [
        f"q:pt:{data.maria}",
        f"q:pt:{data.ed}",
        f"q:pt:{data.tom}",
        f"q:pt:{data.rosa}",
    ]
    assert "caseload.viewed" in await h.audit_actions()
    # the free-text forms reach the same answer
    for question in ("my caseload", "show my caseload"):
        assert (await ask(h, ana, question)).startswith("Your caseload: 4 patients")


async def test_open_button_shows_the_patient_card(h: Harness) -> None:
    ana = await h.enroll("Ana")
    await fixed_caseload(h, ana)
    await h.send(ana, "/caseload")
    await h.press(ana, "Open 1")
    assert "Maria Lopez" in h.last_text(ana)
    assert "patient.viewed" in await h.audit_actions()


async def test_open_button_of_another_nurse_is_refused(h: Harness) -> None:
    ana = await h.enroll("Ana")
    bea = await h.enroll("Bea", team="Team B")
    data = await fixed_caseload(h, ana)
    await add_patient(h, await nurse_of(h, bea), "Bo Bell", Risk.LOW)
    await h.send(bea, "/caseload")
    await forge(h, bea, f"q:pt:{data.maria}")
    assert h.last_text(bea) == "That isn't one of your patients, or the button is out of date."


async def test_today(h: Harness) -> None:
    ana = await h.enroll("Ana")
    data = await fixed_caseload(h, ana)
    await h.send(ana, "/today")
    message = h.fake.last_message(ana.id)
    assert message.text == (
        "Today, Mon 23 Nov 2026\n"
        "\nAppointments (1)\n"
        "• Mon 23 Nov 14:30 Rosa Diaz — Dr Patel, Northside Clinic\n"
        "\nDue today (1)\n"
        "1. Follow-up: call back · Rosa Diaz · due Mon 23 Nov 17:00\n"
        "Times in America/Chicago."
    )
    # one numbered button per item; the number opens that item's actions in its place
    assert [b.callback_data for b in message.buttons] == [f"li:td:1:{data.today_task}"]
    assert message.button_labels == ["1"]
    await h.press(ana, "1")
    item = h.fake.message(ana.id, message.message_id)
    assert item.text == message.text
    assert [b.callback_data for b in item.buttons] == [
        f"la:d:td:1:{data.today_task}",
        f"la:s:td:1:{data.today_task}",
        f"la:t:td:1:{data.today_task}",
        f"tk:l:{data.today_task}",
        f"q:pt:{data.rosa}",
        f"la:b:td:1:{data.today_task}",
    ]
    assert item.button_labels == ["Done 1", "+1h", "Tomorrow", "Log", "Open", "Back"]
    await h.press(ana, "Back")
    assert h.fake.message(ana.id, message.message_id).button_labels == ["1"]
    assert (await ask(h, ana, "what's on today")) == message.text
    assert (await ask(h, ana, "today?")) == message.text


async def test_overdue(h: Harness) -> None:
    ana = await h.enroll("Ana")
    data = await fixed_caseload(h, ana)
    await h.send(ana, "/overdue")
    message = h.fake.last_message(ana.id)
    assert message.text == (
        "Overdue\n"
        "\nOverdue tasks, oldest first (1)\n"
        "1. Follow-up: labs · Maria Lopez · was due Fri 20 Nov 09:00 (3 days ago)\n"
        "Times in America/Chicago."
    )
    assert message.buttons[0].callback_data == f"li:od:1:{data.overdue_task}"
    assert (await ask(h, ana, "who is overdue?")) == message.text


async def test_week(h: Harness) -> None:
    ana = await h.enroll("Ana")
    await fixed_caseload(h, ana)
    await h.send(ana, "/week")
    text = h.last_text(ana)
    assert text == (
        "Next 7 days, Mon 23 Nov – Sun 29 Nov\n"
        "\nAppointments (2)\n"
        "• Mon 23 Nov 14:30 Rosa Diaz — Dr Patel, Northside Clinic\n"
        "• Thu 26 Nov 09:00 Maria Lopez — Cardiology\n"
        "\nDeadlines (2)\n"
        "1. Follow-up: call back · Rosa Diaz · due Mon 23 Nov 17:00\n"
        "2. TCM contact · Maria Lopez · due Tue 24 Nov 23:59\n"
        "Times in America/Chicago."
    )
    assert (await ask(h, ana, "this week")) == text


async def test_risk_filter_and_not_reached(h: Harness) -> None:
    ana = await h.enroll("Ana")
    await fixed_caseload(h, ana)
    text = await ask(h, ana, "high risk patients")
    assert text.startswith("High-risk patients: 2 patients, most urgent first\n1. Maria Lopez")
    assert "2. Ed Kim" in text
    assert "Tom" not in text
    text = await ask(h, ana, "who haven't I called in 2 weeks?")
    assert text == (
        "Not reached in 14 days: 1 patient\n"
        "1. Rosa Diaz · Low · never reached\n"
        "Times in America/Chicago."
    )
    text = await ask(h, ana, "who haven't I called in a week?")
    assert text == (
        "Not reached in 7 days: 3 patients\n"
        "1. Rosa Diaz · Low · never reached\n"
        "2. Tom Jensen · Medium · last reached Mon 9 Nov (14 days ago)\n"
        "3. Maria Lopez · High · last reached Mon 16 Nov (7 days ago)\n"
        "Times in America/Chicago."
    )
    assert "not_contacted.viewed" in await h.audit_actions()


async def test_last_contact_and_patient(h: Harness) -> None:
    ana = await h.enroll("Ana")
    await fixed_caseload(h, ana)
    text = await ask(h, ana, "when did I last reach Mr Jensen?")
    assert text == (
        "You last reached Tom Jensen on Mon 9 Nov 2026 at 14:05 (14 days ago): phone call.\n"
        "Last attempt: Thu 19 Nov 16:00.\n"
        "Times in America/Chicago."
    )
    assert "patient.last_contact_viewed" in await h.audit_actions()
    for question in ("show Maria", "pull up Rosa"):
        text = await ask(h, ana, question)
        assert ("Maria Lopez" if "Maria" in question else "Rosa Diaz") in text


async def test_unrecognised_question_lists_what_the_bot_answers(h: Harness) -> None:
    ana = await h.enroll("Ana")
    text = await ask(h, ana, "what can you do?")
    assert text.startswith("I can answer these")
    assert "who is overdue?" in text


async def test_empty_lists(h: Harness) -> None:
    ana = await h.enroll("Ana")
    await h.send(ana, "/caseload")
    assert h.last_text(ana) == "You have no active patients."
    await h.send(ana, "/overdue")
    assert h.last_text(ana) == "Overdue\nNothing is overdue. 🎉"


# -- pagination --------------------------------------------------------------------------------


async def test_caseload_pages_with_next_and_prev(h: Harness) -> None:
    ana = await h.enroll("Ana")
    nurse = await nurse_of(h, ana)
    for i in range(23):  # all medium risk, never reached: ordered by name
        await add_patient(h, nurse, f"Patient {i:02d} Test", Risk.MEDIUM)
    await h.send(ana, "/caseload")
    first = h.fake.last_message(ana.id)
    assert (first.text or "").startswith(
        "Your caseload: 23 patients, most urgent first — page 1 of 4\n1. Patient 00 Test"
    )
    assert first.button_labels[-1] == "Next"
    assert "Prev" not in first.button_labels
    assert len(first.buttons) <= 8
    await h.press(ana, "Next")
    second = h.fake.message(ana.id, first.message_id)
    assert (second.text or "").startswith(
        "Your caseload: 23 patients, most urgent first — page 2 of 4\n7. Patient 06 Test"
    )
    assert second.button_labels[0] == "Open 7"
    assert second.button_labels[-2:] == ["Prev", "Next"]
    assert len(second.buttons) == 8
    await h.press(ana, "Next")
    await h.press(ana, "Next")
    fourth = h.fake.message(ana.id, first.message_id)
    assert "19. Patient 18 Test" in (fourth.text or "")
    assert "23. Patient 22 Test" in (fourth.text or "")
    assert fourth.button_labels[-1] == "Prev"
    await h.press(ana, "Prev")
    assert "13. Patient 12 Test" in (h.fake.message(ana.id, first.message_id).text or "")


async def test_every_page_fits_one_message(h: Harness) -> None:
    ana = await h.enroll("Ana")
    nurse = await nurse_of(h, ana)
    long = "Bartholomew-Maximilian " * 5
    for i in range(12):
        pid = await add_patient(h, nurse, f"{long}{i}"[:120], Risk.HIGH)
        await add_task(h, nurse, pid, TaskKind.FOLLOW_UP, ct(11, 20), "<b>" + "x" * 190)
    await h.send(ana, "/caseload")
    assert len(h.fake.last_message(ana.id).source or "") <= 4096
    await h.send(ana, "/overdue")
    message = h.fake.last_message(ana.id)
    assert len(message.source or "") <= 4096
    assert "&lt;b&gt;" in (message.source or "")  # escaped
    assert "page 1 of 2" in (message.text or "")


# -- team --------------------------------------------------------------------------------------


async def test_team_view_and_reassignment(h: Harness) -> None:
    ana = await h.enroll("Ana")
    bea = await h.enroll("Bea")
    sue = await h.enroll("Sue", role=Role.SUPERVISOR)
    data = await fixed_caseload(h, ana)
    await h.send(ana, "/team")
    assert h.last_text(ana) == "Only a supervisor or an admin can see the team view."

    await h.send(sue, "/team")
    assert h.last_text(sue) == (
        "Team A: 3 nurses, 4 active patients\n"
        "1. Ana RN · 4 patients · 1 overdue · 0 TCM at risk\n"
        "2. Bea RN · 0 patients · 0 overdue · 0 TCM at risk\n"
        "3. Sue RN · 0 patients · 0 overdue · 0 TCM at risk\n"
        "TCM at risk: overdue or due within 24 hours."
    )
    await h.press(sue, "Open 1")
    view = h.fake.last_message(sue.id)
    assert (view.text or "").startswith("Ana RN's caseload: 4 patients, most urgent first\n")
    assert view.button_labels == ["1", "2", "3", "4"]  # a number opens [Open] [Move] [Back]
    await h.press(sue, "1")
    assert h.fake.message(sue.id, view.message_id).button_labels == ["Open 1", "Move 1", "Back"]
    await h.press(sue, "Move 1")
    assert h.last_text(sue) == "Move Maria Lopez from Ana RN to which nurse?"
    await h.press(sue, "Bea RN")
    assert h.last_text(sue) == (
        "Moved Maria Lopez from Ana RN to Bea RN with 2 open tasks. Both nurses were told."
    )
    assert "Sue RN moved your patient M.L. to Bea RN" in h.last_text(ana)
    assert h.last_text(bea).startswith("Sue RN gave you a patient from Ana RN: M.L., with 2 open")
    async with h.db.uow(read_only=True) as session:
        owner = await session.scalar(select(Patient.nurse_id).where(Patient.id == data.maria))
        task_owner = await session.scalar(select(Task.nurse_id).where(Task.id == data.tcm_task))
    bea_id = (await nurse_of(h, bea)).id
    assert owner == bea_id
    assert task_owner == bea_id
    actions = await h.audit_actions()
    assert {"team.viewed", "team.caseload_viewed", "patient.reassigned"} <= set(actions)
    # a plain nurse cannot forge the reassignment button
    await h.send(ana, "/caseload")
    await forge(h, ana, f"q:mt:{data.tom}:{bea_id}")
    assert h.last_text(ana) == "Only a supervisor or an admin can see the team view."


async def test_supervisor_of_another_team_cannot_open_a_nurse(h: Harness) -> None:
    ana = await h.enroll("Ana")
    boss = await h.enroll("Zed", role=Role.SUPERVISOR, team="Team B")
    ana_id = (await nurse_of(h, ana)).id
    await h.send(boss, "/team")
    await forge(h, boss, f"q:tn:{ana_id}:0")
    assert h.last_text(boss) == "That nurse isn't an active member of your team."


# -- stats and exports -------------------------------------------------------------------------


async def test_stats_sends_a_png_with_the_numbers(h: Harness) -> None:
    ana = await h.enroll("Ana")
    await fixed_caseload(h, ana)
    await h.send(ana, "/stats")
    message = h.fake.last_message(ana.id)
    assert message.photo is not None
    assert message.photo.content.startswith(PNG_SIGNATURE)
    assert "Contacts in the last 4 weeks: 4" in (message.caption or "")
    assert "stats.viewed" in await h.audit_actions()


async def test_export_needs_full_privacy_then_sends_csv_and_ics(h: Harness) -> None:
    ana = await h.enroll("Ana")
    await fixed_caseload(h, ana)
    await h.send(ana, "/export")
    assert "won't send the contact log as a file" in h.last_text(ana)
    async with h.db.uow() as session:
        await session.execute(
            update(Nurse).where(Nurse.telegram_user_id == ana.id).values(privacy_mode="full")
        )
    calls = await h.send(ana, "/export")
    documents = [c for c in calls if c.method == "sendDocument"]
    assert len(documents) == 2
    sent = [m for m in h.fake.sent_messages(ana.id) if m.document is not None]
    csv_file, ics_file = sent[-2].document, sent[-1].document
    assert csv_file is not None
    assert ics_file is not None
    rows = list(csv.DictReader(io.StringIO(csv_file.content.decode("utf-8"))))
    assert [(r["patient"], r["date"], r["time"], r["outcome"]) for r in rows] == [
        ("Tom Jensen", "2026-11-09", "14:05", "reached"),
        ("Maria Lopez", "2026-11-16", "09:30", "reached"),
        ("Tom Jensen", "2026-11-19", "16:00", "attempted"),
        ("Ed Kim", "2026-11-22", "11:00", "reached"),
    ]
    calendar = icalendar.Calendar.from_ical(ics_file.content)
    events = [(str(e["summary"]), e.decoded("dtstart")) for e in calendar.walk("VEVENT")]
    assert events == [
        ("Rosa Diaz: Dr Patel", ct(11, 23, 14, 30)),
        ("Maria Lopez: Cardiology", ct(11, 26, 9, 0)),
    ]
    actions = await h.audit_actions()
    assert actions.count("export.contacts") == 1
    assert actions.count("export.appointments") == 1


async def test_export_of_one_patient(h: Harness) -> None:
    ana = await h.enroll("Ana")
    await fixed_caseload(h, ana)
    async with h.db.uow() as session:
        await session.execute(
            update(Nurse).where(Nurse.telegram_user_id == ana.id).values(privacy_mode="full")
        )
    calls = await h.send(ana, "/export Tom Jensen")
    assert [c.method for c in calls if c.method == "sendDocument"] == ["sendDocument"]
    document = h.fake.last_message(ana.id).document
    assert document is not None
    rows = list(csv.DictReader(io.StringIO(document.content.decode("utf-8"))))
    assert [(r["patient"], r["outcome"], r["note"]) for r in rows] == [
        ("Tom Jensen", "reached", "BP ok"),
        ("Tom Jensen", "attempted", "no answer"),
    ]


async def test_team_nurse_caseload_pages_in_place(h: Harness) -> None:
    ana = await h.enroll("Ana")
    sue = await h.enroll("Sue", role=Role.SUPERVISOR)
    nurse = await nurse_of(h, ana)
    for i in range(12):
        await add_patient(h, nurse, f"Patient {i:02d} Test", Risk.LOW)
    await h.send(sue, "/team")
    team_message = h.fake.last_message(sue.id)
    await h.press(sue, "Open 1")
    view = h.fake.last_message(sue.id)
    assert view.message_id != team_message.message_id  # the team view stays
    assert "page 1 of 2" in (view.text or "")
    await h.press(sue, "Next")
    assert "11. Patient 10 Test" in (h.fake.message(sue.id, view.message_id).text or "")
    await h.press(sue, "Prev")
    assert h.fake.last_message(sue.id).message_id == view.message_id  # edited, not resent
    assert "1. Patient 00 Test" in (h.fake.message(sue.id, view.message_id).text or "")


async def test_the_farthest_page_and_span_a_nurse_can_ask_for_still_page(h: Harness) -> None:
    ana = await h.enroll("Ana")
    nurse = await nurse_of(h, ana)
    for i in range(12):
        await add_patient(h, nurse, f"Patient {i:02d} Test", Risk.LOW)
    await h.send(ana, "/caseload 999999")  # the largest page number /caseload takes
    assert [b.callback_data for b in h.fake.last_message(ana.id).buttons][-1] == "q:cl:999997"
    await h.press(ana, "Prev")
    text = await ask(h, ana, "who haven't I called in 999 months?")  # the longest span it reads
    assert "Patient 00 Test" in text
    assert "q:nc:29970:1" in [b.callback_data for b in h.fake.last_message(ana.id).buttons]
    await h.press(ana, "Next")
    assert "Patient 10 Test" in h.last_text(ana)

"""A nurse's whole working day and the next morning, through the fake Telegram.

Mon 23 Nov 2026, America/Chicago (quiet hours 21:00-07:00, digest 07:30). Ana carries six
patients with work from last week and the weekend. Her day: the digest; a dozen records (calls
reached and attempted, appointments, a discharge's TCM contact and med rec) including an undo,
a cancelled and a rescheduled appointment; the pushes at their times (a follow-up's reminder
on time, the attendance check when the appointment ends, answered [No-show]); every list; and
Tuesday's digest. Records are saved with the record services (what the inbox calls), the
views, pushes and buttons go through the fake Telegram; each step asserts what must be true:
the exact open-task set, each list's text, and the next digest's numbers.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import count

from sqlalchemy import select

from bot.app.context import NurseView
from bot.parsing import AppointmentIntent, ContactIntent, PatientRef, When
from bot.services import appointments, undo
from bot.services.enrollment import view_of
from bot.services.ledger import MessageKey
from bot.services.messages import SavedMessage, save_message
from bot.vocab import Channel, Outcome, Party, Refusal, TaskStatus
from storage.models import Nurse, Patient, Task
from tests.fakes.telegram import FakeUser
from tests.harness import Harness
from tests.reminder_support import CHICAGO, add_patient, nurse_row, run_pass
from tests.services.facts_support import discharge, med_rec

MON = date(2026, 11, 23)
TUE = MON + timedelta(days=1)
_ids = count(1000)


def c(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=CHICAGO)


def contact(
    who: PatientRef,
    at: datetime,
    *,
    outcome: Outcome = Outcome.REACHED,
    channel: Channel = Channel.PHONE,
    follow_up: date | None = None,
) -> ContactIntent:
    return ContactIntent(
        patient=who, candidates=(), patient_text=None, channel=channel, outcome=outcome,
        with_whom=Party.PATIENT, occurred_at=When(at, has_time=True),
        follow_up=When(c(follow_up, 0), has_time=False) if follow_up else None,
        attempts=0, note="", occurred_given=True,
    )  # fmt: skip


def appointment(who: PatientRef, at: datetime, with_whom: str) -> AppointmentIntent:
    return AppointmentIntent(
        patient=who, candidates=(), patient_text=None, at=When(at, has_time=True),
        with_whom=with_whom, where=None, note="",
    )  # fmt: skip


class Day:
    """Ana's day: her records saved as the inbox saves them, at the clock's time."""

    def __init__(self, h: Harness, user: FakeUser, nurse: NurseView) -> None:
        self.h, self.user, self.nurse = h, user, nurse
        self.keys: list[MessageKey] = []

    def at(self, moment: datetime) -> None:
        self.h.clock.set(moment)

    async def save(self, *facts: object) -> SavedMessage:
        key = MessageKey(self.user.id, next(_ids))
        self.keys.append(key)
        services = self.h.app.services
        saved = await save_message(
            services.db,
            services.config,
            services.clock,
            nurse=self.nurse,
            key=key,
            facts=facts,  # type: ignore[arg-type]
        )
        assert isinstance(saved, SavedMessage), saved
        return saved

    async def open_tasks(self) -> set[tuple[str, str, str]]:
        """(patient, kind, local due day) of every open task she has, pushes included."""
        async with self.h.db.uow(read_only=True) as session:
            rows = (
                await session.execute(
                    select(Patient.display_name, Task.kind, Task.due_at)
                    .join(Patient, Patient.id == Task.patient_id)
                    .where(Task.nurse_id == self.nurse.id, Task.status == TaskStatus.OPEN)
                )
            ).all()
        return {
            (name, kind.value, f"{due.astimezone(CHICAGO):%a %d %H:%M}") for name, kind, due in rows
        }

    async def ask(self, text: str) -> str:
        await self.h.send(self.user, text)
        return self.h.last_text(self.user)

    def pushes_since(self, mark: int) -> list[str]:
        return [m.text or "" for m in self.h.fake.sent_messages(self.user.id)[mark:]]

    def mark(self) -> int:
        return len(self.h.fake.sent_messages(self.user.id))


async def _setup(h: Harness) -> tuple[Day, dict[str, PatientRef]]:
    h.clock.set(c(date(2026, 11, 19), 12))  # Thu 19 Nov: she enrolls and starts her caseload
    user = await h.enroll("Ana")
    nurse_row_ = await nurse_row(h, user)
    names = {
        "maria": ("Maria Lopez", "high"),
        "john": ("John Smith", "medium"),
        "rosa": ("Rosa Diaz", "low"),
        "tom": ("Tom Jensen", "medium"),
        "ed": ("Ed Kim", "high"),
        "lee": ("Lee Park", "low"),
    }
    refs = {}
    for key, (name, risk) in names.items():
        refs[key] = PatientRef(await add_patient(h, user, name, risk), name)
    async with h.db.uow(read_only=True) as session:
        nurse = await session.get(Nurse, nurse_row_.id)
        assert nurse is not None
        view = view_of(nurse, h.app.services.config)
    day = Day(h, user, view)
    # Thu 19: Tom reached, follow-up Fri 20 (overdue by Monday).
    await day.save(contact(refs["tom"], c(date(2026, 11, 19), 11), follow_up=date(2026, 11, 20)))
    # Sun 22: Maria and John reached, follow-ups Monday; Rosa reached; Ed home from hospital.
    day.at(c(date(2026, 11, 22), 12))
    await day.save(contact(refs["maria"], c(date(2026, 11, 22), 10), follow_up=MON))
    await day.save(contact(refs["john"], c(date(2026, 11, 22), 10, 30), follow_up=MON))
    await day.save(contact(refs["rosa"], c(date(2026, 11, 22), 11)))
    await day.save(discharge(refs["ed"], date(2026, 11, 22)))
    return day, refs


async def test_a_nurses_whole_day_and_the_next_morning(harness: Harness) -> None:
    h = harness
    day, p = await _setup(h)
    services = h.app.services

    # -- 07:30 Monday: the digest counts her work only -------------------------------------------
    day.at(c(MON, 7, 30))
    mark = day.mark()
    await run_pass(h)
    pushed = day.pushes_since(mark)
    # Tom's Friday reminder was never sent (no pass since): it goes now, and says so truly.
    assert pushed[0] == (
        "⏰ Follow-up: T.J.\nFrom your phone call on Thu 19 Nov.\n"
        "Due: Fri 20 Nov (America/Chicago) (overdue)\n(due 09:00, sent late)"
    )
    assert pushed[1] == (
        "☀️ Good morning — Mon 23 Nov (America/Chicago)\n"
        "\n🏥 Transition-of-care deadlines\n"
        "• TCM contact E.K.: due in 1 business day – by Tue 24 Nov\n"
        "• TCM visit E.K.: due in 3 business days – by Sun 29 Nov\n"
        "• Med rec E.K.: due in 3 business days – by Sun 29 Nov\n"
        "\n✅ Due today (2)\n• Follow-up M.L.\n• Follow-up J.S.\n"
        "\n⏳ Overdue (1, oldest first)\n• Follow-up T.J. – since Fri 20 Nov\n"
        "\n📞 Past their contact cadence\n"
        "• E.K. (high risk, every 7 d): never reached\n"
        "• L.P. (low risk, every 30 d): never reached"
    )
    assert await day.open_tasks() == {
        ("Ed Kim", "cadence", "Mon 23 23:59"),  # made by the digest pass: past his cadence
        ("Ed Kim", "med_rec", "Sun 29 23:59"),
        ("Ed Kim", "tcm_contact", "Tue 24 23:59"),
        ("Ed Kim", "tcm_visit", "Sun 29 23:59"),
        ("John Smith", "follow_up", "Mon 23 23:59"),
        ("Lee Park", "cadence", "Mon 23 23:59"),
        ("Maria Lopez", "follow_up", "Mon 23 23:59"),
        ("Tom Jensen", "follow_up", "Fri 20 23:59"),
    }

    # -- the morning's records ------------------------------------------------------------------
    day.at(c(MON, 8, 12))
    saved = await day.save(contact(p["maria"], c(MON, 8, 12)))  # reached: closes her follow-up
    assert [t.kind.value for t in saved.results[0].closed] == ["follow_up"]
    day.at(c(MON, 8, 30))
    await day.save(contact(p["tom"], c(MON, 8, 30), outcome=Outcome.ATTEMPTED))  # closes none
    day.at(c(MON, 8, 45))
    await day.save(contact(p["ed"], c(MON, 8, 45), outcome=Outcome.ATTEMPTED))  # TCM attempt 1

    # 09:00 the follow-up reminders: John's, on time (no "overdue"); none for Maria's (closed)
    day.at(c(MON, 9, 0))
    mark = day.mark()
    await run_pass(h)
    assert day.pushes_since(mark) == [
        "⏰ Follow-up: J.S.\nFrom your phone call on Sun 22 Nov.\nDue: Mon 23 Nov (America/Chicago)"
    ]

    # 09:30 whom to call: soonest deadline first, Ed's TCM window with its attempt
    day.at(c(MON, 9, 30))
    assert await day.ask("who do I need to call today") == (
        "Calls: 5, soonest deadline first\n"
        "1. Tom Jensen · Follow-up · was due Fri 20 Nov\n"
        "2. Ed Kim · Check-in: high risk: no reached contact · due Mon 23 Nov\n"
        "3. John Smith · Follow-up · due Mon 23 Nov\n"
        "4. Lee Park · Check-in: low risk: no reached contact · due Mon 23 Nov\n"
        "5. Ed Kim · TCM contact · due Tue 24 Nov · 1 attempt so far\n"
        "Times in America/Chicago. Tap a number, or send /done N."
    )
    assert h.fake.last_message(day.user.id).button_labels == ["1", "2", "3", "4", "5"]

    day.at(c(MON, 10, 0))
    await day.save(contact(p["john"], c(MON, 10, 0), follow_up=MON + timedelta(days=7)))
    day.at(c(MON, 10, 15))
    await day.save(appointment(p["rosa"], c(date(2026, 11, 25), 10), "cardiology"))
    day.at(c(MON, 10, 20))
    await day.save(appointment(p["maria"], c(MON, 14), "PCP"))
    day.at(c(MON, 10, 30))
    await day.save(appointment(p["tom"], c(TUE, 9), "podiatry"))
    # Lee reached at 11:00 ... and taken back: her check-in opens again, she is never reached
    day.at(c(MON, 11, 0))
    lee = await day.save(contact(p["lee"], c(MON, 11, 0)))
    assert [t.kind.value for t in lee.results[0].closed] == ["cadence"]
    undone = await undo.undo_message(
        services.db, services.config, services.clock, nurse=day.nurse, key=day.keys[-1]
    )
    assert not isinstance(undone, Refusal)
    day.at(c(MON, 11, 15))  # Tom's podiatry is off
    cancelled = await appointments.cancel_appointment(
        services.db, services.config, services.clock, nurse=day.nurse,
        key=MessageKey(day.user.id, next(_ids)), patient_id=p["tom"].id or 0,
    )  # fmt: skip
    assert isinstance(cancelled, appointments.AppointmentChanged)
    day.at(c(MON, 11, 30))  # Rosa's cardiology moves to Friday
    moved = await appointments.reschedule_appointment(
        services.db, services.config, services.clock, nurse=day.nurse,
        key=MessageKey(day.user.id, next(_ids)), patient_id=p["rosa"].id or 0,
        new=When(c(date(2026, 11, 27), 10), has_time=True),
    )  # fmt: skip
    assert isinstance(moved, appointments.AppointmentChanged)
    # 12:00 Maria's appointment reminder, on time: no "overdue", no "sent late"
    day.at(c(MON, 12, 0))
    mark = day.mark()
    await run_pass(h)
    assert day.pushes_since(mark) == [
        "⏰ Appointment reminder: M.L.\nAppointment Mon 23 Nov at 14:00 with PCP."
    ]
    await day.save(contact(p["ed"], c(MON, 12, 0)))  # reached in the TCM window: met
    day.at(c(MON, 13, 0))
    await day.save(contact(p["tom"], c(MON, 13, 0), follow_up=TUE))  # closes Friday's

    # the attendance check comes when the appointment ends (14:00 + 60 min), not at 14:00
    day.at(c(MON, 14, 30))
    mark = day.mark()
    await run_pass(h)
    assert day.pushes_since(mark) == []
    day.at(c(MON, 15, 0))
    mark = day.mark()
    await run_pass(h)
    assert day.pushes_since(mark) == [
        "Did M.L. attend the appointment (PCP) on Mon 23 Nov 14:00, America/Chicago?"
    ]
    assert h.fake.last_message(day.user.id).button_labels == ["Attended", "No-show", "Rescheduled"]
    await h.press(day.user, "No-show")
    assert h.last_text(day.user) == (
        "Marked no-show: Maria Lopez. Saved.\nFollow-up: Tue 24 Nov, America/Chicago"
    )
    day.at(c(MON, 15, 30))
    await day.save(med_rec(p["ed"], MON))

    # -- 16:00 every list ----------------------------------------------------------------------
    day.at(c(MON, 16, 0))
    assert await day.open_tasks() == {
        ("Ed Kim", "tcm_visit", "Sun 29 23:59"),
        ("John Smith", "follow_up", "Mon 30 23:59"),
        ("Lee Park", "cadence", "Mon 23 23:59"),  # reopened by the undo
        ("Maria Lopez", "follow_up", "Tue 24 23:59"),  # the no-show's follow-up
        ("Rosa Diaz", "appointment_reminder", "Thu 26 07:30"),  # moved with her appointment
        ("Rosa Diaz", "appointment_reminder", "Fri 27 08:00"),
        ("Rosa Diaz", "attendance_check", "Fri 27 11:00"),
        ("Tom Jensen", "follow_up", "Tue 24 23:59"),
    }
    assert await day.ask("/overdue") == "Overdue\nNothing is overdue. 🎉"
    today = await day.ask("/today")
    assert today == (
        "Today, Mon 23 Nov 2026\n"
        "\nDue today (1)\n"
        "1. Check-in: low risk: no reached contact · Lee Park · due Mon 23 Nov 23:59\n"
        "Times in America/Chicago."
    )
    listing = h.fake.last_message(day.user.id)
    assert listing.button_labels == ["1"]
    await h.press(day.user, "1")  # the item's actions in place of the numbers
    assert h.fake.message(day.user.id, listing.message_id).button_labels == [
        "Done 1", "+1h", "Tomorrow", "Log", "Open", "Back",
    ]  # fmt: skip
    await h.press(day.user, "Done 1")
    edited = h.fake.message(day.user.id, listing.message_id)
    assert edited.text == today.replace("23:59\n", "23:59 — ✅ done\n")
    assert edited.button_labels == ["1"]
    assert await day.ask("/tomorrow") == (
        "Tomorrow, Tue 24 Nov 2026\n"
        "\nDue tomorrow (2)\n"
        "1. Follow-up · Tom Jensen · due Tue 24 Nov 23:59\n"
        "2. Follow-up: Follow up on missed appointment · Maria Lopez · due Tue 24 Nov 23:59\n"
        "Times in America/Chicago."
    )
    assert await day.ask("anything for tmrw") == h.last_text(day.user)
    assert await day.ask("/week") == (
        "Next 7 days, Mon 23 Nov – Sun 29 Nov\n"
        "\nAppointments (1)\n"
        "• Fri 27 Nov 10:00 Rosa Diaz — cardiology\n"
        "\nDeadlines (3)\n"
        "1. Follow-up · Tom Jensen · due Tue 24 Nov 23:59\n"
        "2. Follow-up: Follow up on missed appointment · Maria Lopez · due Tue 24 Nov 23:59\n"
        "3. TCM visit · Ed Kim · due Sun 29 Nov 23:59\n"
        "Times in America/Chicago."
    )
    assert await day.ask("/calls") == (
        "Calls: 1, soonest deadline first\n"
        "1. Lee Park · low risk, every 30 d · never reached\n"
        "Times in America/Chicago. Tap a number, or send /done N."
    )
    # /done N counts against the list she saw last: /calls' 1 is Lee, a patient, not a task
    assert (await day.ask("/done 1")).startswith("Item 1 of /calls is a patient past her")
    await day.ask("/week")
    assert await day.ask("/done 2") == (
        "✅ Done: 2. Follow-up: Follow up on missed appointment · Maria Lopez (from /week)"
    )
    assert ("Maria Lopez", "follow_up", "Tue 24 23:59") not in await day.open_tasks()

    # -- Tuesday 07:30: the next digest's numbers -----------------------------------------------
    day.at(c(TUE, 7, 30))
    mark = day.mark()
    await run_pass(h)
    assert day.pushes_since(mark) == [
        "☀️ Good morning — Tue 24 Nov (America/Chicago)\n"
        "\n🏥 Transition-of-care deadlines\n"
        "• TCM visit E.K.: due in 2 business days – by Sun 29 Nov\n"
        "\n✅ Due today (1)\n• Follow-up T.J.\n"
        "\n📞 Past their contact cadence\n"
        "• L.P. (low risk, every 30 d): never reached\n"
        # Monday's work that existed when Monday began: Maria's and John's follow-ups, both
        # closed by her calls on time (Tom's was due Friday; the check-ins were made Monday).
        "\n📈 Yesterday: 2 of 2 tasks done on time"
    ]

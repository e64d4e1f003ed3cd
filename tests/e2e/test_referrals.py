"""Referrals end to end through the fake Telegram: sent by free text with a follow-up task, a
referral that goes stale and pushes its reminder, an appointment that answers it, /referrals
with status buttons, and /patient showing open referrals."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.care import end_of_local_day, local_time_on
from bot.vocab import ReferralStatus, TaskKind, TaskStatus
from storage.models import Appointment, AuditEvent, Contact, Referral, Task
from tests.fakes.telegram import Call, FakeUser
from tests.harness import Harness
from tests.reminder_support import CHICAGO, add_patient, run_pass

# Two weeks after the referral, past the 09:00 follow-up reminder and outside quiet hours,
# whatever hour the test started at (--clock-at).
TWO_WEEKS_ON = local_time_on(date(2026, 12, 7), time(10, 15), CHICAGO)


@pytest.fixture
def h(harness: Harness) -> Harness:
    return harness


async def _rows(h: Harness) -> tuple[list[Referral], list[Task]]:
    async with h.db.uow(read_only=True) as session:
        referrals = list((await session.scalars(select(Referral).order_by(Referral.id))).all())
        tasks = list(
            (
                await session.scalars(
                    select(Task).where(Task.kind == TaskKind.REFERRAL).order_by(Task.id)
                )
            ).all()
        )
        return referrals, tasks


async def _ana_with_robert(h: Harness) -> tuple[FakeUser, int]:
    ana = await h.enroll("Ana")
    robert = await add_patient(h, ana, "Robert King", "medium")
    return ana, robert


def _referral_pushes(h: Harness, user: FakeUser) -> list[str]:
    return [
        m.text or ""
        for m in h.fake.sent_messages(user.id)
        if (m.text or "").startswith("⏰ Referral follow-up")
    ]


async def test_referral_by_free_text_creates_the_referral_and_its_follow_up_task(
    h: Harness,
) -> None:
    ana, robert = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to cardiology today for chest pain")
    assert h.last_text(ana) == (
        "Saved ✔ Referral for Robert King to cardiology — chest pain\n"
        "Sent: Mon 23 Nov 2026\n"
        "Follow-up if no appointment is logged: Mon 7 Dec, America/Chicago"
    )
    [referral], [task] = await _rows(h)
    assert (referral.patient_id, referral.to_whom, referral.specialty) == (
        robert, "cardiology", "cardiology",
    )  # fmt: skip
    assert (referral.reason, referral.sent_on, referral.status) == (
        "chest pain", date(2026, 11, 23), ReferralStatus.SENT,
    )  # fmt: skip
    follow_up_day = date(2026, 12, 7)
    assert task.patient_id == robert
    assert task.has_time is False
    assert task.remind_at == local_time_on(follow_up_day, time(9, 0), CHICAGO)
    assert task.due_at == end_of_local_day(follow_up_day, CHICAGO)
    assert (task.origin_kind, task.origin_id) == ("referral", referral.id)
    assert "referral.created" in await h.audit_actions()


async def test_a_stale_referral_pushes_its_follow_up_reminder(h: Harness) -> None:
    ana, _ = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to cardiology today")
    await run_pass(h)
    assert _referral_pushes(h, ana) == []
    h.clock.set(TWO_WEEKS_ON)  # Mon 7 Dec, 10:15: past the 09:00 reminder
    await run_pass(h)
    pushes = _referral_pushes(h, ana)
    assert len(pushes) == 1
    assert "R.K." in pushes[0]  # privacy: initials
    await run_pass(h)
    assert len(_referral_pushes(h, ana)) == 1  # never twice


async def test_follow_up_days_come_from_the_config(h: Harness) -> None:
    from dataclasses import replace

    services = h.app.services
    config = services.config
    services.config = replace(config, care=replace(config.care, referral_follow_up_days=7))  # type: ignore[misc]
    ana, _ = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to podiatry 11/20")
    assert "Follow-up if no appointment is logged: Fri 27 Nov, America/Chicago" in h.last_text(ana)


async def test_logging_the_appointment_links_the_referral_and_closes_its_task(h: Harness) -> None:
    ana, _ = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to cardiology today")
    await h.send(ana, "appt Robert King cardiology 12/3 at 2pm")
    assert "Closed: Referral follow-up task ✔" in h.last_text(ana)
    [referral], [task] = await _rows(h)
    async with h.db.uow(read_only=True) as session:
        appointment = await session.scalar(select(Appointment))
        events = list(
            (
                await session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "referral.status_changed")
                )
            ).all()
        )
    assert appointment is not None
    assert referral.status == ReferralStatus.SCHEDULED
    assert referral.appointment_id == appointment.id
    assert task.status == TaskStatus.DONE
    assert events[0].detail["prior_status"] == "sent"
    h.clock.set(TWO_WEEKS_ON)
    await run_pass(h)
    assert _referral_pushes(h, ana) == []


async def test_an_appointment_with_another_specialty_leaves_the_referral_waiting(
    h: Harness,
) -> None:
    ana, _ = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to cardiology today")
    await h.send(ana, "appt Robert King podiatry 12/3 at 2pm")
    [referral], [task] = await _rows(h)
    assert referral.status == ReferralStatus.SENT
    assert referral.appointment_id is None
    assert task.status == TaskStatus.OPEN


async def test_a_referral_without_specialty_takes_the_next_appointment(h: Harness) -> None:
    ana, _ = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to Dr Alvarez today")
    await h.send(ana, "appt Robert King 12/4 at 9am")
    [referral], [task] = await _rows(h)
    assert referral.to_whom == "Dr Alvarez"
    assert referral.status == ReferralStatus.SCHEDULED
    assert task.status == TaskStatus.DONE


async def test_referrals_command_lists_them_and_buttons_move_them_on(h: Harness) -> None:
    ana, _ = await _ana_with_robert(h)
    await add_patient(h, ana, "Grace Kim", "low")
    await h.send(ana, "referred Robert King to cardiology 11/20")
    await h.send(ana, "Grace Kim referred to nutrition for diet teaching")
    await h.send(ana, "/referrals")
    message = h.fake.last_message(ana.id)
    assert message.text == (
        "Open referrals (2)\n"
        "1. Robert King → cardiology — sent, sent Fri 20 Nov 2026; follow up Fri 4 Dec 2026\n"
        "2. Grace Kim → nutrition — sent, sent Mon 23 Nov 2026; follow up Mon 7 Dec 2026\n"
        "\n"
        "Dates in America/Chicago."
    )
    assert message.button_labels == [
        "1. Scheduled", "1. Completed", "1. Declined",
        "2. Scheduled", "2. Completed", "2. Declined",
    ]  # fmt: skip
    assert all((b.callback_data or "").startswith("rf:") for b in message.buttons)
    await h.press(ana, "2. Declined")
    assert h.last_text(ana) == "Saved ✔ Referral for Grace Kim to nutrition: declined"
    referrals, tasks = await _rows(h)
    assert [r.status for r in referrals] == [ReferralStatus.SENT, ReferralStatus.DECLINED]
    assert [t.status for t in tasks] == [TaskStatus.OPEN, TaskStatus.DONE]
    await h.send(ana, "/referrals")
    assert "Grace Kim" not in h.last_text(ana)
    assert "referral.listed" in await h.audit_actions()


async def test_patient_card_shows_open_referrals(h: Harness) -> None:
    ana, _ = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to cardiology today")
    await h.send(ana, "/patient Robert King")
    card = h.last_text(ana)
    assert "Open referrals (1)\n• cardiology — sent, sent Mon 23 Nov 2026" in card


async def test_a_contact_about_a_referral_is_still_a_contact(h: Harness) -> None:
    ana, _ = await _ana_with_robert(h)
    await h.send(ana, "LVM for Robert King re cardiology referral, try again tomorrow")
    referrals, _ = await _rows(h)
    assert referrals == []
    async with h.db.uow(read_only=True) as session:
        assert await session.scalar(select(Contact)) is not None


async def test_a_redelivered_referral_message_is_saved_once(h: Harness) -> None:
    ana, _ = await _ana_with_robert(h)
    update = h.fake.private_text(ana, "referred Robert King to cardiology today")
    await h.fake._feed_and_collect(h.app, update)
    again = dict(update, update_id=update["update_id"] + 1000)
    await h.fake._feed_and_collect(h.app, again)
    assert h.last_text(ana) == "That message was already saved."
    referrals, tasks = await _rows(h)
    assert (len(referrals), len(tasks)) == (1, 1)


async def test_undoing_the_appointment_puts_the_referral_back_to_sent(h: Harness) -> None:
    ana, _ = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to cardiology today")
    await h.send(ana, "appt Robert King cardiology 12/3 at 2pm")
    await h.press(ana, "Undo")
    [referral], [task] = await _rows(h)
    assert referral.status == ReferralStatus.SENT
    assert referral.appointment_id is None
    assert task.status == TaskStatus.OPEN
    h.clock.set(TWO_WEEKS_ON)
    await run_pass(h)
    assert len(_referral_pushes(h, ana)) == 1


# -- status changes by free text ----------------------------------------------------------------

CHOICE_CLOSED = "That choice has closed. Nothing was changed; send your message again."


async def _status_events(h: Harness) -> list[AuditEvent]:
    async with h.db.uow(read_only=True) as session:
        query = (
            select(AuditEvent)
            .where(AuditEvent.action == "referral.status_changed")
            .order_by(AuditEvent.id)
        )
        return list((await session.scalars(query)).all())


async def _press_forged(h: Harness, user: FakeUser, data: str) -> list[Call]:
    """Press the first button of her latest keyboard, with forged callback data."""
    message = next(m for m in reversed(h.fake.sent_messages(user.id)) if m.buttons)
    update = h.fake.callback_press(user, message.message_id, message.buttons[0].label)
    update["callback_query"]["data"] = data
    return await h.fake._feed_and_collect(h.app, update)


DIETITIAN = "Tom Jensen referred to dietitian for weight loss"
STATUS_FORMS = [
    ("referred Maria Lopez to cardiology 11/20", "cardiology referral completed for Maria Lopez",
     "Saved ✔ Referral for Maria Lopez to cardiology: completed", ReferralStatus.COMPLETED),
    ("referred Maria Lopez to podiatry today", "Maria's podiatry referral declined",
     "Saved ✔ Referral for Maria Lopez to podiatry: declined", ReferralStatus.DECLINED),
    (DIETITIAN, "referral to dietitian for Tom Jensen done",
     "Saved ✔ Referral for Tom Jensen to dietitian: completed", ReferralStatus.COMPLETED),
    (DIETITIAN, "Tom Jensen dietitian referral scheduled",
     "Saved ✔ Referral for Tom Jensen to dietitian: scheduled", ReferralStatus.SCHEDULED),
    ("referred Maria Lopez to podiatry today", "Maria Lopez declined the podiatry referral",
     "Saved ✔ Referral for Maria Lopez to podiatry: declined", ReferralStatus.DECLINED),
    ("referral for Maria Lopez to Dr Alvarez yesterday", "Dr. Alvarez referral for Maria: done",
     "Saved ✔ Referral for Maria Lopez to Dr Alvarez: completed", ReferralStatus.COMPLETED),
]  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "typed", "reply", "status"), STATUS_FORMS, ids=[t for _, t, _, _ in STATUS_FORMS]
)
async def test_a_referral_status_typed_in_her_words_moves_the_referral(
    h: Harness, sent: str, typed: str, reply: str, status: ReferralStatus
) -> None:
    ana = await h.enroll("Ana")
    maria = await add_patient(h, ana, "Maria Lopez")
    tom = await add_patient(h, ana, "Tom Jensen")
    await h.send(ana, sent)
    assert h.last_text(ana).startswith("Saved ✔ Referral for")
    await h.send(ana, typed)
    assert h.last_text(ana) == reply
    assert h.fake.last_message(ana.id).buttons == []
    [referral], [task] = await _rows(h)
    assert referral.patient_id == (tom if "Tom" in sent else maria)
    assert referral.status == status
    closing = status != ReferralStatus.SCHEDULED
    assert referral.closed_at == (h.clock.now() if closing else None)
    assert task.status == TaskStatus.DONE  # leaving "sent" closes the follow-up task
    [event] = await _status_events(h)
    assert (event.entity_id, event.patient_id, event.command, event.actor_nurse_id) == (
        referral.id, referral.patient_id, "text", referral.nurse_id,
    )  # fmt: skip
    assert event.detail == {
        "prior_status": "sent", "status": status.value, "tasks_closed": [task.id],
    }  # fmt: skip


async def test_scheduled_then_completed_keeps_each_prior_status_in_the_audit(h: Harness) -> None:
    ana, _ = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to cardiology 11/20")
    await h.send(ana, "Robert King cardiology referral scheduled")
    await h.send(ana, "Robert King cardiology referral scheduled")
    assert h.last_text(ana) == (
        "Robert King's referral to cardiology is already scheduled. Nothing changed."
    )
    await h.send(ana, "cardio referral for Robert King: completed")
    assert h.last_text(ana) == "Saved ✔ Referral for Robert King to cardiology: completed"
    events = await _status_events(h)
    assert [(e.detail["prior_status"], e.detail["status"]) for e in events] == [
        ("sent", "scheduled"), ("scheduled", "completed"),
    ]  # fmt: skip
    await h.send(ana, "/referrals")
    assert h.last_text(ana) == "No open referrals."


async def test_no_open_referral_that_fits_changes_nothing(h: Harness) -> None:
    ana, _ = await _ana_with_robert(h)
    await add_patient(h, ana, "Grace Kim")
    await h.send(ana, "referred Robert King to cardiology 11/20")
    await h.send(ana, "podiatry referral completed for Robert King")
    assert h.last_text(ana) == (
        "I found no open referral to podiatry for Robert King, so nothing changed.\n"
        "Open referrals: cardiology (sent)."
    )
    await h.send(ana, "Grace Kim referral declined")
    assert h.last_text(ana) == (
        "I found no open referral for Grace Kim, so nothing changed.\n"
        "Grace Kim has no open referrals."
    )
    [referral], [task] = await _rows(h)
    assert (referral.status, task.status) == (ReferralStatus.SENT, TaskStatus.OPEN)
    assert await _status_events(h) == []


async def test_two_fitting_referrals_ask_which_with_buttons(h: Harness) -> None:
    ana, _ = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to cardiology 11/20")
    await h.send(ana, "referred Robert King to cardiology today for chest pain")
    await h.send(ana, "Robert King cardiology referral completed")
    message = h.fake.last_message(ana.id)
    assert message.text == "Which of Robert King's referrals was completed?"
    assert message.button_labels == [
        "cardiology, sent Fri 20 Nov 2026", "cardiology, sent Mon 23 Nov 2026",
    ]  # fmt: skip
    for button in message.buttons:
        assert re.fullmatch(r"cr:[A-Za-z0-9_-]{8}:\d+", button.callback_data or "")
        assert "Robert" not in (button.callback_data or "")
    referrals, _ = await _rows(h)
    assert [r.status for r in referrals] == [ReferralStatus.SENT, ReferralStatus.SENT]
    await h.press(ana, "cardiology, sent Mon 23 Nov 2026")
    assert h.last_text(ana) == "Saved ✔ Referral for Robert King to cardiology: completed"
    referrals, tasks = await _rows(h)
    assert [r.status for r in referrals] == [ReferralStatus.SENT, ReferralStatus.COMPLETED]
    assert [t.status for t in tasks] == [TaskStatus.OPEN, TaskStatus.DONE]
    [event] = await _status_events(h)
    assert (event.entity_id, event.detail["prior_status"]) == (referrals[1].id, "sent")
    # The same keyboard again: the question is answered, so nothing more changes.
    await h.press(ana, "cardiology, sent Fri 20 Nov 2026", message_id=message.message_id)
    assert h.last_text(ana) == CHOICE_CLOSED
    referrals, _ = await _rows(h)
    assert [r.status for r in referrals] == [ReferralStatus.SENT, ReferralStatus.COMPLETED]


async def test_a_forged_or_expired_referral_button_changes_nothing(h: Harness) -> None:
    ana, robert = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to cardiology 11/20")
    await h.send(ana, "referred Robert King to cardiology today")
    bea = await h.enroll("Bea")
    bea_patient = await add_patient(h, bea, "Paul Stone")
    await h.send(bea, "referred Paul Stone to cardiology today")
    await h.send(ana, "Robert King's cardiology referral was declined")
    message = h.fake.last_message(ana.id)
    token = (message.buttons[0].callback_data or "").split(":")[1]
    referrals, _ = await _rows(h)
    beas = next(r for r in referrals if r.patient_id == bea_patient)
    await _press_forged(h, ana, f"cr:{token}:{beas.id}")  # not one of the choices
    assert h.last_text(ana) == "That wasn't one of the choices. Nothing was changed."
    await _press_forged(h, ana, f"cr:AAAAAAAA:{referrals[0].id}")  # not this question's token
    assert h.last_text(ana) == CHOICE_CLOSED
    calls = await _press_forged(h, ana, "cr:Robert King:1")  # malformed: answered, nothing changes
    assert [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"] == [
        CHOICE_CLOSED
    ]
    # Bea replays Ana's button: Ana's pending choice is not hers.
    await h.send(bea, "/referrals")
    await _press_forged(h, bea, message.buttons[0].callback_data or "")
    assert h.last_text(bea) == CHOICE_CLOSED
    h.clock.advance(timedelta(minutes=16))
    await h.press(ana, "cardiology, sent Fri 20 Nov 2026")
    assert h.last_text(ana) == CHOICE_CLOSED
    referrals, tasks = await _rows(h)
    assert {r.status for r in referrals} == {ReferralStatus.SENT}
    assert {t.status for t in tasks} == {TaskStatus.OPEN}
    assert await _status_events(h) == []
    assert robert in {r.patient_id for r in referrals}


async def test_an_ambiguous_name_in_a_referral_status_asks_the_patient_first(h: Harness) -> None:
    ana = await h.enroll("Ana")
    lopez = await add_patient(h, ana, "Maria Lopez")
    await add_patient(h, ana, "Maria Santos")
    await h.send(ana, "referred Maria Lopez to podiatry today")
    await h.send(ana, "Maria's podiatry referral declined")
    message = h.fake.last_message(ana.id)
    assert message.text == (
        "Which patient did you mean by “Maria”? Tap one; nothing is saved until you do."
    )
    assert sorted(message.button_labels) == ["Maria Lopez", "Maria Santos"]
    assert all("Maria" not in (b.callback_data or "") for b in message.buttons)
    await h.press(ana, "Maria Lopez")
    assert h.last_text(ana) == "Saved ✔ Referral for Maria Lopez to podiatry: declined"
    [referral], _ = await _rows(h)
    assert (referral.patient_id, referral.status) == (lopez, ReferralStatus.DECLINED)


async def test_a_redelivered_status_message_changes_the_referral_once(h: Harness) -> None:
    ana, _ = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to cardiology 11/20")
    update = h.fake.private_text(ana, "Robert King cardiology referral scheduled")
    await h.fake._feed_and_collect(h.app, update)
    again = dict(update, update_id=update["update_id"] + 1000)
    await h.fake._feed_and_collect(h.app, again)
    assert h.last_text(ana) == "That message was already saved."
    assert len(await _status_events(h)) == 1


async def test_a_referral_scheduled_with_its_date_is_logged_as_the_appointment(
    h: Harness,
) -> None:
    ana, _ = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to cardiology 11/20")
    await h.send(ana, "cardiology referral scheduled for Robert King 12/3 at 2pm")
    [referral], [task] = await _rows(h)
    async with h.db.uow(read_only=True) as session:
        appointment = await session.scalar(select(Appointment))
    assert appointment is not None
    assert appointment.at == datetime(2026, 12, 3, 14, 0, tzinfo=CHICAGO)
    assert (referral.status, referral.appointment_id) == (
        ReferralStatus.SCHEDULED, appointment.id,
    )  # fmt: skip
    assert task.status == TaskStatus.DONE


async def test_a_contact_mentioning_a_scheduled_referral_changes_no_referral(h: Harness) -> None:
    ana, _ = await _ana_with_robert(h)
    await h.send(ana, "referred Robert King to cardiology 11/20")
    await h.send(ana, "called Robert King, cardiology referral scheduled, f/u Fri")
    said_at = h.clock.now().astimezone(CHICAGO)  # 10:15, or the hour --clock-at names
    assert h.last_text(ana) == (
        "✅ Saved: Phone call with Robert King, reached.\n"
        f"When: Mon 23 Nov {said_at:%H:%M}, America/Chicago\n"
        "Follow-up: Fri 27 Nov, America/Chicago"
    )
    [referral], _ = await _rows(h)
    assert referral.status == ReferralStatus.SENT
    async with h.db.uow(read_only=True) as session:
        assert await session.scalar(select(Contact)) is not None

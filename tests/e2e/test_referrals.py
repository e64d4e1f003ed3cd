"""Referrals end to end through the fake Telegram: sent by free text with a follow-up task, a
referral that goes stale and pushes its reminder, an appointment that answers it, /referrals
with status buttons, and /patient showing open referrals."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from bot.care import end_of_local_day, local_time_on
from storage.models import (
    Appointment,
    AuditEvent,
    Contact,
    Referral,
    ReferralStatus,
    Task,
    TaskKind,
    TaskStatus,
)
from tests.fakes.telegram import FakeUser
from tests.harness import Harness
from tests.reminder_support import CHICAGO, add_patient, run_pass


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
        if "Referral follow-up" in (m.text or "") and "Good morning" not in (m.text or "")
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
    h.clock.advance(timedelta(days=14))  # Mon 7 Dec, 10:15: past the 09:00 reminder
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
    assert "Closed: referral task ✔" in h.last_text(ana)
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
    h.clock.advance(timedelta(days=14))
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
    h.clock.advance(timedelta(days=14))
    await run_pass(h)
    assert len(_referral_pushes(h, ana)) == 1

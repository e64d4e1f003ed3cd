"""Reminders end to end: due at the right local time, buttons, snooze, done, late, repeat,
quiet hours, blocked nurses, and Telegram faults — with the real dispatcher and fake Telegram."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bot.outbox.dispatcher import Dispatcher
from bot.vocab import DeliveryKind, DeliveryStatus, TaskKind
from storage.models import Nurse
from tests.fakes.database import DISK_FULL, SqliteFault
from tests.harness import Harness
from tests.reminder_support import (
    CHICAGO,
    add_follow_up,
    add_patient,
    deliveries,
    dispatcher,
    nurse_row,
    run_pass,
)

FRIDAY_9 = datetime(2026, 11, 27, 9, 0, tzinfo=CHICAGO)


def _pushes(h: Harness, user_id: int) -> list[str]:
    return [m.text or "" for m in h.fake.sent_messages(user_id) if "⏰" in (m.text or "")]


async def test_reminder_arrives_at_its_local_time_with_buttons_and_only_once(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    maria = await add_patient(harness, ana, "Maria Lopez")
    await add_follow_up(harness, ana, maria, day=FRIDAY_9)

    harness.clock.set(FRIDAY_9 - timedelta(minutes=1))
    await run_pass(harness)
    assert _pushes(harness, ana.id) == []

    harness.clock.set(FRIDAY_9)
    report = await run_pass(harness)
    assert report.sent == 1
    pushes = _pushes(harness, ana.id)
    assert len(pushes) == 1
    text = pushes[0]
    assert "Follow-up: M.L." in text  # privacy default: initials
    assert "Maria" not in text
    assert "From your phone call on Mon 23 Nov." in text
    assert "Due: Fri 27 Nov (America/Chicago)" in text
    assert "sent late" not in text
    last = harness.fake.last_message(ana.id)
    assert last.button_labels == ["Done", "Snooze 1h", "Tomorrow", "Log contact"]
    assert all(b.callback_data and b.callback_data.startswith("tk:") for b in last.buttons)
    assert last.protect_content

    harness.clock.advance(timedelta(minutes=5))
    await run_pass(harness)
    assert len(_pushes(harness, ana.id)) == 1


async def test_snooze_pushes_again_an_hour_later_and_done_stops_pushes(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    maria = await add_patient(harness, ana, "Maria Lopez")
    await add_follow_up(harness, ana, maria, day=FRIDAY_9)
    harness.clock.set(FRIDAY_9)
    await run_pass(harness)

    await harness.press(ana, "Snooze 1h")
    assert "Snoozed until Fri 27 Nov, 10:00" in harness.last_text(ana)
    harness.clock.advance(timedelta(minutes=59))
    await run_pass(harness)
    assert len(_pushes(harness, ana.id)) == 1
    harness.clock.advance(timedelta(minutes=1))
    await run_pass(harness)
    assert len(_pushes(harness, ana.id)) == 2

    second = harness.fake.last_message(ana.id)
    tap = harness.fake.callback_press(ana, second.message_id, "Done")
    double_tap = harness.fake.callback_press(ana, second.message_id, "Done")
    await harness.fake._feed_and_collect(harness.app, tap)
    assert harness.fake.message(ana.id, second.message_id).text.endswith("Done")
    harness.clock.advance(timedelta(days=2))
    await run_pass(harness)
    assert len(_pushes(harness, ana.id)) == 2
    assert "task.done" in await harness.audit_actions()

    # A second tap on the same (now stale) button answers kindly.
    calls = await harness.fake._feed_and_collect(harness.app, double_tap)
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answers[0].params["text"] == "Already done."


async def test_tomorrow_moves_the_reminder_to_the_follow_up_time_next_day(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    maria = await add_patient(harness, ana, "Maria Lopez")
    await add_follow_up(harness, ana, maria, day=FRIDAY_9)
    harness.clock.set(FRIDAY_9)
    await run_pass(harness)
    await harness.press(ana, "Tomorrow")
    assert "Snoozed until Sat 28 Nov, 09:00" in harness.last_text(ana)
    harness.clock.set(datetime(2026, 11, 28, 9, 0, tzinfo=CHICAGO))
    await run_pass(harness)
    assert len(_pushes(harness, ana.id)) == 2


async def test_another_nurses_button_is_refused_and_audited(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    bea = await harness.enroll("Bea")
    maria = await add_patient(harness, ana, "Maria Lopez")
    await add_follow_up(harness, ana, maria, day=FRIDAY_9)
    harness.clock.set(FRIDAY_9)
    await run_pass(harness)
    pushed = harness.fake.last_message(ana.id)
    update = harness.fake.callback_press(ana, pushed.message_id, "Done")
    update["callback_query"]["from"] = bea.to_api()
    calls = await harness.fake._feed_and_collect(harness.app, update)
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params["text"] == "That isn't one of your tasks."
    assert "task.refused" in await harness.audit_actions()
    rows = await deliveries(harness)
    assert rows[-1].status == DeliveryStatus.SENT


async def test_after_downtime_the_missed_reminder_is_sent_once_and_marked_late(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    maria = await add_patient(harness, ana, "Maria Lopez")
    await add_follow_up(harness, ana, maria, day=FRIDAY_9)
    harness.clock.set(FRIDAY_9 + timedelta(hours=3))  # the bot was down at 09:00

    restarted = Dispatcher(
        db=harness.db,
        bot=harness.app.bot,
        config=harness.app.services.config,
        clock=harness.clock,
        worker_id="restarted",
    )
    restarted.per_chat_gap = 0.0
    await restarted.run_once()
    await restarted.run_once()
    pushes = _pushes(harness, ana.id)
    assert len(pushes) == 1
    assert "(due 09:00, sent late)" in pushes[0]


async def test_a_claim_its_dead_process_never_sent_goes_out_after_the_lease_not_as_a_repeat(
    harness: Harness,
) -> None:
    from storage import deliveries as outbox

    ana = await harness.enroll("Ana")
    maria = await add_patient(harness, ana, "Maria Lopez")
    await add_follow_up(harness, ana, maria, day=FRIDAY_9)
    harness.clock.set(FRIDAY_9)
    await dispatcher(harness).plan(harness.clock.now())
    async with harness.db.uow() as session:  # a process claims it, then dies before sending
        claimed = await outbox.claim_due(
            session, now=harness.clock.now(), worker="dead", lease=timedelta(minutes=2), limit=10
        )
    assert sorted(d.kind.value for d in claimed) == ["digest", "reminder"]
    await run_pass(harness)
    assert _pushes(harness, ana.id) == []  # the lease still holds
    harness.clock.advance(timedelta(minutes=3))
    await run_pass(harness)
    pushes = _pushes(harness, ana.id)
    assert len(pushes) == 1
    assert "repeat" not in pushes[0]  # it never reached Telegram: a first delivery
    assert "sent late" in pushes[0]
    assert all(r.status == DeliveryStatus.SENT and not r.repeat for r in await deliveries(harness))


async def test_a_process_killed_during_a_send_repeats_only_the_push_it_was_sending(
    harness: Harness,
) -> None:
    """A dispatcher killed while Telegram holds its first send: that push may have arrived
    and comes back "(repeat)"; the one it claimed with it but never tried comes back plain."""
    ana = await harness.enroll("Ana")
    maria = await add_patient(harness, ana, "Maria Lopez")
    await add_follow_up(harness, ana, maria, day=FRIDAY_9)
    harness.clock.set(FRIDAY_9)
    fake = harness.fake
    replies = len(fake.sent_messages(ana.id))
    reached, never = asyncio.Event(), asyncio.Event()
    handle = fake.handle

    async def stalling(url: str, params: Any, files: Any) -> Any:
        if url.endswith("/sendMessage"):
            reached.set()
            await never.wait()  # Telegram never answers before the kill
        return await handle(url, params, files)

    dead = Dispatcher(
        db=harness.db,
        bot=harness.app.bot,
        config=harness.app.services.config,
        clock=harness.clock,
        worker_id="dead",
    )
    dead.per_chat_gap = 0.0
    fake.handle = stalling  # type: ignore[method-assign]
    try:
        running = asyncio.create_task(dead.run_once())
        async with asyncio.timeout(10):
            await reached.wait()
        running.cancel()  # kill -9: nothing after the Bot API call runs
        with contextlib.suppress(asyncio.CancelledError):
            await running
    finally:
        fake.handle = handle  # type: ignore[method-assign]
        harness.db.remove_listener(dead._committed)
    rows = await deliveries(harness)
    assert [r.status for r in rows] == [DeliveryStatus.SENDING] * 2
    attempted = [r.kind for r in rows if r.send_started_at is not None]
    assert len(attempted) == 1  # the second push to her chat waits behind the first

    await run_pass(harness)
    assert len(fake.sent_messages(ana.id)) == replies  # the dead claim's lease still holds
    lease = harness.app.services.config.reminders.lease_seconds
    harness.clock.advance(timedelta(seconds=lease + 1))
    await run_pass(harness)
    rows = await deliveries(harness)
    assert all(r.status == DeliveryStatus.SENT for r in rows)
    assert {r.kind: r.repeat for r in rows} == {
        kind: kind in attempted for kind in (DeliveryKind.DIGEST, DeliveryKind.REMINDER)
    }
    texts = [m.text or "" for m in fake.sent_messages(ana.id)[replies:]]
    assert len(texts) == 2
    assert sum("repeat" in t for t in texts) == 1
    reminder = _pushes(harness, ana.id)
    assert len(reminder) == 1
    assert ("repeat" in reminder[0]) == (DeliveryKind.REMINDER in attempted)


async def test_a_push_whose_attempted_mark_cannot_be_written_is_not_sent_until_its_lease_ends(
    harness: Harness,
) -> None:
    """Disk full on the "attempted" mark: that push is not sent then (it could not be told
    apart from one never tried), and after its lease it goes out once, not as a repeat."""
    if harness.db.dialect != "sqlite":
        pytest.skip("SQLite driver errors")
    ana = await harness.enroll("Ana")
    maria = await add_patient(harness, ana, "Maria Lopez")
    await add_follow_up(harness, ana, maria, day=FRIDAY_9)
    harness.clock.set(FRIDAY_9)
    full = SqliteFault(
        harness.db, **{**DISK_FULL, "verbs": ("UPDATE DELIVERIES SET SEND_STARTED_AT",)}
    )
    try:
        full.armed = True
        report = await run_pass(harness)
    finally:
        full.armed = False
        full.remove()
    assert full.raised == 2  # the digest's mark and the reminder's
    assert report.sent == 0
    assert _pushes(harness, ana.id) == []
    assert [r.status for r in await deliveries(harness)] == [DeliveryStatus.SENDING] * 2
    lease = harness.app.services.config.reminders.lease_seconds
    harness.clock.advance(timedelta(seconds=lease + 1))
    report = await run_pass(harness)
    assert report.sent == 2
    pushes = _pushes(harness, ana.id)
    assert len(pushes) == 1
    assert "repeat" not in pushes[0]


async def test_routine_reminders_wait_for_quiet_hours_to_end_urgent_ones_do_not(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")  # quiet hours 21:00-07:00 by default
    maria = await add_patient(harness, ana, "Maria Lopez")
    john = await add_patient(harness, ana, "John Smith")
    night = datetime(2026, 11, 27, 22, 0, tzinfo=CHICAGO)
    await add_follow_up(harness, ana, maria, day=night, at=time(22, 0))
    await add_follow_up(
        harness, ana, john, day=night, at=time(22, 0), kind=TaskKind.TCM_CONTACT, with_contact=False
    )
    harness.clock.set(night)
    await run_pass(harness)
    pushes = _pushes(harness, ana.id)
    assert len(pushes) == 1
    assert "TCM contact" in pushes[0]
    harness.clock.set(datetime(2026, 11, 28, 7, 0, tzinfo=CHICAGO))
    await run_pass(harness)
    pushes = _pushes(harness, ana.id)
    assert len(pushes) == 2
    assert "Follow-up" in pushes[1]


async def test_a_nurse_who_blocked_the_bot_is_marked_unreachable_and_her_supervisor_told(
    harness: Harness,
) -> None:
    from bot.vocab import Role

    sup = await harness.enroll("Sue", role=Role.SUPERVISOR)
    ana = await harness.enroll("Ana")
    maria = await add_patient(harness, ana, "Maria Lopez")
    await add_follow_up(harness, ana, maria, day=FRIDAY_9)
    harness.fake.block(ana)
    harness.clock.set(FRIDAY_9)
    report = await run_pass(harness)
    assert report.errors["403"] >= 1  # her reminder (and her digest, due at 07:30)
    async with harness.db.uow(read_only=True) as session:
        nurse = await session.get(Nurse, (await nurse_row(harness, ana)).id)
    assert nurse is not None
    assert nurse.unreachable
    await run_pass(harness)
    notice = harness.fake.last_message(sup.id).text or ""
    assert "Ana RN can no longer receive casebot messages" in notice
    assert "Maria" not in notice

    # Once she unblocks the bot and writes again, she is reachable again.
    harness.fake.unblock(ana)
    await harness.send(ana, "/help")
    async with harness.db.uow(read_only=True) as session:
        again = await session.get(Nurse, (await nurse_row(harness, ana)).id)
    assert again is not None
    assert not again.unreachable


async def test_every_reminder_is_sent_despite_20_percent_telegram_faults(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    bea = await harness.enroll("Bea")
    for user in (ana, bea):
        for i in range(15):
            pid = await add_patient(harness, user, f"Patient {i} {user.first_name}")
            await add_follow_up(harness, user, pid, day=FRIDAY_9, with_contact=False)
    harness.fake.fail_randomly(rate=0.2, kinds=("429", "5xx", "timeout"), seed=7)
    harness.clock.set(FRIDAY_9)
    for _ in range(60):
        await run_pass(harness)
        rows = await deliveries(harness)
        if all(r.status == DeliveryStatus.SENT for r in rows):
            break
        harness.clock.advance(timedelta(seconds=30))
    rows = [r for r in await deliveries(harness) if r.kind.value == "reminder"]
    assert len(rows) == 30
    assert all(r.status == DeliveryStatus.SENT for r in rows), [r.status for r in rows]
    faults = harness.fake.fault_counts
    assert sum(faults.values()) > 0
    # Every task reached the nurse; a duplicate only where the outcome was unknown (timeout),
    # and then the second copy says "(repeat)".
    for user in (ana, bea):
        texts = _pushes(harness, user.id)
        assert len(texts) >= 15
        assert len(texts) - sum("repeat" in t for t in texts) <= 15
    assert max(r.attempts for r in rows) >= 2
    _ = UTC


async def test_reminders_command_lists_upcoming_and_done_and_snooze_by_number(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    maria = await add_patient(harness, ana, "Maria Lopez")
    john = await add_patient(harness, ana, "John Smith")
    await add_follow_up(harness, ana, maria, day=FRIDAY_9)
    await add_follow_up(harness, ana, john, day=FRIDAY_9 + timedelta(days=3))
    await harness.send(ana, "/reminders")
    listing = harness.last_text(ana)
    assert "1. Fri 27 Nov 09:00 – Follow-up Maria Lopez" in listing
    assert "2. Mon 30 Nov 09:00 – Follow-up John Smith" in listing
    await harness.send(ana, "/done 1")
    assert harness.last_text(ana) == "✅ Done: 1. Follow-up · Maria Lopez (from /reminders)"
    await harness.send(ana, "/snooze 2")
    assert harness.last_text(ana) == (  # Mon 30 Nov 09:00 + 1 h
        "💤 2. Follow-up · John Smith snoozed until Mon 30 Nov 10:00 (from /reminders)"
    )
    await harness.send(ana, "/done 9")
    assert "Which one?" in harness.last_text(ana)
    harness.clock.set(FRIDAY_9 + timedelta(minutes=1))
    await run_pass(harness)
    assert _pushes(harness, ana.id) == []  # Maria's follow-up is done
    harness.clock.set(FRIDAY_9 + timedelta(days=3, hours=1))
    await run_pass(harness)
    assert len(_pushes(harness, ana.id)) == 1  # John's, an hour after its first time


async def test_a_tcm_contact_about_to_lapse_is_escalated_to_the_supervisor(
    harness: Harness,
) -> None:
    from bot.vocab import Role

    sue = await harness.enroll("Sue", role=Role.SUPERVISOR)
    ana = await harness.enroll("Ana")
    john = await add_patient(harness, ana, "John Smith")
    deadline = datetime(2026, 11, 27, 23, 59, 59, tzinfo=CHICAGO)
    await add_follow_up(
        harness,
        ana,
        john,
        day=deadline,
        at=time(9, 0),
        kind=TaskKind.TCM_CONTACT,
        with_contact=False,
        due_at=deadline,
    )
    harness.clock.set(deadline - timedelta(hours=5))
    await run_pass(harness)
    assert not [m for m in harness.fake.sent_messages(sue.id) if "Escalation" in (m.text or "")]
    harness.clock.set(deadline - timedelta(hours=4))
    await run_pass(harness)
    await run_pass(harness)
    escalations = [
        m.text or "" for m in harness.fake.sent_messages(sue.id) if "Escalation" in (m.text or "")
    ]
    assert len(escalations) == 1
    assert "Ana RN's patient" in escalations[0]
    assert "TCM contact: J.S." in escalations[0]


async def test_a_logged_contact_with_f_u_friday_is_pushed_on_friday_then_snoozed_then_done(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    await harness.send(ana, "Called Maria Lopez, discussed new insulin dose. f/u Friday")
    assert "Follow-up: Fri 27 Nov, America/Chicago" in harness.last_text(ana)

    harness.clock.set(FRIDAY_9 - timedelta(seconds=1))  # 09:00 is reminders.follow_up_time
    await run_pass(harness)
    assert _pushes(harness, ana.id) == []
    harness.clock.set(FRIDAY_9)
    await run_pass(harness)
    assert len(_pushes(harness, ana.id)) == 1
    assert "From your phone call on Mon 23 Nov." in _pushes(harness, ana.id)[0]

    await harness.press(ana, "Snooze 1h")
    harness.clock.advance(timedelta(hours=1))
    await run_pass(harness)
    assert len(_pushes(harness, ana.id)) == 2
    await harness.press(ana, "Done")
    harness.clock.advance(timedelta(days=3))
    await run_pass(harness)
    assert len(_pushes(harness, ana.id)) == 2


async def test_her_own_words_in_a_push_follow_the_privacy_setting(harness: Harness) -> None:
    """A task she typed with the patient's name in it ("re maria's strips") is pushed with the
    name masked as the header masks it (initials by default): the title is no side door."""
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    await harness.send(ana, "remind me to call the pharmacy re maria's test strips fri 9am")
    assert "Saved" in harness.last_text(ana)
    harness.clock.set(FRIDAY_9)
    await run_pass(harness)
    [push] = _pushes(harness, ana.id)
    assert "M.L." in push
    assert "pharmacy re M.L.'s test strips" in push
    assert "maria" not in push.lower()
    assert "lopez" not in push.lower()

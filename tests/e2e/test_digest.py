"""The morning digest: exact text for fixed data, once per nurse per local day (DST too),
days off, late after downtime, and [Show all] when cut."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

from sqlalchemy import update

from bot.care import end_of_local_day
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.planning import digest_instant, is_day_off
from bot.vocab import AppointmentStatus, Channel, DeliveryKind, Outcome, TaskKind, TaskStatus
from storage.db import Database
from storage.models import Appointment, Contact, Nurse, Task
from tests.harness import Harness
from tests.reminder_support import CHICAGO, add_patient, deliveries, nurse_row, run_pass


def _digests(h: Harness, user_id: int) -> list[str]:
    return [m.text or "" for m in h.fake.sent_messages(user_id) if "Good morning" in (m.text or "")]


async def _fixed_caseload(h: Harness, user: object) -> None:
    """Tue 24 Nov 2026: an appointment, a follow-up due, an overdue one, a TCM deadline."""
    nurse = await nurse_row(h, user)  # type: ignore[arg-type]
    maria = await add_patient(h, user, "Maria Lopez", "high")  # type: ignore[arg-type]
    john = await add_patient(h, user, "John Smith", "low")  # type: ignore[arg-type]
    rosa = await add_patient(h, user, "Rosa Martínez", "medium")  # type: ignore[arg-type]
    now = h.clock.now()
    tue = date(2026, 11, 24)
    async with h.db.uow() as session:
        session.add(
            Appointment(
                patient_id=maria,
                nurse_id=nurse.id,
                at=datetime(2026, 11, 24, 10, 30, tzinfo=CHICAGO),
                with_whom="cardiology",
                status=AppointmentStatus.SCHEDULED,
                created_at=now,
            )
        )
        session.add(
            Task(
                nurse_id=nurse.id,
                patient_id=john,
                kind=TaskKind.FOLLOW_UP,
                title="",
                due_at=end_of_local_day(tue, CHICAGO),
                has_time=False,
                created_at=now,
            )
        )
        session.add(
            Task(
                nurse_id=nurse.id,
                patient_id=rosa,
                kind=TaskKind.FOLLOW_UP,
                title="",
                due_at=end_of_local_day(date(2026, 11, 20), CHICAGO),
                has_time=False,
                created_at=now,
            )
        )
        session.add(
            Task(
                nurse_id=nurse.id,
                patient_id=john,
                kind=TaskKind.TCM_CONTACT,
                title="",
                due_at=end_of_local_day(date(2026, 11, 27), CHICAGO),
                has_time=False,
                created_at=now,
            )
        )
        # Yesterday (Mon 23): two follow-ups due that existed on Sunday, one done on time; a
        # third made and done on Monday itself, and an appointment reminder: not counted.
        sunday = datetime(2026, 11, 22, 12, 0, tzinfo=CHICAGO)
        monday = datetime(2026, 11, 23, 12, 0, tzinfo=CHICAGO)
        for done, made in ((True, sunday), (False, sunday), (True, monday)):
            session.add(
                Task(
                    nurse_id=nurse.id,
                    patient_id=maria,
                    kind=TaskKind.FOLLOW_UP,
                    title="",
                    due_at=end_of_local_day(date(2026, 11, 23), CHICAGO),
                    has_time=False,
                    status=TaskStatus.DONE if done else TaskStatus.OPEN,
                    completed_at=monday if done else None,
                    created_at=made,
                )
            )
        session.add(
            Task(
                nurse_id=nurse.id,
                patient_id=maria,
                kind=TaskKind.APPOINTMENT_REMINDER,
                title="",
                due_at=end_of_local_day(date(2026, 11, 23), CHICAGO),
                has_time=False,
                created_at=sunday,
            )
        )
        # Rosa (medium, every 14 d) was reached 3 days ago; Maria (high) never; John (low) 2 d.
        for pid, days in ((rosa, 3), (john, 2)):
            session.add(
                Contact(
                    patient_id=pid,
                    nurse_id=nurse.id,
                    occurred_at=now - timedelta(days=days),
                    channel=Channel.PHONE,
                    outcome=Outcome.REACHED,
                    note="",
                    created_at=now,
                )
            )


async def test_digest_for_fixed_data_reads_exactly_as_expected(harness: Harness) -> None:
    ana = await harness.enroll("Ana")  # digest 07:30 America/Chicago, privacy: initials
    await _fixed_caseload(harness, ana)
    harness.clock.set(datetime(2026, 11, 24, 7, 30, tzinfo=CHICAGO))
    await run_pass(harness)
    digests = _digests(harness, ana.id)
    assert len(digests) == 1
    assert digests[0] == (
        "☀️ Good morning — Tue 24 Nov (America/Chicago)\n"
        "\n"
        "📅 Appointments today\n"
        "• 10:30 M.L. – cardiology\n"
        "\n"
        "🏥 Transition-of-care deadlines\n"
        "• TCM contact J.S.: due in 2 business days – by Fri 27 Nov\n"
        "\n"
        "✅ Due today (1)\n"
        "• Follow-up J.S.\n"
        "\n"
        "⏳ Overdue (2, oldest first)\n"
        "• Follow-up R.M. – since Fri 20 Nov\n"
        "• Follow-up M.L. – since Mon 23 Nov\n"
        "\n"
        "📞 Past their contact cadence\n"
        "• M.L. (high risk, every 7 d): never reached\n"
        "\n"
        "📈 Yesterday: 1 of 2 tasks done on time"
    )
    # The cadence check created a task for Maria, once.
    async with harness.db.uow(read_only=True) as session:
        from sqlalchemy import func, select

        count = await session.scalar(
            select(func.count()).select_from(Task).where(Task.kind == TaskKind.CADENCE)
        )
    assert count == 1


async def test_one_digest_per_local_day_across_both_dst_changes(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    for start in (
        datetime(2026, 3, 6, 0, 30, tzinfo=CHICAGO),
        datetime(2026, 10, 30, 0, 30, tzinfo=CHICAGO),
    ):
        async with harness.db.uow() as session:  # enrolled long before
            await session.execute(update(Nurse).values(enrolled_at=start - timedelta(days=30)))
        harness.clock.set(start)
        for _ in range(4 * 24):  # four days in hourly steps on the half hour (UTC-wise)
            harness.clock.advance(timedelta(hours=1))
            await run_pass(harness)
    rows = [d for d in await deliveries(harness) if d.kind == DeliveryKind.DIGEST]
    days = [d.due_at.astimezone(CHICAGO) for d in rows]
    assert [d.date() for d in days] == [
        date(2026, 3, 6),
        date(2026, 3, 7),
        date(2026, 3, 8),
        date(2026, 3, 9),
        date(2026, 10, 30),
        date(2026, 10, 31),
        date(2026, 11, 1),
        date(2026, 11, 2),
    ]
    assert {d.time() for d in days} == {time(7, 30)}
    digests = _digests(harness, ana.id)
    assert len(digests) == 8
    # On the DST days themselves the digest reads as on any other day.
    assert digests[2] == ("☀️ Good morning — Sun 8 Mar (America/Chicago)\n\nNothing due today. 🎉")
    assert digests[6] == ("☀️ Good morning — Sun 1 Nov (America/Chicago)\n\nNothing due today. 🎉")


def test_digest_instant_in_a_dst_gap_moves_forward() -> None:
    instant = digest_instant(date(2026, 3, 8), time(2, 30), CHICAGO)
    assert instant.astimezone(CHICAGO).time() == time(3, 0)


async def test_days_off_skip_the_digest(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    async with harness.db.uow() as session:
        await session.execute(update(Nurse).values(days_off="sat,sun"))
    harness.clock.set(datetime(2026, 11, 28, 12, 0, tzinfo=CHICAGO))  # Saturday
    await run_pass(harness)
    assert _digests(harness, ana.id) == []
    harness.clock.set(datetime(2026, 11, 30, 7, 30, tzinfo=CHICAGO))  # Monday
    await run_pass(harness)
    assert len(_digests(harness, ana.id)) == 1
    assert is_day_off(date(2026, 11, 29), "6,7")


async def test_a_digest_missed_while_down_is_sent_late_once(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    harness.clock.set(datetime(2026, 11, 24, 9, 45, tzinfo=CHICAGO))
    await run_pass(harness)
    await run_pass(harness)
    digests = _digests(harness, ana.id)
    assert len(digests) == 1
    assert "(due 07:30, sent late)" in digests[0]


async def test_a_long_digest_is_cut_to_one_message_with_show_all(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    nurse = await nurse_row(harness, ana)
    now = harness.clock.now()
    async with harness.db.uow() as session:
        from storage import patients

        for i in range(160):
            p = await patients.create_patient(
                session,
                nurse_id=nurse.id,
                team_id=None,
                display_name=f"Patient Number{i:03d}",
                now=now,
            )
            session.add(
                Task(
                    nurse_id=nurse.id,
                    patient_id=p.id,
                    kind=TaskKind.FOLLOW_UP,
                    title="",
                    due_at=end_of_local_day(date(2026, 11, 20), CHICAGO),
                    has_time=False,
                    created_at=now,
                )
            )
    harness.clock.set(datetime(2026, 11, 24, 7, 30, tzinfo=CHICAGO))
    await run_pass(harness)
    digest = harness.fake.last_message(ana.id)
    assert len(digest.source or "") <= 4096
    assert "… and" in (digest.text or "")
    assert digest.button_labels == ["Show all"]
    before = len(harness.fake.sent_messages(ana.id))
    await harness.press(ana, "Show all")
    pages = harness.fake.sent_messages(ana.id)[before:]
    assert len(pages) >= 2
    assert all(len(p.source or "") <= 4096 for p in pages)
    assert sum((p.text or "").count("Follow-up") for p in pages) == 160


async def test_two_dispatchers_at_digest_time_send_one_digest(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    harness.clock.set(datetime(2026, 11, 24, 7, 30, tzinfo=CHICAGO))
    # A second process's dispatcher: its own engine on SQLite; on PostgreSQL the same
    # database (the per-test schema) through other pooled connections.
    other = Database(harness.db.url) if harness.db.dialect != "postgresql" else None
    second = Dispatcher(
        db=harness.db if other is None else other,
        bot=harness.app.bot,
        config=harness.app.services.config,
        clock=harness.clock,
        worker_id="second",
    )
    second.per_chat_gap = 0.0
    await asyncio.gather(run_pass(harness), second.run_once(), run_pass(harness), second.run_once())
    assert len(_digests(harness, ana.id)) == 1
    if other is not None:
        await other.dispose()

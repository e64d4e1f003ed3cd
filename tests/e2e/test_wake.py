"""While the bot is up, a reminder goes out within 2 s of its due time: the dispatcher wakes at
the next due time (APScheduler via the JobQueue), not only on its coarse poll."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app.factory import build_application
from bot.clock import SystemClock
from bot.vocab import TaskKind
from storage import patients
from storage.db import Database
from storage.models import Nurse, Task
from tests.conftest import test_config
from tests.fakes.telegram import FakeTelegram
from tests.harness import Harness


async def test_a_reminder_goes_out_within_two_seconds_of_its_due_time(
    db: Database, tmp_path: Path
) -> None:
    fake = FakeTelegram()
    config = test_config(
        tmp_path, CASEBOT_TELEGRAM_TOKEN=fake.token, CASEBOT_REMINDERS_POLL_SECONDS="600"
    )
    app = build_application(config, db=db, clock=SystemClock(), request=fake.request())
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)  # starts the dispatcher's jobs
    await app.start()
    try:
        harness = Harness(fake=fake, app=app, db=db, clock=None)  # type: ignore[arg-type]
        ana = await _enroll(harness, app)
        async with db.uow() as session:
            nurse = await session.scalar(select(Nurse).where(Nurse.telegram_user_id == ana.id))
            assert nurse is not None
            # This test runs on the wall clock (it times APScheduler's wake-up): no quiet hours,
            # so it passes at 03:00 as at noon.
            nurse.quiet_start = None
            nurse.quiet_end = None
            patient = await patients.create_patient(
                session, nurse_id=nurse.id, team_id=None, display_name="Maria Lopez",
                now=datetime.now(UTC),
            )
            due = datetime.now(UTC) + timedelta(seconds=3)
            session.add(Task(
                nurse_id=nurse.id, patient_id=patient.id, kind=TaskKind.FOLLOW_UP, title="",
                due_at=due + timedelta(hours=1), has_time=True, remind_at=due,
                created_at=datetime.now(UTC),
            ))
        app.services.dispatcher.wake_soon()  # as after the update that created the task

        async with asyncio.timeout(10):
            while not any("⏰" in (m.text or "") for m in fake.sent_messages(ana.id)):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        arrived = datetime.now(UTC)
        assert arrived >= due
        assert arrived - due < timedelta(seconds=2)
    finally:
        await app.stop()
        await app.shutdown()


async def _enroll(harness: Harness, app: object) -> object:
    from bot.services import enrollment
    from bot.vocab import Role

    user = harness.fake.user(first_name="Ana")
    invite = await enrollment.create_invite(
        harness.db, harness.app.services.config, SystemClock(), role=Role.NURSE
    )
    await harness.fake.send_text(harness.app, user, f"/start {invite.code}")
    await harness.fake.press(harness.app, user, "Central")
    await harness.fake.press(harness.app, user, "07:30")
    return user

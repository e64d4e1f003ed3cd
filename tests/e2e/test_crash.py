"""A bot process SIGKILLed in the middle of dispatching: after a restart every reminder has
arrived at least once and at most twice, and a second copy says "(repeat)"."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.vocab import DeliveryStatus, PatientStatus, Risk, Role, TaskKind
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Delivery, Nurse, Patient, Task
from tests.fakes.telegram import FakeTelegram
from tests.procs import start_bot

NURSES = 30
TASKS_EACH = 10
NAME = re.compile(r"Pt(\d+)x(\d+)")


async def _seed(db: Database, fake: FakeTelegram, now: datetime) -> None:
    """Nurses with no quiet hours and every day off (no digest): the real `casebot run`
    processes run on the wall clock, so nothing here may wait for the time of day."""
    async with db.uow() as session:
        for i in range(NURSES):
            user = fake.user(user_id=700_000 + i, first_name=f"N{i}")
            nurse = Nurse(
                telegram_user_id=user.id, chat_id=user.id, display_name=f"Nurse {i}",
                role=Role.NURSE, timezone="America/Chicago", digest_time=time(7, 30),
                date_order="MDY", days_off="mon,tue,wed,thu,fri,sat,sun", settings_done=True,
                active=True, privacy_mode="full", enrolled_at=now - timedelta(days=1),
            )
            session.add(nurse)
            await session.flush()
            for j in range(TASKS_EACH):
                patient = Patient(
                    nurse_id=nurse.id, display_name=f"Pt{i}x{j}", initials="P.",
                    code=f"P-{i:03d}{j:03d}", risk=Risk.LOW, status=PatientStatus.ACTIVE,
                    created_at=now, updated_at=now,
                )
                session.add(patient)
                await session.flush()
                session.add(Task(
                    nurse_id=nurse.id, patient_id=patient.id, kind=TaskKind.FOLLOW_UP,
                    title="", due_at=now + timedelta(hours=8), has_time=True,
                    remind_at=now - timedelta(minutes=1), created_at=now,
                ))


@pytest.mark.slow
async def test_sigkill_during_dispatch_loses_nothing_and_marks_the_repeats(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    db = Database(url)
    await upgrade(db)
    fake = FakeTelegram()
    await _seed(db, fake, datetime.now(UTC))
    total = NURSES * TASKS_EACH

    def pushes() -> list[str]:
        return [
            str(c.params.get("text")) for c in fake.calls_of("sendMessage")
            if c.ok and "⏰" in str(c.params.get("text", ""))
        ]

    async with fake.http_server() as api:
        env = {
            "CASEBOT_TELEGRAM_TOKEN": fake.token,
            "CASEBOT_TELEGRAM_BASE_URL": api,
            "CASEBOT_DATABASE_URL": url,
            "CASEBOT_TELEGRAM_MAX_MESSAGES_PER_SECOND": "40",
            "CASEBOT_TELEGRAM_CHAT_MESSAGE_GAP_MS": "0",
            "CASEBOT_REMINDERS_POLL_SECONDS": "1",
            "CASEBOT_REMINDERS_LEASE_SECONDS": "3",
        }
        first = start_bot(env, tmp_path)
        pump = asyncio.create_task(first.pump())
        async with asyncio.timeout(60):
            while len(pushes()) < total // 3:  # noqa: ASYNC110 - another process's effect
                await asyncio.sleep(0.05)
        first.kill()  # SIGKILL mid-dispatch
        await pump
        killed_at = len(pushes())
        assert killed_at < total, "killed while reminders were still going out"

        second = start_bot(env, tmp_path)
        pump = asyncio.create_task(second.pump())
        try:
            async with asyncio.timeout(90):
                while True:
                    async with db.uow(read_only=True) as session:
                        left = await session.scalar(
                            select(func.count()).select_from(Delivery).where(
                                Delivery.status != DeliveryStatus.SENT
                            )
                        )
                    if left == 0 and len({NAME.search(t).group(0) for t in pushes()}) == total:  # type: ignore[union-attr]
                        break
                    await asyncio.sleep(0.25)
        finally:
            second.terminate()
            await pump

    texts = pushes()
    per_patient = Counter(NAME.search(t).group(0) for t in texts)  # type: ignore[union-attr]
    assert len(per_patient) == total, "every reminder arrived"
    assert max(per_patient.values()) <= 2, "at most one duplicate"
    for name, count in per_patient.items():
        if count == 2:
            copies = [t for t in texts if NAME.search(t).group(0) == name]  # type: ignore[union-attr]
            assert "repeat" in copies[1], "the second copy is marked"
    await db.dispose()

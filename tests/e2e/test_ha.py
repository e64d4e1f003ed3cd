"""Several real bot processes: on PostgreSQL every due reminder is sent exactly once by two
processes, and when the one handling updates dies the other takes over; on SQLite a second
process refuses to start. These run `casebot run` as subprocesses against the fake Telegram
served over HTTP on loopback."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.vocab import DeliveryStatus, PatientStatus, Risk, Role, TaskKind
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Delivery, Nurse, Patient, Task
from tests.dbutil import PG_SKIP_REASON, pg_url
from tests.fakes.telegram import FakeTelegram
from tests.procs import BotProcess, pg_database, start_bot

NURSES = 100
TASKS_EACH = 20
ALL_DAYS_OFF = "mon,tue,wed,thu,fri,sat,sun"  # no digests in this test: reminders only


async def _seed(db: Database, fake: FakeTelegram, now: datetime) -> list[int]:
    """NURSES enrolled nurses with TASKS_EACH reminders due a minute ago."""
    user_ids = []
    async with db.uow() as session:
        for i in range(NURSES):
            user = fake.user(user_id=500_000 + i, first_name=f"N{i}")
            user_ids.append(user.id)
            nurse = Nurse(
                telegram_user_id=user.id,
                chat_id=user.id,
                display_name=f"Nurse {i}",
                role=Role.NURSE,
                timezone="America/Chicago",
                digest_time=time(7, 30),
                date_order="MDY",
                days_off=ALL_DAYS_OFF,
                settings_done=True,
                active=True,
                enrolled_at=now - timedelta(days=1),
            )
            session.add(nurse)
            await session.flush()
            patient = Patient(
                nurse_id=nurse.id,
                display_name=f"Patient {i}",
                initials="P.",
                code=f"P-{i:06d}",
                risk=Risk.LOW,
                status=PatientStatus.ACTIVE,
                created_at=now,
                updated_at=now,
            )
            session.add(patient)
            await session.flush()
            for _ in range(TASKS_EACH):
                session.add(
                    Task(
                        nurse_id=nurse.id,
                        patient_id=patient.id,
                        kind=TaskKind.FOLLOW_UP,
                        title="",
                        due_at=now + timedelta(hours=8),
                        has_time=True,
                        remind_at=now - timedelta(minutes=1),
                        created_at=now,
                    )
                )
    return user_ids


async def _wait(check, seconds: float) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - polling another process's effects
            await asyncio.sleep(0.25)


@pytest.mark.slow
@pytest.mark.postgres
async def test_two_processes_send_each_reminder_once_and_the_standby_takes_over(
    tmp_path: Path,
) -> None:
    base_url = pg_url()
    if base_url is None:
        pytest.skip(PG_SKIP_REASON)
    fake = FakeTelegram()
    async with pg_database(base_url) as url:
        db = Database(url)
        await upgrade(db)
        users = await _seed(db, fake, datetime.now(UTC))
        async with fake.http_server() as api:
            env = {
                "CASEBOT_TELEGRAM_TOKEN": fake.token,
                "CASEBOT_TELEGRAM_BASE_URL": api,
                "CASEBOT_TELEGRAM_BASE_FILE_URL": fake.http_base_file_url or api,
                "CASEBOT_DATABASE_URL": url,
                "CASEBOT_AUDIT_KEY": "ha-test-key",  # PostgreSQL requires one
                "CASEBOT_TELEGRAM_MAX_MESSAGES_PER_SECOND": "3000",
                "CASEBOT_TELEGRAM_CHAT_MESSAGE_GAP_MS": "0",
                "CASEBOT_REMINDERS_POLL_SECONDS": "1",
            }
            bots: list[BotProcess] = [start_bot(env, tmp_path), start_bot(env, tmp_path)]
            pumps = [asyncio.create_task(b.pump()) for b in bots]
            try:

                async def all_sent() -> bool:
                    async with db.uow(read_only=True) as session:
                        left = await session.scalar(
                            select(func.count())
                            .select_from(Delivery)
                            .where(Delivery.status != DeliveryStatus.SENT)
                        )
                        total = await session.scalar(select(func.count()).select_from(Delivery))
                    return total == NURSES * TASKS_EACH and left == 0

                await _wait(all_sent, 120)
                pushes = [
                    c
                    for c in fake.calls_of("sendMessage")
                    if c.ok and "⏰" in str(c.params.get("text", ""))
                ]
                per_chat = Counter(int(c.params["chat_id"]) for c in pushes)
                assert len(pushes) == NURSES * TASKS_EACH
                assert set(per_chat.values()) == {TASKS_EACH}
                assert not any("repeat" in str(c.params.get("text")) for c in pushes)
                async with db.uow(read_only=True) as session:
                    claimers = set(
                        (await session.scalars(select(Delivery.claimed_by).distinct())).all()
                    )
                assert len(claimers) == 2, "both processes dispatched"

                async def someone_leads() -> bool:
                    return any(b.leads for b in bots)

                await _wait(someone_leads, 30)
                leader = next(b for b in bots if b.leads)
                standby = next(b for b in bots if b is not leader)
                leader.kill()

                user = fake.users[users[0]]
                fake.enqueue(fake.private_text(user, "/help"))

                async def answered() -> bool:
                    return any(
                        "What I understand" in (m.text or "") for m in fake.sent_messages(user.id)
                    )

                await _wait(answered, 30)
                assert standby.leads
            finally:
                for b in bots:
                    b.terminate()
                for p in pumps:
                    await p
        await db.dispose()


@pytest.mark.slow
async def test_a_second_process_on_the_same_sqlite_file_refuses_to_start(tmp_path: Path) -> None:
    fake = FakeTelegram()
    async with fake.http_server() as api:
        env = {
            "CASEBOT_TELEGRAM_TOKEN": fake.token,
            "CASEBOT_TELEGRAM_BASE_URL": api,
            "CASEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'one.db'}",
        }
        first = start_bot(env, tmp_path)
        pump = asyncio.create_task(first.pump())
        try:

            async def first_leads() -> bool:
                return first.leads

            await _wait(first_leads, 30)
            second = start_bot(env, tmp_path)
            _, err = await asyncio.to_thread(second.proc.communicate, None, 30)
            assert second.proc.returncode == 2
            assert b"another casebot process is already running" in err
            assert b"Traceback" not in err
        finally:
            first.terminate()
            await pump
        assert first.proc.returncode == 0, "SIGTERM stops the bot cleanly"

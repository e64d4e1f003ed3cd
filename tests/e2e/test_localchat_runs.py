"""`casebot chat` is the real bot: its dispatcher runs, so reminders and the morning digest are
printed in the terminal when they come due; and a second run on the same database continues
the message ids, so new messages are saved (not dropped as "already saved")."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from datetime import time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app.localchat import run_chat
from bot.clock import ManualClock
from bot.ops import demo
from bot.vocab import TaskKind
from storage import due
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Nurse, Patient, Task
from tests.clocks import RunningClock, start_at
from tests.conftest import START, test_config


@pytest.fixture
async def chat_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'casebot.db'}")
    await upgrade(db)
    try:
        yield db
    finally:
        await db.dispose()


async def test_a_second_run_on_the_same_database_saves_new_messages(
    chat_db: Database, tmp_path: Path
) -> None:
    config = test_config(tmp_path)
    outputs = []
    for run in range(3):  # runs 2 and 3 enroll nobody: the same first id unless continued
        out = io.StringIO()
        lines = f"called Maria Lopez re refill {run}, f/u Fri\n/quit\n"
        clock = ManualClock(START + timedelta(minutes=run))
        await run_chat(config, chat_db, clock, stdin=io.StringIO(lines), interactive=False, out=out)
        outputs.append(out.getvalue())
    for shown in outputs:
        assert "Saved: Phone call with Maria Lopez, reached." in shown, shown
        assert "already" not in shown


async def test_reminders_and_the_digest_appear_in_the_terminal_when_due(
    chat_db: Database, tmp_path: Path
) -> None:
    # Enrolled at 07:00 on a Monday; then two seconds before her 07:30 digest, in real time.
    clock = RunningClock(start_at(time(7, 0)))
    config = test_config(tmp_path, CASEBOT_REMINDERS_POLL_SECONDS="600")
    read_fd, write_fd = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_fd) as stdin, os.fdopen(write_fd, "w") as typing:
        chat = asyncio.create_task(
            run_chat(config, chat_db, clock, stdin=stdin, interactive=False, out=out)
        )
        try:
            async with asyncio.timeout(20):
                while "local chat" not in out.getvalue():  # noqa: ASYNC110 - the chat's output
                    await asyncio.sleep(0.05)
            clock.set(start_at(time(7, 29, 58)))
            # A new task wakes the dispatcher, which plans its next wake from the clock.
            reminder_at = await _follow_up_due_in(chat_db, clock, seconds=3)
            async with asyncio.timeout(20):
                while "Good morning" not in out.getvalue() or "⏰" not in out.getvalue():  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            assert clock.now() >= reminder_at
        finally:
            typing.write("/quit\n")
            typing.flush()
            await asyncio.wait_for(chat, 20)
    shown = out.getvalue()
    assert "Good morning — Mon 23 Nov" in shown
    reminder = next(line for line in shown.splitlines() if "⏰" in line)
    assert "Maria Lopez" in reminder or "M.L." in reminder


async def _follow_up_due_in(db: Database, clock: RunningClock, *, seconds: int) -> object:
    """A follow-up on the demo nurse's Maria Lopez, reminded `seconds` from now."""
    remind_at = clock.now() + timedelta(seconds=seconds)
    async with db.uow() as session:
        nurse = await session.scalar(
            select(Nurse).where(Nurse.telegram_user_id == demo.DEMO_TELEGRAM_ID)
        )
        assert nurse is not None
        patient = await session.scalar(
            select(Patient).where(
                Patient.nurse_id == nurse.id, Patient.display_name == "Maria Lopez"
            )
        )
        assert patient is not None
        task = Task(
            nurse_id=nurse.id,
            patient_id=patient.id,
            kind=TaskKind.FOLLOW_UP,
            title="labs",
            due_at=remind_at + timedelta(hours=2),
            has_time=True,
            remind_at=remind_at,
            created_at=clock.now(),
        )
        session.add(task)
        due.note_task(session, task)  # as every use case that creates a task does
    return remind_at

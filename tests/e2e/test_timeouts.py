"""A question left unanswered closes by itself and says nothing was saved (real JobQueue time:
the conversation timeout is shortened for the test)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

import handlers.records
from bot.app.factory import build_application
from bot.clock import ManualClock
from bot.render import records as render
from storage.db import Database
from storage.models import Contact
from tests.conftest import test_config
from tests.fakes.telegram import FakeTelegram
from tests.harness import Harness
from tests.reminder_support import add_patient


async def test_an_unanswered_question_times_out_saying_nothing_was_saved(
    db: Database, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers.records, "CONVERSATION_TIMEOUT", 0.5)
    fake = FakeTelegram()
    config = test_config(tmp_path, CASEBOT_TELEGRAM_TOKEN=fake.token)
    app = build_application(config, db=db, clock=clock, request=fake.request(), dispatch=False)
    await app.initialize()
    await app.start()
    try:
        harness = Harness(fake=fake, app=app, db=db, clock=clock)
        ana = await harness.enroll("Ana")
        await add_patient(harness, ana, "John Smith")
        await harness.send(ana, "spoke with John Smith")
        assert "Follow-up" in harness.last_text(ana)
        async with asyncio.timeout(5):
            while harness.last_text(ana) != render.TIMED_OUT:  # noqa: ASYNC110 - JobQueue time
                await asyncio.sleep(0.05)
        async with db.uow(read_only=True) as session:
            assert await session.scalar(select(func.count()).select_from(Contact)) == 0
        # The next message starts afresh instead of answering the closed question.
        await harness.send(ana, "spoke with John Smith, f/u Friday")
        assert "Saved" in harness.last_text(ana)
    finally:
        await app.stop()
        await app.shutdown()

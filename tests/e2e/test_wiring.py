"""The Application's wiring: a real Bot API server over HTTP via base_url,
per-chat ordering with cross-chat concurrency, and logs free of the token and patient data."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import ApplicationHandlerStop, MessageHandler, filters

from bot.app.factory import build_application
from bot.app.logs import configure_logging
from bot.clock import ManualClock
from bot.services import enrollment
from bot.vocab import Role
from storage import patients
from storage.db import Database
from tests.conftest import test_config
from tests.fakes.telegram import FakeTelegram
from tests.harness import Harness

CANARY = "Zebulon Canarywhistle"


async def _until(check: Callable[[], bool]) -> None:
    """Wait (at most 10 s) until `check()` holds."""
    async with asyncio.timeout(10):
        while not check():  # noqa: ASYNC110 - the fake's call log has no event to await
            await asyncio.sleep(0.02)


async def test_polling_a_bot_api_server_at_base_url_enrolls_a_nurse(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    fake = FakeTelegram()
    async with fake.http_server() as base_url:
        config = test_config(
            tmp_path,
            CASEBOT_TELEGRAM_TOKEN=fake.token,
            CASEBOT_TELEGRAM_BASE_URL=base_url,
            CASEBOT_TELEGRAM_BASE_FILE_URL=fake.http_base_file_url or base_url,
        )
        app = build_application(config, db=db, clock=clock)  # PTB's own HTTP client
        invite = await enrollment.create_invite(db, config, clock, role=Role.NURSE)
        nurse = fake.user(first_name="Ana")
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            fake.enqueue(fake.private_text(nurse, f"/start {invite.code}"))
            await _until(lambda: bool(fake.sent_messages(nurse.id)))
            assert "Welcome" in (fake.last_message(nurse.id).text or "")
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
    assert await enrollment.load_nurse(db, config, nurse.id) is not None
    assert fake.calls_of("getUpdates"), "updates came by polling over HTTP"


async def test_a_slow_nurse_does_not_stall_others_and_each_chat_stays_in_order(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    bea = await harness.enroll("Bea")
    release = asyncio.Event()
    order: list[str] = []

    async def slow(update: Update, _: object) -> None:
        order.append("ana:slow:start")
        await release.wait()
        order.append("ana:slow:end")
        raise ApplicationHandlerStop

    harness.app.add_handler(MessageHandler(filters.Regex("^slow$"), slow), group=-50)
    queue = harness.app.update_queue

    def put(user: object, text: str) -> Awaitable[None]:
        data = harness.fake.private_text(user, text)  # type: ignore[arg-type]
        return queue.put(Update.de_json(data, harness.app.bot))

    harness.fake.clear_calls()
    await put(ana, "slow")
    await put(ana, "/help")
    await put(bea, "/help")
    await _until(
        lambda: (
            len(harness.fake.sent_messages(bea.id)) > 0
            and any(
                c.method == "sendMessage" and c.params.get("chat_id") == bea.id
                for c in harness.fake.calls
            )
        )
    )
    ana_replies = [c for c in harness.fake.calls if c.params.get("chat_id") == ana.id]
    assert ana_replies == [], "Ana's /help waits behind her slow message"
    assert order == ["ana:slow:start"]
    release.set()
    await _until(lambda: any(c.params.get("chat_id") == ana.id for c in harness.fake.calls))
    assert order == ["ana:slow:start", "ana:slow:end"]


async def test_debug_logging_never_holds_the_token_or_a_patient_name(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    root_level = logging.getLogger().level
    configure_logging(logging.DEBUG, harness.fake.token)  # as `casebot -v run` does
    caplog.set_level(logging.DEBUG)
    nurse = await harness.enroll("Ana")
    async with harness.db.uow() as session:
        from sqlalchemy import select

        from storage.models import Nurse

        row = await session.scalar(select(Nurse).where(Nurse.telegram_user_id == nurse.id))
        assert row is not None
        await patients.create_patient(
            session,
            nurse_id=row.id,
            team_id=row.team_id,
            display_name=CANARY,
            now=harness.clock.now(),
        )

    async def explode(update: Update, _: object) -> None:
        raise ValueError(f"could not log {CANARY}")

    harness.app.add_handler(MessageHandler(filters.Regex("^explode"), explode), group=-50)
    await harness.send(nurse, f"called {CANARY} re insulin, f/u Friday")
    await harness.send(nurse, f"explode {CANARY}")
    assert "Sorry, something went wrong" in harness.last_text(nurse)
    stranger = harness.fake.user(first_name="Eve")
    await harness.send(stranger, f"what about {CANARY}?")
    logging.getLogger("casebot.test").info("token is %s", harness.fake.token)

    assert caplog.records, "the flow logged something"
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        if record.exc_info:
            text += repr(record.exc_info[1])
        assert harness.fake.token not in text, record.name
        assert "Canarywhistle" not in text, record.name
    assert any("[REDACTED]" in r.getMessage() for r in caplog.records)
    assert any(r.name == "casebot.errors" for r in caplog.records)
    logging.getLogger().setLevel(root_level)

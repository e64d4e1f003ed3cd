"""Webhook mode (bot.app.webhook.ConfirmingWebhook) over real HTTP on loopback: Telegram's call is
answered only after the update was handled, so a crash mid-handling makes Telegram send it
again; a redelivered update is logged once; calls without the secret token are refused."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import ApplicationHandlerStop, MessageHandler, filters

from bot.app.webhook import SECRET_HEADER, ConfirmingWebhook
from storage.models import Contact
from tests.fakes.telegram import FakeTelegram
from tests.harness import Harness
from tests.procs import start_bot
from tests.reminder_support import add_patient

SECRET = "s3cret-token-for-webhook-tests"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def hook(harness: Harness) -> AsyncIterator[ConfirmingWebhook]:
    webhook = ConfirmingWebhook(
        harness.app,
        listen="127.0.0.1",
        port=_free_port(),
        path="telegram",
        webhook_url="https://bot.example.org/telegram",
        secret_token=SECRET,
    )
    await webhook.start()
    try:
        yield webhook
    finally:
        await webhook.stop()


def _url(hook: ConfirmingWebhook, path: str = "/telegram") -> str:
    return f"http://127.0.0.1:{hook.port}{path}"


async def _contacts(harness: Harness) -> int:
    async with harness.db.uow(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(Contact)) or 0)


async def test_calls_without_the_secret_token_are_refused_and_not_processed(
    harness: Harness, hook: ConfirmingWebhook
) -> None:
    stranger = harness.fake.user(first_name="Eve")
    update = harness.fake.private_text(stranger, "hello")
    async with httpx.AsyncClient() as client:
        missing = await client.post(_url(hook), json=update)
        wrong = await client.post(_url(hook), json=update, headers={SECRET_HEADER: "nope"})
        assert (missing.status_code, wrong.status_code) == (403, 403)
        assert not harness.fake.sent_messages(stranger.id), "nothing was processed"
        garbage = await client.post(
            _url(hook), content=b"not json", headers={SECRET_HEADER: SECRET}
        )
        assert garbage.status_code == 400
        right = await client.post(_url(hook), json=update, headers={SECRET_HEADER: SECRET})
        assert right.status_code == 200
    # Answered after handling: the stranger's refusal was sent before the 200.
    assert harness.fake.sent_messages(stranger.id)
    assert harness.fake.webhook is not None
    assert harness.fake.webhook.get("secret_token") == SECRET
    assert harness.fake.webhook.get("drop_pending_updates") is False  # keep what Telegram holds


async def test_telegram_gets_its_answer_only_after_the_handlers_finish(
    harness: Harness, hook: ConfirmingWebhook
) -> None:
    ana = await harness.enroll("Ana")
    release = asyncio.Event()

    async def slow(_update: Update, _context: object) -> None:
        await release.wait()
        raise ApplicationHandlerStop

    harness.app.add_handler(MessageHandler(filters.Regex("^slow$"), slow), group=-200)
    update = harness.fake.private_text(ana, "slow")
    async with httpx.AsyncClient() as client:
        call = asyncio.create_task(
            client.post(_url(hook), json=update, headers={SECRET_HEADER: SECRET})
        )
        await asyncio.sleep(0.5)
        assert not call.done(), "no answer while the update is being handled"
        release.set()
        response = await asyncio.wait_for(call, 10)
    assert response.status_code == 200


async def test_a_logged_message_is_saved_before_the_answer_and_once_when_sent_again(
    harness: Harness, hook: ConfirmingWebhook
) -> None:
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    update = harness.fake.private_text(ana, "spoke with Maria Lopez re insulin, f/u Fri")
    async with httpx.AsyncClient() as client:
        first = await client.post(_url(hook), json=update, headers={SECRET_HEADER: SECRET})
        assert first.status_code == 200
        assert await _contacts(harness) == 1  # committed before Telegram heard "200"
        assert "Saved" in harness.last_text(ana)
        # Telegram sends it again when our answer was lost (a crash, a timeout): logged once.
        again = await client.post(_url(hook), json=update, headers={SECRET_HEADER: SECRET})
        assert again.status_code == 200
    assert await _contacts(harness) == 1


async def test_health_check_answers_for_load_balancers(hook: ConfirmingWebhook) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(_url(hook, "/healthz"))
    assert (response.status_code, response.text) == (200, "ok")


@pytest.mark.slow
async def test_casebot_run_in_webhook_mode_serves_and_stops_cleanly(tmp_path: Path) -> None:
    """The real process: `casebot run` with telegram.mode = "webhook" registers the webhook,
    answers a stranger through it, and exits 0 on SIGTERM."""
    fake = FakeTelegram()
    port = _free_port()
    async with fake.http_server() as api:
        env = {
            "CASEBOT_TELEGRAM_TOKEN": fake.token,
            "CASEBOT_TELEGRAM_BASE_URL": api,
            "CASEBOT_TELEGRAM_MODE": "webhook",
            "CASEBOT_TELEGRAM_WEBHOOK_URL": "https://bot.example.org",
            "CASEBOT_TELEGRAM_LISTEN": "127.0.0.1",
            "CASEBOT_TELEGRAM_PORT": str(port),
            "CASEBOT_TELEGRAM_SECRET_TOKEN": SECRET,
            "CASEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hook.db'}",
        }
        bot = start_bot(env, tmp_path)
        pump = asyncio.create_task(bot.pump())
        try:
            async with asyncio.timeout(30):
                while not bot.leads:  # noqa: ASYNC110 - polling another process's log
                    await asyncio.sleep(0.1)
            assert fake.webhook is not None
            assert fake.webhook["url"] == "https://bot.example.org/telegram"
            stranger = fake.user(first_name="Eve")
            async with httpx.AsyncClient() as client:
                response = await client.post(
                    f"http://127.0.0.1:{port}/telegram",
                    json=fake.private_text(stranger, "hello"),
                    headers={SECRET_HEADER: SECRET},
                )
            assert response.status_code == 200
            assert fake.sent_messages(stranger.id), "answered before the 200"
        finally:
            bot.terminate()
            await pump
    assert bot.proc.returncode == 0

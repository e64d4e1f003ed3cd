"""Voice notes at their limits, through the fake Telegram: off by configuration, without the
[voice] extra or without the model; the pool full (busy, before any download) while other
nurses' typed messages are still answered; and, over real HTTP, the bot token (in every file
URL) never reaching the logs. The queue tests hold a worker with a gated transcriber: they are
about the pool, not the model."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.render import voice as render
from bot.voice import EXTRAS_KEY, Voice
from bot.voice.engine import WhisperTranscriber
from storage.db import Database
from tests.conftest import test_config
from tests.fakes.telegram import FakeTelegram
from tests.harness import Harness
from tests.voice_support import (
    CASELOAD,
    GatedTranscriber,
    add_caseload,
    fixture_note,
    install_pool,
    running_app,
    until,
)


async def test_voice_off_in_the_configuration_is_answered_without_a_download(
    fake: FakeTelegram, db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    config = test_config(tmp_path, CASEBOT_TELEGRAM_TOKEN=fake.token, CASEBOT_VOICE_ENABLED="false")
    async with running_app(config, db, clock, request=fake.request()) as app:
        harness = Harness(fake=fake, app=app, db=db, clock=clock)
        ana = await harness.enroll("Ana")
        calls = await fake.send_voice(app, ana, fixture_note("maria_better.ogg").audio, duration=5)
        voice = app.services.extras[EXTRAS_KEY]
    assert harness.fake.last_message(ana.id).source == render.VOICE_OFF
    assert [c.method for c in calls] == ["sendMessage"]
    assert fake.file_downloads == []
    assert isinstance(voice, Voice)
    assert voice.off_reason == "[voice] enabled = false"


async def test_without_the_voice_extra_voice_notes_are_off(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # as if never installed
    ana = await harness.enroll("Ana")
    await harness.fake.send_voice(
        harness.app, ana, fixture_note("maria_better.ogg").audio, duration=5
    )
    assert harness.fake.last_message(ana.id).source == render.VOICE_OFF
    assert harness.fake.file_downloads == []
    voice = harness.app.services.extras[EXTRAS_KEY]
    assert "faster_whisper" in (voice.off_reason or "")


async def test_a_missing_model_turns_voice_off_instead_of_reaching_the_network(
    fake: FakeTelegram,
    db: Database,
    clock: ManualClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    empty = tmp_path / "model"
    empty.mkdir()
    config = test_config(
        tmp_path, CASEBOT_TELEGRAM_TOKEN=fake.token, CASEBOT_VOICE_MODEL_PATH=str(empty)
    )
    async with running_app(config, db, clock, request=fake.request()) as app:
        harness = Harness(fake=fake, app=app, db=db, clock=clock)
        ana = await harness.enroll("Ana")
        await fake.send_voice(app, ana, fixture_note("maria_better.ogg").audio, duration=5)
    assert harness.fake.last_message(ana.id).source == render.VOICE_OFF
    assert "voice notes are off: the Whisper model file" in caplog.text


async def test_a_full_queue_answers_busy_before_downloading_and_typing_is_not_held(
    harness: Harness,
) -> None:
    gated = GatedTranscriber("Called Maria Lopez, doing better, f/u Friday.")
    pool = install_pool(harness.app, gated, workers=1, queue=1)
    fake, app = harness.fake, harness.app
    nurses = [await harness.enroll(name) for name in ("Ana", "Bea", "Cleo")]
    for nurse in nurses:
        await add_caseload(harness, nurse, CASELOAD)
    audio = fixture_note("maria_better.ogg").audio
    try:
        first = asyncio.create_task(fake.feed(app, fake.voice_message(nurses[0], content=audio)))
        await until(lambda: pool.running == 1, "the first note holds the worker")
        second = asyncio.create_task(fake.feed(app, fake.voice_message(nurses[1], content=audio)))
        await until(lambda: len(fake.file_downloads) == 2, "the second note waits in the queue")
        assert harness.last_text(nurses[1]) == render.transcribing(1)

        calls = await fake.send_voice(app, nurses[2], audio, duration=5)
        assert harness.last_text(nurses[2]) == render.BUSY
        assert [c.method for c in calls] == ["sendMessage"]  # no getFile, no download
        assert len(fake.file_downloads) == 2

        # The event loop is free: a typed message is answered while the worker is busy.
        await harness.send(nurses[2], "called Harold Jensen, doing well, f/u Friday")
        assert "✅ Saved: Phone call with Harold Jensen, reached." in harness.last_text(nurses[2])
        assert not first.done()
        assert pool.running == 1
    finally:
        gated.gate.set()
    await asyncio.gather(first, second)
    pool.close()
    for nurse in nurses[:2]:
        assert "I read: Phone call with Maria Lopez, reached" in harness.last_text(nurse)
    assert pool.admitted == 0
    # The model was given each nurse's patient names.
    assert all(set(names) == set(CASELOAD) for _size, names in gated.heard)


async def test_the_bot_token_in_file_urls_never_reaches_the_logs(
    fake: FakeTelegram,
    db: Database,
    clock: ManualClock,
    tmp_path: Path,
    whisper: WhisperTranscriber,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Over real HTTP (PTB's httpx client), with httpx turned up to log every request URL:
    the token is redacted from every record, downloads that fail included."""
    caplog.set_level(logging.DEBUG)
    async with fake.http_server() as base_url:
        config = test_config(
            tmp_path,
            CASEBOT_TELEGRAM_TOKEN=fake.token,
            CASEBOT_TELEGRAM_BASE_URL=base_url,
            CASEBOT_TELEGRAM_BASE_FILE_URL=fake.http_base_file_url or "",
        )
        async with running_app(config, db, clock) as app:
            caplog.set_level(logging.INFO, logger="httpx")  # an operator turned it up
            pool = install_pool(app, whisper)
            harness = Harness(fake=fake, app=app, db=db, clock=clock)
            ana = await harness.enroll("Ana")
            await add_caseload(harness, ana, CASELOAD)
            audio = fixture_note("maria_better.ogg").audio
            await fake.send_voice(app, ana, audio, duration=5)
            await harness.press(ana, render.SAVE)
            assert "✅ Saved: Phone call with Maria Lopez" in harness.last_text(ana)
            for status in (404, 500):
                fake.fail_file_downloads(status)
                await fake.send_voice(app, ana, audio, duration=5)
                assert harness.last_text(ana) == render.DOWNLOAD_FAILED
            pool.close()
    assert len(fake.file_downloads) == 3
    secret = fake.token.split(":", 1)[1]
    assert secret not in caplog.text
    # The downloads were logged (the only GETs: API calls are POSTs), URL and all scrubbed.
    file_requests = [r for r in caplog.records if "HTTP Request: GET" in r.getMessage()]
    assert len(file_requests) == 3
    assert all("GET <URL>" in r.getMessage() for r in file_requests)
    assert "voice note download failed: " in caplog.text

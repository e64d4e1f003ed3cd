"""Shared fixtures: configuration, clock, databases (SQLite always, PostgreSQL when set up)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.app.context import CasebotApplication
from bot.app.factory import build_application
from bot.clock import ManualClock
from bot.config import Config, load_config
from storage.db import Database
from tests.clocks import BASE_START, RunningClock, parse_clock_at, start_at
from tests.dbutil import PG_SKIP_REASON, fresh_database, pg_url
from tests.fakes.telegram import FakeTelegram
from tests.harness import Harness

if TYPE_CHECKING:
    from bot.voice.engine import WhisperTranscriber

TOKEN = "123456789:AAFakeTokenForTests_abcdefghijklmnopq"
# Mon 23 Nov 2026, 10:15 in America/Chicago, unless `--clock-at HH:MM` moves it (tests/clocks.py).
START = BASE_START


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-at",
        metavar="HH:MM",
        default=None,
        help="run the tests at this local time of day (America/Chicago), e.g. 03:00 or 23:30",
    )


def pytest_configure(config: pytest.Config) -> None:
    global START
    at = config.getoption("--clock-at", default=None)
    START = start_at(parse_clock_at(at) if at else None)


def running_clock() -> RunningClock:
    """A real-time clock starting at START (for tests that time real timers)."""
    return RunningClock(START)


def test_config(tmp_path: Path, **overrides: str) -> Config:
    env = {
        "CASEBOT_TELEGRAM_TOKEN": TOKEN,
        "CASEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'casebot.db'}",
        # Flood control paces in real time; its own tests turn it back on.
        "CASEBOT_LIMITS_FLOOD_MESSAGES": "1000000",
        "CASEBOT_AUDIT_CHECKPOINT_FILE": str(tmp_path / "audit-checkpoints.jsonl"),
        **overrides,
    }
    return load_config(None, environ=env)


test_config.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def db_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    if kind == "postgres" and pg_url() is None:
        pytest.skip(PG_SKIP_REASON)
    return kind


@pytest.fixture
async def db(db_kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    async with fresh_database(db_kind, tmp_path) as database:
        yield database


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    async with fresh_database("sqlite", tmp_path) as database:
        yield database


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return test_config(tmp_path)


# --------------------------------------------------------------------------- the bot, end to end


@pytest.fixture
def fake(clock: ManualClock) -> FakeTelegram:
    return FakeTelegram(clock=clock.now)  # message dates on the test's clock, not the wall


@pytest.fixture
async def app(
    fake: FakeTelegram, db: Database, clock: ManualClock, tmp_path: Path
) -> AsyncIterator[CasebotApplication]:
    config = test_config(tmp_path, CASEBOT_TELEGRAM_TOKEN=fake.token)
    application = build_application(
        config,
        db=db,
        clock=clock,
        request=fake.request(),
        get_updates_request=fake.request(),
        dispatch=False,  # tests run dispatcher passes themselves, at the clock they set
    )
    await application.initialize()
    if application.post_init is not None:  # as run_polling/run_webhook do
        await application.post_init(application)
    await application.start()
    try:
        yield application
    finally:
        await application.stop()
        await application.shutdown()


@pytest.fixture
def harness(
    fake: FakeTelegram, app: CasebotApplication, db: Database, clock: ManualClock
) -> Harness:
    return Harness(fake=fake, app=app, db=db, clock=clock)


@pytest.fixture(scope="session")
def whisper() -> WhisperTranscriber:
    """The real speech engine with the pinned model, loaded once per test process."""
    from tests.voice_support import load_whisper

    return load_whisper()

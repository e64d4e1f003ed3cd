"""Fixtures for the reliability suite: the real Application with chosen config overrides, and
the handlers of issue 6 (flood control, idle lock) registered whether or not register_all
has them yet."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from bot.app.factory import build_application
from bot.clock import ManualClock
from handlers import flood, lock
from storage.db import Database
from tests.conftest import test_config
from tests.fakes.telegram import FakeTelegram
from tests.harness import Harness

HarnessFactory = Callable[..., AbstractAsyncContextManager[Harness]]


@asynccontextmanager
async def running_harness(
    fake: FakeTelegram,
    db: Database,
    clock: ManualClock,
    tmp_path: Path,
    *,
    rate_limiter: bool = True,
    **env: str,
) -> AsyncIterator[Harness]:
    """A started Application on `db`, talking to `fake` in process (no dispatcher job).

    rate_limiter=False drops PTB's AIORateLimiter (30 sends a second overall), for tests that
    push thousands of updates and do not test Telegram's limits.
    """
    # Tests send far faster than a nurse types: flood control only where a test asks for it.
    env = {"CASEBOT_LIMITS_FLOOD_MESSAGES": "1000000", **env}
    config = test_config(tmp_path, CASEBOT_TELEGRAM_TOKEN=fake.token, **env)
    app = build_application(
        config,
        db=db,
        clock=clock,
        request=fake.request(),
        get_updates_request=fake.request(),
        dispatch=False,
        rate_limiter=rate_limiter,
    )
    flood.register(app)
    lock.register(app)
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    try:
        yield Harness(fake=fake, app=app, db=db, clock=clock)
    finally:
        await app.stop()
        await app.shutdown()


@pytest.fixture
def make_harness(
    fake: FakeTelegram, db: Database, clock: ManualClock, tmp_path: Path
) -> HarnessFactory:
    """`async with make_harness(CASEBOT_PRIVACY_IDLE_LOCK_MINUTES="15") as h:`."""

    def factory(**env: str) -> AbstractAsyncContextManager[Harness]:
        return running_harness(fake, db, clock, tmp_path, **env)

    return factory

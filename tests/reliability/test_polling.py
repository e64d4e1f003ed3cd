"""The poller under Telegram's surprises, floods and crashes, driving the real Application
through the fake Telegram (in process; `casebot run` processes over HTTP where the exit status
matters).

Each test names a fault of issue 14/16 and checks behaviour, not timing: what the nurse sees,
what is kept, that polling goes on."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.app.context import CasebotApplication
from bot.app.factory import build_application
from bot.app.health import Health
from bot.app.polling import SET_ASIDE_NOTICE, Poller, PollerSettings, PollStatus
from bot.app.runner import EXIT_WATCHDOG, Leadership, PollingStopped, serve
from bot.clock import ManualClock
from bot.render import messages
from bot.services.flood import NOT_SAVED, NOT_SAVED_RUN, SLOW_DOWN, FloodControl
from handlers.flood import EXTRAS_KEY as FLOOD_KEY
from storage.db import Database
from storage.models import AuditEvent, Contact, DeadLetter, InboundUpdate
from tests.conftest import test_config
from tests.dbutil import PG_SKIP_REASON, fresh_database, pg_url
from tests.fakes.telegram import FakeTelegram, FakeUser
from tests.harness import Harness
from tests.procs import start_bot
from tests.reliability.conftest import HarnessFactory
from tests.reminder_support import add_patient

# Fast backoffs: tests check the planned waits, and do not wait long for them.
FAST = PollerSettings(
    timeout=1,
    network_backoff=(0.01, 0.05),
    conflict_backoff=(0.01, 0.05),
    database_backoff=(0.01, 0.05),
)
HELP = "What I understand"
CANARY_PATIENT = "Zebulon Canarywhistle"
CANARY_NURSE = "Philomena"
CANARY_SURNAME = "Canaryfeather"


async def until(check: Callable[[], bool], seconds: float = 60) -> None:
    """Wait (at most `seconds`) until `check()` holds."""
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 - the fake's state has no event to await
            await asyncio.sleep(0.01)


async def until_async(check: Callable[[], Awaitable[bool]], seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - another task's effect
            await asyncio.sleep(0.05)


@asynccontextmanager
async def polling(h: Harness, **overrides: int) -> AsyncIterator[Poller]:
    """The poller on the harness's Application, as `casebot run` starts it (fast backoffs)."""
    poller = Poller(h.app, settings=replace(FAST, **overrides), rng=random.Random(5))
    await poller.start()
    try:
        yield poller
    finally:
        await poller.stop()


def texts(h: Harness, user: FakeUser) -> list[str]:
    return [m.text or "" for m in h.fake.sent_messages(user.id)]


def count(h: Harness, user: FakeUser, part: str) -> int:
    return sum(part in t for t in texts(h, user))


def helps(h: Harness, user: FakeUser) -> int:
    """/help answers (enrollment's last reply also contains the help text, after other text)."""
    return sum(t.startswith(HELP) for t in texts(h, user))


def plain(html: str) -> str:
    return html.replace("<b>", "").replace("</b>", "")


async def dead_letters(db: Database) -> list[DeadLetter]:
    async with db.uow(read_only=True) as session:
        return list(await session.scalars(select(DeadLetter).order_by(DeadLetter.id)))


async def backlog_rows(db: Database) -> int:
    async with db.uow(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(InboundUpdate)) or 0)


async def contact_notes(db: Database) -> list[str]:
    async with db.uow(read_only=True) as session:
        return [n or "" for n in await session.scalars(select(Contact.note).order_by(Contact.id))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _lock_key() -> int:
    """A leadership lock of this test's own: PostgreSQL tests share one database."""
    return random.randrange(1, 2**31)


def _app(
    fake: FakeTelegram, db: Database, clock: ManualClock, tmp_path: Path, **env: str
) -> CasebotApplication:
    config = test_config(tmp_path, CASEBOT_TELEGRAM_TOKEN=fake.token, **env)
    return build_application(
        config,
        db=db,
        clock=clock,
        request=fake.request(),
        get_updates_request=fake.request(),
        dispatch=False,
    )


# -- Telegram's answers to getUpdates ------------------------------------------------------------


async def test_a_409_conflict_mid_run_is_logged_once_and_polling_goes_on(
    make_harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with make_harness() as h:
        ana = await h.enroll("Ana")
        async with polling(h) as poller:
            h.fake.enqueue(h.fake.private_text(ana, "/help"))
            await until(lambda: helps(h, ana) == 1)
            h.fake.inject("getUpdates", "409", times=3)  # a second poller with our token
            await until(lambda: h.fake.fault_counts["409"] == 3)
            h.fake.enqueue(h.fake.private_text(ana, "/help"))
            await until(lambda: helps(h, ana) == 2)
            assert poller.running
            assert (poller.conflicts, poller.in_conflict) == (3, False)
            waits = [seconds for reason, seconds in poller.waits if reason == "conflict"]
    # Backed off exponentially (with jitter) from 10 ms: each wait in [c/2, c], c doubling.
    assert len(waits) == 3
    for wait, ceiling in zip(waits, (0.01, 0.02, 0.04), strict=True):
        assert ceiling / 2 <= wait <= ceiling
    lines = [r.getMessage() for r in caplog.records if "another instance" in r.getMessage()]
    assert len(lines) == 1, "logged once for the whole episode"
    assert h.fake.token not in lines[0]


async def test_timeouts_5xx_and_retry_after_are_retried_as_telegram_asks(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness() as h:
        ana = await h.enroll("Ana")
        h.fake.inject("getUpdates", "5xx", times=2)
        h.fake.inject("getUpdates", "timeout")
        h.fake.inject("getUpdates", "429", retry_after=1)
        h.fake.enqueue(h.fake.private_text(ana, "/help"))
        async with polling(h) as poller:
            await until(lambda: helps(h, ana) == 1)
            planned = list(poller.waits)
    network = [s for r, s in planned if r == "network"]
    assert [r for r, _ in planned][:4] == ["network", "network", "network", "retry_after"]
    for wait, ceiling in zip(network, (0.01, 0.02, 0.04), strict=True):
        assert ceiling / 2 <= wait <= ceiling
    assert ("retry_after", 1.0) in planned, "Telegram's retry_after is honoured as given"


@pytest.mark.postgres
async def test_on_postgresql_a_409_hands_update_handling_to_the_standby(
    fake: FakeTelegram, clock: ManualClock, tmp_path: Path
) -> None:
    if pg_url() is None:
        pytest.skip(PG_SKIP_REASON)
    async with fresh_database("postgres", tmp_path) as db:
        app = _app(fake, db, clock, tmp_path)
        key = _lock_key()
        standby = Leadership(db, key=key)
        stop = asyncio.Event()
        running = asyncio.create_task(serve(app, stop=stop, lock_key=key))
        try:
            await until(lambda: bool(fake.calls_of("getUpdates")))
            assert not await standby.try_acquire(), "the leader holds the lock while it polls"
            fake.inject("getUpdates", "409")
            await until_async(standby.try_acquire)
            health = app.services.extras["health"]
            assert isinstance(health, Health)
            await until(lambda: health.role == "standby")
        finally:
            stop.set()
            await running
            await standby.release()


async def test_the_watchdog_ends_a_sqlite_process_whose_polling_keeps_failing(
    fake: FakeTelegram, sqlite_db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    app = _app(fake, sqlite_db, clock, tmp_path, CASEBOT_TELEGRAM_POLL_WATCHDOG_SECONDS="1")
    fake.inject("getUpdates", "5xx", times=1_000_000)
    with pytest.raises(PollingStopped) as stopped:
        await asyncio.wait_for(serve(app, lock_key=_lock_key()), 60)
    assert stopped.value.status == EXIT_WATCHDOG
    assert "watchdog" in str(stopped.value)
    assert "NetworkError" in str(stopped.value), "the line names the last failure"


@pytest.mark.postgres
async def test_on_postgresql_the_watchdog_hands_leadership_over(
    fake: FakeTelegram, clock: ManualClock, tmp_path: Path
) -> None:
    if pg_url() is None:
        pytest.skip(PG_SKIP_REASON)
    async with fresh_database("postgres", tmp_path) as db:
        app = _app(fake, db, clock, tmp_path, CASEBOT_TELEGRAM_POLL_WATCHDOG_SECONDS="1")
        fake.inject("getUpdates", "5xx", times=1_000_000)
        key = _lock_key()
        standby = Leadership(db, key=key)
        stop = asyncio.Event()
        running = asyncio.create_task(serve(app, stop=stop, lock_key=key))
        try:
            await until(lambda: bool(fake.calls_of("getUpdates")))
            await until_async(standby.try_acquire)
        finally:
            stop.set()
            await running
            await standby.release()


@pytest.mark.slow
async def test_casebot_run_exits_with_one_clear_line_when_the_token_is_refused(
    tmp_path: Path,
) -> None:
    fake = FakeTelegram()
    async with fake.http_server() as api:
        env = {
            "CASEBOT_TELEGRAM_TOKEN": fake.token,
            "CASEBOT_TELEGRAM_BASE_URL": api,
            "CASEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'token.db'}",
        }
        fake.inject("getUpdates", "401")  # the token was revoked while the bot runs
        bot = start_bot(env, tmp_path)
        _, err = await asyncio.to_thread(bot.proc.communicate, None, 60)
    lines = err.decode().strip().splitlines()
    assert bot.proc.returncode == 2
    assert lines[-1].startswith("casebot: Telegram refused the bot token"), lines[-3:]
    assert "Traceback" not in err.decode()
    assert fake.token not in err.decode()


@pytest.mark.slow
async def test_casebot_run_exits_non_zero_when_the_watchdog_fires(tmp_path: Path) -> None:
    fake = FakeTelegram()
    async with fake.http_server() as api:
        env = {
            "CASEBOT_TELEGRAM_TOKEN": fake.token,
            "CASEBOT_TELEGRAM_BASE_URL": api,
            "CASEBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'dog.db'}",
            "CASEBOT_TELEGRAM_POLL_WATCHDOG_SECONDS": "2",
        }
        fake.inject("getUpdates", "5xx", times=1_000_000)
        bot = start_bot(env, tmp_path)
        _, err = await asyncio.to_thread(bot.proc.communicate, None, 60)
    assert bot.proc.returncode == EXIT_WATCHDOG
    assert err.decode().strip().splitlines()[-1].startswith("casebot: watchdog:")
    assert "Traceback" not in err.decode()


async def test_healthz_reports_the_leaders_last_successful_poll(
    fake: FakeTelegram, sqlite_db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    port = _free_port()
    app = _app(fake, sqlite_db, clock, tmp_path, CASEBOT_TELEGRAM_HEALTH_PORT=str(port))
    stop = asyncio.Event()
    running = asyncio.create_task(serve(app, stop=stop, lock_key=_lock_key()))
    try:
        await until(lambda: len(fake.calls_of("getUpdates")) >= 2)
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/healthz")
    finally:
        stop.set()
        await running
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["role"], body["mode"]) == ("ok", "leader", "polling")
    assert body["polling"]["ever_succeeded"] is True
    assert body["polling"]["seconds_since_success"] < 120


def test_health_is_503_when_the_last_successful_poll_is_older_than_the_watchdog() -> None:
    def status(age: float) -> Callable[[], PollStatus]:
        return lambda: PollStatus(
            running=True,
            seconds_since_success=age,
            ever_succeeded=True,
            in_conflict=False,
            last_failure="TimedOut",
            backlog=0,
            dead_letters=0,
            fatal=None,
        )

    health = Health(mode="polling", process_id="p", watchdog_seconds=120, role="leader")
    health.poll_status = status(5.0)
    assert health.report()[0] == 200
    health.poll_status = status(121.0)
    code, body = health.report()
    assert (code, body["status"], body["polling"]["last_failure"]) == (503, "unhealthy", "TimedOut")
    assert (
        Health(mode="polling", process_id="p", watchdog_seconds=1, role="standby").report()[0]
        == 200
    )


# -- poison updates and crashes ------------------------------------------------------------------


async def test_an_unreadable_update_is_set_aside_and_polling_moves_past_it_for_good(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness() as h:
        ana = await h.enroll("Ana")
        await add_patient(h, ana, "Maria Lopez")
        h.fake.enqueue(h.fake.private_text(ana, "spoke with Maria Lopez re before, f/u Fri"))
        poison = h.fake.enqueue(h.fake.malformed_text(ana, f"called {CANARY_PATIENT} re poison"))
        h.fake.enqueue(h.fake.private_text(ana, "spoke with Maria Lopez re after, f/u Fri"))
        async with polling(h):
            await until(lambda: count(h, ana, "Saved") == 2 and bool(h.fake.updates) is False)
            await until(lambda: count(h, ana, plain(SET_ASIDE_NOTICE)) == 1)
        rows = await dead_letters(h.db)
        assert [(r.update_id, r.chat_id, r.stage, r.error) for r in rows] == [
            (poison["update_id"], ana.id, "parse", "KeyError")
        ]
        assert CANARY_PATIENT not in repr([vars(r) for r in rows]), "never its text"
        notes = await contact_notes(h.db)
        assert ["before" in notes[0], "after" in notes[1]] == [True, True]
        # A restart: the unreadable update was confirmed and is not fetched again.
        h.fake.enqueue(h.fake.private_text(ana, "/help"))
        async with polling(h) as again:
            await until(lambda: helps(h, ana) == 1)
            assert again.dead_letters == 0
        assert len(await dead_letters(h.db)) == 1
        assert count(h, ana, plain(SET_ASIDE_NOTICE)) == 1
        assert await backlog_rows(h.db) == 0


async def test_an_update_that_kills_the_process_three_times_is_set_aside(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness() as h:
        ana = await h.enroll("Ana")
        bea = await h.enroll("Bea")
        entered = asyncio.Event()

        async def hang(_update: Update, _context: object) -> None:
            entered.set()
            await asyncio.Event().wait()  # the process dies in here

        h.app.add_handler(MessageHandler(filters.Regex("^hang"), hang), group=-50)
        h.fake.enqueue(h.fake.private_text(ana, "hang please"))
        h.fake.enqueue(h.fake.private_text(ana, "/help"))  # waits behind it, in her lane
        for crash in range(3):
            entered.clear()
            poller = Poller(h.app, settings=FAST)
            await poller.start()
            await asyncio.wait_for(entered.wait(), 30)
            await until(lambda: not h.fake.updates)  # confirmed to Telegram: it is ours now
            if crash == 1:  # meanwhile another nurse is answered
                h.fake.enqueue(h.fake.private_text(bea, "/help"))
                await until(lambda: helps(h, bea) == 1)
            await poller.abandon()  # kill -9
        assert helps(h, ana) == 0
        async with polling(h):
            await until(lambda: helps(h, ana) == 1)
        assert count(h, ana, plain(SET_ASIDE_NOTICE)) == 1
        rows = await dead_letters(h.db)
        assert [(r.chat_id, r.stage, r.attempts) for r in rows] == [(ana.id, "handle", 3)]
        assert await backlog_rows(h.db) == 0


async def test_a_crash_after_updates_were_confirmed_loses_none_of_them(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness() as h:
        ana = await h.enroll("Ana")
        await add_patient(h, ana, "Maria Lopez")
        held = asyncio.Event()

        async def stall(_update: Update, _context: object) -> None:
            await held.wait()

        stall_handler = MessageHandler(filters.Regex("^spoke"), stall)
        h.app.add_handler(stall_handler, group=-50)
        for n in range(5):
            h.fake.enqueue(h.fake.private_text(ana, f"spoke with Maria Lopez re kept-{n}, f/u Fri"))
        poller = Poller(h.app, settings=FAST)
        await poller.start()
        await until(lambda: not h.fake.updates)  # Telegram forgot them: all confirmed
        await poller.abandon()  # the process dies before handling any of them
        h.app.remove_handler(stall_handler, group=-50)
        async with polling(h):
            await until(lambda: count(h, ana, "Saved") == 5)
        notes = await contact_notes(h.db)
        assert [next(i for i in range(5) if f"kept-{i}" in n) for n in notes] == list(range(5))
        assert await backlog_rows(h.db) == 0


async def test_while_the_backlog_cannot_be_written_updates_are_confirmed_only_once_handled(
    make_harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with make_harness() as h:
        ana = await h.enroll("Ana")
        await add_patient(h, ana, "Maria Lopez")
        async with polling(h):
            h.fake.enqueue(h.fake.private_text(ana, "/help"))
            await until(lambda: helps(h, ana) == 1)
            async with h.db.uow() as session:  # the backlog table is gone (a schema fault)
                await session.execute(
                    text("ALTER TABLE inbound_updates RENAME TO inbound_elsewhere")
                )
            for n in range(3):
                h.fake.enqueue(
                    h.fake.private_text(ana, f"spoke with Maria Lopez re fallback-{n}, f/u Fri")
                )
            await until(lambda: count(h, ana, "Saved") == 3)
            await until(lambda: not h.fake.updates)  # confirmed, now that they are handled
            async with h.db.uow() as session:
                await session.execute(
                    text("ALTER TABLE inbound_elsewhere RENAME TO inbound_updates")
                )
            h.fake.enqueue(h.fake.private_text(ana, "spoke with Maria Lopez re back, f/u Fri"))
            await until(lambda: count(h, ana, "Saved") == 4)
        assert any("could not keep" in r.getMessage() for r in caplog.records)
        assert len(await contact_notes(h.db)) == 4
        assert await backlog_rows(h.db) == 0


# -- fair per nurse ------------------------------------------------------------------------------


async def test_a_300_message_burst_from_one_nurse_does_not_hold_up_another(
    make_harness: HarnessFactory,
) -> None:
    limits = {
        "CASEBOT_LIMITS_FLOOD_MESSAGES": "20",
        "CASEBOT_LIMITS_FLOOD_WINDOW_SECONDS": "10",
        "CASEBOT_LIMITS_FLOOD_MAX_DELAY_SECONDS": "60",
    }
    async with make_harness(**limits) as h:
        ana = await h.enroll("Ana")
        bea = await h.enroll("Bea")
        await add_patient(h, ana, "Maria Lopez")

        async def flood_sleep(seconds: float) -> None:
            # Ana's wait happens on the test's clock, once the whole burst has arrived.
            await until(lambda: not h.fake.updates)
            h.clock.advance(timedelta(seconds=seconds))

        services = h.app.services
        services.extras[FLOOD_KEY] = FloodControl(
            services.config.limits,
            monotonic=lambda: h.clock.now().timestamp(),
            sleep=flood_sleep,
        )
        burst = [
            h.fake.enqueue(
                h.fake.private_text(ana, f"spoke with Maria Lopez re burst-{n:03d}, f/u Fri")
            )
            for n in range(300)
        ]
        h.fake.enqueue(h.fake.private_text(bea, "/help"))
        async with polling(h, chat_window=20):
            await until(lambda: helps(h, bea) == 1)
            to_ana_before_bea = len(h.fake.sent_messages(ana.id))
            await until(lambda: count(h, ana, "in a row were NOT saved") == 1, seconds=120)
        # Bea's /help came after all 300 in Telegram's queue, and was answered long before
        # Ana's burst was through (a confirm-after-handling poller cannot even fetch it before
        # 200 of Ana's are done).
        assert to_ana_before_bea < 100
        notes = await contact_notes(h.db)
        saved = [next(int(w[6:9]) for w in n.split() if w.startswith("burst-")) for n in notes]
        assert saved == list(range(len(saved))), "her burst was handled in order"
        assert len(saved) == 140, "20 at once, 20 per 10 s while the wait is at most 60 s"
        ana_texts = texts(h, ana)
        assert ana_texts.count(SLOW_DOWN) == 1
        refused = [m for m in h.fake.sent_messages(ana.id) if m.text == plain(NOT_SAVED)]
        assert [m.reply_to_message_id for m in refused] == [burst[140]["message"]["message_id"]]
        run = [m for m in h.fake.sent_messages(ana.id) if "in a row" in (m.text or "")]
        assert run[0].text == plain(NOT_SAVED_RUN.format(count=160))
        assert run[0].reply_to_message_id == burst[299]["message"]["message_id"]
        assert await backlog_rows(h.db) == 0


async def test_600_messages_from_strangers_get_one_refusal_per_chat_and_few_audit_rows(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness() as h:
        ana = await h.enroll("Ana")
        strangers = [h.fake.user(first_name=f"Eve{i}") for i in range(3)]
        refused_before = (await h.audit_actions()).count("access.refused")
        for n in range(200):
            for stranger in strangers:
                h.fake.enqueue(h.fake.private_text(stranger, f"let me in {n}"))
        h.fake.enqueue(h.fake.private_text(ana, "/help"))
        async with polling(h) as poller:
            await until(lambda: helps(h, ana) == 1)
            await until(lambda: not h.fake.updates and poller.status().backlog == 0)
            assert [texts(h, s) for s in strangers] == [[messages.REFUSAL]] * 3
            refused = (await h.audit_actions()).count("access.refused") - refused_before
            assert refused == 3, "one audit row per stranger, not 600"
            # An hour later each gets one refusal again; the audit row counts the rest.
            h.clock.advance(timedelta(minutes=61))
            for stranger in strangers:
                h.fake.enqueue(h.fake.private_text(stranger, "hello?"))
            await until(lambda: all(len(texts(h, s)) == 2 for s in strangers))
        async with h.db.uow(read_only=True) as session:
            details = list(
                await session.scalars(
                    select(AuditEvent.detail)
                    .where(AuditEvent.action == "access.refused")
                    .order_by(AuditEvent.id)
                )
            )
        assert details[-3:] == [{"unanswered": 199}] * 3


# -- logs ----------------------------------------------------------------------------------------


async def test_no_log_line_at_any_level_holds_message_text_or_names(
    make_harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    import io

    from bot.app.logs import QUIET_LOGGERS, install_filters

    names = ["", *QUIET_LOGGERS, "telegram.ext", "telegram.Bot", "bot", "handlers"]
    levels = {name: logging.getLogger(name).level for name in names}
    out = io.StringIO()
    stream = logging.StreamHandler(out)
    stream.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(stream)
    install_filters()
    for name in names:  # everything at DEBUG, the libraries included
        logging.getLogger(name).setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        async with make_harness() as h:
            nurse = h.fake.user(first_name=CANARY_NURSE, last_name=CANARY_SURNAME)
            code = await h.invite(name=f"{CANARY_NURSE} {CANARY_SURNAME}")
            await h.send(nurse, f"/start {code}")
            await h.press(nurse, "Central")
            await h.press(nurse, "07:30")
            await add_patient(h, nurse, CANARY_PATIENT)

            async def explode(_update: Update, _context: object) -> None:
                raise ValueError(f"could not log {CANARY_PATIENT}")

            h.app.add_handler(MessageHandler(filters.Regex("^explode"), explode), group=-50)
            # PTB's own getUpdates on a batch with a bad update: it logs the batch at CRITICAL.
            h.fake.enqueue(h.fake.malformed_text(nurse, f"called {CANARY_PATIENT} (unreadable)"))
            with pytest.raises(KeyError):
                await h.app.bot.get_updates(timeout=0)
            h.fake.enqueue(h.fake.private_text(nurse, f"called {CANARY_PATIENT} re insulin"))
            h.fake.enqueue(h.fake.private_text(nurse, f"explode {CANARY_PATIENT}"))
            stranger = h.fake.user(first_name="Eve", last_name=CANARY_SURNAME)
            h.fake.enqueue(h.fake.private_text(stranger, f"tell me about {CANARY_PATIENT}"))
            async with polling(h) as poller:
                await until(lambda: count(h, nurse, "something went wrong") == 1)
                await until(lambda: not h.fake.updates and poller.dead_letters == 1)
                await until(lambda: bool(texts(h, stranger)))
    finally:
        root.removeHandler(stream)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    captured = [out.getvalue()] + [
        f"{r.getMessage()} {r.exc_text or ''} {r.exc_info!r}" for r in caplog.records
    ]
    assert any("CRITICAL telegram" in line for line in out.getvalue().splitlines()), (
        "PTB's batch dump was logged (and scrubbed)"
    )
    assert any("DEBUG telegram" in line for line in out.getvalue().splitlines())
    for secret in ("Canarywhistle", "Zebulon", CANARY_SURNAME, CANARY_NURSE, "insulin"):
        leaks = [line for line in captured if secret in line]
        assert not leaks, (secret, leaks[:1])

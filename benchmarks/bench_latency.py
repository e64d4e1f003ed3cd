"""Reply latency and fairness of polling: casebot against a bare PTB echo bot, in the same run.

Run: .venv/bin/python benchmarks/bench_latency.py [--messages 200] [--paced 40] [--no-write]
     (--quick: 30 + 8 messages and no burst, < 1 min, no write)

Both bots poll the fake Telegram served over HTTP on loopback with PTB's own HTTP client: casebot
through bot/app/polling.py's Poller (as `casebot run`), the echo bot through PTB's Updater. A
reply's latency is the time from the update being queued at the fake to the bot's sendMessage
reaching the fake. Scenarios:

1. back-to-back: one nurse sends her next message as soon as the reply to the last arrives;
2. paced: the same with 0.6 s between a reply and the next message;
3. burst: nurse A sends 300 contacts at once (flood control at its defaults: 20 per 10 s, at
   most 60 s of waiting); nurse B, meanwhile, logs a contact every 0.6 s after each reply. B's
   reply latency under A's burst is compared with B's unloaded latency (scenario 2's casebot run
   is B's unloaded baseline: same message kind, same pacing).

casebot logs each message as a contact (parse, one transaction with its audit event and
follow-up task, the "Saved" reply) or answers /help (no write). Flood control is lifted for
scenarios 1 and 2 (a nurse does not send 200 messages back to back; the pause would measure the
policy, not the path), and at its defaults for 3. PTB's AIORateLimiter is off for both bots (as
in bench_load.py): Telegram's ~30 messages/s per bot would pace the burst's replies and hide the
bot's own cost. Bot, fake and driver share one process and event loop, for every bot alike.
Writes the "## Reply latency and fairness" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, MessageHandler, filters  # noqa: E402

from bot.app.factory import build_application  # noqa: E402
from bot.app.polling import Poller  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.fakes.telegram import FakeTelegram, FakeUser  # noqa: E402
from tests.reliability.support import enroll_direct  # noqa: E402

DOC = ROOT / "docs/benchmarks.md"
SECTION = "## Reply latency and fairness"
AnyApp = Application[Any, Any, Any, Any, Any, Any]
PACE = 0.6
BURST = 300
PREVIOUS = (
    "For comparison, the previous poller (measured for issue 16 on this kind of machine): a "
    "quick second message waited p50 485 ms against 5.2 ms for the echo bot (a fixed 0.5 s "
    "pause while anything was in flight, two getUpdates calls per message), and another "
    "nurse's /help during a 300-message burst took 99.8 s."
)


@dataclass
class Series:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    get_updates: int = 0
    note: str = ""

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def p99(self) -> float:
        return self.pct(0.99)


class Replies:
    """Resolves a future per chat when the bot's next sendMessage to it reaches the fake."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.counts: dict[int, int] = {}
        self.texts: dict[int, list[str]] = {}
        self.original = fake._methods["sendmessage"]
        fake._methods["sendmessage"] = self._on_send

    def _on_send(self, params: dict[str, Any], files: Any) -> Any:
        result = self.original(params, files)
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            self.counts[chat_id] = self.counts.get(chat_id, 0) + 1
            self.texts.setdefault(chat_id, []).append(str(params.get("text", "")))
            future = self.waiting.pop(chat_id, None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())
        return result

    async def converse(
        self, user: FakeUser, texts: list[str], pause: float, series: Series
    ) -> None:
        """Closed loop: send, wait for the reply, wait `pause`, send the next."""
        loop = asyncio.get_running_loop()
        for text in texts:
            future: asyncio.Future[float] = loop.create_future()
            self.waiting[user.id] = future
            sent = time.perf_counter()
            self.fake.enqueue(self.fake.private_text(user, text))
            replied = await asyncio.wait_for(future, 300)
            series.latencies_ms.append((replied - sent) * 1000)
            if pause:
                await asyncio.sleep(pause)


@dataclass
class Casebot:
    fake: FakeTelegram
    app: AnyApp
    db: Database
    poller: Poller
    replies: Replies
    ana: FakeUser
    bea: FakeUser

    async def close(self) -> None:
        await self.poller.stop()
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        await self.app.stop()
        await self.app.shutdown()
        await self.fake.stop_http()
        await self.db.dispose()


async def start_casebot(workdir: Path, *, flood: bool, updater: bool = False) -> Casebot:
    fake = FakeTelegram(long_poll_cap=1.0)
    base_url = await fake.serve_http()
    url = f"sqlite+aiosqlite:///{workdir / f'latency-{time.monotonic_ns()}.db'}"
    env = {
        "CASEBOT_TELEGRAM_TOKEN": fake.token,
        "CASEBOT_TELEGRAM_BASE_URL": base_url,
        "CASEBOT_TELEGRAM_BASE_FILE_URL": fake.http_base_file_url or base_url,
        "CASEBOT_DATABASE_URL": url,
    }
    if not flood:
        env["CASEBOT_LIMITS_FLOOD_MESSAGES"] = "1000000"
    config = load_config(None, environ=env)
    db = Database(url)
    await upgrade(db)
    clock = SystemClock()
    ana, bea = fake.user(first_name="Ana"), fake.user(first_name="Bea")
    for user in (ana, bea):
        await enroll_direct(db, config, clock, user)
    app = build_application(config, db=db, clock=clock, rate_limiter=False, dispatch=False)
    await app.initialize()
    await app.start()
    poller = Poller(app)
    replies = Replies(fake)
    if updater:  # reference only: PTB's Updater confirms before handling (loses on a crash)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=10)
    else:
        await poller.start()
    return Casebot(fake, app, db, poller, replies, ana, bea)


async def run_echo(messages: int, pause: float, name: str) -> Series:
    fake = FakeTelegram(long_poll_cap=1.0)
    base_url = await fake.serve_http()
    app = ApplicationBuilder().token(fake.token).base_url(base_url).build()

    async def echo(update: Update, _context: Any) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    app.add_handler(MessageHandler(filters.TEXT, echo))
    replies = Replies(fake)
    user = fake.user(first_name="Ana")
    series = Series(name)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=10)
    try:
        await replies.converse(user, [f"echo {n}" for n in range(messages)], pause, series)
        series.get_updates = len(fake.calls_of("getUpdates"))
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await fake.stop_http()
    return series


async def run_casebot(
    workdir: Path,
    messages: int,
    pause: float,
    name: str,
    *,
    help_only: bool = False,
    updater: bool = False,
) -> Series:
    bot = await start_casebot(workdir, flood=False, updater=updater)
    series = Series(name)
    texts = (
        ["/help"] * messages
        if help_only
        else [f"called Maria Lopez re latency-{n:03d}, f/u Fri" for n in range(messages)]
    )
    try:
        before = len(bot.fake.calls_of("getUpdates"))
        await bot.replies.converse(bot.ana, texts, pause, series)
        series.get_updates = len(bot.fake.calls_of("getUpdates")) - before
    finally:
        await bot.close()
    return series


async def run_burst(workdir: Path, paced: int) -> tuple[Series, str]:
    bot = await start_casebot(workdir, flood=True)
    series = Series(f"nurse B under nurse A's {BURST}-message burst")
    fake = bot.fake
    try:
        started = time.perf_counter()
        for n in range(BURST):
            fake.enqueue(
                fake.private_text(bot.ana, f"called Maria Lopez re burst-{n:03d}, f/u Fri")
            )
        texts = [f"called Maria Lopez re bea-{n:03d}, f/u Fri" for n in range(paced)]
        await bot.replies.converse(bot.bea, texts, PACE, series)
        bea_done = time.perf_counter() - started

        def burst_answered() -> bool:
            return any("in a row were" in t for t in bot.replies.texts.get(bot.ana.id, []))

        async with asyncio.timeout(600):
            while not burst_answered():  # noqa: ASYNC110 - another task's effect
                await asyncio.sleep(0.1)
        burst_done = time.perf_counter() - started
        ana_texts = bot.replies.texts.get(bot.ana.id, [])
        saved = sum("Saved" in t for t in ana_texts)
        run = next(t for t in ana_texts if "in a row were" in t)
        refused = int(re.search(r"(\d+) in a row", run).group(1))  # type: ignore[union-attr]
        rest = Series("rest", series.latencies_ms[1:])
        note = (
            f"B's first message, queued right behind the {BURST} (it is fetched only after three "
            f"full batches are written to the backlog, while A's first 20 are being handled): "
            f"{series.latencies_ms[0]:.1f} ms; her other {len(rest.latencies_ms)}: p50 "
            f"{rest.p50:.1f} ms, p99 {rest.p99:.1f} ms. "
            f"A's burst: {saved} saved in order, {refused} refused with one NOT saved notice and "
            f"one count, answered in {burst_done:.1f} s; B's {paced} contacts were all answered "
            f"by {bea_done:.1f} s, before A's burst was through."
        )
    finally:
        await bot.close()
    return series, note


def machine() -> str:
    model = "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        found = re.search(r"Model name:\s*(.+)", out)
        if found:
            model = found.group(1).strip()
    except OSError:
        pass
    return (
        f"Machine: {model}, {os.cpu_count()} cores (shared with other work; load average at the "
        f"end {os.getloadavg()[0]:.1f}); {platform.platform()}; Python "
        f"{platform.python_version()}."
    )


def row(s: Series, base: Series | None = None) -> str:
    ratio = f"{s.p50 / base.p50:.1f}x / {s.p99 / base.p99:.1f}x" if base else "—"
    per = f"{s.get_updates / len(s.latencies_ms):.2f}" if s.get_updates else "—"
    return f"| {s.name} | {len(s.latencies_ms)} | {s.p50:.1f} | {s.p99:.1f} | {ratio} | {per} |"


def burst_reading(burst: tuple[Series, str] | None, unloaded: Series) -> str:
    if burst is None:
        return "(No burst: --quick.)"
    loaded, note = burst
    return (
        f"Nurse B under A's burst: p99 {loaded.p99:.1f} ms against her unloaded p99 "
        f"{unloaded.p99:.1f} ms = {loaded.p99 / unloaded.p99:.1f}x (target 2x); p50 "
        f"{loaded.p50 / unloaded.p50:.1f}x. " + note
    )


async def main_async(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory(prefix="casebot-latency-") as tmp:
        work = Path(tmp)
        steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("echo back-to-back", lambda: run_echo(args.messages, 0, "echo bot, back-to-back")),
            (
                "casebot back-to-back",
                lambda: run_casebot(work, args.messages, 0, "casebot contact, back-to-back"),
            ),
            (
                "casebot /help back-to-back",
                lambda: run_casebot(
                    work, args.messages, 0, "casebot /help, back-to-back", help_only=True
                ),
            ),
            (
                "casebot /help via PTB's Updater",
                lambda: run_casebot(
                    work,
                    args.messages,
                    0,
                    "casebot /help, back-to-back, PTB's Updater instead (reference)",
                    help_only=True,
                    updater=True,
                ),
            ),
            ("echo paced", lambda: run_echo(args.paced, PACE, "echo bot, 0.6 s apart")),
            (
                "casebot paced",
                lambda: run_casebot(work, args.paced, PACE, "casebot contact, 0.6 s apart"),
            ),
            (
                "casebot /help paced",
                lambda: run_casebot(
                    work, args.paced, PACE, "casebot /help, 0.6 s apart", help_only=True
                ),
            ),
            ("burst", lambda: run_burst(work, args.paced)),
        ]
        if args.quick:  # the burst lasts flood control's 60 s of waiting at least
            steps = steps[:-1]
        results: dict[str, Any] = {}
        for label, step in steps:
            print(f"running {label} ...", file=sys.stderr)
            results[label] = await step()
    echo_b2b, echo_paced = results["echo back-to-back"], results["echo paced"]
    cb_b2b, cb_help = results["casebot back-to-back"], results["casebot /help back-to-back"]
    cb_paced, cb_help_paced = results["casebot paced"], results["casebot /help paced"]
    cb_updater = results["casebot /help via PTB's Updater"]
    burst = results.get("burst")
    lines = [
        f"`.venv/bin/python benchmarks/bench_latency.py --messages {args.messages} --paced "
        f"{args.paced}`: reply latency (update queued at the fake -> the bot's sendMessage "
        "reaching it) through the fake Telegram over HTTP on loopback, casebot polling with "
        "bot/app/polling.py's Poller, the echo bot with PTB's Updater, in the same run (see the "
        "script's docstring for what each scenario sends).",
        "",
        "| series | replies | p50 ms | p99 ms | vs echo bot p50 / p99 | getUpdates per reply |",
        "|---|---:|---:|---:|---:|---:|",
        row(echo_b2b),
        row(cb_b2b, echo_b2b),
        row(cb_help, echo_b2b),
        row(cb_updater, echo_b2b),
        row(echo_paced),
        row(cb_paced, echo_paced),
        row(cb_help_paced, echo_paced),
        *([row(burst[0], cb_paced)] if burst else []),
        "",
        f"Targets: casebot p50 within 4x of the echo bot. Back-to-back: contact "
        f"{cb_b2b.p50 / echo_b2b.p50:.1f}x, /help {cb_help.p50 / echo_b2b.p50:.1f}x; 0.6 s apart: "
        f"contact {cb_paced.p50 / echo_paced.p50:.1f}x, /help "
        f"{cb_help_paced.p50 / echo_paced.p50:.1f}x. The poller's own share: /help through "
        f"PTB's Updater (which confirms before handling) p50 {cb_updater.p50:.1f} ms against "
        f"{cb_help.p50:.1f} ms through the Poller; the rest of a contact's time is the "
        "contact's own work (parse, transactions, audit). " + burst_reading(burst, cb_paced),
        "",
        PREVIOUS,
        "",
        machine(),
    ]
    return "\n".join(lines) + "\n"


def write_section(body: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    section = f"{SECTION}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    DOC.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="back-to-back messages")
    parser.add_argument("--paced", type=int, default=40, help="messages 0.6 s apart")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--quick", action="store_true", help="30 + 8 messages, no burst, no write")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.paced, args.no_write = 30, 8, True
    body = asyncio.run(main_async(args))
    print(body)
    if not args.no_write:
        write_section(body)


if __name__ == "__main__":
    main()

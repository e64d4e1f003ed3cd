"""Load: 500 nurses each sending 20 messages through the fake Telegram over HTTP on loopback,
the bot polling with PTB's own HTTP client (casebot through its Poller, as `casebot
run` does; the echo bot through PTB's Updater). Compared, in the same run, with a bare PTB echo bot
on the same fake.

Run: .venv/bin/python benchmarks/bench_load.py [--nurses 500] [--messages 20] [--no-write]
     [--database-url postgresql+asyncpg://...]    (--quick: 50 nurses x 5, < 1 min, no write)

Each simulated nurse is a closed loop: she sends her next message when the reply to the last
one arrives (as a person waiting for "Saved" would). Measured: reply latency (enqueue -> the
bot's sendMessage reaching the fake) p50/p99, event-loop lag (a 10 ms ticker's overshoot),
peak RSS, throughput; and for casebot, that every message is saved exactly once. The fake, the
bot and the ticker share one event loop and one process, for both bots alike, so the ratio is
like for like. PTB's AIORateLimiter is off in both: Telegram's own ~30 messages/s cap would
otherwise set the pace (10,000 replies >= 333 s) and hide the bot's cost.
Writes the "## Load" section of docs/benchmarks.md (other sections are left as they are).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, MessageHandler, filters  # noqa: E402

from bot.app.factory import build_application  # noqa: E402
from bot.app.polling import Poller  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from handlers import flood, lock  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Contact  # noqa: E402
from tests.fakes.telegram import FakeTelegram, FakeUser  # noqa: E402
from tests.reliability.support import enroll_direct  # noqa: E402

DOC = ROOT / "docs/benchmarks.md"
SECTION = "## Load"
AnyApp = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class Run:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    rss_before_mb: float = 0.0
    rss_peak_mb: float = 0.0
    messages: int = 0
    not_saved: int = 0  # replies saying plainly that the message was NOT saved
    check: str = ""

    def pct(self, values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def ticker(lags: list[float], stop: asyncio.Event, period: float = 0.01) -> None:
    """Event-loop lag: how late a `period` sleep wakes up."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        start = loop.time()
        await asyncio.sleep(period)
        lags.append(max(0.0, (loop.time() - start - period) * 1000))


async def drive(
    fake: FakeTelegram,
    app: AnyApp,
    nurses: list[FakeUser],
    per_nurse: int,
    text_of: Callable[[FakeUser, int], str],
    run: Run,
    poll: tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]] | None = None,
) -> None:
    """Closed loop: each nurse's next message goes out when the reply to her last one lands."""
    sent_at: dict[int, float] = {}
    count: dict[int, int] = dict.fromkeys((u.id for u in nurses), 0)
    done = asyncio.Event()
    remaining = [len(nurses) * per_nurse]
    users = {u.id: u for u in nurses}
    original = fake._methods["sendmessage"]

    def send(user: FakeUser) -> None:
        sent_at[user.id] = time.perf_counter()
        fake.enqueue(fake.private_text(user, text_of(user, count[user.id])))

    def on_send(params: dict[str, Any], files: Any) -> Any:
        result = original(params, files)
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int) and chat_id in sent_at:
            if "NOT saved" in str(params.get("text", "")):
                run.not_saved += 1
            run.latencies_ms.append((time.perf_counter() - sent_at.pop(chat_id)) * 1000)
            count[chat_id] += 1
            remaining[0] -= 1
            if count[chat_id] < per_nurse:
                send(users[chat_id])
            if remaining[0] == 0:
                done.set()
        return result

    fake._methods["sendmessage"] = on_send
    stop = asyncio.Event()
    lag_task = asyncio.create_task(ticker(run.lag_ms, stop))
    run.rss_before_mb = rss_mb()
    peak = [run.rss_before_mb]

    async def sample_rss() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb())
            await asyncio.sleep(0.2)

    rss_task = asyncio.create_task(sample_rss())
    if poll is None:
        assert app.updater is not None
        updater = app.updater
        poll = (lambda: updater.start_polling(poll_interval=0, timeout=1), updater.stop)
    start_polling, stop_polling = poll
    await start_polling()
    started = time.perf_counter()
    for user in nurses:
        send(user)
    await asyncio.wait_for(done.wait(), timeout=1800)
    run.seconds = time.perf_counter() - started
    run.messages = len(run.latencies_ms)
    stop.set()
    await asyncio.gather(lag_task, rss_task)
    run.rss_peak_mb = peak[0]
    await stop_polling()
    fake._methods["sendmessage"] = original


async def run_casebot(args: argparse.Namespace, workdir: Path) -> Run:
    fake = FakeTelegram(long_poll_cap=1.0)
    base_url = await fake.serve_http()
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'load.db'}"
    env = {
        "CASEBOT_TELEGRAM_TOKEN": fake.token,
        "CASEBOT_TELEGRAM_BASE_URL": base_url,
        "CASEBOT_TELEGRAM_BASE_FILE_URL": fake.http_base_file_url or base_url,
        "CASEBOT_DATABASE_URL": url,
    }
    config = load_config(None, environ=env)
    db = Database(url, pool_size=20)
    await upgrade(db)
    clock = SystemClock()
    nurses = [fake.user(first_name=f"Nurse{i:03d}") for i in range(args.nurses)]
    print(f"enrolling {len(nurses)} nurses ...", file=sys.stderr)
    for user in nurses:
        await enroll_direct(db, config, clock, user)
    app = build_application(config, db=db, clock=clock, rate_limiter=False, dispatch=False)
    flood.register(app)
    lock.register(app)
    run = Run("casebot (SQLite)" if "sqlite" in url else "casebot (PostgreSQL)")
    poller = Poller(app)  # as `casebot run` polls
    await app.initialize()
    await app.start()
    try:
        await drive(
            fake,
            app,
            nurses,
            args.messages,
            lambda u, n: f"called Maria Lopez re load-{u.id}-{n:02d} refill, f/u Fri",
            run,
            poll=(poller.start, poller.stop),
        )
    finally:
        await app.stop()
        await app.shutdown()
        await fake.stop_http()
    async with db.uow(read_only=True) as session:
        notes = [n or "" for n in await session.scalars(select(Contact.note))]
    await db.dispose()
    tokens: dict[str, int] = {}
    for note in notes:
        match = re.search(r"load-\d+-\d\d", note)
        if match:
            tokens[match.group(0)] = tokens.get(match.group(0), 0) + 1
    expected = args.nurses * args.messages
    silent = expected - len(tokens) - run.not_saved
    doubled = sum(1 for c in tokens.values() if c > 1)
    run.check = (
        f"{len(tokens)}/{expected} saved, {run.not_saved} told NOT saved, "
        f"{silent} lost silently, {doubled} duplicated"
    )
    return run


async def run_echo(args: argparse.Namespace, *, concurrent: bool) -> Run:
    fake = FakeTelegram(long_poll_cap=1.0)
    base_url = await fake.serve_http()
    builder = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(base_url)
        .base_file_url(fake.http_base_file_url or base_url)
    )
    if concurrent:
        builder = builder.concurrent_updates(256)
    app = builder.build()

    async def echo(update: Update, _context: Any) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    app.add_handler(MessageHandler(filters.TEXT, echo))
    nurses = [fake.user(first_name=f"Nurse{i:03d}") for i in range(args.nurses)]
    name = "bare PTB echo bot" + (", concurrent_updates(256)" if concurrent else ", defaults")
    run = Run(name)
    await app.initialize()
    await app.start()
    try:
        await drive(fake, app, nurses, args.messages, lambda u, n: f"echo {u.id} {n}", run)
    finally:
        await app.stop()
        await app.shutdown()
        await fake.stop_http()
    run.check = f"{run.messages} replies"
    return run


def table(runs: list[Run], base: Run) -> str:
    rows = [
        "| bot | messages | wall s | msg/s | p50 ms | p99 ms | loop lag p50 / p99 / max ms "
        "| RSS before / peak MB | check |",
        "|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in runs:
        rows.append(
            f"| {r.name} | {r.messages} | {r.seconds:.1f} | {r.messages / r.seconds:.0f} | "
            f"{statistics.median(r.latencies_ms):.1f} | {r.pct(r.latencies_ms, 0.99):.1f} | "
            f"{statistics.median(r.lag_ms):.1f} / {r.pct(r.lag_ms, 0.99):.1f} / "
            f"{max(r.lag_ms):.1f} | {r.rss_before_mb:.0f} / {r.rss_peak_mb:.0f} | {r.check} |"
        )
    main = runs[0]
    p50 = statistics.median(main.latencies_ms) / statistics.median(base.latencies_ms)
    p99 = main.pct(main.latencies_ms, 0.99) / base.pct(base.latencies_ms, 0.99)
    rate = (main.messages / main.seconds) / (base.messages / base.seconds)
    rows.append("")
    rows.append(
        f"casebot / {base.name}: p50 latency x{p50:.1f}, p99 x{p99:.1f}, throughput x{rate:.2f}."
    )
    return "\n".join(rows)


def write_section(body: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    section = f"{SECTION}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    DOC.write_text(text, encoding="utf-8")


async def main_async(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory(prefix="casebot-load-") as tmp:
        runs: list[Run] = []
        steps: list[tuple[str, Callable[[], Awaitable[Run]]]] = [
            ("casebot", lambda: run_casebot(args, Path(tmp))),
            ("echo", lambda: run_echo(args, concurrent=False)),
            ("echo-concurrent", lambda: run_echo(args, concurrent=True)),
        ]
        for label, step in steps:
            print(f"running {label} ...", file=sys.stderr)
            runs.append(await step())
    intro = (
        f"`.venv/bin/python benchmarks/bench_load.py --nurses {args.nurses} --messages "
        f"{args.messages}`: {args.nurses} simulated nurses, each sending {args.messages} "
        "messages as a closed loop (the next when the reply to the last arrives), through the "
        "fake Telegram served over HTTP on loopback; the bot polls it with PTB's own HTTP "
        "client (casebot through bot/app/polling.py's Poller, as `casebot run`; the echo "
        "bot through PTB's Updater). casebot logs each message as a contact (parse, one "
        "transaction with its "
        'audit event and follow-up task, the "Saved" reply), with flood control and the idle '
        "lock handlers registered (lock off). Bot, fake and a 10 ms lag ticker share one "
        "process and event loop, for every bot alike. PTB's AIORateLimiter is off: Telegram "
        "caps a bot at about 30 messages/s, so 10,000 replies take at least 333 s there "
        "whatever the bot does."
    )
    machine = (
        f"Machine: {platform.platform()}; {os.cpu_count()} CPUs; Python "
        f"{platform.python_version()}; load average at the end {os.getloadavg()[0]:.1f}."
    )
    return f"{intro}\n\n{table(runs, runs[1])}\n\n{machine}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nurses", type=int, default=500)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--quick", action="store_true", help="50 nurses x 5 messages, no write")
    args = parser.parse_args()
    if args.quick:
        args.nurses, args.messages, args.no_write = 50, 5, True
    body = asyncio.run(main_async(args))
    print(body)
    if not args.no_write:
        write_section(body)


if __name__ == "__main__":
    main()

"""CPU per logged message, in-process: the lean message path measured and profiled.

    .venv/bin/python benchmarks/bench_message.py --quick        # < 1 min: tiny seed, 200 messages
    .venv/bin/python benchmarks/bench_message.py --write        # small seed, 1,000 messages
    .venv/bin/python benchmarks/bench_message.py --database-url postgresql+asyncpg://...

The seeded bench nurse (150 patients, bot.ops.seed) logs one contact per message ("Called
<patient> re refill, f/u Fri"): the real Application (every handler registered) takes each
update from the in-process fake Telegram, parses it against her caseload, saves the contact
with its audit event and follow-up task, and replies "Saved". Measured per message: CPU
(time.process_time, the whole process: the bot, PTB and the fake), wall time, SQL statements
and transactions (SQLAlchemy events), then the same messages under cProfile, broken down by
where the CPU goes. A bare PTB echo bot on the same in-process fake gives the floor (PTB and
the fake alone). Target: CPU per logged message <= 10 ms (issue 16).

Writes the "## Message path" section of docs/benchmarks.md with --write.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import platform
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, select  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import ApplicationBuilder, MessageHandler, filters  # noqa: E402

from bot.app.factory import build_application  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.ops.seed import BENCH_TELEGRAM_ID, SIZES, seed  # noqa: E402
from bot.vocab import PatientStatus  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Patient  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402

DOC = ROOT / "docs/benchmarks.md"
SECTION = "## Message path"
NOW = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # a Monday, 10:00 in Chicago
PACE = timedelta(seconds=1)  # clock time between her messages (flood control allows 2/s)
CATEGORIES = (  # (label, path fragment), first match wins
    ("parsing (bot/parsing)", "/bot/parsing/"),
    ("rendering (bot/render)", "/bot/render/"),
    ("use cases (bot/services)", "/bot/services/"),
    ("care rules (bot/care)", "/bot/care/"),
    ("handlers", "/handlers/"),
    ("storage (our SQL, audit)", "/storage/"),
    ("bot/app (context, gate)", "/bot/app/"),
    ("SQLAlchemy", "/sqlalchemy/"),
    ("database driver", "/aiosqlite/"),
    ("database driver", "/asyncpg/"),
    ("database driver", "sqlite3"),
    ("python-telegram-bot", "/telegram/"),
    ("the fake Telegram (test double)", "/tests/fakes/"),
    ("asyncio", "/asyncio/"),
    ("dateparser/regex", "/dateparser/"),
    ("dateparser/regex", "/regex/"),
    ("rapidfuzz", "rapidfuzz"),
)


OTHER = (
    "builtins and stdlib, called from all of the above (and aiosqlite's thread running SQLite "
    "while the event loop waits: process CPU is counted)"
)


@dataclass
class Measured:
    name: str
    cpu_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)  # one message's statements, for the record
    transactions: list[int] = field(default_factory=list)
    writes: list[int] = field(default_factory=list)
    saved: int = 0


@contextmanager
def counting(db: Database) -> Iterator[dict[str, int]]:
    """Statements sent, transactions begun and writing statements inside the block."""
    counts: dict[str, Any] = {"statements": 0, "transactions": 0, "writes": 0, "sql": []}

    def statement(_c: Any, _cur: Any, sql: str, *_a: Any) -> None:
        head = sql.lstrip()[:6].upper()
        if head == "BEGIN ":  # SQLite's explicit BEGIN (storage.db): a transaction, not a query
            return
        counts["statements"] += 1
        counts["sql"].append(" ".join(sql.split())[:90])
        if head in ("INSERT", "UPDATE", "DELETE"):
            counts["writes"] += 1

    def begin(_conn: Any) -> None:
        counts["transactions"] += 1

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "begin", begin)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "begin", begin)


async def bench_patients(db: Database) -> list[str]:
    """The bench nurse's active patients whose names are unique in her caseload."""
    async with db.uow(read_only=True) as session:
        names = list(
            await session.scalars(
                select(Patient.display_name).where(
                    Patient.nurse_id == 1, Patient.status == PatientStatus.ACTIVE
                )
            )
        )
    # The seed numbers its names ("Tara Petrov 19"); a nurse writes the name, so keep the
    # patients whose first and last name nobody else in her caseload shares.
    person = [" ".join(n.split()[:2]) for n in names]
    return [p for p in person if person.count(p) == 1]


async def run_casebot(args: argparse.Namespace, url: str) -> tuple[Measured, str, str]:
    fake = FakeTelegram()
    env = {"CASEBOT_TELEGRAM_TOKEN": fake.token, "CASEBOT_DATABASE_URL": url}
    config = load_config(None, environ=env)
    db = Database(url)
    await upgrade(db)
    print(f"seeding {args.size} ...", file=sys.stderr, flush=True)
    await seed(db, SIZES[args.size], now=NOW)
    names = await bench_patients(db)
    clock = ManualClock(NOW)
    app = build_application(
        config,
        db=db,
        clock=clock,
        request=fake.request(),
        get_updates_request=fake.request(),
        rate_limiter=False,
        dispatch=False,  # passes are bench_dispatch's; wakes are still decided per message
    )
    await app.initialize()
    if app.post_init is not None:  # as run_polling does (the caseload index, the dispatcher)
        await app.post_init(app)
    await app.start()
    user = fake.user(BENCH_TELEGRAM_ID, first_name="Bench")
    texts = [f"Called {names[i % len(names)]} re refill, f/u Fri" for i in range(args.messages)]
    run = Measured("casebot, log a contact" + (" (PostgreSQL)" if "postgres" in url else ""))
    try:
        for text in texts[: args.warmup]:
            clock.advance(PACE)
            await fake.send_text(app, user, text)
        for text in texts:
            clock.advance(PACE)
            with counting(db) as counts:
                cpu, wall = time.process_time(), time.perf_counter()
                calls = await fake.send_text(app, user, text)
                run.cpu_ms.append((time.process_time() - cpu) * 1000)
                run.wall_ms.append((time.perf_counter() - wall) * 1000)
            run.statements.append(counts["statements"])
            run.transactions.append(counts["transactions"])
            run.writes.append(counts["writes"])
            run.sql = counts["sql"]
            replies = [c for c in calls if c.method == "sendMessage"]
            if replies and "<b>Saved</b>" in str(replies[-1].params.get("text", ""))[:20]:
                run.saved += 1
            elif os.environ.get("BENCH_SHOW"):
                print(text, "->", [c.params.get("text", "")[:80] for c in replies], file=sys.stderr)

        async def send(text: str) -> None:
            clock.advance(PACE)
            await fake.send_text(app, user, text)

        profile = await profiled(send, texts[: args.profiled])
    finally:
        await app.stop()
        await app.shutdown()
        await db.dispose()
    return run, profile, texts[0]


async def run_echo(args: argparse.Namespace) -> Measured:
    fake = FakeTelegram()
    app = ApplicationBuilder().token(fake.token).request(fake.request()).build()

    async def echo(update: Update, _context: Any) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    user = fake.user(first_name="Echo")
    run = Measured("bare PTB echo bot (floor: PTB + the fake)")
    for i in range(args.warmup + args.messages):
        cpu, wall = time.process_time(), time.perf_counter()
        await fake.send_text(app, user, f"echo {i}")
        if i >= args.warmup:
            run.cpu_ms.append((time.process_time() - cpu) * 1000)
            run.wall_ms.append((time.perf_counter() - wall) * 1000)
    await app.shutdown()
    return run


async def profiled(send: Any, texts: list[str]) -> str:
    """CPU by where it is spent (tottime grouped by package), and casebot's costliest calls."""
    profiler = cProfile.Profile(time.process_time)  # CPU, not waiting
    profiler.enable()
    for text in texts:
        await send(text)
    profiler.disable()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values())
    by_category: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), entry in raw.items():
        label = next((lbl for lbl, frag in CATEGORIES if frag in filename), OTHER)
        by_category[label] += entry[2]
    rows = ["| where | share of CPU |", "|---|---:|"]
    for label, spent in sorted(by_category.items(), key=lambda kv: -kv[1]):
        rows.append(f"| {label} | {100 * spent / total:.1f}% |")
    ours = [
        (entry[3], f"{Path(fn).parent.name}/{Path(fn).name}:{name}")
        for (fn, _line, name), entry in raw.items()
        if fn.startswith(str(ROOT)) and not any(p in fn for p in ("/.venv/", "/tests/", "/bench"))
    ]
    top = sorted(ours, reverse=True)[:12]
    rows += ["", "| casebot function (cumulative, incl. what it calls) | share of CPU |"]
    rows.append("|---|---:|")
    rows += [f"| `{where}` | {100 * spent / total:.1f}% |" for spent, where in top]
    if os.environ.get("BENCH_TOTTIME"):
        stats.sort_stats("tottime").print_stats(40)
    return "\n".join(rows)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def table(runs: list[Measured]) -> str:
    rows = [
        "| path | messages | CPU ms per message (median / mean / p99) | wall ms p50 / p99 "
        "| statements per message | transactions per message | writing statements |",
        "|---|---:|---|---|---:|---:|---:|",
    ]
    for r in runs:
        sql = (
            (
                f"{statistics.median(r.statements):.0f}",
                f"{statistics.median(r.transactions):.0f}",
                f"{statistics.median(r.writes):.0f}",
            )
            if r.statements
            else ("—", "—", "—")
        )
        rows.append(
            f"| {r.name} | {len(r.cpu_ms)} | {statistics.median(r.cpu_ms):.2f} / "
            f"{statistics.fmean(r.cpu_ms):.2f} / {pct(r.cpu_ms, 0.99):.2f} | "
            f"{statistics.median(r.wall_ms):.2f} / {pct(r.wall_ms, 0.99):.2f} | "
            f"{sql[0]} | {sql[1]} | {sql[2]} |"
        )
    return "\n".join(rows)


async def main_async(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory(prefix="casebot-message-") as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'message.db'}"
        if args.database_url and "postgres" in url:
            url = await fresh_pg(url)
        casebot, profile, example = await run_casebot(args, url)
    echo = await run_echo(args)
    load = os.getloadavg()
    command = f".venv/bin/python benchmarks/bench_message.py {' '.join(sys.argv[1:])}".strip()
    own = statistics.fmean(casebot.cpu_ms) - statistics.fmean(echo.cpu_ms)
    return (
        f"`{command}`, measured {datetime.now(tz=UTC):%Y-%m-%d}: the seeded bench nurse "
        f"({args.size} seed, 150 patients) logs {args.messages} contacts one after another "
        f'(e.g. "{example}") through the real Application and the in-process fake Telegram; '
        f"{casebot.saved} of {len(casebot.cpu_ms)} answered Saved. CPU is the whole process's "
        "(time.process_time: casebot, PTB and the fake); statements and transactions are "
        "counted with SQLAlchemy events (SQLite's BEGIN is not counted as a statement). "
        "Target: CPU per logged message <= 10 ms.\n\n"
        f"{table([casebot, echo])}\n\n"
        f"casebot's own CPU per message (mean, minus the echo floor): {own:.2f} ms.\n\n"
        "The statements of the last message, in order:\n\n"
        + "\n".join(f"{i}. `{sql}`" for i, sql in enumerate(casebot.sql, 1))
        + "\n\n"
        f"Where the CPU goes (cProfile over {args.profiled} messages; profiling inflates "
        "small calls, so read shares, not times):\n\n"
        f"{profile}\n\n"
        f"Machine: {platform.platform()}; {os.cpu_count()} CPUs; Python "
        f"{platform.python_version()}; load average at the end {load[0]:.1f} {load[1]:.1f} "
        f"{load[2]:.1f} (the cores are shared: CPU time moves less with load than wall time).\n"
    )


async def fresh_pg(url: str) -> str:
    """A fresh database casebot_bench_message on the server of `url` (dropped first)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = "casebot_bench_message"
    conn = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, database=parsed.database
    )
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return parsed.set(database=name).render_as_string(hide_password=False)


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
    parser.add_argument("--quick", action="store_true", help="tiny seed, 200 messages (< 1 min)")
    parser.add_argument("--size", choices=tuple(SIZES), default="small")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--profiled", type=int, default=300)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (default SQLite)")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    if args.quick:
        args.size, args.messages, args.warmup, args.profiled = "tiny", 200, 20, 100
    body = asyncio.run(main_async(args))
    print(body)
    if args.write:
        write_section(body)


if __name__ == "__main__":
    main()

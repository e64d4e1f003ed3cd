"""Caseload query benchmark: handler time (service + render, no Telegram) on a seeded dataset.

    .venv/bin/python benchmarks/bench_queries.py --size large --runs 300   # full, ~6 min seeding
    .venv/bin/python benchmarks/bench_queries.py --quick   # tiny seed, both backends, < 1 min

Each query is timed in --consecutive (default 3) consecutive runs of --runs calls; the table
gives the p50 over all and the p99 of each run (issue 16: every p99 <= 20 ms in three runs).

Seeds a fresh SQLite file and a fresh PostgreSQL database (casebot_bench, created here), then
times /caseload, /today, /overdue and /patient for the nurse with 150 patients, and records
the indexes the query plans use. Writes the "## Caseload queries" section of
docs/benchmarks.md (other sections are left as they are).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from bot.vocab import Refusal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.clock import SystemClock  # noqa: E402
from bot.ops.seed import BENCH_TELEGRAM_ID, SIZES, seed  # noqa: E402
from bot.render import patients as patient_render  # noqa: E402
from bot.render import queries as render  # noqa: E402
from bot.services import patients as patient_service  # noqa: E402
from bot.services import queries as service  # noqa: E402
from bot.services.nurse import NurseView  # noqa: E402
from bot.vocab import PatientStatus  # noqa: E402
from storage.audit import record_audit  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Base, Nurse, Patient  # noqa: E402

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
SECTION = "## Caseload queries"
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PG_DB = "casebot_bench"
SEED_TIMES = Path("/tmp/casebot_bench.seed.json")
CONSECUTIVE = [3]  # runs of every query (set from --consecutive)
SIZE = ["large"]  # the seed size (set from --size)
TABLES = frozenset(Base.metadata.tables)


async def _nurse(db: Database) -> tuple[NurseView, int]:
    async with db.uow(read_only=True) as session:
        n = await session.scalar(select(Nurse).where(Nurse.telegram_user_id == BENCH_TELEGRAM_ID))
        assert n is not None
        pid = await session.scalar(
            select(Patient.id)
            .where(Patient.nurse_id == n.id, Patient.status == PatientStatus.ACTIVE)
            .order_by(Patient.id)
            .limit(1)
        )
        assert pid is not None
    view = NurseView(
        id=n.id,
        telegram_user_id=n.telegram_user_id,
        chat_id=n.chat_id,
        display_name=n.display_name,
        role=n.role.value,
        team_id=n.team_id,
        timezone=n.timezone,
        digest_time=n.digest_time,
        date_order=n.date_order,
        privacy_mode=n.privacy_mode or "initials",
        settings_done=True,
    )
    return view, pid


def _cases(db: Database, nurse: NurseView, pid: int) -> dict[str, Callable[[], Awaitable[Any]]]:
    zone = nurse.zone

    async def caseload() -> None:
        now = datetime.now(tz=UTC)
        page = await service.caseload(db, nurse, now=now)
        render.caseload_page(
            page.rows, total=page.total, page=0, size=service.CASELOAD_PAGE, zone=zone, now=now
        )

    async def listing(fn: Any) -> None:
        now = datetime.now(tz=UTC)
        view = await fn(db, nurse, now=now)
        render.task_list(
            view.tasks.rows,
            total=view.tasks.total,
            page=0,
            size=service.TASK_PAGE,
            zone=zone,
            now=now,
            title="t",
            empty="e",
            appointments=view.appointments.rows if view.appointments else (),
        )

    async def today() -> None:
        await listing(service.today)

    async def overdue() -> None:
        await listing(service.overdue)

    async def patient() -> None:
        card = await patient_service.patient_card(db, SystemClock(), nurse=nurse, patient_id=pid)
        assert not isinstance(card, Refusal)
        patient_render.render_card(card)

    async def baseline() -> None:
        async with db.uow() as session:
            await record_audit(
                session, at=datetime.now(tz=UTC), action="bench.baseline", actor_nurse_id=nurse.id
            )

    return {
        "baseline: empty audited transaction": baseline,
        "/caseload": caseload,
        "/today": today,
        "/overdue": overdue,
        "/patient": patient,
    }


async def _plans(db: Database, call: Callable[[], Awaitable[Any]]) -> list[str]:
    """The indexes named in the plans of the SELECTs one call runs (audit writes left out)."""
    captured: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_a: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "audit_events" not in statement:
            captured.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", grab)
    try:
        await call()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", grab)
    prefix = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN "
    found: list[str] = []
    async with db.engine.connect() as conn:
        for statement, parameters in captured:
            rows = (await conn.exec_driver_sql(prefix + statement, parameters)).all()
            text = "\n".join(" ".join(str(c) for c in row) for row in rows)
            for name in re.findall(r"\b(ix_\w+|uq_\w+|pk_\w+)", text):
                if name not in found:
                    found.append(name)
            if "SCAN" in text and db.dialect == "sqlite":
                # Only full scans of tables count; "SCAN <subquery>" reads a part's own few rows.
                for scan in re.findall(r"SCAN (\w+)(?! USING)", text):
                    tag = f"SCAN {scan}"
                    if scan in TABLES and tag not in found:
                        found.append(tag)
            if db.dialect == "postgresql":
                for scan in re.findall(r"Seq Scan on (\w+)", text):
                    tag = f"Seq Scan {scan}"
                    if tag not in found:
                        found.append(tag)
    return found


Result = tuple[float, list[float], list[str]]  # p50 over all runs, p99 of each run, plan


async def _measure(db: Database, runs: int) -> dict[str, Result]:
    nurse, pid = await _nurse(db)
    cases = _cases(db, nurse, pid)
    for call in cases.values():
        for _ in range(10):  # warm up caches and the pool
            await call()
    samples: dict[str, list[list[float]]] = {name: [] for name in cases}
    for _ in range(CONSECUTIVE[0]):  # every query once per run, then the next run
        for name, call in cases.items():
            run = []
            for _ in range(runs):
                started = time.perf_counter()
                await call()
                run.append((time.perf_counter() - started) * 1000)
            samples[name].append(sorted(run))
    results = {}
    for name, call in cases.items():
        p50 = statistics.median([ms for run in samples[name] for ms in run])
        p99s = [run[min(len(run) - 1, int(len(run) * 0.99))] for run in samples[name]]
        results[name] = (p50, p99s, await _plans(db, call))
        print(f"  {name}: p50 {p50:.2f} ms, p99 {' / '.join(f'{p:.2f}' for p in p99s)} ms")
    return results


def _note_seed(backend: str, seconds: float) -> None:
    """Remember how long seeding took, for runs that reuse the databases (--skip-seed)."""
    if SIZE[0] != "large":  # a try-out's seed time is not the one the section reports
        return
    seeds = json.loads(SEED_TIMES.read_text("utf-8")) if SEED_TIMES.exists() else {}
    seeds[backend] = round(seconds)
    SEED_TIMES.write_text(json.dumps(seeds), "utf-8")


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


async def _sqlite(size: str, runs: int, path: Path, *, reseed: bool = True) -> dict[str, Result]:
    if reseed:
        _remove_sqlite_files(path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        if reseed:
            await upgrade(db)
            started = time.perf_counter()
            counts = await seed(db, SIZES[size], now=datetime.now(tz=UTC).replace(microsecond=0))
            _note_seed("SQLite", time.perf_counter() - started)
            print(f"sqlite seeded {counts} in {time.perf_counter() - started:.0f} s", flush=True)
            async with db.engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE")
        return await _measure(db, runs)
    finally:
        await db.dispose()


async def _postgres(size: str, runs: int, url: str, *, reseed: bool = True) -> dict[str, Result]:
    name = PG_DB + ("_" + size if size != "large" else "")
    db = Database(make_url(url).set(database=name).render_as_string(hide_password=False))
    if not reseed:
        try:
            return await _measure(db, runs)
        finally:
            await db.dispose()
    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name}")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    try:
        await upgrade(db)
        started = time.perf_counter()
        counts = await seed(db, SIZES[size], now=datetime.now(tz=UTC).replace(microsecond=0))
        _note_seed("PostgreSQL", time.perf_counter() - started)
        print(f"postgres seeded {counts} in {time.perf_counter() - started:.0f} s", flush=True)
        async with db.engine.connect() as c:
            await c.execution_options(isolation_level="AUTOCOMMIT")
            await c.exec_driver_sql("VACUUM ANALYZE")
        return await _measure(db, runs)
    finally:
        await db.dispose()


def _section(
    size: str,
    runs: int,
    results: dict[str, dict[str, Result]],
    load: float,
) -> str:
    s = SIZES[size]
    lines = [
        SECTION,
        "",
        f"`benchmarks/bench_queries.py --size {size} --runs {runs} --consecutive "
        f"{CONSECUTIVE[0]}` on this 2-core machine: "
        f"{s.nurses} nurses, {s.patients:,} patients, {s.contacts:,} contacts, {s.tasks:,} tasks "
        "(`casebot seed`). Handler time = the use case (one transaction with its audit write) "
        "plus rendering, without Telegram, for the nurse with 150 patients; target p99 <= 20 ms. "
        f"Load average during the run: {load:.1f} (other work shares the 2 cores; p99 moves "
        "with it).",
        "",
        "Seeding the dataset (executemany batches of 5,000 rows) took "
        + ", ".join(f"{b} {sec} s" for b, sec in _seed_times().items())
        + ". The baseline row is an empty transaction with one audit write: the fixed cost "
        "every answer pays (BEGIN, the hash-chained audit insert, COMMIT); the rest is the "
        "query and rendering. Queries build their statements once (bound parameters) and "
        "return a page plus COUNT(*) OVER () in one round trip. /patient reads everything below "
        "the card's header in one UNION ALL of nine index-backed parts "
        "(storage.patients.card_rows); when it ran a dozen statements instead, the same machine "
        "measured p50 15.0 / p99 22.5 ms on SQLite and 13.5 / 29.4 ms on PostgreSQL "
        "(2026-11-23, load 1.1).",
        "",
        f"| backend | query | p50 ms | p99 ms in each of {CONSECUTIVE[0]} consecutive runs "
        "| plan: indexes used |",
        "|---|---|---|---|---|",
    ]
    for backend, rows in results.items():
        for name, (p50, p99s, plan) in rows.items():
            p99 = " / ".join(f"{p:.2f}" for p in p99s)
            lines.append(f"| {backend} | {name} | {p50:.2f} | {p99} | {', '.join(plan)} |")
    lines.append("")
    return "\n".join(lines)


def _seed_times() -> dict[str, int]:
    seeds: dict[str, int] = json.loads(SEED_TIMES.read_text("utf-8")) if SEED_TIMES.exists() else {}
    return seeds


def _write(section: str) -> None:
    text = DOC.read_text("utf-8") if DOC.exists() else "# Benchmarks\n"
    if SECTION in text:
        start = text.index(SECTION)
        nxt = text.find("\n## ", start + len(SECTION))
        rest = text[nxt + 1 :] if nxt != -1 else ""
        text = text[:start] + section.rstrip("\n") + "\n" + ("\n" + rest if rest else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text, "utf-8")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=tuple(SIZES), default="large")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--sqlite-path", type=Path, default=Path("/tmp/casebot_bench.db"))
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the seeded databases")
    parser.add_argument("--consecutive", type=int, default=3, help="runs of every query")
    parser.add_argument("--quick", action="store_true", help="tiny seed, 50 calls, no write")
    args = parser.parse_args()
    if args.quick:
        args.size, args.runs, args.no_write = "tiny", 50, True
    if args.size != "large" and args.sqlite_path == Path("/tmp/casebot_bench.db"):
        args.sqlite_path = Path(f"/tmp/casebot_bench_{args.size}.db")  # keep the large seed
    CONSECUTIVE[0], SIZE[0] = args.consecutive, args.size
    reseed = not args.skip_seed
    load = os.getloadavg()[0]
    results = {"SQLite": await _sqlite(args.size, args.runs, args.sqlite_path, reseed=reseed)}
    if not args.no_postgres:
        results["PostgreSQL"] = await _postgres(args.size, args.runs, args.pg_url, reseed=reseed)
    load = max(load, os.getloadavg()[0])
    section = _section(args.size, args.runs, results, load)
    print(section)
    if not args.no_write:
        _write(section)


if __name__ == "__main__":
    asyncio.run(main())

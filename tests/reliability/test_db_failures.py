"""Honest under every database failure (issue 14): connection refused, login refused, a server
that never answers, a read-only database, a full disk, an I/O error. Each time the nurse hears
"NOT saved, please send it again" within seconds, nothing is saved, the error handler does not
fail, and the next message after recovery is saved once.

Faults come from tests/fakes/database.py: real ones where they harm nobody (a port nothing
listens on, a role of the test's own disabled with NOLOGIN, a silent socket), injected driver
errors where they cannot be real (a full disk)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bot.render import messages
from storage.db import Database, DatabaseUnavailable
from storage.models import Contact
from tests.dbutil import pg_url
from tests.fakes import database as faults
from tests.fakes.telegram import FakeUser
from tests.harness import Harness
from tests.reliability.test_polling import backlog_rows, plain, polling, texts, until
from tests.reminder_support import add_patient

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

FEW_SECONDS = 8.0  # the nurse hears back within this (connect timeout 5 s included)


async def _contacts(db: Database) -> int:
    async with db.uow(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(Contact)) or 0)


def _said(calls: list[Any]) -> list[str]:
    return [str(c.params.get("text", "")) for c in calls if c.method == "sendMessage"]


@asynccontextmanager
async def _swapped(h: Harness, faulty: Database) -> AsyncIterator[None]:
    services = h.app.services
    real = services.db
    services.db = faulty
    try:
        yield
    finally:
        services.db = real


async def _told_not_saved(h: Harness, nurse: FakeUser, message: str) -> None:
    """She sends `message` while the fault lasts: one reply, "NOT saved", within seconds; the
    error handler itself did not fail (no PTB 'uncaught error' log, checked by the caller)."""
    async with asyncio.timeout(FEW_SECONDS):  # raises TimeoutError if she waits longer
        calls = await h.send(nurse, message)
    said = _said(calls)
    assert said == [messages.DB_UNAVAILABLE], said


async def _recovers(h: Harness, nurse: FakeUser, saved_before: int) -> None:
    assert await _contacts(h.db) == saved_before, "nothing was saved during the fault"
    await h.send(nurse, "spoke with Maria Lopez re after-the-fault, f/u Fri")
    assert "Saved" in h.last_text(nurse)
    assert await _contacts(h.db) == saved_before + 1


def _no_error_handler_failure(caplog: pytest.LogCaptureFixture) -> None:
    lines = [r.getMessage() for r in caplog.records]
    assert not any("uncaught error was raised while handling the error" in m for m in lines)
    assert not any("No error handlers are registered" in m for m in lines)


# -- real faults on any database -------------------------------------------------------------------


async def test_connection_refused_is_told_not_saved_within_seconds(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    refused = Database(faults.unreachable_url(), pool_size=1)
    try:
        async with _swapped(harness, refused):
            await _told_not_saved(harness, ana, "spoke with Maria Lopez re refused, f/u Fri")
    finally:
        await refused.dispose()
    _no_error_handler_failure(caplog)
    await _recovers(harness, ana, 0)


async def test_a_server_that_never_answers_is_told_not_saved_within_seconds(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    async with faults.silent_server() as url:
        silent = Database(url, pool_size=1)
        try:
            async with _swapped(harness, silent):
                await _told_not_saved(harness, ana, "spoke with Maria Lopez re silent, f/u Fri")
        finally:
            await silent.dispose()
    _no_error_handler_failure(caplog)
    await _recovers(harness, ana, 0)


# -- PostgreSQL: a disabled login, a read-only server ----------------------------------------------


@pytest.mark.postgres
async def test_postgresql_login_refused_is_unavailable_not_a_crash(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    admin = pg_url()
    if admin is None or harness.db.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    async with faults.refused_login(admin) as (url, disable):
        probe = Database(url, pool_size=1)
        try:
            await probe.ping()  # the role works
            await probe.dispose()
            await disable()
            with pytest.raises(DatabaseUnavailable):
                await probe.ping()
            async with _swapped(harness, probe):
                for n in range(3):  # the 3 of 3 messages lost in silence
                    await _told_not_saved(harness, ana, f"spoke with Maria Lopez re login-{n}")
        finally:
            await probe.dispose()
    _no_error_handler_failure(caplog)
    await _recovers(harness, ana, 0)


@pytest.mark.postgres
async def test_a_read_only_postgresql_is_told_not_saved(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    admin = pg_url()
    if admin is None or harness.db.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    async with harness.db.uow(read_only=True) as session:
        schema = str(await session.scalar(text("SELECT current_schema()")))
    async with faults.read_only_role(admin, schema) as url:
        read_only = Database(url, schema=schema, pool_size=1)
        try:
            async with _swapped(harness, read_only):
                await _told_not_saved(harness, ana, "spoke with Maria Lopez re read-only, f/u Fri")
        finally:
            await read_only.dispose()
    _no_error_handler_failure(caplog)
    await _recovers(harness, ana, 0)


# -- SQLite: a full disk, a read-only file, an I/O error (injected driver errors) -----------------


@pytest.mark.parametrize("fault", ["disk_full", "read_only", "io_error"])
async def test_sqlite_disk_full_read_only_and_io_errors_are_told_not_saved(
    harness: Harness, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    if harness.db.dialect != "sqlite":
        pytest.skip("SQLite driver errors")
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    spec: dict[str, Any] = {
        "disk_full": faults.DISK_FULL,
        "read_only": faults.READ_ONLY,
        "io_error": faults.IO_ERROR,
    }[fault]
    injected = faults.SqliteFault(harness.db, **spec)
    try:
        injected.armed = True
        await _told_not_saved(harness, ana, f"spoke with Maria Lopez re {fault}, f/u Fri")
        assert injected.raised >= 1
    finally:
        injected.armed = False
        injected.remove()
    _no_error_handler_failure(caplog)
    await _recovers(harness, ana, 0)


async def test_the_error_handler_survives_when_even_its_own_lookup_fails(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler fails with something that is not a database fault, and the error handler's
    own ledger lookup fails too (an unclassified driver error): the nurse still gets one
    apology, and no 'uncaught error' is logged."""
    if harness.db.dialect != "sqlite":
        pytest.skip("SQLite driver errors")
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    injected = faults.SqliteFault(
        harness.db,
        message="a fault of ours, not the database's",
        code=19,  # SQLITE_CONSTRAINT
        verbs=("SELECT", *faults.WRITES),
        kind=sqlite3.IntegrityError,
    )
    try:
        injected.armed = True
        calls = await harness.send(ana, "spoke with Maria Lopez re surprise, f/u Fri")
    finally:
        injected.armed = False
        injected.remove()
    said = _said(calls)
    assert len(said) == 1, said
    assert "NOT saved" in said[0] or "Nothing from that message was saved" in said[0], said
    _no_error_handler_failure(caplog)
    await _recovers(harness, ana, 0)


# -- through the poller: the update is confirmed only once she has been told -----------------------


async def test_through_the_poller_a_dead_database_is_told_and_not_confirmed_before(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """The database fails every statement (an I/O error) while polling: the update cannot be
    kept in the backlog, so getUpdates does not move past it until it was handled, that is until
    she was told NOT saved; polling goes on, and once the database is back her next message is
    saved."""
    if harness.db.dialect != "sqlite":
        pytest.skip("SQLite driver errors")
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    fake = harness.fake
    injected = faults.SqliteFault(harness.db, **faults.IO_ERROR)
    try:
        async with polling(harness):
            await until(lambda: fake.long_polls_waiting == 1)
            injected.armed = True
            queued = fake.enqueue(fake.private_text(ana, "spoke with Maria Lopez re io, f/u Fri"))
            async with asyncio.timeout(FEW_SECONDS):
                await until(lambda: plain(messages.DB_UNAVAILABLE) in texts(harness, ana))
            await until(lambda: not fake.updates)  # confirmed now that she has been told
            injected.armed = False
            fake.enqueue(fake.private_text(ana, "spoke with Maria Lopez re after-io, f/u Fri"))
            await until(lambda: any("Saved" in t for t in texts(harness, ana)[-1:]))
    finally:
        injected.armed = False
        injected.remove()
    calls = fake.calls
    told = next(
        i
        for i, c in enumerate(calls)
        if c.method == "sendMessage" and c.params.get("text") == messages.DB_UNAVAILABLE
    )
    offsets = [int(c.params.get("offset", 0)) for c in calls[:told] if c.method == "getUpdates"]
    assert all(o <= queued["update_id"] for o in offsets), (offsets, queued["update_id"])
    assert injected.raised >= 2, "the backlog write and the handler both failed"
    _no_error_handler_failure(caplog)
    assert await _contacts(harness.db) == 1
    assert await backlog_rows(harness.db) == 0


async def test_driver_errors_that_quote_patient_data_stay_out_of_the_log(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A driver error whose message quotes a row (as PostgreSQL's "Key (name)=(...) already
    exists" does), raised in the handler and again in the error handler's own lookup, at DEBUG
    everywhere: no log record holds the patient's name or the message text."""
    if harness.db.dialect != "sqlite":
        pytest.skip("SQLite driver errors")
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Zebulon Canarywhistle")
    libraries = ["aiosqlite", "sqlalchemy", "sqlalchemy.engine", "telegram", "httpx"]
    for name in libraries:  # the libraries at DEBUG too, as an administrator might set them
        caplog.set_level(logging.DEBUG, logger=name)
    caplog.set_level(logging.DEBUG)
    injected = faults.SqliteFault(
        harness.db,
        message="UNIQUE constraint failed: Key (name)=(Zebulon Canarywhistle) already exists",
        code=19,
        verbs=("SELECT", *faults.WRITES),
        kind=sqlite3.IntegrityError,
    )
    try:
        injected.armed = True
        calls = await harness.send(ana, "spoke with Zebulon Canarywhistle re insulin, f/u Fri")
    finally:
        injected.armed = False
        injected.remove()
    assert len(_said(calls)) == 1
    assert injected.raised >= 2
    captured = [f"{r.getMessage()} {r.exc_text or ''} {r.exc_info!r}" for r in caplog.records]
    assert any("handler failed" in line for line in captured)
    for secret in ("Canarywhistle", "Zebulon", "insulin"):
        leaks = [line for line in captured if secret in line]
        assert not leaks, (secret, leaks[:1])


async def test_when_she_cannot_be_told_the_update_is_handled_again_not_confirmed(
    harness: Harness,
) -> None:
    """The database fails and so does the NOT saved notice (a 502): the update is not confirmed
    in silence but handled again after a pause, and the second time she is told."""
    if harness.db.dialect != "sqlite":
        pytest.skip("SQLite driver errors")
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    fake = harness.fake
    injected = faults.SqliteFault(harness.db, **faults.IO_ERROR)
    try:
        async with polling(harness) as poller:
            await until(lambda: fake.long_polls_waiting == 1)
            injected.armed = True
            fake.inject("sendMessage", "5xx", times=1)
            queued = fake.enqueue(fake.private_text(ana, "spoke with Maria Lopez re untold"))
            await until(lambda: plain(messages.DB_UNAVAILABLE) in texts(harness, ana))
            await until(lambda: not fake.updates)
            planned = [reason for reason, _ in poller.waits]
    finally:
        injected.armed = False
        injected.remove()
    notices = [
        c
        for c in fake.calls
        if c.method == "sendMessage" and c.params.get("text") == messages.DB_UNAVAILABLE
    ]
    assert [c.ok for c in notices] == [False, True], "the first notice failed, the second arrived"
    assert "untold" in planned
    told = fake.calls.index(notices[-1])
    offsets = [
        int(c.params.get("offset", 0)) for c in fake.calls[:told] if c.method == "getUpdates"
    ]
    assert all(o <= queued["update_id"] for o in offsets), "not confirmed before she was told"
    assert await _contacts(harness.db) == 0

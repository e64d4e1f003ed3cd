"""The lean message path (issue 16): a logged contact is one write transaction of a bounded
number of statements, whatever the size of her caseload, and it moves her patient's last
reached without re-reading the patient's contacts. Run on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select

from storage import patients
from storage.db import Database
from storage.models import Patient
from tests.harness import Harness
from tests.reminder_support import add_patient, nurse_row

MAX_STATEMENTS = 12
"""A logged contact with its follow-up: the nurse, the inbox's check for a question waiting for
her typed answer (a [Change time]), the ledger check, her patient, the contact,
the follow-up task, the tasks it may close, the ledger row and its link, last reached, the
audit chain's head and the audit event (on PostgreSQL one more: the audit chain's
transaction lock)."""


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)
    reads: int = 0  # read transactions
    writes: int = 0  # write transactions


@contextmanager
def counted(db: Database) -> Iterator[Counted]:
    """The statements and transactions sent to the database inside the block (SQLite's
    explicit BEGIN is a transaction, not a statement)."""
    seen = Counted()

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if not sql.lstrip().upper().startswith("BEGIN"):
            seen.statements.append(" ".join(sql.split()))

    def begin(conn: Any) -> None:
        if conn.get_execution_options().get("casebot_begin") == "DEFERRED":
            seen.reads += 1
        else:
            seen.writes += 1

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "begin", begin)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "begin", begin)


async def _more_patients(h: Harness, nurse_id: int, count: int) -> None:
    async with h.db.uow() as session:
        for i in range(count):
            await patients.create_patient(
                session,
                nurse_id=nurse_id,
                team_id=None,
                display_name=f"Extra Patient{i:03d}",
                now=h.clock.now(),
            )


async def test_a_logged_contact_is_one_write_transaction_of_bounded_statements(
    harness: Harness,
) -> None:
    h = harness
    ana = await h.enroll("Ana")
    await add_patient(h, ana, "Maria Lopez")
    await h.send(ana, "Spoke with Maria Lopez about her BP, f/u Fri")  # her index is read once
    assert "Saved" in h.last_text(ana)

    h.clock.advance(timedelta(minutes=5))
    with counted(h.db) as small:
        await h.send(ana, "Spoke with Maria Lopez re refill, f/u Fri")
    assert "Saved" in h.last_text(ana)

    row = await nurse_row(h, ana)
    await _more_patients(h, row.id, 150)
    h.clock.advance(timedelta(minutes=5))
    await h.send(ana, "Spoke with Maria Lopez re her diet, f/u Fri")  # the new index is read
    h.clock.advance(timedelta(minutes=5))
    with counted(h.db) as large:
        await h.send(ana, "Spoke with Maria Lopez re her sleep, f/u Fri")
    assert "Saved" in h.last_text(ana)

    assert len(large.statements) == len(small.statements), large.statements
    bound = MAX_STATEMENTS + (h.db.dialect == "postgresql")
    assert len(small.statements) <= bound, "\n".join(s[:70] for s in small.statements)
    assert (small.writes, large.writes) == (1, 1)  # the contact, its task, ledger, audit
    assert small.reads <= 2  # who she is (the access gate); a question waiting for her answer
    assert large.reads <= 2
    # Derived values are written, not re-derived from her records; the ledger counts its
    # links itself; no patient row but the one she named is read.
    joined = "\n".join(large.statements).lower()
    assert "max(contacts.occurred_at)" not in joined
    assert "count(*)" not in joined
    assert sum(s.lower().startswith("select patients.") for s in large.statements) == 1


async def test_last_reached_moves_only_later_and_only_when_reached(harness: Harness) -> None:
    h = harness
    ana = await h.enroll("Ana")
    patient_id = await add_patient(h, ana, "Maria Lopez")

    async def last_reached() -> Any:
        async with h.db.uow(read_only=True) as session:
            return await session.scalar(
                select(Patient.last_reached_at).where(Patient.id == patient_id)
            )

    await h.send(ana, "Called Maria Lopez, doing well, f/u Fri")
    assert "Saved" in h.last_text(ana)
    reached = await last_reached()
    assert reached == h.clock.now()

    h.clock.advance(timedelta(hours=2))
    await h.send(ana, "LVM for Maria Lopez, try again tomorrow")
    assert "Voicemail" in h.last_text(ana)
    assert await last_reached() == reached  # an attempt is not reaching her

    await h.send(ana, "Called Maria Lopez yesterday, she was fine, f/u Fri")
    assert "Saved" in h.last_text(ana)
    assert await last_reached() == reached  # an earlier call does not move it back

    h.clock.advance(timedelta(hours=1))
    await h.send(ana, "Called Maria Lopez, BP ok, f/u Fri")
    assert await last_reached() == h.clock.now()

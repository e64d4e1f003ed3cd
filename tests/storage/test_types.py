"""Times are aware UTC in and out; naive datetimes are refused; Telegram ids are 64-bit."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError

from storage.db import Database
from storage.models import Nurse, Team


def _nurse(telegram_user_id: int, enrolled_at: datetime) -> Nurse:
    return Nurse(
        telegram_user_id=telegram_user_id,
        display_name="N",
        timezone="America/Chicago",
        digest_time=time(7, 30),
        enrolled_at=enrolled_at,
    )


async def test_aware_times_round_trip_as_utc(db: Database) -> None:
    chicago_time = datetime(2026, 11, 23, 10, 15, tzinfo=timezone(timedelta(hours=-6)))
    async with db.uow() as session:
        session.add(_nurse(2**40 + 7, chicago_time))
    async with db.uow(read_only=True) as session:
        nurse = (await session.execute(Nurse.__table__.select())).one()
    assert nurse.enrolled_at == datetime(2026, 11, 23, 16, 15, tzinfo=UTC)
    assert nurse.enrolled_at.utcoffset() == timedelta(0)
    assert nurse.telegram_user_id == 2**40 + 7  # beyond 32 bits


async def _store_team_created(db: Database, created_at: datetime) -> None:
    async with db.uow() as session:
        session.add(Team(name="t", created_at=created_at))


async def test_naive_datetime_is_refused(db: Database) -> None:
    naive = datetime(2026, 11, 23, 10, 15)  # noqa: DTZ001
    with pytest.raises(StatementError, match="naive datetime refused"):
        await _store_team_created(db, naive)
    async with db.uow(read_only=True) as session:
        assert await session.get(Team, 1) is None

"""Her learned shorthand: a nurse's terms and what each means to her.

Repository functions take the session first and never commit. Must not import telegram,
handlers or bot (beyond bot.vocab).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import NurseTerm

MAX_TERMS = 200
"""Terms one nurse may keep (a list in /settings, and a pattern the parser compiles)."""


async def terms_of(session: AsyncSession, *, nurse_id: int) -> list[NurseTerm]:
    query = (
        select(NurseTerm)
        .where(NurseTerm.nurse_id == nurse_id)
        .order_by(NurseTerm.term, NurseTerm.id)
        .limit(MAX_TERMS)
    )
    return list((await session.scalars(query)).all())


async def find_term(session: AsyncSession, *, nurse_id: int, term: str) -> NurseTerm | None:
    query = select(NurseTerm).where(NurseTerm.nurse_id == nurse_id, NurseTerm.term == term)
    return (await session.scalars(query)).first()


async def add_term(
    session: AsyncSession, *, nurse_id: int, term: str, meaning: str, now: datetime
) -> NurseTerm:
    row = NurseTerm(nurse_id=nurse_id, term=term, meaning=meaning, created_at=now)
    session.add(row)
    await session.flush()
    return row


async def delete_term(session: AsyncSession, *, row: NurseTerm) -> None:
    await session.delete(row)
    await session.flush()

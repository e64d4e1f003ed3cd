"""Nurses, teams and invites: who may use the bot.

Invite codes are stored as SHA-256 hashes; redemption is a conditional UPDATE, so two people
racing for one code cannot both win. Repository functions take the session first and never
commit. Must not import telegram, handlers or bot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocab import RedeemFailure as RedeemFailure  # re-exported for bot.services.enrollment
from bot.vocab import Role
from storage.models import Invite, Nurse, Team


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def get_or_create_team(session: AsyncSession, *, name: str, now: datetime) -> Team:
    team = await session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name, created_at=now)
        session.add(team)
        await session.flush()
    return team


async def nurse_by_telegram_id(session: AsyncSession, telegram_user_id: int) -> Nurse | None:
    return await session.scalar(select(Nurse).where(Nurse.telegram_user_id == telegram_user_id))


async def create_invite(
    session: AsyncSession,
    *,
    code: str,
    role: Role,
    now: datetime,
    expires_at: datetime,
    team_id: int | None = None,
    display_name: str | None = None,
    created_by_id: int | None = None,
) -> Invite:
    invite = Invite(
        code_hash=hash_code(code),
        role=role,
        team_id=team_id,
        display_name=display_name,
        created_by_id=created_by_id,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(invite)
    await session.flush()
    return invite


@dataclass(frozen=True)
class Redeemed:
    invite: Invite


async def claim_invite(
    session: AsyncSession, *, code: str, now: datetime
) -> Redeemed | RedeemFailure:
    """Mark the invite used, atomically; only one caller can ever get `Redeemed` for a code."""
    code_hash = hash_code(code)
    result = await session.execute(
        update(Invite)
        .where(
            Invite.code_hash == code_hash,
            Invite.used_at.is_(None),
            Invite.revoked_at.is_(None),
            Invite.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    invite = await session.scalar(select(Invite).where(Invite.code_hash == code_hash))
    if result.rowcount == 1 and invite is not None:  # type: ignore[attr-defined]
        return Redeemed(invite)
    if invite is None:
        return RedeemFailure.UNKNOWN
    if invite.revoked_at is not None:
        return RedeemFailure.REVOKED
    if invite.used_at is not None:
        return RedeemFailure.USED
    return RedeemFailure.EXPIRED


async def enroll_nurse(
    session: AsyncSession,
    *,
    invite: Invite,
    telegram_user_id: int,
    chat_id: int,
    fallback_name: str,
    timezone: str,
    digest_time: time,
    quiet_start: time | None,
    quiet_end: time | None,
    date_order: str,
    now: datetime,
) -> Nurse:
    """Create (or re-activate) the nurse an invite was made for and link the invite to her."""
    nurse = await nurse_by_telegram_id(session, telegram_user_id)
    name = invite.display_name or fallback_name
    if nurse is None:
        nurse = Nurse(
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            display_name=name,
            role=invite.role,
            team_id=invite.team_id,
            timezone=timezone,
            digest_time=digest_time,
            quiet_start=quiet_start,
            quiet_end=quiet_end,
            date_order=date_order,
            enrolled_at=now,
            active=True,
        )
        session.add(nurse)
    else:
        nurse.active = True
        nurse.revoked_at = None
        nurse.chat_id = chat_id
        nurse.role = invite.role
        nurse.team_id = invite.team_id if invite.team_id is not None else nurse.team_id
        nurse.display_name = name
    await session.flush()
    invite.used_by_id = nurse.id
    await session.flush()
    return nurse


async def revoke_nurse(
    session: AsyncSession, *, telegram_user_id: int, now: datetime
) -> Nurse | None:
    nurse = await nurse_by_telegram_id(session, telegram_user_id)
    if nurse is None or not nurse.active:
        return None
    nurse.active = False
    nurse.revoked_at = now
    await session.flush()
    return nurse


async def list_nurses(session: AsyncSession) -> list[Nurse]:
    return list((await session.scalars(select(Nurse).order_by(Nurse.id))).all())


async def find_nurse(
    session: AsyncSession, *, nurse_id: int | None = None, telegram_user_id: int | None = None
) -> Nurse | None:
    """The nurse with this casebot id, or else with this Telegram user id."""
    if nurse_id is not None:
        return await session.get(Nurse, nurse_id)
    if telegram_user_id is not None:
        return await nurse_by_telegram_id(session, telegram_user_id)
    return None


async def admin_ids(session: AsyncSession, *, except_nurse_id: int) -> list[int]:
    """Active admins other than this nurse."""
    query = select(Nurse.id).where(
        Nurse.role == Role.ADMIN, Nurse.active.is_(True), Nurse.id != except_nurse_id
    )
    return list((await session.scalars(query)).all())


async def admin_chat_ids(session: AsyncSession, *, except_nurse_id: int) -> list[int]:
    """The chats of active admins other than this nurse (those enrolled in a chat)."""
    query = select(Nurse.chat_id).where(
        Nurse.role == Role.ADMIN,
        Nurse.active.is_(True),
        Nurse.chat_id.is_not(None),
        Nurse.id != except_nurse_id,
    )
    return [c for c in (await session.scalars(query)).all() if c is not None]


@dataclass(frozen=True)
class SupervisorRow:
    nurse_id: int
    team_id: int | None


async def team_supervisors(
    session: AsyncSession, *, team_ids: Collection[int]
) -> list[SupervisorRow]:
    """The active supervisors of these teams, in one query."""
    if not team_ids:
        return []
    query = select(Nurse.id, Nurse.team_id).where(
        Nurse.team_id.in_(sorted(team_ids)),
        Nurse.role == Role.SUPERVISOR,
        Nurse.active.is_(True),
    )
    rows = (await session.execute(query.order_by(Nurse.id))).all()
    return [SupervisorRow(nurse_id=r.id, team_id=r.team_id) for r in rows]


async def mark_unreachable(session: AsyncSession, *, nurse_id: int) -> Nurse | None:
    """She blocked the bot: mark her unreachable. The nurse if this changed her, else None."""
    nurse = await session.get(Nurse, nurse_id)
    if nurse is None or nurse.unreachable:
        return None
    nurse.unreachable = True
    await session.flush()
    return nurse

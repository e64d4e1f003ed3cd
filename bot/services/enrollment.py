"""Enrollment use cases: invite, redeem, revoke, settings. One transaction each, audited.

Spans invites, nurses and the audit trail. Must not import telegram or handlers.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Config
from bot.services.nurse import NurseView
from bot.vocab import Role
from storage import audit, due, handover, people
from storage.db import Database
from storage.models import Nurse


@dataclass(frozen=True)
class NewInvite:
    code: str
    expires_at: datetime

    def deep_link(self, bot_username: str) -> str:
        username = bot_username or "<your_bot_username>"
        return f"https://t.me/{username}?start={self.code}"


def new_invite_code() -> str:
    """32 characters of [A-Za-z0-9_-]: 192 random bits, valid as a deep-link payload."""
    return secrets.token_urlsafe(24)


async def create_invite(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    role: Role,
    team: str | None = None,
    display_name: str | None = None,
    created_by_id: int | None = None,
    ttl: timedelta | None = None,
) -> NewInvite:
    now = clock.now()
    code = new_invite_code()
    expires_at = now + (ttl or timedelta(hours=config.enrollment.invite_ttl_hours))
    async with db.uow() as session:
        team_id = None
        if team:
            team_id = (await people.get_or_create_team(session, name=team, now=now)).id
        invite = await people.create_invite(
            session,
            code=code,
            role=role,
            now=now,
            expires_at=expires_at,
            team_id=team_id,
            display_name=display_name,
            created_by_id=created_by_id,
        )
        await audit.record_audit(
            session,
            at=now,
            action="invite.created",
            actor_nurse_id=created_by_id,
            command="invite",
            entity="invite",
            entity_id=invite.id,
            detail={"role": role.value, "team_id": team_id},
        )
    return NewInvite(code=code, expires_at=expires_at)


def view_of(nurse: Nurse, config: Config) -> NurseView:
    return NurseView(
        id=nurse.id,
        telegram_user_id=nurse.telegram_user_id,
        chat_id=nurse.chat_id,
        display_name=nurse.display_name,
        role=nurse.role.value,
        team_id=nurse.team_id,
        timezone=nurse.timezone,
        digest_time=nurse.digest_time,
        date_order=nurse.date_order,
        privacy_mode=nurse.privacy_mode or config.privacy.push_names,
        settings_done=nurse.settings_done,
        unreachable=nurse.unreachable,
        follow_up_time=config.reminders.follow_up_time,
    )


async def redeem_invite(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    code: str,
    telegram_user_id: int,
    chat_id: int,
    fallback_name: str,
) -> NurseView | people.RedeemFailure:
    """Enroll the sender if the code is good; otherwise say why, and audit either way."""
    now = clock.now()
    defaults = config.defaults
    async with db.uow() as session:
        claimed = await people.claim_invite(session, code=code, now=now)
        if isinstance(claimed, people.RedeemFailure):
            await audit.record_audit(
                session,
                at=now,
                action="enroll.refused",
                actor_telegram_id=telegram_user_id,
                command="start",
                detail={"reason": claimed.value},
            )
            return claimed
        nurse = await people.enroll_nurse(
            session,
            invite=claimed.invite,
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            fallback_name=fallback_name,
            timezone=defaults.timezone,
            digest_time=defaults.digest_time,
            quiet_start=defaults.quiet_start,
            quiet_end=defaults.quiet_end,
            date_order=defaults.date_order,
            now=now,
        )
        due.note_nurse(session, nurse.id)  # a new (or returning) recipient of pushes
        await audit.record_audit(
            session,
            at=now,
            action="enroll.enrolled",
            actor_nurse_id=nurse.id,
            actor_telegram_id=telegram_user_id,
            command="start",
            entity="invite",
            entity_id=claimed.invite.id,
            detail={"role": nurse.role.value},
        )
        return view_of(nurse, config)


@dataclass(frozen=True)
class RevokeResult:
    """What `revoke` did: `problem` says (to the operator) why nothing was done."""

    revoked: bool
    problem: str = ""
    to_name: str = ""
    parked: bool = False
    handed: handover.HandedOver | None = None


async def revoke(
    db: Database,
    clock: Clock,
    *,
    telegram_user_id: int,
    to: str | None = None,
    park: bool = False,
    by: str = "cli",
) -> RevokeResult:
    """Revoke a nurse's access and hand her caseload over in the same transaction.

    `to`: the new owner's Telegram user id or display name (an active nurse or supervisor of
    her team); `park`: the team's supervisor holds the patients as unassigned (in /team). A
    nurse with patients or open tasks is not revoked without one of them: her patients would
    vanish from every list and their reminders go to nobody."""
    now = clock.now()
    async with db.uow() as session:
        nurse = await people.nurse_by_telegram_id(session, telegram_user_id)
        if nurse is None or not nurse.active:
            return RevokeResult(False, "no active nurse with that Telegram id")
        patients, tasks = await handover.caseload_size(session, nurse_id=nurse.id)
        owner: Nurse | str | None = None
        if to is not None:
            owner = await _new_owner(session, nurse, to)
        elif park:
            owner = await _team_supervisor(session, nurse)
        elif patients or tasks:
            return RevokeResult(
                False,
                f"she has {patients} patients and {tasks} open tasks: give --to <new owner's "
                "Telegram id or name> or --park (the team's supervisor holds them as unassigned)",
            )
        if isinstance(owner, str):
            return RevokeResult(False, owner)
        await people.revoke_nurse(session, telegram_user_id=telegram_user_id, now=now)
        handed = None
        if owner is not None:
            handed = await handover.hand_over(
                session, from_nurse=nurse, to_nurse=owner, park=park and to is None, now=now
            )
            for patient_id in handed.patient_ids:
                await audit.record_audit(
                    session,
                    at=now,
                    action="patient.reassigned",
                    command=f"{by}.revoke",
                    patient_id=patient_id,
                    entity="patient",
                    entity_id=patient_id,
                    detail={
                        "before": {"nurse_id": nurse.id},
                        "after": {"nurse_id": owner.id},
                        "unassigned": park and to is None,
                    },
                )
        await audit.record_audit(
            session,
            at=now,
            action="enroll.revoked",
            actor_telegram_id=None,
            command=by,
            entity="nurse",
            entity_id=nurse.id,
            detail=_handover_detail(owner, handed, parked=park and to is None),
        )
        return RevokeResult(
            True,
            to_name=owner.display_name if owner is not None else "",
            parked=park and to is None,
            handed=handed,
        )


def _handover_detail(
    owner: Nurse | None, handed: handover.HandedOver | None, *, parked: bool
) -> dict[str, object] | None:
    if owner is None or handed is None:
        return None
    return {
        "to_nurse_id": owner.id,
        "parked": parked,
        "patient_ids": list(handed.patient_ids),
        "task_ids": list(handed.task_ids),
        "deliveries_moved": handed.deliveries_moved,
        "appointments_moved": handed.appointments_moved,
        "digests_cancelled": handed.digests_cancelled,
    }


async def _new_owner(session: AsyncSession, nurse: Nurse, to: str) -> Nurse | str:
    """The active nurse `to` names (Telegram id or display name) in her team, or why not."""
    candidates = [
        n
        for n in await people.list_nurses(session)
        if n.active
        and n.id != nurse.id
        and (str(n.telegram_user_id) == to.strip() or n.display_name.casefold() == to.casefold())
    ]
    if not candidates:
        return f"--to {to}: no other active nurse with that Telegram id or name"
    if len(candidates) > 1:
        ids = ", ".join(str(n.telegram_user_id) for n in candidates)
        return f"--to {to}: several nurses have that name; give a Telegram id ({ids})"
    owner = candidates[0]
    if nurse.team_id is not None and owner.team_id != nurse.team_id:
        return f"--to {to}: not in her team; give a nurse or the supervisor of her team"
    return owner


async def _team_supervisor(session: AsyncSession, nurse: Nurse) -> Nurse | str:
    if nurse.team_id is None:
        return "--park: she is in no team, so no supervisor can hold her patients; use --to"
    rows = await people.team_supervisors(session, team_ids=[nurse.team_id])
    supervisor_ids = [r.nurse_id for r in rows if r.nurse_id != nurse.id]
    if not supervisor_ids:
        return "--park: her team has no active supervisor to hold her patients; use --to"
    supervisor = await session.get(Nurse, supervisor_ids[0])
    assert supervisor is not None
    return supervisor


async def load_nurse(db: Database, config: Config, telegram_user_id: int) -> NurseView | None:
    """The active nurse with this Telegram id, or None (revoked or never enrolled)."""
    async with db.uow(read_only=True) as session:
        nurse = await people.nurse_by_telegram_id(session, telegram_user_id)
        if nurse is None or not nurse.active:
            return None
        return view_of(nurse, config)


async def mark_reachable(db: Database, clock: Clock, *, nurse_id: int) -> None:
    """She wrote to the bot again after blocking it: pushes may resume."""
    async with db.uow() as session:
        nurse = await session.get(Nurse, nurse_id)
        if nurse is not None and nurse.unreachable:
            nurse.unreachable = False
            due.note_nurse(session, nurse.id)  # her pushes resume
            await audit.record_audit(
                session,
                at=clock.now(),
                action="nurse.reachable",
                actor_nurse_id=nurse.id,
                entity="nurse",
                entity_id=nurse.id,
            )


async def record_refusal(
    db: Database, clock: Clock, *, telegram_user_id: int | None, kind: str, unanswered: int = 0
) -> None:
    """Audit one refusal; `unanswered`: updates of theirs since the last refusal that were only
    counted (a stranger is answered once per period)."""
    async with db.uow() as session:
        await audit.record_audit(
            session,
            at=clock.now(),
            action="access.refused",
            actor_telegram_id=telegram_user_id,
            command=kind,
            detail={"unanswered": unanswered} if unanswered else None,
        )


async def update_settings(
    db: Database,
    config: Config,
    clock: Clock,
    *,
    nurse_id: int,
    timezone: str | None = None,
    digest_time: time | None = None,
    privacy_mode: str | None = None,
    settings_done: bool | None = None,
) -> NurseView:
    now = clock.now()
    async with db.uow() as session:
        nurse = await session.get(Nurse, nurse_id)
        if nurse is None:
            raise LookupError("nurse not found")
        before = {
            "timezone": nurse.timezone,
            "digest_time": nurse.digest_time.isoformat(),
            "privacy_mode": nurse.privacy_mode,
        }
        if timezone is not None:
            nurse.timezone = timezone
        if digest_time is not None:
            nurse.digest_time = digest_time
        if privacy_mode is not None:
            nurse.privacy_mode = privacy_mode
        if settings_done is not None:
            nurse.settings_done = settings_done
        if timezone is not None or digest_time is not None:
            due.note_nurse(session, nurse.id)  # her digest may be due at another moment
        await session.flush()
        await audit.record_audit(
            session,
            at=now,
            action="settings.changed",
            actor_nurse_id=nurse.id,
            command="settings",
            entity="nurse",
            entity_id=nurse.id,
            detail={"before": before},
        )
        return view_of(nurse, config)

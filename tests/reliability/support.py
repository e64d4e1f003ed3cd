"""Helpers for the reliability suite and the load benchmark: nurses enrolled straight into the
database (no chat round trips), each with a patient, for tests that drive many of them."""

from __future__ import annotations

from bot.clock import Clock
from bot.config import Config
from bot.services import enrollment
from bot.services.nurse import NurseView
from bot.vocab import Role
from storage import patients
from storage.db import Database
from tests.fakes.telegram import FakeUser


async def enroll_direct(
    db: Database, config: Config, clock: Clock, user: FakeUser, *, patient: str = "Maria Lopez"
) -> int:
    """Enroll `user` as a nurse with settings done and one patient; return the nurse id."""
    invite = await enrollment.create_invite(
        db, config, clock, role=Role.NURSE, team="Team A", display_name=f"{user.first_name} RN"
    )
    nurse = await enrollment.redeem_invite(
        db,
        config,
        clock,
        code=invite.code,
        telegram_user_id=user.id,
        chat_id=user.id,
        fallback_name=user.first_name,
    )
    assert isinstance(nurse, NurseView)
    await enrollment.update_settings(db, config, clock, nurse_id=nurse.id, settings_done=True)
    async with db.uow() as session:
        await patients.create_patient(
            session, nurse_id=nurse.id, team_id=nurse.team_id, display_name=patient, now=clock.now()
        )
    return nurse.id

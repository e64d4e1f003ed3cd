"""Test helpers on top of the fake Telegram: enroll a nurse, read the last reply, count rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from bot.app.context import CasebotApplication
from bot.clock import ManualClock
from bot.services import enrollment
from bot.vocab import Role
from storage.db import Database
from storage.models import AuditEvent, Base
from tests.fakes.telegram import Call, FakeTelegram, FakeUser


@dataclass
class Harness:
    fake: FakeTelegram
    app: CasebotApplication
    db: Database
    clock: ManualClock

    async def invite(
        self, role: Role = Role.NURSE, *, team: str | None = "Team A", name: str | None = None
    ) -> str:
        new = await enrollment.create_invite(
            self.db,
            self.app.services.config,
            self.clock,
            role=role,
            team=team,
            display_name=name,
        )
        return new.code

    async def enroll(
        self,
        first_name: str = "Ana",
        *,
        role: Role = Role.NURSE,
        zone_button: str = "Central",
        digest_button: str = "07:30",
        team: str | None = "Team A",
    ) -> FakeUser:
        """A new user enrolls with an invite and answers the two settings questions."""
        user = self.fake.user(first_name=first_name)
        code = await self.invite(role, team=team, name=f"{first_name} RN")
        await self.send(user, f"/start {code}")
        await self.press(user, zone_button)
        await self.press(user, digest_button)
        return user

    async def send(self, user: FakeUser, text: str) -> list[Call]:
        return await self.fake.send_text(self.app, user, text)

    async def press(self, user: FakeUser, label: str, **kwargs: Any) -> list[Call]:
        return await self.fake.press(self.app, user, label, **kwargs)

    def last_text(self, user: FakeUser) -> str:
        return self.fake.last_message(user.id).text or ""

    async def row_counts(self, *, except_audit: bool = True) -> dict[str, int]:
        counts = {}
        async with self.db.uow(read_only=True) as session:
            for table in Base.metadata.sorted_tables:
                if except_audit and table.name == AuditEvent.__tablename__:
                    continue
                counts[table.name] = await session.scalar(select(func.count()).select_from(table))
        return counts

    async def audit_actions(self) -> list[str]:
        async with self.db.uow(read_only=True) as session:
            rows = await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
            return list(rows)

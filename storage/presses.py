"""Who owns the row a button names: the check behind every press of a record, care-plan,
referral or attendance button (bot.services.presses).

Kinds are the strings the buttons carry (RecordKind values and a few more); an unknown kind owns
nothing. Must not import telegram, handlers or bot (but bot.vocab).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Appointment,
    CareGoal,
    Contact,
    Episode,
    MedicationReconciliation,
    Patient,
    Referral,
    Task,
)

# Every model here has `id` and `nurse_id` columns.
OWNED: dict[str, Any] = {
    "contact": Contact,
    "appointment": Appointment,
    "episode": Episode,
    "med_rec": MedicationReconciliation,
    "task": Task,
    "goal": CareGoal,
    "referral": Referral,
    "patient": Patient,
}


async def owner_of(session: AsyncSession, kind: str, row_id: int) -> int | None:
    """The nurse id of the row, None when there is no such row (or no such kind)."""
    model = OWNED.get(kind)
    if model is None:
        return None
    owner = await session.scalar(select(model.nurse_id).where(model.id == row_id))
    return int(owner) if owner is not None else None

"""The digest's [Show all]: every line of a delivered digest, paginated. Audited read.

Must not import telegram or handlers.
"""

from __future__ import annotations

from bot.clock import Clock
from bot.config import Config
from bot.outbox.dispatcher import calendar_from, gather_digest
from bot.render.digest import render_digest_pages
from bot.vocab import DeliveryKind
from storage.audit import record_audit
from storage.db import Database
from storage.models import Delivery, Nurse


async def digest_pages_for(
    db: Database, config: Config, clock: Clock, *, nurse_id: int, delivery_id: int
) -> list[str] | None:
    """The full digest of one of her digest deliveries, or None if it is not hers."""
    now = clock.now()
    async with db.uow() as session:
        delivery = await session.get(Delivery, delivery_id)
        nurse = await session.get(Nurse, nurse_id)
        if (
            delivery is None
            or nurse is None
            or delivery.kind != DeliveryKind.DIGEST
            or delivery.nurse_id != nurse_id
        ):
            return None
        data = await gather_digest(
            session, nurse, now, config, calendar_from(config), scheduled_for=delivery.due_at
        )
        await record_audit(
            session,
            at=now,
            action="digest.viewed",
            actor_nurse_id=nurse_id,
            command="digest",
            entity="delivery",
            entity_id=delivery_id,
        )
    return render_digest_pages(data)

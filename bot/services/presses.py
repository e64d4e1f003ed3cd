"""Button presses that name rows: checked for ownership and, when forged, audited.

A press carries the id of the row it acts on (a record, an episode, a goal, a referral, a task, a
patient). Telegram signs nothing: anyone can send any callback data. So before a press of those
families reaches its use case, `check` confirms that every row it names is hers; a press naming a
row of another nurse's, or none, is refused and leaves a "press.refused" audit row (ids and the
reason only). Malformed data (no family can read it) is audited the same way by
`record_malformed`. Must not import telegram.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.clock import Clock
from storage.audit import record_audit
from storage.db import Database
from storage.presses import owner_of

ACTION = "press.refused"
NOT_FOUND = "not_found"
NOT_YOURS = "not_yours"
MALFORMED = "malformed"
UNROUTED = "unrouted"  # readable, but no handler takes it now (a question long closed)


async def check(
    db: Database,
    clock: Clock,
    *,
    nurse_id: int,
    telegram_user_id: int | None,
    family: str,
    rows: Sequence[tuple[str, int]],
) -> bool:
    """True when every (kind, id) in `rows` is this nurse's; else audit the refusal, False."""
    if not rows:
        return True
    async with db.uow(read_only=True) as session:
        owners = [(kind, row_id, await owner_of(session, kind, row_id)) for kind, row_id in rows]
    refused = [(kind, row_id, owner) for kind, row_id, owner in owners if owner != nurse_id]
    if not refused:
        return True
    kind, row_id, owner = refused[0]
    async with db.uow() as session:
        await record_audit(
            session,
            at=clock.now(),
            action=ACTION,
            actor_nurse_id=nurse_id,
            actor_telegram_id=telegram_user_id,
            command=f"press:{family}",
            entity=kind,
            entity_id=row_id,
            detail={"reason": NOT_FOUND if owner is None else NOT_YOURS},
        )
    return False


async def record_malformed(
    db: Database,
    clock: Clock,
    *,
    nurse_id: int | None,
    telegram_user_id: int | None,
    family: str,
    reason: str = MALFORMED,
) -> None:
    """Audit a press whose data no button of `family` could have carried (or, `reason`
    UNROUTED, that no handler took)."""
    async with db.uow() as session:
        await record_audit(
            session,
            at=clock.now(),
            action=ACTION,
            actor_nurse_id=nurse_id,
            actor_telegram_id=telegram_user_id,
            command=f"press:{family}",
            detail={"reason": reason},
        )

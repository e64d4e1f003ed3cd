"""The optional idle lock: PINs (hashed with scrypt and a salt), wrong-PIN lock-out, idleness.

After `privacy.idle_lock_minutes` without activity, patient data needs the nurse's PIN again;
`MAX_ATTEMPTS` wrong PINs in a row lock her out (Nurse.locked_at) until an admin unlocks her,
and the admins are told. A PIN is never logged, stored in clear, or put in an audit detail.

Hashing runs in a worker thread (scrypt costs tens of milliseconds on purpose). Idleness is kept
in memory per process: after a restart everyone counts as idle, the safe side.
Must not import telegram or handlers.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from bot.clock import Clock
from storage import audit, people
from storage.db import Database
from storage.models import Nurse

MAX_ATTEMPTS = 5
PIN_PATTERN = re.compile(r"\d{4,8}")
_N, _R, _P = 2**14, 8, 1


def looks_like_pin(text: str) -> bool:
    """4 to 8 digits, nothing else."""
    return PIN_PATTERN.fullmatch(text.strip()) is not None


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """scrypt$N$r$p$salt$hash (hex), for Nurse.pin_hash."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """Constant-time check of `pin` against a hash_pin() string."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)


class PinCheck(Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED_NOW = "locked_now"  # this wrong PIN was the last allowed: she is locked out
    LOCKED = "locked"  # already locked out


@dataclass(frozen=True)
class PinState:
    has_pin: bool
    locked: bool
    failures: int


@dataclass(frozen=True)
class PinOutcome:
    result: PinCheck
    remaining: int = MAX_ATTEMPTS
    admin_chat_ids: tuple[int, ...] = ()  # to tell when she has just been locked out
    nurse_name: str = ""


@dataclass
class IdleTracker:
    """Last activity per nurse (this process), and who has been asked for a PIN."""

    last_active: dict[int, datetime] = field(default_factory=dict)

    def is_idle(self, nurse_id: int, now: datetime, minutes: int) -> bool:
        last = self.last_active.get(nurse_id)
        return last is None or now - last >= timedelta(minutes=minutes)

    def touch(self, nurse_id: int, now: datetime) -> None:
        self.last_active[nurse_id] = now


async def pin_state(db: Database, *, nurse_id: int) -> PinState:
    async with db.uow(read_only=True) as session:
        nurse = await session.get(Nurse, nurse_id)
        if nurse is None:
            return PinState(has_pin=False, locked=False, failures=0)
        return PinState(
            has_pin=nurse.pin_hash is not None,
            locked=nurse.locked_at is not None,
            failures=nurse.pin_failures,
        )


async def set_pin(db: Database, clock: Clock, *, nurse_id: int, pin: str) -> None:
    """Set or change her PIN (the caller checked she may); audited without the PIN."""
    hashed = await asyncio.to_thread(hash_pin, pin)
    async with db.uow() as session:
        nurse = await session.get(Nurse, nurse_id)
        if nurse is None:
            raise LookupError("nurse not found")
        had_pin = nurse.pin_hash is not None
        nurse.pin_hash = hashed
        nurse.pin_failures = 0
        await audit.record_audit(
            session,
            at=clock.now(),
            action="pin.changed" if had_pin else "pin.set",
            actor_nurse_id=nurse.id,
            command="pin",
            entity="nurse",
            entity_id=nurse.id,
            detail={"had_pin": had_pin},
        )


async def check_pin(db: Database, clock: Clock, *, nurse_id: int, pin: str) -> PinOutcome:
    """Check a PIN she typed; count failures; lock her out at MAX_ATTEMPTS (audited)."""
    async with db.uow(read_only=True) as session:
        nurse = await session.get(Nurse, nurse_id)
        stored = nurse.pin_hash if nurse is not None else None
        if nurse is None or nurse.locked_at is not None or stored is None:
            return PinOutcome(PinCheck.LOCKED, remaining=0)
    good = await asyncio.to_thread(verify_pin, pin, stored)
    now = clock.now()
    async with db.uow() as session:
        nurse = await session.get(Nurse, nurse_id)
        if nurse is None or nurse.locked_at is not None:
            return PinOutcome(PinCheck.LOCKED, remaining=0)
        if good:
            nurse.pin_failures = 0
            await audit.record_audit(
                session, at=now, action="pin.ok", actor_nurse_id=nurse.id, command="pin",
                entity="nurse", entity_id=nurse.id,
            )  # fmt: skip
            return PinOutcome(PinCheck.OK)
        prior = nurse.pin_failures
        nurse.pin_failures = prior + 1
        if nurse.pin_failures < MAX_ATTEMPTS:
            await audit.record_audit(
                session, at=now, action="pin.failed", actor_nurse_id=nurse.id, command="pin",
                entity="nurse", entity_id=nurse.id, detail={"failures_before": prior},
            )  # fmt: skip
            return PinOutcome(PinCheck.WRONG, remaining=MAX_ATTEMPTS - nurse.pin_failures)
        nurse.locked_at = now
        await audit.record_audit(
            session, at=now, action="pin.locked_out", actor_nurse_id=nurse.id, command="pin",
            entity="nurse", entity_id=nurse.id, detail={"failures_before": prior},
        )  # fmt: skip
        admins = await people.admin_chat_ids(session, except_nurse_id=nurse.id)
        return PinOutcome(
            PinCheck.LOCKED_NOW,
            remaining=0,
            admin_chat_ids=tuple(admins),
            nurse_name=nurse.display_name,
        )


async def unlock(
    db: Database, clock: Clock, *, telegram_user_id: int, by_nurse_id: int | None
) -> bool:
    """An admin lifts a lock-out; her old PIN is cleared, so she chooses a new one."""
    async with db.uow() as session:
        nurse = await people.nurse_by_telegram_id(session, telegram_user_id)
        if nurse is None or nurse.locked_at is None:
            return False
        prior = nurse.locked_at.isoformat()
        nurse.locked_at = None
        nurse.pin_failures = 0
        nurse.pin_hash = None
        await audit.record_audit(
            session, at=clock.now(), action="pin.unlocked", actor_nurse_id=by_nurse_id,
            command="unlock", entity="nurse", entity_id=nurse.id, detail={"locked_at": prior},
        )  # fmt: skip
        return True

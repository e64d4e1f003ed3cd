"""The optional idle lock: choosing a PIN, the PIN after idle minutes, five wrong PINs lock her
out and tell an admin, an admin unlocks; PINs are hashed, deleted from the chat, never logged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.services import pin
from bot.vocab import Role
from handlers import lock
from storage.models import Nurse
from tests.fakes.telegram import FakeUser
from tests.harness import Harness
from tests.reliability.conftest import HarnessFactory

PIN = "482913"


async def _nurse(h: Harness, user: FakeUser) -> Nurse:
    async with h.db.uow(read_only=True) as session:
        row = await session.scalar(select(Nurse).where(Nurse.telegram_user_id == user.id))
    assert row is not None
    return row


def test_pins_are_salted_scrypt_hashes() -> None:
    first, second = pin.hash_pin(PIN), pin.hash_pin(PIN)
    assert first != second
    assert first.startswith("scrypt$")
    assert PIN not in first
    assert pin.verify_pin(PIN, first)
    assert pin.verify_pin(PIN, second)
    assert not pin.verify_pin("482914", first)
    assert not pin.verify_pin(PIN, "garbage")
    assert not pin.verify_pin(PIN, "scrypt$1$2$3$zz$00")
    assert pin.looks_like_pin(" 1234 ")
    assert not pin.looks_like_pin("123")
    assert not pin.looks_like_pin("123456789")
    assert not pin.looks_like_pin("12a4")


async def test_she_chooses_a_pin_and_after_idle_minutes_must_give_it(
    make_harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with make_harness(CASEBOT_PRIVACY_IDLE_LOCK_MINUTES="15") as h:
        ana = await h.enroll("Ana")
        await h.send(ana, "who is overdue?")
        assert "choose a PIN" in h.last_text(ana)
        assert "NOT saved" in h.last_text(ana)
        calls = await h.send(ana, PIN)
        assert h.last_text(ana) == lock.PIN_SET
        assert "deleteMessage" in [c.method for c in calls], "the PIN left the chat"
        row = await _nurse(h, ana)
        assert row.pin_hash is not None
        assert PIN not in row.pin_hash
        await h.send(ana, "/help")
        assert "What I understand" in h.last_text(ana)
        h.clock.advance(timedelta(minutes=14))
        await h.send(ana, "who is overdue?")
        assert "Locked" not in h.last_text(ana)
        h.clock.advance(timedelta(minutes=15))
        await h.send(ana, "who is overdue?")
        assert "send your PIN" in h.last_text(ana)
        assert "NOT saved" in h.last_text(ana)
        await h.send(ana, "/help")  # /help shows no patient data
        assert "What I understand" in h.last_text(ana)
        await h.send(ana, PIN)
        assert h.last_text(ana) == lock.UNLOCKED
        await h.send(ana, "/pin 123")
        assert h.last_text(ana) == lock.PIN_USAGE
        await h.send(ana, "/pin 7777")
        assert h.last_text(ana) == lock.PIN_CHANGED
        actions = await h.audit_actions()
        assert {"pin.set", "pin.ok", "pin.changed"} <= set(actions)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert PIN not in logged
    assert "7777" not in logged


async def test_five_wrong_pins_lock_her_out_and_tell_an_admin_who_can_unlock(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness(CASEBOT_PRIVACY_IDLE_LOCK_MINUTES="10") as h:
        boss = await h.enroll("Bea", role=Role.ADMIN)
        ana = await h.enroll("Ana")
        await h.send(boss, "1111")
        await h.send(ana, PIN)
        h.clock.advance(timedelta(minutes=11))
        for remaining in (4, 3, 2, 1):
            await h.send(ana, "0000")
            assert h.last_text(ana) == lock.WRONG_PIN.format(remaining=remaining)
        await h.send(ana, "0000")
        assert "locked" in h.last_text(ana)
        assert "Ana RN" in h.last_text(boss)
        assert f"/unlock {ana.id}" in h.last_text(boss)
        await h.send(ana, PIN)  # even the right PIN: locked until an admin unlocks
        assert "locked" in h.last_text(ana)
        row = await _nurse(h, ana)
        assert row.active
        assert row.locked_at is not None
        assert row.pin_failures == 5
        actions = await h.audit_actions()
        assert actions.count("pin.failed") == 4
        assert "pin.locked_out" in actions
        await h.send(boss, "1111")  # she is idle too
        await h.send(boss, f"/unlock {ana.id}")
        assert "Unlocked" in h.last_text(boss)
        await h.send(ana, "who is overdue?")
        assert "choose a PIN" in h.last_text(ana)
        assert "pin.unlocked" in await h.audit_actions()


async def test_a_button_press_while_locked_is_answered_not_acted_on(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness(CASEBOT_PRIVACY_IDLE_LOCK_MINUTES="10") as h:
        ana = await h.enroll("Ana")
        await h.send(ana, PIN)
        await h.send(ana, "/settings")
        labels = h.fake.last_message(ana.id).button_labels
        h.clock.advance(timedelta(minutes=30))
        before = await h.row_counts()
        calls = await h.press(ana, labels[0])
        answers = [c for c in calls if c.method == "answerCallbackQuery"]
        assert answers
        assert "Locked" in str(answers[0].params.get("text"))
        assert await h.row_counts() == before


async def test_with_the_lock_off_pin_says_so_and_nothing_is_asked(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness() as h:
        ana = await h.enroll("Ana")
        await h.send(ana, "/pin 1234")
        assert h.last_text(ana) == lock.LOCK_OFF
        h.clock.advance(timedelta(days=3))
        await h.send(ana, "/help")
        assert "What I understand" in h.last_text(ana)

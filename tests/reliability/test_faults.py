"""Faults, one test each: the bot SIGKILLed during writes, the database gone, Telegram failing
on replies (429 storms, 5xx, timeouts), forged and replayed button presses.

Webhook calls without or with a wrong secret are tested in
tests/e2e/test_wiring.py::test_webhook_refuses_calls_without_the_secret_token.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import time
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.render import messages
from bot.render import records as render
from bot.render.callbacks import FAMILIES, CallbackData, Codes, Number
from storage.db import Database, DatabaseUnavailable
from storage.models import CareGoal, Contact, Episode, Referral, Task
from tests.harness import Harness
from tests.reminder_support import add_patient, nurse_row

SAVED = "Saved"


async def _contacts(h: Harness, token: str | None = None) -> int:
    query = select(func.count()).select_from(Contact)
    if token is not None:
        query = query.where(Contact.note.contains(token))
    async with h.db.uow(read_only=True) as session:
        return int(await session.scalar(query) or 0)


class CommitFails(Database):
    """The database drops the connection at commit: the transaction's work is rolled back."""

    def __init__(self, real: Database) -> None:  # noqa: D107 - shares the real engine
        self.__dict__.update(real.__dict__)
        self._real = real

    @asynccontextmanager
    async def uow(
        self, *, read_only: bool = False, urgent: bool = False
    ) -> AsyncIterator[AsyncSession]:
        if read_only:
            async with self._real.uow(read_only=True) as session:
                yield session
            return
        try:
            async with self._real.uow() as session:
                yield session
                await session.flush()
                raise ConnectionResetError("connection lost at commit")
        except ConnectionResetError as exc:
            raise DatabaseUnavailable("ConnectionResetError") from exc


# -- the database unavailable ---------------------------------------------------------------------


async def test_database_unavailable_is_never_a_false_confirmation_and_recovers(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    services = harness.app.services
    real = services.db
    unreachable = Database("postgresql+asyncpg://casebot@127.0.0.1:9/nowhere", pool_size=1)
    try:
        services.db = unreachable  # down entirely: even the access gate cannot read
        calls = await harness.send(ana, "spoke with Maria Lopez re down-1, f/u Fri")
        texts = [c.params.get("text", "") for c in calls if c.method == "sendMessage"]
        assert texts == [messages.DB_UNAVAILABLE], texts
        services.db = CommitFails(real)  # reads work, the commit is lost
        calls = await harness.send(ana, "spoke with Maria Lopez re down-2, f/u Fri")
        texts = [c.params.get("text", "") for c in calls if c.method == "sendMessage"]
        assert texts == [messages.DB_UNAVAILABLE], texts
        assert not any(SAVED in t for t in texts)
    finally:
        services.db = real
        await unreachable.dispose()
    assert await _contacts(harness) == 0
    await harness.send(ana, "spoke with Maria Lopez re back-3, f/u Fri")
    assert SAVED in harness.last_text(ana)
    assert await _contacts(harness) == 1


# -- Telegram failing on replies ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["429", "5xx", "timeout", "timeout_after_delivery"])
async def test_a_failed_confirmation_loses_no_record_and_logs_nothing_twice(
    harness: Harness, kind: Any
) -> None:
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    harness.fake.inject("sendMessage", kind, times=2 if kind == "429" else 1, retry_after=1)
    update = harness.fake.private_text(ana, "spoke with Maria Lopez re fault-1, f/u Fri")
    await harness.fake._feed_and_collect(harness.app, update)
    assert await _contacts(harness, "fault-1") == 1, "saved before the reply was attempted"
    if kind == "429":
        assert SAVED in harness.last_text(ana), "the rate limiter retried the confirmation"
    # Telegram redelivers the same update (e.g. after a crash before the offset was confirmed).
    await harness.fake._feed_and_collect(harness.app, update)
    assert await _contacts(harness, "fault-1") == 1
    assert harness.last_text(ana) == render.duplicate()


async def test_a_saved_message_whose_confirmation_failed_is_not_called_unsaved(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    harness.fake.inject("sendMessage", "5xx")
    await harness.send(ana, "spoke with Maria Lopez re fault-2, f/u Fri")
    assert await _contacts(harness, "fault-2") == 1
    assert "Nothing from that message was saved" not in harness.last_text(ana)
    assert "was saved" in harness.last_text(ana)


async def test_a_storm_of_telegram_faults_on_replies_loses_nothing(harness: Harness) -> None:
    users = [await harness.enroll(name) for name in ("Ana", "Bea")]
    for user in users:
        await add_patient(harness, user, "Maria Lopez")
    harness.fake.fail_randomly(
        rate=0.3, kinds=("5xx", "timeout", "timeout_after_delivery"), seed=11
    )
    harness.fake.inject("sendMessage", "429", times=2, retry_after=1)
    for n in range(12):
        for user in users:
            await harness.send(
                user, f"spoke with Maria Lopez re storm-{user.first_name}-{n:02d}, f/u Fri"
            )
    assert sum(harness.fake.fault_counts.values()) >= 5
    for user in users:
        for n in range(12):
            assert await _contacts(harness, f"storm-{user.first_name}-{n:02d}") == 1
    assert await _contacts(harness) == 24, "each message saved once"


# -- forged and replayed button presses -----------------------------------------------------------


async def test_forged_and_replayed_button_presses_are_refused_and_audited(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    bea = await harness.enroll("Bea")
    stranger = harness.fake.user(first_name="Eve")
    await add_patient(harness, ana, "Maria Lopez")
    await harness.send(ana, "spoke with Maria Lopez re press-1, f/u Fri")
    saved = harness.fake.last_message(ana.id)
    before = await harness.row_counts()

    # A stranger replays Ana's Undo press as if it were hers.
    forged = harness.fake.callback_press(ana, saved.message_id, render.UNDO)
    forged["callback_query"]["from"] = stranger.to_api()
    calls = await harness.fake._feed_and_collect(harness.app, forged)
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params["text"] == messages.REFUSAL
    assert "access.refused" in await harness.audit_actions()

    # Another nurse replays it.
    forged = harness.fake.callback_press(ana, saved.message_id, render.UNDO)
    forged["callback_query"]["from"] = bea.to_api()
    calls = await harness.fake._feed_and_collect(harness.app, forged)
    assert await harness.row_counts() == before, "nothing of Ana's changed"
    assert not any(
        "Maria" in str(c.params.get("text", "")) for c in calls if c.params.get("chat_id") == bea.id
    ), "no patient data to the other nurse"

    # Forged callback data: an id that is not hers, and garbage.
    for data in ("rc:u:999999", "tk:d:999999", "zz:\u202e<b>x", "rc:u:" + "9" * 58):
        forged = harness.fake.callback_press(ana, saved.message_id, render.UNDO)
        forged["callback_query"]["data"] = data
        calls = await harness.fake._feed_and_collect(harness.app, forged)
        texts = [str(c.params.get("text", "")) for c in calls]
        assert not any(messages.ERROR_APOLOGY[:20] in t for t in texts), (data, texts)
    assert await harness.row_counts() == before

    # Ana presses Undo, then the same button press is replayed: undone once.
    for _ in range(2):
        press = harness.fake.callback_press(ana, saved.message_id, render.UNDO)
        await harness.fake._feed_and_collect(harness.app, press)
    assert await harness.row_counts() == before
    async with harness.db.uow(read_only=True) as session:
        contact = await session.scalar(select(Contact).where(Contact.note.contains("press-1")))
    assert contact is not None
    assert contact.undone_at is not None
    actions = await harness.audit_actions()
    assert actions.count("record.undone") == 1


MISSING = 999_999_999


def _forged(family: type[CallbackData], ids: dict[str, int]) -> Iterator[str]:
    """Presses of `family` no nurse was sent: every choice with `ids` (an id field by its name;
    MISSING where none is given), the first choice with ids that match no row, and garbage."""
    choices = [
        list(codec.table) if isinstance(codec, Codes) else [None] for _, codec in family.codecs
    ]
    for combination, missing in itertools.chain(
        ((c, False) for c in itertools.product(*choices)),
        [(next(itertools.product(*choices)), True)],
    ):
        values: dict[str, Any] = {}
        for (name, codec), choice in zip(family.codecs, combination, strict=True):
            if isinstance(codec, Codes):
                values[name] = choice
            elif isinstance(codec, Number):
                wanted = MISSING if missing else ids.get(name, MISSING)
                values[name] = min(max(wanted, codec.low), codec.high)
            elif name == "token":
                values[name] = "AAAAAAAA"
            else:
                values[name] = time(7, 0)
        yield family(**values).pack()
    yield from (
        family.prefix,
        f"{family.prefix}:x",
        f"{family.prefix}:\u0663",  # an Arabic-Indic digit: isdigit() says yes, int() may not
        f"{family.prefix}:{'9' * 40}",
        family.prefix + ":" + ":".join("1" for _ in range(len(family.codecs) + 1)),
    )


async def test_forged_presses_of_every_button_family_get_a_kind_answer(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    ana = await harness.enroll("Ana")
    bea = await harness.enroll("Bea")
    await add_patient(harness, ana, "Maria Lopez")
    stone = await add_patient(harness, bea, "Paul Stone")
    for text in (
        "spoke with Paul Stone re forge-1, f/u Fri",
        "goal for Paul Stone: walk daily",
        "referred Paul Stone to cardiology today",
        "Paul Stone d/c from Mercy today",
    ):
        await harness.send(bea, text)
    beas = await nurse_row(harness, bea)
    async with harness.db.uow(read_only=True) as session:

        async def first(model: Any) -> int:
            found = await session.scalar(
                select(model.id).where(model.nurse_id == beas.id).order_by(model.id)
            )
            assert found is not None, model
            return int(found)

        # Bea's rows, by the field names the button families give their ids.
        ids = {
            "patient_id": stone,
            "nurse_id": beas.id,
            "record_id": await first(Contact),
            "episode_id": await first(Episode),
            "task_id": await first(Task),
            "goal_id": await first(CareGoal),
            "referral_id": await first(Referral),
            "page": 1,
            "days": 14,
        }
    await harness.send(ana, "/today")  # the list she saw last is kept (forged page turns redo it)
    await harness.send(ana, "spoke with Maria Lopez re press-2, f/u Fri")
    before = await harness.row_counts()
    caplog.set_level(logging.ERROR, logger="casebot.errors")

    pressed = 0
    for data in itertools.chain(
        *(_forged(family, ids) for family in FAMILIES),
        ["", ":", "zz", "zz:\u202e<b>x", "tk:d:1\n", "q:pt:" + "1" * 60],
    ):
        # Her latest message with buttons: answers edit the message pressed, some drop its
        # buttons; /resources brings a fresh one ([Add a resource]) when none is left.
        message = next((m for m in reversed(harness.fake.sent_messages(ana.id)) if m.buttons), None)
        if message is None:
            await harness.send(ana, "/resources")
            message = harness.fake.last_message(ana.id)
        forged = harness.fake.callback_press(ana, message.message_id, message.buttons[0].label)
        forged["callback_query"]["data"] = data
        calls = await harness.fake._feed_and_collect(harness.app, forged)
        pressed += 1
        answers = [c for c in calls if c.method == "answerCallbackQuery"]
        said = [
            str(c.params.get("text", ""))
            for c in calls
            if c.method in {"answerCallbackQuery", "sendMessage", "editMessageText"}
        ]
        assert len(answers) == 1, (data, [c.method for c in calls])
        assert any(said), (data, "the press is answered in words")
        assert not any(messages.ERROR_APOLOGY[:20] in t for t in said), (data, said)
        assert not any("Paul" in t or "Stone" in t for t in said), (data, "none of Bea's data")
        assert not caplog.records, (data, caplog.records)
    assert pressed > 200
    assert await harness.row_counts() == before, "no forged press changed anything"
    actions = set(await harness.audit_actions())
    assert {"patient.access_refused", "task.refused"} <= actions, "refusals audited as before"

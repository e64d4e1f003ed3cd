"""A stateful property test: nurses enroll, log in free text, edit, undo, get reminded, snooze,
finish tasks, are revoked, and the bot restarts on the same database, in random orders. After
every step: no confirmed record is lost or doubled, no task is pushed after it was finished,
nothing is sent to a revoked nurse but refusals, no reply over 4,096 characters, and every
reply is HTML Telegram accepts (the fake parses it, so unescaped user text fails)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from bot.clock import ManualClock
from bot.render import messages
from bot.render import records as render
from bot.services import enrollment
from bot.vocab import TaskStatus
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Contact, Delivery, Nurse, Task
from tests.conftest import START
from tests.fakes.telegram import FakeTelegram, FakeUser
from tests.reliability.conftest import running_harness
from tests.reminder_support import add_patient, run_pass

T = TypeVar("T")
NOTES = st.text(alphabet=st.sampled_from("<>&\"' abc/*_"), max_size=10)
FOLLOW_UPS = st.sampled_from(["f/u Fri", "f/u tomorrow", "f/u in 2 days", "f/u Dec 3"])


class CaseFlow(RuleBasedStateMachine):
    """The real Application on a SQLite file, driven through the fake Telegram."""

    nurses = Bundle("nurses")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.dir = Path(tempfile.mkdtemp(prefix="casebot-stateful-"))
        self.clock = ManualClock(START)
        self.fake = FakeTelegram()
        self.db = Database(f"sqlite+aiosqlite:///{self.dir / 'casebot.db'}")
        self.run(upgrade(self.db))
        self._open()
        self.enrolled: dict[int, FakeUser] = {}
        self.revoked_at: dict[int, int] = {}  # user id -> bot messages she had at revocation
        self.saved: list[str] = []  # tokens of messages the bot confirmed "Saved"
        self.logged: dict[int, tuple[int, int, str]] = {}  # user -> (her msg, reply, token)
        self.counter = 0

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def _open(self) -> None:
        self.cm = running_harness(self.fake, self.db, self.clock, self.dir, rate_limiter=False)
        self.h = self.run(self.cm.__aenter__())

    def teardown(self) -> None:
        try:
            self.run(self.cm.__aexit__(None, None, None))
            self.run(self.db.dispose())
        finally:
            self.loop.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- rules ---------------------------------------------------------------------------------

    @initialize(target=nurses)
    def first_nurse(self) -> FakeUser:
        return self.enroll()

    @rule(target=nurses)
    def enroll(self) -> FakeUser:
        user = self.run(self.h.enroll(f"N{len(self.enrolled) + len(self.revoked_at)}"))
        self.run(add_patient(self.h, user, "Maria Lopez"))
        self.enrolled[user.id] = user
        return user

    @rule(nurse=nurses, note=NOTES, follow_up=FOLLOW_UPS)
    def log(self, nurse: FakeUser, note: str, follow_up: str) -> None:
        self.counter += 1
        token = f"tok{self.counter}x"
        text = f"spoke with Maria Lopez re {token} {note}, {follow_up}"
        update = self.fake.private_text(nurse, text)
        self.run(self.fake._feed_and_collect(self.h.app, update))
        reply = self.fake.last_message(nurse.id)
        if nurse.id not in self.enrolled:
            assert reply.text == messages.REFUSAL
            return
        if "Saved" in (reply.text or ""):
            self.saved.append(token)
            self.logged[nurse.id] = (update["message"]["message_id"], reply.message_id, token)
        self.run(self.h.send(nurse, "/cancel"))  # a question left open does not leak on

    @precondition(lambda self: bool(self.logged))
    @rule(data=st.data())
    def edit(self, data: st.DataObject) -> None:
        user_id = data.draw(st.sampled_from(sorted(self.logged)))
        message_id, _, token = self.logged[user_id]
        user = self.fake.users[user_id]
        before = self._contacts()
        text = f"spoke with Maria Lopez re {token}-edited"
        update = self.fake.edited_text(user, message_id, text)
        self.run(self.fake._feed_and_collect(self.h.app, update))
        assert self._contacts() == before, "an edit logs nothing"

    @precondition(lambda self: bool(self.logged))
    @rule(data=st.data())
    def undo(self, data: st.DataObject) -> None:
        user_id = data.draw(st.sampled_from(sorted(self.logged)))
        _, reply_id, _ = self.logged[user_id]
        user = self.fake.users[user_id]
        if render.UNDO in self.fake.message(user_id, reply_id).button_labels:
            self.run(self.h.press(user, render.UNDO, message_id=reply_id))

    @rule(hours=st.integers(min_value=1, max_value=72))
    def remind(self, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))
        self.run(run_pass(self.h))

    @rule(nurse=nurses, label=st.sampled_from(["Snooze 1h", "Done", "Tomorrow"]))
    def press_on_reminder(self, nurse: FakeUser, label: str) -> None:
        pushed = [m for m in self.fake.sent_messages(nurse.id) if label in m.button_labels]
        if pushed:
            self.run(self.h.press(nurse, label, message_id=pushed[-1].message_id))

    @precondition(lambda self: len(self.enrolled) > 1)
    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        user_id = data.draw(st.sampled_from(sorted(self.enrolled)))
        heir = data.draw(st.sampled_from(sorted(set(self.enrolled) - {user_id})))
        done = self.run(
            enrollment.revoke(self.db, self.clock, telegram_user_id=user_id, to=str(heir))
        )
        assert done.revoked, done.problem  # her caseload goes to a teammate, never to nobody
        del self.enrolled[user_id]
        self.logged.pop(user_id, None)
        self.revoked_at[user_id] = len(self.fake.sent_messages(user_id, include_deleted=True))

    @rule()
    def restart(self) -> None:
        self.run(self.cm.__aexit__(None, None, None))
        self._open()

    # -- invariants ----------------------------------------------------------------------------

    def _contacts(self) -> list[str]:
        async def notes() -> list[str]:
            async with self.db.uow(read_only=True) as session:
                return [n or "" for n in await session.scalars(select(Contact.note))]

        return self.run(notes())

    @invariant()
    def no_confirmed_record_is_lost_or_doubled(self) -> None:
        notes = self._contacts()
        for token in self.saved:
            assert sum(token in note for note in notes) == 1, token

    @invariant()
    def no_task_is_pushed_after_it_was_finished(self) -> None:
        async def rows() -> list[tuple[Task, list[Delivery]]]:
            async with self.db.uow(read_only=True) as session:
                tasks = list(await session.scalars(select(Task)))
                sent = list(await session.scalars(select(Delivery)))
            return [(t, [d for d in sent if d.task_id == t.id]) for t in tasks]

        for task, pushes in self.run(rows()):
            finished = task.status in (TaskStatus.DONE, TaskStatus.CANCELLED)
            assert finished == (task.completed_at is not None), (task.id, task.status)
            if task.completed_at is not None:
                late = [
                    d for d in pushes if d.sent_at is not None and d.sent_at > task.completed_at
                ]
                assert not late, f"task {task.id} pushed after it was {task.status.value}"

    @invariant()
    def every_push_goes_to_an_enrolled_nurse(self) -> None:
        for user_id, count in self.revoked_at.items():
            after = self.fake.sent_messages(user_id, include_deleted=True)[count:]
            assert all(m.text == messages.REFUSAL for m in after), [m.text for m in after]

        async def active() -> set[int]:
            async with self.db.uow(read_only=True) as session:
                rows = await session.scalars(select(Nurse.chat_id).where(Nurse.active.is_(True)))
                return {r for r in rows if r is not None}

        assert set(self.enrolled) == self.run(active())

    @invariant()
    def every_reply_is_valid_telegram_html_within_4096(self) -> None:
        for call in self.fake.calls:
            if call.method in {"sendMessage", "editMessageText"}:
                assert call.error is None, (call.method, call.error)
                assert len(str(call.params.get("text", ""))) <= 4096


@pytest.mark.slow
def test_case_flow_state_machine() -> None:
    run_state_machine_as_test(
        CaseFlow,
        settings=settings(
            max_examples=15,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

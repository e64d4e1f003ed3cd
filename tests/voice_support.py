"""Voice-note test support: the committed fixtures, the test caseload, the real engine, and a
gated transcriber for the tests about the pool's limits (not about the model)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram.request import BaseRequest

from bot.app.context import CasebotApplication
from bot.app.factory import build_application
from bot.clock import ManualClock
from bot.config import Config
from bot.voice import Voice, install_voice
from bot.voice.engine import Transcript, WhisperTranscriber, missing_extra
from bot.voice.pool import TranscriptionPool
from storage import patients
from storage.db import Database
from storage.models import Nurse
from tests.fakes.telegram import FakeUser
from tests.harness import Harness

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "voice"

CASELOAD = (
    "Maria Lopez",
    "Maria Santos",
    "John Smith",
    "Dorothy Chen",
    "Robert King",
    "Aisha Patel",
    "Linda Nguyen",
    "Samuel Okafor",
    "Grace Kim",
    "Harold Jensen",
    "William Brown",
)
"""The nurse's patients in the voice tests (the fixtures name some of them)."""


@dataclass(frozen=True)
class FixtureNote:
    """One committed voice note (made by make_fixtures.sh) and what it says."""

    file: str
    text: str
    patients: tuple[str, ...]
    intent: str

    @property
    def audio(self) -> bytes:
        return (FIXTURES / self.file).read_bytes()


def fixture_notes() -> list[FixtureNote]:
    raw = json.loads((FIXTURES / "notes.json").read_text())
    return [FixtureNote(n["file"], n["text"], tuple(n["patients"]), n["intent"]) for n in raw]


def fixture_note(file: str) -> FixtureNote:
    return next(n for n in fixture_notes() if n.file == file)


async def add_caseload(harness: Harness, user: FakeUser, names: Sequence[str]) -> None:
    """Give the enrolled `user` these active patients."""
    async with harness.db.uow(read_only=True) as session:
        nurse = await session.scalar(select(Nurse).where(Nurse.telegram_user_id == user.id))
        assert nurse is not None
    async with harness.db.uow() as session:
        for name in names:
            await patients.create_patient(
                session, nurse_id=nurse.id, team_id=None, display_name=name,
                now=harness.clock.now(),
            )  # fmt: skip


def load_whisper() -> WhisperTranscriber:
    """The real engine with the pinned model, loaded (skips, visibly, without the extra)."""
    reason = missing_extra()
    if reason is not None:
        pytest.skip(f"voice extra not installed: {reason}")
    engine = WhisperTranscriber(workers=1, cpu_threads=1)
    engine.load()
    return engine


@asynccontextmanager
async def running_app(
    config: Config, db: Database, clock: ManualClock, *, request: BaseRequest | None = None
) -> AsyncIterator[CasebotApplication]:
    """The application as the `app` fixture runs it, for a configuration of the test's own
    (without `request`: PTB's HTTP client, to config.telegram.base_url)."""
    app = build_application(
        config, db=db, clock=clock, request=request, get_updates_request=request, dispatch=False
    )
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()
        await app.shutdown()


async def until(condition: Callable[[], bool], what: str) -> None:
    """Let the event loop run until `condition` holds (bounded: fails after 30 s)."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def install_pool(
    app: CasebotApplication,
    transcriber: WhisperTranscriber | GatedTranscriber,
    *,
    workers: int = 1,
    queue: int = 4,
    max_seconds: int = 120,
) -> TranscriptionPool:
    """Give the application a pool around `transcriber` (close it after the test)."""
    pool = TranscriptionPool(transcriber, workers=workers, queue=queue)
    install_voice(app.services.extras, Voice(max_seconds=max_seconds, pool=pool))
    return pool


class GatedTranscriber:
    """A Transcriber that answers a fixed text once the test opens its gate: it holds a worker
    for as long as a test needs, to fill the pool and its queue."""

    def __init__(self, text: str, *, open: bool = False) -> None:
        self.text = text
        self.gate = threading.Event()
        if open:
            self.gate.set()
        self.heard: list[tuple[int, tuple[str, ...]]] = []  # (audio bytes, names) per call

    def transcribe(self, audio: bytes, *, names: Sequence[str], max_seconds: float) -> Transcript:
        self.heard.append((len(audio), tuple(names)))
        if not self.gate.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")
        return Transcript(self.text, audio_seconds=3.0, seconds=0.0)

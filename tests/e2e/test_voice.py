"""Voice notes end to end through the fake Telegram, with the real speech model: a voice message
-> getFile -> the file download -> the transcript and its reading under [Save] [Fix] [Cancel]
-> saved only on [Save] (keyed on the voice message, audited as voice); [Cancel] and [Fix] save
nothing; a failed download, an unreadable or too long recording say so and save nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.render import records as records_render
from bot.render import voice as render
from bot.services import records as service
from bot.voice.engine import WhisperTranscriber
from bot.voice.pool import TranscriptionPool
from storage.models import AuditEvent, Contact
from tests.fakes.telegram import FakeUser
from tests.harness import Harness
from tests.reminder_support import CHICAGO
from tests.voice_support import (
    CASELOAD,
    GatedTranscriber,
    add_caseload,
    fixture_note,
    install_pool,
)


@pytest.fixture
async def pool(harness: Harness, whisper: WhisperTranscriber) -> AsyncIterator[TranscriptionPool]:
    pool = install_pool(harness.app, whisper)
    yield pool
    pool.close()


@pytest.fixture
async def ana(harness: Harness, pool: TranscriptionPool) -> FakeUser:
    user = await harness.enroll("Ana")
    await add_caseload(harness, user, CASELOAD)
    return user


def heard(harness: Harness, user: FakeUser) -> str:
    """The transcript shown in the bot's latest message (the line under "I heard:")."""
    lines = harness.last_text(user).splitlines()
    return lines[lines.index("🎙 I heard:") + 1]


async def contacts(harness: Harness) -> list[Contact]:
    async with harness.db.uow(read_only=True) as session:
        return list((await session.scalars(select(Contact).order_by(Contact.id))).all())


async def test_a_voice_note_is_transcribed_read_back_and_saved_only_on_save(
    harness: Harness, ana: FakeUser, pool: TranscriptionPool
) -> None:
    note = fixture_note("maria_better.ogg")
    update = harness.fake.voice_message(ana, duration=5, content=note.audio)
    voice_message_id = update["message"]["message_id"]
    before = len(harness.fake.calls)
    await harness.fake.feed(harness.app, update)

    calls = harness.fake.calls[before:]
    methods = [c.method for c in calls]
    assert methods == ["sendMessage", "sendChatAction", "getFile", "editMessageText"]
    assert calls[0].params["text"] == render.transcribing(0)  # she sees it is on its way
    assert harness.fake.file_downloads == ["voice/file_1.oga"]
    reply = harness.fake.last_message(ana.id)
    assert calls[-1].params["message_id"] == reply.message_id  # that message, edited
    text = reply.text or ""
    assert "maria lopez" in heard(harness, ana).lower()
    assert "I read: Phone call with Maria Lopez, reached" in text
    said_at = harness.clock.now().astimezone(CHICAGO)  # 10:15, or the hour --clock-at names
    assert f"When: Mon 23 Nov {said_at:%H:%M}, America/Chicago" in text
    assert "Follow-up: Fri 27 Nov, America/Chicago" in text
    assert "Nothing is saved until you tap Save" in text
    assert reply.button_labels == [render.SAVE, render.FIX, render.CANCEL]
    assert all((b.callback_data or "").startswith("vn:") for b in reply.buttons)
    assert all("maria" not in (b.callback_data or "").lower() for b in reply.buttons)
    assert await contacts(harness) == []  # nothing without a tap
    assert pool.admitted == 0

    transcript = heard(harness, ana)
    await harness.press(ana, render.SAVE)
    assert "✅ Saved: Phone call with Maria Lopez, reached." in harness.last_text(ana)
    assert "Follow-up: Fri 27 Nov, America/Chicago" in harness.last_text(ana)
    assert harness.fake.message(ana.id, reply.message_id).buttons == []  # one tap only
    [contact] = await contacts(harness)
    assert contact.note == transcript  # the transcript is the record's note
    assert await service.message_was_saved(harness.db, chat_id=ana.id, message_id=voice_message_id)
    async with harness.db.uow(read_only=True) as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "contact.logged")
        )
    assert event is not None
    assert (event.command, event.entity_id) == ("voice", contact.id)

    # Telegram delivers the same voice message again: transcribed again, saved only once.
    await harness.fake.feed(harness.app, update)
    await harness.press(ana, render.SAVE)
    assert harness.last_text(ana) == records_render.duplicate()
    assert len(await contacts(harness)) == 1


async def test_cancel_saves_nothing(harness: Harness, ana: FakeUser) -> None:
    note = fixture_note("harold_voicemail.ogg")
    await harness.fake.send_voice(harness.app, ana, note.audio, duration=5)
    assert "Voicemail with Harold Jensen, not reached (attempt)" in harness.last_text(ana)
    counts = await harness.row_counts()

    await harness.press(ana, render.CANCEL)
    assert harness.last_text(ana) == render.CANCELLED
    assert await harness.row_counts() == counts
    assert "contact.logged" not in await harness.audit_actions()


async def test_fix_asks_for_the_text_which_is_then_handled_as_typed(
    harness: Harness, ana: FakeUser
) -> None:
    note = fixture_note("dorothy_cardiology.ogg")
    await harness.fake.send_voice(harness.app, ana, note.audio, duration=5)
    assert "appointment for Dorothy Chen" in harness.last_text(ana)
    assert "When: Thu 3 Dec 10:30, America/Chicago" in harness.last_text(ana)

    await harness.press(ana, render.FIX)
    assert harness.last_text(ana) == render.FIX_PROMPT
    assert await contacts(harness) == []
    await harness.send(ana, "called Dorothy Chen re cardiology appt, f/u Fri")
    assert "✅ Saved: Phone call with Dorothy Chen, reached." in harness.last_text(ana)
    [contact] = await contacts(harness)
    assert contact.note == "called Dorothy Chen re cardiology appt, f/u Fri"


async def test_an_ambiguous_name_is_asked_after_save_and_then_saved(harness: Harness) -> None:
    """[Save] enters the logging conversation: its questions work as they do for typed text.
    (About logging, not the model: the transcriber hears a fixed sentence.)"""
    pool = install_pool(harness.app, GatedTranscriber("Called Maria, f/u Friday.", open=True))
    try:
        user = await harness.enroll("Bea")
        await add_caseload(harness, user, CASELOAD)
        await harness.fake.send_voice(harness.app, user, b"OggS", duration=2)
        assert "Maria Lopez or Maria Santos? (I'll ask)" in harness.last_text(user)
        await harness.press(user, render.SAVE)
        labels = harness.fake.last_message(user.id).button_labels
        assert labels[:2] == ["Maria Lopez", "Maria Santos"]
        await harness.press(user, "Maria Santos")
        # "Called" does not say she was reached: how it went is asked, not guessed.
        assert "How was the contact" in harness.last_text(user)
        await harness.press(user, "Phone call")
    finally:
        pool.close()
    assert "✅ Saved: Phone call with Maria Santos, reached." in harness.last_text(user)
    [contact] = await contacts(harness)
    assert contact.note == "Called Maria, f/u Friday."


async def test_a_failed_download_says_so_and_saves_nothing(
    harness: Harness, ana: FakeUser, pool: TranscriptionPool
) -> None:
    counts = await harness.row_counts()
    for status in (404, 500):
        harness.fake.fail_file_downloads(status)
        note = fixture_note("maria_better.ogg")
        await harness.fake.send_voice(harness.app, ana, note.audio, duration=5)
        reply = harness.fake.last_message(ana.id)
        assert reply.text == render.DOWNLOAD_FAILED
        assert reply.buttons == []
    assert len(harness.fake.file_downloads) == 2
    assert await harness.row_counts() == counts
    assert pool.admitted == 0  # the places were given back


async def test_a_note_longer_than_the_limit_is_refused_before_download(
    harness: Harness, ana: FakeUser
) -> None:
    calls = await harness.fake.send_voice(
        harness.app, ana, fixture_note("maria_better.ogg").audio, duration=121
    )
    assert [c.method for c in calls] == ["sendMessage"]
    assert harness.last_text(ana) == render.too_long(121, 120)
    assert "up to 2:00 min, and that one is 2:01 min long" in harness.last_text(ana)
    assert harness.fake.file_downloads == []


async def test_audio_longer_than_it_declares_is_refused_after_decoding(
    harness: Harness, whisper: WhisperTranscriber
) -> None:
    """The declared length is the sender's word: decoding stops at the limit."""
    pool = install_pool(harness.app, whisper, max_seconds=3)
    try:
        user = await harness.enroll("Bea")
        await add_caseload(harness, user, CASELOAD)
        # maria_better.ogg is 4.7 s long; the message says 2 s.
        await harness.fake.send_voice(
            harness.app, user, fixture_note("maria_better.ogg").audio, duration=2
        )
    finally:
        pool.close()
    assert harness.last_text(user) == render.too_long(None, 3)
    assert "up to 3 s, and that one is longer than that" in harness.last_text(user)
    assert await contacts(harness) == []


async def test_a_recording_that_is_not_audio_is_answered_plainly(
    harness: Harness, ana: FakeUser
) -> None:
    await harness.fake.send_voice(harness.app, ana, b"OggS\x00not really a recording", duration=3)
    assert harness.last_text(ana) == render.UNREADABLE
    assert await contacts(harness) == []

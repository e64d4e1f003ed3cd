"""`casebot chat` takes `/voice PATH`: the file goes to the bot as a voice note (through the
local Bot API stand-in's getFile and file download), is transcribed with the real model, and is
saved only when the demo nurse presses [Save]."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.voice_support import FIXTURES

ROOT = Path(__file__).resolve().parents[2]


def test_casebot_chat_sends_an_audio_file_as_a_voice_note(tmp_path: Path) -> None:
    pytest.importorskip("faster_whisper", reason="voice extra not installed")
    lines = [
        f"/voice {FIXTURES / 'harold_voicemail.ogg'}",
        "1",  # [Save]
        f"/voice {FIXTURES / 'maria_better.ogg'}",
        "3",  # [Cancel]
        "/voice no-such-file.ogg",
        "/quit",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "bot.app.cli", "chat"],
        input="\n".join(lines) + "\n",
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "(voice note: harold_voicemail.ogg, 5 s)" in out
    assert "Transcribing your voice note…" in out
    assert "I read: Voicemail with Harold Jensen, not reached (attempt)" in out
    assert "[1] Save  [2] Fix  [3] Cancel" in out
    assert "Saved: Voicemail with Harold Jensen, attempted." in out
    assert "Cancelled. Nothing from that voice note was saved." in out
    assert "Saved: Call with Maria Lopez" not in out
    assert "(can't read no-such-file.ogg: No such file or directory; usage: /voice PATH)" in out
    assert "Traceback" not in result.stderr

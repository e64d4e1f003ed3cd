"""The [voice] section: defaults, the example file, environment overrides and clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ConfigError, VoiceConfig, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_and_the_example_file_agree() -> None:
    assert load_config(ROOT / "config.example.toml", environ={}).voice == VoiceConfig()
    assert VoiceConfig() == VoiceConfig(
        enabled=True, max_seconds=120, workers=0, queue=4, model_path="", beam_size=1
    )


def test_keys_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[voice]\nenabled = false\nmax_seconds = 60\nqueue = 2\n")
    config = load_config(path, environ={"CASEBOT_VOICE_WORKERS": "3"})
    assert config.voice == VoiceConfig(enabled=False, max_seconds=60, workers=3, queue=2)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("max_seconds = 0", "voice.max_seconds: expected 1-600 seconds"),
        ("max_seconds = 601", "voice.max_seconds: expected 1-600 seconds"),
        ("queue = -1", "voice.workers / voice.queue: expected 0 or more"),
        ("beam_size = 0", "voice.beam_size: expected 1-10"),
        ('enabled = "yes"', "voice.enabled: expected true or false"),
        ("language = 'en'", "unknown key voice.language"),
    ],
)
def test_bad_values_stop_with_one_line(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[voice]\n{toml}\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path, environ={})

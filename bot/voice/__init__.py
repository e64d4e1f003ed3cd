"""Voice notes, transcribed offline on this host: the engine (engine.py), the bounded worker
pool (pool.py) and the transcripts waiting for the nurse's tap (pending.py).

`voice_for` gives the process's `Voice`: on, with a pool, or off, with the reason (the [voice]
extra is not installed, the model is missing, or `[voice] enabled = false`). It is made on
first use and kept in the application's services (`Services.extras`), where tests put their
own. Must not import telegram or storage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import VoiceConfig
from bot.voice.engine import (
    VoiceUnavailable,
    WhisperTranscriber,
    bundled_model_dir,
    check_model_dir,
    missing_extra,
)
from bot.voice.pool import TranscriptionPool, default_workers

log = logging.getLogger(__name__)

EXTRAS_KEY = "voice"


@dataclass
class Voice:
    """Voice notes in this process: a pool when on, the reason when off."""

    max_seconds: int
    pool: TranscriptionPool | None = None
    off_reason: str | None = None


def start_voice(config: VoiceConfig) -> Voice:
    """The process's voice set-up from its configuration (the model loads on first use)."""
    if not config.enabled:
        return Voice(config.max_seconds, off_reason="[voice] enabled = false")
    model_dir = Path(config.model_path) if config.model_path else None
    try:
        reason = missing_extra(model_package=model_dir is None)
        if reason is not None:
            raise VoiceUnavailable(reason)
        check_model_dir(model_dir or bundled_model_dir())
    except VoiceUnavailable as exc:
        log.warning("voice notes are off: %s", str(exc))  # a setup fault: no patient data
        return Voice(config.max_seconds, off_reason=str(exc))
    workers = config.workers or default_workers()
    transcriber = WhisperTranscriber(
        model_dir=model_dir,
        workers=workers,
        cpu_threads=max(1, default_workers() // workers),
        beam_size=config.beam_size,
    )
    pool = TranscriptionPool(transcriber, workers=workers, queue=config.queue)
    return Voice(config.max_seconds, pool=pool)


def voice_for(extras: dict[str, Any], config: VoiceConfig) -> Voice:
    """This process's Voice, made on first use."""
    found = extras.get(EXTRAS_KEY)
    if isinstance(found, Voice):
        return found
    voice = start_voice(config)
    extras[EXTRAS_KEY] = voice
    return voice


def install_voice(extras: dict[str, Any], voice: Voice) -> None:
    """Use this Voice in the application (tests; a process that sets up its own)."""
    extras[EXTRAS_KEY] = voice

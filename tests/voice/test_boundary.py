"""Voice keeps to its layers: the engine, pool and pending state import neither telegram nor
storage, the reply texts are pure, and importing them loads no speech library (those load on
the first voice note, so a bot without the [voice] extra starts and runs as before)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = sorted((ROOT / "bot" / "voice").glob("*.py")) + [ROOT / "bot" / "render" / "voice.py"]
FORBIDDEN = {"telegram", "storage", "sqlalchemy", "handlers", "aiosqlite", "asyncpg"}
HEAVY = {"faster_whisper", "ctranslate2", "av", "numpy", "onnxruntime", "huggingface_hub"}


def _top_level_imports(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", PURE, ids=lambda p: p.name)
def test_no_telegram_storage_or_speech_library_at_import(path: Path) -> None:
    assert _top_level_imports(path) & (FORBIDDEN | HEAVY) == set()


def test_importing_voice_loads_no_speech_library() -> None:
    code = (
        "import sys, bot.voice, bot.voice.engine, bot.voice.pool, bot.voice.pending, "
        "bot.render.voice\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        f"set({sorted(FORBIDDEN | HEAVY)!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
        timeout=60,
    )  # fmt: skip
    assert result.stdout.strip() == "[]"

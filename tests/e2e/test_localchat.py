"""`casebot chat` driven by another program: lines in on stdin, replies out on stdout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_casebot_chat_works_with_piped_stdin(tmp_path: Path) -> None:
    lines = [
        "Called Maria Lopez, discussed new insulin dose. f/u Friday",
        "show Maria Lopez",
        "called maria",
        "1",
        "/quit",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "bot.app.cli", "chat"],
        input="\n".join(lines) + "\n",
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "Saved: Phone call with Maria Lopez, reached." in out
    assert "Follow-up: Fri" in out
    assert "Risk: High" in out  # the demo caseload's card
    assert "[1] Maria Lopez  [2] Maria Santos" in out  # ambiguity as numbered buttons
    assert "Traceback" not in result.stderr
    assert (tmp_path / "casebot.db").exists()

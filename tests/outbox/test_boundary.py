"""The outbox's layering: planning is pure (no telegram, database or clock), and neither the
dispatcher nor compose writes SQL (storage does)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.care.test_boundary import imported_roots, is_clock_read

OUTBOX = Path(__file__).resolve().parents[2] / "bot" / "outbox"
PURE_FORBIDDEN = {"telegram", "storage", "sqlalchemy", "handlers", "aiosqlite", "asyncpg"}


def _tree(name: str) -> object:
    import ast

    return ast.parse((OUTBOX / name).read_text(encoding="utf-8"))


def test_planning_imports_nothing_impure() -> None:
    import ast

    tree = _tree("planning.py")
    assert isinstance(tree, ast.Module)
    assert imported_roots(tree) & PURE_FORBIDDEN == set()
    assert [ast.unparse(n.func) for n in ast.walk(tree) if is_clock_read(n)] == []


@pytest.mark.parametrize("name", ["dispatcher.py", "compose.py"])
def test_no_sql_outside_storage(name: str) -> None:
    import ast

    tree = _tree(name)
    assert isinstance(tree, ast.Module)
    assert "sqlalchemy" not in imported_roots(tree)


def test_importing_planning_loads_no_database_or_telegram() -> None:
    code = (
        "import sys, bot.outbox.planning\n"
        "roots = {name.split('.')[0] for name in sys.modules}\n"
        f"print(sorted(roots & set({sorted(PURE_FORBIDDEN)!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=OUTBOX.parents[1],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]"

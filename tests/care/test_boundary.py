"""bot/care stays pure: no telegram, storage, sqlalchemy or handlers, and no clock reads."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import TypeGuard

import pytest

CARE_DIR = Path(__file__).resolve().parents[2] / "bot" / "care"
CARE_FILES = sorted(CARE_DIR.glob("*.py"))
FORBIDDEN_ROOTS = {"telegram", "storage", "sqlalchemy", "handlers", "aiosqlite", "asyncpg"}
CLOCK_READS = {"now", "utcnow", "today", "monotonic", "perf_counter", "time_ns"}


def imported_roots(tree: ast.Module) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def is_clock_read(node: ast.AST) -> TypeGuard[ast.Call]:
    """datetime.now(), date.today(), time.time(), time.monotonic() and the like."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    func = node.func
    is_time_time = isinstance(func.value, ast.Name) and func.value.id == "time"
    return func.attr in CLOCK_READS or (is_time_time and func.attr == "time")


def test_care_modules_found() -> None:
    assert {p.name for p in CARE_FILES} >= {"calendar.py", "rules.py", "__init__.py"}


@pytest.mark.parametrize("path", CARE_FILES, ids=lambda p: p.name)
def test_no_forbidden_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert imported_roots(tree) & FORBIDDEN_ROOTS == set()


@pytest.mark.parametrize("path", CARE_FILES, ids=lambda p: p.name)
def test_no_clock_reads(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [ast.unparse(node.func) for node in ast.walk(tree) if is_clock_read(node)]
    assert calls == []


def test_importing_care_loads_no_forbidden_module() -> None:
    modules = ", ".join(f"bot.care.{p.stem}" for p in CARE_FILES if p.stem != "__init__")
    code = (
        f"import sys, bot.care, {modules}\n"
        f"roots = {{name.split('.')[0] for name in sys.modules}}\n"
        f"print(sorted(roots & set({sorted(FORBIDDEN_ROOTS)!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=CARE_DIR.parents[1],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]"

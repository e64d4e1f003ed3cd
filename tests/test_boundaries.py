"""The layers' import rules, read from the source with ast (no module is imported, so a wrong
import fails here in milliseconds, wherever it hides, function bodies included):

- bot/vocab.py, bot/parsing, bot/care and bot/render are pure: no telegram, no database, no
  storage, no handlers, none of bot's runtime packages (services, outbox, app, ops, voice);
- handlers import no storage and no sqlalchemy (they call bot.services);
- bot/services import no telegram (handlers and the outbox talk to Telegram);
- storage imports nothing of bot but bot.vocab;
- a topic in handlers/ (a module, or a package such as handlers/careplans/) imports no other
  topic: topics reach each other through what they register, and share handlers.common only.

Imports under ``if TYPE_CHECKING:`` are for the type checker and do not count.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATABASE = {"sqlalchemy", "aiosqlite", "asyncpg", "alembic"}
PURE_FORBIDDEN = {
    "telegram",
    "storage",
    "handlers",
    "bot.services",
    "bot.outbox",
    "bot.app",
    "bot.ops",
    "bot.voice",
    *DATABASE,
}
# The free-text router every topic adds its routes to, and the keyboards they share.
SHARED_HANDLER_MODULES = {"handlers", "handlers.common", "handlers.inbox", "handlers.keyboards"}

# Known breaks, each in a module another change is rewriting; strict, so each entry fails the
# suite as soon as its module is fixed and the entry must go.
KNOWN_HANDLER_STORAGE: dict[str, str] = {
    "handlers/errors.py": "storage.db.DatabaseUnavailable, for the database-down apology",
}
KNOWN_TOPIC_IMPORTS: dict[str, str] = {
    "handlers/queries.py": "opens a patient card through handlers.patients",
    "handlers/tasks.py": "starts a contact log through handlers.records",
}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _package_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts[:-1]) if path.name != "__init__.py" else ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports at run time, as absolute dotted names (``from a import b``
    gives both ``a`` and ``a.b``: b may be a module)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(path).split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def hits(imported: set[str], forbidden: set[str]) -> list[str]:
    """The imported names that are, or sit inside, a forbidden module."""
    return sorted(
        name for name in imported if any(name == f or name.startswith(f + ".") for f in forbidden)
    )


def files(*folders: str) -> list[Path]:
    out: list[Path] = []
    for folder in folders:
        target = ROOT / folder
        out.extend([target] if target.suffix == ".py" else sorted(target.rglob("*.py")))
    return [p for p in out if "migrations" not in p.parts]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def known(table: dict[str, str], path: Path) -> list[pytest.MarkDecorator]:
    reason = table.get(rel(path))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def cases(paths: list[Path], table: dict[str, str] | None = None) -> list[object]:
    return [pytest.param(p, id=rel(p), marks=known(table or {}, p)) for p in paths]


PURE = files("bot/vocab.py", "bot/parsing", "bot/care", "bot/render")
HANDLERS = files("handlers")
SERVICES = files("bot/services")
STORAGE = files("storage")


def test_every_layer_is_found() -> None:
    """A moved folder must not make the rules below check nothing."""
    assert min(len(PURE), len(HANDLERS), len(SERVICES), len(STORAGE)) > 3
    assert {"bot/render/labels.py", "handlers/common.py", "storage/models.py"} <= {
        rel(p) for p in PURE + HANDLERS + STORAGE
    }


@pytest.mark.parametrize("path", cases(PURE))
def test_pure_modules_import_no_io(path: Path) -> None:
    assert hits(imports_of(path), PURE_FORBIDDEN) == []


@pytest.mark.parametrize("path", cases(HANDLERS, KNOWN_HANDLER_STORAGE))
def test_handlers_import_no_storage(path: Path) -> None:
    assert hits(imports_of(path), {"storage", *DATABASE}) == []


@pytest.mark.parametrize("path", cases(SERVICES))
def test_services_import_no_telegram(path: Path) -> None:
    assert hits(imports_of(path), {"telegram"}) == []


@pytest.mark.parametrize("path", cases(STORAGE))
def test_storage_imports_only_vocab_of_bot(path: Path) -> None:
    of_bot = {name for name in imports_of(path) if name == "bot" or name.startswith("bot.")}
    assert sorted(n for n in of_bot if n != "bot.vocab" and not n.startswith("bot.vocab.")) == []


def topic_of(path: Path) -> str:
    """handlers/careplans/goals.py and handlers/careplans/__init__.py are topic
    handlers.careplans; handlers/settings.py is handlers.settings."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts[:2])


TOPICS = [p for p in HANDLERS if topic_of(p) not in SHARED_HANDLER_MODULES]


@pytest.mark.parametrize("path", cases(TOPICS, KNOWN_TOPIC_IMPORTS))
def test_handler_topics_import_no_other_topic(path: Path) -> None:
    mine = topic_of(path)
    others = {
        ".".join(name.split(".")[:2])
        for name in imports_of(path)
        if name.startswith("handlers.") and name.count(".") >= 1
    }
    others = {t for t in others if t != mine and t not in SHARED_HANDLER_MODULES}
    assert sorted(others) == []


def test_the_rules_catch_a_wrong_import(tmp_path: Path) -> None:
    """The checker itself: a function-level import is found, a TYPE_CHECKING one is not."""
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from storage.models import Task\n"
        "def f():\n    from telegram import Update\n    import sqlalchemy.orm\n",
        encoding="utf-8",
    )
    assert hits(imports_of(module), PURE_FORBIDDEN) == [
        "sqlalchemy.orm",
        "telegram",
        "telegram.Update",
    ]


def test_loading_every_service_loads_no_telegram() -> None:
    """The same rule followed through imports: what a service imports may not bring telegram."""
    modules = ", ".join(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in SERVICES
        if p.name != "__init__.py"
    )
    code = (
        f"import sys, {modules}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'telegram')[:3])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.strip() == "[]"

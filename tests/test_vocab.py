"""The domain's terms are defined once, in bot/vocab.py, which needs nothing but Python.

Scans the source of bot/, handlers/ and storage/ (with ast, not imports): no enum outside
bot/vocab.py may reuse a vocab name, nor be a renamed copy of one (two or more values, all of
them one vocab enum's, as RiskLevel was of Risk and GoalChange of GoalStatus).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from bot import vocab

ROOT = Path(__file__).resolve().parents[1]
VOCAB = ROOT / "bot" / "vocab.py"
SOURCES = sorted(p for d in ("bot", "handlers", "storage") for p in (ROOT / d).rglob("*.py"))


def enum_classes(tree: ast.Module) -> list[ast.ClassDef]:
    """Classes with an Enum among their bases (enum.StrEnum, IntEnum, Enum ...)."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any("Enum" in ast.unparse(base) for base in node.bases)
    ]


def string_values(cls: ast.ClassDef) -> set[str]:
    return {
        node.value.value
        for node in cls.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


VOCAB_ENUMS = {cls.name: string_values(cls) for cls in enum_classes(ast.parse(VOCAB.read_text()))}


def test_vocab_holds_every_term_named_in_the_design() -> None:
    assert set(VOCAB_ENUMS) >= {
        "Role", "Risk", "PatientStatus", "Channel", "Outcome", "Party", "Complexity",
        "AppointmentStatus", "RecordKind", "TaskKind", "TaskStatus", "DeliveryKind",
        "DeliveryStatus", "GoalStatus", "ReferralStatus", "ResourceKind", "QueryKind",
        "Refusal", "Source",
    }  # fmt: skip
    for name, values in VOCAB_ENUMS.items():
        assert values == {member.value for member in getattr(vocab, name)}


@pytest.mark.parametrize(
    "path", [p for p in SOURCES if p != VOCAB], ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_module_redefines_or_copies_a_vocab_enum(path: Path) -> None:
    for cls in enum_classes(ast.parse(path.read_text(encoding="utf-8"))):
        assert cls.name not in VOCAB_ENUMS, f"{cls.name} is bot.vocab's"
        values = string_values(cls)
        copied = [name for name, own in VOCAB_ENUMS.items() if len(values) >= 2 and values <= own]
        assert copied == [], f"{cls.name} copies the values of bot.vocab.{copied[0]}"


def test_vocab_imports_only_the_standard_library() -> None:
    roots = set()
    for node in ast.walk(ast.parse(VOCAB.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            roots.add((node.module or "").split(".")[0])
    assert roots
    assert roots <= set(sys.stdlib_module_names) | {"__future__"}


def test_the_scan_finds_the_enums_it_is_meant_to_police() -> None:
    found = {cls.name for p in SOURCES for cls in enum_classes(ast.parse(p.read_text()))}
    assert {"IntentKind", "CarePlanKind", "Step"} <= found  # enums that are not vocab terms
    assert len(SOURCES) > 50

"""The shared corpus reads 100% right, and the corpus CLI reports it."""

import argparse
import json
from pathlib import Path

import pytest

from bot.parsing import score_corpus
from bot.parsing.cli import add_parse_command, run_parse
from bot.parsing.corpus import value_matches

# The `shared` directory sits beside the repository directory.
CORPUS = Path(__file__).resolve().parents[2] / "../shared/corpus/messages.jsonl"
needs_corpus = pytest.mark.skipif(
    not CORPUS.exists(), reason=f"shared corpus not found at {CORPUS}"
)


def cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="casebot")
    add_parse_command(parser.add_subparsers(dest="command"))
    return parser.parse_args(["parse", *argv])


@needs_corpus
def test_corpus_all_right() -> None:
    report = score_corpus(CORPUS)
    assert report.messages == 50
    assert report.all_correct, report.render()


@needs_corpus
def test_cli_corpus_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_parse(cli("--corpus", str(CORPUS))) == 0
    assert "171/171" in capsys.readouterr().out


def test_cli_corpus_exit_one_on_miss(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "c.jsonl"
    header = {"header": {"caseload": ["Ann Lee"], "now": "2026-11-23T10:15:00", "tz": "UTC"}}
    case = {"id": "x1", "text": "hello", "expect": {"intent": "contact"}}
    corpus.write_text(json.dumps(header) + "\n" + json.dumps(case) + "\n", encoding="utf-8")
    assert run_parse(cli("--corpus", str(corpus))) == 1
    assert "MISS x1 intent" in capsys.readouterr().out


def test_cli_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = tmp_path / "caseload.txt"
    names.write_text("Maria Lopez\nJohn Smith\n", encoding="utf-8")
    code = run_parse(
        cli(
            "called maria lopez, f/u Fri 2pm",
            "--now",
            "2026-11-23T10:15",
            "--tz",
            "America/Chicago",
            "--caseload-file",
            str(names),
        )
    )
    assert code == 0
    got = json.loads(capsys.readouterr().out)
    assert got["patient"] == "Maria Lopez"
    assert got["follow_up"] == "2026-11-27T14:00"


def test_cli_json_caseload(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = tmp_path / "caseload.json"
    names.write_text(json.dumps(["Rosa Martínez"]), encoding="utf-8")
    run_parse(cli("show rosa", "--now", "2026-11-23T10:15+00:00", "--caseload-file", str(names)))
    assert json.loads(capsys.readouterr().out)["patient"] == "Rosa Martínez"


@pytest.mark.parametrize(
    ("key", "expected", "got", "right"),
    [
        ("query", ["today", "overdue"], "overdue", True),
        ("query", ["today", "overdue"], "week", False),
        ("candidates", ["A", "B"], ["B", "A"], True),
        ("follow_up", None, None, True),
        ("follow_up", None, "2026-11-24", False),
    ],
)
def test_scoring_rules(key: str, expected: object, got: object, right: bool) -> None:
    assert value_matches(key, expected, got) is right

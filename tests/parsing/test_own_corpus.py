"""Our own labelled corpus (tests/corpus/*.jsonl, written as nurses write, several facts each in
about one in eight). tests/corpus/README.md says how it was written and labelled.

Two kinds of file:
- the class files, written to teach the parser a class of message: read 100% right, every fact,
  its slots, and whether the message must be read back;
- the held-out days (`HELD_OUT`), each written by someone who had not seen the parser and
  scored before it was tuned on them (docs/parsing.md keeps those first scores). They are now
  regression floors: a change may only move them up. Raise a floor when the parser improves.
"""

from pathlib import Path

import pytest

from bot.parsing import score_corpus

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FILES = sorted(CORPUS.glob("*.jsonl"))

# file stem -> (fields right at least, messages read as sure but wrong at most)
HELD_OUT: dict[str, tuple[int, int]] = {
    "day_in_the_life": (1755, 9),
    "dictated_and_terse": (1894, 10),
    "six_nurses": (2097, 4),
    "unusual_voices": (2057, 30),
    "four_more_nurses": (1734, 25),
}
TAUGHT = [p for p in FILES if p.stem not in HELD_OUT]


def test_the_corpus_is_large_and_multi_fact() -> None:
    report = [score_corpus(path) for path in FILES]
    messages = sum(r.messages for r in report)
    facts = sum(r.scored["facts"] for r in report)
    assert messages >= 1000
    assert facts >= messages  # several facts per message are labelled, not only the first


def test_every_held_out_day_is_on_disk() -> None:
    assert set(HELD_OUT) <= {p.stem for p in FILES}


@pytest.mark.parametrize("path", TAUGHT, ids=[p.stem for p in TAUGHT])
def test_every_message_reads_right(path: Path) -> None:
    report = score_corpus(path)
    assert report.all_correct, report.render()


@pytest.mark.parametrize("stem", sorted(HELD_OUT))
def test_held_out_days_do_not_slip(stem: str) -> None:
    report = score_corpus(CORPUS / f"{stem}.jsonl")
    right = sum(report.correct.values())
    least_right, most_sure_but_wrong = HELD_OUT[stem]
    assert right >= least_right, report.render()
    assert len(report.sure_but_wrong) <= most_sure_but_wrong, report.render()

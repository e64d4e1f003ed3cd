"""Our own labelled corpus (tests/corpus/*.jsonl, 737 messages written as nurses write, several
facts each in about one in eight) is read 100% right: every fact, its slots, and whether the
message must be read back. tests/corpus/README.md says how it was written and labelled."""

from pathlib import Path

import pytest

from bot.parsing import score_corpus

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FILES = sorted(CORPUS.glob("*.jsonl"))


def test_the_corpus_is_large_and_multi_fact() -> None:
    report = [score_corpus(path) for path in FILES]
    messages = sum(r.messages for r in report)
    facts = sum(r.scored["facts"] for r in report)
    assert messages >= 400
    assert facts >= messages  # several facts per message are labelled, not only the first


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_message_reads_right(path: Path) -> None:
    report = score_corpus(path)
    assert report.all_correct, report.render()

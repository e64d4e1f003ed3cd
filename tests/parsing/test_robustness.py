"""Any text up to 4,096 characters yields a reading of known facts (its speed on long and
pathological input is measured in benchmarks/bench_parse.py, not here)."""

import typing

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parsing import Caseload, Fact, Reading, parse
from bot.parsing.parser import MAX_FACTS
from tests.parsing.conftest import CHICAGO, NAMES, NOW

FACT_TYPES = tuple(
    t for member in typing.get_args(Fact) for t in typing.get_args(member) or (member,)
)
CASELOAD = Caseload.from_names(NAMES)

NASTY_PIECES = st.sampled_from(
    [
        "\u200b", "\u200f", "\u202e", "\ufeff", "👩‍⚕️", "🩺", "<b>", "</script>",
        "'; DROP TABLE patients; --", "12/3", "99", "f/u", "Maria", "O'Brien", "x2", "@ 1330",
        "\n", "\t", "  ", "EOW", "in 2 wks", "Dec 3rd", "2:30am", "d/c'd", "0/0", "31/31",
        "new patient", "MRN", "who", "?", "/", "'s", "at 99", "99:99", "13pm", "in 999 months",
    ]
)  # fmt: skip
TEXT = st.one_of(
    st.text(max_size=4096),
    st.lists(st.one_of(NASTY_PIECES, st.text(max_size=8)), max_size=400)
    .map(" ".join)
    .map(lambda s: s[:4096]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_any_text_gives_a_reading_of_known_facts(text: str) -> None:
    reading = parse(text, now=NOW, zone=CHICAGO, caseload=CASELOAD)
    assert isinstance(reading, Reading)
    assert 1 <= len(reading.facts) <= MAX_FACTS + 3  # a referral to several places splits
    assert all(isinstance(fact, FACT_TYPES) for fact in reading.facts)


def test_pathological_messages_are_read() -> None:
    """Long runs of digits, dates, times and names give a reading (bounded: at most
    MAX_FACTS facts); how fast is measured by benchmarks/bench_parse.py."""
    messages = [
        ("1" * 4096),
        ("12/3 " * 820)[:4096],
        ("Dec 3rd at 10:30am, Friday 2pm, in 2 wks " * 120)[:4096],
        ("Maria Lopes " * 400)[:4096],
        ("1/2/3/4/5/6/7/8/9 " * 300)[:4096],
        ("called Maria Lopez, LVM, f/u fri. " * 120)[:4096],
    ]
    for text in messages:
        reading = parse(text, now=NOW, zone=CHICAGO, caseload=CASELOAD)
        assert 1 <= len(reading.facts) <= MAX_FACTS + 3

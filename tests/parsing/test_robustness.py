"""Any text up to 4,096 characters yields an intent, quickly."""

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parsing import Caseload, parse
from bot.parsing.intents import (
    AppointmentIntent,
    ContactIntent,
    DischargeIntent,
    MedRecIntent,
    NewPatientIntent,
    QueryIntent,
    UnknownIntent,
)
from tests.parsing.conftest import CHICAGO, NAMES, NOW

INTENT_TYPES = (
    AppointmentIntent, ContactIntent, DischargeIntent, MedRecIntent, NewPatientIntent,
    QueryIntent, UnknownIntent,
)  # fmt: skip
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
def test_any_text_gives_an_intent(text: str) -> None:
    assert isinstance(parse(text, now=NOW, zone=CHICAGO, caseload=CASELOAD), INTENT_TYPES)


def test_pathological_message_is_fast() -> None:
    messages = [
        ("1" * 4096),
        ("12/3 " * 820)[:4096],
        ("Dec 3rd at 10:30am, Friday 2pm, in 2 wks " * 120)[:4096],
        ("Maria Lopes " * 400)[:4096],
        ("1/2/3/4/5/6/7/8/9 " * 300)[:4096],
    ]
    for text in messages:
        parse(text, now=NOW, zone=CHICAGO, caseload=CASELOAD)  # warm up
        start = time.perf_counter()
        parse(text, now=NOW, zone=CHICAGO, caseload=CASELOAD)
        elapsed = time.perf_counter() - start
        assert elapsed < 0.2, (text[:40], elapsed)

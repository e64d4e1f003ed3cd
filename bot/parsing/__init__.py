"""Pure text -> intent parsing for nurse messages (no telegram, no storage, no I/O).

Public API: ``parse``, ``Caseload`` and the intent types; ``intent_to_json`` and
``score_corpus`` for the corpus; ``add_parse_command`` / ``run_parse`` for the CLI. The terms
inside intents (channel, outcome, party, risk, complexity, query kind) come from bot.vocab.
"""

from bot.parsing.corpus import CorpusReport, intent_to_json, score_corpus
from bot.parsing.dates import DateOrder, DateReader
from bot.parsing.intents import (
    AppointmentIntent,
    ContactIntent,
    DischargeIntent,
    Intent,
    IntentKind,
    MedRecIntent,
    NewPatientIntent,
    PatientMention,
    PatientRef,
    QueryIntent,
    UnknownIntent,
    When,
)
from bot.parsing.parser import parse
from bot.parsing.patients import Caseload

__all__ = [
    "AppointmentIntent",
    "Caseload",
    "ContactIntent",
    "CorpusReport",
    "DateOrder",
    "DateReader",
    "DischargeIntent",
    "Intent",
    "IntentKind",
    "MedRecIntent",
    "NewPatientIntent",
    "PatientMention",
    "PatientRef",
    "QueryIntent",
    "UnknownIntent",
    "When",
    "intent_to_json",
    "parse",
    "score_corpus",
]

"""Pure text -> facts parsing for nurse messages (no telegram, no storage, no I/O).

Public API: ``parse`` (a message -> a ``Reading`` of facts), ``Caseload`` and the fact types;
``reading_to_json`` and ``score_corpus`` for the corpus; ``is_question`` for typed answers.
"""

from bot.parsing.corpus import CorpusReport, fact_to_json, reading_to_json, score_corpus
from bot.parsing.dates import DateReader
from bot.parsing.facts import Fact, Reading, doubts_of
from bot.parsing.intents import (
    AdmissionIntent,
    AppointmentIntent,
    CancelIntent,
    ContactIntent,
    CorrectionIntent,
    DischargeIntent,
    Doubt,
    DoubtReason,
    EdVisitIntent,
    Intent,
    IntentKind,
    MedRecIntent,
    NewPatientIntent,
    NoteIntent,
    PatientMention,
    PatientRef,
    QueryIntent,
    RescheduleIntent,
    Target,
    TaskIntent,
    UndoIntent,
    UnknownIntent,
    Vital,
    VitalKind,
    When,
)
from bot.parsing.parser import parse, warm_up
from bot.parsing.patients import Caseload
from bot.parsing.questions import is_question
from bot.vocab import DateOrder

__all__ = [
    "AdmissionIntent",
    "AppointmentIntent",
    "CancelIntent",
    "Caseload",
    "ContactIntent",
    "CorpusReport",
    "CorrectionIntent",
    "DateOrder",
    "DateReader",
    "DischargeIntent",
    "Doubt",
    "DoubtReason",
    "EdVisitIntent",
    "Fact",
    "Intent",
    "IntentKind",
    "MedRecIntent",
    "NewPatientIntent",
    "NoteIntent",
    "PatientMention",
    "PatientRef",
    "QueryIntent",
    "Reading",
    "RescheduleIntent",
    "Target",
    "TaskIntent",
    "UndoIntent",
    "UnknownIntent",
    "Vital",
    "VitalKind",
    "When",
    "doubts_of",
    "fact_to_json",
    "is_question",
    "parse",
    "reading_to_json",
    "score_corpus",
    "warm_up",
]

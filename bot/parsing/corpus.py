"""Score the parser against a labelled corpus of nurse messages.

Owns: ``intent_to_json`` (the flat, comparable reading of an intent) and ``score_corpus``
(reads a JSONL corpus whose first line is a header, parses every message, compares every
expected key). Reads only the corpus file it is given.
Must not import: telegram, storage, sqlalchemy.

Scoring rules (from the corpus header): a key missing from ``expect`` is not scored; a list
value (other than ``candidates``) means any of its values is right; ``candidates`` compare as
sets of names.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.parsing.careplans import CarePlanIntent
from bot.parsing.dates import DateOrder
from bot.parsing.intents import (
    AppointmentIntent,
    ContactIntent,
    DischargeIntent,
    Intent,
    NewPatientIntent,
    PatientRef,
    QueryIntent,
    When,
)
from bot.parsing.parser import parse
from bot.parsing.patients import Caseload

JsonValue = str | int | list[str] | None


def intent_to_json(intent: Intent | CarePlanIntent, zone: ZoneInfo) -> dict[str, JsonValue]:
    """A flat dict with every scored key; dates are local ISO strings, absent values None."""
    patient: PatientRef | None = None
    candidates: tuple[PatientRef, ...] = ()
    if not isinstance(intent, NewPatientIntent):
        patient, candidates = intent.patient, intent.candidates
    result: dict[str, JsonValue] = {
        "intent": intent.kind.value,
        "patient": patient.name if patient else None,
        "candidates": [c.name for c in candidates],
        "channel": None,
        "outcome": None,
        "follow_up": None,
        "at": None,
        "discharged": None,
        "query": None,
    }
    if isinstance(intent, ContactIntent):
        result["channel"] = intent.channel.value if intent.channel else None
        result["outcome"] = intent.outcome.value if intent.outcome else None
        result["follow_up"] = _iso(intent.follow_up, zone)
    elif isinstance(intent, AppointmentIntent):
        result["at"] = _iso(intent.at, zone)
    elif isinstance(intent, DischargeIntent):
        result["discharged"] = intent.discharged.isoformat()
    elif isinstance(intent, QueryIntent):
        result["query"] = intent.query.value
    elif isinstance(intent, NewPatientIntent):
        result["patient"] = intent.name
    return result


def _iso(when: When | None, zone: ZoneInfo) -> str | None:
    return when.local_iso(zone) if when is not None else None


@dataclass(frozen=True, slots=True)
class Miss:
    """One expected key the parser got wrong."""

    case_id: str
    text: str
    key: str
    expected: Any
    got: Any


@dataclass(slots=True)
class CorpusReport:
    """Per-key counts of scored and correct values, and every miss."""

    scored: Counter[str] = field(default_factory=Counter)
    correct: Counter[str] = field(default_factory=Counter)
    misses: list[Miss] = field(default_factory=list)
    messages: int = 0

    @property
    def all_correct(self) -> bool:
        return not self.misses

    def accuracy(self, key: str) -> float:
        return self.correct[key] / self.scored[key] if self.scored[key] else 1.0

    def render(self) -> str:
        """Per-field accuracy, then each miss, as plain text lines."""
        total, right = sum(self.scored.values()), sum(self.correct.values())
        lines = [f"{self.messages} messages, {right}/{total} fields right"]
        lines += [
            f"  {key:<11} {self.correct[key]:>3}/{self.scored[key]:<3} {self.accuracy(key):6.1%}"
            for key in sorted(self.scored)
        ]
        lines += [
            f"MISS {m.case_id} {m.key}: expected {m.expected!r}, got {m.got!r}  <- {m.text}"
            for m in self.misses
        ]
        return "\n".join(lines)


def value_matches(key: str, expected: Any, got: Any) -> bool:
    """The corpus rules for one key."""
    if key == "candidates":
        return set(expected or []) == set(got or [])
    if isinstance(expected, list):
        return got in expected
    return bool(expected == got)


def score_corpus(path: Path, *, date_order: DateOrder = "MDY") -> CorpusReport:
    """Parse every message of a JSONL corpus and score each expected key."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    header = json.loads(lines[0])["header"]
    caseload = Caseload.from_names(header["caseload"])
    report = CorpusReport()
    for line in lines[1:]:
        case = json.loads(line)
        zone = ZoneInfo(case.get("tz", header["tz"]))
        now = datetime.fromisoformat(case.get("now", header["now"]))
        now = now if now.tzinfo else now.replace(tzinfo=zone)
        intent = parse(case["text"], now=now, zone=zone, caseload=caseload, date_order=date_order)
        _score_case(report, case, intent_to_json(intent, zone))
    return report


def _score_case(report: CorpusReport, case: dict[str, Any], got: dict[str, JsonValue]) -> None:
    report.messages += 1
    for key, expected in case["expect"].items():
        report.scored[key] += 1
        if value_matches(key, expected, got.get(key)):
            report.correct[key] += 1
        else:
            report.misses.append(Miss(case["id"], case["text"], key, expected, got.get(key)))

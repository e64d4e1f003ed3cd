"""Score the parser against a labelled corpus of nurse messages.

Owns: ``fact_to_json`` / ``reading_to_json`` (the flat, comparable reading of a fact and of a
message) and ``score_corpus`` (reads a JSONL corpus whose first line is a header, parses every
message, compares every expected key). Reads only the corpus file it is given.
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

from bot.parsing.facts import Fact, Reading, doubts_of
from bot.parsing.intents import (
    AdmissionIntent,
    AppointmentIntent,
    CancelIntent,
    ContactIntent,
    CorrectionIntent,
    DischargeIntent,
    EdVisitIntent,
    MedRecIntent,
    NewPatientIntent,
    NoteIntent,
    PatientRef,
    QueryIntent,
    RescheduleIntent,
    TaskIntent,
    When,
)
from bot.parsing.parser import parse
from bot.parsing.patients import Caseload
from bot.vocab import DateOrder

JsonValue = str | int | list[str] | dict[str, str] | None

LEGACY_KEYS = ("intent", "patient", "candidates", "channel", "outcome", "follow_up", "at",
               "discharged", "query")  # fmt: skip
"""The keys `casebot parse` has always printed for a message (now: for its first fact)."""


def fact_to_json(fact: Fact, zone: ZoneInfo) -> dict[str, JsonValue]:
    """A flat dict with every scored key of one fact; dates are local ISO strings."""
    patient: PatientRef | None = None
    candidates: tuple[PatientRef, ...] = ()
    if not isinstance(fact, NewPatientIntent):
        patient, candidates = fact.patient, fact.candidates
    result: dict[str, JsonValue] = {key: None for key in LEGACY_KEYS}
    result.update(
        intent=fact.kind.value,
        patient=patient.name if patient else None,
        candidates=[c.name for c in candidates],
    )
    if isinstance(fact, ContactIntent):
        result.update(
            channel=fact.channel.value if fact.channel else None,
            outcome=fact.outcome.value if fact.outcome else None,
            follow_up=_iso(fact.follow_up, zone),
            with_whom=fact.with_whom.value,
            attempts=fact.attempts if fact.attempts > 1 or fact.attempts_given else None,
            occurred=(
                fact.occurred_at.local_date(zone).isoformat() if fact.occurred_given else None
            ),
        )
        if fact.vitals:
            result["vitals"] = {v.kind.value: v.value for v in fact.vitals}
    elif isinstance(fact, AppointmentIntent):
        result["at"] = _iso(fact.at, zone)
    elif isinstance(fact, DischargeIntent):
        result["discharged"] = fact.discharged.isoformat()
    elif isinstance(fact, AdmissionIntent | EdVisitIntent):
        result["at"] = fact.on.isoformat()
    elif isinstance(fact, MedRecIntent):
        result["discrepancies"] = fact.discrepancies
    elif isinstance(fact, TaskIntent):
        result["follow_up"] = result["at"] = _iso(fact.due, zone)
    elif isinstance(fact, NoteIntent):
        result["vitals"] = {v.kind.value: v.value for v in fact.vitals}
    elif isinstance(fact, CancelIntent):
        result["at"] = _iso(fact.on, zone)
    elif isinstance(fact, RescheduleIntent | CorrectionIntent):
        result["at"] = _iso(fact.new, zone)
        if isinstance(fact, CorrectionIntent):
            result["follow_up"] = result["at"]
            result["channel"] = fact.channel.value if fact.channel else None
            result["outcome"] = fact.outcome.value if fact.outcome else None
        if fact.new_time is not None:
            result["time"] = f"{fact.new_time[0]:02d}:{fact.new_time[1]:02d}"
    elif isinstance(fact, QueryIntent):
        result["query"] = fact.query.value
    elif isinstance(fact, NewPatientIntent):
        result["patient"] = fact.name
    doubts = doubts_of(fact)
    result["confidence"] = "unsure" if doubts else "sure"
    if doubts:
        result["doubts"] = [d.reason.value for d in doubts]
    return result


def reading_to_json(reading: Reading, zone: ZoneInfo) -> dict[str, JsonValue | list[Any]]:
    """The first fact's keys (as `casebot parse` has always printed), every fact, and whether
    the message can be saved without asking."""
    facts = [fact_to_json(f, zone) for f in reading.facts]
    first: dict[str, JsonValue | list[Any]] = {key: facts[0].get(key) for key in LEGACY_KEYS}
    first["facts"] = facts
    first["confidence"] = reading.confidence
    return first


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
    messages_right: int = 0
    sure_but_wrong: list[str] = field(default_factory=list)

    @property
    def all_correct(self) -> bool:
        return not self.misses

    def accuracy(self, key: str) -> float:
        return self.correct[key] / self.scored[key] if self.scored[key] else 1.0

    def render(self) -> str:
        """Per-field accuracy, then each miss, as plain text lines."""
        total, right = sum(self.scored.values()), sum(self.correct.values())
        lines = [
            f"{self.messages} messages, {right}/{total} fields right, "
            f"{self.messages_right} messages wholly right, "
            f"{len(self.sure_but_wrong)} read as sure but wrong"
            + (f" ({', '.join(self.sure_but_wrong)})" if self.sure_but_wrong else "")
        ]
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
    if key.endswith("candidates"):
        return set(expected or []) == set(got or [])
    if isinstance(expected, list):
        return got in expected
    return bool(expected == got)


def score_corpus(path: Path, *, date_order: DateOrder = "MDY") -> CorpusReport:
    """Parse every message of a JSONL corpus and score each expected key.

    A case's ``expect`` is scored against the first fact; a case with ``facts`` is also scored
    fact by fact (keys "fact.<key>") and by its number of facts ("facts"); a case with
    ``confidence`` is scored on it ("confidence")."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    header = json.loads(lines[0])["header"]
    caseload = Caseload.from_names(header["caseload"])
    report = CorpusReport()
    for line in lines[1:]:
        case = json.loads(line)
        zone = ZoneInfo(case.get("tz", header["tz"]))
        now = datetime.fromisoformat(case.get("now", header["now"]))
        now = now if now.tzinfo else now.replace(tzinfo=zone)
        reading = parse(case["text"], now=now, zone=zone, caseload=caseload, date_order=date_order)
        _score_case(report, case, reading_to_json(reading, zone))
    return report


def _score_case(report: CorpusReport, case: dict[str, Any], got: dict[str, Any]) -> None:
    """Score one case; a case the parser was sure of but got wrong is the one that would be
    saved without a read-back, so it is counted on its own."""
    report.messages += 1
    misses_before = len(report.misses)
    labelled: list[dict[str, Any]] = case.get("facts") or []
    expect: dict[str, Any] = case.get("expect") or (labelled[0] if labelled else {})
    facts: list[dict[str, Any]] = got["facts"]
    for key, expected in expect.items():
        _score(report, case, key, expected, got.get(key, facts[0].get(key)))
    if labelled:
        _score(report, case, "facts", len(labelled), len(facts))
        for i, fact in enumerate(labelled):
            mine = facts[i] if i < len(facts) else {}
            for key, expected in fact.items():
                _score(report, case, f"fact.{key}", expected, mine.get(key), where=f"[{i}]")
    if "confidence" in case:
        _score(report, case, "confidence", case["confidence"], got.get("confidence"))
    wrong = report.misses[misses_before:]
    if not wrong:
        report.messages_right += 1
    elif got.get("confidence") == "sure" and any(m.key != "confidence" for m in wrong):
        report.sure_but_wrong.append(case["id"])


def _score(
    report: CorpusReport, case: dict[str, Any], key: str, expected: Any, got: Any, where: str = ""
) -> None:
    report.scored[key] += 1
    if value_matches(key, expected, got):
        report.correct[key] += 1
    else:
        report.misses.append(Miss(case["id"], case["text"], key + where, expected, got))

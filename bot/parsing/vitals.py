"""Vital signs written in a note: "BP 150/90 wt 182 lbs", "O2 94% RA", "FSBS 210", "T 99.1".

Owns: reading each vital into a typed value with its unit (written or the usual one), and
rejecting values no living patient has (a BP of 15/9, a weight of 2).
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

import re

from bot.parsing.intents import Vital, VitalKind

_I = re.IGNORECASE
_SEP = (
    r"\s*(?:[:=-]|is|was|of|at|@)?\s*(?:(?:stable|up|down|now|today|still|steady|about|around|"
    r"approx|~|at|was|is|this\s+am|am|pm)\s+){0,2}"
)

_PATTERNS: tuple[tuple[VitalKind, re.Pattern[str]], ...] = (
    (VitalKind.BP, re.compile(
        rf"\b(?:bp|b/p|blood\s+pressure|bps){_SEP}(?P<v>\d{{2,4}}\s*/\s*\d{{2,3}})"
        r"(?:\s*(?P<u>mmhg|mm\s*hg))?", _I)),
    (VitalKind.HR, re.compile(
        rf"\b(?:hr|pulse|heart\s+rate|p(?=\s*\d)|apical){_SEP}(?P<v>\d{{2,3}})(?!\s*/)"
        r"(?:\s*(?P<u>bpm))?", _I)),
    (VitalKind.BG, re.compile(
        rf"\b(?:bg|cbg|fsbs|fbs|bs|blood\s+sugar|sugar|sugars|glucose|accu-?chek|accucheck|"
        rf"fingerstick|fs|gluc){_SEP}(?P<v>\d{{2,3}})(?:\s*(?P<u>mg/dl))?", _I)),
    (VitalKind.WEIGHT, re.compile(
        rf"\b(?:wt|weight|weighs|weighed|wgt){_SEP}(?P<v>\d{{2,3}}(?:\.\d)?)"
        r"(?:\s*(?P<u>lbs?|pounds|#|kgs?|kilos?))?", _I)),
    (VitalKind.SPO2, re.compile(
        rf"\b(?:spo2|sp02|o2\s*sats?|o2|sats?|pulse\s*ox|pox|oxygen(?:\s+sat(?:uration)?)?)"
        rf"{_SEP}(?P<v>\d{{2,3}})\s*(?P<u>%)?(?!\s*(?:l|lpm|liters?)\b)", _I)),
    (VitalKind.TEMP, re.compile(
        rf"\b(?:temp|t|tmax|temperature){_SEP}(?P<v>\d{{2,3}}(?:\.\d)?)(?:\s*(?P<u>°?\s*[fc]))?"
        r"(?![\w/])", _I)),
)  # fmt: skip

_RANGES = {
    VitalKind.HR: (25, 250),
    VitalKind.BG: (20, 800),
    VitalKind.WEIGHT: (50, 800),
    VitalKind.SPO2: (50, 100),
    VitalKind.TEMP: (90, 110),
}
_DEFAULT_UNITS = {
    VitalKind.BP: "mmHg",
    VitalKind.HR: "bpm",
    VitalKind.BG: "mg/dL",
    VitalKind.WEIGHT: "lb",
    VitalKind.SPO2: "%",
    VitalKind.TEMP: "F",
}


_BARE_TEMP_RE = re.compile(
    r"(?<![\d./])(?P<v>(?:9[5-9]|10[0-4])\.\d)(?:\s*°?\s*(?P<u>[fF]))?(?![\d/]|\s*(?:kgs?|kilos?|lbs?|"
    r"pounds|#)\b)"
)


def read_vitals(text: str) -> tuple[Vital, ...]:
    """Every plausible vital sign in the text, in the order written (one of each kind)."""
    found: list[tuple[int, Vital]] = []
    bare = _BARE_TEMP_RE.search(text)
    if bare is not None and not _PATTERNS[-1][1].search(text):
        found.append((bare.start(), Vital(VitalKind.TEMP, bare.group("v"), "F")))
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            vital = _vital(kind, match)
            if vital is not None:
                found.append((match.start(), vital))
                break
    return tuple(v for _, v in sorted(found, key=lambda item: item[0]))


def implausible_vitals(text: str) -> list[str]:
    """Readings written as vitals that no living patient has ("BP 1428/82"): typos to read
    back, never to save as they are."""
    found = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if _vital(kind, match) is None:
                found.append(match.group(0).strip())
    return found


def _vital(kind: VitalKind, match: re.Match[str]) -> Vital | None:
    value = re.sub(r"\s+", "", match.group("v"))
    unit = _unit(kind, (match.group("u") or "").strip().lower())
    if kind is VitalKind.BP:
        systolic, diastolic = (int(x) for x in value.split("/"))
        if not (60 <= systolic <= 260 and 30 <= diastolic <= 160 and diastolic < systolic):
            return None
        return Vital(kind, value, unit)
    number = float(value)
    low, high = _RANGES[kind]
    if kind is VitalKind.WEIGHT and unit == "kg":
        low, high = 20, 350
    if kind is VitalKind.TEMP and unit == "C":
        low, high = 32, 43
    if not low <= number <= high:
        return None
    return Vital(kind, value, unit)


def _unit(kind: VitalKind, written: str) -> str:
    written = written.replace("°", "").strip()
    if kind is VitalKind.WEIGHT and written.startswith("k"):
        return "kg"
    if kind is VitalKind.TEMP and written == "c":
        return "C"
    return _DEFAULT_UNITS[kind]

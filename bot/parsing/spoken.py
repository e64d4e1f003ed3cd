"""What speech-to-text writes, turned into what a nurse would type.

A dictated note (a phone's dictation, or a voice note transcribed by bot.voice) spells numbers
out and mishears short words: "follow up in to weeks", "at four thirty", "blood pressure 168
over 94", "pulse sixty four", "the eighteenth", "called him to times". Here those become
"in 2 weeks", "at 4:30", "BP 168/94", "pulse 64", "the 18th", "called him x2", so the readers
see one way of writing each. Only numbers in a place where a number is expected are changed
("one of her meds" stays as it is).
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE

_UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip

_UNIT_WORD = "|".join(sorted(_UNITS, key=len, reverse=True))
_TENS_WORD = "|".join(_TENS)
_ORDINAL_WORD = "|".join(sorted(_ORDINALS, key=len, reverse=True))
_TEEN_WORD = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_SPOKEN_HUNDREDS = (
    rf"(?:one|two|three)\s+(?:oh\s+(?:{_UNIT_WORD})|(?:{_TENS_WORD})(?:[\s-]+(?:{_UNIT_WORD}))?|"
    rf"(?:{_TEEN_WORD}))"
)
"""Hundreds said the way a reading is said aloud: "one forty two", "two oh four", "two ten"."""
_NUMBER = (
    rf"(?:{_SPOKEN_HUNDREDS}|(?:(?:{_UNIT_WORD})\s+hundred(?:\s+and)?\s+)?"
    rf"(?:(?:{_TENS_WORD})(?:[\s-]+(?:{_UNIT_WORD}))?|{_TEEN_WORD}|{_UNIT_WORD}))"
)
"""A number from zero to 999 written in words: "sixty four", "one hundred sixty eight",
"one forty two"."""

_MINUTES = (
    rf"(?:o'?clock|oh\s+(?:{_UNIT_WORD})|(?:{_TENS_WORD})(?:[\s-]+(?:{_UNIT_WORD}))?|fifteen|ten|"
    rf"five)"
)
_TIME_RE = re.compile(
    rf"\b(?P<lead>at|@|by|around|after|before)\s+(?P<h>{_UNIT_WORD})(?:\s+(?P<m>{_MINUTES}))?\b"
    rf"(?=\s*(?:$|[,.;!]|a\.?m|p\.?m|o'?clock|in\s+the|on\b|tomorrow|tmrw|today|tonight|mon|tue|"
    rf"wed|thu|fri|sat|sun|with|w/|for\b|four\b|to\b|and\b|then\b|but\b))"
    rf"|\b(?P<h2>{_UNIT_WORD})\s+(?P<m2>{_MINUTES})(?=\s*(?:a\.?m\.?|p\.?m\.?|in\s+the|$|[,.;]))",
    _I,
)
_ORDINAL_RE = re.compile(
    rf"\b(?P<lead>the|jan\w*|feb\w*|mar\w*|apr\w*|may|jun\w*|jul\w*|aug\w*|sep\w*|oct\w*|"
    rf"nov\w*|dec\w*)\s+(?:(?P<tens>twenty|thirty)[\s-]+)?(?P<ord>{_ORDINAL_WORD})\b"
    rf"(?=\s*(?:$|[,.;!]|at\b|@|of\b|in\b|for\b|from\b|to\b|and\b|'s))",
    _I,
)
_OVER_RE = re.compile(rf"\b(?P<a>\d{{2,3}}|{_NUMBER})\s+over\s+(?P<b>\d{{2,3}}|{_NUMBER})\b", _I)
_VITAL_WORD_RE = re.compile(
    rf"\b(?P<label>pulse|heart\s+rate|hr|sat|sats|o2\s+sat|oxygen|temp|temperature|weight|"
    rf"weighs|wt|sugar|blood\s+sugar|glucose|bg|a1c|pain)\s+"
    rf"(?:(?:is|was|of|today|now|this\s+(?:morning|am))\s+){{0,2}}"
    rf"(?P<n>{_NUMBER})(?:\s+point\s+(?P<d>{_UNIT_WORD}))?\b",
    _I,
)
_SPAN_RE = re.compile(
    rf"\b(?P<lead>in|for|x|about)\s+(?:to|too|(?P<n>{_NUMBER}))\s+"
    rf"(?P<unit>days?|weeks?|wks?|months?|hours?|hrs?|minutes?)\b",
    _I,
)
_TIMES_RE = re.compile(rf"\b(?:(?P<n>{_NUMBER})|to|too)\s+times\b", _I)
_AT_FOR_RE = re.compile(r"\b(?P<lead>at)\s+for\b(?=\s*(?:$|[,.;]|a\.?m|p\.?m|o'?clock))", _I)
_BP_WORDS_RE = re.compile(r"\bblood\s+pressure\b", _I)


_PAST_RE = re.compile(
    rf"\b(?P<part>half|quarter)\s+(?P<rel>past|after|to|til)\s+(?P<h>{_UNIT_WORD}|\d{{1,2}})\b", _I
)
_FORTNIGHT_RE = re.compile(r"\b(?:a\s+|one\s+)?fortnight\b", _I)
_TWO_OF_RE = re.compile(
    r"\b(?:to|too)\s+(?=(?:discrepancies|calls|attempts|tries|messages|voicemails|vms|pounds|lbs|"
    r"kilos|days|weeks|wks|months|visits|falls|episodes|pills|tabs|tablets|doses|meds)\b)",
    _I,
)


def _past(match: re.Match[str]) -> str:
    hour_text = match.group("h")
    hour = int(hour_text) if hour_text.isdigit() else _UNITS[hour_text.lower()]
    if not 1 <= hour <= 12:
        return match.group(0)
    after = match.group("rel").lower() in ("past", "after")
    minutes = 30 if match.group("part").lower() == "half" else 15
    if not after:
        hour, minutes = (hour - 1) or 12, 60 - minutes
    return f"{hour}:{minutes:02d}"


_MISHEARD = (
    (re.compile(r"\bknow\s+(?=(?:answer|response|reply|show|pick\s*up)\b)", _I), "no "),
    (re.compile(r"\bknow\s+(?=one\s+(?:answered|picked|home|there|came)\b)", _I), "no "),
    (re.compile(r"\bvoice\s*(?:male|mael|mall)\b", _I), "voicemail"),
    (re.compile(r"\b(?:missus|missis|mrs\.)(?=\s)", _I), "mrs"),
    (re.compile(r"\bmister\b", _I), "mr"),
    (re.compile(r"\bmed(?:ication)?\s+(?:wreck|wrecked|reck|rec'?d)\b", _I), "med rec"),
    (re.compile(r"\ba\s+week\s+(?:from\s+)?today\b", _I), "in 1 week"),
    (re.compile(r"\ba\s+week\s+(?:from\s+)?tomorrow\b", _I), "in 8 days"),
    (
        re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\s+next\b", _I),
        r"next \1",
    ),
    (re.compile(r"\bdoctor(?=\s+[a-z]+(?:'s)?\b)", _I), "dr"),
    (re.compile(r"\b(?:at|@)\s+(\d{1,2}(?::\d\d)?)\s+four\b(?=\s+[a-z])", _I), r"at \1 for"),
    (re.compile(r"\bfour\s+(?=(?:her|him|them|the|his|my|a)\b)", _I), "for "),
)
"""Words a speech recognizer writes for what she said: "know answer", "voice male",
"missus chen", "call back at nine four sam okafor's orders"."""
_SPELLED = frozenset(
    {"dme", "ct", "er", "ed", "pcp", "tcm", "icu", "snf", "mri", "ekg", "ecg", "hh", "pt", "ot",
     "inr", "bp", "bg", "hr", "ama", "cbc", "bmp", "cmp", "ua", "uti", "copd", "chf", "ckd", "dm",
     "iv", "po", "prn"}
)  # fmt: skip
_SPELLED_RE = re.compile(r"\b[a-z](?:\s+[a-z]){1,3}\b", _I)


def _spelled(match: re.Match[str]) -> str:
    """'the d m e', 'a c t scan': letters said one by one."""
    joined = match.group(0).replace(" ", "")
    return joined if joined.lower() in _SPELLED else match.group(0)


def from_dictation(text: str) -> str:
    """The text with spoken numbers in number places written as a nurse types them, and the
    words speech-to-text mishears written as she meant them."""
    for pattern, replacement in _MISHEARD:
        text = pattern.sub(replacement, text)
    text = _SPELLED_RE.sub(_spelled, text)
    text = _PAST_RE.sub(_past, text)
    text = _FORTNIGHT_RE.sub("2 weeks", text)
    text = _TWO_OF_RE.sub("2 ", text)
    text = _AT_FOR_RE.sub(lambda m: f"{m.group('lead')} 4", text)
    text = _OVER_RE.sub(_over, text)
    text = _BP_WORDS_RE.sub("BP", text)
    text = _VITAL_WORD_RE.sub(_vital, text)
    text = _TIME_RE.sub(_time, text)
    text = _ORDINAL_RE.sub(_ordinal, text)
    text = _SPAN_RE.sub(_span, text)
    return _TIMES_RE.sub(lambda m: f"x{number(m.group('n')) if m.group('n') else 2}", text)


def number(words: str) -> int:
    """'one hundred sixty eight' -> 168; 'one forty two' -> 142; 'two oh four' -> 204;
    '64' -> 64."""
    if words.strip().isdigit():
        return int(words)
    spoken = re.fullmatch(r"(one|two|three)\s+(?:oh\s+)?(.+)", words.strip(), _I)
    if spoken is not None and "hundred" not in words.lower():
        return _UNITS[spoken.group(1).lower()] * 100 + number(spoken.group(2))
    total = 0
    for word in re.split(r"[\s-]+", words.lower()):
        if word in _UNITS:
            total += _UNITS[word]
        elif word in _TENS:
            total += _TENS[word]
        elif word == "hundred":
            total = (total or 1) * 100
    return total


def _over(match: re.Match[str]) -> str:
    return f"{number(match.group('a'))}/{number(match.group('b'))}"


def _vital(match: re.Match[str]) -> str:
    value = str(number(match.group("n")))
    if match.group("d"):
        value += f".{_UNITS[match.group('d').lower()]}"
    return f"{match.group('label')} {value}"


def _time(match: re.Match[str]) -> str:
    hour_word = match.group("h") or match.group("h2")
    minute_words = match.group("m") or match.group("m2")
    hour = _UNITS[hour_word.lower()]
    if not 1 <= hour <= 12:
        return match.group(0)
    lead = f"{match.group('lead')} " if match.group("lead") else ""
    if not minute_words or re.match(r"o'?clock", minute_words, _I):
        return f"{lead}{hour}"
    minutes = number(re.sub(r"^oh\s+", "", minute_words, flags=_I))
    if not 0 <= minutes <= 59:
        return match.group(0)
    return f"{lead}{hour}:{minutes:02d}"


def _ordinal(match: re.Match[str]) -> str:
    tens = _TENS[match.group("tens").lower()] if match.group("tens") else 0
    day = _ORDINALS[match.group("ord").lower()] + tens
    if not 1 <= day <= 31:
        return match.group(0)
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{match.group('lead')} {day}{suffix}"


def _span(match: re.Match[str]) -> str:
    amount = number(match.group("n")) if match.group("n") else 2
    return f"{match.group('lead')} {amount} {match.group('unit')}"

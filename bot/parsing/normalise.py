"""Before reading: her own shorthand applied, misspelled key words fixed, clauses found.

Owns: ``normalise`` (apostrophes and dashes unified, the nurse's learned terms replaced by what
they mean, misspellings of key words corrected with rapidfuzz: "tommorow" -> "tomorrow") and
``clauses`` (where one piece of a message ends and the next begins). Names of her patients are
never "corrected".
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from spellchecker import SpellChecker

from bot.parsing.lexicon import CORRECTABLE, KNOWN_WORDS, words
from bot.parsing.spoken import from_dictation

_I = re.IGNORECASE

TYPO_CUTOFF = 87.0
"""rapidfuzz ratio a word needs to be corrected towards a key word."""

MIN_TYPO_LEN = 5
"""Shorter words are never corrected: too many short words are near each other."""

_INVISIBLE = (
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # direction marks
)
"""Zero-width characters and direction marks: dropped, so "Zero\u200bwidth Jones" is one name."""
_PUNCTUATION = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "`": "'", "\u2013": "-", "\u2014": "-", "\u00a0": " "}
    | dict.fromkeys(_INVISIBLE)
)
_SYMBOLS = (
    (re.compile(r"(?:^|(?<=[;|]))\s*[\u2714\u2713\u2705\u2611]\ufe0f?"), " reached "),  # "✔ Moore"
    (
        re.compile(
            r"^(\s*[A-Za-z][\w'.]{1,20}(?:\s+[A-Za-z]\.?)?)\s*[\u2714\u2713\u2705\u2611]\ufe0f?\s*$"
        ),
        r"\1 reached",
    ),  # "Jensen ✔"
    (re.compile(r"[\u2714\u2713\u2705\u2611]\ufe0f?"), " done "),  # "PCP f/u 1/12 @ 9 ✔"
    (re.compile(r"\U0001f4f5"), " NA "),  # 📵
    (re.compile(r"(?:\u2709\ufe0f?|\U0001f4e7|\U0001f4e8|\U0001f4e9)"), " emailed "),  # ✉️ 📧
    (re.compile(r"(?:\U0001f4de|\u260e\ufe0f?|\U0001f4f1)"), " called "),  # 📞 ☎️ 📱
    (
        re.compile(
            r"\s*(?:\u2192|->|=>|\u27a1\ufe0f?)\s*(?=(?:\d{1,2}/\d|mon|tue|wed|thu|fri|sat|sun|"
            r"tomorrow|tmrw|next)\w*)",
            re.I,
        ),
        " moved to ",
    ),  # "ophtho → 1/21 @ 1:15"
    (re.compile(r"\s*(?:\u2192|->|=>|\u27a1\ufe0f?)\s*"), " then "),  # "BP ↓ → advised"
    (re.compile(r"\s*\|\s*"), "; "),
    (re.compile(r"(?<=[a-z] )2/2(?= [a-z])", re.I), "secondary to"),
    (re.compile(r"\bA&E\b", re.I), "ED"),
)
"""Symbols a nurse types for words: "✔ Moore", "NA: smith + king 📵", "ophtho → 1/21",
"adm 2/2 CHF exac" (secondary to, not a date)."""
_WORD_RE = re.compile(r"[A-Za-z]+")
_CORRECTABLE = sorted(CORRECTABLE)
# "f/u tom" means tomorrow when no name follows ("f/u tom am", "call back tom").
_TOM_RE = re.compile(
    r"\b(?P<cue>f/u|fu|follow\s*up|call\s+back|try\s+again|recheck|rtc|see\s+(?:him|her)|"
    r"due|until|til|till|by)\s+tom\b(?=\s*(?:$|[.,;!]|am\b|pm\b|morning|afternoon|@|at\b|\d))",
    _I,
)


_F_YOU_RE = re.compile(
    r"\bf\s+you\s+(?=(?:mon|tue|wed|thu|fri|sat|sun|tomorrow|tmrw|next|in\s+\d|\d))", _I
)


def normalise(
    text: str, *, protect: frozenset[str] = frozenset(), shorthand: Mapping[str, str] | None = None
) -> str:
    """The text as the readers see it. ``protect`` holds folded words never corrected (her
    patients' names); ``shorthand`` maps her learned terms to what they mean."""
    text = text.translate(_PUNCTUATION)
    for pattern, said in _SYMBOLS:
        text = pattern.sub(said, text)
    text = from_dictation(text)
    if shorthand:
        text = apply_shorthand(text, shorthand)
    text = _TOM_RE.sub(lambda m: f"{m.group('cue')} tomorrow", text)
    text = _F_YOU_RE.sub("f/u ", text)
    return _fix_typos(text, protect)


def apply_shorthand(text: str, shorthand: Mapping[str, str]) -> str:
    """Replace each learned term (a whole word or phrase, any case) by its meaning."""
    pattern = _shorthand_pattern(tuple(sorted(shorthand, key=len, reverse=True)))
    if pattern is None:
        return text
    lowered = {term.casefold(): meaning for term, meaning in shorthand.items()}
    return pattern.sub(lambda m: lowered.get(m.group(0).casefold(), m.group(0)), text)


@lru_cache(maxsize=256)
def _shorthand_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in terms)
    return re.compile(rf"(?<![\w/])(?:{alternatives})(?![\w/])", _I)


def _fix_typos(text: str, protect: frozenset[str]) -> str:
    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        folded = word.casefold()
        if (
            len(folded) < MIN_TYPO_LEN
            or folded in CORRECTABLE
            or folded in KNOWN_WORDS
            or folded in protect
            or folded in english_words()
        ):
            return word  # "UTR letter mailed" is not "emailed"
        return _correction(folded) or word

    return _WORD_RE.sub(fix, text)


ENGLISH_MIN_COUNT = 500
"""How common (in pyspellchecker's English word counts) a word must be to be left as written."""


@cache
def english_words() -> frozenset[str]:
    """Everyday English words, never "corrected" towards a shorthand key word. Built once per
    process (about 26,000 words); the app loads it at start-up so no message waits for it."""
    counts = SpellChecker(language="en", distance=1).word_frequency
    return frozenset(w for w, n in counts.items() if n >= ENGLISH_MIN_COUNT)


_CONTRACTIONS = words(
    "didnt doesnt dont wasnt isnt cant wont couldnt wouldnt shouldnt hasnt havent hadnt arent "
    "werent aint im ive id ill shes hes theyre thats whats wouldve couldve"
)
SURNAME_MAX_COUNT = 2000
"""A word rarer than this in pyspellchecker's counts may be a surname ("garcia" 532)."""
TYPO_OF_COUNT = 20000
"""One slip from a word at least this common is a typo of it ("calld"), not a surname."""


@lru_cache(maxsize=1)
def _checker() -> SpellChecker:
    return SpellChecker(language="en", distance=1)


@cache
def census_surnames() -> frozenset[str]:
    """The US census list of last names (88,799, from the `names` package), lowercased."""
    text = (resources.files("names") / "dist.all.last").read_text(encoding="ascii")
    return frozenset(line.split(maxsplit=1)[0].lower() for line in text.splitlines() if line)


@lru_cache(maxsize=4096)
def may_be_surname(word: str) -> bool:
    """Whether a lowercase word could be someone's surname: a census surname that is rare in
    English and not a slip of a common word. "okoro", "kimball", "garcia" may; "fell", "labs",
    "bloodwork", "calld" may not."""
    if word in _CONTRACTIONS or word not in census_surnames():
        return False
    counts = _checker().word_frequency
    if counts[word] >= SURNAME_MAX_COUNT:
        return False
    return not any(counts[near] >= TYPO_OF_COUNT for near in _checker().edit_distance_1(word))


@lru_cache(maxsize=4096)
def _correction(folded: str) -> str | None:
    found = process.extractOne(folded, _CORRECTABLE, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
    if found is not None:
        target: str = found[0]
    elif len(folded) >= 6:  # one slip, a swapped pair of letters counted once: "anwser"
        near = [w for w in _CORRECTABLE if len(w) >= 6 and OSA.distance(folded, w) <= 1]
        if len(near) != 1:
            return None
        target = near[0]
    else:
        return None
    # A plural or tense of the same word is not a typo ("visits", "calls").
    if folded.startswith(target) or target.startswith(folded):
        return None
    return target


# -- clauses ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clause:
    """One piece of a message between breaks: [start, end) in the normalised text."""

    start: int
    end: int


_ABBREVIATION_BEFORE_DOT = re.compile(
    r"(?:\b(?:dr|st|mt|mr|mrs|ms|jr|sr|vs|approx|appt|apt|pt|wk|wks|hr|hrs|min|mins|no|tel|"
    r"ph|dept|e\.r|a\.m|p\.m|a|p|[a-z]))$",
    _I,
)
_BREAK_RE = re.compile(
    r"[.!?](?=\s|$)|[;\n|]|,|\s[-=>]+\s|\s\+\s|\s&\s|\s/\s|"
    r"(?<=[a-z]{3})(?<!\bpls)(?<!please)(?<!\band)(?<!\balso)\s+"
    r"(?=(?:remind\s+me|note\s+to\s+self|don'?t\s+forget)\b)|"
    r"\b(?:and\s+then|then|also|plus|and|but|so|after\s+that|afterwards|btw)\b|"
    r"(?<=[a-z0-9])\s+(?=(?-i:Moved|Called|Spoke|Left|Next|Follow|Will|Remind|Need|Talked|Texted|"
    r"She|He|They|Pt|Patient|Scheduled|Booked|Set|Tried|No|Also|Then|Plan|Appointment|Appt)\b)",
    _I,
)


MAX_CLAUSES = 30
"""Clauses read in one message; a nurse's longest messages have about a dozen."""


def clauses(text: str) -> list[Clause]:
    """Where the message breaks: sentence ends (not 'Dr.' or '12.5'), semicolons, new lines,
    commas, dashes between words, and joining words ('and', 'then', 'also', 'but')."""
    found: list[Clause] = []
    start = 0
    for match in _BREAK_RE.finditer(text):
        before = text[max(0, match.start() - 8) : match.start()]
        if match.group(0) == "." and _ABBREVIATION_BEFORE_DOT.search(before):
            continue
        if match.group(0) == "," and _inside_number(text, match.start()):
            continue
        if text[start : match.start()].strip():
            found.append(Clause(start, match.start()))
            if len(found) >= MAX_CLAUSES:
                return found  # what is left is kept in the note, not read for more facts
        start = match.end()
    if text[start:].strip():
        found.append(Clause(start, len(text)))
    return found


def _inside_number(text: str, index: int) -> bool:
    return 0 < index < len(text) - 1 and text[index - 1].isdigit() and text[index + 1].isdigit()

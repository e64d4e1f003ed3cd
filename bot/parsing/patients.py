"""Find which caseload patient a message names.

Owns: name normalisation (case, accents, apostrophes, possessives, titles), the per-caseload
index (``Caseload``, built once and reused for every message) and fuzzy matching with rapidfuzz.
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.

Matching order: whole names (two or three tokens, exact then fuzzy), then single first or last
names (exact, then fuzzy for longer tokens). Ordinary words never match on their own: single
tokens pass a stop list, fuzzy matches need a high score, and a fuzzy full name needs one exact
name token or capitalised words. Two or more equally good patients give ``candidates``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nicknames import NickNamer
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot.parsing import lexicon as lx
from bot.parsing.intents import PatientMention, PatientRef
from bot.parsing.normalise import english_words, may_be_surname

MAX_NAME_TOKENS = 80
"""Tokens of a message examined for names: names come early; garbage must stay cheap."""

FULL_NAME_CUTOFF = 88.0
"""rapidfuzz ratio a two- or three-word span needs to match a full name ("maria lopes")."""

TOKEN_CUTOFF = 88.0
"""rapidfuzz ratio a single word needs to match one first or last name ("dorthy")."""

MIN_FUZZY_TOKEN_LEN = 5
"""Shorter single words only match exactly: short words are too easily near a name."""

SURE_FUZZY_SCORE = 92.0
"""A misspelled lone name scoring below this is a guess: the fact is read back before saving."""


@functools.cache
def _nicknamer() -> NickNamer:
    return NickNamer()


_WRITTEN_SHORT = {
    "william": "wm",
    "charles": "chas",
    "james": "jas",
    "thomas": "thos",
    "george": "geo",
    "robert": "robt",
    "joseph": "jos",
    "samuel": "saml",
    "benjamin": "benj",
    "richard": "richd",
    "margaret": "margt",
    "elizabeth": "eliz",
    "frederick": "fredk",
    "christopher": "chris",
    "alexander": "alex",
}
"""First names as clerks and charts abbreviate them ("Wm Brown"), which `nicknames` lacks."""


def nicknames_of(first_name: str) -> frozenset[str]:
    """The usual short forms of a first name ('thomas' -> tom, tommy, thom), folded."""
    short = _WRITTEN_SHORT.get(first_name)
    found = frozenset(_nicknamer().nicknames_of(first_name)) | ({short} if short else set())
    return found - {first_name}


def _tail_nicknames(first_name: str) -> frozenset[str]:
    """The end of a long first name said on its own ('emeka' for Chukwuemeka, 'seun' for
    Oluwaseun, 'beth' for Elizabeth): four letters or more, not an everyday English word."""
    return frozenset(
        first_name[i:]
        for i in range(3, len(first_name) - 3)
        if first_name[i:] not in english_words() and first_name[i:] not in COMMON_WORDS
    )


def word_set(words: str) -> frozenset[str]:
    """A set of whitespace-separated words (keeps long word lists readable)."""
    return frozenset(words.split())


_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx"})
_NOT_INITIALS = frozenset(
    {"na", "lm", "vm", "hh", "hr", "bp", "bg", "pt", "ot", "st", "ed", "er", "md", "np", "pa",
     "rn", "sw", "cm", "tc", "hv", "dm", "gi", "pe", "mi", "ms", "ok", "am", "pm", "dr", "ct",
     "us", "iv", "im", "po", "sq", "ua", "cp", "rx", "tx", "dx", "hx", "sx", "fx", "le", "ue",
     "mr", "jr", "sr", "dc", "fu", "cg", "nh", "wc", "bs", "sn"}
)  # fmt: skip
"""Two capitals that are shorthand, never a patient's initials."""
_PLACE_TITLES = frozenset({"st", "saint", "mt", "mount", "ste"})
_RELATIONS = frozenset(
    {"daughter", "dtr", "son", "wife", "husband", "mother", "father", "mom", "dad", "sister",
     "brother", "niece", "nephew", "aunt", "uncle", "granddaughter", "grandson", "cousin",
     "friend", "neighbor", "neighbour", "caregiver", "cg", "aide", "poa", "partner"}
)  # fmt: skip
"""A first name right after these is that person's ("her daughter rosa"), not a patient's."""
_PROVIDER_TITLES = frozenset({"dr", "doctor", "np", "pa", "rn"})

# Words that are never read as a patient name on their own (they may still be part of a full
# name: "Mercy Adams" matches as two words). Keep it to words a nurse really writes.
COMMON_WORDS = word_set(
    """
    a an and or but the of to for from with without w in on at by as is was be been are am
    he she him her his hers they them their i me my we us our you your it its this that these
    those who whom what when where which why how not no yes ok okay hi hello hey thanks thank
    please will would can could should may might must shall did do does done had has have
    called call calls calling phoned phone spoke speak talked talk texted text txt emailed email
    left message msg voicemail vm lvm hv visit visited visits seen saw see clinic home tele
    telehealth video zoom virtual office pt pts patient patients re cc co c o f u fu d dc
    appt appts appointment appointments discharged discharge admitted admit readmitted
    med meds medication medications rec reconciliation reconciled pcp snf ed er icu ltac
    rehab hospital general memorial regional medical center mercy st saint sts county
    today tomorrow tmrw tonight yesterday morning afternoon evening night noon am pm week
    weeks wk wks month months day days hrs hours hour next last new high low medium moderate
    risk complexity mon monday tue tues tuesday wed weds wednesday thu thur thurs thursday
    fri friday sat saturday sun sunday jan feb mar apr jun jul aug sep sept oct nov dec
    answer try tried again back check recheck follow up reached unable reach attempt attempts
    son daughter wife husband mother father mom dad caregiver family sister brother niece
    nephew dr doctor nurse np rn md cardiology cardio endo ortho derm neuro nephro pulm onc
    gi labs lab bp pain wound doing well better worse stable ok fine good bad show pull open
    list my caseload overdue due who today's pending eow eom asap bid tid qd prn sob cp cva
    chf copd dm htn ckd afib mi uti insulin dose refill refills bring brought sent send
    wrong right long strong light night might sight fine line time wait still will while
    going being doing seeing having making taking giving coming getting
    """
)

# Names that are also ordinary words: alone, they count only when written with a capital
# ("called Grace" yes, "grace period" no; "Mr King" yes, "king size" no).
WORDS_THAT_ARE_NAMES = word_set(
    """
    grace hope faith joy rose may june april august autumn summer will bill pat mark art sue
    rich king brown white black green young long hall wood stone rivers price love bell
    frank earl rusty sandy dawn crystal amber ruby pearl olive iris ivy daisy lily holly
    walker baker cook carter parker turner hunter wells
    """
)

_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


@functools.lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Lower-case, strip accents and unify apostrophes: 'Martínez' -> 'martinez'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@functools.lru_cache(maxsize=8192)
def _normalise_token(word: str) -> str:
    """One word as the index stores it: folded, possessive and apostrophes dropped."""
    folded = fold(word)
    if folded.endswith("'s"):
        folded = folded[:-2]
    return folded.replace("'", "")


def normalise_name(name: str) -> str:
    """A whole name as the index stores it: "James O'Brien" -> 'james obrien'."""
    return " ".join(_normalise_token(w) for w in _TOKEN_RE.findall(name))


@dataclass(frozen=True, slots=True)
class _Token:
    """A word of the message: normalised form, span of the name part, and how it was written."""

    norm: str
    start: int
    end: int
    capitalised: bool
    listed: bool = False  # an item of a list: "fax orders: king, lewis, walker"


_NAME_EXPECTED_RE = re.compile(
    r"(?:\b(?:called|call|spoke\s+(?:w/?|with|to)|talked\s+to|lvm\s+for|lm\s+for|"
    r"left\s+vm\s+for|texted|visited|saw|hv\s+w/?|hv|tc\s+w/?|tc|mr|mrs|ms|miss|show\s+me|"
    r"pull\s+up|open|to|for|re|about|w/|with|attempt|try)\.?\s+)$",
    re.IGNORECASE,
)
"""Right before a word that is a name even when it is also an everyday word ("called bill")."""
_LIST_BEFORE_RE = re.compile(r"(?:[,:;+&]|\s-+|\band)\s*$", re.IGNORECASE)
_NAME_SLOT_AFTER_RE = re.compile(r"\s*(?:-|:|'s\b|,\s*\w)")
"""Right after a word in a name's place at the start: "hall - spoke w pt", "carter: ..."."""
_LIST_AFTER_RE = re.compile(r"\s*(?:[,;.+&]|\s-|\band\b|$)", re.IGNORECASE)


def _in_name_list(text: str, at: int, tokens: list[_Token], known: frozenset[str]) -> bool:
    """After a list separator, in a list of names: "fax orders: king, lewis, walker". After
    "+", "&", "and" or a comma the word before must be one of her patients' names too, so
    "has all meds + walker" lists no patient."""
    separator = _LIST_BEFORE_RE.search(text[max(0, at - 12) : at])
    if separator is None:
        return bool(  # "2nd attempt smith king nguyen - LM all"
            tokens
            and tokens[-1].norm in known
            and not text[tokens[-1].end : at].strip()
            and (_next_word(text, at) in known or _LIST_AFTER_RE.match(text, _word_end(text, at)))
        )
    if bool(tokens) and tokens[-1].norm in known:
        return True  # "NA: smith + king + young"
    if not _LIST_AFTER_RE.match(text, _word_end(text, at)):
        return False
    return separator.group(0).strip() in (":", ";") or separator.group(0).strip().startswith("-")


def _opens_the_message(text: str, match: re.Match[str], known: frozenset[str]) -> bool:
    """A first word is in a name's place ("hope NA x2", "grace - spoke w pt", "okafurs wife
    called") unless an everyday word follows it as one phrase ("grace period for the copay")."""
    if text[: match.start()].strip(" \t\n*>-:.,"):
        return False
    if _NAME_SLOT_AFTER_RE.match(text, match.end()):
        return True
    spaced = text[match.end() : match.end() + 1] == " "
    after = _TOKEN_RE.match(text, match.end() + 1) if spaced else None
    if after is None:
        return True
    word = after.group()
    norm = _normalise_token(word)
    return (
        word[:1].isupper()
        or norm in known
        or norm in lx.KNOWN_WORDS
        or norm in lx.MEDICAL_SHORTHAND
        or len(norm) <= 3
    )


def _word_end(text: str, at: int) -> int:
    word = _TOKEN_RE.match(text, at)
    return word.end() if word else at


def _next_word(text: str, at: int) -> str:
    after = _TOKEN_RE.search(text, _word_end(text, at))
    return _normalise_token(after.group()) if after else ""


_STREET_AFTER_RE = re.compile(
    r"\s+(?:st\b\.?(?=\s*(?:$|[,;:!?()]|\.))|(?:street|ave|avenue|rd|road|blvd|boulevard|ln|lane|"
    r"pkwy|parkway|hwy|highway)\b)",
    re.IGNORECASE,
)


def _tokenise(text: str, known: frozenset[str] = frozenset()) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN_RE.finditer(text):
        word = match.group()
        end = match.end()
        if fold(word).endswith("'s"):
            end -= 2
        norm = _normalise_token(word)
        if not fold(word).endswith("'s") and _STREET_AFTER_RE.match(text, end):
            continue  # "the CVS on King St.": a street, not Robert King
        possessive = False
        if norm and norm.endswith("s") and len(norm) > 3 and norm[:-1] in known:
            norm, end, possessive = norm[:-1], end - 1, True  # "peggys", "sams": possessive
        if norm:
            listed = _in_name_list(text, match.start(), tokens, known) or bool(
                _NAME_EXPECTED_RE.search(text[max(0, match.start() - 16) : match.start()])
            )
            listed = listed or (not tokens and _opens_the_message(text, match, known))
            listed = listed or possessive or fold(word).endswith("'s")
            tokens.append(_Token(norm, match.start(), end, word[:1].isupper(), listed))
        if len(tokens) >= MAX_NAME_TOKENS:
            break
    return tokens


@dataclass(frozen=True, slots=True)
class NameMatch:
    """What the matcher found and where (span of the name as written, for the parser).

    ``guessed`` is True when the name was matched only through a misspelling the matcher is not
    sure of: the fact it belongs to is read back before it is saved."""

    mention: PatientMention
    span: tuple[int, int] | None
    guessed: bool = False


@dataclass(frozen=True, slots=True)
class _Hit:
    refs: tuple[PatientRef, ...]
    first: int
    last: int
    guessed: bool = False


class Caseload:
    """A normalised index of one nurse's patients, built once and reused for every message.

    Besides full names it knows first names, last names, the usual nicknames of each first
    name ("Tom" for Thomas, from the `nicknames` package) and first name + last initial
    ("Tom J.")."""

    def __init__(self, refs: Iterable[PatientRef]) -> None:
        self.refs: tuple[PatientRef, ...] = tuple(refs)
        self._by_full: dict[str, list[PatientRef]] = {}
        self._by_first: dict[str, list[PatientRef]] = {}
        self._by_last: dict[str, list[PatientRef]] = {}
        self._by_nick: dict[str, list[PatientRef]] = {}
        self._first_of: dict[PatientRef, str] = {}
        self._last_of: dict[PatientRef, str] = {}
        for ref in self.refs:
            self._index(ref)
        self._full_keys: list[str] = list(self._by_full)
        self._name_tokens: list[str] = sorted(set(self._by_first) | set(self._by_last))
        self._name_token_set = frozenset(self._name_tokens) | frozenset(self._by_nick)

    @classmethod
    def from_names(cls, names: Iterable[str]) -> Caseload:
        """An index over bare names (ids unknown): handy for tests and the CLI."""
        return cls(PatientRef(id=None, name=name) for name in names)

    def __len__(self) -> int:
        return len(self.refs)

    @property
    def name_tokens(self) -> frozenset[str]:
        """Every folded first, last and nickname token: words the typo fixer must not touch."""
        return self._name_token_set

    def _index(self, ref: PatientRef) -> None:
        parts = normalise_name(ref.name).split()
        if not parts:
            return
        first, last = parts[0], parts[-1]
        self._first_of[ref] = first
        keys = {" ".join(parts), f"{first} {last}"} if len(parts) > 1 else set()
        for key in keys:
            self._by_full.setdefault(key, []).append(ref)
        self._by_first.setdefault(first, []).append(ref)
        if len(parts) > 1:
            self._last_of[ref] = last
            self._by_last.setdefault(last, []).append(ref)
        for nick in nicknames_of(first) | _tail_nicknames(first):
            self._by_nick.setdefault(nick, []).append(ref)
            if len(parts) > 1:
                self._by_full.setdefault(f"{nick} {last}", []).append(ref)
        if len(parts) > 1:
            self._by_full.setdefault(f"{last} {first}", []).append(ref)  # "Greene Donald"
        if len(parts) > 2:
            self._by_full.setdefault(" ".join(parts[1:]), []).append(ref)  # "gonzalez-reyes"

    def find(self, text: str) -> NameMatch:
        """The patient the text names, the candidates if ambiguous, or the name as written."""
        found = self.find_all(text, limit=1)
        if found:
            return found[0]
        guess = guess_name_text(text)
        return NameMatch(PatientMention(patient_text=guess), None)

    def find_all(self, text: str, *, limit: int = 6) -> list[NameMatch]:
        """Every patient mention in the text, in reading order (at most ``limit``)."""
        tokens = _tokenise(text, self._name_token_set)
        hits: list[_Hit] = []
        taken: set[int] = set()
        for finder in (
            self._full_name_hits,
            self._mixed_name_hits,
            self._initial_hits,
            self._fuzzy_full_name_hits,
            self._single_name_hits,
            self._fuzzy_single_hits,
            self._initials_hits,
        ):
            for hit in finder(tokens, taken):
                hits.append(hit)
                taken.update(range(hit.first, hit.last + 1))
        hits.sort(key=lambda h: h.first)
        result = []
        for hit in hits[:limit]:
            start, end = tokens[hit.first].start, tokens[hit.last].end
            written = text[start:end]
            if not hit.refs:
                mention = PatientMention(patient_text=written)
            elif len(hit.refs) == 1:
                mention = PatientMention(patient=hit.refs[0], patient_text=written)
            else:
                mention = PatientMention(candidates=hit.refs, patient_text=written)
            result.append(NameMatch(mention, (start, end), hit.guessed))
        return result

    # -- whole names ---------------------------------------------------------------------

    def _full_name_hits(self, tokens: Sequence[_Token], taken: set[int]) -> list[_Hit]:
        hits: list[_Hit] = []
        if not self._full_keys:
            return hits
        used = set(taken)
        for size in (3, 2):
            for i in range(len(tokens) - size + 1):
                span = range(i, i + size)
                if used.intersection(span):
                    continue
                key = " ".join(t.norm for t in tokens[i : i + size])
                refs = self._by_full.get(key)
                if refs and not _after_provider_title(tokens, i):
                    hits.append(_Hit(_unique(refs), i, i + size - 1))
                    used.update(span)
        return hits

    def _initial_hits(self, tokens: Sequence[_Token], taken: set[int]) -> list[_Hit]:
        """'Tom J.' / 'maria l': a first name (or nickname) and the last name's initial;
        'H. Jensen': the first name's initial and a last name."""
        hits: list[_Hit] = []
        for i in range(len(tokens) - 1):
            initial, last = tokens[i], tokens[i + 1]
            if i in taken or i + 1 in taken or len(initial.norm) != 1:
                continue
            if not (initial.capitalised or initial.listed):
                continue
            refs = [
                r
                for r in self._by_last.get(last.norm, [])
                if self._first_of.get(r, "").startswith(initial.norm)
            ]
            if refs:
                hits.append(_Hit(_unique(refs), i, i + 1))
                taken = taken | {i, i + 1}
        for i in range(len(tokens) - 1):
            first, initial = tokens[i], tokens[i + 1]
            if i in taken or i + 1 in taken or len(initial.norm) != 1:
                continue
            if initial.start - first.end > 2:
                continue
            refs = [
                r
                for r in (*self._by_first.get(first.norm, []), *self._by_nick.get(first.norm, []))
                if self._last_of.get(r, "").startswith(initial.norm)
            ]
            if refs:
                hits.append(_Hit(_unique(refs), i, i + 1))
        return hits

    def _initials_hits(self, tokens: Sequence[_Token], taken: set[int]) -> list[_Hit]:
        """'LH returned call': a patient's two initials in capitals, when only she has them."""
        hits: list[_Hit] = []
        for i, token in enumerate(tokens):
            if i in taken or len(token.norm) != 2 or not token.capitalised:
                continue
            refs = [
                r
                for r, first in self._first_of.items()
                if first[:1] == token.norm[0] and self._last_of.get(r, "")[:1] == token.norm[1]
            ]
            if (
                len(refs) == 1
                and token.norm not in COMMON_WORDS
                and token.norm not in _NOT_INITIALS
            ):
                hits.append(_Hit((refs[0],), i, i, guessed=True))
        return hits

    def _mixed_name_hits(self, tokens: Sequence[_Token], taken: set[int]) -> list[_Hit]:
        """'bob smith' when Bob is Robert King and Smith is John Smith: nobody of hers. The
        pair is taken (so neither half matches alone) and read back as an unknown name."""
        hits: list[_Hit] = []
        for i in range(len(tokens) - 1):
            if i in taken or i + 1 in taken:
                continue
            first, last = tokens[i], tokens[i + 1]
            if first.norm in COMMON_WORDS or last.norm in COMMON_WORDS:
                continue
            firsts = {*self._by_first.get(first.norm, []), *self._by_nick.get(first.norm, [])}
            lasts = set(self._by_last.get(last.norm, []))
            if firsts and lasts and not firsts & lasts:
                hits.append(_Hit((), i, i + 1))
        return hits

    def _fuzzy_full_name_hits(self, tokens: Sequence[_Token], taken: set[int]) -> list[_Hit]:
        hits: list[_Hit] = []
        if not self._full_keys:
            return hits
        for i in range(len(tokens) - 1):
            if i in taken or i + 1 in taken:
                continue
            pair = tokens[i : i + 2]
            if not self._name_shaped_pair(pair) or _after_provider_title(tokens, i):
                continue
            query = f"{pair[0].norm} {pair[1].norm}"
            found = process.extract(
                query, self._full_keys, scorer=fuzz.ratio, score_cutoff=FULL_NAME_CUTOFF, limit=4
            )
            if not found:
                continue
            top = found[0][1]
            refs = _unique(r for key, score, _ in found if score == top for r in self._by_full[key])
            hits.append(_Hit(refs, i, i + 1))
            taken = taken | {i, i + 1}
        return hits

    def _name_shaped_pair(self, pair: Sequence[_Token]) -> bool:
        if any(t.norm in COMMON_WORDS or len(t.norm) < 2 for t in pair):
            return False
        known = any(t.norm in self._name_token_set for t in pair)
        return known or all(t.capitalised for t in pair)

    # -- first or last name alone --------------------------------------------------------

    def _single_name_hits(self, tokens: Sequence[_Token], taken: set[int]) -> list[_Hit]:
        hits: list[_Hit] = []
        for i, token in enumerate(tokens):
            if i in taken or not _may_be_lone_name(token) or _after_provider_title(tokens, i):
                continue
            if self._another_surname_follows(tokens, i):
                continue  # "Maria Gonzalez": a Maria who is not one of hers
            refs = self._exact_single(token.norm, titled=_after_title(tokens, i))
            if not refs and token.norm in self._by_nick and _may_be_nickname(token):
                refs = self._nickname_refs(token.norm)
            if refs:
                hits.append(_Hit(refs, i, i, guessed=self._unknown_surname_follows(tokens, i)))
        return hits

    def _unknown_surname_follows(self, tokens: Sequence[_Token], i: int) -> bool:
        """'james okoro' when her James is O'Brien: a lowercase word right after a first name
        that is no name of hers, no shorthand and no common English word may be another surname, so
        the match is read back, not trusted."""
        if i + 1 >= len(tokens) or tokens[i].norm not in self._by_first:
            return False
        nxt = tokens[i + 1]
        return (
            nxt.start - tokens[i].end <= 1
            and len(nxt.norm) > 2
            and nxt.norm.isalpha()
            and nxt.norm not in COMMON_WORDS
            and nxt.norm not in self._name_token_set
            and may_be_surname(nxt.norm)
            and nxt.norm not in lx.KNOWN_WORDS
            and nxt.norm not in lx.CORRECTABLE
            and not _is_abbreviation_token(nxt)
        )

    def _another_surname_follows(self, tokens: Sequence[_Token], i: int) -> bool:
        if i + 1 >= len(tokens):
            return False
        nxt = tokens[i + 1]
        return (
            nxt.capitalised
            and tokens[i].capitalised
            and nxt.start - tokens[i].end <= 1
            and len(nxt.norm) > 1
            and nxt.norm not in COMMON_WORDS
            and nxt.norm not in self._name_token_set
            and not _is_abbreviation_token(nxt)
        )

    def _nickname_refs(self, norm: str) -> tuple[PatientRef, ...]:
        """Patients a nickname may mean; when several, those whose first name it is closest to
        ('Bill' is William before Robert)."""
        refs = _unique(self._by_nick.get(norm, []))
        if len(refs) <= 1:
            return refs
        scored = [(fuzz.partial_ratio(norm, self._first_of.get(r, "")), r) for r in refs]
        best = max(score for score, _ in scored)
        return tuple(r for score, r in scored if score >= best - 15)

    def _exact_single(self, norm: str, *, titled: bool) -> tuple[PatientRef, ...]:
        by_last = self._by_last.get(norm, [])
        if titled:
            return _unique(by_last)
        return _unique([*self._by_first.get(norm, []), *by_last])

    def _fuzzy_single_hits(self, tokens: Sequence[_Token], taken: set[int]) -> list[_Hit]:
        hits: list[_Hit] = []
        for i, token in enumerate(tokens):
            if i in taken or not self._fuzzy_single_allowed(tokens, i):
                continue
            if self._another_surname_follows(tokens, i):
                continue
            found = self._fuzzy_single(token.norm, titled=_after_title(tokens, i))
            if found is not None:
                refs, score, key = found
                one_slip = (
                    len(refs) == 1
                    and min(
                        Levenshtein.distance(token.norm, key),
                        Levenshtein.distance(token.norm.removesuffix("s"), key),
                    )
                    <= 1
                )
                hits.append(_Hit(refs, i, i, guessed=score < SURE_FUZZY_SCORE and not one_slip))
        return hits

    def _fuzzy_single_allowed(self, tokens: Sequence[_Token], i: int) -> bool:
        token = tokens[i]
        return (
            len(token.norm) >= MIN_FUZZY_TOKEN_LEN
            and _may_be_lone_name(token)
            and not _after_provider_title(tokens, i)
            and (token.capitalised or token.listed)
        )

    def _fuzzy_single(
        self, norm: str, *, titled: bool
    ) -> tuple[tuple[PatientRef, ...], float, str] | None:
        choices = list(self._by_last) if titled else self._name_tokens
        cutoff = TOKEN_CUTOFF if len(norm) < 6 else TOKEN_CUTOFF - 6
        found = process.extract(norm, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=4)
        if not found and norm.endswith("s") and len(norm) > 5:  # "okafurs wife"
            return self._fuzzy_single(norm[:-1], titled=titled)
        if not found:
            return None
        top = found[0][1]
        refs: list[PatientRef] = []
        for key, score, _ in found:
            if score == top:
                refs.extend(self._exact_single(key, titled=titled))
        return _unique(refs), top, found[0][0]


def _may_be_nickname(token: _Token) -> bool:
    """A lone nickname counts when it is not also an everyday word ('will', 'pat', 'bill'),
    unless she capitalised it."""
    if token.norm in COMMON_WORDS:
        return False
    return token.capitalised or token.listed or token.norm not in WORDS_THAT_ARE_NAMES


def _is_abbreviation_token(token: _Token) -> bool:
    return len(token.norm) <= 4 and not token.capitalised


def _may_be_lone_name(token: _Token) -> bool:
    if token.norm in COMMON_WORDS:
        return False
    return token.capitalised or token.listed or token.norm not in WORDS_THAT_ARE_NAMES


def _unique(refs: Iterable[PatientRef]) -> tuple[PatientRef, ...]:
    """Refs in first-seen order without repeats."""
    return tuple(dict.fromkeys(refs))


def _after_title(tokens: Sequence[_Token], i: int) -> bool:
    return i > 0 and tokens[i - 1].norm in _TITLES


def _after_provider_title(tokens: Sequence[_Token], i: int) -> bool:
    """'Dr Kim' names a provider, not the patient Grace Kim; 'St Joseph' a hospital."""
    return i > 0 and tokens[i - 1].norm in _PROVIDER_TITLES | _PLACE_TITLES | _RELATIONS


_PLACE_WORDS = frozenset({"from", "at", "to", "in", "via"})


def guess_name_text(text: str, tokens: Sequence[_Token] | None = None) -> str | None:
    """The first run of capitalised, non-common words (1-3), e.g. 'Bob Jones': a name the
    caseload does not know, offered back as "add this patient?". None if nothing looks like one.
    """
    words = list(tokens) if tokens is not None else _tokenise(text)
    run: list[_Token] = []
    for i, token in enumerate(words):
        name_like = (
            (token.capitalised or _after_title(words, i) or _is_first_name(token.norm))
            and token.norm not in COMMON_WORDS
            and not _is_abbreviation(text[token.start : token.end])
            and not (i > 0 and words[i - 1].norm in _PLACE_WORDS | _PROVIDER_TITLES and not run)
        )
        if name_like and len(run) < 3:
            run.append(token)
            continue
        if run:
            break
    if not run:
        return None
    return text[run[0].start : run[-1].end]


def _is_first_name(norm: str) -> bool:
    """Whether a lowercase word is a first name people have ('helen'), from the nicknames
    package's list of names: a name she has not added, not an everyday word."""
    return (
        len(norm) >= 3
        and norm not in COMMON_WORDS
        and norm not in WORDS_THAT_ARE_NAMES
        and norm in _first_names()
    )


@functools.cache
def _first_names() -> frozenset[str]:
    namer = _nicknamer()
    return frozenset(namer.canonical_lookup) | frozenset(namer.nickname_lookup)


def _is_abbreviation(word: str) -> bool:
    return len(word) <= 4 and word.isupper()

"""One message, read once, and the span of words each fact is built from.

Owns: ``Message`` (what every reader of one message needs, computed once: the text as she wrote
it, its normalised form, the names and dates found in it, the date reader, her caseload) and
``Span`` (the words of one fact being built, with the cue that decides its kind so far).
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.parsing.cues import Cue
from bot.parsing.date_fragments import DateFragment
from bot.parsing.dates import DateReader
from bot.parsing.patients import Caseload, NameMatch


@dataclass(frozen=True, slots=True)
class Message:
    """What every reader of one message needs, computed once."""

    text: str  # as she wrote it: notes keep this
    normal: str  # normalised: everything is read from this
    names: tuple[NameMatch, ...]
    reader: DateReader
    fragments: tuple[DateFragment, ...]
    now: datetime
    caseload: Caseload
    memo: dict[object, object] = field(default_factory=dict, compare=False, repr=False)
    """Readings asked for more than once while one message is read (its clauses and cues)."""

    def names_in(self, start: int, end: int) -> list[NameMatch]:
        return [n for n in self.names if n.span is not None and start <= n.span[0] < end]

    def fragments_in(self, start: int, end: int) -> list[DateFragment]:
        return [f for f in self.fragments if start <= f.start < end]

    def text_of(self, span: Span) -> str:
        """The normalised words of one fact."""
        return self.normal[span.start : span.end]


@dataclass(slots=True)
class Span:
    """The words of one fact being built: [start, end) with the kind it has so far."""

    start: int
    end: int
    cue: Cue | None
    names: list[NameMatch] = field(default_factory=list)
    dated: bool = False
    followed: bool = False  # another fact comes after it in the message
    borrows: bool = False  # takes its slots from the next fact ("X and Y both NA")
    lent: bool = False  # takes its slots from the fact before ("LVM for X and Y")
    both: bool = False  # says "both"/"all": its next step is everyone's

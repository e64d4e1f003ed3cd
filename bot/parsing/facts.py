"""What one message states: a tuple of facts, each sure or unsure.

Owns ``Fact`` (one of the intent types of bot.parsing.intents, care-plan ones included) and
``Reading`` (the facts of one message, in the order written).
Must not import: telegram, storage, sqlalchemy, or anything doing I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.parsing.intents import CarePlanIntent, Doubt, Intent, UnknownIntent

Fact = Intent | CarePlanIntent


def doubts_of(fact: Fact) -> tuple[Doubt, ...]:
    """The reasons to read this fact back before saving it (care-plan facts carry none)."""
    found: tuple[Doubt, ...] = getattr(fact, "doubts", ())
    return found


@dataclass(frozen=True, slots=True)
class Reading:
    """The facts one message states, in the order written; never empty."""

    facts: tuple[Fact, ...]

    def __post_init__(self) -> None:
        if not self.facts:
            object.__setattr__(self, "facts", (UnknownIntent(),))

    @property
    def first(self) -> Fact:
        return self.facts[0]

    @property
    def sure(self) -> bool:
        """True when every fact can be saved without asking."""
        return not any(doubts_of(f) for f in self.facts)

    @property
    def confidence(self) -> str:
        """'sure' or 'unsure', as `casebot parse` prints it."""
        return "sure" if self.sure else "unsure"

"""Her own shorthand: the terms casebot learned from her fixes ("tele" is a phone call for
her), listed and deleted in /settings, and handed to the parser with every message.

Never learned: medication, dose and frequency words, and the Joint Commission "Do Not Use"
abbreviations (bot.parsing.lexicon.MEDICATION_OR_DOSE and DO_NOT_USE): a wrong guess there
is a medication error. One transaction each; adding and deleting are audited with the prior
meaning. Must not import telegram or handlers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.clock import Clock
from bot.parsing.lexicon import DO_NOT_USE, MEDICATION_OR_DOSE
from bot.services.nurse import NurseView
from bot.vocab import Refusal
from storage import audit
from storage import terms as store
from storage.db import Database

MAX_TERM = 40
MAX_MEANING = 80
MAX_WORDS = 3
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Term:
    id: int
    term: str
    meaning: str


def clean_term(text: str) -> str:
    """A term as stored: one space between words, case folded."""
    return " ".join(text.split()).casefold()


def refused(term: str, meaning: str) -> bool:
    """Whether casebot must never learn this: a medication, dose or frequency word or a Do Not
    Use abbreviation in the term, or in what it would mean; or no word at all."""
    words = term.split()
    if not _LETTER.search(term) or not 1 <= len(words) <= MAX_WORDS or len(term) > MAX_TERM:
        return True
    if MEDICATION_OR_DOSE.search(term) or any(w in DO_NOT_USE for w in (term, *words)):
        return True
    meant = meaning.casefold().split()
    if not meant or len(meaning) > MAX_MEANING or re.search(r"\d", meaning):
        return True
    return any(w in DO_NOT_USE or MEDICATION_OR_DOSE.fullmatch(w) for w in meant)


async def list_terms(db: Database, *, nurse: NurseView) -> list[Term]:
    """Her terms, alphabetically."""
    async with db.uow(read_only=True) as session:
        rows = await store.terms_of(session, nurse_id=nurse.id)
    return [Term(r.id, r.term, r.meaning) for r in rows]


async def shorthand_for(db: Database, nurse_id: int) -> dict[str, str]:
    """Her terms as the parser takes them (``parse(..., shorthand=...)``)."""
    async with db.uow(read_only=True) as session:
        rows = await store.terms_of(session, nurse_id=nurse_id)
    return {r.term: r.meaning for r in rows}


async def add_term(
    db: Database, clock: Clock, *, nurse: NurseView, term: str, meaning: str
) -> Term | Refusal:
    """Learn a term for her (a term she had gets its new meaning); REFUSED_TERM for what is
    never learned."""
    term = clean_term(term)
    meaning = " ".join(meaning.split())
    if refused(term, meaning):
        return Refusal.REFUSED_TERM
    now = clock.now()
    async with db.uow() as session:
        row = await store.find_term(session, nurse_id=nurse.id, term=term)
        prior = None if row is None else row.meaning
        if row is None:
            if len(await store.terms_of(session, nurse_id=nurse.id)) >= store.MAX_TERMS:
                return Refusal.REFUSED_TERM
            row = await store.add_term(
                session, nurse_id=nurse.id, term=term, meaning=meaning, now=now
            )
        else:
            row.meaning = meaning
        await audit.record_audit(
            session,
            at=now,
            action="term.learned",
            actor_nurse_id=nurse.id,
            command="settings",
            entity="nurse_term",
            entity_id=row.id,
            detail={"term": term, "meaning": meaning, "prior_meaning": prior},
        )
        return Term(row.id, row.term, row.meaning)


async def delete_term(
    db: Database, clock: Clock, *, nurse: NurseView, term_id: int
) -> Term | Refusal:
    """Forget one of her terms."""
    now = clock.now()
    async with db.uow() as session:
        rows = await store.terms_of(session, nurse_id=nurse.id)
        row = next((r for r in rows if r.id == term_id), None)
        if row is None:
            return Refusal.NOT_FOUND
        gone = Term(row.id, row.term, row.meaning)
        await store.delete_term(session, row=row)
        await audit.record_audit(
            session,
            at=now,
            action="term.forgotten",
            actor_nurse_id=nurse.id,
            command="settings",
            entity="nurse_term",
            entity_id=gone.id,
            detail={"prior": {"term": gone.term, "meaning": gone.meaning}},
        )
        return gone

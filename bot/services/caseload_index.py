"""The lean message path: each nurse's caseload name index and shorthand, kept in the process.

Every message is parsed against her caseload (patient ids and display names only, never full
rows) and her learned terms. ``CaseloadIndex`` builds the parser's ``Caseload`` once per
nurse and keeps it until her patients or terms change. It drops a nurse's entries when a
transaction that touched her patients (added, renamed, closed, transferred to or from her),
her terms, or her own row (revoked) commits: SQLAlchemy session events see every ORM change
in this process, so no service has to remember to invalidate. ``invalidate`` is there for
anything else, and ``clear`` for a process that starts handling updates after standing by
(another process handled them meanwhile). One object per application (the app creates it at
initialize and closes it at shutdown); ``close`` removes its hooks.

Must not import telegram or handlers.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from bot.parsing import Caseload, PatientRef
from storage import patients as patient_store
from storage import terms as term_store
from storage.db import Database
from storage.models import Nurse, NurseTerm, Patient

MAX_NURSES = 2_000
"""Nurses whose index is kept (least recently used ones are dropped first)."""
_DIRTY = "casebot.caseload_index.dirty"
_WATCHED: dict[type, tuple[str, ...]] = {
    Patient: ("display_name", "status", "nurse_id"),
    NurseTerm: ("term", "meaning", "nurse_id"),
    Nurse: ("active", "revoked_at"),
}
"""The columns whose change alters what the index holds for a nurse."""


class CaseloadIndex:
    """Per-process cache of each nurse's parser index (``Caseload``) and shorthand."""

    def __init__(self, db: Database, *, max_nurses: int = MAX_NURSES) -> None:
        self._db = db
        self._max = max_nurses
        self._caseloads: OrderedDict[int, Caseload] = OrderedDict()
        self._terms: OrderedDict[int, dict[str, str]] = OrderedDict()
        self._generation: dict[int, int] = {}
        self.loads = 0  # how many times an index was read from the database
        self._hooks: list[tuple[str, Any]] = [
            ("after_flush", self._after_flush),
            ("after_commit", self._after_commit),
            ("after_rollback", self._after_rollback),
        ]
        for name, hook in self._hooks:
            event.listen(Session, name, hook)

    def close(self) -> None:
        """Stop watching sessions (the application is shutting down)."""
        for name, hook in self._hooks:
            if event.contains(Session, name, hook):
                event.remove(Session, name, hook)
        self._hooks = []

    async def caseload_index(self, nurse_id: int) -> Caseload:
        """Her active patients as the parser's name index (ids and display names)."""
        found = self._caseloads.get(nurse_id)
        if found is not None:
            self._caseloads.move_to_end(nurse_id)
            return found
        generation = self._generation.get(nurse_id, 0)
        async with self._db.uow(read_only=True) as session:
            rows = await patient_store.caseload_names(session, nurse_id=nurse_id)
        self.loads += 1
        index = Caseload(PatientRef(id=pid, name=name) for pid, name in rows)
        if self._generation.get(nurse_id, 0) == generation:  # no change committed meanwhile
            _remember(self._caseloads, nurse_id, index, self._max)
        return index

    async def shorthand(self, nurse_id: int) -> dict[str, str]:
        """Her learned terms, for ``parse(..., shorthand=...)``."""
        found = self._terms.get(nurse_id)
        if found is not None:
            self._terms.move_to_end(nurse_id)
            return found
        generation = self._generation.get(nurse_id, 0)
        async with self._db.uow(read_only=True) as session:
            rows = await term_store.terms_of(session, nurse_id=nurse_id)
        terms = {r.term: r.meaning for r in rows}
        if self._generation.get(nurse_id, 0) == generation:
            _remember(self._terms, nurse_id, terms, self._max)
        return terms

    def clear(self) -> None:
        """Forget everything (this process is about to handle updates after standing by:
        another process may have changed patients meanwhile)."""
        for nurse_id in {*self._caseloads, *self._terms}:
            self.invalidate(nurse_id)

    def invalidate(self, nurse_id: int) -> None:
        """Forget what is kept for this nurse (it is read again on her next message)."""
        self._generation[nurse_id] = self._generation.get(nurse_id, 0) + 1
        self._caseloads.pop(nurse_id, None)
        self._terms.pop(nurse_id, None)

    # -- session hooks (synchronous: they run inside SQLAlchemy's flush and commit) ----------

    def _after_flush(self, session: Session, _context: Any) -> None:
        touched: set[int] = session.info.setdefault(_DIRTY, set())
        for row in (*session.new, *session.deleted):
            if isinstance(row, Patient | NurseTerm):
                touched |= _values(row, "nurse_id")
        for row in session.dirty:  # only what the index shows: a contact's last reached is not
            watched = _WATCHED.get(type(row), ())
            if watched and _changed(row, *watched):
                touched |= {row.id} if isinstance(row, Nurse) else _values(row, "nurse_id")

    def _after_commit(self, session: Session) -> None:
        for nurse_id in session.info.pop(_DIRTY, set()):
            self.invalidate(nurse_id)

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(_DIRTY, None)


def _changed(row: Any, *names: str) -> bool:
    state = inspect(row)
    return any(state.attrs[name].history.has_changes() for name in names)


def _values(row: Any, name: str) -> set[int]:
    """The attribute's current value and the one it had before this flush (a transfer)."""
    history = inspect(row).attrs[name].history
    values = {*history.added, *history.unchanged, *history.deleted, getattr(row, name)}
    return {int(v) for v in values if v is not None}


def _remember(cache: OrderedDict[int, Any], key: int, value: Any, limit: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > limit:
        cache.popitem(last=False)

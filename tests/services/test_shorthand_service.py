"""Her shorthand is learned, listed, applied and deleted; medication, dose, frequency and Do
Not Use words never are. The caseload index is kept per nurse and dropped when her patients
or terms change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import Config
from bot.parsing import ContactIntent, parse
from bot.services import patients as patient_service
from bot.services.caseload_index import CaseloadIndex
from bot.services.ledger import MessageKey
from bot.services.messages import SavedMessage, save_message
from bot.services.nurse import NurseView
from bot.services.shorthand import Term, add_term, delete_term, list_terms, shorthand_for
from bot.vocab import Channel, Refusal
from storage.db import Database
from storage.models import AuditEvent, Patient
from tests.services.facts_support import CHICAGO, NOW, contact, make_nurse, make_patient


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.mark.parametrize(
    ("term", "meaning"),
    [
        ("qd", "daily"),  # Do Not Use
        ("u", "unit"),
        ("d/c", "discharged"),
        ("bid", "twice a day"),  # frequency
        ("lisinopril", "bp pill"),  # medication
        ("5mg", "dose"),
        ("tele", "10 mg"),  # a dose as the meaning
        ("tele", "qd"),
        ("", "phone"),
        ("one two three four", "too long"),
    ],
)
async def test_never_learned(
    db: Database, config: Config, clock: ManualClock, term: str, meaning: str
) -> None:
    nurse = await make_nurse(db, config, 1)
    assert await add_term(db, clock, nurse=nurse, term=term, meaning=meaning) == (
        Refusal.REFUSED_TERM
    )
    assert await list_terms(db, nurse=nurse) == []


async def test_learned_listed_applied_changed_and_deleted(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await make_nurse(db, config, 1)
    bea = await make_nurse(db, config, 2)
    tom = await make_patient(db, ana, "Tom Jensen")
    learned = await add_term(db, clock, nurse=ana, term="  Tele ", meaning="phone call")
    assert isinstance(learned, Term)
    assert (learned.term, learned.meaning) == ("tele", "phone call")
    assert await shorthand_for(db, ana.id) == {"tele": "phone call"}
    assert await shorthand_for(db, bea.id) == {}  # hers alone
    reading = parse(
        "tele w tom, doing ok",
        now=NOW,
        zone=CHICAGO,
        caseload=[tom],
        shorthand=await shorthand_for(db, ana.id),
    )
    fact = reading.first
    assert isinstance(fact, ContactIntent)
    assert fact.channel == Channel.PHONE
    changed = await add_term(db, clock, nurse=ana, term="tele", meaning="video visit")
    assert isinstance(changed, Term)
    assert changed.id == learned.id
    assert await delete_term(db, clock, nurse=bea, term_id=learned.id) == Refusal.NOT_FOUND
    gone = await delete_term(db, clock, nurse=ana, term_id=learned.id)
    assert gone == Term(learned.id, "tele", "video visit")
    assert await list_terms(db, nurse=ana) == []
    async with db.uow(read_only=True) as session:
        events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    audited = [
        (e.action, e.detail.get("prior_meaning")) for e in events if e.entity == "nurse_term"
    ]
    assert audited == [
        ("term.learned", None), ("term.learned", "phone call"), ("term.forgotten", None),
    ]  # fmt: skip


async def _add_then_fail(db: Database, nurse: NurseView) -> None:
    async with db.uow() as session:
        await patient_service.create_patient_in(session, nurse, now=NOW, display_name="Gone")
        raise RuntimeError("rolled back")


async def test_the_caseload_index_is_kept_until_her_patients_or_terms_change(
    db: Database, config: Config, clock: ManualClock
) -> None:
    ana = await make_nurse(db, config, 1)
    bea = await make_nurse(db, config, 2)
    await make_patient(db, ana, "Tom Jensen")
    cache = CaseloadIndex(db)
    try:
        first = await cache.caseload_index(ana.id)
        assert [r.name for r in first.refs] == ["Tom Jensen"]
        assert await cache.caseload_index(ana.id) is first
        assert cache.loads == 1
        await cache.caseload_index(bea.id)
        # Saving a contact changes her patient's last reached, not the index: it is kept.
        tom = first.refs[0]
        saved = await save_message(
            db, config, clock, nurse=ana, key=MessageKey(1, 1), facts=[contact(tom, NOW)]
        )
        assert isinstance(saved, SavedMessage)
        assert await cache.caseload_index(ana.id) is first
        # Added through the service: a commit touching her patients drops her index only.
        await patient_service.add_patient(db, ManualClock(NOW), nurse=ana, name="Ana Ruiz")
        assert await cache.caseload_index(bea.id) is not None
        second = await cache.caseload_index(ana.id)
        assert [r.name for r in second.refs] == ["Ana Ruiz", "Tom Jensen"]
        assert cache.loads == 3
        # Closed, and transferred away: her index follows.
        [ana_ruiz] = [r for r in second.refs if r.name == "Ana Ruiz"]
        assert ana_ruiz.id is not None
        await patient_service.close_case(db, ManualClock(NOW), nurse=ana, patient_id=ana_ruiz.id)
        assert [r.name for r in (await cache.caseload_index(ana.id)).refs] == ["Tom Jensen"]
        # Moved to another nurse: both indexes follow.
        bea_before = await cache.caseload_index(bea.id)
        async with db.uow() as session:
            moved = await session.get(Patient, tom.id)
            assert moved is not None
            moved.nurse_id = bea.id
        assert [r.name for r in (await cache.caseload_index(ana.id)).refs] == []
        assert [r.name for r in (await cache.caseload_index(bea.id)).refs] == ["Tom Jensen"]
        assert bea_before.refs == ()
        # Her terms are kept the same way.
        assert await cache.shorthand(ana.id) == {}
        await add_term(db, clock, nurse=ana, term="hv", meaning="home visit")
        assert await cache.shorthand(ana.id) == {"hv": "home visit"}
        # A rolled back change drops nothing.
        kept = await cache.caseload_index(ana.id)
        with pytest.raises(RuntimeError, match="rolled back"):
            await _add_then_fail(db, ana)
        assert await cache.caseload_index(ana.id) is kept
        # Taking over update handling after standing by: everything is read again.
        loads = cache.loads
        cache.clear()
        assert await cache.caseload_index(ana.id) is not kept
        assert await cache.caseload_index(bea.id) is not None
        assert cache.loads == loads + 2
        assert await cache.shorthand(ana.id) == {"hv": "home visit"}
    finally:
        cache.close()

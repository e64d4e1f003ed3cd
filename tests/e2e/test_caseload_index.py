"""Typed messages are read against the caseload the application keeps between messages
(bot.services.caseload_index): read once, kept while nothing changes, read again once a
patient is added; and her learned shorthand applies to what she types."""

from __future__ import annotations

from sqlalchemy import select

from bot.services.enrollment import view_of
from bot.services.shorthand import Term, add_term
from bot.vocab import Channel
from storage import patients
from storage.models import Contact
from tests.harness import Harness
from tests.reminder_support import nurse_row


async def test_the_kept_caseload_is_used_and_a_new_patient_refreshes_it(harness: Harness) -> None:
    h = harness
    ana = await h.enroll("Ana")
    row = await nurse_row(h, ana)
    async with h.db.uow() as session:
        await patients.create_patient(
            session, nurse_id=row.id, team_id=None, display_name="Maria Lopez", now=h.clock.now()
        )
    index = h.app.services.caseloads
    assert index is not None
    await h.send(ana, "LVM for Maria Lopez, try again tomorrow")
    assert "Saved: Voicemail with Maria Lopez" in h.last_text(ana)
    loads = index.loads
    await h.send(ana, "LVM for Maria Lopez, try again Friday")
    assert "Saved: Voicemail with Maria Lopez" in h.last_text(ana)
    assert index.loads == loads  # the same index: not read again

    await h.send(ana, "/newpatient Tom Jensen")
    await h.send(ana, "LVM for Tom Jensen, try again tomorrow")
    assert "Saved: Voicemail with Tom Jensen" in h.last_text(ana)  # not "not in your caseload"
    assert index.loads == loads + 1


async def test_her_shorthand_applies_to_what_she_types(harness: Harness) -> None:
    h = harness
    ana = await h.enroll("Ana")
    row = await nurse_row(h, ana)
    async with h.db.uow() as session:
        await patients.create_patient(
            session, nurse_id=row.id, team_id=None, display_name="Maria Lopez", now=h.clock.now()
        )
    nurse = view_of(row, h.app.services.config)
    learned = await add_term(h.db, h.clock, nurse=nurse, term="tele", meaning="video visit")
    assert isinstance(learned, Term)
    await h.send(ana, "tele w Maria Lopez, doing ok, f/u Fri")
    assert "Saved" in h.last_text(ana)
    async with h.db.uow(read_only=True) as session:
        [contact] = (await session.scalars(select(Contact))).all()
    assert contact.channel == Channel.VIDEO  # "tele" alone reads as a phone call

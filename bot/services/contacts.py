"""Saving a contact inside a transaction: the record, its follow-up, what it closes.

Must not import telegram or handlers.
"""

from __future__ import annotations

from datetime import datetime

from bot.care import closing
from bot.parsing import When
from bot.services.saving import Logged, Saving, add_follow_up, iso, line
from bot.services.worklist import apply_closing
from bot.vocab import Channel, Outcome, Party, RecordKind
from storage import records as store
from storage.models import Contact, Patient


async def save_contact(
    s: Saving,
    patient: Patient,
    *,
    channel: Channel,
    outcome: Outcome,
    with_whom: Party,
    occurred_at: datetime,
    follow_up: When | None,
    note: str,
    from_task_id: int | None = None,
) -> Logged:
    """A contact, its follow-up task, and what it closes (bot.care.closing): a reached
    contact closes today's follow-ups and check-ins, the tapped reminder and the TCM contact
    (late after its deadline); an attempt counts toward the TCM two-attempts rule."""
    contact = Contact(
        patient_id=patient.id,
        nurse_id=s.nurse.id,
        occurred_at=occurred_at,
        channel=channel,
        outcome=outcome,
        with_whom=with_whom,
        note=note,
        created_at=s.now,
    )
    await store.add_record(s.session, contact)
    created = []
    if follow_up is not None:
        task = await add_follow_up(s, patient.id, RecordKind.CONTACT, contact.id, follow_up)
        created.append(line(task))
    applied = await apply_closing(
        s,
        patient,
        closing.ContactLogged(contact.id, occurred_at, channel, outcome, with_whom, from_task_id),
        kind=RecordKind.CONTACT,
        record_id=contact.id,
        from_task_id=from_task_id,
    )
    prior_reached = patient.last_reached_at
    # The closing rules counted the attempts; an admission or a discharge it cannot change;
    # a new contact can only move her last reached later (no re-read of her contacts).
    if outcome == Outcome.REACHED and (prior_reached is None or occurred_at > prior_reached):
        patient.last_reached_at = occurred_at
    await s.link(RecordKind.CONTACT, contact.id)
    await s.audit(
        "contact.logged",
        patient_id=patient.id,
        entity=RecordKind.CONTACT.value,
        entity_id=contact.id,
        detail={
            "channel": channel.value,
            "outcome": outcome.value,
            "tasks_created": [t.kind.value for t in created],
            "tasks_closed": [t.id for t in applied.closed],
            "from_task_id": from_task_id,
            "prior_last_reached_at": iso(prior_reached),
        },
    )
    return Logged(
        kind=RecordKind.CONTACT,
        record_id=contact.id,
        patient_name=patient.display_name,
        patient_id=patient.id,
        at=occurred_at,
        channel=channel,
        outcome=outcome,
        with_whom=with_whom,
        created=tuple(created),
        closed=applied.closed,
        flagged=applied.flagged,
    )

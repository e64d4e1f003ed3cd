"""The patient card's one-statement read (storage.patients.card_rows) on SQLite and PostgreSQL:
each part keeps its filter, order and limit inside the UNION ALL, typed values come back as
the card needs them, other patients' rows stay out, and the read is one SELECT."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import event

from bot.vocab import (
    AppointmentStatus,
    Channel,
    Complexity,
    GoalStatus,
    Outcome,
    Party,
    ReferralStatus,
    TaskKind,
    TaskStatus,
)
from storage import patients
from storage.db import Database
from storage.models import (
    Appointment,
    CareGoal,
    Contact,
    Episode,
    MedicationReconciliation,
    Nurse,
    Referral,
    Task,
)

NOW = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


async def _two_patients(db: Database) -> tuple[int, int, int]:
    async with db.uow() as session:
        nurse = Nurse(
            telegram_user_id=11, chat_id=11, display_name="Ana", timezone="America/Chicago",
            digest_time=time(7, 30), enrolled_at=NOW, settings_done=True,
        )  # fmt: skip
        session.add(nurse)
        await session.flush()
        ours = await patients.create_patient(
            session, nurse_id=nurse.id, team_id=None, display_name="Maria Lopez", now=NOW
        )
        other = await patients.create_patient(
            session, nurse_id=nurse.id, team_id=None, display_name="Tom Jensen", now=NOW
        )
        return nurse.id, ours.id, other.id


def _contact(nurse: int, patient: int, at: datetime, outcome: Outcome, **kw: Any) -> Contact:
    return Contact(
        nurse_id=nurse, patient_id=patient, occurred_at=at, channel=Channel.PHONE,
        outcome=outcome, created_at=at, **kw,
    )  # fmt: skip


async def _history(db: Database, nurse: int, pid: int, other: int) -> None:
    ours = {"nurse_id": nurse, "patient_id": pid}
    async with db.uow() as session:
        # The last reached contact is 30 days old: outside the 8 most recent contacts.
        session.add(_contact(nurse, pid, ago(30), Outcome.REACHED, note="re insulin"))
        session.add(_contact(nurse, pid, ago(0.5), Outcome.REACHED, undone_at=NOW))  # undone
        session.add(_contact(nurse, pid, NOW + timedelta(days=1), Outcome.REACHED))  # future
        for day in range(1, 11):  # ten attempts, days 1..10 ago
            session.add(_contact(nurse, pid, ago(day), Outcome.ATTEMPTED, note=f"try {day}"))
        session.add(_contact(nurse, other, ago(0.1), Outcome.REACHED, note="other patient"))
        session.add_all(
            [
                Task(
                    **ours,
                    kind=TaskKind.FOLLOW_UP,
                    title="late",
                    due_at=ago(2),
                    status=TaskStatus.OPEN,
                    attempts_documented=True,
                    created_at=NOW,
                ),
                Task(
                    **ours,
                    kind=TaskKind.TCM_CONTACT,
                    title="",
                    due_at=NOW + timedelta(days=2),
                    status=TaskStatus.OPEN,
                    created_at=NOW,
                ),
                Task(
                    **ours,
                    kind=TaskKind.FOLLOW_UP,
                    title="done",
                    due_at=ago(1),
                    status=TaskStatus.DONE,
                    created_at=NOW,
                ),
                Appointment(
                    **ours,
                    at=NOW + timedelta(days=3),
                    with_whom="cardiology",
                    location="Mercy",
                    created_at=NOW,
                ),
                Appointment(
                    **ours,
                    at=NOW + timedelta(days=1),
                    with_whom="cancelled one",
                    status=AppointmentStatus.CANCELLED,
                    created_at=NOW,
                ),
                Appointment(
                    **ours,
                    at=ago(7),
                    with_whom="PCP",
                    status=AppointmentStatus.ATTENDED,
                    created_at=NOW,
                ),
                Episode(
                    **ours,
                    facility="St Luke's",
                    discharged_on=date(2026, 11, 17),
                    complexity=Complexity.HIGH,
                    created_at=NOW,
                ),
                Episode(
                    **ours,
                    facility="Mercy",
                    discharged_on=date(2026, 10, 2),
                    created_at=NOW,
                ),
                MedicationReconciliation(
                    **ours,
                    performed_at=ago(4),
                    discrepancies=2,
                    created_at=NOW,
                ),
                MedicationReconciliation(
                    **ours,
                    performed_at=ago(40),
                    created_at=NOW,
                ),
                CareGoal(
                    **ours,
                    text="no date",
                    status=GoalStatus.ACTIVE,
                    created_at=NOW,
                    updated_at=NOW,
                ),
                CareGoal(
                    **ours,
                    text="A1c < 8",
                    target_on=date(2027, 1, 31),
                    status=GoalStatus.ACTIVE,
                    created_at=NOW,
                    updated_at=NOW,
                ),
                CareGoal(
                    **ours,
                    text="met one",
                    status=GoalStatus.MET,
                    created_at=NOW,
                    updated_at=NOW,
                ),
                Referral(
                    **ours,
                    to_whom="dietitian",
                    sent_on=date(2026, 11, 10),
                    status=ReferralStatus.SCHEDULED,
                    created_at=NOW,
                    updated_at=NOW,
                ),
                Referral(
                    **ours,
                    to_whom="podiatry",
                    sent_on=date(2026, 11, 2),
                    created_at=NOW,
                    updated_at=NOW,
                ),
                Referral(
                    **ours,
                    to_whom="closed",
                    sent_on=date(2026, 10, 1),
                    status=ReferralStatus.COMPLETED,
                    created_at=NOW,
                    updated_at=NOW,
                ),
            ]
        )


async def test_card_rows_reads_every_part_with_its_filter_order_and_limit(db: Database) -> None:
    nurse, pid, other = await _two_patients(db)
    await _history(db, nurse, pid, other)
    statements: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.uow(read_only=True) as session:
            rows = await patients.card_rows(session, patient_id=pid, now=NOW, limit=8)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)

    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert rows.last_reached is not None
    assert (rows.last_reached.at, rows.last_reached.note) == (ago(30), "re insulin")
    assert (rows.last_reached.channel, rows.last_reached.outcome) == ("phone", "reached")
    assert rows.last_reached.with_whom == Party.PATIENT.value
    assert [c.note for c in rows.contacts] == [f"try {d}" for d in range(1, 9)]
    assert all(c.at.tzinfo is UTC for c in rows.contacts)
    assert [(t.kind, t.title, t.attempts_documented) for t in rows.open_tasks] == [
        ("follow_up", "late", True),
        ("tcm_contact", "", False),
    ]
    assert rows.open_tasks[0].due_at == ago(2)
    assert rows.next_appointment is not None
    assert (rows.next_appointment.with_whom, rows.next_appointment.location) == (
        "cardiology",
        "Mercy",
    )
    assert rows.next_appointment.status == "scheduled"
    assert [(a.with_whom, a.status, a.at) for a in rows.appointments] == [
        ("PCP", "attended", ago(7))
    ]
    assert [(e.facility, e.discharged_on, e.complexity) for e in rows.episodes] == [
        ("St Luke's", date(2026, 11, 17), "high"),
        ("Mercy", date(2026, 10, 2), None),
    ]
    assert [(m.at, m.discrepancies) for m in rows.med_recs] == [(ago(4), 2), (ago(40), None)]
    assert [(g.text, g.target_on, g.status) for g in rows.goals] == [
        ("A1c < 8", date(2027, 1, 31), "active"),
        ("no date", None, "active"),
    ]
    assert [(r.to_whom, r.sent_on, r.status) for r in rows.referrals] == [
        ("podiatry", date(2026, 11, 2), "sent"),
        ("dietitian", date(2026, 11, 10), "scheduled"),
    ]


async def test_card_rows_of_a_patient_with_no_history_is_empty(db: Database) -> None:
    nurse, pid, other = await _two_patients(db)
    await _history(db, nurse, other, other)  # all the history belongs to the other patient
    async with db.uow(read_only=True) as session:
        rows = await patients.card_rows(session, patient_id=pid, now=NOW, limit=8)
    assert rows == patients.CardRows()

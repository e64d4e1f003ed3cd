"""bot.services.patients use cases on SQLite and PostgreSQL, and the card's pure rendering."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import Config
from bot.parsing import Caseload, PatientRef
from bot.render import patients as render
from bot.render.tasks import TaskLine
from bot.render.text import MAX_MESSAGE, day_label
from bot.services import patients as service
from bot.services.enrollment import view_of
from bot.services.nurse import NurseView
from bot.vocab import (
    Channel,
    DeliveryKind,
    DeliveryStatus,
    Outcome,
    PatientStatus,
    Refusal,
    Risk,
    TaskKind,
    TaskStatus,
)
from storage.audit import verify_chain
from storage.db import Database
from storage.models import AuditEvent, Contact, Delivery, Nurse, Patient, Task, Team

NOW = datetime(2026, 11, 23, 16, 15, tzinfo=UTC)
CLOCK = ManualClock(NOW)


async def make_nurse(db: Database, config: Config, name: str, team: str = "Team A") -> NurseView:
    async with db.uow() as session:
        team_row = await session.scalar(select(Team).where(Team.name == team))
        if team_row is None:
            team_row = Team(name=team, created_at=NOW)
            session.add(team_row)
            await session.flush()
        nurse = Nurse(
            telegram_user_id=abs(hash(name)) % 10**9 + 1,
            chat_id=abs(hash(name)) % 10**9 + 1,
            display_name=name,
            team_id=team_row.id,
            timezone="America/Chicago",
            digest_time=time(7, 30),
            enrolled_at=NOW,
        )
        session.add(nurse)
        await session.flush()
        return view_of(nurse, config)


async def actions(db: Database) -> list[tuple[str, dict[str, object]]]:
    async with db.uow(read_only=True) as session:
        rows = await session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [(e.action, e.detail) for e in rows]


async def new(db: Database, nurse: NurseView, name: str, **kwargs: object) -> int:
    added = await service.add_patient(db, CLOCK, nurse=nurse, name=name, **kwargs)  # type: ignore[arg-type]
    assert isinstance(added, service.Added)
    return added.card.id


async def test_add_patient_audits_and_refuses_a_silent_duplicate(
    db: Database, config: Config
) -> None:
    ana = await make_nurse(db, config, "Ana RN")
    added = await service.add_patient(
        db,
        CLOCK,
        nurse=ana,
        name="  Maria   Lopez ",
        mrn="12345",
        risk=Risk.HIGH,
        conditions=["CHF"],
    )
    assert isinstance(added, service.Added)
    assert (added.card.name, added.card.risk, added.card.mrn) == ("Maria Lopez", "high", "12345")
    assert not added.risk_defaulted

    twin = await service.add_patient(db, CLOCK, nurse=ana, name="maria LÓPEZ")
    assert isinstance(twin, service.Duplicate)
    assert [ref.id for ref in twin.existing] == [added.card.id]
    forced = await service.add_patient(
        db, CLOCK, nurse=ana, name="Maria Lopez", allow_duplicate=True
    )
    assert isinstance(forced, service.Added)
    assert forced.risk_defaulted
    assert forced.card.risk == "medium"
    assert [a for a, _ in await actions(db)] == ["patient.created", "patient.created"]
    with pytest.raises(ValueError, match="name"):
        await service.add_patient(db, CLOCK, nurse=ana, name="   ")


async def test_load_caseload_holds_only_her_active_patients(db: Database, config: Config) -> None:
    ana = await make_nurse(db, config, "Ana RN")
    bea = await make_nurse(db, config, "Bea RN")
    keep = await new(db, ana, "Maria Lopez")
    closed = await new(db, ana, "Rosa Martínez")
    await new(db, bea, "Dorothy Chen")
    assert isinstance(
        await service.close_case(db, CLOCK, nurse=ana, patient_id=closed), service.Closed
    )
    caseload = await service.load_caseload(db, ana.id)
    assert caseload.refs == (PatientRef(id=keep, name="Maria Lopez"),)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Maria Lopes", "Maria Lopez"),
        ("maria lopez", "Maria Lopez"),
        ("dorothy", "Dorothy Chen"),
        ("rosa martinez", "Rosa Martínez"),
        ("ROSA MARTÍNEZ", "Rosa Martínez"),
        ("Dorthy Chen", "Dorothy Chen"),
        ("o'brien", "James O'Brien"),
    ],
)
def test_match_name_finds_one_patient(typed: str, expected: str) -> None:
    caseload = Caseload.from_names(
        ["Maria Lopez", "Maria Garcia", "Dorothy Chen", "Rosa Martínez", "James O'Brien"]
    )
    lookup = service.match_name(caseload, typed)
    assert lookup.patient is not None
    assert lookup.patient.name == expected


def test_match_name_ambiguous_and_unknown() -> None:
    caseload = Caseload.from_names(["Maria Lopez", "Maria Garcia"])
    assert {r.name for r in service.match_name(caseload, "maria").candidates} == {
        "Maria Lopez",
        "Maria Garcia",
    }
    nobody = service.match_name(caseload, "Bob Jones")
    assert (nobody.patient, nobody.candidates, nobody.text) == (None, (), "Bob Jones")
    assert service.match_name(caseload, "   ").text == ""


def test_parse_conditions_and_mrn() -> None:
    assert service.parse_conditions("CHF, COPD; DM\nCHF") == ("CHF", "COPD", "DM")
    assert service.parse_conditions("none") == ()
    assert service.parse_mrn(" #A-12/3 ") == "A-12/3"
    assert service.parse_mrn("None") is None
    for bad in ("12 34", "<b>", "x" * 41, ""):
        with pytest.raises(service.InvalidMrn):
            service.parse_mrn(bad)


async def test_edits_keep_prior_values_and_check_ownership(db: Database, config: Config) -> None:
    ana = await make_nurse(db, config, "Ana RN")
    eve = await make_nurse(db, config, "Eve RN")
    pid = await new(db, ana, "Maria Lopez", mrn="1", conditions=["CHF"])

    risk = await service.edit_risk(db, CLOCK, nurse=ana, patient_id=pid, risk=Risk.LOW)
    assert isinstance(risk, service.Changed)
    assert (risk.before, risk.after, risk.card.risk) == ("medium", "low", "low")
    conditions = await service.edit_conditions(
        db, CLOCK, nurse=ana, patient_id=pid, conditions=("COPD", "DM")
    )
    assert isinstance(conditions, service.Changed)
    assert conditions.card.conditions == "COPD, DM"
    mrn = await service.edit_mrn(db, CLOCK, nurse=ana, patient_id=pid, mrn=None)
    assert isinstance(mrn, service.Changed)
    assert (mrn.before, mrn.after, mrn.card.mrn) == ("1", "", None)

    assert (
        await service.edit_risk(db, CLOCK, nurse=eve, patient_id=pid, risk=Risk.HIGH)
        is Refusal.NOT_YOURS
    )
    assert await service.patient_card(db, CLOCK, nurse=eve, patient_id=pid) is Refusal.NOT_YOURS
    assert await service.patient_card(db, CLOCK, nurse=ana, patient_id=10**9) is Refusal.NOT_FOUND

    events = await actions(db)
    assert events[1:] == [
        ("patient.risk_changed", {"field": "risk", "before": "medium", "after": "low"}),
        (
            "patient.conditions_changed",
            {"field": "conditions", "before": "CHF", "after": "COPD, DM"},
        ),
        ("patient.mrn_changed", {"field": "mrn", "before": "1", "after": None}),
        ("patient.access_refused", {"reason": "not_owner"}),
        ("patient.access_refused", {"reason": "not_owner"}),
    ]
    async with db.uow(read_only=True) as session:
        assert (await verify_chain(session)).ok


async def test_close_cancels_open_tasks_and_their_pending_pushes(
    db: Database, config: Config
) -> None:
    ana = await make_nurse(db, config, "Ana RN")
    pid = await new(db, ana, "Maria Lopez")
    async with db.uow() as session:
        task = Task(
            nurse_id=ana.id, patient_id=pid, kind=TaskKind.FOLLOW_UP, due_at=NOW, created_at=NOW
        )
        session.add(task)
        await session.flush()
        session.add(
            Delivery(
                key=f"r:{task.id}",
                kind=DeliveryKind.REMINDER,
                nurse_id=ana.id,
                task_id=task.id,
                due_at=NOW,
                created_at=NOW,
            )
        )
    closed = await service.close_case(db, CLOCK, nurse=ana, patient_id=pid)
    assert closed == service.Closed(name="Maria Lopez", cancelled_tasks=1)
    assert await service.close_case(db, CLOCK, nurse=ana, patient_id=pid) is Refusal.CLOSED
    assert (
        await service.edit_risk(db, CLOCK, nurse=ana, patient_id=pid, risk=Risk.HIGH)
        is Refusal.CLOSED
    )
    async with db.uow(read_only=True) as session:
        assert (await session.get(Patient, pid)).status is PatientStatus.CLOSED  # type: ignore[union-attr]
        assert await session.scalar(select(Task.status)) is TaskStatus.CANCELLED
        assert await session.scalar(select(Delivery.status)) is DeliveryStatus.CANCELLED
    card = await service.patient_card(db, CLOCK, nurse=ana, patient_id=pid)
    assert isinstance(card, render.PatientCard)
    assert not card.active
    assert "Case closed" in render.render_card(card)


async def test_transfer_only_within_the_team(db: Database, config: Config) -> None:
    ana = await make_nurse(db, config, "Ana RN")
    bea = await make_nurse(db, config, "Bea RN")
    cid = await make_nurse(db, config, "Cid RN", team="Team B")
    pid = await new(db, ana, "Maria Lopez")

    options = await service.transfer_options(db, CLOCK, nurse=ana, patient_id=pid)
    assert not isinstance(options, Refusal)
    assert [m.name for m in options[1]] == ["Bea RN"]

    for target in (cid.id, ana.id, 10**9):
        refused = await service.transfer_patient(
            db, CLOCK, nurse=ana, patient_id=pid, to_nurse_id=target
        )
        assert refused is Refusal.NOT_TEAMMATE
    moved = await service.transfer_patient(db, CLOCK, nurse=ana, patient_id=pid, to_nurse_id=bea.id)
    assert isinstance(moved, service.Transferred)
    assert (moved.to_name, moved.to_chat_id, moved.from_name) == ("Bea RN", bea.chat_id, "Ana RN")
    assert await service.patient_card(db, CLOCK, nurse=ana, patient_id=pid) is Refusal.NOT_YOURS
    assert isinstance(
        await service.patient_card(db, CLOCK, nurse=bea, patient_id=pid), render.PatientCard
    )
    assert [a for a, _ in await actions(db)].count("patient.transfer_refused") == 3


async def test_timeline_is_newest_first_and_at_most_eight(db: Database, config: Config) -> None:
    ana = await make_nurse(db, config, "Ana RN")
    pid = await new(db, ana, "Maria Lopez")
    async with db.uow() as session:
        for day in range(12):
            session.add(
                Contact(
                    patient_id=pid,
                    nurse_id=ana.id,
                    occurred_at=NOW - timedelta(days=day + 1),
                    channel=Channel.PHONE,
                    outcome=Outcome.REACHED if day % 2 else Outcome.ATTEMPTED,
                    note=f"call {day}",
                    created_at=NOW,
                )
            )
    card = await service.patient_card(db, CLOCK, nurse=ana, patient_id=pid)
    assert isinstance(card, render.PatientCard)
    assert len(card.timeline) == service.TIMELINE_LENGTH
    times = [line.at for line in card.timeline]  # type: ignore[union-attr]
    assert times == sorted(times, reverse=True)
    assert card.last_reached is not None
    assert card.last_reached.note == "call 1"


def test_render_card_escapes_and_fits_telegram() -> None:
    huge = "<b>&" * 2000
    line = render.ContactLine(NOW, "phone", "reached", "caregiver", huge)
    card = render.PatientCard(
        id=1,
        name="<i>Maria</i>",
        code="P-ABCDEF",
        risk="high",
        conditions=huge,
        mrn="<1>",
        status="active",
        last_reached=line,
        open_tasks=tuple(
            TaskLine(i, TaskKind.FOLLOW_UP, NOW + timedelta(days=i), title=huge) for i in range(40)
        ),
        next_appointment=render.AppointmentLine(NOW, huge, huge, "scheduled"),
        timeline=(line,) * 8,
        zone="America/Chicago",
        as_of=NOW,
    )
    text = render.render_card(card)
    assert len(text) <= MAX_MESSAGE
    assert "<i>Maria" not in text
    assert "&lt;i&gt;Maria&lt;/i&gt;" in text
    assert "&lt;1&gt;" in text
    assert "… and 32 more" in text
    assert "Mon 23 Nov 10:15 — Phone call with caregiver, reached" in text
    assert "Times in America/Chicago" in text


def test_dates_show_the_year_only_when_it_is_not_this_year() -> None:
    today = NOW.date()
    assert day_label(today + timedelta(days=4), today=today) == "Fri 27 Nov"
    assert day_label(today + timedelta(days=50), today=today) == "Tue 12 Jan 2027"

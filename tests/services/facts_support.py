"""Helpers for the fact-saving service tests: a nurse, patients, facts as the parser gives
them, and the whole state of a patient (every row that matters) to compare before and after."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config import Config
from bot.parsing import (
    AppointmentIntent,
    ContactIntent,
    DischargeIntent,
    MedRecIntent,
    PatientRef,
    When,
)
from bot.services.enrollment import view_of
from bot.services.nurse import NurseView
from bot.vocab import Channel, Complexity, Outcome, Party
from storage import patients
from storage.db import Database
from storage.models import (
    Appointment,
    Contact,
    Episode,
    HospitalEvent,
    MedicationReconciliation,
    Note,
    Nurse,
    Patient,
    Referral,
    Task,
    Vital,
)
from storage.snapshots import snapshot

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tue 24 Nov 2026, 09:00 in Chicago


def local(day: date, hh: int = 12, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=CHICAGO).astimezone(UTC)


def at(day: date, hh: int, mm: int = 0) -> When:
    return When(local(day, hh, mm), has_time=True)


def on(day: date) -> When:
    return When(datetime.combine(day, time(0), tzinfo=CHICAGO).astimezone(UTC), has_time=False)


async def make_nurse(
    db: Database, config: Config, telegram_id: int, team_id: int | None = None
) -> NurseView:
    async with db.uow() as session:
        nurse = Nurse(
            telegram_user_id=telegram_id, chat_id=telegram_id, display_name=f"N{telegram_id}",
            timezone="America/Chicago", digest_time=time(7, 30), enrolled_at=NOW,
            settings_done=True, team_id=team_id,
        )  # fmt: skip
        session.add(nurse)
        await session.flush()
        return view_of(nurse, config)


async def make_patient(db: Database, nurse: NurseView, name: str) -> PatientRef:
    async with db.uow() as session:
        patient = await patients.create_patient(
            session, nurse_id=nurse.id, team_id=nurse.team_id, display_name=name, now=NOW
        )
        return PatientRef(patient.id, name)


def contact(
    who: PatientRef | None,
    when: datetime,
    *,
    channel: Channel | None = Channel.PHONE,
    outcome: Outcome | None = Outcome.REACHED,
    with_whom: Party = Party.PATIENT,
    follow_up: When | None = None,
    patient_text: str | None = None,
) -> ContactIntent:
    return ContactIntent(
        patient=who, candidates=(), patient_text=patient_text, channel=channel,
        outcome=outcome, with_whom=with_whom, occurred_at=When(when, has_time=True),
        follow_up=follow_up, attempts=0, note="", occurred_given=True,
    )  # fmt: skip


def appointment(
    who: PatientRef | None, when: When | None, with_whom: str = "cardiology"
) -> AppointmentIntent:
    return AppointmentIntent(
        patient=who, candidates=(), patient_text=None, at=when, with_whom=with_whom,
        where=None, note="",
    )  # fmt: skip


def discharge(
    who: PatientRef | None, day: date, *, patient_text: str | None = None,
    complexity: Complexity | None = None,
) -> DischargeIntent:  # fmt: skip
    return DischargeIntent(
        patient=who, candidates=(), patient_text=patient_text, discharged=day,
        facility="Mercy", complexity=complexity, note="",
    )  # fmt: skip


def med_rec(who: PatientRef, day: date) -> MedRecIntent:
    return MedRecIntent(
        patient=who, candidates=(), patient_text=None, reconciled_on=day, discrepancies=0, note=""
    )


_VOLATILE = {"created_at", "updated_at"}


async def patient_state(db: Database, patient_id: int) -> dict[tuple[str, int], dict[str, Any]]:
    """Every row that makes up a patient's state (the patient, her records, tasks, vitals,
    referrals), keyed by (table, id), as JSON-safe column values."""
    models = (
        Contact, Appointment, Episode, MedicationReconciliation, Note, HospitalEvent, Vital,
        Referral, Task,
    )  # fmt: skip
    state: dict[tuple[str, int], dict[str, Any]] = {}
    async with db.uow(read_only=True) as session:
        patient = await session.get(Patient, patient_id)
        assert patient is not None
        state[("patients", patient.id)] = snapshot(patient)
        for model in models:
            table = model.__table__
            query = select(model).where(table.c.patient_id == patient_id)
            for row in (await session.scalars(query)).all():
                state[(model.__tablename__, int(snapshot(row, ["id"])["id"]))] = {
                    k: v for k, v in snapshot(row).items() if k not in _VOLATILE
                }
    return state


def live(row: dict[str, Any]) -> bool:
    """A row that still counts: not undone, not a cancelled task."""
    return row.get("undone_at") is None and row.get("status") != "cancelled"


def assert_restored(
    before: dict[tuple[str, int], dict[str, Any]], after: dict[tuple[str, int], dict[str, Any]]
) -> None:
    """Every row that existed before is exactly as it was (the patient's updated_at aside);
    every row added since counts for nothing (undone, or a cancelled task)."""
    for key, row in before.items():
        assert {k: v for k, v in after[key].items() if k != "updated_at"} == {
            k: v for k, v in row.items() if k != "updated_at"
        }, key
    added = {key: row for key, row in after.items() if key not in before}
    assert added, "the message saved nothing to take back"
    assert [key for key, row in added.items() if live(row)] == []

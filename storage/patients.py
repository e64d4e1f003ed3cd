"""Patients: create, find, list a nurse's caseload.

Repository functions take the session first and never commit. Must not import telegram,
handlers or bot.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Patient, PatientStatus, Risk

_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def initials_of(name: str) -> str:
    parts = [p for p in name.replace("-", " ").split() if p[:1].isalpha()]
    return "".join(p[0].upper() + "." for p in parts[:3]) or "?"


def new_patient_code() -> str:
    """An opaque code such as P-7K3QX for pushes that must not carry names."""
    return "P-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


async def create_patient(
    session: AsyncSession,
    *,
    nurse_id: int,
    team_id: int | None,
    display_name: str,
    now: datetime,
    risk: Risk = Risk.MEDIUM,
    conditions: Sequence[str] = (),
    mrn: str | None = None,
) -> Patient:
    patient = Patient(
        nurse_id=nurse_id,
        team_id=team_id,
        display_name=display_name,
        initials=initials_of(display_name),
        code=new_patient_code(),
        mrn=mrn,
        risk=risk,
        conditions=", ".join(conditions),
        status=PatientStatus.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    session.add(patient)
    await session.flush()
    return patient


async def active_caseload(session: AsyncSession, *, nurse_id: int) -> list[Patient]:
    query = (
        select(Patient)
        .where(Patient.nurse_id == nurse_id, Patient.status == PatientStatus.ACTIVE)
        .order_by(Patient.display_name)
    )
    return list((await session.scalars(query)).all())

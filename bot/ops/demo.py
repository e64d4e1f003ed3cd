"""The demo caseload for `casebot chat`: a nurse and about a dozen patients.

Enrollment goes through the real invite path; patients are plain rows. Must not import
telegram or handlers.
"""

from __future__ import annotations

from bot.clock import Clock
from bot.config import Config
from bot.services import enrollment
from bot.vocab import Risk, Role
from storage import audit, patients, people
from storage.db import Database

DEMO_TELEGRAM_ID = 1_000_001
DEMO_NURSE = "Demo Nurse"
DEMO_TEAM = "Demo team"

DEMO_PATIENTS: tuple[tuple[str, Risk, tuple[str, ...]], ...] = (
    ("Maria Lopez", Risk.HIGH, ("diabetes", "CHF")),
    ("Maria Santos", Risk.MEDIUM, ("COPD",)),
    ("John Smith", Risk.HIGH, ("CHF",)),
    ("Dorothy Chen", Risk.MEDIUM, ("wound care", "hypertension")),
    ("Robert King", Risk.HIGH, ("CAD", "COPD")),
    ("Aisha Patel", Risk.LOW, ("asthma",)),
    ("James O'Brien", Risk.MEDIUM, ("CKD",)),
    ("Linda Nguyen", Risk.MEDIUM, ("diabetes",)),
    ("Samuel Okafor", Risk.HIGH, ("post-op wound",)),
    ("Grace Kim", Risk.LOW, ("hypothyroidism",)),
    ("Harold Jensen", Risk.HIGH, ("CHF", "CKD")),
    ("Rosa Martínez", Risk.MEDIUM, ("hip fracture",)),
    ("William Brown", Risk.HIGH, ("COPD",)),
)


async def demo_invite(db: Database, config: Config, clock: Clock) -> str | None:
    """An invite code for the demo nurse, or None if she is already enrolled."""
    async with db.uow(read_only=True) as session:
        if await people.nurse_by_telegram_id(session, DEMO_TELEGRAM_ID) is not None:
            return None
    invite = await enrollment.create_invite(
        db, config, clock, role=Role.NURSE, team=DEMO_TEAM, display_name=DEMO_NURSE
    )
    return invite.code


async def seed_demo_caseload(db: Database, clock: Clock) -> int:
    """Give the demo nurse her patients (once); returns how many were added."""
    now = clock.now()
    async with db.uow() as session:
        nurse = await people.nurse_by_telegram_id(session, DEMO_TELEGRAM_ID)
        if nurse is None:
            raise LookupError("enroll the demo nurse first")
        if await patients.active_caseload(session, nurse_id=nurse.id):
            return 0
        for name, risk, conditions in DEMO_PATIENTS:
            patient = await patients.create_patient(
                session,
                nurse_id=nurse.id,
                team_id=nurse.team_id,
                display_name=name,
                risk=risk,
                conditions=conditions,
                now=now,
            )
            await audit.record_audit(
                session,
                at=now,
                action="patient.created",
                actor_nurse_id=nurse.id,
                command="demo",
                patient_id=patient.id,
                entity="patient",
                entity_id=patient.id,
            )
        return len(DEMO_PATIENTS)

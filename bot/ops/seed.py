"""`casebot seed`: a realistic synthetic dataset for demos and the caseload benchmark.

Sizes: tiny (tests), small, medium, large (200 nurses, 20,000 patients, 1,000,000 contacts,
200,000 tasks). Rows go in with executemany batches inside one transaction per table batch;
patients' last_reached_at is computed while generating, as logging keeps it. The first nurse
("Bench Nurse", Telegram id 10000001) always has 150 active patients. Deterministic (seeded RNG).
Must not import telegram or handlers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time as timer
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update

from bot.vocab import (
    AppointmentStatus,
    Channel,
    Complexity,
    GoalStatus,
    Outcome,
    Party,
    PatientStatus,
    ReferralStatus,
    Risk,
    Role,
    TaskKind,
    TaskStatus,
)
from storage.db import Database
from storage.migrate import upgrade
from storage.models import (
    Appointment,
    CareGoal,
    Contact,
    Episode,
    MedicationReconciliation,
    Nurse,
    Patient,
    Referral,
    Task,
    Team,
)
from storage.patients import initials_of

BENCH_TELEGRAM_ID = 10_000_001
BENCH_CASELOAD = 150
BATCH = 5_000
SEEDED_TABLES = (
    "teams",
    "nurses",
    "patients",
    "contacts",
    "tasks",
    "appointments",
    "episodes",
    "medication_reconciliations",
    "care_goals",
    "referrals",
)
GOALS = [
    ("A1c under 8% by the next lab draw", 90),
    ("Weighs daily and calls for a gain over 2 lb", 30),
    ("Takes all medications as listed", 60),
    ("Walks 15 minutes a day", 45),
    ("Knows the warning signs and whom to call", 14),
]
REFERRALS = ["cardiology", "dietitian", "podiatry", "home health", "social work", "pulmonology"]


@dataclass(frozen=True)
class Size:
    nurses: int
    patients: int
    contacts: int
    tasks: int


SIZES = {
    "tiny": Size(nurses=2, patients=160, contacts=800, tasks=300),
    "small": Size(nurses=10, patients=1_000, contacts=20_000, tasks=5_000),
    "medium": Size(nurses=200, patients=20_000, contacts=200_000, tasks=50_000),
    "large": Size(nurses=200, patients=20_000, contacts=1_000_000, tasks=200_000),
}

FIRST = [
    "Maria",
    "Rosa",
    "Tom",
    "Ed",
    "Ana",
    "Li",
    "Omar",
    "Grace",
    "Ivan",
    "June",
    "Kofi",
    "Lena",
    "Musa",
    "Nora",
    "Pablo",
    "Ruth",
    "Sam",
    "Tara",
    "Uma",
    "Viktor",
]
LAST = [
    "Lopez",
    "Diaz",
    "Jensen",
    "Kim",
    "Ruiz",
    "Chen",
    "Haddad",
    "Okafor",
    "Petrov",
    "Smith",
    "Nguyen",
    "Garcia",
    "Brown",
    "Silva",
    "Cohen",
    "Patel",
    "Moreau",
    "Sato",
    "Ali",
    "Berg",
]


def _batches(rows: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _insert(db: Database, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    for batch in _batches(rows):
        async with db.engine.begin() as conn:
            await conn.execute(insert(table), batch)
        count += len(batch)
    return count


async def seed(db: Database, size: Size, *, now: datetime, rng_seed: int = 5) -> dict[str, int]:
    """Insert the dataset; returns row counts per table."""
    rng = random.Random(rng_seed)
    teams = max(1, size.nurses // 10)
    await _insert(
        db,
        Team,
        ({"id": t + 1, "name": f"Seed team {t + 1}", "created_at": now} for t in range(teams)),
    )
    await _insert(
        db,
        Nurse,
        (
            {
                "id": n + 1,
                "telegram_user_id": BENCH_TELEGRAM_ID + n,
                "chat_id": BENCH_TELEGRAM_ID + n,
                "display_name": "Bench Nurse" if n == 0 else f"Nurse {n + 1}",
                "role": Role.SUPERVISOR if n % 10 == 9 else Role.NURSE,
                "team_id": n // 10 % teams + 1,
                "timezone": "America/Chicago",
                "digest_time": time(7, 30),
                "date_order": "MDY",
                "privacy_mode": "initials",
                "days_off": "",
                "settings_done": True,
                "active": True,
                "unreachable": False,
                "enrolled_at": now - timedelta(days=400),
            }
            for n in range(size.nurses)
        ),
    )
    # patients: the bench nurse gets 150, the others share the rest
    owner: list[int] = [1] * min(BENCH_CASELOAD, size.patients)
    others = max(1, size.nurses - 1)
    owner += [2 + i % others if size.nurses > 1 else 1 for i in range(size.patients - len(owner))]
    risks = rng.choices([Risk.HIGH, Risk.MEDIUM, Risk.LOW], weights=[2, 5, 3], k=size.patients)
    last_reached: list[datetime | None] = [None] * size.patients
    channels = [Channel.PHONE] * 6 + [Channel.VISIT, Channel.VIDEO, Channel.TEXT, Channel.VOICEMAIL]

    def contact_rows() -> Iterator[dict[str, Any]]:
        for c in range(size.contacts):
            p = rng.randrange(size.patients)
            at = now - timedelta(seconds=rng.randrange(365 * 86_400))
            channel = rng.choice(channels)
            reached = channel != Channel.VOICEMAIL and rng.random() < 0.75
            if reached and (last_reached[p] is None or at > last_reached[p]):  # type: ignore[operator]
                last_reached[p] = at
            yield {
                "id": c + 1,
                "patient_id": p + 1,
                "nurse_id": owner[p],
                "occurred_at": at,
                "channel": channel,
                "outcome": Outcome.REACHED if reached else Outcome.ATTEMPTED,
                "with_whom": Party.PATIENT if rng.random() < 0.85 else Party.CAREGIVER,
                "note": "",
                "created_at": at,
            }

    contact_iter = contact_rows()
    counts: dict[str, int] = {}
    names = [f"{rng.choice(FIRST)} {rng.choice(LAST)} {p + 1}" for p in range(size.patients)]
    # Patients must exist before contacts (foreign keys): insert patients with a placeholder
    # last_reached_at, then set it in one pass per batch afterwards.
    await _insert(
        db,
        Patient,
        (
            {
                "id": p + 1,
                "nurse_id": owner[p],
                "team_id": (owner[p] - 1) // 10 % teams + 1,
                "display_name": names[p],
                "initials": initials_of(names[p]),
                "code": f"S-{p + 1:07d}",
                "mrn": f"MRN{p + 1:08d}",
                "risk": risks[p],
                "conditions": "",
                "status": PatientStatus.ACTIVE
                if rng.random() < 0.95 or owner[p] == 1
                else PatientStatus.CLOSED,
                "last_reached_at": None,
                "created_at": now - timedelta(days=400),
                "updated_at": now - timedelta(days=400),
            }
            for p in range(size.patients)
        ),
    )
    counts["patients"] = size.patients
    counts["contacts"] = await _insert(db, Contact, contact_iter)
    for batch in _batches(
        {"pid": p + 1, "lr": last_reached[p]}
        for p in range(size.patients)
        if last_reached[p] is not None
    ):
        async with db.engine.begin() as conn:
            await conn.execute(
                update(Patient.__table__)  # type: ignore[arg-type]
                .where(Patient.__table__.c.id == bindparam("pid"))
                .values(last_reached_at=bindparam("lr")),
                batch,
            )
    kinds = (
        [TaskKind.FOLLOW_UP] * 5
        + [TaskKind.CADENCE] * 2
        + [
            TaskKind.TCM_CONTACT,
            TaskKind.TCM_VISIT,
            TaskKind.MED_REC,
            TaskKind.APPOINTMENT_REMINDER,
        ]
    )

    def task_rows() -> Iterator[dict[str, Any]]:
        for t in range(size.tasks):
            p = rng.randrange(size.patients)
            due = now + timedelta(seconds=rng.randrange(-60 * 86_400, 30 * 86_400))
            done = due < now and rng.random() < 0.9
            yield {
                "id": t + 1,
                "nurse_id": owner[p],
                "patient_id": p + 1,
                "kind": rng.choice(kinds),
                "title": "",
                "due_at": due,
                "status": TaskStatus.DONE if done else TaskStatus.OPEN,
                "urgent": False,
                "attempts_documented": False,
                "created_at": due - timedelta(days=5),
                "completed_at": due - timedelta(hours=rng.randrange(-48, 48)) if done else None,
            }

    counts["tasks"] = await _insert(db, Task, task_rows())

    def appointment_rows() -> Iterator[dict[str, Any]]:
        for a in range(size.patients):
            p = rng.randrange(size.patients)
            at = now + timedelta(minutes=15 * rng.randrange(-4 * 96 * 7, 4 * 96 * 7))
            yield {
                "id": a + 1,
                "patient_id": p + 1,
                "nurse_id": owner[p],
                "at": at,
                "has_time": True,
                "with_whom": "Clinic",
                "location": "",
                "status": AppointmentStatus.SCHEDULED,
                "note": "",
                "created_at": at - timedelta(days=10),
            }

    counts["appointments"] = await _insert(db, Appointment, appointment_rows())

    # Discharges: one for about a tenth of the patients over the last 120 days; most get a
    # medication reconciliation within days, some late, some never.
    episodes = size.patients // 10
    discharged = [
        (e + 1, rng.randrange(size.patients), (now - timedelta(days=rng.randrange(120))).date())
        for e in range(episodes)
    ]
    counts["episodes"] = await _insert(
        db,
        Episode,
        (
            {
                "id": eid,
                "patient_id": p + 1,
                "nurse_id": owner[p],
                "facility": "General Hospital",
                "admitted_on": day - timedelta(days=rng.randrange(1, 8)),
                "discharged_on": day,
                "complexity": rng.choice([Complexity.MODERATE, Complexity.HIGH, None]),
                "note": "",
                "created_at": now,
            }
            for eid, p, day in discharged
        ),
    )

    def med_rec_rows() -> Iterator[dict[str, Any]]:
        number = 0
        for eid, p, day in discharged:
            if rng.random() < 0.2:
                continue
            number += 1
            at = datetime.combine(day, time(15), tzinfo=UTC) + timedelta(
                days=rng.choice([0, 1, 2, 3, 5, 10, 20, 35])
            )
            yield {
                "id": number,
                "patient_id": p + 1,
                "nurse_id": owner[p],
                "episode_id": eid,
                "performed_at": min(at, now),
                "discrepancies": rng.randrange(4),
                "note": "",
                "created_at": min(at, now),
            }

    counts["medication_reconciliations"] = await _insert(
        db, MedicationReconciliation, med_rec_rows()
    )

    def goal_rows() -> Iterator[dict[str, Any]]:
        """Seven in ten patients have a care plan of one to three goals, most still active."""
        number = 0
        for p in range(size.patients):
            if p % 10 >= 7:
                continue
            for text, days in rng.sample(GOALS, 1 + p % 3):
                number += 1
                created = now - timedelta(days=rng.randrange(5, 120))
                status = GoalStatus.ACTIVE if rng.random() < 0.8 else GoalStatus.MET
                yield {
                    "id": number,
                    "patient_id": p + 1,
                    "nurse_id": owner[p],
                    "text": text,
                    "target_on": (created + timedelta(days=days)).date(),
                    "status": status,
                    "outcome": "",
                    "closed_at": None if status == GoalStatus.ACTIVE else now,
                    "created_at": created,
                    "updated_at": created,
                }

    counts["care_goals"] = await _insert(db, CareGoal, goal_rows())

    def referral_rows() -> Iterator[dict[str, Any]]:
        """One patient in four has a referral; about half of them are still open."""
        for number, p in enumerate(range(0, size.patients, 4), start=1):
            sent = now - timedelta(days=rng.randrange(1, 60))
            status = rng.choice(list(ReferralStatus))
            yield {
                "id": number,
                "patient_id": p + 1,
                "nurse_id": owner[p],
                "to_whom": rng.choice(REFERRALS),
                "specialty": "",
                "reason": "",
                "sent_on": sent.date(),
                "status": status,
                "appointment_id": None,
                "created_at": sent,
                "updated_at": sent,
                "closed_at": now
                if status in (ReferralStatus.COMPLETED, ReferralStatus.DECLINED)
                else None,
            }

    counts["referrals"] = await _insert(db, Referral, referral_rows())
    if db.dialect == "postgresql":  # ids were explicit: move the identity sequences past them
        async with db.engine.begin() as conn:
            for table in SEEDED_TABLES:
                await conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
    return counts


# -- casebot seed -------------------------------------------------------------------------------


def add_seed_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``seed`` on an argparse subparsers object; returns the new parser."""
    command: argparse.ArgumentParser = subparsers.add_parser(
        "seed", help="fill an EMPTY database with a synthetic dataset (demo, benchmark)"
    )
    command.add_argument("--size", choices=tuple(SIZES), default="small")
    command.add_argument("--database-url", help="default: CASEBOT_DATABASE_URL")
    command.add_argument("--schema", help="PostgreSQL schema (search_path)")
    command.set_defaults(handler=run_seed)
    return command


def run_seed(args: argparse.Namespace) -> int:
    """Migrate and seed; prints the row counts and the time taken."""
    url = args.database_url or os.environ.get("CASEBOT_DATABASE_URL")
    if not url:
        print("seed: give --database-url or set CASEBOT_DATABASE_URL")
        return 2
    return asyncio.run(_run(url, SIZES[args.size], getattr(args, "schema", None)))


async def _run(url: str, size: Size, schema: str | None) -> int:
    db = Database(url, schema=schema)
    try:
        await upgrade(db)
        started = timer.perf_counter()
        counts = await seed(db, size, now=datetime.now(tz=UTC).replace(microsecond=0))
        took = timer.perf_counter() - started
        print(f"seed: {counts} in {took:.1f} s")
        return 0
    finally:
        await db.dispose()

"""Care-plan use cases: goals (set, met, not met, discontinued), interventions under a goal,
progress notes, and the plan as /plan shows it.

One transaction each, audited (changes carry the prior values). Also holds the small pieces
bot.services.referrals and bot.services.resources share: the redelivery check ``begin`` and
``remember``. Must not import telegram, handlers or bot.services.records
(bot.services.records imports bot.services.referrals, which imports this).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from rapidfuzz import fuzz
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.services.ledger import MessageKey
from bot.services.nurse import NurseView
from bot.vocab import GoalStatus, Refusal
from storage import audit
from storage import careplans as store
from storage import records as record_store
from storage.db import Database
from storage.models import CareGoal, Patient

GOAL_MATCH_CUTOFF = 60.0
"""rapidfuzz token_set_ratio an outcome needs to pick one of several active goals."""


@dataclass(frozen=True)
class GoalView:
    id: int
    text: str
    target_on: date | None
    status: str
    outcome: str
    interventions: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoteView:
    at: datetime
    text: str


@dataclass(frozen=True)
class ReferralLine:
    id: int
    to_whom: str
    sent_on: date
    status: str


@dataclass(frozen=True)
class GivenLine:
    at: datetime
    text: str


@dataclass(frozen=True)
class PlanView:
    """Everything /plan shows for one patient (plain, unescaped data)."""

    patient_id: int
    patient_name: str
    goals: tuple[GoalView, ...]
    notes: tuple[NoteView, ...]
    referrals: tuple[ReferralLine, ...]
    given: tuple[GivenLine, ...]


@dataclass(frozen=True)
class GoalSaved:
    patient_id: int
    patient_name: str
    goal: GoalView


@dataclass(frozen=True)
class GoalChoice:
    """Several active goals and no clear pick: the nurse chooses."""

    patient_id: int
    patient_name: str
    goals: tuple[GoalView, ...]


@dataclass(frozen=True)
class Saved:
    """A plain addition (intervention, progress note)."""

    patient_id: int
    patient_name: str
    record_id: int


# -- shared by the issue-7 services -------------------------------------------------------------


async def begin(
    session: AsyncSession, nurse: NurseView, source: MessageKey | None, patient_id: int
) -> Patient | Refusal:
    """Her active patient, unless this message was already saved."""
    if source is not None and await record_store.find_inbound(
        session, chat_id=source.chat_id, message_id=source.message_id
    ):
        return Refusal.DUPLICATE
    patient = await record_store.owned_active_patient(
        session, patient_id=patient_id, nurse_id=nurse.id
    )
    return Refusal.NO_PATIENT if patient is None else patient


async def remember(
    session: AsyncSession,
    source: MessageKey | None,
    nurse: NurseView,
    now: datetime,
    kind: str,
    record_id: int,
) -> None:
    """Record the message so a redelivered update saves nothing twice."""
    if source is not None:
        await record_store.add_inbound(
            session,
            chat_id=source.chat_id,
            message_id=source.message_id,
            nurse_id=nurse.id,
            now=now,
            record_kind=kind,
            record_id=record_id,
        )


def goal_view(goal: CareGoal, interventions: tuple[str, ...] = ()) -> GoalView:
    return GoalView(
        id=goal.id,
        text=goal.text,
        target_on=goal.target_on,
        status=goal.status.value,
        outcome=goal.outcome,
        interventions=interventions,
    )


# -- goals --------------------------------------------------------------------------------------


async def add_goal(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    source: MessageKey | None,
    patient_id: int,
    text: str,
    target_on: date | None,
    command: str = "text",
) -> GoalSaved | Refusal:
    """Add a goal to her patient's care plan."""
    now = clock.now()
    async with db.uow() as session:
        patient = await begin(session, nurse, source, patient_id)
        if isinstance(patient, Refusal):
            return patient
        goal = await store.add_goal(
            session, patient_id=patient.id, nurse_id=nurse.id, text=text, target_on=target_on,
            now=now,
        )  # fmt: skip
        await remember(session, source, nurse, now, "goal", goal.id)
        await audit.record_audit(
            session,
            at=now,
            action="goal.created",
            actor_nurse_id=nurse.id,
            command=command,
            patient_id=patient.id,
            entity="goal",
            entity_id=goal.id,
            detail={"target_on": target_on.isoformat() if target_on else None, "prior": None},
        )
        return GoalSaved(patient.id, patient.display_name, goal_view(goal))


def _pick_goal(goals: list[CareGoal], hint: str) -> CareGoal | None:
    if len(goals) == 1:
        return goals[0]
    if not hint:
        return None
    scored = sorted(
        ((fuzz.token_set_ratio(hint.lower(), g.text.lower()), g.id, g) for g in goals),
        key=lambda item: (-item[0], item[1]),
    )
    best = scored[0]
    if best[0] < GOAL_MATCH_CUTOFF or (len(scored) > 1 and scored[1][0] == best[0]):
        return None
    return best[2]


async def close_goal(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    source: MessageKey | None,
    patient_id: int | None,
    change: GoalStatus,
    outcome: str,
    goal_id: int | None = None,
    hint: str = "",
    command: str = "text",
) -> GoalSaved | GoalChoice | Refusal:
    """Mark one of her patient's active goals met / not met / discontinued with the outcome.

    Without ``goal_id`` the goal is the only active one, or the one the outcome (or ``hint``)
    reads like; otherwise the active goals come back to choose from.
    """
    if change is GoalStatus.ACTIVE:
        raise ValueError("a goal closes as met, not met or discontinued")
    now = clock.now()
    async with db.uow() as session:
        if patient_id is None and goal_id is not None:
            found = await store.get_goal(session, goal_id=goal_id)
            if found is None:
                return Refusal.NOT_FOUND
            patient_id = found.patient_id
        if patient_id is None:
            return Refusal.NOT_FOUND
        patient = await begin(session, nurse, source, patient_id)
        if isinstance(patient, Refusal):
            return patient
        active = await store.goals_of(session, patient_id=patient.id, status=GoalStatus.ACTIVE)
        if goal_id is not None:
            goal = next((g for g in active if g.id == goal_id), None)
            if goal is None:
                found = await store.get_goal(session, goal_id=goal_id)
                ok = found is not None and found.patient_id == patient.id
                return Refusal.ALREADY_ANSWERED if ok else Refusal.NOT_FOUND
        else:
            if not active:
                return Refusal.NO_GOAL
            picked = _pick_goal(active, hint or outcome)
            if picked is None:
                return GoalChoice(
                    patient.id, patient.display_name, tuple(goal_view(g) for g in active)
                )
            goal = picked
        prior = {"status": goal.status.value, "outcome": goal.outcome}
        goal.status = change
        goal.outcome = outcome[:2000]
        goal.closed_at = now
        goal.updated_at = now
        await remember(session, source, nurse, now, "goal", goal.id)
        await audit.record_audit(
            session,
            at=now,
            action="goal.status_changed",
            actor_nurse_id=nurse.id,
            command=command,
            patient_id=patient.id,
            entity="goal",
            entity_id=goal.id,
            detail={"prior": prior, "status": goal.status.value},
        )
        return GoalSaved(patient.id, patient.display_name, goal_view(goal))


async def add_intervention(
    db: Database, clock: Clock, *, nurse: NurseView, goal_id: int, text: str
) -> Saved | Refusal:
    """An intervention under one of her patient's goals."""
    now = clock.now()
    async with db.uow() as session:
        goal = await store.get_goal(session, goal_id=goal_id)
        if goal is None:
            return Refusal.NOT_FOUND
        patient = await begin(session, nurse, None, goal.patient_id)
        if isinstance(patient, Refusal):
            return Refusal.NOT_FOUND
        item = await store.add_intervention(
            session, goal_id=goal.id, nurse_id=nurse.id, text=text, now=now
        )
        await audit.record_audit(
            session,
            at=now,
            action="intervention.created",
            actor_nurse_id=nurse.id,
            command="plan",
            patient_id=patient.id,
            entity="intervention",
            entity_id=item.id,
            detail={"goal_id": goal.id, "prior": None},
        )
        return Saved(patient.id, patient.display_name, item.id)


async def add_progress_note(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    patient_id: int,
    text: str,
    goal_id: int | None = None,
) -> Saved | Refusal:
    """A progress note on her patient's care plan."""
    now = clock.now()
    async with db.uow() as session:
        patient = await begin(session, nurse, None, patient_id)
        if isinstance(patient, Refusal):
            return patient
        note = await store.add_progress_note(
            session, patient_id=patient.id, nurse_id=nurse.id, text=text, now=now,
            goal_id=goal_id,
        )  # fmt: skip
        await audit.record_audit(
            session,
            at=now,
            action="progress_note.created",
            actor_nurse_id=nurse.id,
            command="plan",
            patient_id=patient.id,
            entity="progress_note",
            entity_id=note.id,
            detail={"goal_id": goal_id, "prior": None},
        )
        return Saved(patient.id, patient.display_name, note.id)


async def plan(
    db: Database, clock: Clock, *, nurse: NurseView, patient_id: int, command: str = "plan"
) -> PlanView | Refusal:
    """Her patient's care plan: goals with interventions, notes, open referrals, resources
    given. Audited as a read."""
    now = clock.now()
    async with db.uow() as session:
        patient = await session.get(Patient, patient_id)
        if patient is None or patient.nurse_id != nurse.id:
            return Refusal.NOT_FOUND
        goals = await store.goals_of(session, patient_id=patient.id)
        items = await store.interventions_of(session, goal_ids=[g.id for g in goals])
        by_goal: dict[int, list[str]] = {}
        for item in items:
            by_goal.setdefault(item.goal_id, []).append(item.text)
        notes = await store.recent_progress_notes(session, patient_id=patient.id)
        referrals = await store.open_referrals_of(session, patient_id=patient.id)
        given = await store.resources_given_to(session, patient_id=patient.id, limit=5)
        await audit.record_audit(
            session,
            at=now,
            action="careplan.viewed",
            actor_nurse_id=nurse.id,
            command=command,
            patient_id=patient.id,
            entity="patient",
            entity_id=patient.id,
        )
        return PlanView(
            patient_id=patient.id,
            patient_name=patient.display_name,
            goals=tuple(goal_view(g, tuple(by_goal.get(g.id, ()))) for g in goals),
            notes=tuple(NoteView(n.created_at, n.text) for n in notes),
            referrals=tuple(
                ReferralLine(r.id, r.to_whom, r.sent_on, r.status.value) for r in referrals
            ),
            given=tuple(GivenLine(g.given_at, g.resource_text) for g in given),
        )

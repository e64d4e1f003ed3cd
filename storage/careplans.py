"""Care plans (goals, interventions, progress notes), referrals and the community resource
directory (with the resources given to patients), as repository functions.

Functions take the session first, keyword-only arguments after, and never commit.
Must not import telegram, handlers or bot.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocab import GoalStatus, PatientStatus, ReferralStatus, ResourceKind
from storage.models import (
    Appointment,
    CareGoal,
    CareIntervention,
    CommunityResource,
    Patient,
    ProgressNote,
    Referral,
    ResourceGiven,
)

OPEN_REFERRAL = (ReferralStatus.SENT, ReferralStatus.SCHEDULED)

# -- goals --------------------------------------------------------------------------------------


async def add_goal(
    session: AsyncSession,
    *,
    patient_id: int,
    nurse_id: int,
    text: str,
    target_on: date | None,
    now: datetime,
) -> CareGoal:
    goal = CareGoal(
        patient_id=patient_id,
        nurse_id=nurse_id,
        text=text[:500],
        target_on=target_on,
        status=GoalStatus.ACTIVE,
        outcome="",
        created_at=now,
        updated_at=now,
    )
    session.add(goal)
    await session.flush()
    return goal


async def get_goal(session: AsyncSession, *, goal_id: int) -> CareGoal | None:
    return await session.get(CareGoal, goal_id)


async def goals_of(
    session: AsyncSession, *, patient_id: int, status: GoalStatus | None = None
) -> list[CareGoal]:
    """A patient's goals, active first then by target date (no date last), oldest first."""
    query = select(CareGoal).where(CareGoal.patient_id == patient_id)
    if status is not None:
        query = query.where(CareGoal.status == status)
    rows = list((await session.scalars(query.order_by(CareGoal.id))).all())
    rows.sort(key=lambda g: (g.status != GoalStatus.ACTIVE, g.target_on or date.max, g.id))
    return rows


async def goals_past_target(
    session: AsyncSession, *, nurse_id: int, today: date, limit: int = 100
) -> list[tuple[CareGoal, Patient]]:
    """Active goals of her active patients whose target date is before ``today``."""
    query = (
        select(CareGoal, Patient)
        .join(Patient, Patient.id == CareGoal.patient_id)
        .where(
            Patient.nurse_id == nurse_id,
            Patient.status == PatientStatus.ACTIVE,
            CareGoal.status == GoalStatus.ACTIVE,
            CareGoal.target_on.is_not(None),
            CareGoal.target_on < today,
        )
        .order_by(CareGoal.target_on, CareGoal.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def add_intervention(
    session: AsyncSession, *, goal_id: int, nurse_id: int, text: str, now: datetime
) -> CareIntervention:
    item = CareIntervention(goal_id=goal_id, nurse_id=nurse_id, text=text[:500], created_at=now)
    session.add(item)
    await session.flush()
    return item


async def interventions_of(session: AsyncSession, *, goal_ids: list[int]) -> list[CareIntervention]:
    if not goal_ids:
        return []
    query = (
        select(CareIntervention)
        .where(CareIntervention.goal_id.in_(goal_ids))
        .order_by(CareIntervention.id)
    )
    return list((await session.scalars(query)).all())


async def add_progress_note(
    session: AsyncSession,
    *,
    patient_id: int,
    nurse_id: int,
    text: str,
    now: datetime,
    goal_id: int | None = None,
) -> ProgressNote:
    note = ProgressNote(
        patient_id=patient_id, goal_id=goal_id, nurse_id=nurse_id, text=text, created_at=now
    )
    session.add(note)
    await session.flush()
    return note


async def recent_progress_notes(
    session: AsyncSession, *, patient_id: int, limit: int = 5
) -> list[ProgressNote]:
    query = (
        select(ProgressNote)
        .where(ProgressNote.patient_id == patient_id)
        .order_by(ProgressNote.created_at.desc(), ProgressNote.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


# -- referrals ----------------------------------------------------------------------------------


async def add_referral(
    session: AsyncSession,
    *,
    patient_id: int,
    nurse_id: int,
    to_whom: str,
    specialty: str,
    reason: str,
    sent_on: date,
    now: datetime,
) -> Referral:
    referral = Referral(
        patient_id=patient_id,
        nurse_id=nurse_id,
        to_whom=to_whom[:120],
        specialty=specialty[:40],
        reason=reason,
        sent_on=sent_on,
        status=ReferralStatus.SENT,
        created_at=now,
        updated_at=now,
    )
    session.add(referral)
    await session.flush()
    return referral


async def get_referral(session: AsyncSession, *, referral_id: int) -> Referral | None:
    return await session.get(Referral, referral_id)


async def open_referrals_of(session: AsyncSession, *, patient_id: int) -> list[Referral]:
    """A patient's referrals still sent or scheduled, oldest first."""
    query = (
        select(Referral)
        .where(Referral.patient_id == patient_id, Referral.status.in_(OPEN_REFERRAL))
        .order_by(Referral.sent_on, Referral.id)
    )
    return list((await session.scalars(query)).all())


async def referrals_of_nurse(
    session: AsyncSession, *, nurse_id: int, open_only: bool = True, limit: int = 50
) -> list[tuple[Referral, Patient]]:
    """Her referrals (open ones by default), oldest sent first, with their patients."""
    query = (
        select(Referral, Patient)
        .join(Patient, Patient.id == Referral.patient_id)
        .where(Referral.nurse_id == nurse_id)
    )
    if open_only:
        query = query.where(Referral.status.in_(OPEN_REFERRAL))
    query = query.order_by(Referral.sent_on, Referral.id).limit(limit)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def sent_referrals_for_appointment(
    session: AsyncSession, *, appointment: Appointment
) -> list[Referral]:
    """Referrals of the appointment's patient still waiting for an appointment, sent on or
    before its day (compared in UTC dates, widened by a day so no zone is lost)."""
    query = (
        select(Referral)
        .where(
            Referral.patient_id == appointment.patient_id,
            Referral.status == ReferralStatus.SENT,
            Referral.appointment_id.is_(None),
            Referral.created_at <= appointment.created_at,
        )
        .order_by(Referral.sent_on, Referral.id)
    )
    return list((await session.scalars(query)).all())


async def referrals_linked_to(session: AsyncSession, *, appointment_id: int) -> list[Referral]:
    query = select(Referral).where(Referral.appointment_id == appointment_id)
    return list((await session.scalars(query.order_by(Referral.id))).all())


# -- community resources ------------------------------------------------------------------------


async def add_resource(
    session: AsyncSession,
    *,
    team_id: int | None,
    kind: ResourceKind,
    name: str,
    contact: str,
    notes: str,
    created_by_id: int,
    now: datetime,
) -> CommunityResource:
    resource = CommunityResource(
        team_id=team_id,
        kind=kind,
        name=name[:120],
        contact=contact[:200],
        notes=notes,
        created_by_id=created_by_id,
        created_at=now,
    )
    session.add(resource)
    await session.flush()
    return resource


def _team_filter(team_id: int | None, nurse_id: int):  # type: ignore[no-untyped-def]
    """The team's directory; a nurse without a team sees what she added herself."""
    if team_id is None:
        return (CommunityResource.team_id.is_(None)) & (CommunityResource.created_by_id == nurse_id)
    return CommunityResource.team_id == team_id


async def search_resources(
    session: AsyncSession,
    *,
    team_id: int | None,
    nurse_id: int,
    kind: ResourceKind | None = None,
    words: str = "",
    limit: int = 30,
) -> list[CommunityResource]:
    """The team's resources of a kind and/or containing words (name, contact or notes)."""
    query = select(CommunityResource).where(_team_filter(team_id, nurse_id))
    if kind is not None:
        query = query.where(CommunityResource.kind == kind)
    for word in words.split()[:5]:
        like = f"%{word.lower()}%"
        query = query.where(
            or_(
                CommunityResource.name.ilike(like),
                CommunityResource.notes.ilike(like),
                CommunityResource.contact.ilike(like),
            )
        )
    query = query.order_by(CommunityResource.kind, CommunityResource.name).limit(limit)
    return list((await session.scalars(query)).all())


async def team_resources(
    session: AsyncSession, *, team_id: int | None, nurse_id: int, limit: int = 200
) -> list[CommunityResource]:
    query = (
        select(CommunityResource)
        .where(_team_filter(team_id, nurse_id))
        .order_by(CommunityResource.name)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def add_resource_given(
    session: AsyncSession,
    *,
    patient_id: int,
    nurse_id: int,
    resource_id: int | None,
    resource_text: str,
    given_at: datetime,
    now: datetime,
) -> ResourceGiven:
    given = ResourceGiven(
        patient_id=patient_id,
        nurse_id=nurse_id,
        resource_id=resource_id,
        resource_text=resource_text[:200],
        given_at=given_at,
        created_at=now,
    )
    session.add(given)
    await session.flush()
    return given


async def resources_given_to(
    session: AsyncSession, *, patient_id: int, limit: int = 10
) -> list[ResourceGiven]:
    query = (
        select(ResourceGiven)
        .where(ResourceGiven.patient_id == patient_id)
        .order_by(ResourceGiven.given_at.desc(), ResourceGiven.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())

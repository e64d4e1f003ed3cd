"""Community resource use cases: the team's directory (search, add) and recording that a
resource was given to a patient.

One transaction each; changes audited. The directory is per team: any team member may add.
Must not import telegram or handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from rapidfuzz import fuzz

from bot import care
from bot.clock import Clock
from bot.services.careplans import begin, remember
from bot.services.ledger import MessageKey
from bot.services.nurse import NurseView
from bot.vocab import Refusal, ResourceKind
from storage import audit
from storage import careplans as store
from storage.db import Database
from storage.models import CommunityResource

MATCH_CUTOFF = 80.0
"""rapidfuzz partial_ratio a written resource needs to be the directory entry it names."""

NOON = time(12, 0)


@dataclass(frozen=True)
class ResourceView:
    id: int
    kind: str
    name: str
    contact: str
    notes: str


@dataclass(frozen=True)
class Given:
    patient_id: int
    patient_name: str
    resource_text: str
    resource: ResourceView | None
    given_on: date


def _view(resource: CommunityResource) -> ResourceView:
    return ResourceView(
        resource.id, resource.kind.value, resource.name, resource.contact, resource.notes
    )


async def search(
    db: Database, *, nurse: NurseView, kind: ResourceKind | None = None, words: str = ""
) -> list[ResourceView]:
    """Her team's resources of a kind and/or matching words (no patient data: not audited)."""
    async with db.uow(read_only=True) as session:
        rows = await store.search_resources(
            session, team_id=nurse.team_id, nurse_id=nurse.id, kind=kind, words=words
        )
        return [_view(r) for r in rows]


async def add_resource(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    kind: ResourceKind,
    name: str,
    contact: str = "",
    notes: str = "",
) -> ResourceView:
    """Add an entry to her team's directory."""
    now = clock.now()
    async with db.uow() as session:
        resource = await store.add_resource(
            session, team_id=nurse.team_id, kind=kind, name=name, contact=contact, notes=notes,
            created_by_id=nurse.id, now=now,
        )  # fmt: skip
        await audit.record_audit(
            session,
            at=now,
            action="resource.created",
            actor_nurse_id=nurse.id,
            command="resources",
            entity="community_resource",
            entity_id=resource.id,
            detail={"kind": kind.value, "prior": None},
        )
        return _view(resource)


def best_match(rows: list[CommunityResource], text: str) -> CommunityResource | None:
    """The directory entry a nurse's words name ('the Metro Access ride number')."""
    wanted = text.lower()
    scored = [(fuzz.partial_ratio(r.name.lower(), wanted), -r.id, r) for r in rows if r.name]
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    if not scored or scored[0][0] < MATCH_CUTOFF:
        return None
    return scored[0][2]


async def record_given(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    source: MessageKey | None,
    patient_id: int,
    resource_text: str,
    given_on: date,
    resource_id: int | None = None,
    command: str = "text",
) -> Given | Refusal:
    """Record that a resource was given to her patient, linked to the directory entry it
    names when there is one."""
    now = clock.now()
    zone = nurse.zone
    async with db.uow() as session:
        patient = await begin(session, nurse, source, patient_id)
        if isinstance(patient, Refusal):
            return patient
        rows = await store.team_resources(session, team_id=nurse.team_id, nurse_id=nurse.id)
        if resource_id is not None:
            resource = next((r for r in rows if r.id == resource_id), None)
        else:
            resource = best_match(rows, resource_text)
        given_at = (
            now
            if given_on == now.astimezone(zone).date()
            else (care.local_time_on(given_on, NOON, zone))
        )
        given = await store.add_resource_given(
            session, patient_id=patient.id, nurse_id=nurse.id,
            resource_id=resource.id if resource else None,
            resource_text=resource.name if resource and not resource_text else resource_text,
            given_at=given_at, now=now,
        )  # fmt: skip
        await remember(session, source, nurse, now, "resource_given", given.id)
        await audit.record_audit(
            session,
            at=now,
            action="resource.given",
            actor_nurse_id=nurse.id,
            command=command,
            patient_id=patient.id,
            entity="resource_given",
            entity_id=given.id,
            detail={"resource_id": resource.id if resource else None, "prior": None},
        )
        return Given(
            patient.id,
            patient.display_name,
            given.resource_text,
            _view(resource) if resource else None,
            given_on,
        )

"""Patient use cases: add, find, show the card, edit risk/conditions/MRN, close, transfer.

One transaction each, audited: every read of a patient's data writes "patient.viewed" (or
"patient.access_refused"), every change writes the prior value. Ownership is checked here,
against the nurse asking, so a forged button cannot reach another nurse's patient.
Spans patients, contacts, appointments, episodes, med recs, tasks and the audit trail.
Must not import telegram or handlers.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.parsing import Caseload, PatientRef
from bot.parsing.patients import normalise_name
from bot.render.patients import PatientCard
from bot.services.cards import TIMELINE_LENGTH as TIMELINE_LENGTH
from bot.services.cards import card as _card
from bot.services.careplans import remember
from bot.services.ledger import MessageKey
from bot.services.nurse import NurseView
from bot.vocab import PatientStatus, Refusal, Risk
from storage import patients as repo
from storage import records as record_store
from storage.audit import record_audit
from storage.db import Database
from storage.models import Patient

LEDGER_KIND = "patient"
"""How the (chat id, message id) ledger names a message that added a patient."""
MAX_NAME = 120
MAX_MRN = 40
MAX_CONDITIONS = 500
LOOKUP_FALLBACK_CUTOFF = 85.0
"""rapidfuzz WRatio a /patient argument needs when the message matcher found nothing."""

_MRN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
_CLEAR_WORDS = frozenset({"none", "no", "-", "—", "clear", "n/a", "na"})


@dataclass(frozen=True)
class Lookup:
    """What a typed name matched in the nurse's caseload."""

    text: str
    patient: PatientRef | None
    candidates: tuple[PatientRef, ...]


@dataclass(frozen=True)
class Added:
    card: PatientCard
    risk_defaulted: bool


@dataclass(frozen=True)
class AlreadyAdded:
    """This very message added a patient before (Telegram sent it again): nothing new."""

    card: PatientCard


@dataclass(frozen=True)
class Duplicate:
    """Active patients of hers with the same name: she confirms before a second one is added."""

    existing: tuple[PatientRef, ...]


@dataclass(frozen=True)
class Brief:
    """The little an edit prompt shows (the read is audited like the card)."""

    id: int
    name: str
    risk: str
    conditions: str
    mrn: str | None
    status: str
    open_tasks: int


@dataclass(frozen=True)
class Changed:
    card: PatientCard
    before: str
    after: str


@dataclass(frozen=True)
class Closed:
    name: str
    cancelled_tasks: int


@dataclass(frozen=True)
class Teammate:
    id: int
    name: str


@dataclass(frozen=True)
class Transferred:
    patient_id: int
    name: str
    initials: str
    code: str
    from_name: str
    to_name: str
    to_chat_id: int | None
    to_privacy_mode: str
    tasks_moved: int


# -- pure helpers -----------------------------------------------------------------------------


def clean_name(text: str) -> str:
    return " ".join(text.split())[:MAX_NAME]


def parse_conditions(text: str) -> tuple[str, ...]:
    """'CHF, COPD; DM' -> ('CHF', 'COPD', 'DM'); 'none' -> ()."""
    if text.strip().lower() in _CLEAR_WORDS:
        return ()
    items = (" ".join(part.split()) for part in re.split(r"[,;\n]+", text))
    unique = dict.fromkeys(item[:60] for item in items if item)
    return tuple(unique)


class InvalidMrn(ValueError):
    """The text does not look like a medical record number."""


def parse_mrn(text: str) -> str | None:
    """A stripped MRN, None to clear it ('none'); InvalidMrn for anything else."""
    value = text.strip().removeprefix("#").strip()
    if value.lower() in _CLEAR_WORDS:
        return None
    if not _MRN_RE.match(value):
        raise InvalidMrn(value[:MAX_MRN])
    return value


def _conditions_text(conditions: Sequence[str]) -> str:
    return ", ".join(conditions)[:MAX_CONDITIONS]


# -- reads ------------------------------------------------------------------------------------


async def load_caseload(db: Database, nurse_id: int) -> Caseload:
    """The nurse's active patients as the parser's name index (ref ids are patient ids)."""
    async with db.uow(read_only=True) as session:
        rows = await repo.caseload_names(session, nurse_id=nurse_id)
    return Caseload(PatientRef(id=pid, name=name) for pid, name in rows)


def match_name(caseload: Caseload, text: str) -> Lookup:
    """Find a typed name in the caseload: typos, accents, case, a unique first name."""
    text = clean_name(text)
    if not text:
        return Lookup(text, None, ())
    # Every word of a /patient argument is meant as a name: write it as one.
    mention = caseload.find(" ".join(w[:1].upper() + w[1:] for w in text.split())).mention
    if mention.patient is not None or mention.candidates:
        return Lookup(text, mention.patient, mention.candidates)
    names = {i: normalise_name(ref.name) for i, ref in enumerate(caseload.refs)}
    found = process.extract(
        normalise_name(text),
        names,
        scorer=fuzz.WRatio,
        score_cutoff=LOOKUP_FALLBACK_CUTOFF,
        limit=5,
    )
    if not found:
        return Lookup(text, None, ())
    top = found[0][1]
    refs = tuple(caseload.refs[key] for _, score, key in found if score == top)
    if len(refs) == 1:
        return Lookup(text, refs[0], ())
    return Lookup(text, None, refs)


async def find_patients(db: Database, clock: Clock, *, nurse: NurseView, name: str) -> Lookup:
    """Match a name against her caseload; showing candidates is audited as a read."""
    now = clock.now()
    lookup = match_name(await load_caseload(db, nurse.id), name)
    if lookup.candidates:
        async with db.uow() as session:
            await record_audit(
                session,
                at=now,
                action="patient.searched",
                actor_nurse_id=nurse.id,
                command="patient",
                detail={"candidates": [ref.id for ref in lookup.candidates]},
            )
    return lookup


async def patient_card(
    db: Database, clock: Clock, *, nurse: NurseView, patient_id: int, command: str = "patient"
) -> PatientCard | Refusal:
    """Her patient's card, audited as "patient.viewed"; a refusal otherwise (audited too)."""
    now = clock.now()
    async with db.uow() as session:
        patient = await _owned(session, nurse, patient_id, now=now, command=command)
        if isinstance(patient, Refusal):
            return patient
        card = await _card(session, patient, zone=nurse.zone, now=now)
        # Audited last: on PostgreSQL the audit chain's lock is then held only to the commit.
        await _audit(session, nurse, patient, now=now, action="patient.viewed", command=command)
        return card


async def patient_brief(
    db: Database, clock: Clock, *, nurse: NurseView, patient_id: int, command: str
) -> Brief | Refusal:
    """What an edit prompt shows about her active patient (audited as a read)."""
    now = clock.now()
    async with db.uow() as session:
        patient = await _owned(session, nurse, patient_id, now=now, command=command, active=True)
        if isinstance(patient, Refusal):
            return patient
        await _audit(session, nurse, patient, now=now, action="patient.viewed", command=command)
        tasks = await repo.open_tasks(session, patient_id=patient.id)
        return Brief(
            id=patient.id,
            name=patient.display_name,
            risk=patient.risk.value,
            conditions=patient.conditions,
            mrn=patient.mrn,
            status=patient.status.value,
            open_tasks=len(tasks),
        )


async def transfer_options(
    db: Database, clock: Clock, *, nurse: NurseView, patient_id: int
) -> tuple[Brief, tuple[Teammate, ...]] | Refusal:
    """Her active patient and the other active nurses of her team."""
    brief = await patient_brief(db, clock, nurse=nurse, patient_id=patient_id, command="transfer")
    if isinstance(brief, Refusal):
        return brief
    if nurse.team_id is None:
        return brief, ()
    async with db.uow(read_only=True) as session:
        mates = await repo.teammates(session, team_id=nurse.team_id, except_nurse_id=nurse.id)
    return brief, tuple(Teammate(m.id, m.display_name) for m in mates)


# -- changes ----------------------------------------------------------------------------------


async def add_patient(
    db: Database,
    clock: Clock,
    *,
    nurse: NurseView,
    name: str,
    mrn: str | None = None,
    risk: Risk | None = None,
    conditions: Sequence[str] = (),
    allow_duplicate: bool = False,
    command: str = "newpatient",
    source: MessageKey | None = None,
) -> Added | AlreadyAdded | Duplicate:
    """Add a patient to her caseload (risk medium unless given) and return the card.

    `source` is the message that asked for it: a redelivered update finds it in the ledger and
    adds nothing (and does not ask about a twin, the patient it added itself)."""
    display_name = display_name_of(name)
    if not display_name:
        raise ValueError("a patient needs a name")
    now = clock.now()
    async with db.uow() as session:
        if source is not None:
            seen = await record_store.find_inbound(
                session, chat_id=source.chat_id, message_id=source.message_id
            )
            if seen is not None and seen.record_kind == LEDGER_KIND and seen.record_id:
                earlier = await repo.get_patient(session, patient_id=seen.record_id)
                if earlier is not None and earlier.nurse_id == nurse.id:
                    return AlreadyAdded(await _card(session, earlier, zone=nurse.zone, now=now))
        created = await create_patient_in(
            session,
            nurse,
            now=now,
            display_name=display_name,
            mrn=mrn,
            risk=risk,
            conditions=conditions,
            allow_duplicate=allow_duplicate,
            command=command,
        )
        if isinstance(created, Duplicate):
            return created
        patient = created
        await remember(session, source, nurse, now, LEDGER_KIND, patient.id)
        card = await _card(session, patient, zone=nurse.zone, now=now)
    return Added(card=card, risk_defaulted=risk is None)


def display_name_of(name: str) -> str:
    """A new patient's name as the caseload shows it ("maria lopez" typed in a hurry: Maria
    Lopez)."""
    display_name = clean_name(name)
    return display_name.title() if display_name.islower() else display_name


async def create_patient_in(
    session: AsyncSession,
    nurse: NurseView,
    *,
    now: datetime,
    display_name: str,
    mrn: str | None = None,
    risk: Risk | None = None,
    conditions: Sequence[str] = (),
    allow_duplicate: bool = False,
    command: str = "newpatient",
) -> Patient | Duplicate:
    """Add a patient inside a transaction (audited); an active patient of hers with the same
    name comes back as a Duplicate unless ``allow_duplicate``."""
    if not allow_duplicate:
        key = normalise_name(display_name)
        same = tuple(
            PatientRef(id=pid, name=other)
            for pid, other in await repo.caseload_names(session, nurse_id=nurse.id)
            if normalise_name(other) == key
        )
        if same:
            return Duplicate(same)
    patient = await repo.create_patient(
        session,
        nurse_id=nurse.id,
        team_id=nurse.team_id,
        display_name=display_name,
        now=now,
        risk=risk or Risk.MEDIUM,
        conditions=parse_conditions(_conditions_text(conditions)),
        mrn=(mrn or "")[:MAX_MRN] or None,
    )
    await _audit(
        session,
        nurse,
        patient,
        now=now,
        action="patient.created",
        command=command,
        detail={
            "risk": patient.risk.value,
            "mrn": patient.mrn,
            "conditions": patient.conditions,
            "duplicate_confirmed": allow_duplicate,
        },
    )
    return patient


async def edit_risk(
    db: Database, clock: Clock, *, nurse: NurseView, patient_id: int, risk: Risk
) -> Changed | Refusal:
    return await _change(db, nurse, patient_id, now=clock.now(), field="risk", value=risk)


async def edit_conditions(
    db: Database, clock: Clock, *, nurse: NurseView, patient_id: int, conditions: Sequence[str]
) -> Changed | Refusal:
    return await _change(
        db, nurse, patient_id, now=clock.now(), field="conditions",
        value=_conditions_text(conditions),
    )  # fmt: skip


async def edit_mrn(
    db: Database, clock: Clock, *, nurse: NurseView, patient_id: int, mrn: str | None
) -> Changed | Refusal:
    return await _change(db, nurse, patient_id, now=clock.now(), field="mrn", value=mrn)


async def _change(
    db: Database,
    nurse: NurseView,
    patient_id: int,
    *,
    now: datetime,
    field: str,
    value: Risk | str | None,
) -> Changed | Refusal:
    async with db.uow() as session:
        patient = await _owned(
            session, nurse, patient_id, now=now, command=field, active=True, for_update=True
        )
        if isinstance(patient, Refusal):
            return patient
        before = _plain(getattr(patient, field))
        setattr(patient, field, value)
        patient.updated_at = now
        after = _plain(value)
        await _audit(
            session,
            nurse,
            patient,
            now=now,
            action=f"patient.{field}_changed",
            command=field,
            detail={"field": field, "before": before, "after": after},
        )
        card = await _card(session, patient, zone=nurse.zone, now=now)
    return Changed(card=card, before=before or "", after=after or "")


async def close_case(
    db: Database, clock: Clock, *, nurse: NurseView, patient_id: int
) -> Closed | Refusal:
    """Close her patient's case: it leaves the active caseload; open tasks are cancelled."""
    now = clock.now()
    async with db.uow() as session:
        patient = await _owned(
            session, nurse, patient_id, now=now, command="close", active=True, for_update=True
        )
        if isinstance(patient, Refusal):
            return patient
        before = patient.status.value
        patient.status = PatientStatus.CLOSED
        patient.updated_at = now
        cancelled = await repo.cancel_open_tasks(session, patient_id=patient.id, now=now)
        await _audit(
            session,
            nurse,
            patient,
            now=now,
            action="patient.closed",
            command="close",
            detail={"before": before, "after": "closed", "cancelled_task_ids": cancelled},
        )
        return Closed(name=patient.display_name, cancelled_tasks=len(cancelled))


async def transfer_patient(
    db: Database, clock: Clock, *, nurse: NurseView, patient_id: int, to_nurse_id: int
) -> Transferred | Refusal:
    """Give her patient (and its open tasks) to another active nurse of her team."""
    now = clock.now()
    async with db.uow() as session:
        patient = await _owned(
            session, nurse, patient_id, now=now, command="transfer", active=True, for_update=True
        )
        if isinstance(patient, Refusal):
            return patient
        to = await repo.get_nurse(session, nurse_id=to_nurse_id)
        if (
            to is None
            or to.id == nurse.id
            or nurse.team_id is None
            or to.team_id != nurse.team_id
            or not to.active
            or to.revoked_at is not None
        ):
            await _audit(
                session,
                nurse,
                patient,
                now=now,
                action="patient.transfer_refused",
                command="transfer",
                detail={"to_nurse_id": to_nurse_id, "reason": "not_teammate"},
            )
            return Refusal.NOT_TEAMMATE
        moved = await repo.reassign_open_tasks(session, patient_id=patient.id, to_nurse_id=to.id)
        before = {"nurse_id": patient.nurse_id, "team_id": patient.team_id}
        patient.nurse_id = to.id
        patient.team_id = to.team_id
        patient.updated_at = now
        await _audit(
            session,
            nurse,
            patient,
            now=now,
            action="patient.transferred",
            command="transfer",
            detail={
                "before": before,
                "after": {"nurse_id": to.id, "team_id": to.team_id},
                "moved_task_ids": moved,
            },
        )
        return Transferred(
            patient_id=patient.id,
            name=patient.display_name,
            initials=patient.initials,
            code=patient.code,
            from_name=nurse.display_name,
            to_name=to.display_name,
            to_chat_id=to.chat_id,
            to_privacy_mode=to.privacy_mode or nurse.privacy_mode,
            tasks_moved=len(moved),
        )


# -- inside one transaction -------------------------------------------------------------------


async def _owned(
    session: AsyncSession,
    nurse: NurseView,
    patient_id: int,
    *,
    now: datetime,
    command: str,
    active: bool = False,
    for_update: bool = False,
) -> Patient | Refusal:
    """Her patient, or why not (refusals of another nurse's patient are audited)."""
    patient = await repo.get_patient(session, patient_id=patient_id, for_update=for_update)
    if patient is None:
        return Refusal.NOT_FOUND
    if patient.nurse_id != nurse.id:
        await record_audit(
            session,
            at=now,
            action="patient.access_refused",
            actor_nurse_id=nurse.id,
            actor_telegram_id=nurse.telegram_user_id,
            command=command,
            patient_id=patient.id,
            entity="patient",
            entity_id=patient.id,
            detail={"reason": "not_owner"},
        )
        return Refusal.NOT_YOURS
    if active and patient.status != PatientStatus.ACTIVE:
        return Refusal.CLOSED
    return patient


async def _audit(
    session: AsyncSession,
    nurse: NurseView,
    patient: Patient,
    *,
    now: datetime,
    action: str,
    command: str,
    detail: dict[str, Any] | None = None,
) -> None:
    await record_audit(
        session,
        at=now,
        action=action,
        actor_nurse_id=nurse.id,
        actor_telegram_id=nurse.telegram_user_id,
        command=command,
        patient_id=patient.id,
        entity="patient",
        entity_id=patient.id,
        detail=detail,
    )


def _plain(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)

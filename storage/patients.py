"""Patients: create, find, change, transfer; a nurse's caseload; what a patient card reads.

Repository functions take the session first and never commit. Must not import telegram,
handlers or bot.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    literal,
    null,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocab import (
    AppointmentStatus,
    DeliveryStatus,
    GoalStatus,
    Outcome,
    PatientStatus,
    Risk,
    TaskKind,
    TaskStatus,
    VitalKind,
)
from storage.careplans import OPEN_REFERRAL
from storage.models import (
    Appointment,
    CareGoal,
    Contact,
    Delivery,
    Episode,
    HospitalEvent,
    MedicationReconciliation,
    Nurse,
    Patient,
    Referral,
    Task,
    Vital,
)
from storage.types import UTCDateTime
from storage.worklist import is_work

VITALS_READ = 40
"""Latest vital readings a card reads (each vital's latest and the one before it)."""
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


async def caseload_names(session: AsyncSession, *, nurse_id: int) -> list[tuple[int, str]]:
    """(id, display name) of a nurse's active patients: what the name matcher indexes."""
    query = (
        select(Patient.id, Patient.display_name)
        .where(Patient.nurse_id == nurse_id, Patient.status == PatientStatus.ACTIVE)
        .order_by(Patient.display_name, Patient.id)
    )
    return [(row.id, row.display_name) for row in (await session.execute(query)).all()]


async def get_patient(
    session: AsyncSession, *, patient_id: int, for_update: bool = False
) -> Patient | None:
    query = select(Patient).where(Patient.id == patient_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def open_tasks(session: AsyncSession, *, patient_id: int) -> list[Task]:
    query = (
        select(Task)
        .where(Task.patient_id == patient_id, Task.status == TaskStatus.OPEN)
        .order_by(Task.due_at, Task.id)
    )
    return list((await session.scalars(query)).all())


class ContactRow(NamedTuple):
    id: int
    at: datetime
    channel: str
    outcome: str
    with_whom: str
    note: str


class TaskRow(NamedTuple):
    id: int
    kind: TaskKind
    title: str
    due_at: datetime
    attempts_documented: bool


class AppointmentRow(NamedTuple):
    id: int
    at: datetime
    with_whom: str
    location: str
    status: str


class EpisodeRow(NamedTuple):
    id: int
    discharged_on: date
    facility: str
    complexity: str | None
    readmission: bool = False


class HospitalEventRow(NamedTuple):
    id: int
    day: date
    kind: str
    facility: str
    reason: str


class VitalRow(NamedTuple):
    id: int
    taken_at: datetime
    kind: VitalKind
    value: str
    unit: str


class MedRecRow(NamedTuple):
    id: int
    at: datetime
    discrepancies: int | None


class GoalRow(NamedTuple):
    id: int
    text: str
    target_on: date | None
    status: str
    outcome: str


class ReferralRow(NamedTuple):
    id: int
    to_whom: str
    sent_on: date
    status: str


@dataclass
class CardRows:
    """What a patient card reads, each list in the card's order."""

    last_reached: ContactRow | None = None
    open_tasks: list[TaskRow] = field(default_factory=list)
    next_appointment: AppointmentRow | None = None
    contacts: list[ContactRow] = field(default_factory=list)
    appointments: list[AppointmentRow] = field(default_factory=list)
    episodes: list[EpisodeRow] = field(default_factory=list)
    med_recs: list[MedRecRow] = field(default_factory=list)
    goals: list[GoalRow] = field(default_factory=list)
    referrals: list[ReferralRow] = field(default_factory=list)
    hospital_events: list[HospitalEventRow] = field(default_factory=list)
    vitals: list[VitalRow] = field(default_factory=list)


def _branch(
    kind: str,
    *,
    id_: Any,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    limit: int | BindParameter[int] | None = None,
    at: Any = None,
    on: Any = None,
    a: Any = None,
    b: Any = None,
    c: Any = None,
    d: Any = None,
    n: Any = None,
) -> Select[Any]:
    """One part of the card's UNION ALL: the same nine columns for every kind of row.

    Unused columns are typed NULLs (PostgreSQL needs one type per column across the parts);
    each part is ordered and limited inside its own subquery, which SQLite requires.
    """

    def text_or_null(value: Any) -> Any:
        return cast(null(), String) if value is None else type_coerce(value, String)

    part = select(
        literal(kind, String).label("kind"),
        (cast(null(), UTCDateTime) if at is None else at).label("at"),
        (cast(null(), Date) if on is None else on).label("on"),
        id_.label("id"),
        text_or_null(a).label("a"),
        text_or_null(b).label("b"),
        text_or_null(c).label("c"),
        text_or_null(d).label("d"),
        (cast(null(), Integer) if n is None else cast(n, Integer)).label("n"),
    )
    part = part.where(*where).order_by(*order_by)
    if limit is not None:
        part = part.limit(limit)
    inner = part.subquery(kind)
    return select(*inner.c)


@cache
def _card_statement() -> Select[Any]:
    """The card's UNION ALL, built once (bound parameters: patient_id, now, limit)."""
    patient_id = bindparam("patient_id", type_=Integer)
    now = bindparam("now", type_=UTCDateTime())
    limit = bindparam("limit", type_=Integer)
    contact_cols = {
        "id_": Contact.id,
        "at": Contact.occurred_at,
        "a": Contact.channel,
        "b": Contact.outcome,
        "c": Contact.with_whom,
        "d": Contact.note,
    }
    contact_order = (Contact.occurred_at.desc(), Contact.id.desc())
    live_contact = (Contact.patient_id == patient_id, Contact.undone_at.is_(None))
    appointment_cols = {
        "id_": Appointment.id,
        "at": Appointment.at,
        "a": Appointment.with_whom,
        "b": Appointment.location,
        "c": Appointment.status,
    }
    live_appointment = (Appointment.patient_id == patient_id, Appointment.undone_at.is_(None))
    parts = [
        _branch(
            "last",
            **contact_cols,
            where=(*live_contact, Contact.occurred_at <= now, Contact.outcome == Outcome.REACHED),
            order_by=contact_order,
            limit=1,
        ),
        _branch(
            "contact",
            **contact_cols,
            where=(*live_contact, Contact.occurred_at <= now),
            order_by=contact_order,
            limit=limit,
        ),
        _branch(
            "task",
            id_=Task.id,
            at=Task.due_at,
            a=Task.kind,
            b=Task.title,
            n=Task.attempts_documented,
            where=(Task.patient_id == patient_id, Task.status == TaskStatus.OPEN, is_work()),
            order_by=(Task.due_at, Task.id),
        ),
        _branch(
            "next",
            **appointment_cols,
            where=(
                *live_appointment,
                Appointment.status == AppointmentStatus.SCHEDULED,
                Appointment.at >= now,
            ),
            order_by=(Appointment.at, Appointment.id),
            limit=1,
        ),
        _branch(
            "appointment",
            **appointment_cols,
            where=(*live_appointment, Appointment.at <= now),
            order_by=(Appointment.at.desc(), Appointment.id.desc()),
            limit=limit,
        ),
        _branch(
            "episode",
            id_=Episode.id,
            on=Episode.discharged_on,
            a=Episode.facility,
            b=Episode.complexity,
            n=Episode.readmission,
            where=(Episode.patient_id == patient_id, Episode.undone_at.is_(None)),
            order_by=(Episode.discharged_on.desc(), Episode.id.desc()),
            limit=limit,
        ),
        _branch(
            "med_rec",
            id_=MedicationReconciliation.id,
            at=MedicationReconciliation.performed_at,
            n=MedicationReconciliation.discrepancies,
            where=(
                MedicationReconciliation.patient_id == patient_id,
                MedicationReconciliation.undone_at.is_(None),
                MedicationReconciliation.performed_at <= now,
            ),
            order_by=(
                MedicationReconciliation.performed_at.desc(),
                MedicationReconciliation.id.desc(),
            ),
            limit=limit,
        ),
        _branch(
            "hospital",
            id_=HospitalEvent.id,
            on=HospitalEvent.day,
            a=HospitalEvent.kind,
            b=HospitalEvent.facility,
            c=HospitalEvent.reason,
            where=(HospitalEvent.patient_id == patient_id, HospitalEvent.undone_at.is_(None)),
            order_by=(HospitalEvent.day.desc(), HospitalEvent.id.desc()),
            limit=limit,
        ),
        _branch(
            "vital",
            id_=Vital.id,
            at=Vital.taken_at,
            a=Vital.kind,
            b=Vital.value,
            c=Vital.unit,
            where=(Vital.patient_id == patient_id, Vital.undone_at.is_(None)),
            order_by=(Vital.taken_at.desc(), Vital.id.desc()),
            limit=VITALS_READ,
        ),
        _branch(
            "goal",
            id_=CareGoal.id,
            on=CareGoal.target_on,
            a=CareGoal.text,
            b=CareGoal.status,
            c=CareGoal.outcome,
            where=(CareGoal.patient_id == patient_id, CareGoal.status == GoalStatus.ACTIVE),
            order_by=(CareGoal.id,),
        ),
        _branch(
            "referral",
            id_=Referral.id,
            on=Referral.sent_on,
            a=Referral.to_whom,
            b=Referral.status,
            where=(Referral.patient_id == patient_id, Referral.status.in_(OPEN_REFERRAL)),
            order_by=(Referral.sent_on, Referral.id),
        ),
    ]
    both = union_all(*parts).subquery("card")
    return select(
        both.c.kind,
        type_coerce(both.c.at, UTCDateTime()),
        type_coerce(both.c.on, Date()),
        both.c.id,
        both.c.a,
        both.c.b,
        both.c.c,
        both.c.d,
        both.c.n,
    )


async def card_rows(
    session: AsyncSession, *, patient_id: int, now: datetime, limit: int
) -> CardRows:
    """Everything a patient card shows below its header, in one statement (one round trip).

    Index-backed parts joined by UNION ALL: the last reached contact up to ``now``, open
    tasks (her work, not appointment pushes), the next appointment, the ``limit`` most recent
    contacts, appointments, discharges, hospital events and med recs up to ``now``, the
    latest vitals (``VITALS_READ`` readings, for their trends), active goals and open
    referrals.
    """
    params = {"patient_id": patient_id, "now": now, "limit": limit}
    result = await session.execute(_card_statement(), params)
    rows = CardRows()
    for kind, at, on, id_, a, b, c, d, n in result.all():
        if kind in ("last", "contact"):
            contact = ContactRow(id_, at, a, b, c, d)
            if kind == "last":
                rows.last_reached = contact
            else:
                rows.contacts.append(contact)
        elif kind == "task":
            rows.open_tasks.append(TaskRow(id_, TaskKind(a), b, at, bool(n)))
        elif kind in ("next", "appointment"):
            appointment = AppointmentRow(id_, at, a, b, c)
            if kind == "next":
                rows.next_appointment = appointment
            else:
                rows.appointments.append(appointment)
        elif kind == "episode":
            rows.episodes.append(EpisodeRow(id_, on, a, b, bool(n)))
        elif kind == "hospital":
            rows.hospital_events.append(HospitalEventRow(id_, on, a, b or "", c or ""))
        elif kind == "vital":
            rows.vitals.append(VitalRow(id_, at, VitalKind(a), b, c or ""))
        elif kind == "med_rec":
            rows.med_recs.append(MedRecRow(id_, at, n))
        elif kind == "goal":
            rows.goals.append(GoalRow(id_, a, on, b, c or ""))
        elif kind == "referral":
            rows.referrals.append(ReferralRow(id_, a, on, b))
    # The union keeps no order across parts; the parts' own orders are restored here.
    rows.open_tasks.sort(key=lambda t: (t.due_at, t.id))
    rows.contacts.sort(key=lambda r: (r.at, r.id), reverse=True)
    rows.appointments.sort(key=lambda r: (r.at, r.id), reverse=True)
    rows.episodes.sort(key=lambda r: (r.discharged_on, r.id), reverse=True)
    rows.hospital_events.sort(key=lambda r: (r.day, r.id), reverse=True)
    rows.vitals.sort(key=lambda r: (r.taken_at, r.id), reverse=True)
    rows.med_recs.sort(key=lambda r: (r.at, r.id), reverse=True)
    rows.goals.sort(key=lambda g: (g.target_on or date.max, g.id))
    rows.referrals.sort(key=lambda r: (r.sent_on, r.id))
    return rows


async def teammates(session: AsyncSession, *, team_id: int, except_nurse_id: int) -> list[Nurse]:
    """The other active nurses of a team: who a patient may be transferred to."""
    query = (
        select(Nurse)
        .where(
            Nurse.team_id == team_id,
            Nurse.id != except_nurse_id,
            Nurse.active.is_(True),
            Nurse.revoked_at.is_(None),
        )
        .order_by(Nurse.display_name, Nurse.id)
    )
    return list((await session.scalars(query)).all())


async def get_nurse(session: AsyncSession, *, nurse_id: int) -> Nurse | None:
    return await session.get(Nurse, nurse_id)


async def cancel_open_tasks(session: AsyncSession, *, patient_id: int, now: datetime) -> list[int]:
    """Cancel a patient's open tasks (and their pending pushes); return the task ids."""
    ids = [t.id for t in await open_tasks(session, patient_id=patient_id)]
    if not ids:
        return ids
    await session.execute(
        update(Task).where(Task.id.in_(ids)).values(status=TaskStatus.CANCELLED, completed_at=now)
    )
    await session.execute(
        update(Delivery)
        .where(Delivery.task_id.in_(ids), Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED)
    )
    return ids


async def reassign_open_tasks(
    session: AsyncSession, *, patient_id: int, to_nurse_id: int
) -> list[int]:
    """Give a patient's open tasks (and their pending pushes) to another nurse."""
    ids = [t.id for t in await open_tasks(session, patient_id=patient_id)]
    if not ids:
        return ids
    await session.execute(update(Task).where(Task.id.in_(ids)).values(nurse_id=to_nurse_id))
    await session.execute(
        update(Delivery)
        .where(Delivery.task_id.in_(ids), Delivery.status == DeliveryStatus.PENDING)
        .values(nurse_id=to_nurse_id)
    )
    return ids

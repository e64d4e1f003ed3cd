"""A patient's card, read inside a transaction: header, her open work, the next appointment,
the latest vitals with their trends, the care plan and the recent timeline.

Must not import telegram or handlers.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.care import vitals as vital_rules
from bot.render.careplans import GoalLine, ReferralLine
from bot.render.patients import (
    AppointmentLine,
    ContactLine,
    DischargeLine,
    HospitalEventLine,
    MedRecLine,
    PatientCard,
    TimelineLine,
    VitalLine,
)
from bot.render.tasks import TaskLine
from storage import patients as repo
from storage.models import Patient

TIMELINE_LENGTH = 8


async def card(
    session: AsyncSession, patient: Patient, *, zone: ZoneInfo, now: datetime
) -> PatientCard:
    """Everything the card shows, in one statement (storage.patients.card_rows)."""
    pid = patient.id
    n = TIMELINE_LENGTH
    today = now.astimezone(zone).date()
    rows = await repo.card_rows(session, patient_id=pid, now=now, limit=n)
    timeline: list[tuple[datetime, int, TimelineLine]] = []
    for c in rows.contacts:
        timeline.append((c.at, c.id, _contact_line(c)))
    for a in rows.appointments:
        timeline.append((a.at, a.id, _appointment_line(a)))
    for e in rows.episodes:
        if e.discharged_on <= today:
            start = datetime.combine(e.discharged_on, time(0), tzinfo=zone)
            line = DischargeLine(
                on=e.discharged_on,
                facility=e.facility,
                complexity=e.complexity,
                readmission=e.readmission,
            )
            timeline.append((start, e.id, line))
    for h in rows.hospital_events:
        if h.day <= today:
            start = datetime.combine(h.day, time(0), tzinfo=zone)
            timeline.append((start, h.id, HospitalEventLine(h.day, h.kind, h.facility, h.reason)))
    for m in rows.med_recs:
        timeline.append((m.at, m.id, MedRecLine(m.at, m.discrepancies)))
    timeline.sort(key=lambda item: (item[0], item[1]), reverse=True)
    last, upcoming = rows.last_reached, rows.next_appointment
    return PatientCard(
        id=pid,
        name=patient.display_name,
        code=patient.code,
        risk=patient.risk.value,
        conditions=patient.conditions,
        mrn=patient.mrn,
        status=patient.status.value,
        last_reached=_contact_line(last) if last else None,
        open_tasks=tuple(
            TaskLine(t.id, t.kind, t.due_at, t.title, attempts_documented=t.attempts_documented)
            for t in rows.open_tasks
        ),
        next_appointment=_appointment_line(upcoming) if upcoming else None,
        timeline=tuple(item[2] for item in timeline[:n]),
        zone=str(zone.key),
        as_of=now,
        goals=tuple(GoalLine(g.text, g.target_on) for g in rows.goals),
        referrals=tuple(ReferralLine(r.to_whom, r.sent_on, r.status) for r in rows.referrals),
        admitted_since=patient.admitted_since,
        vitals=_vitals(rows.vitals),
    )


def _vitals(rows: list[repo.VitalRow]) -> tuple[VitalLine, ...]:
    readings = [vital_rules.Reading(v.kind, v.value, v.unit, v.taken_at) for v in rows]
    return tuple(
        VitalLine(
            kind=t.latest.kind,
            value=t.latest.value,
            unit=t.latest.unit,
            at=t.latest.taken_at,
            direction=t.direction,
            previous_value=None if t.previous is None else t.previous.value,
            previous_at=None if t.previous is None else t.previous.taken_at,
        )
        for t in vital_rules.trends(readings)
    )


def _contact_line(contact: repo.ContactRow) -> ContactLine:
    return ContactLine(
        contact.at, contact.channel, contact.outcome, contact.with_whom, contact.note
    )


def _appointment_line(appointment: repo.AppointmentRow) -> AppointmentLine:
    return AppointmentLine(
        appointment.at, appointment.with_whom, appointment.location, appointment.status
    )

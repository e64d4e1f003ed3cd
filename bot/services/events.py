"""Saving transitions of care inside a transaction: discharges (with their TCM tasks and the
readmission flag), admissions and ED visits (an admission pauses routine work until the
discharge), and medication reconciliations (which close the med-rec task).

Must not import telegram or handlers.
"""

from __future__ import annotations

from datetime import date, time

from bot import care
from bot.care import closing
from bot.services.saving import Logged, Saving, business_calendar, care_rules, line
from bot.services.worklist import apply_closing, refresh_patient
from bot.vocab import Complexity, HospitalEventKind, RecordKind, TaskKind
from storage import records as store
from storage.models import Episode, HospitalEvent, MedicationReconciliation, Patient

_NOON = time(12, 0)
"""When a med rec logged for an earlier day is taken to have happened."""


async def save_discharge(
    s: Saving,
    patient: Patient,
    *,
    discharged_on: date,
    facility: str,
    complexity: Complexity | None,
    note: str,
) -> Logged:
    """A discharge episode, its TCM contact, TCM visit and med-rec tasks; it ends an
    admission (routine work resumes) and is flagged a readmission within 30 days of another."""
    zone = s.zone
    was_admitted = patient.admitted_since is not None
    episode = Episode(
        patient_id=patient.id,
        nurse_id=s.nurse.id,
        facility=facility[:200],
        discharged_on=discharged_on,
        complexity=complexity,
        note=note,
        created_at=s.now,
    )
    await store.add_record(s.session, episode)
    specs = care.transition_tasks(
        discharged_on, complexity, zone, business_calendar(s.config), care_rules(s.config)
    )
    created = []
    for spec in specs:
        task = await store.add_task(
            s.session,
            nurse_id=s.nurse.id,
            patient_id=patient.id,
            kind=spec.kind,
            due_at=spec.due_at,
            window_start=spec.opens_at,
            remind_at=care.local_time_on(
                care.local_date(spec.due_at, zone), s.nurse.digest_time, zone
            ),
            episode_id=episode.id,
            origin_kind=RecordKind.EPISODE.value,
            origin_id=episode.id,
            now=s.now,
        )
        created.append(line(task, False))
    await refresh_patient(
        s.session, patient, readmission_days=s.config.care.readmission_days, reached=False
    )
    await s.link(RecordKind.EPISODE, episode.id)
    await s.audit(
        "discharge.logged",
        patient_id=patient.id,
        entity=RecordKind.EPISODE.value,
        entity_id=episode.id,
        detail={
            "tasks_created": [t.kind.value for t in created],
            "readmission": episode.readmission,
            "was_admitted": was_admitted,
        },
    )
    return Logged(
        kind=RecordKind.EPISODE,
        record_id=episode.id,
        patient_name=patient.display_name,
        patient_id=patient.id,
        day=discharged_on,
        place=facility or None,
        complexity=complexity,
        episode_id=episode.id,
        created=tuple(created),
        readmission=episode.readmission,
        resumed=was_admitted and patient.admitted_since is None,
    )


async def save_hospital_event(
    s: Saving,
    patient: Patient,
    *,
    kind: HospitalEventKind,
    day: date,
    facility: str,
    reason: str,
    note: str,
) -> Logged:
    """An admission (her routine follow-ups and check-ins wait until the discharge) or an ED
    visit."""
    event = HospitalEvent(
        patient_id=patient.id,
        nurse_id=s.nurse.id,
        kind=kind,
        day=day,
        facility=facility[:200],
        reason=reason[:200],
        note=note,
        created_at=s.now,
    )
    await store.add_record(s.session, event)
    prior = patient.admitted_since
    await refresh_patient(
        s.session, patient, readmission_days=s.config.care.readmission_days, reached=False
    )
    await s.link(RecordKind.HOSPITAL_EVENT, event.id)
    await s.audit(
        f"{kind.value}.logged",
        patient_id=patient.id,
        entity=RecordKind.HOSPITAL_EVENT.value,
        entity_id=event.id,
        detail={
            "kind": kind.value,
            "day": day.isoformat(),
            "prior_admitted_since": None if prior is None else prior.isoformat(),
        },
    )
    return Logged(
        kind=RecordKind.HOSPITAL_EVENT,
        record_id=event.id,
        patient_name=patient.display_name,
        patient_id=patient.id,
        day=day,
        place=facility or None,
        event=kind,
        reason=reason or None,
        paused=patient.admitted_since is not None,
    )


async def save_med_rec(
    s: Saving,
    patient: Patient,
    *,
    reconciled_on: date,
    discrepancies: int | None,
    note: str,
) -> Logged:
    """A medication reconciliation; it closes the patient's med-rec tasks whose window opened
    (late after the deadline)."""
    zone = s.zone
    today = care.local_date(s.now, zone)
    performed_at = (
        s.now if reconciled_on >= today else care.local_time_on(reconciled_on, _NOON, zone)
    )
    open_tasks = [
        t
        for t in await store.open_patient_tasks(
            s.session, patient_id=patient.id, kind=TaskKind.MED_REC
        )
        if t.window_start is None or t.window_start <= performed_at
    ]
    episode_id = next((t.episode_id for t in open_tasks if t.episode_id is not None), None)
    if episode_id is None:
        episode = await store.latest_episode(
            s.session, patient_id=patient.id, on_or_before=reconciled_on
        )
        episode_id = None if episode is None else episode.id
    med_rec = MedicationReconciliation(
        patient_id=patient.id,
        nurse_id=s.nurse.id,
        episode_id=episode_id,
        performed_at=performed_at,
        discrepancies=discrepancies,
        note=note,
        created_at=s.now,
    )
    await store.add_record(s.session, med_rec)
    applied = await apply_closing(
        s,
        patient,
        closing.MedRecLogged(med_rec.id, performed_at),
        kind=RecordKind.MED_REC,
        record_id=med_rec.id,
    )
    await s.link(RecordKind.MED_REC, med_rec.id)
    await s.audit(
        "med_rec.logged",
        patient_id=patient.id,
        entity=RecordKind.MED_REC.value,
        entity_id=med_rec.id,
        detail={"tasks_closed": [t.id for t in applied.closed], "episode_id": episode_id},
    )
    return Logged(
        kind=RecordKind.MED_REC,
        record_id=med_rec.id,
        patient_name=patient.display_name,
        patient_id=patient.id,
        day=reconciled_on,
        discrepancies=discrepancies,
        episode_id=episode_id,
        closed=applied.closed,
    )

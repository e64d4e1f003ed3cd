"""The morning digest's content, and its [Show all] (every line of a delivered digest).

`read_digest` gathers what a digest shows for one nurse and one local day, inside the caller's
unit of work: the dispatcher composes the pushed digest with it, and `digest_pages_for` (an
audited read) the full pages behind [Show all]. Must not import telegram or handlers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.care import BusinessCalendar, countdown_business_days, end_of_local_day, start_of_local_day
from bot.clock import Clock
from bot.config import Config
from bot.render import digest as render
from bot.services.records import business_calendar, care_rules
from bot.vocab import DeliveryKind, TaskKind
from storage import careplans as careplan_store
from storage import digest as digest_store
from storage import lists as list_store
from storage import queries as query_store
from storage.audit import record_audit
from storage.db import Database
from storage.models import Delivery, Nurse

# Rows read per digest list (what one message cannot hold is behind [Show all]): the due-today
# and overdue task lists, then the appointments and the deadlines.
DIGEST_TASKS = 200
DIGEST_ROWS = 100
# TCM/med-rec deadlines (with countdowns) and cadence check-ins have sections of their own and
# are not due-today lines; the overdue list leaves out only the cadence check-ins.
NOT_IN_TASK_LISTS = (*query_store.TCM_KINDS, TaskKind.CADENCE)


async def read_digest(
    session: AsyncSession,
    nurse: Nurse,
    now: datetime,
    config: Config,
    calendar: BusinessCalendar,
    *,
    scheduled_for: datetime | None = None,
) -> render.DigestData:
    """Read everything the digest shows for `nurse` on her local day of `scheduled_for`
    (default: of `now`)."""
    zone = ZoneInfo(nurse.timezone)
    day = (scheduled_for or now).astimezone(zone).date()
    start, end = start_of_local_day(day, zone), end_of_local_day(day, zone)
    end_excl = end + timedelta(microseconds=1)
    yesterday = day - timedelta(days=1)
    appointments = await query_store.appointments_between(
        session, nurse_id=nurse.id, start=start, end=end_excl, offset=0, limit=DIGEST_ROWS
    )
    # Due today: from now to the end of her day; overdue: past due now. Both her work only
    # (storage.worklist: no appointment pushes, no routine work of a patient in hospital).
    due_today = await query_store.tasks_due(
        session,
        nurse_id=nurse.id,
        start=max(start, now) if now < end_excl else start,
        end=end_excl,
        offset=0,
        limit=DIGEST_TASKS,
        except_kinds=NOT_IN_TASK_LISTS,
    )
    overdue = await query_store.tasks_due(
        session,
        nurse_id=nurse.id,
        start=None,
        end=min(now, end_excl),
        offset=0,
        limit=DIGEST_TASKS,
        except_kinds=(TaskKind.CADENCE,),
    )
    deadlines = await query_store.tasks_due(
        session,
        nurse_id=nurse.id,
        start=start,
        end=start + timedelta(days=31),
        offset=0,
        limit=DIGEST_ROWS,
        kinds=query_store.TCM_KINDS,
    )
    attempts = await list_store.tcm_attempts(session, task_ids=[t.id for t in deadlines.rows])
    readmissions = await digest_store.readmissions_since(
        session, nurse_id=nurse.id, since=day - timedelta(days=config.care.readmission_days)
    )
    days = dict(care_rules(config).cadence_days)
    gaps = await digest_store.past_cadence(session, nurse_id=nurse.id, now=now, cadence_days=days)
    # Yesterday's completion: the tasks due yesterday that existed when yesterday began.
    completion = await digest_store.completion_between(
        session,
        nurse_id=nurse.id,
        start=start_of_local_day(yesterday, zone),
        end=start,
        created_before=start_of_local_day(yesterday, zone),
    )
    goals = await careplan_store.goals_past_target(session, nurse_id=nurse.id, today=day)

    def task_person(t: query_store.TaskRow) -> render.Person | None:
        if t.patient_name is None or t.patient_initials is None or t.patient_code is None:
            return None
        return render.Person(t.patient_name, t.patient_initials, t.patient_code)

    return render.DigestData(
        local_day=day,
        zone=zone,
        privacy=nurse.privacy_mode or config.privacy.push_names,
        appointments=[
            (a.at, render.Person(a.patient_name, a.patient_initials, a.patient_code), a.with_whom)
            for a in appointments.rows
        ],
        due_today=[(t.kind, t.title, t.due_at, task_person(t)) for t in due_today.rows],
        overdue=[(t.kind, t.title, t.due_at, task_person(t)) for t in overdue.rows],
        due_today_total=due_today.total,
        overdue_total=overdue.total,
        deadlines=[
            (
                t.kind,
                t.due_at,
                task_person(t),
                countdown_business_days(max(now, start), t.due_at, zone, calendar),
                attempts.get(t.id, 0),
            )
            for t in deadlines.rows
        ],
        cadence=[
            (
                render.Person(g.patient.name, g.patient.initials, g.patient.code),
                g.risk,
                g.last_reached_at,
                days[g.risk],
            )
            for g in gaps
        ],
        yesterday_done=completion.done_on_time,
        yesterday_total=completion.total,
        readmissions=[
            (
                render.Person(r.patient.name, r.patient.initials, r.patient.code),
                r.discharged_on,
                r.facility,
            )
            for r in readmissions
        ],
        goals_past_target=[
            (render.Person(p.display_name, p.initials, p.code), g.text, g.target_on)
            for g, p in goals
            if g.target_on is not None
        ],
    )


async def digest_pages_for(
    db: Database, config: Config, clock: Clock, *, nurse_id: int, delivery_id: int
) -> list[str] | None:
    """The full digest of one of her digest deliveries, or None if it is not hers."""
    now = clock.now()
    async with db.uow() as session:
        delivery = await session.get(Delivery, delivery_id)
        nurse = await session.get(Nurse, nurse_id)
        if (
            delivery is None
            or nurse is None
            or delivery.kind != DeliveryKind.DIGEST
            or delivery.nurse_id != nurse_id
        ):
            return None
        data = await read_digest(
            session, nurse, now, config, business_calendar(config), scheduled_for=delivery.due_at
        )
        await record_audit(
            session,
            at=now,
            action="digest.viewed",
            actor_nurse_id=nurse_id,
            command="digest",
            entity="delivery",
            entity_id=delivery_id,
        )
    return render.render_digest_pages(data)

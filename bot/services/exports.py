"""Exports: a contact log as CSV (for pasting into the EHR), upcoming appointments as .ics.

`contacts_csv` and `appointments_ics` are pure builders; `export_contacts` and
`export_appointments` are the use cases (one transaction each, audited as "export.*"); the
`casebot export` command runs them on the server, where the privacy setting does not apply.
In the chat, files are sent only when the nurse's privacy setting is "full" (handlers check
`may_send_files`). Must not import telegram or handlers.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from bot.config import Config
from storage import people
from storage import queries as repo
from storage.audit import record_audit
from storage.db import Database

CSV_COLUMNS = (
    "contact_id",
    "patient",
    "mrn",
    "date",
    "time",
    "zone",
    "channel",
    "outcome",
    "with",
    "note",
)
ICS_PRODID = "-//casebot//appointments//EN"
UPCOMING_DAYS = 90
MAX_APPOINTMENTS = 2_000


def may_send_files(privacy_mode: str) -> bool:
    """Files name patients: they go into the chat only with the "full" privacy setting."""
    return privacy_mode == "full"


@dataclass(frozen=True)
class Export:
    filename: str
    content: bytes
    records: int


def contacts_csv(rows: Iterable[repo.ContactExportRow], zone: ZoneInfo) -> tuple[bytes, int]:
    """CSV text (UTF-8, header first); times in the nurse's zone, named in a column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        local = row.occurred_at.astimezone(zone)
        writer.writerow(
            (
                row.contact_id,
                row.patient_name,
                row.mrn or "",
                local.date().isoformat(),
                local.strftime("%H:%M"),
                zone.key,
                row.channel,
                row.outcome,
                row.with_whom,
                row.note,
            )
        )
        count += 1
    return buffer.getvalue().encode("utf-8"), count


def appointments_ics(
    rows: Sequence[repo.AppointmentRow], *, zone: ZoneInfo, now: datetime, domain: str = "casebot"
) -> bytes:
    """An iCalendar file: one VEVENT per appointment, stable UIDs, UTC times."""
    calendar = Calendar()
    calendar.add("prodid", ICS_PRODID)
    calendar.add("version", "2.0")
    for row in rows:
        event = Event()
        event.add("uid", f"appointment-{row.id}@{domain}")
        event.add("dtstamp", now)
        summary = f"{row.patient_name}: {row.with_whom}" if row.with_whom else row.patient_name
        event.add("summary", summary)
        if row.has_time:
            event.add("dtstart", row.at)
            event.add("dtend", row.at + timedelta(hours=1))
        else:
            day = row.at.astimezone(zone).date()
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
        if row.location:
            event.add("location", row.location)
        calendar.add_component(event)
    return bytes(calendar.to_ical())


async def export_contacts(
    db: Database,
    *,
    nurse_id: int,
    zone: ZoneInfo,
    now: datetime,
    patient_id: int | None = None,
    actor_nurse_id: int | None,
    command: str,
) -> Export | None:
    """A patient's (or the whole caseload's) contact log as CSV; None if not her patient."""
    async with db.uow() as session:
        if patient_id is not None:
            patient = await repo.patient_name(session, patient_id=patient_id)
            if patient is None or patient.nurse_id != nurse_id:
                return None
        rows = [
            r
            async for r in repo.iter_contact_log(
                session,
                nurse_id=None if patient_id is not None else nurse_id,
                patient_id=patient_id,
            )
        ]
        content, count = contacts_csv(rows, zone)
        await record_audit(
            session,
            at=now,
            action="export.contacts",
            actor_nurse_id=actor_nurse_id,
            command=command,
            patient_id=patient_id,
            entity="nurse",
            entity_id=nurse_id,
            detail={"records": count, "format": "csv"},
        )
    stamp = now.astimezone(zone).date().isoformat()
    name = f"contacts-patient-{patient_id}-{stamp}.csv" if patient_id else f"contacts-{stamp}.csv"
    return Export(filename=name, content=content, records=count)


async def export_appointments(
    db: Database,
    *,
    nurse_id: int,
    zone: ZoneInfo,
    now: datetime,
    actor_nurse_id: int | None,
    command: str,
    days: int = UPCOMING_DAYS,
) -> Export:
    """Her scheduled appointments of the next `days` days as an .ics calendar."""
    async with db.uow() as session:
        page = await repo.appointments_between(
            session,
            nurse_id=nurse_id,
            start=now,
            end=now + timedelta(days=days),
            offset=0,
            limit=MAX_APPOINTMENTS,
        )
        await record_audit(
            session,
            at=now,
            action="export.appointments",
            actor_nurse_id=actor_nurse_id,
            command=command,
            entity="nurse",
            entity_id=nurse_id,
            detail={"records": len(page.rows), "format": "ics"},
        )
    content = appointments_ics(page.rows, zone=zone, now=now)
    stamp = now.astimezone(zone).date().isoformat()
    return Export(filename=f"appointments-{stamp}.ics", content=content, records=len(page.rows))


# -- casebot export ---------------------------------------------------------------------------


def add_export_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``export`` on an argparse subparsers object; returns the new parser."""
    command: argparse.ArgumentParser = subparsers.add_parser(
        "export", help="write a nurse's contact log (CSV) or appointments (.ics) to a file"
    )
    who = command.add_mutually_exclusive_group(required=True)
    who.add_argument("--nurse-id", type=int, help="the nurse's casebot id")
    who.add_argument("--telegram-user-id", type=int, help="the nurse's Telegram user id")
    command.add_argument("--patient-id", type=int, help="only this patient's contacts")
    command.add_argument("--format", choices=("csv", "ics"), default="csv")
    command.add_argument("--out", type=Path, help="output file (default: stdout)")
    command.set_defaults(handler=run_export)
    return command


def run_export(args: argparse.Namespace, config: Config) -> int:
    """Write the export; 0 on success, 1 when the nurse or patient is not found."""
    return asyncio.run(_run_export(args, config))


async def _run_export(args: argparse.Namespace, config: Config) -> int:
    from bot.clock import SystemClock

    db = Database(config.database.url, audit_key=config.audit.key)
    try:
        now = SystemClock().now()
        async with db.uow(read_only=True) as session:
            nurse = await people.find_nurse(
                session, nurse_id=args.nurse_id, telegram_user_id=args.telegram_user_id
            )
        if nurse is None:
            print("export: no such nurse", file=sys.stderr)
            return 1
        zone = ZoneInfo(nurse.timezone)
        export: Export | None
        if args.format == "ics":
            export = await export_appointments(
                db, nurse_id=nurse.id, zone=zone, now=now, actor_nurse_id=None, command="cli"
            )
        else:
            export = await export_contacts(
                db,
                nurse_id=nurse.id,
                zone=zone,
                now=now,
                patient_id=args.patient_id,
                actor_nurse_id=None,
                command="cli",
            )
        if export is None:
            print("export: that patient is not in this nurse's caseload", file=sys.stderr)
            return 1
        if args.out is None:
            sys.stdout.buffer.write(export.content)
        else:
            args.out.write_bytes(export.content)
            print(f"export: {export.records} records written to {args.out}", file=sys.stderr)
        return 0
    finally:
        await db.dispose()

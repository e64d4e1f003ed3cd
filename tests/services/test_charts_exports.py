"""The /stats numbers (pure), the PNG, and exports that parse back to the same records."""

from __future__ import annotations

import argparse
import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from bot.care import BusinessCalendar, CareRules, HolidaySpec
from bot.config import Config
from bot.services import charts, exports
from bot.vocab import Channel, Outcome, Party, Role
from storage.db import Database
from storage.models import Contact, Nurse
from storage.patients import create_patient
from storage.queries import AppointmentRow, ContactExportRow

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 16, 15, tzinfo=UTC)  # Mon 10:15 Chicago


def ct(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) + timedelta(hours=6)


def test_chart_numbers_bucket_contacts_by_local_day() -> None:
    times = [
        ct(11, 23, 0, 30),  # today, local
        datetime(2026, 11, 23, 3, 0, tzinfo=UTC),  # 21:00 on Sun 22 Nov, local
        ct(11, 22, 9),
        datetime(2026, 10, 27, 9, 0, tzinfo=CHICAGO),  # first day of the window (CDT)
        datetime(2026, 10, 26, 23, 59, tzinfo=CHICAGO),  # the day before: outside
    ]
    numbers = charts.chart_numbers(
        times,
        now=NOW,
        zone=CHICAGO,
        done_on_time=5,
        done_late=2,
        risk_counts={"high": 3, "low": 1},
    )
    assert len(numbers.days) == 28
    assert numbers.days[0] == date(2026, 10, 27)
    assert numbers.days[-1] == date(2026, 11, 23)
    per_day = dict(zip(numbers.days, numbers.contacts_per_day, strict=True))
    assert per_day[date(2026, 11, 23)] == 1
    assert per_day[date(2026, 11, 22)] == 2
    assert per_day[date(2026, 10, 27)] == 1
    assert numbers.contacts_total == 4
    assert numbers.risk_counts == (("high", 3), ("medium", 0), ("low", 1))
    assert (numbers.done_on_time, numbers.done_late) == (5, 2)


def test_png_is_valid_and_has_no_text_we_did_not_give() -> None:
    numbers = charts.chart_numbers(
        [ct(11, 20)], now=NOW, zone=CHICAGO, done_on_time=1, done_late=0, risk_counts={}
    )
    png = charts.render_png(numbers)
    assert png.startswith(charts.PNG_SIGNATURE)
    assert b"IEND" in png[-16:]


def test_tcm_and_mrp_compliance() -> None:
    calendar = BusinessCalendar(HolidaySpec.from_config("US"))
    rules = CareRules()
    discharges = [
        # Fri 13 Nov: 2 business days -> Tue 17 Nov 23:59; reached Mon: met
        charts.Discharge(date(2026, 11, 13), "moderate", ct(11, 16, 9), ct(11, 20, 9)),
        # Mon 16 Nov: deadline Wed 18 Nov; reached Thu: missed; no med rec yet (window open)
        charts.Discharge(date(2026, 11, 16), "high", ct(11, 19, 9), None),
        # Fri 20 Nov: deadline Tue 24 Nov, not reached yet: still open, not counted
        charts.Discharge(date(2026, 11, 20), None, None, None),
        # 2 Sep: outside 30 days, inside 90; reached in time; med rec 40 days later: missed
        charts.Discharge(date(2026, 9, 2), "moderate", ct(9, 3, 9), ct(10, 12, 9)),
    ]
    tcm30 = charts.tcm_compliance(
        discharges, now=NOW, zone=CHICAGO, within_days=30, calendar=calendar, rules=rules
    )
    tcm90 = charts.tcm_compliance(
        discharges, now=NOW, zone=CHICAGO, within_days=90, calendar=calendar, rules=rules
    )
    assert tcm30 == (1, 2)
    assert tcm90 == (2, 3)
    assert charts.mrp_compliance(discharges, now=NOW, zone=CHICAGO, within_days=30) == (1, 1)
    assert charts.mrp_compliance(discharges, now=NOW, zone=CHICAGO, within_days=90) == (1, 2)


def test_csv_parses_back_to_the_same_records() -> None:
    rows = [
        ContactExportRow(
            1,
            10,
            "María López",
            "MRN-1",
            ct(11, 16, 9, 30),
            "phone",
            "reached",
            "patient",
            'said "fine", BP 120/80\nnext week',
        ),
        ContactExportRow(
            2, 11, "Tom, Jensen", None, ct(11, 19, 16), "voicemail", "attempted", "caregiver", ""
        ),
    ]
    content, count = exports.contacts_csv(rows, CHICAGO)
    assert count == 2
    back = list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))
    assert [
        (
            int(r["contact_id"]),
            r["patient"],
            r["mrn"] or None,
            r["date"],
            r["time"],
            r["zone"],
            r["channel"],
            r["outcome"],
            r["with"],
            r["note"],
        )
        for r in back
    ] == [
        (
            1,
            "María López",
            "MRN-1",
            "2026-11-16",
            "09:30",
            "America/Chicago",
            "phone",
            "reached",
            "patient",
            'said "fine", BP 120/80\nnext week',
        ),
        (
            2,
            "Tom, Jensen",
            None,
            "2026-11-19",
            "16:00",
            "America/Chicago",
            "voicemail",
            "attempted",
            "caregiver",
            "",
        ),
    ]


def test_ics_parses_back_to_the_same_appointments() -> None:
    rows = [
        AppointmentRow(
            5,
            ct(11, 26, 9),
            True,
            "Cardiology",
            "St Mary's, 3rd floor",
            10,
            "Ana Ruiz",
            "A.R.",
            "P5",
        ),
        AppointmentRow(6, ct(11, 27, 0), False, "", "", 11, "Bo Li", "B.L.", "P6"),
    ]
    calendar = icalendar.Calendar.from_ical(exports.appointments_ics(rows, zone=CHICAGO, now=NOW))
    events = list(calendar.walk("VEVENT"))
    assert [str(e["uid"]) for e in events] == ["appointment-5@casebot", "appointment-6@casebot"]
    assert [str(e["summary"]) for e in events] == ["Ana Ruiz: Cardiology", "Bo Li"]
    assert events[0].decoded("dtstart") == ct(11, 26, 9)
    assert str(events[0]["location"]) == "St Mary's, 3rd floor"
    assert events[1].decoded("dtstart") == date(2026, 11, 27)


def test_may_send_files_only_with_full_names() -> None:
    assert exports.may_send_files("full")
    assert not exports.may_send_files("initials")
    assert not exports.may_send_files("code")


async def test_casebot_export_writes_the_contact_log(
    sqlite_db: Database, tmp_path: Path, config: Config
) -> None:
    async with sqlite_db.uow() as session:
        nurse = Nurse(
            telegram_user_id=42,
            display_name="Ana RN",
            role=Role.NURSE,
            timezone="America/Chicago",
            digest_time=time(7, 30),
            enrolled_at=NOW,
        )
        session.add(nurse)
        await session.flush()
        patient = await create_patient(
            session, nurse_id=nurse.id, team_id=None, display_name="Maria Lopez", now=NOW
        )
        session.add(
            Contact(
                patient_id=patient.id,
                nurse_id=nurse.id,
                occurred_at=ct(11, 16, 9),
                channel=Channel.PHONE,
                outcome=Outcome.REACHED,
                with_whom=Party.PATIENT,
                note="ok",
                created_at=NOW,
            )
        )
        nurse_id = nurse.id
    out = tmp_path / "log.csv"
    args = argparse.Namespace(
        nurse_id=nurse_id, telegram_user_id=None, patient_id=None, format="csv", out=out
    )
    cfg = Config(**{**config.__dict__, "database": type(config.database)(url=sqlite_db.url)})
    assert await exports._run_export(args, cfg) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert [(r["patient"], r["date"], r["time"]) for r in rows] == [
        ("Maria Lopez", "2026-11-16", "09:00")
    ]
    missing = argparse.Namespace(
        nurse_id=999, telegram_user_id=None, patient_id=None, format="csv", out=out
    )
    assert await exports._run_export(missing, cfg) == 1


def test_pure_modules_import_neither_telegram_nor_storage() -> None:
    import ast
    import sys

    import bot.render.queries

    for module in (bot.render.queries, charts):
        tree = ast.parse(Path(module.__file__ or "").read_text("utf-8"))
        names = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {n for n in names if n.split(".")[0] in {"telegram", "storage", "handlers"}}
    charts.render_png(
        charts.chart_numbers([], now=NOW, zone=CHICAGO, done_on_time=0, done_late=0, risk_counts={})
    )
    assert "matplotlib.pyplot" not in sys.modules  # no global backend switch, no pyplot state

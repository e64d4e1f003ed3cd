"""The reply after a save names each new kind of record and what it closed, lapses included."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.render.records import summary
from bot.render.tasks import TaskLine
from bot.services.saving import Logged, VitalReading
from bot.vocab import (
    Channel,
    HospitalEventKind,
    Outcome,
    Party,
    RecordKind,
    TaskKind,
    TaskResolution,
    VitalKind,
)

ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 25, 16, tzinfo=UTC)


def test_a_late_tcm_contact_is_named_as_lapsed_and_others_as_closed() -> None:
    text = summary(
        Logged(
            RecordKind.CONTACT, 1, "Ana <Ruiz>", at=NOW, channel=Channel.PHONE,
            outcome=Outcome.REACHED, with_whom=Party.PATIENT,
            closed=(
                TaskLine(1, TaskKind.TCM_CONTACT, NOW, resolution=TaskResolution.LATE),
                TaskLine(2, TaskKind.FOLLOW_UP, NOW, resolution=TaskResolution.LATE),
            ),
        ),
        ZONE,
        NOW,
    )  # fmt: skip
    assert "Ana &lt;Ruiz&gt;" in text
    assert "Closed: TCM contact task (lapsed — contacted late)" in text
    assert "Closed: Follow-up task ✔" in text


def test_hospital_events_notes_tasks_and_readmissions() -> None:
    admission = Logged(
        RecordKind.HOSPITAL_EVENT, 1, "Ana", day=date(2026, 11, 25), place="Mercy",
        event=HospitalEventKind.ADMISSION, reason="CHF", paused=True,
    )  # fmt: skip
    assert summary(admission, ZONE, NOW).splitlines() == [
        "✅ <b>Saved</b>: admission of <b>Ana</b>.",
        "On: Wed 25 Nov, America/Chicago",
        "At: Mercy",
        "Why: CHF",
        "Routine follow-ups and check-ins wait until the discharge.",
    ]
    note = Logged(RecordKind.NOTE, 2, "Ana", vitals=(VitalReading(VitalKind.SPO2, "94", "%"),))
    assert "SpO2: 94 %" in summary(note, ZONE, NOW)
    readmitted = Logged(RecordKind.EPISODE, 3, "Ana", day=date(2026, 11, 25), readmission=True)
    assert "<b>Readmission</b>" in summary(readmitted, ZONE, NOW)
    own = Logged(
        RecordKind.TASK, 4, "", title="fax <orders>",
        created=(TaskLine(4, TaskKind.CUSTOM, NOW, has_time=True),),
    )  # fmt: skip
    assert summary(own, ZONE, NOW).splitlines()[0] == "✅ <b>Saved</b>: task: fax &lt;orders&gt;"
    on_file = Logged(RecordKind.APPOINTMENT, 5, "Ana", at=NOW, existing=True)
    assert summary(on_file, ZONE, NOW).startswith("Already on file: appointment for <b>Ana</b>")

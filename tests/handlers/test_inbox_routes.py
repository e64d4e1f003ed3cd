"""Which topic takes a message (handlers.inbox.route_of), as a table over real readings."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.parsing import Caseload, PatientRef, parse
from handlers.inbox import Route, reads_as_new, route_of

NOW = datetime(2026, 11, 23, 16, 15, tzinfo=UTC)  # Mon 23 Nov, 10:15 in Chicago
CASELOAD = Caseload(
    [
        PatientRef(1, "Tom Jensen"),
        PatientRef(2, "Ana Ruiz"),
        PatientRef(3, "Maria Lopez"),
        PatientRef(4, "Maria Santos"),
    ]
)


def _route(text: str) -> Route:
    reading = parse(
        text, now=NOW, zone=ZoneInfo("America/Chicago"), caseload=CASELOAD, date_order="MDY"
    )
    return route_of(reading, text)


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("spoke with Tom Jensen, f/u fri", Route.RECORDS),
        ("spoke with Tom Jensen, reached, made appt with cardio fri 12/4 at 10a", Route.RECORDS),
        ("called Tom Jensen nrtc", Route.RECORDS),  # unsure: read back
        ("remind me to fax orders fri", Route.RECORDS),
        ("Tom BP 150/90 wt 182", Route.RECORDS),
        ("Ana admitted to Mercy for CHF", Route.RECORDS),
        ("spoke with Tom Jensen", Route.ASK),  # the follow-up is asked
        ("contacted Tom Jensen, f/u tomorrow", Route.ASK),  # how is asked
        ("spoke with Maria, f/u tomorrow", Route.ASK),  # which Maria is asked
        ("spoke with Zelda Fitzgerald, f/u Fri", Route.LOOKUP),
        ("actually make that thursday", Route.CHANGE),
        ("cancel Ana's fri appt", Route.CHANGE),
        ("change Tom's appt to 10a", Route.CHANGE),
        ("scratch that", Route.CHANGE),
        ("who is overdue?", Route.QUERY),
        ("goal for Maria Lopez: walk daily", Route.CARE_PLAN),
        ("spoke with Tom Jensen, reached, referred him to cardiology", Route.RECORDS),
        ("hello there", Route.UNKNOWN),
    ],
)
def test_route_of(text: str, route: Route) -> None:
    assert _route(text) == route


@pytest.mark.parametrize(
    ("text", "new"),
    [
        ("Fri", False),
        ("in 2 weeks", False),
        ("daughter visits Sundays", False),
        ("Maria Lopez", False),
        ("who is overdue?", True),
        ("remind me to fax orders fri", True),
        ("Ana Ruiz d/c from Mercy today", True),
        ("scratch that", True),
    ],
)
def test_a_typed_answer_or_a_new_message(text: str, new: bool) -> None:
    reading = parse(
        text, now=NOW, zone=ZoneInfo("America/Chicago"), caseload=CASELOAD, date_order="MDY"
    )
    assert reads_as_new(reading, text) is new

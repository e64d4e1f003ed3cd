"""A push says "(overdue)" only when its task is past due and "sent late" only when the push
itself went out late: a table over the moments (due, planned, sent)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.render.reminders import ReminderFacts, masked_title, render_reminder

CHICAGO = ZoneInfo("America/Chicago")
NINE = datetime(2026, 11, 24, 9, 0, tzinfo=CHICAGO)
EVENING = datetime(2026, 11, 24, 23, 59, 59, 999999, tzinfo=CHICAGO)


def _facts(*, due: datetime, planned: datetime, sent: datetime) -> ReminderFacts:
    return ReminderFacts(
        kind="follow_up",
        title="",
        patient="M.L.",
        due_at=due,
        has_time=due == NINE,
        origin_channel=None,
        origin_at=None,
        appointment_at=None,
        appointment_with=None,
        scheduled_for=planned,
        sent_at=sent,
        repeat=False,
    )


S = timedelta(seconds=1)
M = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("due", "planned", "sent", "overdue", "late"),
    [
        pytest.param(EVENING, NINE, NINE + 3 * S, False, False, id="morning-reminder-of-a-day"),
        pytest.param(NINE, NINE, NINE + 3 * S, False, False, id="timed-task-on-the-minute"),
        pytest.param(NINE, NINE, NINE + 30 * M, True, True, id="timed-task-after-downtime"),
        pytest.param(EVENING, NINE, NINE + 30 * M, False, True, id="late-push-not-yet-due"),
        pytest.param(NINE, NINE + 60 * M, NINE + 60 * M, True, False, id="snoozed-past-due"),
        pytest.param(EVENING, NINE, NINE + 2 * M, False, False, id="within-the-grace"),
    ],
)
def test_overdue_and_late_say_only_what_is_true(
    due: datetime, planned: datetime, sent: datetime, overdue: bool, late: bool
) -> None:
    text = render_reminder(_facts(due=due, planned=planned, sent=sent), CHICAGO)
    assert ("(overdue)" in text) is overdue
    assert ("sent late" in text) is late


@pytest.mark.parametrize(
    ("title", "masked"),
    [
        ("call the pharmacy re grace's strips", "call the pharmacy re G.K.'s strips"),
        ("fax orders for Grace Kim", "fax orders for G.K."),
        ("ask KIM about her meter", "ask G.K. about her meter"),
        ("fax orders", "fax orders"),
        ("call kimberly's office", "call kimberly's office"),  # a word, not her name
    ],
)
def test_her_words_in_a_push_never_name_the_patient(title: str, masked: str) -> None:
    assert masked_title(title, "Grace Kim", "G.K.") == masked

"""One wording per term: a task kind reads the same in every view that shows a task.

Every view is rendered from its pure input, for one task of each kind; from each view's task
line the words naming the kind are cut out with that view's own layout, and they must be the
same everywhere, once per line. The tasks carry the titles earlier versions stored for the
tasks they made ("TCM interactive contact"), so a view that prints a repeating title next to
the kind fails here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import pytest

from bot import vocab
from bot.render import digest, labels, patients, queries, records, reminders
from bot.render.tasks import TaskLine
from bot.services.records import Logged
from bot.vocab import Complexity, RecordKind, TaskKind

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 10, 15, tzinfo=CHICAGO)  # Mon 23 Nov 2026
DUE = datetime(2026, 11, 27, 23, 59, 59, tzinfo=CHICAGO)  # Fri 27 Nov, the end of the day
NAME, INITIALS = "Bruno Diaz", "B.D."

# Titles earlier versions stored on the tasks they made: they only repeat the kind.
STORED_TITLES = {
    TaskKind.FOLLOW_UP: "Follow up",
    TaskKind.TCM_CONTACT: "TCM interactive contact",
    TaskKind.TCM_VISIT: "TCM face-to-face visit",
    TaskKind.MED_REC: "Medication reconciliation",
    TaskKind.APPOINTMENT_REMINDER: "Appointment reminder",
    TaskKind.ATTENDANCE_CHECK: "Attended?",
}
# Appointment reminders and attendance checks are pushes, not her work: they are in no list.
LIST_KINDS = [
    k for k in TaskKind if k not in (TaskKind.APPOINTMENT_REMINDER, TaskKind.ATTENDANCE_CHECK)
]


def task(kind: TaskKind) -> TaskLine:
    return TaskLine(
        7, kind, DUE, title=STORED_TITLES.get(kind, ""), patient_id=3, patient_name=NAME
    )


def summary_view(kind: TaskKind) -> tuple[str, str]:
    """The reply after logging a discharge that created the task."""
    logged = Logged(
        kind=RecordKind.EPISODE,
        record_id=1,
        patient_name=NAME,
        day=date(2026, 11, 22),
        complexity=Complexity.HIGH,
        created=(task(kind),),
    )
    return records.summary(logged, CHICAGO, NOW), r"^(?P<kind>.+?): (?:by )?Fri 27 Nov"


def card_view(kind: TaskKind) -> tuple[str, str]:
    card = patients.PatientCard(
        id=3,
        name=NAME,
        code="P-3BD",
        risk="high",
        conditions="CHF",
        mrn=None,
        status="active",
        last_reached=None,
        open_tasks=(task(kind),),
        next_appointment=None,
        timeline=(),
        zone=CHICAGO.key,
        as_of=NOW,
    )
    return patients.render_card(card), r"^• (?P<kind>.+?) — due Fri 27 Nov"


def list_view(kind: TaskKind) -> tuple[str, str]:
    """/today, /overdue and /week share the task line."""
    rendered = queries.task_list(
        [task(kind)], total=1, page=0, size=10, zone=CHICAGO, now=NOW, title="Week", empty=""
    )
    return rendered.text, rf"^1\. (?P<kind>.+?) · <b>{NAME}</b> · due Fri 27 Nov"


def digest_view(kind: TaskKind) -> tuple[str, str]:
    person = digest.Person(NAME, INITIALS, "P-3BD")
    data = digest.DigestData(
        local_day=NOW.date(),
        zone=CHICAGO,
        privacy="initials",
        appointments=(),
        due_today=(),
        overdue=[(kind, STORED_TITLES.get(kind, ""), DUE - timedelta(days=7), person)],
        deadlines=[(kind, DUE, person, 4, False)],
        cadence=(),
        yesterday_done=0,
        yesterday_total=0,
    )
    text, _cut = digest.render_digest(data)
    return text, rf"^• (?P<kind>.+?) {re.escape(INITIALS)}(?::| –)"


def reminder_view(kind: TaskKind) -> tuple[str, str]:
    facts = reminders.ReminderFacts(
        kind=kind,
        title=STORED_TITLES.get(kind, ""),
        patient=INITIALS,
        due_at=DUE,
        has_time=False,
        origin_channel=None,
        origin_at=None,
        appointment_at=None,
        appointment_with=None,
        scheduled_for=NOW,
        sent_at=NOW,
        repeat=False,
    )
    return reminders.render_reminder(facts, CHICAGO), rf"^⏰ <b>(?P<kind>.+?)</b>: {INITIALS}$"


VIEWS: dict[str, Callable[[TaskKind], tuple[str, str]]] = {
    "summary": summary_view,
    "card": card_view,
    "list": list_view,
    "digest": digest_view,
    "reminder": reminder_view,
}


def kind_words(text: str, pattern: str) -> list[str]:
    """The kind's words on every line of `text` that `pattern` (a view's task line) matches."""
    return [m["kind"] for m in re.finditer(pattern, text, re.MULTILINE)]


@pytest.mark.parametrize("kind", LIST_KINDS, ids=str)
def test_a_task_kind_reads_the_same_in_every_view_once_per_line(kind: TaskKind) -> None:
    seen: dict[str, list[str]] = {}
    for view, render in VIEWS.items():
        text, pattern = render(kind)
        words = kind_words(text, pattern)
        assert words, f"{view}: no task line in\n{text}"
        seen[view] = words
        for line in text.splitlines():
            if re.match(pattern, line):
                assert line.count(words[0]) == 1, f"{view}: kind named twice in {line!r}"
    wordings = {w for words in seen.values() for w in words}
    assert wordings == {labels.TASK_KIND[kind]}, seen


@pytest.mark.parametrize("kind", [TaskKind.APPOINTMENT_REMINDER, TaskKind.ATTENDANCE_CHECK])
def test_pushed_kinds_read_the_same_in_a_summary_and_a_push(kind: TaskKind) -> None:
    summary, summary_line = summary_view(kind)
    push, push_line = reminder_view(kind)
    assert kind_words(summary, summary_line) == kind_words(push, push_line)
    assert kind_words(push, push_line) == [labels.TASK_KIND[kind]]


def test_a_title_that_says_more_follows_the_kind_and_one_that_repeats_it_is_dropped() -> None:
    assert (
        labels.task_name(TaskKind.FOLLOW_UP, "call back re labs") == "Follow-up: call back re labs"
    )
    assert labels.task_name(TaskKind.FOLLOW_UP, "follow-up") == "Follow-up"
    assert labels.task_name(TaskKind.TCM_CONTACT, "TCM interactive contact") == "TCM contact"
    assert labels.task_name(TaskKind.TCM_CONTACT, "") == "TCM contact"
    assert (
        labels.task_name(TaskKind.CUSTOM, "<b>bring scale</b>")
        == "Task: &lt;b&gt;bring scale&lt;/b&gt;"
    )
    assert labels.task_name("retired_kind") == "Task"


TABLES: list[tuple[type[StrEnum], object]] = [
    (vocab.Role, labels.ROLE),
    (vocab.Risk, labels.RISK),
    (vocab.PatientStatus, labels.PATIENT_STATUS),
    (vocab.Channel, labels.CHANNEL),
    (vocab.Outcome, labels.OUTCOME),
    (vocab.Party, labels.PARTY),
    (vocab.Complexity, labels.COMPLEXITY),
    (vocab.AppointmentStatus, labels.APPOINTMENT_STATUS),
    (vocab.RecordKind, labels.RECORD_KIND),
    (vocab.TaskKind, labels.TASK_KIND),
    (vocab.GoalStatus, labels.GOAL_STATUS),
    (vocab.ReferralStatus, labels.REFERRAL_STATUS),
    (vocab.ResourceKind, labels.RESOURCE_KIND),
]


@pytest.mark.parametrize(("term", "table"), TABLES, ids=[term.__name__ for term, _ in TABLES])
def test_every_member_of_a_term_has_one_distinct_label(term: type[StrEnum], table: object) -> None:
    assert isinstance(table, type(labels.RISK))
    assert set(table) == set(term)
    assert len(set(table.values())) == len(table)


@pytest.mark.parametrize(
    ("text", "inline"),
    [
        ("Phone call", "phone call"),
        ("TCM contact", "TCM contact"),
        ("No-show", "no-show"),
        ("", ""),
    ],
)
def test_a_label_inside_a_sentence_keeps_abbreviations(text: str, inline: str) -> None:
    assert labels.inline(text) == inline

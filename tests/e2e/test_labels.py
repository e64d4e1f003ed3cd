"""One wording per task kind, end to end: /today, /week, /reminders, the card, the reminder
push, the morning digest and /overdue, through the real Application and the fake Telegram.

One open task of each kind a list shows, for seven patients; each carries the title earlier
versions stored ("TCM interactive contact"), so a view that prints a repeating title next to
its kind fails. From every message the words naming each task's kind are cut out with that
view's layout: they must be the kind's one label, once per line, in every view.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.render import labels
from bot.vocab import TaskKind, TaskStatus
from storage.models import Task
from tests.harness import Harness
from tests.reminder_support import CHICAGO, add_patient, nurse_row, run_pass

MONDAY = datetime(2026, 11, 23, 10, 15, tzinfo=CHICAGO)  # the harness clock's start
PATIENTS = {
    TaskKind.FOLLOW_UP: ("Alma Fisher", "A.F.", "Follow up"),
    TaskKind.TCM_CONTACT: ("Bruno Diaz", "B.D.", "TCM interactive contact"),
    TaskKind.TCM_VISIT: ("Carla Webb", "C.W.", "TCM face-to-face visit"),
    TaskKind.MED_REC: ("Dora Quinn", "D.Q.", "Medication reconciliation"),
    TaskKind.CADENCE: ("Elena Park", "E.P.", ""),
    TaskKind.REFERRAL: ("Farid Shah", "F.S.", ""),
    TaskKind.CUSTOM: ("Gina Holt", "G.H.", ""),
}
DUE = MONDAY.replace(hour=17, minute=0)
REMIND = MONDAY.replace(hour=16, minute=0)


@pytest.fixture
def clock() -> ManualClock:
    """MONDAY, whatever hour `--clock-at` moves other tests to: the tasks below are due at
    17:00 and reminded at 16:00 that day, and the lists are read before then."""
    return ManualClock(MONDAY)


def kind_words(text: str, pattern: str) -> list[str]:
    """The kind's words on each line of `text` that `pattern` matches; each line names its kind
    once."""
    found = []
    for line in text.splitlines():
        match = re.match(pattern, line)
        if match is not None:
            assert line.count(match["kind"]) == 1, line
            found.append(match["kind"])
    return found


async def test_each_task_kind_reads_the_same_in_every_list_card_push_and_digest(
    harness: Harness,
) -> None:
    h = harness
    ana = await h.enroll("Ana")
    nurse = await nurse_row(h, ana)
    for kind, (name, _initials, title) in PATIENTS.items():
        patient_id = await add_patient(h, ana, name)
        async with h.db.uow() as session:
            session.add(
                Task(
                    nurse_id=nurse.id, patient_id=patient_id, kind=kind, title=title,
                    due_at=DUE, has_time=True, remind_at=REMIND, status=TaskStatus.OPEN,
                    created_at=h.clock.now(),
                )
            )  # fmt: skip
    seen: dict[TaskKind, dict[str, list[str]]] = {kind: {} for kind in PATIENTS}

    def read(view: str, text: str, line: str) -> None:
        """Cut each kind's words out of `text`; `line` has {name} and {initials} slots."""
        for kind, (name, initials, _title) in PATIENTS.items():
            pattern = line.format(name=re.escape(name), initials=re.escape(initials))
            seen[kind].setdefault(view, []).extend(kind_words(text, pattern))

    list_line = r"^\d+\. (?:❗ )?(?P<kind>.+?) · {name} · (?:was )?due "

    async def read_list(command: str) -> None:
        """Every page of a list (six items a page)."""
        await h.send(ana, command)
        read(command, h.last_text(ana), list_line)
        while "Next" in h.fake.last_message(ana.id).button_labels:
            await h.press(ana, "Next")
            read(command, h.last_text(ana), list_line)

    await read_list("/today")
    await read_list("/week")
    await h.send(ana, "/reminders")
    read("/reminders", h.last_text(ana), r"^\d+\. Mon 23 Nov 16:00 – (?P<kind>.+?) {name}$")
    for kind, (name, _initials, _title) in PATIENTS.items():
        await h.send(ana, f"/patient {name}")
        seen[kind]["card"] = kind_words(h.last_text(ana), r"^• (?P<kind>.+?) — due Mon 23 Nov")

    h.clock.set(REMIND)
    await run_pass(h)
    pushes = "\n".join(m.text or "" for m in h.fake.sent_messages(ana.id) if "⏰" in (m.text or ""))
    read("push", pushes, r"^⏰ (?P<kind>.+?): {initials}$")

    h.clock.set(MONDAY.replace(hour=7, minute=30) + timedelta(days=1))
    await run_pass(h)
    [morning] = [
        m.text or "" for m in h.fake.sent_messages(ana.id) if "Good morning" in (m.text or "")
    ]
    read("digest", morning, r"^• (?P<kind>.+?) {initials}(?: – |: |$)")
    h.clock.set(MONDAY + timedelta(days=1))
    await read_list("/overdue")

    for kind, views in seen.items():
        expected = ["/today", "/week", "/reminders", "card", "push", "/overdue"]
        if kind != TaskKind.CADENCE:  # the digest shows check-ins as a section of their own
            expected.append("digest")
        assert sorted(view for view, words in views.items() if words) == sorted(expected), kind
        assert {w for words in views.values() for w in words} == {labels.TASK_KIND[kind]}, views

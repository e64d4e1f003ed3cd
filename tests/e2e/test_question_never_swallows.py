"""A question never swallows a record (issue 13): every conversation step that waits for typed
text (which patient, how, when, follow-up, note, outcome, intervention, a resource's details,
a card's field, a setting, an appointment's new time), sent a message that reads as a new fact
or a question, drops its question with one line saying so and handles the message as new."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.render import inbox as inbox_render
from bot.render import records as render
from bot.vocab import TaskKind
from storage import patients
from storage.models import Appointment, Contact, Nurse, Task
from tests.fakes.telegram import FakeUser
from tests.harness import Harness

DROPPED = (
    render.ENTRY_DROPPED,
    render.CHANGE_DROPPED,
    inbox_render.STEP_DROPPED,
    inbox_render.QUESTION_DROPPED,
)

# Each step: what gets her there (a message, or "press:<label>"), and what the bot then asks.
STEPS = {
    "records: which patient": (["/note"], "Which patient"),
    "records: how": (["contacted Tom Jensen, f/u tomorrow"], "How was the contact"),
    "records: when": (["/appt", "Tom Jensen appt with dermatology"], "When is the appointment"),
    "records: follow-up": (["spoke with Tom Jensen"], "Follow-up with"),
    "records: note": (["/note Tom Jensen"], "Type the note"),
    "records: change follow-up": (
        ["spoke with Tom Jensen, f/u fri", f"press:{render.CHANGE_FOLLOW_UP}"],
        "Follow-up",
    ),
    "records: add note": (
        ["spoke with Tom Jensen, f/u fri", f"press:{render.ADD_NOTE}"],
        "Type the note",
    ),
    "careplans: outcome": (
        ["goal for Maria: quit smoking", "/plan Maria", "press:1. Met"],
        "outcome",
    ),
    "careplans: intervention": (
        ["goal for Maria: A1c under 8 by March", "/plan Maria", "press:1. Add intervention"],
        "intervention",
    ),
    "careplans: progress note": (
        ["goal for Maria: A1c under 8 by March", "/plan Maria", "press:Add progress note"],
        "note",
    ),
    "careplans: resource name": (["/resources", "press:Add a resource"], "called"),
    "patients: which patient": (["/patient"], ""),
    "patients: new patient": (["/newpatient"], ""),
    "patients: conditions": (["/patient Maria Lopez", "press:Conditions"], ""),
    "patients: mrn": (["/patient Maria Lopez", "press:MRN"], ""),
    "settings: zone": (["/settings", "press:Time zone"], ""),
    "settings: digest time": (["/settings", "press:Morning digest time"], ""),
    "inbox: an appointment's new time": (
        ["Tom Jensen cardiology appt Dec 3 10:30am", f"press:{inbox_render.CHANGE_TIME}"],
        "new day or time",
    ),
}


@pytest.fixture
async def ana(harness: Harness) -> FakeUser:
    user = await harness.enroll("Ana")
    async with harness.db.uow() as session:
        nurse = await session.scalar(select(Nurse).where(Nurse.telegram_user_id == user.id))
        assert nurse is not None
        for name in ("Tom Jensen", "Maria Lopez"):
            await patients.create_patient(
                session, nurse_id=nurse.id, team_id=None, display_name=name,
                now=harness.clock.now(),
            )  # fmt: skip
    return user


async def _count(harness: Harness, model: type) -> int:
    async with harness.db.uow(read_only=True) as session:
        return len(list((await session.scalars(select(model))).all()))


async def _reach(harness: Harness, ana: FakeUser, actions: list[str], asked: str) -> None:
    for action in actions:
        if action.startswith("press:"):
            await harness.press(ana, action.removeprefix("press:"))
        else:
            await harness.send(ana, action)
    assert asked.lower() in harness.last_text(ana).lower()


def _said(calls: list) -> list[str]:  # type: ignore[type-arg]
    return [str(c.params.get("text")) for c in calls if c.method == "sendMessage"]


@pytest.mark.parametrize("step", list(STEPS))
async def test_a_new_record_is_not_taken_as_the_answer(
    harness: Harness, ana: FakeUser, step: str
) -> None:
    actions, asked = STEPS[step]
    await _reach(harness, ana, actions, asked)
    contacts, appointments = await _count(harness, Contact), await _count(harness, Appointment)

    calls = await harness.send(ana, "remind me to fax orders fri")
    said = _said(calls)
    if step == "records: follow-up":
        # The call she made waited only for its optional follow-up: saved without one, so
        # moving on loses nothing; her new message is still handled as new.
        assert said[0].startswith("✅ <b>Saved</b>: Phone call with <b>Tom Jensen</b>"), said
        assert said[1] == render.SAVED_WITHOUT_FOLLOW_UP, said
        contacts += 1
    else:
        assert said[0] in DROPPED, said
    assert "Saved: task: fax orders" in harness.last_text(ana)
    async with harness.db.uow(read_only=True) as session:
        tasks = (await session.scalars(select(Task).where(Task.kind == TaskKind.CUSTOM))).all()
        follow_ups = (
            await session.scalars(select(Task).where(Task.kind == TaskKind.FOLLOW_UP))
        ).all()
    assert [t.title for t in tasks] == ["fax orders"]
    # Nothing of the dropped question was saved with the new message as its answer.
    assert await _count(harness, Contact) == contacts
    assert await _count(harness, Appointment) == appointments
    assert all("fax" not in (t.title or "") for t in follow_ups)


@pytest.mark.parametrize(
    "step", ["records: when", "careplans: outcome", "patients: new patient", "settings: zone"]
)
async def test_a_question_is_answered_not_taken_as_the_answer(
    harness: Harness, ana: FakeUser, step: str
) -> None:
    actions, asked = STEPS[step]
    await _reach(harness, ana, actions, asked)
    calls = await harness.send(ana, "who is overdue?")
    said = _said(calls)
    assert said[0] in DROPPED, said
    assert harness.last_text(ana).startswith("Overdue")

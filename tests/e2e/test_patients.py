"""Patients end to end through the fake Telegram: register, find, card, edit, close, transfer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.render import patients as render
from bot.vocab import (
    AppointmentStatus,
    Channel,
    Outcome,
    Party,
    PatientStatus,
    Risk,
    TaskKind,
    TaskStatus,
)
from storage.models import (
    Appointment,
    AuditEvent,
    Contact,
    Episode,
    MedicationReconciliation,
    Nurse,
    Patient,
    Task,
)
from storage.patients import create_patient
from tests.fakes.telegram import Call, FakeUser
from tests.harness import Harness

# Chicago is UTC-6 in November: 16:00 UTC is 10:00 local.


def ct(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A time in November/December 2026, written in America/Chicago (UTC-6)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) + timedelta(hours=6)


async def nurse_of(harness: Harness, user: FakeUser) -> Nurse:
    async with harness.db.uow(read_only=True) as session:
        nurse = await session.scalar(select(Nurse).where(Nurse.telegram_user_id == user.id))
    assert nurse is not None
    return nurse


async def add(harness: Harness, user: FakeUser, name: str, **kwargs: Any) -> int:
    nurse = await nurse_of(harness, user)
    async with harness.db.uow() as session:
        patient = await create_patient(
            session,
            nurse_id=nurse.id,
            team_id=nurse.team_id,
            display_name=name,
            now=harness.clock.now(),
            **kwargs,
        )
        return patient.id


async def patients_named(harness: Harness, name: str) -> list[Patient]:
    async with harness.db.uow(read_only=True) as session:
        rows = await session.scalars(
            select(Patient).where(Patient.display_name == name).order_by(Patient.id)
        )
        return list(rows)


async def audit_rows(harness: Harness, action: str) -> list[AuditEvent]:
    async with harness.db.uow(read_only=True) as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return list(rows)


def answers(calls: list[Call]) -> list[str]:
    return [str(c.params.get("text", "")) for c in calls if c.method == "answerCallbackQuery"]


def callback_data(harness: Harness, user: FakeUser) -> list[str]:
    message = harness.fake.last_message(user.id)
    return [b.callback_data for b in message.buttons if b.callback_data is not None]


# -- registering ----------------------------------------------------------------------------


async def test_register_by_command_saves_and_shows_the_card(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    await harness.send(ana, "/newpatient Maria Lopez MRN 12345 high risk CHF, COPD")
    text = harness.last_text(ana)
    assert text.startswith("Saved. New patient added.")
    assert "Maria Lopez" in text
    assert "Risk: High" in text
    assert "MRN: 12345" in text
    assert "Conditions: CHF, COPD" in text
    assert "Times in America/Chicago" in text
    assert {"Risk", "Conditions", "MRN", "Close case", "Transfer"} <= set(
        harness.fake.last_message(ana.id).button_labels
    )
    [patient] = await patients_named(harness, "Maria Lopez")
    assert (patient.mrn, patient.risk, patient.conditions) == ("12345", Risk.HIGH, "CHF, COPD")
    assert patient.nurse_id == (await nurse_of(harness, ana)).id
    [created] = await audit_rows(harness, "patient.created")
    assert created.patient_id == patient.id
    assert created.detail["risk"] == "high"


async def test_register_step_by_step_defaults_to_medium_then_risk_buttons(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    await harness.send(ana, "/newpatient")
    assert "Who is the new patient?" in harness.last_text(ana)
    await harness.send(ana, "ana ruiz dx CHF")
    text = harness.last_text(ana)
    assert "Risk is medium for now" in text
    [patient] = await patients_named(harness, "Ana Ruiz")  # typed in lower case, saved as a name
    assert patient.risk is Risk.MEDIUM

    await harness.press(ana, "High risk")
    assert "Risk for Ana Ruiz: high (was medium). Saved." in harness.last_text(ana)
    [patient] = await patients_named(harness, "Ana Ruiz")
    assert patient.risk is Risk.HIGH
    [change] = await audit_rows(harness, "patient.risk_changed")
    assert change.detail == {"field": "risk", "before": "medium", "after": "high"}


async def test_a_duplicate_name_asks_before_adding_a_second_patient(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    await harness.send(ana, "/newpatient Maria Lopez")
    await harness.send(ana, "/newpatient maria lopez MRN 777")  # asked as it will be saved
    assert "You already have a patient named Maria Lopez" in harness.last_text(ana)
    assert len(await patients_named(harness, "Maria Lopez")) == 1
    assert not any("Maria" in data for data in callback_data(harness, ana))
    question = harness.fake.last_message(ana.id)
    add_anyway = next(b.callback_data for b in question.buttons if b.label == "Add anyway")

    await harness.press(ana, "Add anyway")
    assert harness.last_text(ana).startswith("Saved. New patient added.")
    twins = await patients_named(harness, "Maria Lopez")
    assert [p.mrn for p in twins] == [None, "777"]

    # the same offer cannot be used twice (a double tap, or a replayed update)
    update = harness.fake.callback_press(ana, question.message_id, "Risk")
    update["callback_query"]["data"] = add_anyway
    calls = await harness.fake._feed_and_collect(harness.app, update)
    assert answers(calls) == [render.OFFER_EXPIRED]
    assert len(await patients_named(harness, "Maria Lopez")) == 2


@pytest.mark.parametrize("text", ["/newpatient Maria Lopez MRN 4411", "new patient Maria Lopez"])
async def test_a_redelivered_new_patient_message_adds_no_second_patient(
    harness: Harness, text: str
) -> None:
    """Telegram sends a message again when our answer was lost (a crash, a timeout): the
    ledger knows it added Maria, so no twin question and no second row."""
    ana = await harness.enroll("Ana")
    update = harness.fake.private_text(ana, text)
    await harness.fake._feed_and_collect(harness.app, update)
    assert harness.last_text(ana).startswith("Saved. New patient added.")
    again = dict(update, update_id=update["update_id"] + 1000)
    await harness.fake._feed_and_collect(harness.app, again)
    reply = harness.last_text(ana)
    assert reply.startswith("That message was already saved; no second patient was added.")
    assert "Maria Lopez" in reply
    assert len(await patients_named(harness, "Maria Lopez")) == 1
    assert len(await audit_rows(harness, "patient.created")) == 1
    # A new message with the same name still asks before adding a twin.
    await harness.send(ana, text)
    assert "You already have a patient named" in harness.last_text(ana)


async def test_bad_new_patient_text_is_asked_again(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    await harness.send(ana, "/newpatient <b>?</b>")
    assert "I couldn't find a name in that" in harness.last_text(ana)
    await harness.send(ana, "/cancel")
    assert harness.last_text(ana) == "Cancelled. Nothing was changed."
    assert await patients_named(harness, "?") == []


# -- the card -------------------------------------------------------------------------------


async def build_history(harness: Harness, nurse_id: int, patient_id: int) -> None:
    now = harness.clock.now()
    async with harness.db.uow() as session:
        session.add_all(
            [
                Contact(
                    patient_id=patient_id,
                    nurse_id=nurse_id,
                    occurred_at=ct(11, 18, 14, 30),
                    channel=Channel.PHONE,
                    outcome=Outcome.REACHED,
                    with_whom=Party.PATIENT,
                    note="re insulin <dose>",
                    created_at=now,
                ),
                Contact(
                    patient_id=patient_id,
                    nurse_id=nurse_id,
                    occurred_at=ct(11, 20, 9),
                    channel=Channel.VOICEMAIL,
                    outcome=Outcome.ATTEMPTED,
                    with_whom=Party.PATIENT,
                    note="",
                    created_at=now,
                ),
                Contact(  # undone: not shown
                    patient_id=patient_id,
                    nurse_id=nurse_id,
                    occurred_at=ct(11, 21, 9),
                    channel=Channel.PHONE,
                    outcome=Outcome.REACHED,
                    note="typo",
                    created_at=now,
                    undone_at=now,
                ),
                Appointment(
                    patient_id=patient_id,
                    nurse_id=nurse_id,
                    at=ct(12, 3, 10, 30),
                    with_whom="cardiology",
                    location="Mercy",
                    created_at=now,
                ),
                Appointment(
                    patient_id=patient_id,
                    nurse_id=nurse_id,
                    at=ct(11, 16, 8),
                    with_whom="PCP",
                    status=AppointmentStatus.ATTENDED,
                    created_at=now,
                ),
                Episode(
                    patient_id=patient_id,
                    nurse_id=nurse_id,
                    facility="St Luke's",
                    discharged_on=date(2026, 11, 17),
                    created_at=now,
                ),
                MedicationReconciliation(
                    patient_id=patient_id,
                    nurse_id=nurse_id,
                    performed_at=ct(11, 19, 11),
                    discrepancies=2,
                    created_at=now,
                ),
                Task(
                    nurse_id=nurse_id,
                    patient_id=patient_id,
                    kind=TaskKind.FOLLOW_UP,
                    due_at=ct(11, 27, 23, 59),
                    created_at=now,
                ),
                Task(
                    nurse_id=nurse_id,
                    patient_id=patient_id,
                    kind=TaskKind.TCM_CONTACT,
                    due_at=ct(11, 19, 23, 59),
                    created_at=now,
                ),
                Task(
                    nurse_id=nurse_id,
                    patient_id=patient_id,
                    kind=TaskKind.MED_REC,
                    due_at=ct(11, 20, 23, 59),
                    status=TaskStatus.DONE,
                    created_at=now,
                ),
            ]
        )


async def test_the_card_shows_risk_mrn_last_contact_tasks_appointment_and_timeline(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    nurse = await nurse_of(harness, ana)
    pid = await add(
        harness, ana, "Maria Lopez", risk=Risk.HIGH, conditions=("CHF", "COPD"), mrn="12345"
    )
    await build_history(harness, nurse.id, pid)

    await harness.send(ana, "/patient Maria Lopez")
    message = harness.fake.last_message(ana.id)
    text = message.text or ""
    assert "Risk: High" in text
    assert "MRN: 12345" in text
    assert "Conditions: CHF, COPD" in text
    assert "Last reached: Wed 18 Nov 14:30 — Phone call, reached: re insulin <dose>" in text
    assert "re insulin &lt;dose&gt;" in (message.source or "")
    assert "Next appointment: Thu 3 Dec 10:30 — appointment with cardiology at Mercy" in text
    assert "Open tasks (2)" in text
    assert "TCM contact — due Thu 19 Nov 23:59 overdue" in text
    assert "Follow-up — due Fri 27 Nov 23:59" in text
    assert "Med rec — due" not in text  # done tasks are not open
    recent = text.split("Recent")[1].splitlines()[1:6]
    assert recent == [
        "• Fri 20 Nov 09:00 — Voicemail, attempted",
        "• Thu 19 Nov 11:00 — med rec, 2 discrepancies",
        "• Wed 18 Nov 14:30 — Phone call, reached: re insulin <dose>",
        "• Tue 17 Nov — discharged from St Luke's",
        "• Mon 16 Nov 08:00 — appointment with PCP (attended)",
    ]
    assert "typo" not in text
    assert "Times in America/Chicago" in text
    [viewed] = await audit_rows(harness, "patient.viewed")
    assert (viewed.patient_id, viewed.actor_nurse_id, viewed.command) == (pid, nurse.id, "patient")


async def test_names_match_with_typos_accents_case_and_unique_first_names(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    ids = {
        name: await add(harness, ana, name)
        for name in ("Maria Lopez", "Dorothy Chen", "Rosa Martínez", "Linda Nguyen")
    }
    for typed, expected in (
        ("Maria Lopes", "Maria Lopez"),
        ("dorothy", "Dorothy Chen"),
        ("Rosa Martinez", "Rosa Martínez"),
        ("LINDA NGUYEN", "Linda Nguyen"),
        ("linda nguyen's", "Linda Nguyen"),
    ):
        await harness.send(ana, f"/patient {typed}")
        assert harness.last_text(ana).startswith(expected), typed
    viewed = await audit_rows(harness, "patient.viewed")
    assert [e.patient_id for e in viewed] == [
        ids["Maria Lopez"],
        ids["Dorothy Chen"],
        ids["Rosa Martínez"],
        ids["Linda Nguyen"],
        ids["Linda Nguyen"],
    ]


async def test_an_ambiguous_name_gives_buttons_with_opaque_ids(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    await add(harness, ana, "Maria Lopez")
    garcia = await add(harness, ana, "Maria Garcia")
    await harness.send(ana, "/patient maria")
    assert "More than one patient matches “maria”" in harness.last_text(ana)
    labels = harness.fake.last_message(ana.id).button_labels
    assert {"Maria Lopez", "Maria Garcia"} <= set(labels)
    assert all(
        data.removeprefix("pt:card:").isdigit() or data == "pt:keep"
        for data in callback_data(harness, ana)
    )
    await harness.press(ana, "Maria Garcia")
    assert harness.last_text(ana).startswith("Maria Garcia")
    assert [e.patient_id for e in await audit_rows(harness, "patient.viewed")] == [garcia]
    assert len(await audit_rows(harness, "patient.searched")) == 1


async def test_no_match_offers_to_add_the_patient(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    await add(harness, ana, "Maria Lopez")
    await harness.send(ana, "/patient Bob Jones")
    assert harness.last_text(ana) == "I don't have Bob Jones in your caseload."
    assert harness.fake.last_message(ana.id).button_labels == [
        "Add Bob Jones as a new patient",
        "Cancel",
    ]
    assert not any("Bob" in data for data in callback_data(harness, ana))
    await harness.press(ana, "Add Bob Jones as a new patient")
    text = harness.last_text(ana)
    assert text.startswith("Saved. New patient added. Risk is medium for now")
    assert "Bob Jones" in text
    [bob] = await patients_named(harness, "Bob Jones")
    assert bob.risk is Risk.MEDIUM
    await harness.press(ana, "Low risk")
    [bob] = await patients_named(harness, "Bob Jones")
    assert bob.risk is Risk.LOW


async def test_no_match_then_cancel_adds_nothing(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    await harness.send(ana, "/patient <b>Eve</b>")
    assert "&lt;b&gt;Eve&lt;/b&gt;" in (harness.fake.last_message(ana.id).source or "")
    before = await harness.row_counts()
    await harness.press(ana, "Cancel")
    assert harness.last_text(ana) == "Cancelled. Nothing was changed."
    assert await harness.row_counts() == before


async def test_patient_without_a_name_asks_which_patient(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    await add(harness, ana, "Maria Lopez")
    await harness.send(ana, "/patient")
    assert harness.last_text(ana).startswith("Which patient?")
    await harness.send(ana, "maria lopez")
    assert harness.last_text(ana).startswith("Maria Lopez")


# -- edits ----------------------------------------------------------------------------------


async def test_edit_risk_conditions_and_mrn_keep_prior_values_in_the_audit(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    pid = await add(harness, ana, "Maria Lopez", conditions=("CHF",), mrn="111")
    await harness.send(ana, "/patient Maria Lopez")

    await harness.press(ana, "Risk")
    assert "Risk for Maria Lopez is medium. New risk?" in harness.last_text(ana)
    await harness.press(ana, "High")

    await harness.press(ana, "Conditions")
    assert "Conditions for Maria Lopez: CHF." in harness.last_text(ana)
    await harness.send(ana, "CHF, COPD; <i>DM</i>")
    reply = harness.fake.last_message(ana.id)
    assert "Conditions for Maria Lopez: CHF, COPD, <i>DM</i> (was CHF). Saved." in (
        reply.text or ""
    )
    assert "&lt;i&gt;DM&lt;/i&gt;" in (reply.source or "")

    await harness.press(ana, "MRN")
    await harness.send(ana, "12 34 !!")
    assert "That doesn't look like an MRN" in harness.last_text(ana)
    await harness.send(ana, "A-991")
    assert "MRN for Maria Lopez: A-991 (was 111). Saved." in harness.last_text(ana)

    async with harness.db.uow(read_only=True) as session:
        patient = await session.get(Patient, pid)
    assert patient is not None
    assert (patient.risk, patient.conditions, patient.mrn) == (
        Risk.HIGH,
        "CHF, COPD, <i>DM</i>",
        "A-991",
    )
    changes = [
        (e.action, e.detail["before"], e.detail["after"])
        for action in ("patient.risk_changed", "patient.conditions_changed", "patient.mrn_changed")
        for e in await audit_rows(harness, action)
    ]
    assert changes == [
        ("patient.risk_changed", "medium", "high"),
        ("patient.conditions_changed", "CHF", "CHF, COPD, <i>DM</i>"),
        ("patient.mrn_changed", "111", "A-991"),
    ]


async def test_cancel_an_edit_changes_nothing(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    await add(harness, ana, "Maria Lopez", mrn="111")
    await harness.send(ana, "/patient Maria Lopez")
    await harness.press(ana, "MRN")
    await harness.send(ana, "/cancel")
    assert harness.last_text(ana) == "Cancelled. Nothing was changed."
    [patient] = await patients_named(harness, "Maria Lopez")
    assert patient.mrn == "111"
    assert await audit_rows(harness, "patient.mrn_changed") == []


async def test_close_a_case_after_confirming(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    nurse = await nurse_of(harness, ana)
    pid = await add(harness, ana, "Maria Lopez")
    await build_history(harness, nurse.id, pid)
    await harness.send(ana, "/patient Maria Lopez")
    await harness.press(ana, "Close case")
    assert "Close the case of Maria Lopez? Its 2 open task(s) will be cancelled." in (
        harness.last_text(ana)
    )
    await harness.press(ana, "Yes, close the case")
    assert harness.last_text(ana) == "Case closed: Maria Lopez. 2 open task(s) cancelled. Saved."

    [patient] = await patients_named(harness, "Maria Lopez")
    assert patient.status is PatientStatus.CLOSED
    async with harness.db.uow(read_only=True) as session:
        statuses = list(await session.scalars(select(Task.status).where(Task.patient_id == pid)))
    assert TaskStatus.OPEN not in statuses
    [closed] = await audit_rows(harness, "patient.closed")
    assert closed.detail["before"] == "active"

    # it left the active caseload: /patient offers to add it again
    await harness.send(ana, "/patient Maria Lopez")
    assert harness.last_text(ana) == "I don't have Maria Lopez in your caseload."
    # and an old button of the closed case answers kindly
    calls = await harness.press(ana, "Risk")
    assert answers(calls) == ["That case is closed, so nothing was changed."]


# -- transfer and ownership -----------------------------------------------------------------


async def test_transfer_to_a_teammate_tells_both_and_moves_the_patient(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    bea = await harness.enroll("Bea")
    cid = await harness.enroll("Cid", team="Team B")
    ana_nurse, bea_nurse = await nurse_of(harness, ana), await nurse_of(harness, bea)
    pid = await add(harness, ana, "Maria Lopez")
    await build_history(harness, ana_nurse.id, pid)

    await harness.send(ana, "/patient Maria Lopez")
    await harness.press(ana, "Transfer")
    assert harness.last_text(ana) == "Transfer Maria Lopez to which nurse of your team?"
    labels = harness.fake.last_message(ana.id).button_labels
    assert labels == ["Bea RN", "Cancel"]  # not herself, not Cid of Team B
    assert cid.id != bea.id

    await harness.press(ana, "Bea RN")
    assert harness.last_text(ana) == (
        "Maria Lopez is now Bea RN's patient. 2 open task(s) went with the case. Saved."
    )
    told = harness.fake.last_message(bea.id)
    # the notice is a push: it names the patient as Bea's privacy setting says (initials)
    assert "Ana RN transferred a patient to you: M.L. with 2 open task(s)." in (told.text or "")
    async with harness.db.uow(read_only=True) as session:
        patient = await session.get(Patient, pid)
        owners = set(
            await session.scalars(
                select(Task.nurse_id).where(Task.patient_id == pid, Task.status == TaskStatus.OPEN)
            )
        )
    assert patient is not None
    assert patient.nurse_id == bea_nurse.id
    assert owners == {bea_nurse.id}
    [moved] = await audit_rows(harness, "patient.transferred")
    assert moved.detail["before"]["nurse_id"] == ana_nurse.id
    assert moved.detail["after"]["nurse_id"] == bea_nurse.id

    await harness.press(bea, "Open card")
    assert harness.last_text(bea).startswith("Maria Lopez")
    await harness.send(bea, "/patient maria")
    assert harness.last_text(bea).startswith("Maria Lopez")

    # Ana's old card buttons no longer reach the patient
    calls = await harness.press(ana, "Risk")
    assert answers(calls) == [render.NOT_YOURS]


async def test_a_forged_button_from_another_nurse_is_refused_and_audited(
    harness: Harness,
) -> None:
    ana = await harness.enroll("Ana")
    eve = await harness.enroll("Eve")
    pid = await add(harness, ana, "Maria Lopez")
    await harness.send(ana, "/patient Maria Lopez")
    card = harness.fake.last_message(ana.id)
    before = await harness.row_counts()

    for label in ("Close case", "Risk", "MRN", "Transfer"):
        update = harness.fake.callback_press(ana, card.message_id, label)
        update["callback_query"]["from"] = eve.to_api()
        calls = await harness.fake._feed_and_collect(harness.app, update)
        assert answers(calls) == [render.NOT_YOURS], label
        assert not [c for c in calls if c.method in {"sendMessage", "editMessageText"}]

    # a forged "set risk" or "transfer to me" with Ana's patient id
    eve_nurse = await nurse_of(harness, eve)
    for data in (f"pt:setrisk:{pid}:h", f"pt:xto:{pid}:{eve_nurse.id}", f"pt:closeok:{pid}"):
        update = harness.fake.callback_press(ana, card.message_id, "Risk")
        update["callback_query"]["from"] = eve.to_api()
        update["callback_query"]["data"] = data
        calls = await harness.fake._feed_and_collect(harness.app, update)
        assert answers(calls) == [render.NOT_YOURS], data

    assert await harness.row_counts() == before
    refused = await audit_rows(harness, "patient.access_refused")
    assert len(refused) == 7
    assert {e.actor_nurse_id for e in refused} == {eve_nurse.id}
    [patient] = await patients_named(harness, "Maria Lopez")
    assert (patient.status, patient.risk) == (PatientStatus.ACTIVE, Risk.MEDIUM)


async def test_unknown_or_malformed_patient_buttons_answer_kindly(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    await add(harness, ana, "Maria Lopez")
    await harness.send(ana, "/patient Maria Lopez")
    card = harness.fake.last_message(ana.id)
    for data in ("pt:card:999999", "pt:setrisk:x:h", "pt:old:1", "pt:xto:1"):
        update = harness.fake.callback_press(ana, card.message_id, "Risk")
        update["callback_query"]["data"] = data
        calls = await harness.fake._feed_and_collect(harness.app, update)
        assert answers(calls) == [render.STALE], data


async def test_reading_a_card_later_is_dated_by_the_clock(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    await add(harness, ana, "Maria Lopez")
    harness.clock.advance(timedelta(days=2))
    await harness.send(ana, "/patient Maria Lopez")
    [viewed] = await audit_rows(harness, "patient.viewed")
    assert viewed.at == harness.clock.now()


async def test_register_by_free_text_through_the_message_router(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    await harness.send(ana, "new patient Maria Lopez MRN 12345 high risk CHF, COPD")
    text = harness.last_text(ana)
    assert text.startswith("Saved. New patient added.")
    assert "MRN: 12345" in text
    [patient] = await patients_named(harness, "Maria Lopez")
    assert (patient.risk, patient.conditions) == (Risk.HIGH, "CHF, COPD")
    await harness.send(ana, "new patient Maria Lopez")
    assert "You already have a patient named Maria Lopez" in harness.last_text(ana)

"""Forged presses of record, care-plan, referral and attendance buttons (issue 14): each one,
whether it names another nurse's row, a row that does not exist, or carries data no button
could, is refused without a change and leaves a "press.refused" audit row; nothing raises."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.render import messages
from bot.render.callbacks import (
    Attendance,
    CallbackData,
    CloseGoal,
    EpisodeComplexity,
    GoalAction,
    MoveReferral,
    PatientChoice,
    PlanNote,
    RecordAction,
    ReferralChoice,
)
from storage.models import AuditEvent, CareGoal, Contact, Episode, Referral, Task
from tests.harness import Harness
from tests.reliability.test_faults import _forged
from tests.reminder_support import add_patient, nurse_row

FAMILIES: tuple[type[CallbackData], ...] = (
    RecordAction,
    EpisodeComplexity,
    Attendance,
    CloseGoal,
    GoalAction,
    PlanNote,
    MoveReferral,
    ReferralChoice,
    PatientChoice,
)


async def _refusals(h: Harness) -> list[tuple[str, str, dict[str, Any] | None]]:
    async with h.db.uow(read_only=True) as session:
        rows = await session.execute(
            select(AuditEvent.command, AuditEvent.entity, AuditEvent.detail)
            .where(AuditEvent.action == "press.refused")
            .order_by(AuditEvent.id)
        )
        return [(c, e, d) for c, e, d in rows]


async def _audit_count(h: Harness) -> int:
    async with h.db.uow(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


async def test_every_forged_press_of_a_record_plan_referral_or_attendance_button_is_audited(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    ana = await harness.enroll("Ana")
    bea = await harness.enroll("Bea")
    await add_patient(harness, ana, "Maria Lopez")
    stone = await add_patient(harness, bea, "Paul Stone")
    for text in (
        "spoke with Paul Stone re forge-1, f/u Fri",
        "goal for Paul Stone: walk daily",
        "referred Paul Stone to cardiology today",
        "Paul Stone d/c from Mercy today",
    ):
        await harness.send(bea, text)
    beas = await nurse_row(harness, bea)
    async with harness.db.uow(read_only=True) as session:

        async def first(model: Any) -> int:
            found = await session.scalar(
                select(model.id).where(model.nurse_id == beas.id).order_by(model.id)
            )
            assert found is not None, model
            return int(found)

        ids = {
            "patient_id": stone,
            "record_id": await first(Contact),
            "episode_id": await first(Episode),
            "task_id": await first(Task),
            "goal_id": await first(CareGoal),
            "referral_id": await first(Referral),
        }
    await harness.send(ana, "spoke with Maria Lopez re press-2, f/u Fri")
    before = await harness.row_counts()
    caplog.set_level(logging.ERROR)

    pressed = 0
    for family in FAMILIES:
        for data in _forged(family, ids):
            message = next(m for m in reversed(harness.fake.sent_messages(ana.id)) if m.buttons)
            forged = harness.fake.callback_press(ana, message.message_id, message.buttons[0].label)
            forged["callback_query"]["data"] = data
            audits = await _audit_count(harness)
            calls = await harness.fake._feed_and_collect(harness.app, forged)
            pressed += 1
            answers = [c for c in calls if c.method == "answerCallbackQuery"]
            assert len(answers) == 1, (data, [c.method for c in calls])
            said = [str(c.params.get("text", "")) for c in calls]
            assert not any(messages.ERROR_APOLOGY[:20] in t for t in said), (data, said)
            assert await _audit_count(harness) > audits, (data, "the forged press is audited")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "nothing raised"
    assert pressed > 60
    assert await harness.row_counts() == before, "no forged press changed anything"
    refusals = await _refusals(harness)
    reasons = {(detail or {}).get("reason") for _, _, detail in refusals}
    assert {"not_yours", "not_found", "malformed"} <= reasons, reasons
    entities = {
        entity for _, entity, detail in refusals if (detail or {}).get("reason") == "not_yours"
    }
    assert {"contact", "episode", "task", "goal", "referral", "patient"} <= entities, entities


async def test_her_own_presses_are_not_refused(harness: Harness) -> None:
    ana = await harness.enroll("Ana")
    await add_patient(harness, ana, "Maria Lopez")
    await harness.send(ana, "spoke with Maria Lopez re own-1, f/u Fri")
    await harness.press(ana, "Undo")
    assert await _refusals(harness) == []
    async with harness.db.uow(read_only=True) as session:
        contact = await session.scalar(select(Contact))
    assert contact is not None
    assert contact.undone_at is not None

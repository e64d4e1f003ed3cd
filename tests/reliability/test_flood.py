"""Per-nurse flood control: past the limit her messages are slowed down in order with one
"slow down" notice; one that would wait too long is refused with an explicit "NOT saved"."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.config import LimitsConfig
from bot.services.flood import NOT_SAVED, SLOW_DOWN, FloodControl, Verdict
from handlers.flood import EXTRAS_KEY, flood_control
from storage.models import Contact
from tests.reliability.conftest import HarnessFactory
from tests.reminder_support import add_patient


def test_admission_paces_a_burst_and_refuses_what_would_wait_too_long() -> None:
    now = [100.0]
    control = FloodControl(
        LimitsConfig(flood_messages=3, flood_window_seconds=10, flood_max_delay_seconds=25),
        monotonic=lambda: now[0],
    )
    burst = [control.admit(1) for _ in range(10)]
    assert [a.verdict for a in burst] == [Verdict.NOW] * 3 + [Verdict.WAIT] * 6 + [Verdict.REFUSE]
    assert [a.delay for a in burst[3:9]] == [10.0] * 3 + [20.0] * 3
    assert [a.notify for a in burst] == [False] * 3 + [True] + [False] * 6
    assert control.admit(2).verdict is Verdict.NOW, "another nurse is not affected"
    now[0] += 40  # a quiet window: a new burst gets a new notice
    again = [control.admit(1) for _ in range(4)]
    assert [a.verdict for a in again] == [Verdict.NOW] * 3 + [Verdict.WAIT]
    assert again[3].notify
    control.forget_idle()
    now[0] += 100
    control.forget_idle()
    assert not control._windows


async def test_a_flooding_nurse_is_slowed_in_order_and_told_what_was_not_saved(
    make_harness: HarnessFactory,
) -> None:
    env = {
        "CASEBOT_LIMITS_FLOOD_MESSAGES": "3",
        "CASEBOT_LIMITS_FLOOD_WINDOW_SECONDS": "10",
        "CASEBOT_LIMITS_FLOOD_MAX_DELAY_SECONDS": "25",
    }
    async with make_harness(**env) as h:
        ana = await h.enroll("Ana")
        await add_patient(h, ana, "Maria Lopez")
        waits: list[float] = []

        async def record_wait(seconds: float) -> None:
            waits.append(seconds)  # a burst: every message arrives at the same moment

        services = h.app.services
        services.extras[EXTRAS_KEY] = FloodControl(
            services.config.limits, monotonic=lambda: 1000.0, sleep=record_wait
        )
        assert flood_control(services) is services.extras[EXTRAS_KEY]
        replies = []
        for n in range(10):
            await h.send(ana, f"spoke with Maria Lopez re refill {n}, f/u Fri")
            replies.append([m.text or "" for m in h.fake.sent_messages(ana.id)][-1])
        texts = [m.text or "" for m in h.fake.sent_messages(ana.id)]
        assert texts.count(SLOW_DOWN) == 1
        assert waits == [10.0] * 3 + [20.0] * 3
        assert all("Saved" in r for r in replies[:9]), replies
        assert replies[9] == NOT_SAVED.replace("<b>", "").replace("</b>", "")
        async with h.db.uow(read_only=True) as session:
            saved = await session.scalar(select(func.count()).select_from(Contact))
            notes = list(await session.scalars(select(Contact.note).order_by(Contact.id)))
        assert saved == 9, "each message was saved, or she was told it was not"
        order = [next(i for i in range(10) if f"refill {i}" in (note or "")) for note in notes]
        assert order == list(range(9)), "in order"

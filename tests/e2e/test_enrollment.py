"""Enrollment and access through the fake Telegram, with the real Application."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.render import messages
from bot.services import enrollment
from bot.vocab import RedeemFailure, Role
from storage.models import Nurse
from tests.harness import Harness


async def test_nurse_enrolls_sets_zone_by_typing_a_city_and_gets_help(harness: Harness) -> None:
    user = harness.fake.user(first_name="Ana")
    code = await harness.invite(Role.NURSE, name="Ana Ruiz RN")

    await harness.send(user, f"/start {code}")
    assert "Welcome, Ana Ruiz RN" in harness.last_text(user)
    assert "Central" in harness.fake.last_message(user.id).button_labels

    await harness.send(user, "Denver")
    assert "America/Denver" in harness.last_text(user)
    assert "morning digest" in harness.last_text(user)

    await harness.send(user, "6:45am")
    assert "06:45" in harness.last_text(user)
    assert "What I understand" in harness.last_text(user)

    await harness.send(user, "/help")
    assert harness.last_text(user).startswith("What I understand")

    async with harness.db.uow(read_only=True) as session:
        nurse = await session.scalar(select(Nurse).where(Nurse.telegram_user_id == user.id))
    assert nurse is not None
    assert (nurse.timezone, nurse.digest_time.isoformat(), nurse.settings_done) == (
        "America/Denver",
        "06:45:00",
        True,
    )
    actions = await harness.audit_actions()
    assert actions[:2] == ["invite.created", "enroll.enrolled"]
    assert actions.count("settings.changed") == 2


async def test_an_unknown_zone_is_asked_again_kindly(harness: Harness) -> None:
    user = harness.fake.user(first_name="Bea")
    await harness.send(user, f"/start {await harness.invite()}")
    await harness.send(user, "Narnia <b>")
    reply = harness.fake.last_message(user.id)
    assert "I don't know the time zone" in (reply.text or "")
    assert "&lt;b&gt;" in (reply.source or "")  # the nurse's text is escaped
    await harness.press(user, "Pacific")
    assert "America/Los_Angeles" in harness.last_text(user)


async def test_strangers_get_one_refusal_and_only_an_audit_event_is_stored(
    harness: Harness,
) -> None:
    nurse = await harness.enroll("Ana")
    before = await harness.row_counts()
    stranger = harness.fake.user(first_name="Eve")

    update = harness.fake.private_text(stranger, "called Maria Lopez, f/u Friday")
    calls = await harness.fake._feed_and_collect(harness.app, update)
    assert [c.method for c in calls] == ["sendMessage"]
    assert harness.last_text(stranger) == messages.REFUSAL

    # What they send within the hour is counted, not answered or audited one by one.
    edit = harness.fake.edited_text(stranger, update["message"]["message_id"], "edited text")
    calls = await harness.fake._feed_and_collect(harness.app, edit)
    assert calls == []
    assert await harness.send(stranger, "/settings") == []
    assert harness.fake.sent_messages(stranger.id)[-1].text == messages.REFUSAL
    assert len(harness.fake.sent_messages(stranger.id)) == 1

    assert await harness.row_counts() == before
    actions = await harness.audit_actions()
    assert actions.count("access.refused") == 1
    assert nurse.id != stranger.id

    harness.clock.advance(timedelta(hours=1))  # an hour on: one refusal again, with the count
    await harness.send(stranger, "hello?")
    assert len(harness.fake.sent_messages(stranger.id)) == 2
    assert (await harness.audit_actions()).count("access.refused") == 2


async def test_a_strangers_button_press_is_refused(harness: Harness) -> None:
    nurse = await harness.enroll("Ana")
    await harness.send(nurse, "/settings")
    menu = harness.fake.last_message(nurse.id)
    stranger = harness.fake.user(first_name="Eve")
    before = await harness.row_counts()

    # The stranger replays the nurse's button (same callback_data) from her own chat.
    update = harness.fake.callback_press(nurse, menu.message_id, "Time zone")
    update["callback_query"]["from"] = stranger.to_api()
    calls = await harness.fake._feed_and_collect(harness.app, update)

    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert len(answers) == 1
    assert answers[0].params.get("text") == messages.REFUSAL
    assert not [c for c in calls if c.method in {"editMessageText", "sendMessage"}]
    assert await harness.row_counts() == before
    assert (await harness.audit_actions())[-1] == "access.refused"


async def test_used_and_expired_codes_are_refused(harness: Harness) -> None:
    code = await harness.invite()
    first = harness.fake.user(first_name="Ana")
    await harness.send(first, f"/start {code}")
    assert "Welcome" in harness.last_text(first)
    before = await harness.row_counts()

    second = harness.fake.user(first_name="Eve")
    await harness.send(second, f"/start {code}")
    assert harness.last_text(second) == messages.INVITE_INVALID

    expiring = await enrollment.create_invite(
        harness.db,
        harness.app.services.config,
        harness.clock,
        role=Role.NURSE,
        ttl=timedelta(hours=1),
    )
    before = await harness.row_counts()
    harness.clock.advance(timedelta(hours=2))
    late = harness.fake.user(first_name="Late")
    await harness.send(late, f"/start {expiring.code}")
    assert harness.last_text(late) == messages.INVITE_INVALID
    await harness.send(late, "/start not-a-code")
    assert harness.last_text(late) == messages.INVITE_INVALID

    assert await harness.row_counts() == before
    assert (await harness.audit_actions())[-4:] == [
        "enroll.refused",
        "invite.created",
        "enroll.refused",
        "enroll.refused",
    ]


async def test_bot_leaves_a_group_it_is_added_to(harness: Harness) -> None:
    nurse = await harness.enroll("Ana")
    before = await harness.row_counts()
    calls = await harness.fake._feed_and_collect(
        harness.app, harness.fake.group_added(nurse, -1001234567890)
    )
    assert "leaveChat" in [c.method for c in calls]
    assert await harness.row_counts() == before

    calls = await harness.fake._feed_and_collect(
        harness.app, harness.fake.group_text(nurse, -42, "called Maria Lopez")
    )
    assert "leaveChat" in [c.method for c in calls]


async def test_revoke_takes_effect_on_the_very_next_update(harness: Harness) -> None:
    nurse = await harness.enroll("Ana")
    await harness.send(nurse, "/help")
    assert "What I understand" in harness.last_text(nurse)

    assert (await enrollment.revoke(harness.db, harness.clock, telegram_user_id=nurse.id)).revoked
    await harness.send(nurse, "/help")
    assert harness.last_text(nurse) == messages.REFUSAL
    assert "enroll.revoked" in await harness.audit_actions()


async def test_set_my_commands_at_start(harness: Harness) -> None:
    calls = harness.fake.calls_of("setMyCommands")
    assert calls, "commands are registered when the bot starts"
    names = [c["command"] for c in _commands(calls[-1].params)]
    assert {"help", "settings", "cancel"} <= set(names)


def _commands(params: dict[str, object]) -> list[dict[str, str]]:
    import json

    raw = params["commands"]
    return json.loads(raw) if isinstance(raw, str) else raw  # type: ignore[return-value]


async def test_two_people_racing_for_one_code_cannot_both_enroll(harness: Harness) -> None:
    import asyncio

    code = await harness.invite()
    results = await asyncio.gather(
        *(
            enrollment.redeem_invite(
                harness.db,
                harness.app.services.config,
                harness.clock,
                code=code,
                telegram_user_id=800_000 + i,
                chat_id=800_000 + i,
                fallback_name=f"R{i}",
            )
            for i in range(6)
        )
    )
    winners = [r for r in results if not isinstance(r, RedeemFailure)]
    assert len(winners) == 1
    async with harness.db.uow(read_only=True) as session:
        from sqlalchemy import func

        enrolled = await session.scalar(
            select(func.count()).select_from(Nurse).where(Nurse.telegram_user_id >= 800_000)
        )
    assert enrolled == 1


async def test_channel_posts_are_refused_and_the_bot_leaves(harness: Harness) -> None:
    before = await harness.row_counts()
    calls = await harness.fake._feed_and_collect(
        harness.app, harness.fake.channel_post(-1009876543210, "Maria Lopez discharged")
    )
    assert "leaveChat" in [c.method for c in calls]
    assert await harness.row_counts() == before

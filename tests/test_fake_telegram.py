"""Proves the fake Telegram with a bare PTB echo bot, in process and over loopback HTTP.

The bot here is not casebot: /start answers with a keyboard, text is echoed, a button press is
answered and the message edited. What is under test is that the real PTB Application, through its
normal request path, sees what the Bot API would show it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_html import EntityParseError, parse_html

EchoApp = Application[Any, Any, Any, Any, Any, Any]


async def start(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet and offer two buttons."""
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Yes", callback_data="yes")],
            [InlineKeyboardButton("No", callback_data="no")],
        ]
    )
    await update.effective_message.reply_text(
        "<b>Hello</b> &amp; welcome", parse_mode="HTML", reply_markup=keyboard
    )


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back."""
    assert update.effective_message is not None
    assert update.effective_message.text is not None
    await update.effective_message.reply_text(update.effective_message.text)


async def choose(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and replace the keyboard with the choice."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"You chose {query.data}")


def add_echo_handlers(app: EchoApp) -> None:
    """The echo bot's handlers."""
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(choose))


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def app(fake: FakeTelegram) -> AsyncIterator[EchoApp]:
    application = (
        ApplicationBuilder()
        .token(fake.token)
        .request(fake.request())
        .get_updates_request(fake.request())
        .build()
    )
    add_echo_handlers(application)
    async with application:
        yield application


async def until(condition: Callable[[], bool], *, within: float = 5.0) -> None:
    """Poll `condition` until it holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.01)


async def running(application: EchoApp, body: Callable[[], Awaitable[None]]) -> None:
    """Run `body` while the application polls, then stop everything in order."""
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        await body()
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


# ---------------------------------------------------------------------- in process


async def test_get_me_identifies_the_test_bot(app: EchoApp, fake: FakeTelegram) -> None:
    assert app.bot.username == "casebot_test_bot"
    assert [call.method for call in fake.calls] == ["getMe"]


async def test_start_replies_with_html_and_a_keyboard(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user(first_name="Ana")

    calls = await fake.send_text(app, nurse, "/start")

    assert [call.method for call in calls] == ["sendMessage"]
    reply = fake.last_message(nurse.id)
    assert reply.text == "Hello & welcome"
    assert reply.source == "<b>Hello</b> &amp; welcome"
    assert reply.entities == [{"type": "bold", "offset": 0, "length": 5}]
    assert reply.button_labels == ["Yes", "No"]
    assert reply.message_id == 2  # the nurse's /start was message 1 in this chat


def test_private_text_marks_commands_like_telegram(fake: FakeTelegram) -> None:
    nurse = fake.user()

    update = fake.private_text(nurse, "/start@casebot_test_bot now")

    message = update["message"]
    assert message["chat"]["type"] == "private"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 23}]


async def test_text_is_echoed(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()

    calls = await fake.send_text(app, nurse, "called Mrs K, 10 min")

    assert [call.params["text"] for call in calls] == ["called Mrs K, 10 min"]
    assert calls[0].params["chat_id"] == nurse.id


async def test_press_answers_and_edits_away_the_keyboard(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()
    await fake.send_text(app, nurse, "/start")

    calls = await fake.press(app, nurse, "No")

    assert [call.method for call in calls] == ["answerCallbackQuery", "editMessageText"]
    edited = fake.last_message(nurse.id)
    assert edited.text == "You chose no"
    assert edited.reply_markup is None  # an edit that does not resend a keyboard drops it
    assert len(edited.edits) == 1
    assert edited.edit_date is not None


async def test_press_names_the_labels_when_none_matches(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()
    await fake.send_text(app, nurse, "/start")

    with pytest.raises(AssertionError, match=r"'Yes', 'No'"):
        await fake.press(app, nurse, "Maybe")


async def test_message_ids_increase_per_chat(app: EchoApp, fake: FakeTelegram) -> None:
    ana, ben = fake.user(first_name="Ana"), fake.user(first_name="Ben")

    await fake.send_text(app, ana, "one")
    await fake.send_text(app, ana, "two")
    await fake.send_text(app, ben, "three")

    assert [m.message_id for m in fake.sent_messages(ana.id)] == [2, 4]
    assert [m.message_id for m in fake.sent_messages(ben.id)] == [2]
    assert len(fake.calls_of("sendMessage")) == 3


# ---------------------------------------------------------------------- validation


async def test_text_longer_than_4096_is_refused(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()

    await app.bot.send_message(nurse.id, "x" * 4096)
    with pytest.raises(BadRequest, match="(?i)too long"):
        await app.bot.send_message(nurse.id, "x" * 4097)

    assert fake.calls[-1].error == "Bad Request: message is too long"
    assert len(fake.sent_messages(nurse.id)) == 1


async def test_html_length_is_counted_without_tags(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()

    sent = await app.bot.send_message(nurse.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")

    assert sent.text == "x" * 4096


@pytest.mark.parametrize(
    "html",
    ["<b>unclosed", "a < b", "fish & chips", "x > y", "<br>", "<span>s</span>", "<b><i>x</b></i>"],
)
async def test_malformed_html_is_refused(app: EchoApp, fake: FakeTelegram, html: str) -> None:
    nurse = fake.user()

    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await app.bot.send_message(nurse.id, html, parse_mode="HTML")


def test_html_parser_knows_telegrams_tags() -> None:
    parsed = parse_html(
        '<a href="https://x.org/?a=1&amp;b=2">link</a> <tg-spoiler>s</tg-spoiler> '
        '<pre><code class="language-python">1 &lt; 2</code></pre> <blockquote expandable>q'
        "</blockquote> &#x27;&quot;"
    )

    assert parsed.text == "link s 1 < 2 q '\""
    assert [entity["type"] for entity in parsed.entities] == [
        "text_link",
        "spoiler",
        "pre",
        "expandable_blockquote",
    ]
    assert parsed.entities[0]["url"] == "https://x.org/?a=1&b=2"
    assert parsed.entities[2]["language"] == "python"
    with pytest.raises(EntityParseError):
        parse_html("&nbsp;")


async def test_callback_data_over_64_bytes_is_refused(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()

    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data=data)]])

    await app.bot.send_message(nurse.id, "ok", reply_markup=keyboard("d" * 64))
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await app.bot.send_message(nurse.id, "too big", reply_markup=keyboard("d" * 65))


async def test_identical_edit_is_not_modified(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()
    sent = await app.bot.send_message(nurse.id, "same")

    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await app.bot.edit_message_text("same", chat_id=nurse.id, message_id=sent.message_id)


async def test_unknown_chat_and_blocked_user(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()
    fake.block(nurse)

    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await app.bot.send_message(424242, "hi")
    with pytest.raises(Forbidden, match="(?i)blocked"):
        await app.bot.send_message(nurse.id, "hi")


async def test_deleted_message_cannot_be_edited(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()
    sent = await app.bot.send_message(nurse.id, "to go")

    assert await app.bot.delete_message(nurse.id, sent.message_id)

    assert fake.sent_messages(nurse.id, include_deleted=True)[0].deleted
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await app.bot.edit_message_text("x", chat_id=nurse.id, message_id=sent.message_id)


async def test_unknown_method_is_not_found(app: EchoApp, fake: FakeTelegram) -> None:
    with pytest.raises(EndPointNotFound, match="sendTelepathy"):
        await app.bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})

    assert fake.calls[-1].error == "Not Found"


# ---------------------------------------------------------------------- faults and limits


async def test_injected_faults_surface_as_ptb_errors(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()
    fake.inject("sendMessage", "429", retry_after=3)
    fake.inject("sendMessage", "5xx")
    fake.inject("sendMessage", "timeout")
    fake.inject("sendMessage", "403")

    with pytest.raises(RetryAfter, match="(?i)Retry in 3"):
        await app.bot.send_message(nurse.id, "a")
    with pytest.raises(NetworkError, match="(?i)Bad Gateway") as bad_gateway:
        await app.bot.send_message(nurse.id, "b")
    with pytest.raises(TimedOut):
        await app.bot.send_message(nurse.id, "c")
    with pytest.raises(Forbidden, match="(?i)blocked"):
        await app.bot.send_message(nurse.id, "d")
    await app.bot.send_message(nurse.id, "e")

    assert not isinstance(bad_gateway.value, BadRequest)
    assert [m.text for m in fake.sent_messages(nurse.id)] == ["e"]
    assert fake.fault_counts == {"429": 1, "5xx": 1, "timeout": 1, "403": 1}
    assert [call.fault for call in fake.calls_of("sendMessage")] == [
        "429",
        "5xx",
        "timeout",
        "403",
        None,
    ]


async def test_timeout_after_delivery_stores_the_message(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()
    fake.inject("sendMessage", "timeout_after_delivery")

    with pytest.raises(TimedOut):
        await app.bot.send_message(nurse.id, "delivered anyway")

    assert fake.last_message(nurse.id).text == "delivered anyway"


async def test_random_faults_are_repeatable(fake: FakeTelegram) -> None:
    async def failures(seed: int) -> list[str | None]:
        chaos = FakeTelegram()
        nurse = chaos.user()
        chaos.fail_randomly(rate=0.3, kinds=("429", "5xx"), seed=seed)
        application = ApplicationBuilder().token(chaos.token).request(chaos.request()).build()
        async with application:
            for number in range(30):
                with contextlib.suppress(RetryAfter, NetworkError):
                    await application.bot.send_message(nurse.id, f"m{number}")
        return [call.fault for call in chaos.calls_of("sendMessage")]

    first, again = await failures(seed=7), await failures(seed=7)

    assert first == again
    assert 0 < sum(fault is not None for fault in first) < 30


async def test_rate_limits_answer_429_on_a_sliding_window(fake: FakeTelegram) -> None:
    now = [100.0]
    limited = FakeTelegram(monotonic=lambda: now[0])
    limited.enforce_rate_limits(global_per_sec=30, per_chat_per_sec=1)
    nurse = limited.user()
    application = ApplicationBuilder().token(limited.token).request(limited.request()).build()

    async with application:
        await application.bot.send_message(nurse.id, "first")
        with pytest.raises(RetryAfter):
            await application.bot.send_message(nurse.id, "too soon")
        now[0] += 1.0
        await application.bot.send_message(nurse.id, "later")

    assert limited.rate_limit_hits == 1
    assert [m.text for m in limited.sent_messages(nurse.id)] == ["first", "later"]


# ---------------------------------------------------------------------- other methods


async def test_get_updates_confirms_and_long_polls(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()
    first = fake.enqueue(fake.private_text(nurse, "one"))
    fake.enqueue(fake.private_text(nurse, "two"))

    fetched = await app.bot.get_updates()
    assert [u.message.text for u in fetched if u.message] == ["one", "two"]
    assert await app.bot.get_updates(offset=first["update_id"] + 1, limit=1) != []
    assert await app.bot.get_updates(offset=fetched[-1].update_id + 1) == ()

    waiting = asyncio.create_task(app.bot.get_updates(timeout=5))
    await until(lambda: fake.long_polls_waiting == 1)
    fake.enqueue(fake.private_text(nurse, "three"))
    started = time.monotonic()
    late = await waiting

    assert [u.message.text for u in late if u.message] == ["three"]
    assert time.monotonic() - started < 1.0


async def test_webhook_blocks_polling(app: EchoApp, fake: FakeTelegram) -> None:
    await app.bot.set_webhook("https://casebot.example/hook", secret_token="s3cret")

    assert (await app.bot.get_webhook_info()).url == "https://casebot.example/hook"
    with pytest.raises(Conflict, match="(?i)webhook is active"):
        await app.bot.get_updates()
    assert await app.bot.delete_webhook()
    assert await app.bot.get_updates() == ()


async def test_commands_are_stored(app: EchoApp, fake: FakeTelegram) -> None:
    await app.bot.set_my_commands([("start", "Begin"), ("due", "What is due today")])

    commands = await app.bot.get_my_commands()

    assert [(c.command, c.description) for c in commands] == [
        ("start", "Begin"),
        ("due", "What is due today"),
    ]
    assert await app.bot.delete_my_commands()
    assert await app.bot.get_my_commands() == ()


async def test_documents_keep_their_bytes(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()

    sent = await app.bot.send_document(
        nurse.id, InputFile(b"a,b\n1,2\n", filename="caseload.csv"), caption="Your caseload"
    )
    await app.bot.send_photo(nurse.id, b"\xff\xd8\xff\xe0jpeg")

    stored = fake.sent_messages(nurse.id)
    assert stored[0].document is not None
    assert stored[0].document.filename == "caseload.csv"
    assert stored[0].document.content == b"a,b\n1,2\n"
    assert sent.document is not None
    assert sent.caption == "Your caseload"
    assert stored[1].photo is not None
    assert stored[1].photo.content == b"\xff\xd8\xff\xe0jpeg"


async def test_user_media_can_be_downloaded(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()
    update = Update.de_json(fake.voice_message(nurse, content=b"OggS-voice"), app.bot)
    assert update.message is not None
    assert update.message.voice is not None

    voice_file = await app.bot.get_file(update.message.voice.file_id)

    assert bytes(await voice_file.download_as_bytearray()) == b"OggS-voice"


async def test_other_update_builders_parse(app: EchoApp, fake: FakeTelegram) -> None:
    nurse, colleague = fake.user(), fake.user(first_name="Cy")
    builders: list[Callable[[], dict[str, Any]]] = [
        lambda: fake.group_added(nurse, -1001234567890),
        lambda: fake.group_added_message(nurse, -1001234567890),
        lambda: fake.group_text(nurse, -1001234567890, "/due@casebot_test_bot"),
        lambda: fake.channel_post(-1009876543210, "announcement"),
        lambda: fake.forwarded_text(nurse, "from the GP", origin=colleague),
        lambda: fake.forwarded_text(nurse, "hidden"),
        lambda: fake.photo_message(nurse, caption="wound"),
        lambda: fake.document_message(nurse),
        lambda: fake.edited_text(
            nurse, fake.private_text(nurse, "typo")["message"]["message_id"], "fixed"
        ),
    ]

    updates = [Update.de_json(build(), app.bot) for build in builders]

    assert updates[0].my_chat_member is not None
    assert updates[0].my_chat_member.new_chat_member.status == "member"
    assert updates[1].message is not None
    assert updates[1].message.new_chat_members
    assert updates[2].effective_chat is not None
    assert updates[2].effective_chat.type == "supergroup"
    assert updates[3].channel_post is not None
    assert updates[4].message is not None
    assert updates[4].message.forward_origin is not None
    assert updates[6].message is not None
    assert updates[6].message.photo
    assert updates[7].message is not None
    assert updates[7].message.document is not None
    assert updates[8].edited_message is not None
    assert updates[8].edited_message.text == "fixed"
    for update in updates:
        await fake.feed(app, update.to_dict())


async def test_leave_chat_and_get_chat(app: EchoApp, fake: FakeTelegram) -> None:
    nurse = fake.user()
    fake.group_added(nurse, -555)

    chat = await app.bot.get_chat(-555)
    assert chat.type == "group"
    assert await app.bot.leave_chat(-555)
    with pytest.raises(Forbidden, match="(?i)not a member"):
        await app.bot.send_message(-555, "still here?")
    assert await app.bot.send_chat_action(nurse.id, "typing")


async def test_polling_in_process(fake: FakeTelegram) -> None:
    nurse = fake.user()
    application = (
        ApplicationBuilder()
        .token(fake.token)
        .request(fake.request())
        .get_updates_request(fake.request())
        .build()
    )
    add_echo_handlers(application)

    async def scenario() -> None:
        fake.enqueue(fake.private_text(nurse, "/start"))
        await until(lambda: bool(fake.sent_messages(nurse.id)))

    await running(application, scenario)

    assert fake.last_message(nurse.id).button_labels == ["Yes", "No"]
    assert fake.updates == []


# ---------------------------------------------------------------------- over HTTP


@pytest.fixture
async def http_fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.serve_http(timeout_delay=2.0)
    yield server
    await server.stop_http()


def http_app(fake: FakeTelegram, *, read_timeout: float = 5.0) -> EchoApp:
    """An echo bot on PTB's default HTTPXRequest, pointed at the fake's loopback server."""
    assert fake.http_base_url is not None
    assert fake.http_base_file_url is not None
    application = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.http_base_url)
        .base_file_url(fake.http_base_file_url)
        .read_timeout(read_timeout)
        .build()
    )
    add_echo_handlers(application)
    return application


async def test_polling_over_http_answers_start(http_fake: FakeTelegram) -> None:
    nurse = http_fake.user()
    application = http_app(http_fake)

    async def scenario() -> None:
        http_fake.enqueue(http_fake.private_text(nurse, "/start"))
        await until(lambda: bool(http_fake.sent_messages(nurse.id)))
        http_fake.enqueue(http_fake.private_text(nurse, "echo me"))
        await until(lambda: len(http_fake.sent_messages(nurse.id)) == 2)

    await running(application, scenario)

    assert [m.text for m in http_fake.sent_messages(nurse.id)] == [
        "Hello & welcome",
        "echo me",
    ]
    assert http_fake.updates == []  # the updater confirmed what it fetched
    assert {"getMe", "deleteWebhook", "getUpdates", "sendMessage"} <= {
        call.method for call in http_fake.calls
    }


async def test_http_uploads_faults_and_timeouts(http_fake: FakeTelegram) -> None:
    nurse = http_fake.user()
    application = http_app(http_fake, read_timeout=0.3)

    async with application:
        await application.bot.send_document(
            nurse.id, InputFile(b"report", filename="r.txt"), caption="<i>r</i>", parse_mode="HTML"
        )
        http_fake.inject("sendMessage", "429", retry_after=2)
        with pytest.raises(RetryAfter):
            await application.bot.send_message(nurse.id, "flood")
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await application.bot.send_message(nurse.id, "1 < 2", parse_mode="HTML")
        http_fake.inject("sendMessage", "timeout_after_delivery", delay=1.0)
        with pytest.raises(TimedOut):
            await application.bot.send_message(nurse.id, "slow")
        sent = await application.bot.send_message(nurse.id, "12345")

    document = http_fake.sent_messages(nurse.id)[0].document
    assert document is not None
    assert document.content == b"report"
    assert http_fake.sent_messages(nurse.id)[0].caption == "r"
    assert sent.text == "12345"  # a numeric text stays a string over HTTP forms
    assert [m.text for m in http_fake.sent_messages(nurse.id)[1:]] == ["slow", "12345"]

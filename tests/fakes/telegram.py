"""A fake Telegram Bot API that casebot's tests run the real PTB Application against.

`FakeTelegram` is the server's state: the bot's identity, chats and users, a message store with
per-chat message ids, the updates queue behind getUpdates, webhook and command settings, and a
record of every call. PTB reaches it through its normal request path, either in process
(`fake.request()`, a `BaseRequest`) or over HTTP on loopback (`await fake.serve_http()`). It
answers with the JSON the Bot API gives, checks what Telegram checks where casebot could get it
wrong (text length, HTML, callback_data size, no-op edits), and fails on demand (`inject`,
`fail_randomly`, `enforce_rate_limits`, `fail_file_downloads`). Files users send (photos,
documents, voice notes) are served by getFile and the file URL (`/file/bot<token>/<path>`),
both in process and over HTTP; `file_downloads` records the paths fetched.

Simulated users produce Update dicts (`private_text`, `callback_press`, ...) that are delivered
with `enqueue` (served by getUpdates) or `feed` (straight into `Application.process_update`)::

    fake = FakeTelegram()
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .request(fake.request())
        .get_updates_request(fake.request())
        .build()
    )
    async with app:
        nurse = fake.user(first_name="Ana")
        calls = await fake.send_text(app, nurse, "/start")
        assert fake.last_message(nurse.id).text == "Hello!"
        calls = await fake.press(app, nurse, "Done")

Test support only: imports telegram and the transports, never casebot's code.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from telegram import Update
from telegram.ext import Application

from tests.fakes.telegram_checks import (
    CHAT_ACTIONS,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    NOT_MODIFIED,
    ApiError,
    bad_request,
    command_entities,
    formatted_text,
    int_param,
    validated_commands,
    validated_markup,
)
from tests.fakes.telegram_faults import (
    FLOOD_LIMITED_METHODS,
    MESSAGE_METHODS,
    Fault,
    FaultKind,
    FaultPlan,
    RateLimiter,
)
from tests.fakes.telegram_objects import (
    JSON,
    Call,
    Edit,
    FakeChat,
    FakeUser,
    InlineButton,
    StoredMessage,
    UploadedFile,
)
from tests.fakes.telegram_transport import FakeBotApiHttpServer, FakeRequest, Reply

__all__ = [
    "ApiError",
    "Call",
    "FakeChat",
    "FakeRequest",
    "FakeTelegram",
    "FakeUser",
    "InlineButton",
    "StoredMessage",
    "UploadedFile",
]

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
Files = dict[str, UploadedFile]

#: Update types Telegram leaves out unless allowed_updates asks for them.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def _system_clock() -> datetime:
    return datetime.now(UTC)


class FakeTelegram:
    """The fake Bot API server: state, method implementations, recording, faults, users."""

    def __init__(
        self,
        *,
        bot_id: int = 7_000_000_001,
        username: str = "casebot_test_bot",
        first_name: str = "Casebot",
        clock: Callable[[], datetime] = _system_clock,
        monotonic: Callable[[], float] = time.monotonic,
        long_poll_cap: float = 1.0,
    ) -> None:
        self.bot = FakeUser(id=bot_id, first_name=first_name, username=username, is_bot=True)
        self.token = f"{bot_id}:AAFakeTokenForCasebotTests0123456789"
        self.long_poll_cap = long_poll_cap
        self.calls: list[Call] = []
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.updates: list[JSON] = []  # pending: not yet confirmed by a getUpdates offset
        self.webhook: JSON | None = None
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.faults = FaultPlan()
        self.rate_limit_hits = 0
        self.closed = False
        self.logged_out = False
        self._clock = clock
        self._monotonic = monotonic
        self._messages: dict[tuple[int, int], StoredMessage] = {}
        self._files: dict[str, UploadedFile] = {}
        self._files_by_path: dict[str, UploadedFile] = {}
        self.file_downloads: list[str] = []  # file paths fetched under /file/bot<token>/
        self._file_failures: list[int] = []
        self._open_queries: dict[str, StoredMessage] = {}
        self._rate_limiter: RateLimiter | None = None
        self._allowed_updates: frozenset[str] | None = None
        self._waiters: set[asyncio.Future[None]] = set()
        self._poller: object | None = None
        self._http: FakeBotApiHttpServer | None = None
        self._next_update_id = 1
        self._user_ids = itertools.count(100_001)
        self._file_numbers = itertools.count(1)
        self._query_numbers = itertools.count(1)
        handlers: dict[str, Callable[[JSON, Files], Any]] = {
            "getMe": self._get_me,
            "logOut": self._log_out,
            "close": self._close,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "leaveChat": self._leave_chat,
            "getChat": self._get_chat,
            "getFile": self._get_file,
        }
        # Telegram matches method names case-insensitively; calls are recorded canonically.
        self._methods = {name.lower(): handler for name, handler in handlers.items()}
        self._method_names = {name.lower(): name for name in [*handlers, "getUpdates"]}
        self.http_base_url: str | None = None
        self.http_base_file_url: str | None = None

    # ------------------------------------------------------------------ transports

    def request(self, *, read_timeout: float | None = 5.0) -> FakeRequest:
        """A PTB request object answering from this fake (one per Bot request slot)."""
        return FakeRequest(self, read_timeout=read_timeout)

    async def serve_http(
        self, host: str = "127.0.0.1", port: int = 0, *, timeout_delay: float = 6.0
    ) -> str:
        """Serve the Bot API over HTTP; return the base_url for ApplicationBuilder.base_url.

        `timeout_delay` is how long a "timeout" fault holds its answer: set it above the
        client's read timeout (PTB's default is 5 s; tests should configure a shorter one).
        """
        server = FakeBotApiHttpServer(self, timeout_delay=timeout_delay)
        bound_port = await server.start(host, port)
        self._http = server
        self.http_base_url = f"http://{host}:{bound_port}/bot"
        self.http_base_file_url = f"http://{host}:{bound_port}/file/bot"
        return self.http_base_url

    @asynccontextmanager
    async def http_server(
        self, host: str = "127.0.0.1", port: int = 0, *, timeout_delay: float = 6.0
    ) -> AsyncIterator[str]:
        """`serve_http` for the length of an `async with` block; yields the base_url."""
        base_url = await self.serve_http(host, port, timeout_delay=timeout_delay)
        try:
            yield base_url
        finally:
            await self.stop_http()

    async def stop_http(self) -> None:
        """Stop the HTTP server, ending long polls and held answers at once."""
        server, self._http = self._http, None
        self._wake_pollers()
        if server is not None:
            await server.stop()

    async def handle(self, url: str, params: JSON, files: Files) -> Reply:
        """Answer one request to `url`: record it, apply faults and limits, run the method."""
        target = self._target(url)
        if target is None:
            return _error_reply(ApiError(401, "Unauthorized"))
        kind, name = target
        if kind == "file":
            self.file_downloads.append(name)
            if self._file_failures:
                status = self._file_failures.pop(0)
                return _error_reply(ApiError(status, HTTPStatus(status).phrase))
            upload = self._files_by_path[name]
            return Reply(status=200, body=upload.content, content_type=upload.mime_type)
        method = self._method_names.get(name.lower(), name)
        plain_params: JSON = json.loads(json.dumps(params))
        call = Call(method=method, params=plain_params, at=self._now(), files=dict(files))
        self.calls.append(call)
        fault = self.faults.take(method)
        if fault is not None and fault.kind != "timeout_after_delivery":
            call.fault = fault.kind
            return _fault_reply(fault)
        limited = self._rate_limited(method, plain_params)
        if limited is not None:
            call.fault = "rate_limit"
            call.error = limited.description
            return _error_reply(limited)
        try:
            result = await self._dispatch(method, plain_params, files)
        except ApiError as error:
            call.error = error.description
            reply = _error_reply(error)
        else:
            call.result = result
            reply = Reply.with_json(200, {"ok": True, "result": result})
        if fault is not None:
            call.fault = fault.kind
            return replace(reply, timed_out=True, delay=fault.delay)
        return reply

    # ------------------------------------------------------------------ recording

    def calls_of(self, method: str) -> list[Call]:
        """Recorded calls of one method, in order."""
        return [call for call in self.calls if call.method == method]

    def clear_calls(self) -> None:
        """Forget the recorded calls (state such as messages stays)."""
        self.calls.clear()

    def sent_messages(
        self, chat_id: int | None = None, *, include_deleted: bool = False
    ) -> list[StoredMessage]:
        """Messages the bot sent (to one chat, or all), oldest first."""
        return [
            message
            for message in self._messages.values()
            if message.from_bot
            and (chat_id is None or message.chat_id == chat_id)
            and (include_deleted or not message.deleted)
        ]

    def last_message(self, chat_id: int) -> StoredMessage:
        """The bot's latest message in a chat that is not deleted; AssertionError if none."""
        sent = self.sent_messages(chat_id)
        if not sent:
            raise AssertionError(f"the bot has no message in chat {chat_id}")
        return sent[-1]

    @property
    def long_polls_waiting(self) -> int:
        """How many getUpdates calls are waiting for an update right now."""
        return len(self._waiters)

    def message(self, chat_id: int, message_id: int) -> StoredMessage:
        """Any stored message (the bot's or a user's); AssertionError if unknown."""
        try:
            return self._messages[(chat_id, message_id)]
        except KeyError:
            raise AssertionError(f"no message {message_id} in chat {chat_id}") from None

    # ------------------------------------------------------------------ faults and limits

    def inject(
        self,
        method: str | None,
        kind: FaultKind,
        *,
        retry_after: int = 1,
        times: int = 1,
        delay: float | None = None,
    ) -> None:
        """Fail the next `times` calls of `method` (None: any method) with a fault.

        Kinds: "429" (RetryAfter), "5xx" (502 Bad Gateway), "timeout" (nothing delivered, the
        client times out), "timeout_after_delivery" (delivered, yet the client times out),
        "403" (bot blocked), "409" (Conflict: another getUpdates poller with this token),
        "401" (Unauthorized: the token was revoked). `delay` overrides serve_http's
        timeout_delay in HTTP mode.
        """
        self.faults.inject(method, kind, retry_after=retry_after, times=times, delay=delay)

    def fail_file_downloads(self, status: int = 404, *, times: int = 1) -> None:
        """Answer the next `times` file downloads with HTTP `status` (404: the file is gone, as
        Telegram answers for an expired file_path; 5xx: a server fault)."""
        self._file_failures.extend([status] * times)

    def fail_randomly(
        self,
        *,
        rate: float,
        kinds: Iterable[FaultKind] = ("429", "5xx", "timeout"),
        seed: int = 0,
        methods: Iterable[str] = MESSAGE_METHODS,
    ) -> None:
        """Chaos: fail each call of `methods` with probability `rate` (seeded, repeatable)."""
        self.faults.fail_randomly(rate=rate, kinds=kinds, seed=seed, methods=frozenset(methods))

    @property
    def fault_counts(self) -> Counter[str]:
        """How many faults of each kind were handed out (injected or random)."""
        return self.faults.counts

    def enforce_rate_limits(
        self,
        *,
        global_per_sec: int = 30,
        per_chat_per_sec: int = 1,
        per_group_per_min: int | None = 20,
    ) -> None:
        """Answer 429 with retry_after when message sends exceed Telegram's flood limits."""
        self._rate_limiter = RateLimiter(
            global_per_sec=global_per_sec,
            per_chat_per_sec=per_chat_per_sec,
            per_group_per_min=per_group_per_min,
            monotonic=self._monotonic,
        )

    def block(self, user: FakeUser) -> None:
        """The user blocks the bot: sends to them answer 403 until `unblock`."""
        self._private_chat(user).blocked_by_user = True

    def unblock(self, user: FakeUser) -> None:
        """The user unblocks the bot."""
        self._private_chat(user).blocked_by_user = False

    # ------------------------------------------------------------------ simulated users

    def user(
        self,
        user_id: int | None = None,
        first_name: str = "Nurse",
        username: str | None = None,
        *,
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> FakeUser:
        """A Telegram user who has started a private chat with the bot."""
        user = FakeUser(
            id=next(self._user_ids) if user_id is None else user_id,
            first_name=first_name,
            username=username,
            last_name=last_name,
            language_code=language_code,
        )
        self.users[user.id] = user
        self._private_chat(user)
        return user

    def private_text(self, user: FakeUser, text: str) -> JSON:
        """A text message from `user` in their private chat (commands get bot_command)."""
        chat = self._private_chat(user)
        message = self._user_message(chat, user, text=text, entities=command_entities(text))
        return self._update("message", message.to_api(chat))

    def malformed_text(self, user: FakeUser, text: str) -> JSON:
        """A private text update the library cannot read: its message lacks the required
        `date` (as when a newer library requires a field an older Bot API server omits)."""
        update = self.private_text(user, text)
        del update["message"]["date"]
        return update

    def other_message(self, user: FakeUser, payload: JSON) -> JSON:
        """A private message of another kind: `payload` holds its content fields (a location,
        a contact card, dice...), or nothing at all."""
        chat = self._private_chat(user)
        message = self._user_message(chat, user, payload=payload)
        return self._update("message", message.to_api(chat))

    def edited_text(
        self, user: FakeUser, message_id: int, new_text: str, *, chat_id: int | None = None
    ) -> JSON:
        """`user` edits one of their own text messages."""
        chat = self.chats[user.id if chat_id is None else chat_id]
        message = self.message(chat.id, message_id)
        if message.from_bot or message.sender != user:
            raise AssertionError(f"message {message_id} in chat {chat.id} is not {user}'s")
        message.text = message.source = new_text
        message.entities = command_entities(new_text)
        message.edit_date = self._timestamp()
        message.edits.append(
            Edit(
                at=self._now(),
                method="user_edit",
                text=new_text,
                source=new_text,
                reply_markup=None,
            )
        )
        return self._update("edited_message", message.to_api(chat))

    def callback_press(
        self, user: FakeUser, message_id: int, label: str, *, chat_id: int | None = None
    ) -> JSON:
        """`user` presses the inline button labelled `label` on a bot message."""
        chat = self.chats[user.id if chat_id is None else chat_id]
        message = self.message(chat.id, message_id)
        if not message.from_bot or message.deleted:
            raise AssertionError(
                f"message {message_id} in chat {chat.id} is not a visible bot message"
            )
        button = next(
            (b for b in message.buttons if b.label == label and b.callback_data is not None),
            None,
        )
        if button is None:
            raise AssertionError(
                f"no callback button {label!r} on message {message_id} in chat {chat.id}; "
                f"its buttons are {message.button_labels}"
            )
        query_id = f"{self.bot.id}{next(self._query_numbers):08d}"
        self._open_queries[query_id] = message
        return self._update(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "message": message.to_api(chat),
                "chat_instance": f"{abs(chat.id) * 7919 % 10**12}",
                "data": button.callback_data,
            },
        )

    def group_added(
        self,
        user: FakeUser,
        group_chat_id: int,
        *,
        title: str = "Case team",
        status: Literal["member", "administrator"] = "member",
    ) -> JSON:
        """`user` adds the bot to a group: the my_chat_member update Telegram sends.

        Telegram also posts a service message; build it with `group_added_message`.
        """
        chat = self._group_chat(group_chat_id, title)
        chat.bot_is_member = True
        new_member: JSON = {"status": status, "user": self.bot.to_api()}
        if status == "administrator":
            new_member.update(_ADMIN_RIGHTS)
        return self._update(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": user.to_api(),
                "date": self._timestamp(),
                "old_chat_member": {"status": "left", "user": self.bot.to_api()},
                "new_chat_member": new_member,
            },
        )

    def group_added_message(
        self, user: FakeUser, group_chat_id: int, *, title: str = "Case team"
    ) -> JSON:
        """The service message (new_chat_members: the bot) that accompanies `group_added`."""
        chat = self._group_chat(group_chat_id, title)
        chat.bot_is_member = True
        message = self._user_message(chat, user, payload={"new_chat_members": [self.bot.to_api()]})
        return self._update("message", message.to_api(chat))

    def group_text(
        self, user: FakeUser, group_chat_id: int, text: str, *, title: str = "Case team"
    ) -> JSON:
        """A text message from `user` in a group (or supergroup, for -100... ids)."""
        chat = self._group_chat(group_chat_id, title)
        message = self._user_message(chat, user, text=text, entities=command_entities(text))
        return self._update("message", message.to_api(chat))

    def channel_post(self, channel_chat_id: int, text: str, *, title: str = "Case channel") -> JSON:
        """A post in a channel the bot is in (no `from`, a sender_chat instead)."""
        chat = self.chats.get(channel_chat_id) or self._add_chat(
            FakeChat(id=channel_chat_id, type="channel", title=title)
        )
        message = self._stored(chat, sender=None, from_bot=False, text=text, source=text)
        return self._update("channel_post", message.to_api(chat))

    def forwarded_text(
        self,
        user: FakeUser,
        text: str,
        *,
        origin: FakeUser | None = None,
        origin_name: str = "Hidden Sender",
    ) -> JSON:
        """`user` forwards a text message from `origin` (None: a user hiding their account)."""
        chat = self._private_chat(user)
        forward_origin: JSON = (
            {"type": "user", "date": self._timestamp(), "sender_user": origin.to_api()}
            if origin is not None
            else {"type": "hidden_user", "date": self._timestamp(), "sender_user_name": origin_name}
        )
        message = self._user_message(
            chat, user, text=text, payload={"forward_origin": forward_origin}
        )
        return self._update("message", message.to_api(chat))

    def photo_message(
        self,
        user: FakeUser,
        *,
        caption: str | None = None,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
    ) -> JSON:
        """`user` sends a photo (downloadable with getFile)."""
        chat = self._private_chat(user)
        upload = self._register_file("photos", "photo.jpg", content, "image/jpeg")
        message = self._user_message(chat, user, caption=caption, photo=upload)
        return self._update("message", message.to_api(chat))

    def voice_message(
        self, user: FakeUser, *, duration: int = 3, content: bytes = b"OggS\x00fake-voice"
    ) -> JSON:
        """`user` sends a voice note (downloadable with getFile)."""
        chat = self._private_chat(user)
        upload = self._register_file("voice", "voice.oga", content, "audio/ogg")
        voice: JSON = {
            "file_id": upload.file_id,
            "file_unique_id": upload.file_unique_id,
            "duration": duration,
            "mime_type": upload.mime_type,
            "file_size": len(content),
        }
        message = self._user_message(chat, user, payload={"voice": voice})
        return self._update("message", message.to_api(chat))

    def document_message(
        self,
        user: FakeUser,
        *,
        filename: str = "referral.pdf",
        content: bytes = b"%PDF-1.4 fake",
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> JSON:
        """`user` sends a document (downloadable with getFile)."""
        chat = self._private_chat(user)
        upload = self._register_file("documents", filename, content, mime_type)
        message = self._user_message(chat, user, caption=caption, document=upload)
        return self._update("message", message.to_api(chat))

    # ------------------------------------------------------------------ delivery

    def enqueue(self, update: JSON) -> JSON:
        """Queue an update for getUpdates (renumbered if its id would go backwards)."""
        queued = dict(update)
        last_id = self.updates[-1]["update_id"] if self.updates else 0
        if queued.get("update_id", 0) <= last_id:
            queued["update_id"] = self._allocate_update_id()
        self.updates.append(queued)
        self._wake_pollers()
        return queued

    async def feed(self, app: AnyApplication, update: JSON) -> None:
        """Process an update in-process, as if polling had fetched it.

        Returns when the blocking handlers are done; handlers registered with block=False run
        as tasks and may still be making calls.
        """
        await app.process_update(Update.de_json(update, app.bot))

    async def send_text(self, app: AnyApplication, user: FakeUser, text: str) -> list[Call]:
        """`user` sends `text` privately; return the calls the bot made while handling it."""
        return await self._feed_and_collect(app, self.private_text(user, text))

    async def send_voice(
        self, app: AnyApplication, user: FakeUser, content: bytes, *, duration: int
    ) -> list[Call]:
        """`user` sends a voice note of `duration` seconds (as the client declares it)."""
        return await self._feed_and_collect(
            app, self.voice_message(user, duration=duration, content=content)
        )

    async def press(
        self,
        app: AnyApplication,
        user: FakeUser,
        label: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
    ) -> list[Call]:
        """`user` presses a button (default: on the latest bot message that has it)."""
        chat_key = user.id if chat_id is None else chat_id
        if message_id is None:
            message_id = self._latest_with_button(chat_key, label).message_id
        update = self.callback_press(user, message_id, label, chat_id=chat_key)
        return await self._feed_and_collect(app, update)

    # ------------------------------------------------------------------ Bot API methods

    async def _dispatch(self, method: str, params: JSON, files: Files) -> Any:
        if method == "getUpdates":
            return await self._get_updates(params)
        handler = self._methods.get(method.lower())
        if handler is None:
            raise ApiError(404, "Not Found")
        return handler(params, files)

    def _get_me(self, _params: JSON, _files: Files) -> JSON:
        return {
            **self.bot.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _log_out(self, _params: JSON, _files: Files) -> bool:
        self.logged_out = True
        return True

    def _close(self, _params: JSON, _files: Files) -> bool:
        self.closed = True
        return True

    def _set_webhook(self, params: JSON, _files: Files) -> bool:
        url = str(params.get("url", ""))
        if params.get("drop_pending_updates"):
            self.updates.clear()
        if not url:
            self.webhook = None
            return True
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {key: value for key, value in params.items() if key != "certificate"}
        self._wake_pollers()
        return True

    def _delete_webhook(self, params: JSON, _files: Files) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return True

    def _get_webhook_info(self, _params: JSON, _files: Files) -> JSON:
        info: JSON = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if self.webhook:
            for key in ("max_connections", "allowed_updates", "ip_address"):
                if key in self.webhook:
                    info[key] = self.webhook[key]
        return info

    def _set_my_commands(self, params: JSON, _files: Files) -> bool:
        self.commands[_commands_key(params)] = validated_commands(params.get("commands"))
        return True

    def _get_my_commands(self, params: JSON, _files: Files) -> list[JSON]:
        return list(self.commands.get(_commands_key(params), []))

    def _delete_my_commands(self, params: JSON, _files: Files) -> bool:
        self.commands.pop(_commands_key(params), None)
        return True

    def _send_message(self, params: JSON, _files: Files) -> JSON:
        chat = self._writable_chat(params)
        text, entities = formatted_text(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            limit=MAX_TEXT_LENGTH,
            caption=False,
        )
        reply_to = self._reply_target(chat, params)
        message = self._stored(
            chat,
            sender=self.bot,
            from_bot=True,
            text=text,
            source=str(params["text"]),
            parse_mode=params.get("parse_mode"),
            entities=entities,
            reply_markup=validated_markup(params.get("reply_markup")),
            protect_content=bool(params.get("protect_content")),
            reply_to_message_id=reply_to.message_id if reply_to else None,
        )
        return self._message_api(message, chat)

    def _edit_message_text(self, params: JSON, _files: Files) -> JSON:
        chat, message = self._message_to_edit(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = formatted_text(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            limit=MAX_TEXT_LENGTH,
            caption=False,
        )
        # Telegram drops the inline keyboard when an edit does not resend it.
        markup = validated_markup(params.get("reply_markup"))
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.source = str(params["text"])
        message.parse_mode = params.get("parse_mode")
        self._record_edit(message, "editMessageText")
        return self._message_api(message, chat)

    def _edit_message_reply_markup(self, params: JSON, _files: Files) -> JSON:
        chat, message = self._message_to_edit(params)
        markup = validated_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        self._record_edit(message, "editMessageReplyMarkup")
        return self._message_api(message, chat)

    def _delete_message(self, params: JSON, _files: Files) -> bool:
        chat = self._chat(params)
        message = self._messages.get((chat.id, int_param(params, "message_id")))
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        if not message.from_bot and chat.type != "private":
            raise bad_request("message can't be deleted")
        message.deleted = True
        return True

    def _answer_callback_query(self, params: JSON, _files: Files) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_queries:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text", ""))) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        del self._open_queries[query_id]
        self.callback_answers[query_id] = params
        return True

    def _send_document(self, params: JSON, files: Files) -> JSON:
        return self._send_media("document", params, files)

    def _send_photo(self, params: JSON, files: Files) -> JSON:
        return self._send_media("photo", params, files)

    def _send_chat_action(self, params: JSON, _files: Files) -> bool:
        self._writable_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _leave_chat(self, params: JSON, _files: Files) -> bool:
        chat = self._chat(params)
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        if not chat.bot_is_member:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        chat.bot_is_member = False
        return True

    def _get_chat(self, params: JSON, _files: Files) -> JSON:
        return self._chat(params).to_full_info()

    def _get_file(self, params: JSON, _files: Files) -> JSON:
        upload = self._files.get(str(params.get("file_id", "")))
        if upload is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": upload.file_id,
            "file_unique_id": upload.file_unique_id,
            "file_size": len(upload.content),
            "file_path": upload.file_path,
        }

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or None
        self._confirm(int_param(params, "offset", default=0))
        limit = min(max(int_param(params, "limit", default=100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        poller = object()
        self._poller = poller
        self._wake_pollers()  # an older long poll ends with 409, as on Telegram
        try:
            if not self._deliverable() and timeout > 0:
                await self._wait_for_update(min(timeout, self.long_poll_cap))
            if self._poller is not poller:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            return self._deliverable()[:limit]
        finally:
            if self._poller is poller:
                self._poller = None

    # ------------------------------------------------------------------ helpers: state

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the fake Telegram's clock must return aware datetimes")
        return now

    def _timestamp(self) -> int:
        return int(self._now().timestamp())

    def _target(self, url: str) -> tuple[Literal["method", "file"], str] | None:
        path = unquote(urlsplit(url).path)
        marker = f"{self.token}/"
        index = path.find(marker)
        if index == -1:
            return None
        rest = path[index + len(marker) :]
        if rest in self._files_by_path:
            return "file", rest
        return "method", rest.rsplit("/", 1)[-1]

    def _rate_limited(self, method: str, params: JSON) -> ApiError | None:
        if self._rate_limiter is None or method not in FLOOD_LIMITED_METHODS:
            return None
        chat_id = params.get("chat_id")
        retry_after = self._rate_limiter.admit(chat_id if isinstance(chat_id, int | str) else None)
        if retry_after is None:
            return None
        self.rate_limit_hits += 1
        return ApiError(
            429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
        )

    def _add_chat(self, chat: FakeChat) -> FakeChat:
        self.chats[chat.id] = chat
        return chat

    def _private_chat(self, user: FakeUser) -> FakeChat:
        return self.chats.get(user.id) or self._add_chat(
            FakeChat(
                id=user.id,
                type="private",
                first_name=user.first_name,
                last_name=user.last_name,
                username=user.username,
            )
        )

    def _group_chat(self, chat_id: int, title: str) -> FakeChat:
        if chat_id >= 0:
            raise ValueError(f"group chat ids are negative, got {chat_id}")
        chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
        return self.chats.get(chat_id) or self._add_chat(
            FakeChat(id=chat_id, type=chat_type, title=title)
        )

    def _chat(self, params: JSON) -> FakeChat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            found = next((c for c in self.chats.values() if c.username == chat_id[1:]), None)
        else:
            try:
                found = self.chats.get(int(chat_id))
            except (TypeError, ValueError):
                found = None
        if found is None:
            raise bad_request("chat not found")
        return found

    def _writable_chat(self, params: JSON) -> FakeChat:
        chat = self._chat(params)
        if chat.type == "private" and chat.blocked_by_user:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.type != "private" and not chat.bot_is_member:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

    def _message_to_edit(self, params: JSON) -> tuple[FakeChat, StoredMessage]:
        if "inline_message_id" in params:
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._chat(params)
        message = self._messages.get((chat.id, int_param(params, "message_id")))
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    def _reply_target(self, chat: FakeChat, params: JSON) -> StoredMessage | None:
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            message_id = reply_parameters.get("message_id")
            allow_missing = bool(reply_parameters.get("allow_sending_without_reply"))
        else:
            message_id = params.get("reply_to_message_id")
            allow_missing = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        target = self._messages.get((chat.id, int(message_id)))
        if (target is None or target.deleted) and not allow_missing:
            raise bad_request("message to be replied not found")
        return target

    def _message_api(self, message: StoredMessage, chat: FakeChat) -> JSON:
        payload = message.to_api(chat)
        if message.reply_to_message_id is not None:
            target = self._messages.get((chat.id, message.reply_to_message_id))
            if target is not None:
                payload["reply_to_message"] = target.to_api(chat)
        return payload

    def _stored(
        self, chat: FakeChat, *, sender: FakeUser | None, from_bot: bool, **fields: Any
    ) -> StoredMessage:
        message = StoredMessage(
            chat_id=chat.id,
            message_id=chat.allocate_message_id(),
            date=self._timestamp(),
            from_bot=from_bot,
            sender=sender,
            **fields,
        )
        self._messages[(chat.id, message.message_id)] = message
        return message

    def _user_message(
        self,
        chat: FakeChat,
        user: FakeUser,
        *,
        text: str | None = None,
        entities: list[JSON] | None = None,
        caption: str | None = None,
        photo: UploadedFile | None = None,
        document: UploadedFile | None = None,
        payload: JSON | None = None,
    ) -> StoredMessage:
        return self._stored(
            chat,
            sender=user,
            from_bot=False,
            text=text,
            caption=caption,
            source=text if text is not None else caption,
            entities=entities or [],
            photo=photo,
            document=document,
            payload=payload or {},
        )

    def _record_edit(self, message: StoredMessage, method: str) -> None:
        message.edit_date = self._timestamp()
        message.edits.append(
            Edit(
                at=self._now(),
                method=method,
                text=message.text,
                source=message.source,
                reply_markup=message.reply_markup,
            )
        )

    def _send_media(self, field: Literal["document", "photo"], params: JSON, files: Files) -> JSON:
        chat = self._writable_chat(params)
        upload = self._media_upload(field, params, files)
        caption: str | None = None
        entities: list[JSON] = []
        if params.get("caption"):
            caption, entities = formatted_text(
                params.get("caption"),
                params.get("parse_mode"),
                params.get("caption_entities"),
                limit=MAX_CAPTION_LENGTH,
                caption=True,
            )
        message = self._stored(
            chat,
            sender=self.bot,
            from_bot=True,
            caption=caption,
            source=params.get("caption"),
            parse_mode=params.get("parse_mode"),
            entities=entities,
            reply_markup=validated_markup(params.get("reply_markup")),
            protect_content=bool(params.get("protect_content")),
            **{field: upload},
        )
        return self._message_api(message, chat)

    def _media_upload(
        self, field: Literal["document", "photo"], params: JSON, files: Files
    ) -> UploadedFile:
        value = params.get(field)
        uploaded = files.get(field)
        if isinstance(value, str) and value.startswith("attach://"):
            uploaded = files.get(value.removeprefix("attach://"))
        elif isinstance(value, str) and value:
            known = self._files.get(value)
            if known is not None:
                return known
            if not value.startswith(("http://", "https://")):
                raise bad_request("wrong file identifier/HTTP URL specified")
            uploaded = UploadedFile(
                filename=value.rsplit("/", 1)[-1], content=b"", mime_type="application/octet-stream"
            )
        if uploaded is None:
            raise bad_request(f"there is no {field} in the request")
        folder = "documents" if field == "document" else "photos"
        mime_type = "image/jpeg" if field == "photo" else uploaded.mime_type
        return self._register_file(folder, uploaded.filename, uploaded.content, mime_type)

    def _register_file(
        self, folder: str, filename: str, content: bytes, mime_type: str
    ) -> UploadedFile:
        number = next(self._file_numbers)
        extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        upload = UploadedFile(
            filename=filename,
            content=content,
            mime_type=mime_type,
            file_id=f"FAKE-{folder.upper()}-{number:06d}",
            file_unique_id=f"U{number:06d}",
            file_path=f"{folder}/file_{number}.{extension}",
        )
        self._files[upload.file_id] = upload
        for size in ("s", "m"):  # the smaller PhotoSize ids of the same photo
            self._files[f"{upload.file_id}{size}"] = upload
        self._files_by_path[upload.file_path] = upload
        return upload

    def _latest_with_button(self, chat_id: int, label: str) -> StoredMessage:
        sent = self.sent_messages(chat_id)
        for message in reversed(sent):
            if label in message.button_labels:
                return message
        shown = {message.message_id: message.button_labels for message in sent if message.buttons}
        raise AssertionError(
            f"no bot message in chat {chat_id} has a button {label!r}; buttons by message: {shown}"
        )

    async def _feed_and_collect(self, app: AnyApplication, update: JSON) -> list[Call]:
        start = len(self.calls)
        await self.feed(app, update)
        return [call for call in self.calls[start:] if call.method != "getUpdates"]

    # ------------------------------------------------------------------ helpers: updates queue

    def _allocate_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def _update(self, kind: str, body: JSON) -> JSON:
        return {"update_id": self._allocate_update_id(), kind: body}

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def _deliverable(self) -> list[JSON]:
        allowed = self._allowed_updates
        if allowed is None:
            self.updates = [u for u in self.updates if _update_kind(u) not in _OPT_IN_UPDATES]
        else:
            self.updates = [u for u in self.updates if _update_kind(u) in allowed]
        return list(self.updates)

    async def _wait_for_update(self, seconds: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait([waiter], timeout=seconds)
        finally:
            self._waiters.discard(waiter)
            waiter.cancel()

    def _wake_pollers(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)


# ---------------------------------------------------------------------- pure helpers

_ADMIN_RIGHTS: JSON = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": False,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
}


def _error_reply(error: ApiError) -> Reply:
    return Reply.with_json(error.error_code, error.to_api())


def _fault_reply(fault: Fault) -> Reply:
    if fault.kind == "429":
        return _error_reply(
            ApiError(
                429,
                f"Too Many Requests: retry after {fault.retry_after}",
                retry_after=fault.retry_after,
            )
        )
    if fault.kind == "5xx":
        return _error_reply(ApiError(502, "Bad Gateway"))
    if fault.kind == "403":
        return _error_reply(ApiError(403, "Forbidden: bot was blocked by the user"))
    if fault.kind == "409":
        return _error_reply(
            ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        )
    if fault.kind == "401":
        return _error_reply(ApiError(401, "Unauthorized"))
    return Reply(status=504, body=b"", timed_out=True, delay=fault.delay)


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def _update_kind(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")

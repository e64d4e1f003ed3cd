"""`casebot chat`: talk to the real Application in a terminal, no Telegram needed.

The same Application and handlers run in-process, the dispatcher included: reminders and the
morning digest are printed when they come due, as they would arrive on her phone. A small Bot
API stand-in (a PTB request class) turns the bot's API calls into printed lines, and typed lines
into updates. Inline buttons are shown as numbered choices: type the number to press one.
`/voice PATH` sends an audio file as a voice note (getFile and the file download are answered
here too). Works with a terminal or with another program on stdin (one line in, replies out).

Message ids continue across runs on the same database (the ledger that keeps a redelivered
message from being saved twice is keyed by chat and message id), as Telegram's do.
"""

from __future__ import annotations

import asyncio
import html
import io
import itertools
import json
import math
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from telegram import Update
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.config import Config
    from storage.db import Database

BOT_ID = 7_000_000_001
FIRST_MESSAGE_ID = 100_000
BOT_USERNAME = "casebot_local_bot"
_TAG = re.compile(r"<[^>]+>")


def html_to_text(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


@dataclass
class LocalBotAPI(BaseRequest):
    """Answers the Bot API methods the bot uses, printing what a phone would show."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    buttons: list[tuple[int, str, str]] = field(default_factory=list)  # (message, label, data)
    _message_ids: Any = field(default_factory=lambda: itertools.count(1))
    messages: dict[int, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # file path -> content

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a file download: base_file_url + token + "/" + file path
            content = self.files.get(url.split("/file/bot", 1)[1].split("/", 1)[-1])
            if content is None:
                return 404, json.dumps(
                    {"ok": False, "error_code": 404, "description": "Not Found"}
                ).encode()
            return 200, content
        api_method = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        result = self._answer(api_method, params)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "casebot",
                "username": BOT_USERNAME,
                "can_join_groups": False,
            }
        if method in {"sendMessage", "sendDocument", "sendPhoto"}:
            message_id = next(self._message_ids)
            text = params.get("text") or params.get("caption") or f"[{method[4:].lower()}]"
            self._show(message_id, str(text), params.get("reply_markup"))
            return self._message(message_id, params, str(text))
        if method in {"editMessageText", "editMessageReplyMarkup"}:
            message_id = int(params.get("message_id", 0))
            text = str(params.get("text", self.messages.get(message_id, "")))
            self._show(message_id, text, params.get("reply_markup"), edited=True)
            return self._message(message_id, params, text)
        if method == "answerCallbackQuery":
            if params.get("text"):
                self.out.write(f"  ({params['text']})\n")
            return True
        if method == "deleteMessage":
            self.out.write("  (message deleted)\n")
            return True
        if method == "getFile":
            path = str(params.get("file_id", ""))
            if path not in self.files:
                return None
            return {
                "file_id": path,
                "file_unique_id": path,
                "file_size": len(self.files[path]),
                "file_path": path,
            }
        if method == "getUpdates":
            return []
        return True

    def add_file(self, content: bytes) -> str:
        """Keep an audio file the local user sends; its file_id (also its file path)."""
        file_id = f"voice/local_{len(self.files) + 1}.oga"
        self.files[file_id] = content
        return file_id

    def _message(self, message_id: int, params: dict[str, Any], text: str) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        return {
            "message_id": message_id,
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "casebot"},
            "text": text,
        }

    def _show(self, message_id: int, text: str, markup: Any, *, edited: bool = False) -> None:
        self.messages[message_id] = text
        prefix = "bot (edited)> " if edited else "bot> "
        body = html_to_text(text).strip()
        self.out.write(prefix + body.replace("\n", "\n     ") + "\n")
        rows = (json.loads(markup) if isinstance(markup, str) else markup or {}).get(
            "inline_keyboard", []
        )
        if rows:
            self.buttons = [
                (message_id, b["text"], b.get("callback_data", "")) for row in rows for b in row
            ]
            choices = "  ".join(f"[{i}] {label}" for i, (_, label, _) in enumerate(self.buttons, 1))
            self.out.write(f"     {choices}\n")
        elif not edited:
            self.buttons = []
        self.out.flush()


@dataclass
class LocalUser:
    id: int
    first_name: str
    _update_ids: Any = field(default_factory=lambda: itertools.count(1))
    _message_ids: Any = field(default_factory=lambda: itertools.count(FIRST_MESSAGE_ID))

    def _base(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": self.first_name}

    def text_update(self, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": self.id, "type": "private", "first_name": self.first_name},
            "from": self._base(),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"update_id": next(self._update_ids), "message": message}

    def voice_update(self, file_id: str, *, seconds: int, size: int) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": self.id, "type": "private", "first_name": self.first_name},
            "from": self._base(),
            "voice": {
                "file_id": file_id,
                "file_unique_id": file_id,
                "duration": seconds,
                "mime_type": "audio/ogg",
                "file_size": size,
            },
        }
        return {"update_id": next(self._update_ids), "message": message}

    def press_update(self, message_id: int, data: str, text: str) -> dict[str, Any]:
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(next(self._message_ids)),
                "from": self._base(),
                "chat_instance": "local",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(datetime.now(UTC).timestamp()),
                    "chat": {"id": self.id, "type": "private"},
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "casebot"},
                    "text": html_to_text(text),
                },
            },
        }


async def _read_line(stream: TextIO) -> str | None:
    line = await asyncio.get_running_loop().run_in_executor(None, stream.readline)
    return None if line == "" else line.rstrip("\n")


async def chat_loop(
    app: Any, api: LocalBotAPI, user: LocalUser, *, stdin: TextIO, interactive: bool
) -> None:
    """Read lines until EOF or /quit; each line becomes an update processed in order."""
    while True:
        if interactive:
            api.out.write("you> ")
            api.out.flush()
        line = await _read_line(stdin)
        if line is None or line.strip() in {"/quit", "/exit"}:
            return
        if not line.strip():
            continue
        stripped = line.strip()
        if stripped.isdigit() and 1 <= int(stripped) <= len(api.buttons):
            message_id, _, data = api.buttons[int(stripped) - 1]
            update = user.press_update(message_id, data, api.messages.get(message_id, ""))
        elif stripped.startswith("/voice"):
            found = await _voice_update(api, user, stripped.removeprefix("/voice").strip())
            if found is None:
                continue
            update = found
        else:
            update = user.text_update(line)
        await app.process_update(Update.de_json(update, app.bot))


async def _voice_update(api: LocalBotAPI, user: LocalUser, path: str) -> dict[str, Any] | None:
    """`/voice PATH`: the audio file as a voice note from the local user (None: said why not)."""
    file = await asyncio.to_thread(Path(path).expanduser)
    try:
        content = await asyncio.to_thread(file.read_bytes)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        api.out.write(f"  (can't read {path or 'that'}: {reason}; usage: /voice PATH)\n")
        return None
    file_id = api.add_file(content)
    seconds = await asyncio.to_thread(_audio_seconds, content)
    api.out.write(f"  (voice note: {file.name}, {seconds} s)\n")
    return user.voice_update(file_id, seconds=seconds, size=len(content))


def _audio_seconds(content: bytes) -> int:
    """The length a phone would declare for this audio (1 when PyAV is not installed or the
    file is not audio: the bot then says so itself)."""
    try:
        import av
    except ImportError:
        return 1
    try:
        with av.open(io.BytesIO(content), mode="r") as container:
            return max(1, math.ceil((container.duration or 0) / av.time_base))
    except av.FFmpegError:
        return 1


# -- the whole local chat ------------------------------------------------------------------------


async def next_message_id(db: Database, chat_id: int) -> int:
    """The first message id after every one this chat has used in the database (hers in the
    ledger, the bot's pushes), so a new run never reuses one."""
    from sqlalchemy import func, select

    from storage.models import Delivery, InboundMessage, Nurse

    async with db.uow(read_only=True) as session:
        hers = await session.scalar(
            select(func.max(InboundMessage.message_id)).where(InboundMessage.chat_id == chat_id)
        )
        pushed = await session.scalar(
            select(func.max(Delivery.telegram_message_id))
            .join(Nurse, Nurse.id == Delivery.nurse_id)
            .where(Nurse.chat_id == chat_id)
        )
    return max(FIRST_MESSAGE_ID, (hers or 0) + 1, (pushed or 0) + 1)


async def run_chat(
    config: Config,
    db: Database,
    clock: Clock,
    *,
    stdin: TextIO,
    interactive: bool,
    out: TextIO | None = None,
) -> None:
    """The demo nurse's chat with the real bot (dispatcher running) until EOF or /quit."""
    from bot.app.factory import build_application
    from bot.ops import demo

    start = await next_message_id(db, demo.DEMO_TELEGRAM_ID)
    # One sequence for both sides, as in a Telegram private chat.
    message_ids = itertools.count(start)
    api = LocalBotAPI(out=out or sys.stdout, _message_ids=message_ids)
    app = build_application(config, db=db, clock=clock, request=api, rate_limiter=False)
    user = LocalUser(id=demo.DEMO_TELEGRAM_ID, first_name="Demo", _message_ids=message_ids)
    await app.initialize()
    try:
        if app.post_init is not None:  # as run_polling does: starts the dispatcher's jobs
            await app.post_init(app)
        await app.start()
        try:
            code = await demo.demo_invite(db, config, clock)
            if code is not None:
                await _enroll_demo_nurse(app, api, user, code)
                await demo.seed_demo_caseload(db, clock)
            api.out.write(
                "\n-- casebot local chat: you are the demo nurse. Type messages as on your "
                "phone; a number presses a button; reminders and the digest appear here when "
                "due; /quit leaves. --\n"
            )
            await chat_loop(app, api, user, stdin=stdin, interactive=interactive)
        finally:
            await app.stop()
    finally:
        await app.shutdown()


async def _enroll_demo_nurse(app: Any, api: LocalBotAPI, user: LocalUser, code: str) -> None:
    """Enroll the demo nurse through the real /start flow, quietly: Central time, 07:30."""
    shown, api.out = api.out, io.StringIO()
    try:
        for update in (user.text_update(f"/start {code}"),):
            await app.process_update(Update.de_json(update, app.bot))
        for wanted in ("Central", "07:30"):
            message_id, _, data = next(b for b in api.buttons if b[1] == wanted)
            press = user.press_update(message_id, data, api.messages[message_id])
            await app.process_update(Update.de_json(press, app.bot))
    finally:
        api.out = shown

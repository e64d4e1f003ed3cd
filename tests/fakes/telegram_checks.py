"""The checks the fake Telegram makes on parameters, with Telegram's error answers.

Owns `ApiError` (a Bot API error answer) and the validations that matter to casebot: message
text and captions (length after entity parsing, HTML well-formedness), inline keyboards
(callback_data size, button actions), bot commands, and how incoming /commands are marked.

Pure: imports neither telegram nor anything that does I/O.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fakes.telegram_html import EntityParseError, parse_html, utf16_length
from tests.fakes.telegram_objects import JSON

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})
_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


class ApiError(Exception):
    """A Bot API error answer: {"ok": false, "error_code": ..., "description": ...}."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_api(self) -> JSON:
        """The JSON body Telegram answers with (the HTTP status is `error_code`)."""
        payload: JSON = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            payload["parameters"] = {"retry_after": self.retry_after}
        return payload


def bad_request(detail: str) -> ApiError:
    """A 400 answer: "Bad Request: <detail>"."""
    return ApiError(400, f"Bad Request: {detail}")


def formatted_text(
    raw: Any, parse_mode: Any, entities: Any, *, limit: int, caption: bool
) -> tuple[str, list[JSON]]:
    """Check text (or a caption) as Telegram does; return the stored text and its entities.

    HTML is parsed and its length counted without tags; Markdown modes are not parsed, so the
    raw length is checked and no entities are derived.
    """
    what = "caption" if caption else "text"
    if not isinstance(raw, str) or not raw.strip():
        raise bad_request(f"message {what} is empty")
    mode = str(parse_mode).lower() if parse_mode else None
    if mode is not None and mode not in _PARSE_MODES:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    if mode == "html":
        try:
            parsed = parse_html(raw)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
        text, found = parsed.text, parsed.entities
    else:
        text, found = raw, list(entities) if isinstance(entities, list) and mode is None else []
    if not text.strip():
        raise bad_request(f"message {what} is empty")
    if len(text) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return text, found


def validated_markup(markup: Any) -> JSON | None:
    """Check an inline keyboard as Telegram does; return the markup to store."""
    if markup is None:
        return None
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not str(button.get("text", "")) or not _BUTTON_ACTIONS.intersection(button):
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= (
                MAX_CALLBACK_DATA_BYTES
            ):
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                raise bad_request("BUTTON_URL_INVALID")
    return dict(markup)


def validated_commands(commands: Any) -> list[JSON]:
    """Check setMyCommands' list as Telegram does; return it as stored."""
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("commands must be a list of at most 100 BotCommand")
    for command in commands:
        if not _BOT_COMMAND_NAME.fullmatch(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return [{"command": c["command"], "description": c["description"]} for c in commands]


def command_entities(text: str) -> list[JSON]:
    """bot_command entities, as Telegram marks /commands in incoming text."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_length(text[: match.start()]),
            "length": utf16_length(match.group(0)),
        }
        for match in _COMMAND.finditer(text)
    ]


def int_param(params: JSON, name: str, *, default: int | None = None) -> int:
    """An integer parameter, or a 400 answer when it is missing or not a number."""
    value = params.get(name, default)
    if value is None:
        raise bad_request(f"{name} is empty")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None

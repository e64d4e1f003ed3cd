"""What the fake Telegram remembers: users, chats, files, messages, and the calls it answered.

Owns the records (`FakeUser`, `FakeChat`, `UploadedFile`, `StoredMessage`, `Edit`, `Call`) and
their Bot API JSON shapes (`to_api`). Bot API JSON is plain dicts, as Telegram sends it.

Pure: imports neither telegram nor anything that does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user (or the bot itself)."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    def to_api(self) -> JSON:
        """The User object as Telegram sends it."""
        user: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code and not self.is_bot:
            user["language_code"] = self.language_code
        return user


@dataclass
class FakeChat:
    """A chat the bot knows: private (id == user id), group, supergroup or channel."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    bot_is_member: bool = True  # False once the bot left or was removed
    blocked_by_user: bool = False  # private chats: the user blocked the bot
    next_message_id: int = 1

    def to_api(self) -> JSON:
        """The Chat object as Telegram sends it inside messages."""
        chat: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value:
                chat[key] = value
        return chat

    def to_full_info(self) -> JSON:
        """The ChatFullInfo object getChat answers with."""
        return {
            **self.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def allocate_message_id(self) -> int:
        """Next message id in this chat (Telegram numbers messages per chat)."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass(frozen=True)
class UploadedFile:
    """A file uploaded by the bot, or attached by a simulated user."""

    filename: str
    content: bytes
    mime_type: str
    file_id: str = ""
    file_unique_id: str = ""
    file_path: str = ""


@dataclass(frozen=True)
class InlineButton:
    """One inline keyboard button, flattened out of its row."""

    label: str
    callback_data: str | None
    url: str | None


@dataclass(frozen=True)
class Edit:
    """One successful edit, as applied (the content the message had after it)."""

    at: datetime
    method: str
    text: str | None
    source: str | None
    reply_markup: JSON | None


@dataclass
class StoredMessage:
    """A message in a chat, sent by the bot or by a simulated user.

    `text`/`caption` are what the chat shows (HTML tags removed, entities applied); `source` is
    the string exactly as the bot sent it. `payload` carries media fields for the API shape.
    """

    chat_id: int
    message_id: int
    date: int
    from_bot: bool
    sender: FakeUser | None
    text: str | None = None
    caption: str | None = None
    source: str | None = None
    parse_mode: str | None = None
    entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    protect_content: bool = False
    reply_to_message_id: int | None = None
    document: UploadedFile | None = None
    photo: UploadedFile | None = None
    payload: JSON = field(default_factory=dict)
    deleted: bool = False
    edit_date: int | None = None
    edits: list[Edit] = field(default_factory=list)

    @property
    def buttons(self) -> list[InlineButton]:
        """The inline keyboard's buttons, row by row."""
        if not self.reply_markup:
            return []
        return [
            InlineButton(
                label=str(button.get("text", "")),
                callback_data=button.get("callback_data"),
                url=button.get("url"),
            )
            for row in self.reply_markup.get("inline_keyboard", [])
            for button in row
        ]

    @property
    def button_labels(self) -> list[str]:
        """The inline keyboard's labels, row by row."""
        return [button.label for button in self.buttons]

    def to_api(self, chat: FakeChat) -> JSON:
        """The Message object as Telegram sends it (in answers and in updates)."""
        message: JSON = {"message_id": self.message_id, "date": self.date, "chat": chat.to_api()}
        if self.sender is not None:
            message["from"] = self.sender.to_api()
        if chat.type == "channel" and self.sender is None:
            message["sender_chat"] = chat.to_api()
        if self.text is not None:
            message["text"] = self.text
        if self.caption is not None:
            message["caption"] = self.caption
        if self.entities:
            message["caption_entities" if self.caption is not None else "entities"] = [
                dict(entity) for entity in self.entities
            ]
        if self.document is not None:
            message["document"] = _document_api(self.document)
        if self.photo is not None:
            message["photo"] = _photo_api(self.photo)
        message.update(self.payload)
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        if self.protect_content:
            message["has_protected_content"] = True
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        return message


@dataclass
class Call:
    """One Bot API call the fake answered, in arrival order.

    `at` is the fake clock's time; `error` is Telegram's description when the call failed and
    `fault` the injected fault kind (or "rate_limit") when one was used.
    """

    method: str
    params: JSON
    at: datetime
    files: dict[str, UploadedFile] = field(default_factory=dict)
    result: Any = None
    error: str | None = None
    fault: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the client got a successful answer."""
        return self.error is None and self.fault is None


def _document_api(upload: UploadedFile) -> JSON:
    return {
        "file_id": upload.file_id,
        "file_unique_id": upload.file_unique_id,
        "file_name": upload.filename,
        "mime_type": upload.mime_type,
        "file_size": len(upload.content),
    }


def _photo_api(upload: UploadedFile) -> list[JSON]:
    return [
        {
            "file_id": f"{upload.file_id}{suffix}",
            "file_unique_id": f"{upload.file_unique_id}{suffix}",
            "width": width,
            "height": width * 3 // 4,
            "file_size": len(upload.content) * width // 1280,
        }
        for suffix, width in (("s", 90), ("m", 320), ("", 1280))
    ]

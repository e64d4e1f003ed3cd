"""Telegram's HTML parse mode, checked the way the Bot API checks it.

Owns `parse_html`, which turns a message written with ``parse_mode="HTML"`` into the plain text
Telegram stores plus its entities, or raises `EntityParseError` where Telegram answers
"Bad Request: can't parse entities". Stricter than Telegram in one way, on purpose: a bare
``&`` or ``>`` is refused, so a forgotten `html.escape` fails in tests instead of in a chat.

Pure: imports neither telegram nor anything that does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: Tag name -> the entity type Telegram creates for it.
_ENTITY_TYPE_BY_TAG: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
ALLOWED_TAGS: frozenset[str] = frozenset(_ENTITY_TYPE_BY_TAG)

_NAMED_CHARACTERS: dict[str, str] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHARACTER_REFERENCE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{1,10});")
_TAG_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTRIBUTE = re.compile(
    r"""\s*([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)


class EntityParseError(ValueError):
    """The text is not HTML that Telegram accepts; str(error) is Telegram's detail."""


@dataclass(frozen=True)
class ParsedText:
    """Plain text as Telegram stores it, with entities (offsets in UTF-16 code units)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    start: int  # UTF-16 offset in the output text


def utf16_length(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> ParsedText:
    """Parse Telegram HTML into plain text and entities; raise EntityParseError if malformed."""
    pieces: list[str] = []
    offset = 0  # UTF-16 length of the pieces so far
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    position = 0
    while position < len(source):
        char = source[position]
        if char == "<":
            end = source.find(">", position)
            if end == -1:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(source, position)}"
                )
            tag_body = source[position + 1 : end]
            if tag_body.startswith("/"):
                opened = _close_tag(source, position, tag_body[1:].strip().lower(), stack)
                entity = _entity_for(opened, stack, offset)
                if entity is not None:
                    entities.append(entity)
            else:
                stack.append(_open_tag(source, position, tag_body, offset))
            position = end + 1
            continue
        if char == "&":
            match = _CHARACTER_REFERENCE.match(source, position)
            decoded = _decode_reference(match.group(1)) if match else None
            if match is None or decoded is None:
                raise EntityParseError(
                    f'Character "&" must be escaped as "&amp;" '
                    f"(byte offset {_byte_offset(source, position)})"
                )
            pieces.append(decoded)
            offset += utf16_length(decoded)
            position = match.end()
            continue
        if char == ">":
            raise EntityParseError(
                f'Character ">" must be escaped as "&gt;" '
                f"(byte offset {_byte_offset(source, position)})"
            )
        pieces.append(char)
        offset += utf16_length(char)
        position += 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return ParsedText(text="".join(pieces), entities=entities)


def _open_tag(source: str, position: int, tag_body: str, offset: int) -> _OpenTag:
    name_match = _TAG_NAME.match(tag_body)
    name = name_match.group(0).lower() if name_match else tag_body.strip()
    if name not in ALLOWED_TAGS:
        raise EntityParseError(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, position)}'
        )
    attributes = _parse_attributes(source, position, tag_body[len(name) :])
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset '
            f"{_byte_offset(source, position)}"
        )
    return _OpenTag(name=name, attributes=attributes, start=offset)


def _parse_attributes(source: str, position: int, text: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    rest = text.rstrip().removesuffix("/")
    cursor = 0
    while cursor < len(rest):
        match = _ATTRIBUTE.match(rest, cursor)
        if match is None or match.end() == cursor:
            raise EntityParseError(
                f"Expected equal sign in declaration of an attribute of a tag at byte offset "
                f"{_byte_offset(source, position)}"
            )
        raw_value = next((group for group in match.groups()[1:] if group is not None), "")
        attributes[match.group(1).lower()] = _decode_attribute(source, position, raw_value)
        cursor = match.end()
    return attributes


def _decode_attribute(source: str, position: int, raw_value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        decoded = _decode_reference(match.group(1))
        if decoded is None:
            raise EntityParseError(
                f"Unsupported HTML entity in an attribute at byte offset "
                f"{_byte_offset(source, position)}"
            )
        return decoded

    return _CHARACTER_REFERENCE.sub(replace, raw_value)


def _close_tag(source: str, position: int, name: str, stack: list[_OpenTag]) -> _OpenTag:
    if not stack:
        raise EntityParseError(
            f'Unexpected end tag "{name}" at byte offset {_byte_offset(source, position)}'
        )
    opened = stack.pop()
    if name and name != opened.name:
        raise EntityParseError(
            f"Unmatched end tag at byte offset {_byte_offset(source, position)}, "
            f'expected "</{opened.name}>", found "</{name}>"'
        )
    return opened


def _entity_for(opened: _OpenTag, stack: list[_OpenTag], end: int) -> dict[str, Any] | None:
    length = end - opened.start
    if length == 0:
        return None  # Telegram drops empty entities.
    entity: dict[str, Any] = {
        "type": _ENTITY_TYPE_BY_TAG[opened.name],
        "offset": opened.start,
        "length": length,
    }
    if opened.name == "a":
        href = opened.attributes.get("href")
        if not href:
            return None
        entity["url"] = href
    elif opened.name == "blockquote" and "expandable" in opened.attributes:
        entity["type"] = "expandable_blockquote"
    elif opened.name == "code" and stack and stack[-1].name == "pre":
        language = opened.attributes.get("class", "").removeprefix("language-")
        if language:
            stack[-1].attributes["language"] = language
        return None  # Telegram folds <pre><code> into one "pre" entity.
    elif opened.name == "pre" and opened.attributes.get("language"):
        entity["language"] = opened.attributes["language"]
    return entity


def _decode_reference(reference: str) -> str | None:
    if reference.startswith("#"):
        digits = reference[1:]
        code_point = int(digits[1:], 16) if digits[:1] in ("x", "X") else int(digits)
        if code_point == 0 or code_point > 0x10FFFF or 0xD800 <= code_point <= 0xDFFF:
            return None
        return chr(code_point)
    return _NAMED_CHARACTERS.get(reference)


def _byte_offset(source: str, position: int) -> int:
    return len(source[:position].encode("utf-8"))

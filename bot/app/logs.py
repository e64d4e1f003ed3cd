"""Logging that keeps secrets and patient data out of every log record.

Owns: the scrubbing applied to every record created in the process, whatever its logger, level
or library, and the levels of third-party loggers that would otherwise print message contents.

Two layers, so that no path is missed:
- a LogRecord factory (installed once, process-wide) scrubs each record as it is created, before
  any handler, filter or test capture sees it;
- `PhiFilter`, the same scrubbing as a logging.Filter, sits on the root logger's handlers and on
  the handlers of every logger that has some, for records made another way (makeLogRecord).

Scrubbing (`scrub`):
- the bot token and webhook secret become REDACTED;
- arguments that are updates, messages or other Telegram objects, containers holding text
  (PTB's "Calling Bot API endpoint ... with parameters {...}", the getUpdates batch it dumps at
  CRITICAL when one update cannot be parsed), bytes, and exceptions (their text can hold a
  message) are replaced by a placeholder naming only their type;
- a formatted message that still looks like an update payload ('text': ..., first_name=...,
  Message(...)) keeps only its format string, or is replaced whole;
- a traceback keeps its frames (file, line, function) and exception types, never the exception
  messages; those messages are also cut out of the record's own text (asyncio's "Task exception
  was never retrieved" prints the exception's repr).
python-telegram-bot at DEBUG logs every update and API call, httpx logs request URLs (with the
token) at INFO, SQLAlchemy echo prints statements: `quiet_third_party_loggers` keeps them at safe
levels, and the scrubbing covers whoever turns them up again. Must not import storage.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Iterator
from types import TracebackType
from typing import Any
from urllib.parse import quote

REDACTED = "[REDACTED]"
PAYLOAD = "[payload redacted]"
LINE = "[log line redacted: it may hold message contents]"
_SCRUBBED = "_casebot_scrubbed"

# Loggers whose records can carry message text, patient names or the token.
QUIET_LOGGERS: dict[str, int] = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "sqlalchemy.engine": logging.WARNING,
    "aiosqlite": logging.INFO,
    "asyncio": logging.INFO,
    "tornado.access": logging.WARNING,
    "apscheduler": logging.WARNING,
    "alembic": logging.WARNING,
    "faster_whisper": logging.WARNING,  # a line per voice note at INFO (lengths, no words)
}

# What an update, a message or a user looks like once printed: dict or repr form.
_PAYLOAD_MARK = re.compile(
    r"""['"](?:text|caption|first_name|last_name|username|title|data|query|description|
              phone_number|note|display_name|bio|address|question|explanation)['"]\s*:
       |\b(?:text|caption|first_name|last_name|username|title|data|query|display_name)=
       |\b(?:Update|Message|CallbackQuery|User|Chat|MessageEntity|InlineQuery)\(
    """,
    re.VERBOSE,
)
_SAFE_SCALARS = (int, float, bool, type(None))

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    for secret in _secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _has_text(value: object, depth: int = 0) -> bool:
    """Whether a container holds any string (or something that is not a plain number)."""
    if depth > 6:
        return True
    if isinstance(value, dict):
        return any(
            _has_text(k, depth + 1) or _has_text(v, depth + 1) for k, v in value.items()
        ) and not _only_safe_keys(value)
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_text(v, depth + 1) for v in value)
    return not isinstance(value, _SAFE_SCALARS)


def _only_safe_keys(mapping: dict[Any, Any]) -> bool:
    """A dict of ids (string keys, number values), such as the error handler's ids=..."""
    return all(isinstance(k, str) and isinstance(v, _SAFE_SCALARS) for k, v in mapping.items())


def _is_telegram_object(value: object) -> bool:
    return type(value).__module__.split(".", 1)[0] == "telegram" and not isinstance(
        value, BaseException
    )


def _safe_arg(value: object) -> object:
    if isinstance(value, _SAFE_SCALARS):
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, BaseException):
        return type(value).__name__
    if _is_telegram_object(value):
        return f"<{type(value).__name__}>"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict | list | tuple | set | frozenset):
        return PAYLOAD if _has_text(value) else value
    # Anything else prints through its own __str__/__repr__, which may hold text.
    return f"<{type(value).__name__}>"


def _exceptions(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def describe_traceback(
    exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
) -> str:
    """A traceback with frames and exception types only: no exception messages, no locals."""
    lines = ["Traceback (exception messages redacted):"]
    chain = list(_exceptions(exc))
    for index, item in enumerate(reversed(chain)):
        if index:
            lines.append("  (while handling the above)")
        frames = traceback.extract_tb(item.__traceback__ if item is not exc else tb)
        for frame in frames[-12:]:
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        lines.append(f"{type(item).__module__}.{type(item).__qualname__}")
    if not chain and exc_type is not None:
        lines.append(exc_type.__qualname__)
    return "\n".join(lines)


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Make `record` safe to write anywhere (idempotent; changes the record in place)."""
    if getattr(record, _SCRUBBED, False):
        return record
    try:
        _scrub(record)
    except Exception:  # noqa: BLE001 - logging must never fail; fall back to the bare minimum
        record.msg, record.args = LINE, None
        record.exc_info, record.exc_text = None, None
    setattr(record, _SCRUBBED, True)
    return record


def _scrub(record: logging.LogRecord) -> None:
    exc_texts: list[str] = []
    if record.exc_info and record.exc_info[0] is not None:
        exc_type, exc, tb = record.exc_info
        for item in _exceptions(exc):
            for form in (repr(item), str(item)):
                if len(form) >= 4:
                    exc_texts.append(form)
        record.exc_text = describe_traceback(exc_type, exc, tb)
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = LINE
    args = record.args
    if isinstance(args, dict):
        record.args = {k: _safe_arg(v) for k, v in args.items()}
    elif isinstance(args, tuple):
        record.args = tuple(_safe_arg(a) for a in args)
    # A non-string msg (an exception, a dict, an Update logged as such) prints itself.
    template = record.msg if isinstance(record.msg, str) else str(_safe_arg(record.msg))
    record.msg = template
    try:
        message = record.getMessage()
    except (TypeError, ValueError, KeyError):
        message = template
        record.args = None
    cleaned = redact(message)
    for form in sorted(exc_texts, key=len, reverse=True):
        cleaned = cleaned.replace(form, "[exception text redacted]")
    if _PAYLOAD_MARK.search(cleaned):
        safe_template = redact(template)
        cleaned = LINE if _PAYLOAD_MARK.search(safe_template) else f"{safe_template} {PAYLOAD}"
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class PhiFilter(logging.Filter):
    """Scrubs every record that passes (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub(record)
        return True


_FILTER = PhiFilter()


def install_redaction(*secrets: str) -> None:
    """Scrub every log record created from now on (see `scrub`); also redact these strings, as
    written or percent-encoded (a file download URL carries the token with ":" as "%3A")."""
    global _installed
    with _lock:
        for secret in (s for s in secrets if len(s) >= 8):
            _secrets.update({secret, quote(secret), quote(secret, safe="")})
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return scrub(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True


def install_filters() -> None:
    """Put PhiFilter on the root logger's handlers and on every other logger's handlers."""
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)


def quiet_third_party_loggers(floor: int = logging.NOTSET) -> None:
    """Raise these loggers to at least their safe level (never lowers a stricter one)."""
    for name, level in QUIET_LOGGERS.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(level, floor, logger.level))


def configure_logging(level: int = logging.INFO, *secrets: str) -> None:
    """Entry-point logging: plain lines on stderr, scrubbed, noisy libraries quiet."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    quiet_third_party_loggers(level)
    install_redaction(*secrets)
    install_filters()

"""Logging that keeps secrets and patient data out of log records.

Owns: the token redaction applied to every record created in the process, and the levels of
third-party loggers that would otherwise print message contents (python-telegram-bot at DEBUG
logs every update and every API call's parameters; httpx logs request URLs, which contain the
bot token, at INFO; SQLAlchemy echo prints statement parameters). Must not import storage.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import quote

REDACTED = "[REDACTED]"

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

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    for secret in _secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def install_redaction(*secrets: str) -> None:
    """Make every log record created from now on carry REDACTED instead of these strings, as
    written or percent-encoded (a file download URL carries the token with ":" as "%3A")."""
    global _installed
    with _lock:
        for secret in (s for s in secrets if len(s) >= 8):
            _secrets.update({secret, quote(secret), quote(secret, safe="")})
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _secrets:
                message = record.getMessage()
                cleaned = redact(message)
                if cleaned != message:
                    record.msg, record.args = cleaned, None
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


def quiet_third_party_loggers(floor: int = logging.NOTSET) -> None:
    """Raise these loggers to at least their safe level (never lowers a stricter one)."""
    for name, level in QUIET_LOGGERS.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(level, floor, logger.level))


def configure_logging(level: int = logging.INFO, *secrets: str) -> None:
    """Entry-point logging: plain lines on stderr, secrets redacted, noisy libraries quiet."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    quiet_third_party_loggers(level)
    install_redaction(*secrets)

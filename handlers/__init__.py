"""Telegram-facing handlers, one module per topic; `register_all` adds them in order."""

from __future__ import annotations

from telegram.ext import Application

from handlers import access, errors, help, settings


def register_all(app: Application) -> None:  # type: ignore[type-arg]
    """Add every handler. Order matters: PTB tries groups in ascending order."""
    # 1. The access gate, in group -100: strangers, groups and revoked nurses stop here.
    access.register(app)
    # 2. Conversations before plain commands, so a conversation's /cancel wins.
    settings.register(app)
    # 3. Plain commands and the catch-alls.
    help.register(app)
    # 4. The single error handler.
    errors.register(app)

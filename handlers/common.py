"""Small pieces shared by handler modules."""

from __future__ import annotations

import warnings
from typing import Any

from telegram.ext import ConversationHandler
from telegram.warnings import PTBUserWarning


def quiet_conversation(**kwargs: Any) -> ConversationHandler:  # type: ignore[type-arg]
    """A ConversationHandler without PTB's per_message advice.

    Our conversations are per chat and user on purpose: a nurse answers the bot's latest
    question, and buttons belong to that question, so tracking per message is not wanted.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PTBUserWarning, message=".*per_message.*")
        return ConversationHandler(**kwargs)


def is_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²" or "₀", which int() refuses."""
    return text.isascii() and text.isdigit()

"""The nurse behind an update, as the access gate loads her: what every use case is handed.

Pure data: no telegram, no storage (bot.app.context carries it on the typed context).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class NurseView:
    """The enrolled nurse behind the current update, as loaded by the access gate."""

    id: int
    telegram_user_id: int
    chat_id: int | None
    display_name: str
    role: str
    team_id: int | None
    timezone: str
    digest_time: time
    date_order: str
    privacy_mode: str
    settings_done: bool
    unreachable: bool = False
    # When a follow-up due on a day (no time) is pushed: config reminders.follow_up_time.
    follow_up_time: time = time(9, 0)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_supervisor(self) -> bool:
        return self.role in {"supervisor", "admin"}

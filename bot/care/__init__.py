"""Care rules, pure: transition-of-care windows, business days, cadence, reminder timing.

Everything here takes `now` and the nurse's zone as arguments and returns aware UTC instants.
Must not import telegram, storage, sqlalchemy or handlers; tests/care/test_boundary.py checks.
"""

from bot.care.cadence import cadence_due, is_past_cadence
from bot.care.calendar import BusinessCalendar, HolidaySpec
from bot.care.localtime import (
    end_of_local_day,
    local_date,
    local_time_on,
    next_daily_occurrence,
    require_aware,
    start_of_local_day,
)
from bot.care.reminders import (
    appointment_reminder_times,
    countdown_business_days,
    in_quiet_hours,
    quiet_hours_end,
)
from bot.care.rules import (
    CareRules,
    DateWindow,
    TaskSpec,
    TransitionWindow,
    tcm_attempts_documented,
    transition_tasks,
    transition_window,
)

__all__ = [
    "BusinessCalendar",
    "CareRules",
    "DateWindow",
    "HolidaySpec",
    "TaskSpec",
    "TransitionWindow",
    "appointment_reminder_times",
    "cadence_due",
    "countdown_business_days",
    "end_of_local_day",
    "in_quiet_hours",
    "is_past_cadence",
    "local_date",
    "local_time_on",
    "next_daily_occurrence",
    "quiet_hours_end",
    "require_aware",
    "start_of_local_day",
    "tcm_attempts_documented",
    "transition_tasks",
    "transition_window",
]

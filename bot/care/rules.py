"""Care rules: the configurable windows and the transition-of-care deadlines they produce.

Owns `CareRules` (the numbers: TCM contact and visit windows, HEDIS MRP and TRC windows, risk
cadence), the `TransitionWindow` of a discharge (local dates) and the `TaskSpec`s a discharge
creates (deadlines as aware UTC instants at the end of a local day), and the TCM rule that two
documented unsuccessful attempts within the contact window may count.

The rules, from CMS TCM guidance and NCQA HEDIS MRP/TRC (the design's domain-rules table):
- TCM interactive contact: within 2 business days after discharge (the day after discharge opens
  the window).
- TCM face-to-face visit: within 7 (high complexity, 99496) or 14 (moderate, 99495) calendar
  days after discharge. Unknown complexity takes the 7-day deadline and is flagged.
- Medication reconciliation: no later than the visit deadline, and inside the MRP window
  (discharge date through 30 days after, 31 days in all): the earlier of the two.
- TRC patient engagement: within 30 days after discharge, not the day of discharge.

Complexity, risk and task kinds are bot.vocab's terms.
Pure: no clock reads, no I/O. Must not import telegram, storage, sqlalchemy or handlers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from bot.care.calendar import BusinessCalendar
from bot.care.localtime import (
    end_of_local_day,
    local_date,
    require_aware,
    require_date,
    start_of_local_day,
)
from bot.vocab import Complexity, Risk, TaskKind


def _default_cadence() -> Mapping[str, int]:
    return MappingProxyType({Risk.HIGH: 7, Risk.MEDIUM: 14, Risk.LOW: 30})


@dataclass(frozen=True)
class CareRules:
    """The numbers the care rules use; defaults follow CMS TCM and NCQA HEDIS.

    `cadence_days` maps a risk level to the days allowed between reached contacts; a risk level
    missing from it has no cadence.
    """

    tcm_contact_business_days: int = 2
    tcm_visit_days_moderate: int = 14
    tcm_visit_days_high: int = 7
    mrp_days: int = 30
    trc_engagement_days: int = 30
    cadence_days: Mapping[str, int] = field(default_factory=_default_cadence)

    def __post_init__(self) -> None:
        cadence = MappingProxyType({str(k): v for k, v in self.cadence_days.items()})
        object.__setattr__(self, "cadence_days", cadence)
        numbers = {
            "tcm_contact_business_days": self.tcm_contact_business_days,
            "tcm_visit_days_moderate": self.tcm_visit_days_moderate,
            "tcm_visit_days_high": self.tcm_visit_days_high,
            "mrp_days": self.mrp_days,
            "trc_engagement_days": self.trc_engagement_days,
            **{f"cadence_days[{k}]": v for k, v in cadence.items()},
        }
        for name, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive whole number of days, got {value!r}")

    def visit_days(self, complexity: Complexity | None) -> int:
        """Calendar days allowed for the face-to-face visit; unknown complexity -> the shorter."""
        if complexity == Complexity.MODERATE:
            return self.tcm_visit_days_moderate
        if complexity == Complexity.HIGH:
            return self.tcm_visit_days_high
        return min(self.tcm_visit_days_high, self.tcm_visit_days_moderate)

    def cadence_for(self, risk: str | None) -> int | None:
        """Days allowed between reached contacts at `risk`, or None when it has no cadence."""
        return None if risk is None else self.cadence_days.get(str(risk))


@dataclass(frozen=True)
class DateWindow:
    """An inclusive span of local calendar dates."""

    first_day: date
    last_day: date

    def __contains__(self, day: object) -> bool:
        if isinstance(day, datetime) or not isinstance(day, date):
            return False
        return self.first_day <= day <= self.last_day

    def opens_at(self, zone: ZoneInfo) -> datetime:
        """The window's first instant, aware UTC."""
        return start_of_local_day(self.first_day, zone)

    def due_at(self, zone: ZoneInfo) -> datetime:
        """The window's last instant, aware UTC: 23:59:59.999999 local on the last day."""
        return end_of_local_day(self.last_day, zone)


@dataclass(frozen=True)
class TransitionWindow:
    """The deadlines of one discharge, as local date windows."""

    discharge_date: date
    complexity: Complexity | None
    contact: DateWindow
    visit: DateWindow
    med_rec: DateWindow
    mrp: DateWindow
    trc_engagement: DateWindow

    @property
    def complexity_unknown(self) -> bool:
        return self.complexity is None


@dataclass(frozen=True)
class TaskSpec:
    """A task to create: its kind and window as aware UTC instants.

    `complexity_unknown` marks deadlines computed on the safe (high-complexity) side until the
    nurse says which complexity applies.
    """

    kind: TaskKind
    opens_at: datetime
    due_at: datetime
    complexity_unknown: bool = False


def transition_window(
    discharge_date: date,
    complexity: Complexity | None,
    calendar: BusinessCalendar,
    rules: CareRules,
) -> TransitionWindow:
    """The contact, visit, medication-reconciliation, MRP and TRC windows of a discharge."""
    require_date(discharge_date, "discharge_date")
    complexity = None if complexity is None else Complexity(complexity)  # "urgent" -> ValueError
    day_after = discharge_date + timedelta(days=1)
    contact_end = calendar.add_business_days(discharge_date, rules.tcm_contact_business_days)
    visit_end = discharge_date + timedelta(days=rules.visit_days(complexity))
    mrp = DateWindow(discharge_date, discharge_date + timedelta(days=rules.mrp_days))
    return TransitionWindow(
        discharge_date=discharge_date,
        complexity=complexity,
        contact=DateWindow(day_after, contact_end),
        visit=DateWindow(day_after, visit_end),
        med_rec=DateWindow(discharge_date, min(visit_end, mrp.last_day)),
        mrp=mrp,
        trc_engagement=DateWindow(
            day_after, discharge_date + timedelta(days=rules.trc_engagement_days)
        ),
    )


def transition_tasks(
    discharge_date: date,
    complexity: Complexity | None,
    zone: ZoneInfo,
    calendar: BusinessCalendar,
    rules: CareRules,
) -> list[TaskSpec]:
    """The TCM contact, TCM visit and medication-reconciliation tasks of a discharge.

    `discharge_date` is the local date in `zone`; each deadline is the end of its window's last
    local day, as aware UTC.
    """
    window = transition_window(discharge_date, complexity, calendar, rules)
    unknown = window.complexity_unknown
    return [
        _task(TaskKind.TCM_CONTACT, window.contact, zone, complexity_unknown=False),
        _task(TaskKind.TCM_VISIT, window.visit, zone, complexity_unknown=unknown),
        _task(TaskKind.MED_REC, window.med_rec, zone, complexity_unknown=unknown),
    ]


def tcm_attempts_documented(
    attempt_times: Iterable[datetime],
    discharge_date: date,
    zone: ZoneInfo,
    calendar: BusinessCalendar,
    rules: CareRules,
) -> bool:
    """True when two or more separate unsuccessful attempts fall in the TCM contact window.

    Attempts are aware instants, read as local dates in `zone`; repeated records of the same
    instant count once.
    """
    window = transition_window(discharge_date, None, calendar, rules).contact
    separate = {require_aware(t, "attempt time").astimezone(UTC) for t in attempt_times}
    return sum(local_date(t, zone) in window for t in separate) >= 2


def _task(
    kind: TaskKind, window: DateWindow, zone: ZoneInfo, *, complexity_unknown: bool
) -> TaskSpec:
    return TaskSpec(kind, window.opens_at(zone), window.due_at(zone), complexity_unknown)

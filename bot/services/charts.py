"""/stats pictures: the numbers plotted (pure, tested) and the PNG drawn from them.

`chart_numbers` turns contact times, task completions and the risk mix into the exact series
the image shows; `tcm_compliance` / `mrp_compliance` apply the care rules to discharges. The
drawing uses matplotlib's object API with the Agg canvas chosen per figure, so importing this
module changes no global matplotlib state and needs no display. No patient name or id ever
reaches the image: its inputs are counts and dates only.
Must not import telegram, storage or handlers.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import care
from bot.render import labels
from bot.render.labels import label
from bot.vocab import Complexity, Risk, TaskKind

CHART_DAYS = 28
RISK_ORDER = (Risk.HIGH, Risk.MEDIUM, Risk.LOW)
RISK_COLOURS = {"high": "#c0392b", "medium": "#e67e22", "low": "#27ae60"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ChartNumbers:
    """Everything the /stats image shows, and nothing else."""

    days: tuple[date, ...]
    contacts_per_day: tuple[int, ...]
    done_on_time: int
    done_late: int
    risk_counts: tuple[tuple[str, int], ...]

    @property
    def contacts_total(self) -> int:
        return sum(self.contacts_per_day)


@dataclass(frozen=True)
class Discharge:
    """What compliance needs about one discharge: dates and instants, no names."""

    discharged_on: date
    complexity: Complexity | None
    first_reached_at: datetime | None
    first_med_rec_at: datetime | None


def chart_numbers(
    contact_times: Iterable[datetime],
    *,
    now: datetime,
    zone: ZoneInfo,
    done_on_time: int,
    done_late: int,
    risk_counts: dict[str, int],
    days: int = CHART_DAYS,
) -> ChartNumbers:
    """Contacts per local day over the last `days` days (today included), oldest first."""
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    window = tuple(first + timedelta(days=i) for i in range(days))
    counts = dict.fromkeys(window, 0)
    for at in contact_times:
        day = at.astimezone(zone).date()
        if day in counts:
            counts[day] += 1
    return ChartNumbers(
        days=window,
        contacts_per_day=tuple(counts[d] for d in window),
        done_on_time=done_on_time,
        done_late=done_late,
        risk_counts=tuple((risk, int(risk_counts.get(risk, 0))) for risk in RISK_ORDER),
    )


def tcm_compliance(
    discharges: Sequence[Discharge],
    *,
    now: datetime,
    zone: ZoneInfo,
    within_days: int,
    calendar: care.BusinessCalendar,
    rules: care.CareRules,
) -> tuple[int, int]:
    """(met, counted): discharges in the last `within_days` days whose contact window has
    closed, or which already had their contact, that had a reached interactive contact by the
    TCM contact deadline (2 business days)."""
    today = now.astimezone(zone).date()
    met = counted = 0
    for d in discharges:
        if d.discharged_on < today - timedelta(days=within_days) or d.discharged_on > today:
            continue
        specs = care.transition_tasks(d.discharged_on, d.complexity, zone, calendar, rules)
        deadline = next(s.due_at for s in specs if s.kind == TaskKind.TCM_CONTACT)
        start = care.start_of_local_day(d.discharged_on, zone)
        ok = d.first_reached_at is not None and start <= d.first_reached_at <= deadline
        if not ok and deadline > now:
            continue  # still open: neither met nor missed yet
        counted += 1
        met += ok
    return met, counted


def mrp_compliance(
    discharges: Sequence[Discharge],
    *,
    now: datetime,
    zone: ZoneInfo,
    within_days: int,
    mrp_days: int = 30,
) -> tuple[int, int]:
    """(met, counted): discharges in the last `within_days` days with a medication
    reconciliation from the discharge date through `mrp_days` days after (HEDIS MRP)."""
    today = now.astimezone(zone).date()
    met = counted = 0
    for d in discharges:
        if d.discharged_on < today - timedelta(days=within_days) or d.discharged_on > today:
            continue
        last_day = d.discharged_on + timedelta(days=mrp_days)
        ok = d.first_med_rec_at is not None and (
            d.discharged_on <= d.first_med_rec_at.astimezone(zone).date() <= last_day
        )
        if not ok and last_day >= today:
            continue  # window still open
        counted += 1
        met += ok
    return met, counted


def render_png(numbers: ChartNumbers) -> bytes:
    """Three panels as PNG bytes: contacts per day, tasks on time vs late, caseload by risk."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 7), dpi=100)
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 2, height_ratios=(1.2, 1))
    per_day = figure.add_subplot(grid[0, :])
    tasks = figure.add_subplot(grid[1, 0])
    risk = figure.add_subplot(grid[1, 1])

    ticks = [f"{d.day} {d:%b}" for d in numbers.days]
    per_day.bar(range(len(numbers.days)), numbers.contacts_per_day, color="#2e86c1")
    per_day.set_title(f"Contacts per day, last {len(numbers.days)} days")
    step = max(1, len(ticks) // 7)
    per_day.set_xticks(range(0, len(ticks), step))
    per_day.set_xticklabels(ticks[::step], fontsize=8)
    per_day.set_ylabel("contacts")

    tasks.bar(
        ["on time", "late"],
        [numbers.done_on_time, numbers.done_late],
        color=["#27ae60", "#c0392b"],
    )
    tasks.set_title("Tasks done, last 28 days")

    risk.bar(
        [label(labels.RISK, r) for r, _ in numbers.risk_counts],
        [n for _, n in numbers.risk_counts],
        color=[RISK_COLOURS[r] for r, _ in numbers.risk_counts],
    )
    risk.set_title("Caseload by risk")
    figure.tight_layout()

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()

"""A day's headline figures, and how far they stray from the trailing days (median and MAD).

Plain pandas and ``statistics``: the trend check on ``agent_performance_summary`` feeds the
day's figures and those of the trailing landed days to ``compare_with_history``.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from callops_dagster.report.message import day_average_minutes
from callops_dagster.report.metrics import round_half_up

# The figures the trend check compares; they are also the summary's metadata keys.
TREND_FIGURES: tuple[str, ...] = ("connect_rate", "total_calls", "active_agents", "rejected_share")
TRAILING_DAYS = 7
MAD_TO_SD = 1.4826  # scales the MAD to a standard deviation for normally distributed figures
# Smallest spread used, so a flat history does not turn a tiny move into a huge deviation:
# the larger of an absolute floor per figure and a share of the median.
ABSOLUTE_FLOOR = {"connect_rate": 0.01, "total_calls": 1.0, "active_agents": 1.0, "rejected_share": 0.005}
RELATIVE_FLOOR = 0.02


def _rounded(part: int | Fraction, whole: int, places: int) -> float:
    return float(round_half_up(Fraction(part) / whole, places)) if whole else 0.0


def day_figures(summary: pd.DataFrame, rows_rejected: int, rows_read: int) -> dict[str, float | int]:
    """The day's figures: counts as ints, rates and averages as floats (0.0 when undefined).

    connect_rate = completed / calls (4 places); avg_duration_min = mean of the day's
    durations (2 places); rejected_share = rows rejected / rows read (4 places).
    """
    calls = int(summary["total_calls"].sum())
    average = day_average_minutes(summary)
    return {
        "active_agents": int((summary["total_calls"] > 0).sum()),
        "total_calls": calls,
        "connect_rate": _rounded(int(summary["completed_calls"].sum()), calls, 4),
        "avg_duration_min": float(round_half_up(average, 2)) if average is not None else 0.0,
        "rejected_rows": int(rows_rejected),
        "rows_read": int(rows_read),
        "rejected_share": _rounded(int(rows_rejected), int(rows_read), 4),
    }


def trailing_days(landed: Sequence[str], day: str, count: int = TRAILING_DAYS) -> list[str]:
    """The ``count`` latest landed days before ``day`` (ISO dates), oldest first."""
    return sorted(d for d in landed if d < day)[-count:]


@dataclass(frozen=True)
class FigureTrend:
    """One figure of the day against its trailing median."""

    figure: str
    value: float
    median: float
    spread: float  # the MAD scaled to a standard deviation, floored
    deviations: float  # (value - median) / spread, signed
    flagged: bool


def robust_spread(history: Sequence[float], figure: str) -> tuple[float, float]:
    """Median of ``history`` and its scaled MAD, floored (see ABSOLUTE_FLOOR and RELATIVE_FLOOR)."""
    median = float(statistics.median(history))
    mad = statistics.median(abs(x - median) for x in history)
    return median, max(MAD_TO_SD * mad, ABSOLUTE_FLOOR.get(figure, 0.0), RELATIVE_FLOOR * abs(median))


@dataclass(frozen=True)
class TrendComparison:
    """The day against the days in ``history_days``; no figures when history is too short."""

    history_days: tuple[str, ...]
    figures: tuple[FigureTrend, ...]
    threshold: float
    min_history: int

    @property
    def enough_history(self) -> bool:
        return len(self.history_days) >= self.min_history

    @property
    def flagged(self) -> list[FigureTrend]:
        return [f for f in self.figures if f.flagged]

    def note(self) -> str:
        if not self.enough_history:
            return (
                f"too little history: {len(self.history_days)} of the trailing {TRAILING_DAYS} landed "
                f"days have figures, {self.min_history} needed; passed without comparing"
            )
        if self.flagged:
            moves = ", ".join(f"{f.figure} {f.value:g} vs median {f.median:g} ({f.deviations:+.1f})" for f in self.flagged)
            return f"moved more than {self.threshold:g} robust deviations: {moves}"
        return f"every figure within {self.threshold:g} robust deviations of the trailing median"


def compare_with_history(
    today: Mapping[str, float],
    history: Mapping[str, Mapping[str, float]],
    *,
    threshold: float,
    min_history: int,
) -> TrendComparison:
    """Each figure's signed distance from its trailing median, in robust deviations.

    ``history`` maps earlier days to their figures; days missing a figure are left out.
    A figure is flagged when ``|deviations| > threshold``.
    """
    days = tuple(sorted(d for d, f in history.items() if all(k in f for k in TREND_FIGURES)))
    if len(days) < min_history:
        return TrendComparison(days, (), threshold, min_history)
    trends = []
    for figure in TREND_FIGURES:
        median, spread = robust_spread([float(history[d][figure]) for d in days], figure)
        value = float(today[figure])
        deviations = (value - median) / spread
        trends.append(FigureTrend(figure, value, median, spread, deviations, abs(deviations) > threshold))
    return TrendComparison(days, tuple(trends), threshold, min_history)

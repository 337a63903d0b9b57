"""The Slack-style summary of one day, built from the agent performance summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction

import pandas as pd

from callops_dagster.report.late_rows import LateRows, late_rows_text
from callops_dagster.report.metrics import average_minutes, round_half_up

DEFAULT_MIN_CALLS = 5


@dataclass(frozen=True)
class DataQuality:
    """The day's data-quality figures for the message's fifth line."""

    rows_read: int
    rows_rejected: int
    calls_not_in_roster: int
    agents_not_in_roster: int
    roster_day: dt.date
    day: dt.date
    late_rows: LateRows = field(default_factory=LateRows)
    call_id_conflicts: int = 0  # call_ids shared by different (kept) calls

    @property
    def roster_carried_forward(self) -> bool:
        return self.roster_day != self.day


@dataclass(frozen=True)
class TopPerformer:
    name: str
    rate: Fraction
    org_id: str
    agent_id: str


def display_name(agent_name: str, agent_id: str) -> str:
    """The agent's name, or their agent_id when the roster has no name."""
    return agent_name if agent_name else agent_id


def top_performer(summary: pd.DataFrame, min_calls: int = DEFAULT_MIN_CALLS) -> TopPerformer | None:
    """Highest exact connect rate among agent-days with at least ``min_calls`` calls.

    Ties: more completed calls, then more calls, then name, agent_id, org_id ascending.
    """
    best: tuple | None = None
    winner: TopPerformer | None = None
    # An agent-day without calls has no rate, whatever min_calls says.
    eligible = summary.loc[summary["total_calls"] >= max(min_calls, 1)]
    for row in eligible.itertuples(index=False):
        name = display_name(row.agent_name, row.agent_id)
        rate = Fraction(int(row.completed_calls), int(row.total_calls))
        key = (-rate, -int(row.completed_calls), -int(row.total_calls), name, row.agent_id, row.org_id)
        if best is None or key < best:
            best, winner = key, TopPerformer(name, rate, row.org_id, row.agent_id)
    return winner


def _percent(part: int, whole: int, places: int = 0) -> str:
    value = round_half_up(Fraction(part, whole) * 100, places) if whole else 0
    return f"{value}%"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def day_average_minutes(summary: pd.DataFrame) -> Fraction | None:
    """Mean of every non-null call duration of the day, in minutes, exact."""
    sums = summary["duration_sum_s"].dropna()
    total = sum((Fraction(v) for v in sums), Fraction(0))
    return average_minutes(total, int(summary["duration_count"].sum()))


def quality_line(quality: DataQuality) -> str:
    """Line five: rejected rows and their share, agents outside the roster, roster used,
    then late rows (calls of earlier days in today's file) and call_ids shared by different
    calls, when there are any."""
    parts = [
        f"{quality.rows_rejected} of {_plural(quality.rows_read, 'row')} rejected "
        f"({_percent(quality.rows_rejected, quality.rows_read, 1)})",
        f"{_plural(quality.calls_not_in_roster, 'call')} by "
        f"{_plural(quality.agents_not_in_roster, 'agent')} not in the roster",
    ]
    if quality.roster_carried_forward:
        parts.append(f"roster carried forward from {quality.roster_day.isoformat()}")
    else:
        parts.append(f"roster of {quality.roster_day.isoformat()}")
    if late := late_rows_text(quality.late_rows):
        parts.append(late)
    if quality.call_id_conflicts:
        parts.append(f"{_plural(quality.call_id_conflicts, 'call_id')} shared by different calls (kept)")
    return "Data quality: " + "; ".join(parts)


def org_lines(summary: pd.DataFrame) -> list[str]:
    """One line per org: active agents, calls and connect rate."""
    lines = []
    for org_id, org in summary.groupby("org_id", sort=True):
        calls = int(org["total_calls"].sum())
        active = int((org["total_calls"] > 0).sum())
        rate = _percent(int(org["completed_calls"].sum()), calls) if calls else "n/a"
        lines.append(f"{org_id}: {_plural(active, 'active agent')}, {_plural(calls, 'call')}, {rate} connect rate")
    return lines


def build_slack_message(
    summary: pd.DataFrame,
    day: dt.date,
    quality: DataQuality,
    min_calls: int = DEFAULT_MIN_CALLS,
    compliance: str | None = None,
) -> str:
    """The message text: four contract lines, the data-quality line, the ``Compliance:``
    line when given, then one line per org."""
    best = top_performer(summary, min_calls)
    top = (
        f"{best.name} ({round_half_up(best.rate * 100, 0)}% connect rate)" if best else "n/a"
    )
    average = day_average_minutes(summary)
    duration = f"{round_half_up(average, 1)} min" if average is not None else "n/a"
    lines = [
        f"Agent Summary for {day.isoformat()}",
        f"Top Performer: {top}",
        f"Total Active Agents: {int((summary['total_calls'] > 0).sum())}",
        f"Average Duration: {duration}",
        quality_line(quality),
        *([compliance] if compliance else []),
        *org_lines(summary),
    ]
    return "\n".join(lines) + "\n"

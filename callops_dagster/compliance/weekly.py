"""Weekly performance per agent, and its Slack-style message (pure pandas, no dagster).

Built from the week's daily agent performance summaries (their exact inputs: completed
calls, duration sums and counts) and the week's kept calls (for distinct loans over the week),
so every weekly figure is rounded once from exact values, as the daily ones are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import pandas as pd

from callops_dagster.contract.calling_rules import WEEKDAYS
from callops_dagster.report.message import day_average_minutes, display_name, top_performer
from callops_dagster.report.metrics import (
    AVG_DURATION_PLACES,
    CONNECT_RATE_PLACES,
    average_minutes,
    connect_rate,
    round_half_up,
)

WEEKLY_COLUMNS: tuple[str, ...] = (
    "week_start",
    "org_id",
    "agent_id",
    "agent_name",
    "days_active",
    "days_present",
    "total_calls",
    "unique_loans_contacted",
    "connect_rate",
    "avg_call_duration_min",
    "connect_rate_change",
)
AGENT = ["org_id", "agent_id"]
MOVERS = 3  # gains and drops named in the weekly message


def week_days(week_start: dt.date) -> list[dt.date]:
    return [week_start + dt.timedelta(days=i) for i in range(7)]


def dagster_day_offset(week_start: str) -> int:
    """Dagster's ``day_offset`` for weeks starting on ``week_start`` (Dagster: 0 is Sunday)."""
    return (WEEKDAYS.index(week_start) + 1) % 7


def first_week_start(start: dt.date, week_start: str) -> dt.date:
    """The first ``week_start`` day on or before ``start`` (so the first week holds ``start``)."""
    return start - dt.timedelta(days=(start.weekday() - WEEKDAYS.index(week_start)) % 7)


def week_of(day: dt.date, week_start: str) -> dt.date:
    """The first day of the week holding ``day``."""
    return first_week_start(day, week_start)


@dataclass(frozen=True)
class WeekInputs:
    """The week's tables, split from what the weekly asset loads (day -> table)."""

    summaries: pd.DataFrame
    calls: pd.DataFrame
    roster: pd.DataFrame
    previous: pd.DataFrame | None
    days_used: list[str] = field(default_factory=list)
    days_missing: list[str] = field(default_factory=list)
    previous_days: list[str] = field(default_factory=list)


class NoDayOfTheWeek(ValueError):
    """None of the week's days has a daily summary."""


def week_inputs(
    week_start: dt.date,
    summaries: Mapping[str, pd.DataFrame],
    calls: Mapping[str, pd.DataFrame],
    rosters: Mapping[str, pd.DataFrame],
) -> WeekInputs:
    """Split daily tables keyed by ``YYYY-MM-DD`` into this week's and the previous week's.

    ``summaries`` may hold the previous week's days too; a day of this week is used when its
    summary exists (its calls too, when they exist); the names come from the latest roster of
    the week's days. Raises NoDayOfTheWeek when no day of the week has a summary.
    """
    days = [d.isoformat() for d in week_days(week_start)]
    used = [d for d in days if d in summaries]
    if not used:
        raise NoDayOfTheWeek(
            f"no day of the week of {week_start.isoformat()} ({days[0]} to {days[-1]}) has an "
            "agent_performance_summary: run its days first"
        )
    before = sorted(d for d in summaries if d < days[0])
    rostered = [d for d in used if d in rosters] or sorted(d for d in rosters if d in days)
    return WeekInputs(
        summaries=pd.concat([summaries[d] for d in used], ignore_index=True),
        calls=pd.concat([calls[d] for d in used if d in calls], ignore_index=True)
        if any(d in calls for d in used) else pd.DataFrame(columns=[*AGENT, "installment_id"]),
        roster=rosters[rostered[-1]] if rostered else pd.DataFrame(columns=[*AGENT, "agent_name"]),
        previous=pd.concat([summaries[d] for d in before], ignore_index=True) if before else None,
        days_used=used,
        days_missing=[d for d in days if d not in summaries],
        previous_days=before,
    )


def _exact_rates(summaries: pd.DataFrame) -> pd.DataFrame:
    """Per agent: completed and total calls over the given days and the exact rate."""
    totals = summaries.groupby(AGENT, sort=True).agg(
        completed_calls=("completed_calls", "sum"), total_calls=("total_calls", "sum")
    )
    totals["rate"] = [connect_rate(int(c), int(t)) for c, t in zip(totals["completed_calls"], totals["total_calls"])]
    return totals


def _fixed(value: Fraction | None, places: int) -> str:
    """Exactly ``places`` decimals, rounded once; never ``-0.0000``; empty for None."""
    if value is None:
        return ""
    rounded = round_half_up(value, places)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:.{places}f}"


def _duration_sum(values: pd.Series) -> Decimal | None:
    present = values.dropna()
    return sum((Decimal(str(v)) for v in present), Decimal(0)) if len(present) else None


def agent_weekly_summary(
    week_start: dt.date,
    summaries: pd.DataFrame,
    calls: pd.DataFrame,
    roster: pd.DataFrame,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (org_id, agent_id) with a row in any of the week's daily summaries.

    ``summaries``: the week's daily summaries (with their exact columns); ``calls``: the
    week's kept calls; ``roster``: the week's latest roster (names); ``previous``: the
    previous week's daily summaries (empty or None when none of its days exist). Exact
    figures are kept beside the contract's columns (``rate``, ``completed_calls``, ...).
    """
    agents = _exact_rates(summaries)
    grouped = summaries.groupby(AGENT, sort=True)
    agents["days_active"] = grouped["total_calls"].apply(lambda s: int((s > 0).sum()))
    agents["days_present"] = grouped["presence"].apply(lambda s: int((s == 1).sum()))
    agents["duration_sum_s"] = grouped["duration_sum_s"].apply(_duration_sum)
    agents["duration_count"] = grouped["duration_count"].sum()
    loans = calls.loc[calls["installment_id"].fillna("").ne("")].groupby(AGENT)["installment_id"].nunique()
    agents["unique_loans_contacted"] = loans.reindex(agents.index, fill_value=0).astype("int64")
    before = _exact_rates(previous) if previous is not None and len(previous) else None
    old = before["rate"].reindex(agents.index) if before is not None else pd.Series(None, index=agents.index)
    agents["rate_change"] = [
        None if new is None or pd.isna(prev) or prev is None else new - prev
        for new, prev in zip(agents["rate"], old)
    ]
    out = agents.reset_index()
    names = roster.loc[:, [*AGENT, "agent_name"]]
    out = out.merge(names, on=AGENT, how="left", validate="one_to_one")
    out["agent_name"] = out["agent_name"].fillna("").astype("str")
    out.insert(0, "week_start", week_start.isoformat())
    out["connect_rate"] = [_fixed(r, CONNECT_RATE_PLACES) for r in out["rate"]]
    out["avg_call_duration_min"] = [
        _fixed(average_minutes(s, int(n)), AVG_DURATION_PLACES)
        for s, n in zip(out["duration_sum_s"], out["duration_count"])
    ]
    out["connect_rate_change"] = [_fixed(c, CONNECT_RATE_PLACES) for c in out["rate_change"]]
    for column in ("days_active", "days_present", "total_calls", "completed_calls", "duration_count"):
        out[column] = out[column].astype("int64")
    return out.sort_values(AGENT, ignore_index=True)


def weekly_csv_frame(weekly: pd.DataFrame) -> pd.DataFrame:
    """The weekly table as its CSV carries it: the spec's columns, in order."""
    return weekly.loc[:, list(WEEKLY_COLUMNS)]


def _mover(row: pd.Series) -> str:
    change = round_half_up(row["rate_change"] * 100, 0)
    sign = "+" if change > 0 else ""
    return f"{display_name(row['agent_name'], row['agent_id'])} ({sign}{change} pts)"


def movers(weekly: pd.DataFrame, gains: bool, count: int = MOVERS) -> list[str]:
    """The biggest connect-rate gains (or drops) against the previous week, exact order;
    ties go to name, agent_id, org_id ascending."""
    known = weekly.loc[weekly["rate_change"].notna()]
    known = known.loc[[(c > 0) if gains else (c < 0) for c in known["rate_change"]]]
    if known.empty:
        return []
    key = known.assign(
        _order=[-c if gains else c for c in known["rate_change"]],
        _name=[display_name(n, a) for n, a in zip(known["agent_name"], known["agent_id"])],
    ).sort_values(["_order", "_name", "agent_id", "org_id"], kind="stable")
    return [_mover(row) for _, row in key.head(count).iterrows()]


def build_weekly_message(weekly: pd.DataFrame, week_start: dt.date, min_calls: int) -> str:
    """``Agent Summary for the week of <date>``, top performer of the week (the daily tie
    rules, over the week's calls), active agents, average duration, biggest gains and drops."""
    best = top_performer(weekly, min_calls)
    top = f"{best.name} ({round_half_up(best.rate * 100, 0)}% connect rate)" if best else "n/a"
    average = day_average_minutes(weekly)
    duration = f"{round_half_up(average, 1)} min" if average is not None else "n/a"
    gains, drops = movers(weekly, gains=True), movers(weekly, gains=False)
    lines = [
        f"Agent Summary for the week of {week_start.isoformat()}",
        f"Top Performer: {top}",
        f"Total Active Agents: {int((weekly['total_calls'] > 0).sum())}",
        f"Average Duration: {duration}",
        f"Biggest gains: {', '.join(gains) if gains else 'n/a'}",
        f"Biggest drops: {', '.join(drops) if drops else 'n/a'}",
    ]
    return "\n".join(lines) + "\n"

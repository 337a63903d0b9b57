"""Per agent-day metrics, rounded once from exact values, half away from zero."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pandas as pd

SUMMARY_COLUMNS: tuple[str, ...] = (
    "call_date",
    "org_id",
    "agent_id",
    "agent_name",
    "office_location",
    "total_calls",
    "unique_loans_contacted",
    "connect_rate",
    "avg_call_duration_min",
    "presence",
)
CONNECT_RATE_PLACES = 4
AVG_DURATION_PLACES = 2
# Kept beside the contract's columns so the message can use exact figures and roster flags.
EXACT_COLUMNS: tuple[str, ...] = ("completed_calls", "duration_sum_s", "duration_count", "in_roster", "has_login_row")


def round_half_up(value: Fraction, places: int) -> Decimal:
    """Round an exact fraction half away from zero, once (float ``round()`` would not)."""
    scale = 10**places
    scaled = abs(value) * scale
    whole = int(scaled)
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    signed = -whole if value < 0 else whole
    return Decimal(signed).scaleb(-places)


def connect_rate(completed: int, total: int) -> Fraction | None:
    """Completed calls over all calls; None when there were no calls."""
    return Fraction(completed, total) if total else None


def average_minutes(duration_sum_s: object, duration_count: int) -> Fraction | None:
    """Mean duration in minutes from the exact sum of seconds; None when no durations."""
    if not duration_count or duration_sum_s is None or pd.isna(duration_sum_s):
        return None
    return Fraction(duration_sum_s) / (duration_count * 60)  # Decimal -> exact fraction


def _rounded(values: list[Fraction | None], places: int) -> pd.Series:
    return pd.Series(
        [None if v is None else float(round_half_up(v, places)) for v in values], dtype="Float64"
    )


def summarise_agent_day(agent_day: pd.DataFrame) -> pd.DataFrame:
    """The agent performance summary: the contract's columns (plus exact inputs), sorted.

    connect_rate and avg_call_duration_min hold the rounded values (4 and 2 places), null
    when there is nothing to average; formatting to fixed places happens when writing.
    """
    rates = [
        connect_rate(int(c), int(t))
        for c, t in zip(agent_day["completed_calls"], agent_day["total_calls"])
    ]
    minutes = [
        average_minutes(s, int(n))
        for s, n in zip(agent_day["duration_sum_s"], agent_day["duration_count"])
    ]
    summary = agent_day.loc[:, ["call_date", "org_id", "agent_id", "agent_name", "office_location"]]
    summary["total_calls"] = agent_day["total_calls"].astype("int64")
    summary["unique_loans_contacted"] = agent_day["unique_loans_contacted"].astype("int64")
    summary["connect_rate"] = _rounded(rates, CONNECT_RATE_PLACES).to_numpy()
    summary["avg_call_duration_min"] = _rounded(minutes, AVG_DURATION_PLACES).to_numpy()
    summary["presence"] = agent_day["presence"].astype("int64")
    for column in EXACT_COLUMNS:
        summary[column] = agent_day[column]
    return summary.sort_values(["org_id", "agent_id"], ignore_index=True)


def _fixed(value: object, places: int) -> str:
    return "" if pd.isna(value) else f"{value:.{places}f}"


def summary_csv_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as the text the CSV carries: contract columns, fixed decimal places."""
    out = summary.loc[:, list(SUMMARY_COLUMNS)].astype({"total_calls": "int64"})
    out["connect_rate"] = [_fixed(v, CONNECT_RATE_PLACES) for v in summary["connect_rate"]]
    out["avg_call_duration_min"] = [
        _fixed(v, AVG_DURATION_PLACES) for v in summary["avg_call_duration_min"]
    ]
    return out

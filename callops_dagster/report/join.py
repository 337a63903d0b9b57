"""The agent-day join: union of call and login keys, roster left-joined, nothing lost."""

from __future__ import annotations

import datetime as dt

import pandas as pd

AGENT_DAY_KEY = ["call_date", "org_id", "agent_id"]


def call_totals(calls: pd.DataFrame) -> pd.DataFrame:
    """Per agent-day: calls, completed calls, distinct loans, exact duration sum and count."""
    grouped = calls.groupby(AGENT_DAY_KEY, sort=False, observed=True)
    totals = grouped.agg(
        total_calls=("call_id", "size"),
        completed_calls=("is_completed", "sum"),
        unique_loans_contacted=("installment_id", "nunique"),
        duration_count=("duration_s", "count"),
    )
    totals["duration_sum_s"] = grouped["duration_s"].sum(min_count=1)
    return totals.reset_index()


def build_agent_day(
    calls: pd.DataFrame,
    dispositions: pd.DataFrame,
    roster: pd.DataFrame,
    partition_date: dt.date,
) -> pd.DataFrame:
    """Join kept calls, kept logins and the roster at the (call_date, org_id, agent_id) grain.

    - the grain is the union of the keys of calls and logins, so no call and no login is lost;
    - the roster is left-joined on (org_id, agent_id): agents missing from it keep their calls
      with an empty name and office (``in_roster`` False);
    - presence is 1 when the login row has a non-empty login_time, 0 otherwise.
    """
    totals = call_totals(calls)
    logins = dispositions.loc[:, [*AGENT_DAY_KEY, "present"]].assign(has_login_row=True)
    day = totals.merge(logins, on=AGENT_DAY_KEY, how="outer", sort=False)
    people = roster.loc[:, ["org_id", "agent_id", "agent_name", "office_location"]].assign(
        in_roster=True
    )
    day = day.merge(people, on=["org_id", "agent_id"], how="left", validate="many_to_one")
    for column in ("total_calls", "completed_calls", "unique_loans_contacted", "duration_count"):
        day[column] = day[column].fillna(0).astype("int64")
    day["has_login_row"] = day["has_login_row"].astype("boolean").fillna(False).astype(bool)
    day["in_roster"] = day["in_roster"].astype("boolean").fillna(False).astype(bool)
    day["presence"] = day["present"].astype("boolean").fillna(False).astype("int64")
    day["calls_without_login"] = (day["total_calls"] > 0) & ~day["has_login_row"]
    day["login_without_calls"] = day["has_login_row"] & (day["total_calls"] == 0)
    day["not_in_roster"] = ~day["in_roster"]
    day["agent_name"] = day["agent_name"].fillna("").astype("str")
    day["office_location"] = day["office_location"].fillna("").astype("str")
    day["call_date"] = partition_date.isoformat()
    columns = [
        *AGENT_DAY_KEY,
        "agent_name",
        "office_location",
        "total_calls",
        "completed_calls",
        "unique_loans_contacted",
        "duration_sum_s",
        "duration_count",
        "presence",
        "has_login_row",
        "in_roster",
        "calls_without_login",
        "login_without_calls",
        "not_in_roster",
    ]
    return day[columns].sort_values(["org_id", "agent_id"], ignore_index=True)

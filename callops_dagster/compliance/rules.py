"""Contact compliance per agent-day and per loan (pure pandas, no dagster).

Definitions: ``shared/spec/contact-compliance.md``. Times are the naive local date-times of
the partition timezone that the contract's parsers produce (``created_ts``, ``login_ts``).
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pandas as pd

from callops_dagster.contract.calling_rules import (
    DEFAULT_CALLING_HOURS,
    DEFAULT_MAX_ATTEMPTS_7D,
    CallingHours,
)
from callops_dagster.report.metrics import round_half_up
from callops_dagster.report.publish import csv_text

AGENT_COMPLIANCE_COLUMNS: tuple[str, ...] = (
    "call_date",
    "org_id",
    "agent_id",
    "agent_name",
    "calls_outside_hours",
    "calls_unknown_time",
    "calls_before_login",
    "first_call_at",
    "last_call_at",
)
LOAN_CONTACT_COLUMNS: tuple[str, ...] = (
    "call_date",
    "org_id",
    "installment_id",
    "agent_id",
    "attempts",
    "last_created_ts",
)
LOAN_FREQUENCY_COLUMNS: tuple[str, ...] = (
    "org_id",
    "installment_id",
    "attempts_7d",
    "days_called_7d",
    "agents_7d",
    "last_called_at",
    "over_limit",
)
WINDOW_DAYS = 7
AGENT_KEY = ["call_date", "org_id", "agent_id"]
LOAN_KEY = ["org_id", "installment_id"]
CONTACT_KEY = ["call_date", *LOAN_KEY, "agent_id"]


CLOCK_FORMAT = "%H:%M:%S"
STAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def _formatted_one(value: object, fmt: str) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).strftime(fmt)


def formatted_times(values: pd.Series, fmt: str) -> pd.Series:
    """Each date-time as ``fmt`` writes it, fractions of a second cut, ``""`` when missing:
    what ``pd.Timestamp(v).strftime(fmt)`` writes, vectorised (``Series.dt.strftime``).

    Python's strftime writes a year below 1000 without leading zeros (``999-01-02``) where
    pandas pads it (``0999-01-02``): those few values, and a column that is not datetime64
    (an empty object column), are written one by one as before.
    """
    if not pd.api.types.is_datetime64_dtype(values.dtype):
        return pd.Series([_formatted_one(v, fmt) for v in values], index=values.index, dtype="str")
    text = values.dt.strftime(fmt).fillna("").astype("str")
    early = (values.dt.year < 1000).fillna(False).astype(bool)
    if early.any():
        text.loc[early] = [_formatted_one(v, fmt) for v in values.loc[early]]
    return text


def agent_compliance(
    summary: pd.DataFrame, calls: pd.DataFrame, logins: pd.DataFrame, hours: CallingHours
) -> pd.DataFrame:
    """One row per summary row (same keys, same order): calls outside the window, calls of
    unknown time, calls before the agent-day's kept login, first and last call times.

    ``summary`` is the agent performance summary; ``calls`` the validated call_logs
    (``created_ts``); ``logins`` the validated disposition_summary (``login_ts``).
    """
    created = calls["created_ts"]
    login_of_call = calls.loc[:, AGENT_KEY].merge(
        logins.loc[:, [*AGENT_KEY, "login_ts"]], on=AGENT_KEY, how="left", validate="many_to_one"
    )["login_ts"].set_axis(calls.index)
    flags = calls.loc[:, AGENT_KEY].assign(
        calls_outside_hours=hours.outside(created).astype("int64"),
        calls_unknown_time=created.isna().astype("int64"),
        calls_before_login=(created < login_of_call).fillna(False).astype("int64"),
        _created=created,
    )
    grouped = flags.groupby(AGENT_KEY, sort=False)
    per_day = grouped.agg(
        calls_outside_hours=("calls_outside_hours", "sum"),
        calls_unknown_time=("calls_unknown_time", "sum"),
        calls_before_login=("calls_before_login", "sum"),
        first=("_created", "min"),
        last=("_created", "max"),
    ).reset_index()
    out = summary.loc[:, ["call_date", "org_id", "agent_id", "agent_name"]].merge(
        per_day, on=AGENT_KEY, how="left", validate="one_to_one"
    )
    for column in ("calls_outside_hours", "calls_unknown_time", "calls_before_login"):
        out[column] = out[column].fillna(0).astype("int64")
    out["first_call_at"] = formatted_times(out["first"], CLOCK_FORMAT)
    out["last_call_at"] = formatted_times(out["last"], CLOCK_FORMAT)
    return out.loc[:, list(AGENT_COMPLIANCE_COLUMNS)]


def window_days(day: dt.date) -> list[dt.date]:
    """The seven days ending on ``day``: day-6 .. day."""
    return [day - dt.timedelta(days=offset) for offset in range(WINDOW_DAYS - 1, -1, -1)]


def loan_contacts(calls: pd.DataFrame) -> pd.DataFrame:
    """A day's kept calls to loans, one row per (call_date, org_id, installment_id, agent_id)
    with a non-empty installment_id: ``attempts`` (its calls) and ``last_created_ts`` (the
    latest parseable created_ts; NaT when none). Sorted by that key.

    All that ``loan_contact_frequency`` needs of a day: the window reads seven of these (about
    a quarter of the calls' rows, six of their columns) instead of seven call tables. Rows of
    several days (a concatenation of call tables) give the concatenation of each day's table.
    A missing key value is a key of its own here (``dropna=False``), so no attempt is lost
    before the window groups by loan.
    """
    loans = calls.loc[calls["installment_id"].fillna("").ne(""), [*CONTACT_KEY, "created_ts"]]
    out = loans.groupby(CONTACT_KEY, sort=True, dropna=False).agg(
        attempts=("created_ts", "size"),
        last_created_ts=("created_ts", "max"),
    ).reset_index()
    out["attempts"] = out["attempts"].astype("int64")
    return out.loc[:, list(LOAN_CONTACT_COLUMNS)]


def loan_contact_frequency(window_contacts: pd.DataFrame, day: dt.date, max_attempts: int) -> pd.DataFrame:
    """Per loan (org_id, non-empty installment_id) called on ``day``: its attempts, days,
    agents and last call over the window's ``loan_contacts`` tables that exist (concatenated);
    ``over_limit`` when attempts exceed ``max_attempts``. Sorted by attempts descending, then
    org, loan.

    The same figures as over the window's kept calls themselves: attempts are the sum of each
    day's and agent's attempts, days and agents the distinct call_date and agent_id among
    them, the last call the latest of their last calls.
    """
    today = window_contacts.loc[window_contacts["call_date"] == day.isoformat(), LOAN_KEY].drop_duplicates()
    called = window_contacts.merge(today, on=LOAN_KEY, how="inner")
    grouped = called.groupby(LOAN_KEY, sort=False)
    out = grouped.agg(
        attempts_7d=("attempts", "sum"),
        days_called_7d=("call_date", "nunique"),
        agents_7d=("agent_id", "nunique"),
        last=("last_created_ts", "max"),
    ).reset_index()
    out["last_called_at"] = formatted_times(out["last"], STAMP_FORMAT)
    out["over_limit"] = (out["attempts_7d"] > max_attempts).astype("int64")
    for column in ("attempts_7d", "days_called_7d", "agents_7d"):
        out[column] = out[column].astype("int64")
    out = out.sort_values(
        ["attempts_7d", "org_id", "installment_id"], ascending=[False, True, True], kind="stable", ignore_index=True
    )
    return out.loc[:, list(LOAN_FREQUENCY_COLUMNS)]


def compliance_line(
    compliance: pd.DataFrame, total_calls: int, frequency: pd.DataFrame, hours: CallingHours, max_attempts: int
) -> str:
    """The message's ``Compliance:`` line (after the data-quality line)."""
    outside = int(compliance["calls_outside_hours"].sum())
    share = round_half_up(Fraction(outside, total_calls) * 100, 0) if total_calls else 0
    over = int(frequency["over_limit"].sum())
    return (
        f"Compliance: {outside} calls outside {hours} ({share}% of calls); "
        f"{over} loans over {max_attempts} attempts in {WINDOW_DAYS} days"
    )


COMPLIANCE_FILE = "agent_compliance.csv"
FREQUENCY_FILE = "loan_contact_frequency.csv"
PICTURE_FILE = "agent_summary.png"
COMPLIANCE_NUMERIC = ("calls_outside_hours", "calls_unknown_time", "calls_before_login")
FREQUENCY_NUMERIC = ("attempts_7d", "days_called_7d", "agents_7d", "over_limit")


def compliance_files(compliance: pd.DataFrame, frequency: pd.DataFrame, picture: bytes) -> dict[str, str | bytes]:
    """The day's compliance reports, by name, published with the day's other reports."""
    return {
        COMPLIANCE_FILE: csv_text(compliance, numeric=COMPLIANCE_NUMERIC),
        FREQUENCY_FILE: csv_text(frequency, numeric=FREQUENCY_NUMERIC),
        PICTURE_FILE: picture,
    }

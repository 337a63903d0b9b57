"""The day's pipeline, once, as pure functions: three files in, three report files out.

The assets wrap these steps one at a time (each hands its table on through the IO manager);
``run_day`` runs them all in one go for the benchmark and the property tests, so the three
never drift apart. Order: validate each file, put the rejected rows together, join, summarise,
then the data-quality figures and the message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from callops_dagster.contract.datetimes import DEFAULT_TIMEZONE
from callops_dagster.contract.durations import MINUTES
from callops_dagster.contract.safe_text import one_line_values
from callops_dagster.contract.sources import (
    AGENT_ROSTER,
    CALL_ID_CONFLICT,
    CALL_LOGS,
    DEFAULT_KNOWN_STATUSES,
    DISPOSITION_SUMMARY,
)
from callops_dagster.ingest.reading import RawTable
from callops_dagster.ingest.validation import (
    Validated,
    reported_rejects,
    roster_day_of,
    validate_agent_roster,
    validate_call_logs,
    validate_disposition_summary,
)
from callops_dagster.report.join import AGENT_DAY_KEY, build_agent_day
from callops_dagster.report.late_rows import late_rows
from callops_dagster.report.message import DataQuality, build_slack_message
from callops_dagster.report.metrics import summarise_agent_day
from callops_dagster.report.publish import rejected_rows_csv_text, summary_csv_text

SUMMARY_FILE = "agent_performance_summary.csv"
MESSAGE_FILE = "slack_message.txt"
REJECTED_ROWS_FILE = "rejected_rows.csv"
# The source text the message shows: the top performer's name (or agent_id) and the org ids.
MESSAGE_SOURCE_COLUMNS = ("agent_name", "agent_id", "org_id")


def rejected_table(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Every rejected row of the day in one table, sorted by source and row_number."""
    return pd.concat(list(frames), ignore_index=True).sort_values(["source", "row_number"], ignore_index=True)


def missing_keys(left: pd.DataFrame, right: pd.DataFrame) -> int:
    """Keys of ``left`` (agent-day grain) absent from ``right``."""
    keys = left.loc[:, AGENT_DAY_KEY].drop_duplicates()
    found = keys.merge(right.loc[:, AGENT_DAY_KEY], on=AGENT_DAY_KEY, how="left", indicator=True)
    return int((found["_merge"] == "left_only").sum())


def rows_read(records_read: Mapping[str, int], roster_carried_forward: bool) -> int:
    """Records read from the day's own files (a carried-forward roster belongs to its own day)."""
    return sum(
        int(count)
        for name, count in records_read.items()
        if not (name == AGENT_ROSTER.name and roster_carried_forward)
    )


def rows_read_of(agent_day: pd.DataFrame, rejected: pd.DataFrame, roster: pd.DataFrame, day: dt.date) -> int:
    """Records read from the day's own files, from the day's tables (``agent_day`` or the
    summary, which has its rows): every kept call is counted in total_calls and every kept
    login is an agent-day with its login row (the
    blocking ``nothing_lost`` check holds both), every other record is a rejected row, and the
    roster counts only when it is the day's own file (a carried roster's rows belong to its day)."""
    own_roster = len(roster) if roster_day_of(roster, day) == day else 0
    return int(agent_day["total_calls"].sum()) + int(agent_day["has_login_row"].sum()) + len(rejected) + own_roster


def data_quality(
    summary: pd.DataFrame,
    rejected: pd.DataFrame,
    *,
    day: dt.date,
    rows_read: int,
    roster_day: dt.date,
    call_id_conflicts: int,
) -> DataQuality:
    """Rows read (today's files), rows rejected, calls outside the roster, roster day, late rows."""
    strangers = summary.loc[~summary["in_roster"] & (summary["total_calls"] > 0)]
    return DataQuality(
        rows_read=rows_read,
        rows_rejected=len(rejected),
        calls_not_in_roster=int(strangers["total_calls"].sum()),
        agents_not_in_roster=len(strangers),
        roster_day=roster_day,
        day=day,
        late_rows=late_rows(rejected, day),
        call_id_conflicts=call_id_conflicts,
    )


def day_message(
    summary: pd.DataFrame, day: dt.date, quality: DataQuality, min_calls: int, compliance: str | None = None
) -> str:
    """The day's Slack-style message; a line break in a name shows as a space, not a new line.
    ``compliance`` is the ``Compliance:`` line, when the compliance assets ran."""
    shown = one_line_values(summary, MESSAGE_SOURCE_COLUMNS)
    return build_slack_message(shown, day, quality, min_calls, compliance)


def report_files(summary: pd.DataFrame, rejected: pd.DataFrame, message: str) -> dict[str, str]:
    """The day's three report files, by name, as they are published together."""
    return {
        MESSAGE_FILE: message,
        SUMMARY_FILE: summary_csv_text(summary),
        REJECTED_ROWS_FILE: rejected_rows_csv_text(rejected),
    }


@dataclass(frozen=True)
class DayResult:
    """Every table of a day's run, and its message."""

    validated: dict[str, Validated]
    rejected: pd.DataFrame
    agent_day: pd.DataFrame
    summary: pd.DataFrame
    quality: DataQuality
    message: str

    def files(self) -> dict[str, str]:
        return report_files(self.summary, self.rejected, self.message)


def run_day(
    calls: RawTable,
    logins: RawTable,
    roster: RawTable,
    day: dt.date,
    *,
    roster_day: dt.date | None = None,
    known_statuses: Iterable[str] = DEFAULT_KNOWN_STATUSES,
    duration_unit: str = MINUTES,
    timezone: str = DEFAULT_TIMEZONE,
    min_calls: int = 5,
) -> DayResult:
    """The whole day from its three files as read: what the assets compute, in one call.

    ``roster_day`` is the day the roster came from (``day`` unless carried forward).
    """
    roster_day = roster_day or day
    carried = roster_day != day
    validated = {
        CALL_LOGS.name: validate_call_logs(calls.frame, day, known_statuses, duration_unit, timezone),
        AGENT_ROSTER.name: validate_agent_roster(roster.frame),
        DISPOSITION_SUMMARY.name: validate_disposition_summary(logins.frame, day, timezone),
    }
    rejected = rejected_table(
        reported_rejects(result, carried and name == AGENT_ROSTER.name) for name, result in validated.items()
    )
    agent_day = build_agent_day(
        validated[CALL_LOGS.name].kept,
        validated[DISPOSITION_SUMMARY.name].kept,
        validated[AGENT_ROSTER.name].kept,
        day,
    )
    summary = summarise_agent_day(agent_day)
    read = {CALL_LOGS.name: calls.records_read, AGENT_ROSTER.name: roster.records_read,
            DISPOSITION_SUMMARY.name: logins.records_read}
    quality = data_quality(
        summary,
        rejected,
        day=day,
        rows_read=rows_read(read, carried),
        roster_day=roster_day,
        call_id_conflicts=validated[CALL_LOGS.name].warnings[CALL_ID_CONFLICT],
    )
    return DayResult(validated, rejected, agent_day, summary, quality, day_message(summary, day, quality, min_calls))

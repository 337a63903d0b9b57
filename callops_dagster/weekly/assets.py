"""The weekly performance report as Dagster wiring: weekly partitions, the asset, its job and
its schedule. The rules are in ``compliance/weekly.py``.

Weeks start on ``CALLOPS_WEEK_START``; the first week is the one holding ``CALLOPS_START_DATE``
(it starts on or before it). A week reads its days' ``agent_performance_summary``,
``call_logs`` and ``agent_roster`` and the previous week's summaries through time-window
partition mappings, so the lineage shows the dependency and a day never materialised is
simply absent (``allow_missing_partitions``).
"""

import datetime as dt

import dagster as dg
import pandas as pd

from callops_dagster.compliance import weekly
from callops_dagster.delivery.assets import deliver_summary
from callops_dagster.platform.automation import CODE_VERSION, refresh_on_new_version
from callops_dagster.platform.jobs import lane_config, stopped_schedule
from callops_dagster.platform.metadata import OWNERS, declared_metadata, table_metadata
from callops_dagster.platform.resources import CallopsConfig
from callops_dagster.delivery.resources import SlackResource
from callops_dagster.platform.settings import load_settings
from callops_dagster.report.publish import csv_text, publish_reports
from callops_dagster.contract.safe_text import one_line_values

GROUP = "weekly"
WEEKLY = "agent_weekly_summary"
WEEKLY_FILE = "agent_weekly_summary.csv"
WEEKLY_MESSAGE_FILE = "weekly_message.txt"
WEEKS_FOLDER = "weeks"  # reports/weeks/<week start>/, and the Slack ledger's weeks/<week start>
JOB = "callops_weekly"
WEEK_TAG = "callops/week"  # on every run of callops_weekly: its week (one run per week at once)
# Columns of the CSV already formatted as text that must stay as written (``-0.0125``).
FORMATTED = ("connect_rate", "avg_call_duration_min", "connect_rate_change")
# The warehouse table: the CSV's columns, then the exact inputs (the exact rates are Fractions,
# which Parquet cannot hold; their inputs are kept).
STORED_COLUMNS = (*weekly.WEEKLY_COLUMNS, "completed_calls", "duration_sum_s", "duration_count")
MESSAGE_SOURCE_COLUMNS = ("agent_name", "agent_id", "org_id")
ALLOW_MISSING = {"allow_missing_partitions": True}

SETTINGS = load_settings()  # read when the definitions load
weekly_partitions = dg.WeeklyPartitionsDefinition(
    start_date=weekly.first_week_start(dt.date.fromisoformat(SETTINGS.start_date), SETTINGS.week_start).isoformat(),
    day_offset=weekly.dagster_day_offset(SETTINGS.week_start),
    timezone=SETTINGS.timezone,
)


def _days(start_offset: int = 0) -> dg.AssetIn:
    """The week's daily partitions of an input (from ``start_offset`` weeks before)."""
    return dg.AssetIn(
        partition_mapping=dg.TimeWindowPartitionMapping(start_offset=start_offset), metadata=ALLOW_MISSING
    )


@dg.asset(
    name=WEEKLY,
    partitions_def=weekly_partitions,
    group_name=GROUP,
    kinds={"pandas", "parquet", "csv", "slack"},
    owners=OWNERS,
    metadata=declared_metadata(WEEKLY),
    code_version=CODE_VERSION,
    automation_condition=refresh_on_new_version(),
    ins={
        # One input per upstream asset: this week's days and the previous week's, split by day.
        "agent_performance_summary": _days(start_offset=-1),
        "call_logs": _days(),
        "agent_roster": _days(),
    },
)
def agent_weekly_summary(
    context: dg.AssetExecutionContext,
    callops: CallopsConfig,
    slack: SlackResource,
    agent_performance_summary: dict[str, pd.DataFrame] | None,
    call_logs: dict[str, pd.DataFrame] | None,
    agent_roster: dict[str, pd.DataFrame] | None,
) -> dg.Output:
    """Per agent and week, published as `reports/weeks/<week start>/agent_weekly_summary.csv`.

    days_active, days_present, total_calls, unique_loans_contacted, connect_rate (4 places),
    avg_call_duration_min (2 places) and connect_rate_change against the previous week, from
    the week's daily summaries that exist (the days used and missing are metadata; none: the
    week fails). `weekly_message.txt` goes beside it, and the message is posted to Slack
    like the daily one (once per content, the week holding the newest landed day only).
    """
    week_start = dt.date.fromisoformat(context.partition_key)
    try:
        inputs = weekly.week_inputs(
            week_start, agent_performance_summary or {}, call_logs or {}, agent_roster or {}
        )
    except weekly.NoDayOfTheWeek as exc:
        raise dg.Failure(description=str(exc)) from None
    table = weekly.agent_weekly_summary(
        week_start, inputs.summaries, inputs.calls, inputs.roster, inputs.previous
    )
    shown = one_line_values(table, MESSAGE_SOURCE_COLUMNS)
    text = weekly.build_weekly_message(shown, week_start, callops.min_calls)
    path = publish_reports(
        callops.root / "reports" / WEEKS_FOLDER,
        week_start.isoformat(),
        {WEEKLY_FILE: weekly_csv_text(table), WEEKLY_MESSAGE_FILE: text},
    )
    context.log.info(f"Weekly summary for the week of {week_start}:\n{text}")
    last_day = weekly.week_days(week_start)[-1].isoformat()
    delivery = deliver_summary(
        context, slack, callops.root, f"{WEEKS_FOLDER}/{week_start.isoformat()}", text, through=last_day
    )
    stored = table.loc[:, list(STORED_COLUMNS)]
    return dg.Output(
        stored,
        metadata=table_metadata(
            stored,
            WEEKLY,
            preview_columns=weekly.WEEKLY_COLUMNS,
            days_used=", ".join(inputs.days_used),
            days_missing=", ".join(inputs.days_missing) or "none",
            previous_week_days=len(inputs.previous_days),
            path=dg.MetadataValue.path(str(path / WEEKLY_FILE)),
            message=dg.MetadataValue.md("\n".join(f"> {line}  " for line in text.splitlines())),
            **delivery,
        ),
    )


def weekly_csv_text(table: pd.DataFrame) -> str:
    """``agent_weekly_summary.csv``: the spec's columns; text cells safe for spreadsheets."""
    frame = weekly.weekly_csv_frame(table)
    numeric = [c for c in frame.columns if c in FORMATTED or pd.api.types.is_numeric_dtype(frame[c])]
    return csv_text(frame, numeric=numeric)


weekly_job = dg.define_asset_job(
    JOB,
    selection=dg.AssetSelection.assets(WEEKLY),
    config=lane_config(weekly_partitions, WEEK_TAG),
    description="The weekly performance report of one week, from the daily tables that exist.",
)

# Runs on the week start day at the daily schedule's hour, for the week just ended.
weekly_schedule = stopped_schedule(weekly_job)

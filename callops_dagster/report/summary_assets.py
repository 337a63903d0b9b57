"""Reports for people: the agent performance summary CSV and the Slack-style message."""


import dagster as dg
import pandas as pd

from callops_dagster.contract import check_names as checks
from callops_dagster.delivery.assets import deliver_summary
from callops_dagster.ingest.raw_assets import raw_asset_name
from callops_dagster.platform.metadata import (
    OWNERS,
    declared_metadata,
    latest_partition_metadata,
    table_metadata,
)
from callops_dagster.platform.partitions import check_spec, daily_partitions, partition_day
from callops_dagster.platform.resources import CallopsConfig
from callops_dagster.delivery.resources import SlackResource
from callops_dagster.report.checks import trend_check_spec, trend_check_result
from callops_dagster.contract.sources import CALL_ID_CONFLICT, CALL_LOGS, SOURCES
from callops_dagster.report.late_rows import late_rows
from callops_dagster.report.message import DataQuality, build_slack_message
from callops_dagster.report.metrics import SUMMARY_COLUMNS, summarise_agent_day
from callops_dagster.report.publish import publish_reports, rejected_rows_csv_text, summary_csv_text
from callops_dagster.contract.safe_text import one_line_values
from callops_dagster.report.trend import day_figures

GROUP = "reporting"
SUMMARY_FILE = "agent_performance_summary.csv"
MESSAGE_FILE = "slack_message.txt"
REJECTED_ROWS_FILE = "rejected_rows.csv"
SUMMARY = "agent_performance_summary"
# The source text the message shows: the top performer's name (or agent_id) and the org ids.
MESSAGE_SOURCE_COLUMNS = ("agent_name", "agent_id", "org_id")

# Each summary rule: check name, description, and the rows that break it.
SUMMARY_RULES = {
    checks.ONE_ROW_PER_AGENT_DAY: (
        "Exactly one row per (call_date, org_id, agent_id).",
        lambda s: s.duplicated(["call_date", "org_id", "agent_id"], keep=False),
    ),
    checks.CONNECT_RATE_IN_RANGE: (
        "0 <= connect_rate <= 1 wherever there were calls (empty only when there were none).",
        lambda s: ~s["connect_rate"].between(0, 1).fillna(False) & (s["total_calls"] > 0)
        | s["connect_rate"].notna() & (s["total_calls"] == 0),
    ),
    checks.PRESENCE_IS_BINARY: ("presence is 0 or 1.", lambda s: ~s["presence"].isin([0, 1])),
    checks.LOANS_WITHIN_CALLS: (
        "unique_loans_contacted <= total_calls.",
        lambda s: s["unique_loans_contacted"] > s["total_calls"],
    ),
}


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"pandas", "parquet", "csv"},
    owners=OWNERS,
    metadata=declared_metadata(SUMMARY),
    check_specs=[
        check_spec(
            name,
            SUMMARY,
            blocking=True,
            description=text)
        for name, (text, _) in SUMMARY_RULES.items()
    ]
    + [trend_check_spec(SUMMARY)],
    ins={"agent_day": dg.AssetIn(), "rejected_rows": dg.AssetIn()},
)
def agent_performance_summary(
    context: dg.AssetExecutionContext,
    callops: CallopsConfig,
    agent_day: pd.DataFrame,
    rejected_rows: pd.DataFrame,
):
    """Per agent-day metrics, published as `reports/<date>/agent_performance_summary.csv`.

    total_calls, unique_loans_contacted, connect_rate (4 places), avg_call_duration_min
    (2 places) and presence, rounded half away from zero from exact values; sorted by
    org_id, agent_id. The day's figures (active_agents, total_calls, connect_rate,
    avg_duration_min, rejected_rows, rows_read, rejected_share) are numeric metadata under
    stable keys, so the asset's plots show them across days; the trend check compares them
    with the trailing landed days.
    """
    summary = summarise_agent_day(agent_day)
    figures = day_figures(summary, len(rejected_rows), _rows_read(_upstream_metadata(context)))
    yield dg.Output(
        summary,
        metadata=table_metadata(summary, SUMMARY, preview_columns=SUMMARY_COLUMNS, **figures),
    )
    for name, (_, broken) in SUMMARY_RULES.items():
        bad = summary.loc[broken(summary)]
        yield dg.AssetCheckResult(
            check_name=name,
            passed=bad.empty,
            metadata={
                "rows_failing": len(bad),
                "sample": dg.MetadataValue.md(
                    bad.loc[:, list(SUMMARY_COLUMNS)].head(5).to_markdown(index=False) if len(bad) else "_none_"
                ),
            },
        )
    yield trend_check_result(context, SUMMARY, figures, callops)


def _upstream_metadata(context: dg.AssetExecutionContext) -> dict[str, dict]:
    """This partition's latest metadata of each landing asset, by source name."""
    return {spec.name: latest_partition_metadata(context, raw_asset_name(spec)) for spec in SOURCES}


def _rows_read(upstream: dict[str, dict]) -> int:
    """Records read from the day's files (a carried-forward roster belongs to its own day)."""
    carried = upstream["agent_roster"].get("carried_forward")
    return sum(
        int(meta["records_read"])
        for name, meta in upstream.items()
        if not (name == "agent_roster" and carried)
    )


def _data_quality(context: dg.AssetExecutionContext, summary: pd.DataFrame, rejected: pd.DataFrame) -> DataQuality:
    """Rows read (today's files), rows rejected, calls outside the roster, roster day."""
    day = partition_day(context)
    upstream = _upstream_metadata(context)
    roster = upstream["agent_roster"]
    rows_read = _rows_read(upstream)
    strangers = summary.loc[~summary["in_roster"] & (summary["total_calls"] > 0)]
    return DataQuality(
        rows_read=rows_read,
        rows_rejected=len(rejected),
        calls_not_in_roster=int(strangers["total_calls"].sum()),
        agents_not_in_roster=len(strangers),
        roster_day=pd.Timestamp(roster["roster_day"]).date(),
        day=day,
        late_rows=late_rows(rejected, day),
        call_id_conflicts=int(
            latest_partition_metadata(context, CALL_LOGS.name).get(f"warning_{CALL_ID_CONFLICT}", 0)
        ),
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"slack", "csv"},
    owners=OWNERS,
    ins={"agent_performance_summary": dg.AssetIn(), "rejected_rows": dg.AssetIn()},
)
def slack_summary(
    context: dg.AssetExecutionContext,
    callops: CallopsConfig,
    slack: SlackResource,
    agent_performance_summary: pd.DataFrame,
    rejected_rows: pd.DataFrame,
) -> dg.MaterializeResult:
    """The day's Slack-style summary; publishes the day's reports together.

    The message: top performer, active agents and average duration, then a data-quality line
    and one line per org. `reports/<date>/` gets `slack_message.txt`,
    `agent_performance_summary.csv` and `rejected_rows.csv` in one atomic switch, so a run
    that stops half-way leaves the previous reports whole. Then the message is posted to
    Slack (newest landed day only, once per content; dry-run without SLACK_WEBHOOK_URL).
    """
    day = partition_day(context)
    quality = _data_quality(context, agent_performance_summary, rejected_rows)
    # A line break in a name would break the message's lines: control characters show as spaces.
    shown = one_line_values(agent_performance_summary, MESSAGE_SOURCE_COLUMNS)
    text = build_slack_message(shown, day, quality, callops.min_calls)
    path = publish_reports(
        callops.root / "reports",
        day.isoformat(),
        {
            MESSAGE_FILE: text,
            SUMMARY_FILE: summary_csv_text(agent_performance_summary),
            REJECTED_ROWS_FILE: rejected_rows_csv_text(rejected_rows),
        },
    )
    context.log.info(f"Slack summary for {day}:\n{text}")
    delivery = deliver_summary(context, slack, callops.root, day.isoformat(), text)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path / MESSAGE_FILE)),
            "message": dg.MetadataValue.md("\n".join(f"> {line}  " for line in text.splitlines())),
            "rows_rejected": quality.rows_rejected,
            "rows_read": quality.rows_read,
            **delivery,
        }
    )

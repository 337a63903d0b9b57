"""The report assets: the day's rejected rows, the joined agent-day table and the agent
performance summary (a thin wrapper each over the pure logic of this folder)."""


import dagster as dg
import pandas as pd

from callops_dagster.contract import check_names as checks
from callops_dagster.ingest.validation import REASON
from callops_dagster.platform.metadata import (
    OWNERS,
    counts_md,
    declared_metadata,
    sample_md,
    table_metadata,
)
from callops_dagster.platform.automation import CODE_VERSION, refresh_on_change
from callops_dagster.platform.checks import check_spec
from callops_dagster.platform.partitions import daily_partitions, partition_day
from callops_dagster.report.day import missing_keys, rejected_table, rows_read_of
from callops_dagster.report.join import build_agent_day
from callops_dagster.report.late_rows import late_rows, late_rows_text
from callops_dagster.report.metrics import SUMMARY_COLUMNS, summarise_agent_day
from callops_dagster.report.rules import SUMMARY_RULES
from callops_dagster.report.trend import day_figures

GROUP = "joined"
REPORTING = "reporting"
SUMMARY = "agent_performance_summary"


@dg.asset(
    partitions_def=daily_partitions,
    # A report for people (rejected_rows.csv), so it sits with the other reports; this also
    # keeps the lineage graph's groups in four columns, left to right.
    group_name=REPORTING,
    kinds={"pandas", "parquet", "csv"},
    owners=OWNERS,
    metadata=declared_metadata("rejected_rows"),
    code_version=CODE_VERSION,
    automation_condition=refresh_on_change(),
    ins={
        "call_logs_rejected": dg.AssetIn(),
        "agent_roster_rejected": dg.AssetIn(),
        "disposition_summary_rejected": dg.AssetIn(),
    },
    check_specs=[
        check_spec(
            checks.LATE_ROWS,
            "rejected_rows",
            description=(
                "WARN when the day's call file holds calls of other days (rejected as "
                "call_date_outside_partition), with the rows per date they carry."
            ),
        )
    ],
)
def rejected_rows(
    context: dg.AssetExecutionContext,
    call_logs_rejected: pd.DataFrame,
    agent_roster_rejected: pd.DataFrame,
    disposition_summary_rejected: pd.DataFrame,
):
    """Every rejected row of the day: source file, 1-based row_number, reason code, raw values.

    Sorted by source and row_number; published as `reports/<date>/rejected_rows.csv` with
    the day's other reports by `slack_summary`. Late rows (calls of earlier days in this
    day's file) are counted by the date they carry in the `late_rows` check.
    """
    table = rejected_table([agent_roster_rejected, call_logs_rejected, disposition_summary_rejected])
    by_source = table["source"].value_counts().sort_index().to_dict()
    yield dg.Output(
        table,
        metadata=table_metadata(
            table,
            "rejected_rows",
            by_reason=counts_md(table[REASON].value_counts().sort_index().to_dict(), "reason"),
            by_source=counts_md(by_source, "source"),
        ),
    )
    late = late_rows(table, partition_day(context))
    yield dg.AssetCheckResult(
        check_name=checks.LATE_ROWS,
        passed=late.late + late.future == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "late_rows": late.late,
            "earlier_days": len(late.earlier),
            "rows_dated_after_the_day": late.future,
            "summary": late_rows_text(late) or "none",
            "by_date": counts_md({**late.earlier, **late.later}, "call_date"),
        },
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"pandas", "parquet"},
    owners=OWNERS,
    metadata=declared_metadata("agent_day"),
    code_version=CODE_VERSION,
    automation_condition=refresh_on_change(),
    check_specs=[
        check_spec(
            checks.NOTHING_LOST,
            "agent_day",
            blocking=True,
            description="Sum of calls = kept call rows, and every call and login key is present.",
        ),
        check_spec(
            checks.AGENTS_IN_ROSTER,
            "agent_day",
            description="WARN when calls were made by agents missing from the roster (with a sample).",
        ),
    ],
)
def agent_day(
    context: dg.AssetExecutionContext,
    call_logs: pd.DataFrame,
    disposition_summary: pd.DataFrame,
    agent_roster: pd.DataFrame,
):
    """One row per (call_date, org_id, agent_id) seen in the kept calls or the kept logins.

    The roster is left-joined on (org_id, agent_id). Flags: `calls_without_login`,
    `login_without_calls`, `not_in_roster`. Call counts and the exact duration sum are here;
    rates are computed in `agent_performance_summary`.
    """
    table = build_agent_day(call_logs, disposition_summary, agent_roster, partition_day(context))
    flags = {
        flag: int(table[flag].sum())
        for flag in ("calls_without_login", "login_without_calls", "not_in_roster")
    }
    yield dg.Output(table, metadata=table_metadata(table, "agent_day", flags=counts_md(flags, "flag"), **flags))

    missing_calls = missing_keys(call_logs, table)
    missing_logins = missing_keys(disposition_summary, table)
    total_calls = int(table["total_calls"].sum())
    yield dg.AssetCheckResult(
        check_name=checks.NOTHING_LOST,
        passed=total_calls == len(call_logs) and missing_calls == 0 and missing_logins == 0,
        metadata={
            "kept_call_rows": len(call_logs),
            "sum_total_calls": total_calls,
            "call_keys_missing": missing_calls,
            "login_keys_missing": missing_logins,
        },
    )
    strangers = table.loc[table["not_in_roster"] & (table["total_calls"] > 0)]
    sample = strangers.loc[:, ["org_id", "agent_id", "total_calls"]].head(10)
    yield dg.AssetCheckResult(
        check_name=checks.AGENTS_IN_ROSTER,
        passed=strangers.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "agents_not_in_roster": len(strangers),
            "calls_by_agents_not_in_roster": int(strangers["total_calls"].sum()),
            "sample": sample_md(sample),
        },
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name=REPORTING,
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
    ],
    ins={"agent_day": dg.AssetIn(), "rejected_rows": dg.AssetIn(), "agent_roster": dg.AssetIn()},
    code_version=CODE_VERSION,
    automation_condition=refresh_on_change(),
)
def agent_performance_summary(
    context: dg.AssetExecutionContext,
    agent_day: pd.DataFrame,
    rejected_rows: pd.DataFrame,
    agent_roster: pd.DataFrame,
):
    """Per agent-day metrics, published as `reports/<date>/agent_performance_summary.csv`.

    total_calls, unique_loans_contacted, connect_rate (4 places), avg_call_duration_min
    (2 places) and presence, rounded half away from zero from exact values; sorted by
    org_id, agent_id. The day's figures (active_agents, total_calls, connect_rate,
    avg_duration_min, rejected_rows, rows_read, rejected_share) are numeric metadata under
    stable keys, so the asset's plots show them across days (for people: the trend check,
    `figures_in_trend`, computes them again from the days' tables, its inputs).
    """
    summary = summarise_agent_day(agent_day)
    read = rows_read_of(agent_day, rejected_rows, agent_roster, partition_day(context))
    figures = day_figures(summary, len(rejected_rows), read)
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
                "sample": sample_md(bad.loc[:, list(SUMMARY_COLUMNS)].head(5)),
            },
        )

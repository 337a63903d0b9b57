"""The checks of ``agent_performance_summary`` beyond its row rules: the trend check (the day's
figures against the seven days before it, computed from their tables, which are its inputs) and
the freshness check (a day that never arrived shows up as a failed check)."""

import datetime as dt
import warnings

import dagster as dg
import pandas as pd

from callops_dagster.contract import check_names as checks
from callops_dagster.platform.automation import CODE_VERSION, refresh_on_new_version
from callops_dagster.platform.checks import check_spec, not_landed_results
from callops_dagster.platform.metadata import OWNERS, declared_metadata, table_metadata
from callops_dagster.platform.partitions import daily_partitions
from callops_dagster.platform.resources import CallopsConfig, tables_by_day
from callops_dagster.platform.settings import load_settings
from callops_dagster.report.day import rows_read_of
from callops_dagster.report.metrics import summarise_agent_day
from callops_dagster.report.trend import TRAILING_DAYS, TrendComparison, compare_with_history, day_figures

SUMMARY = "agent_performance_summary"
TREND_DAYS = TRAILING_DAYS  # the calendar days before the day whose figures it is compared with


def _trailing_mapping() -> dg.TimeWindowPartitionMapping:
    with warnings.catch_warnings():  # allow_nonexistent_upstream_partitions is beta in 1.13
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.TimeWindowPartitionMapping(start_offset=-TREND_DAYS, allow_nonexistent_upstream_partitions=True)


def _trailing(name: str) -> dg.AssetIn:
    """The table of the day and of the seven days before it (days never run are absent)."""
    return dg.AssetIn(name, partition_mapping=_trailing_mapping(), metadata={"allow_missing_partitions": True})


def figures_by_day(agent_day: dict, rejected_rows: dict, agent_roster: dict) -> dict[str, dict[str, float]]:
    """Each day's figures, from its tables (the days that have all three)."""
    days = sorted(set(agent_day) & set(rejected_rows) & set(agent_roster))
    return {
        d: day_figures(
            summarise_agent_day(agent_day[d]), len(rejected_rows[d]),
            rows_read_of(agent_day[d], rejected_rows[d], agent_roster[d], dt.date.fromisoformat(d)),
        )
        for d in days
    }


def _trend_table(comparison: TrendComparison) -> str:
    rows = pd.DataFrame(
        [
            {
                "figure": f.figure,
                "today": f.value,
                "trailing median": f.median,
                "robust deviation": round(f.spread, 6),
                "deviations": round(f.deviations, 2),
                "flagged": "yes" if f.flagged else "",
            }
            for f in comparison.figures
        ]
    )
    return rows.to_markdown(index=False) if len(rows) else "_not compared_"


def trend_table(comparison: TrendComparison) -> pd.DataFrame:
    """The comparison as a table, one row per figure (none when the history is too short)."""
    return pd.DataFrame(
        {
            "figure": pd.Series([f.figure for f in comparison.figures], dtype="str"),
            "today": pd.Series([float(f.value) for f in comparison.figures], dtype="float64"),
            "trailing_median": pd.Series([f.median for f in comparison.figures], dtype="float64"),
            "robust_deviation": pd.Series([round(f.spread, 6) for f in comparison.figures], dtype="float64"),
            "deviations": pd.Series([round(f.deviations, 4) for f in comparison.figures], dtype="float64"),
            "flagged": pd.Series([f.flagged for f in comparison.figures], dtype="bool"),
        }
    )


def trend_result(comparison: TrendComparison, config: CallopsConfig) -> dg.AssetCheckResult:
    """WARN (never blocking) when a figure strays; figures, medians and deviations in metadata."""
    metadata = {
        "note": comparison.note(),
        "history_days": len(comparison.history_days),
        "history": ", ".join(comparison.history_days) or "none",
        "threshold": float(config.trend_deviations),
        "flagged": ", ".join(f.figure for f in comparison.flagged) or "none",
        "trend": dg.MetadataValue.md(_trend_table(comparison)),
    }
    for f in comparison.figures:
        metadata[f"{f.figure}_median"] = f.median
        metadata[f"{f.figure}_deviations"] = round(f.deviations, 4)
    return dg.AssetCheckResult(
        check_name=checks.FIGURES_IN_TREND,
        passed=not comparison.flagged,
        severity=dg.AssetCheckSeverity.WARN,
        description=comparison.note(),
        metadata=metadata,
    )


TREND = "day_trend"


@dg.asset(
    name=TREND,
    partitions_def=daily_partitions,
    group_name="reporting",
    kinds={"pandas", "parquet"},
    owners=OWNERS,
    metadata=declared_metadata(TREND),
    code_version=CODE_VERSION,
    automation_condition=refresh_on_new_version(),
    ins={name: _trailing(name) for name in ("agent_day", "rejected_rows", "agent_roster")},
    output_required=False,
    check_specs=[
        check_spec(
            checks.FIGURES_IN_TREND,
            TREND,
            description=(
                f"WARN when connect rate, call volume, active agents or rejected-row share moves more "
                f"than the configured number of robust deviations (median/MAD, default 3.5) from the "
                f"median of the {TREND_DAYS} days before (those that ran); passes with a note when fewer "
                "than the configured minimum (default 3) of those days have figures."
            ),
        )
    ],
)
def day_trend(context: dg.AssetExecutionContext, callops: CallopsConfig, agent_day, rejected_rows, agent_roster):
    """The day's headline figures against the seven days before it (those that ran), each
    computed from the days' tables (its inputs: a corrected earlier day re-runs it). One row per
    figure; the `figures_in_trend` check warns when one strays. A day that never ran is skipped.
    """
    day = context.partition_key
    figures = figures_by_day(
        tables_by_day(context, "agent_day", agent_day),
        tables_by_day(context, "rejected_rows", rejected_rows),
        tables_by_day(context, "agent_roster", agent_roster),
    )
    today = figures.pop(day, None)
    if today is None:  # an asset backfill reached a day that never ran through the window
        why = f"the tables of {day} itself are missing: not landed"
        context.log.info(f"{TREND} of {day} skipped: {why}")
        yield from not_landed_results(list(day_trend.check_specs), day, why)
        return
    comparison = compare_with_history(
        today, figures, threshold=callops.trend_deviations, min_history=callops.trend_min_history
    )
    table = trend_table(comparison)
    yield dg.Output(table, metadata=table_metadata(table, TREND, note=comparison.note()))
    yield trend_result(comparison, callops)


# The day's summary is due CALLOPS_FRESHNESS_DEADLINE_HOURS after the day ends, in the
# partitions' timezone: from that daily cron tick on, the check expects the day that ended
# before it. These factories are superseded by FreshnessPolicy in this release; they are used
# on purpose: the policy reports a freshness state, not an asset check result that names the
# missing partition and that check alerts can read. The warning is silenced here once.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    freshness_checks = dg.build_time_partition_freshness_checks(
        assets=["agent_performance_summary"],
        deadline_cron=f"0 {load_settings().freshness_deadline_hours} * * *",
        timezone=daily_partitions.timezone,
        severity=dg.AssetCheckSeverity.WARN,
    )
    freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=freshness_checks,
        name="callops_freshness_sensor",
        default_status=dg.DefaultSensorStatus.STOPPED,
    )

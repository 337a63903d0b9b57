"""The checks of ``agent_performance_summary`` beyond its row rules: the trend check (the day's
figures against the trailing landed days, read from the summary's own materialisation
metadata in the instance) and the freshness check (a day that never arrived shows up as a
failed check)."""

import warnings

import dagster as dg
import pandas as pd

from callops_dagster.contract import check_names as checks
from callops_dagster.landing.folder import landed_days
from callops_dagster.platform.checks import check_spec
from callops_dagster.platform.partitions import daily_partitions
from callops_dagster.platform.resources import CallopsConfig
from callops_dagster.platform.settings import load_settings
from callops_dagster.report.trend import (
    TRAILING_DAYS,
    TREND_FIGURES,
    TrendComparison,
    compare_with_history,
    trailing_days,
)


def trend_check_spec(asset: str) -> dg.AssetCheckSpec:
    return check_spec(
        checks.FIGURES_IN_TREND,
        asset,
        description=(
            f"WARN when connect rate, call volume, active agents or rejected-row share moves more "
            f"than the configured number of robust deviations (median/MAD, default 3.5) from the "
            f"median of the trailing {TRAILING_DAYS} landed days; passes with a note when fewer "
            "than the configured minimum (default 3) of those days have figures."
        ),
    )


def history_figures(instance: dg.DagsterInstance, asset: str, days: list[str]) -> dict[str, dict[str, float]]:
    """The trend figures of each day's latest materialisation of ``asset`` (days without one,
    or without every figure, are left out)."""
    key = dg.AssetKey(asset)
    history = {}
    for day in days:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1
        ).records
        metadata = records[0].asset_materialization.metadata if records else {}
        figures = {name: metadata[name].value for name in TREND_FIGURES if name in metadata}
        if len(figures) == len(TREND_FIGURES):
            history[day] = figures
    return history


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


def trend_check_result(
    context: dg.AssetExecutionContext, asset: str, figures: dict[str, float], config: CallopsConfig
) -> dg.AssetCheckResult:
    """WARN (never blocking) when a figure strays; figures, medians and deviations in metadata."""
    days = trailing_days([d.isoformat() for d in landed_days(config.root)], context.partition_key)
    comparison = compare_with_history(
        figures,
        history_figures(context.instance, asset, days),
        threshold=config.trend_deviations,
        min_history=config.trend_min_history,
    )
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

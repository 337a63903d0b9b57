"""One daily partitioning on call_date, shared by every asset and check."""

import datetime as dt
import warnings

import dagster as dg

from callops_dagster.platform.settings import load_settings

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=load_settings().start_date, timezone=load_settings().timezone
)


def partition_day(context: dg.AssetExecutionContext) -> dt.date:
    """The partition's call_date (keys are validated ``YYYY-MM-DD`` by Dagster)."""
    return dt.date.fromisoformat(context.partition_key)


def check_spec(name: str, asset: str, description: str, blocking: bool = False) -> dg.AssetCheckSpec:
    """A per-partition asset check of ``asset``.

    Partitioned checks are a preview feature in this Dagster release; we rely on them on
    purpose (a check result per day is the point), so the preview warning is silenced here once.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name, asset=asset, partitions_def=daily_partitions, blocking=blocking, description=description
        )

"""One daily partitioning on call_date, shared by every asset and check."""

import datetime as dt

import dagster as dg

from callops_dagster.platform.settings import load_settings

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=load_settings().start_date, timezone=load_settings().timezone
)


def partition_day(context: dg.AssetExecutionContext) -> dt.date:
    """The partition's call_date (keys are validated ``YYYY-MM-DD`` by Dagster)."""
    return dt.date.fromisoformat(context.partition_key)

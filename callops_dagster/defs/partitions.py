"""One daily partitioning on call_date, shared by every asset and check."""

import datetime as dt

import dagster as dg

from callops_dagster.settings import SETTINGS

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=SETTINGS.start_date, timezone=SETTINGS.timezone
)


def partition_day(context: dg.AssetExecutionContext) -> dt.date:
    """The partition's call_date (keys are validated ``YYYY-MM-DD`` by Dagster)."""
    return dt.date.fromisoformat(context.partition_key)

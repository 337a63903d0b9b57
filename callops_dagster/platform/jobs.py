"""The daily job over every asset, and its schedule (off until someone turns it on)."""

import dagster as dg

from callops_dagster.platform.partitions import daily_partitions
from callops_dagster.platform.settings import load_settings

DAILY_JOB = "callops_daily"
# On every run of callops_daily, whoever launches it (a schedule, a sensor, a backfill, the UI,
# `callops run`, a retry): its day. The run queue allows one run per value at once
# (deploy/dagster.yaml). dagster/partition cannot be that key: a weekly run's partition key is
# its week's first day, so on that day a day's run would wait behind its week's.
DAY_TAG = "callops/day"

# The summary's freshness check (report/checks.py), by the key Dagster's factory gives it.
FRESHNESS_CHECK = dg.AssetCheckKey(dg.AssetKey("agent_performance_summary"), "freshness_check")


def lane_config(partitions_def: dg.PartitionsDefinition, tag: str) -> dg.PartitionedConfig:
    """No run config of its own; each run of a partition is tagged ``tag: <partition key>``."""
    return dg.PartitionedConfig(
        partitions_def=partitions_def,
        run_config_for_partition_key_fn=lambda _key: {},
        tags_for_partition_key_fn=lambda key: {tag: key},
    )


daily_job = dg.define_asset_job(
    DAILY_JOB,
    # The freshness check looks at today's deadline, not at the run's day: its own sensor runs it.
    # Only the daily-partitioned assets: the weekly report has its own job (callops_weekly).
    selection=dg.AssetSelection.all() - dg.AssetSelection.checks(FRESHNESS_CHECK)
    - dg.AssetSelection.groups("weekly"),
    config=lane_config(daily_partitions, DAY_TAG),
    description="Every asset and check of one call_date, landing files to Slack message.",
)


def stopped_schedule(job) -> dg.ScheduleDefinition:  # job: what define_asset_job returns
    """``job`` for its newest partition, at CALLOPS_SCHEDULE_HOUR once a partition ends; off
    until someone turns it on (daily: the day before; weekly: the week just ended)."""
    return dg.build_schedule_from_partitioned_job(
        job,
        hour_of_day=load_settings().schedule_hour,
        minute_of_hour=0,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )


daily_schedule = stopped_schedule(daily_job)

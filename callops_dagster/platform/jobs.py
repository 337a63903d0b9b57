"""The daily job over every asset, and its schedule (off until someone turns it on)."""

import dagster as dg

from callops_dagster.platform.settings import load_settings

# The summary's freshness check (report/checks.py), by the key Dagster's factory gives it.
FRESHNESS_CHECK = dg.AssetCheckKey(dg.AssetKey("agent_performance_summary"), "freshness_check")

daily_job = dg.define_asset_job(
    "callops_daily",
    # The freshness check looks at today's deadline, not at the run's day: its own sensor runs it.
    # Only the daily-partitioned assets: the weekly report has its own job (callops_weekly).
    selection=dg.AssetSelection.all() - dg.AssetSelection.checks(FRESHNESS_CHECK)
    - dg.AssetSelection.groups("weekly"),
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

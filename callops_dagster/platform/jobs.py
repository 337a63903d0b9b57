"""The daily job over every asset, and its schedule (off until someone turns it on)."""

import dagster as dg

from callops_dagster.report.freshness import freshness_checks
from callops_dagster.platform.settings import SETTINGS

daily_job = dg.define_asset_job(
    "callops_daily",
    # The freshness check looks at today's deadline, not at the run's day: its own sensor runs it.
    selection=dg.AssetSelection.all() - dg.AssetSelection.checks(*freshness_checks),
    description="Every asset and check of one call_date, landing files to Slack message.",
)

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    hour_of_day=SETTINGS.schedule_hour,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

"""The daily job over every asset, and its schedule (off until someone turns it on)."""

import dagster as dg

from callops_dagster.settings import SETTINGS

daily_job = dg.define_asset_job(
    "callops_daily",
    selection=dg.AssetSelection.all(),
    description="Every asset and check of one call_date, landing files to Slack message.",
)

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    hour_of_day=SETTINGS.schedule_hour,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

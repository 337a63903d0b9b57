"""The one ``dg.Definitions`` of the callops code location."""

import dagster as dg

from callops_dagster.cluster.sensors import relaunch_lost_days
from callops_dagster.compliance.assets import compliance_assets
from callops_dagster.delivery.assets import slack_summary
from callops_dagster.delivery.resources import WEBHOOK_ENV, SlackResource
from callops_dagster.delivery.sensors import run_alerts
from callops_dagster.ingest.resources import IO_MANAGER_KEY as LANDING_IO_MANAGER, LandingIOManager
from callops_dagster.ingest.raw_assets import raw_assets
from callops_dagster.ingest.validated_assets import validated_assets
from callops_dagster.landing.sensors import landing_sensor
from callops_dagster.platform.automation import automation_sensor
from callops_dagster.platform.jobs import daily_job, daily_schedule
from callops_dagster.platform.resources import CallopsConfig, WarehouseIOManager
from callops_dagster.platform.settings import load_settings
from callops_dagster.report.assets import agent_day, agent_performance_summary, rejected_rows
from callops_dagster.report.checks import day_trend, freshness_checks, freshness_sensor
from callops_dagster.weekly.assets import agent_weekly_summary, weekly_job, weekly_schedule

# Read once, here: every setting comes from the environment when the definitions load.
settings = load_settings()

defs = dg.Definitions(
    assets=[
        *raw_assets,
        *validated_assets,
        rejected_rows,
        agent_day,
        agent_performance_summary,
        day_trend,
        slack_summary,
        *compliance_assets,
        agent_weekly_summary,
    ],
    asset_checks=[*freshness_checks],
    jobs=[daily_job, weekly_job],
    schedules=[daily_schedule, weekly_schedule],
    sensors=[landing_sensor, automation_sensor, freshness_sensor, run_alerts, relaunch_lost_days],
    resources={
        "callops": CallopsConfig.from_settings(settings),
        "io_manager": WarehouseIOManager(data_dir=str(settings.data_dir), handover_mb=settings.handover_mb),
        # The landing assets: a reference to each landing file, not a copy (ingest/resources.py).
        LANDING_IO_MANAGER: LandingIOManager(data_dir=str(settings.data_dir), handover_mb=settings.handover_mb),
        # dg.EnvVar keeps the secret out of run config and snapshots; unset means dry-run.
        "slack": SlackResource(
            webhook_url=dg.EnvVar(WEBHOOK_ENV) if settings.slack_webhook_set else None,
            post_backfill=settings.slack_post_backfill,
        ),
    },
    # A day is a few seconds of pandas: a process per step would cost more than the work.
    executor=dg.in_process_executor,
)

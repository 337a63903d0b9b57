"""The one ``dg.Definitions`` of the callops code location."""

import dagster as dg

from callops_dagster.compliance.assets import compliance_assets
from callops_dagster.compliance.weekly_assets import agent_weekly_summary, weekly_job, weekly_schedule
from callops_dagster.defs.alerts import run_alerts
from callops_dagster.defs.freshness import freshness_checks, freshness_sensor
from callops_dagster.defs.joined import agent_day, rejected_rows
from callops_dagster.defs.jobs import daily_job, daily_schedule
from callops_dagster.defs.landing import raw_assets
from callops_dagster.defs.reporting import agent_performance_summary, slack_summary
from callops_dagster.defs.resources import CallopsConfig, WarehouseIOManager
from callops_dagster.defs.sensors import landing_sensor
from callops_dagster.defs.slack import WEBHOOK_ENV, SlackResource
from callops_dagster.defs.validated import validated_assets
from callops_dagster.settings import SETTINGS

defs = dg.Definitions(
    assets=[
        *raw_assets,
        *validated_assets,
        rejected_rows,
        agent_day,
        agent_performance_summary,
        slack_summary,
        *compliance_assets,
        agent_weekly_summary,
    ],
    asset_checks=[*freshness_checks],
    jobs=[daily_job, weekly_job],
    schedules=[daily_schedule, weekly_schedule],
    sensors=[landing_sensor, freshness_sensor, run_alerts],
    resources={
        "callops": CallopsConfig(),
        "io_manager": WarehouseIOManager(data_dir=str(SETTINGS.data_dir)),
        # dg.EnvVar keeps the secret out of run config and snapshots; unset means dry-run.
        "slack": SlackResource(
            webhook_url=dg.EnvVar(WEBHOOK_ENV) if SETTINGS.slack_webhook_set else None,
            post_backfill=SETTINGS.slack_post_backfill,
        ),
    },
    # A day is a few seconds of pandas: a process per step would cost more than the work.
    executor=dg.in_process_executor,
)

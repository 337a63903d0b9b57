"""Freshness of the daily summary: a day that never arrived shows up as a failed check."""

import warnings

import dagster as dg

from callops_dagster.platform.partitions import daily_partitions
from callops_dagster.platform.settings import SETTINGS

# The day's summary is due CALLOPS_FRESHNESS_DEADLINE_HOURS after the day ends, in the
# partitions' timezone: from that daily cron tick on, the check expects the day that ended
# before it. These factories are superseded by FreshnessPolicy in this release; they are used
# on purpose: the policy reports a freshness state, not an asset check result that names the
# missing partition and that check alerts can read. The warning is silenced here once.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    freshness_checks = dg.build_time_partition_freshness_checks(
        assets=["agent_performance_summary"],
        deadline_cron=f"0 {SETTINGS.freshness_deadline_hours} * * *",
        timezone=daily_partitions.timezone,
        severity=dg.AssetCheckSeverity.WARN,
    )
    freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=freshness_checks,
        name="callops_freshness_sensor",
        default_status=dg.DefaultSensorStatus.STOPPED,
    )

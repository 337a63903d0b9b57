"""Materialise every landed day through the daily job, then say where the reports are.

``make run`` calls this. Each day is one run of ``callops_daily`` in the project's Dagster
instance (``DAGSTER_HOME``), so the runs show in the UI afterwards.
"""

import sys

import dagster as dg

from callops_dagster.definitions import defs
from callops_dagster.defs.partitions import daily_partitions
from callops_dagster.defs.reporting import MESSAGE_FILE
from callops_dagster.settings import SETTINGS
from callops_dagster.transforms.landing import landed_days


# The run's events are in the instance (and the UI); the terminal gets one line per day.
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def _failure_reason(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error:
            return event.step_failure_data.error.message.strip().splitlines()[-1]
    return "see the run in the Dagster UI"


def main() -> int:
    instance = dg.DagsterInstance.get()
    job = defs.resolve_job_def("callops_daily")
    valid_keys = set(daily_partitions.get_partition_keys())
    days = [d.isoformat() for d in landed_days(SETTINGS.data_dir)]
    if not days:
        print(f"No landed days under {SETTINGS.data_dir / 'landing'}.")
        return 1
    succeeded: list[str] = []
    for day in days:
        if day not in valid_keys:
            print(f"{day}: skipped (outside the partition range; see CALLOPS_START_DATE)")
            continue
        result = job.execute_in_process(
            partition_key=day, instance=instance, raise_on_error=False, run_config=QUIET
        )
        if result.success:
            succeeded.append(day)
            print(f"{day}: ok (run {result.run_id[:8]})")
        else:
            print(f"{day}: FAILED (run {result.run_id[:8]}): {_failure_reason(result)}")
    print(f"\nReports: {SETTINGS.data_dir / 'reports'}/<date>/")
    if succeeded:
        latest = SETTINGS.data_dir / "reports" / succeeded[-1] / MESSAGE_FILE
        print(f"Latest Slack message ({latest}):\n")
        print(latest.read_text(encoding="utf-8"))
    return 0 if len(succeeded) == len(days) else 1


if __name__ == "__main__":
    sys.exit(main())

"""A day's last run's raw stdout and stderr, read through the instance's compute log manager
(deploy/dagster.yaml: the data's object storage; laptop mode: ``DAGSTER_HOME/storage``), the
way the UI's log viewer reads them: the run's LogsCapturedEvent gives the file key, the manager
the text and where it is. ``log_view.render`` prints it (``callops status --logs DAY``)."""

from __future__ import annotations

import dagster as dg

from callops_dagster.cluster.log_view import STREAMS, CapturedStream, RunLogs
from callops_dagster.cluster.sensors import PARTITION_TAG
from callops_dagster.platform.jobs import DAILY_JOB


def day_run_logs(instance: dg.DagsterInstance, day: str, job: str = DAILY_JOB) -> RunLogs | None:
    """The logs of the latest run of ``job`` (``callops_daily``) for the partition ``day``, or
    None when there is none. The job matters: on a week's first day, the latest run carrying
    that partition key may be the week's (``callops_weekly``)."""
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=job, tags={PARTITION_TAG: day}), limit=1)
    if not runs:
        return None
    run = runs[0]
    manager = instance.compute_log_manager
    captured = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.LOGS_CAPTURED)
    streams: list[CapturedStream] = []
    for record in captured:
        log_key = [run.run_id, "compute_logs", record.dagster_event.logs_captured_data.file_key]
        data = manager.get_log_data(log_key)
        where = manager.get_log_metadata(log_key)
        for name in STREAMS:
            raw = getattr(data, name) or b""
            streams.append(CapturedStream(name, getattr(where, f"{name}_location"), raw.decode("utf-8", "replace")))
    return RunLogs(day, run.run_id, run.job_name, run.status.value, tuple(streams))

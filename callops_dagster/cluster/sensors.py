"""The relaunch sensor: runs a day again when its run lost its worker and Dagster will not
retry it (its backfill ended first). ``relaunch.decide`` decides; this module reads the
instance and acts.

Every ``CALLOPS_RELAUNCH_SENSOR_INTERVAL`` seconds it reads the RUN_FAILURE events of the last
``LOOKBACK_S`` of ``callops_daily`` and ``callops_weekly`` whose message says the run worker was
lost (run monitoring writes the launcher's reason there, ``health.LOST_WORKER``), gathers what
the decision needs about each (later runs of the day, the backfill, Dagster's retry tag and
word), and requests a run of the day for each RELAUNCH, tagged ``callops/relaunch_of``. The run
key (``relaunch:<lost run id>``) makes a request once per lost run, whatever the ticks; the
decision also leaves a day that has a later run, so a relaunch is never requested again once
made. No cursor: each tick looks at the whole window again (lost runs are few).

On by default only in a Celery cluster: a run fails as lost only through the Celery run
launcher's health check (``launcher.py``), so elsewhere (laptop mode, Kubernetes) the sensor
could never act. Which it is has to be known when the definitions load (a sensor's default
status is part of them), before any instance is at hand: ``CALLOPS_CELERY_BROKER`` set in the
environment is the mark (``deploy/cluster.env`` sets it for every cluster process; the
launcher reads it). Without it the sensor is STOPPED, and can still be turned on in the UI.

The Dagster behaviour it works around: a job backfill ends as soon as none of its runs is
unfinished, without waiting for a retry its failed runs are due (``job_backfill.py`` in
1.13.27; an asset backfill does wait for runs tagged ``dagster/will_retry``), and the retry
daemon does not retry a run whose backfill has ended. So a lost run that was its backfill's
last is never retried. No upstream issue reports that case for job backfills (searched:
dagster-io/dagster's issues and pull requests). The nearest upstream work:

- https://github.com/dagster-io/dagster/pull/33846 (open): "Fix job backfill status with
  autoretry", the status a job backfill ends with when its runs were retried;
- https://github.com/dagster-io/dagster/issues/34204 (open, fix proposed in
  https://github.com/dagster-io/dagster/pull/34205): an asset backfill can complete before a
  failed run's retry decision is published, and the retry is then refused, the same race.

Delete this sensor (and ``relaunch.py``) once a job backfill waits for its runs' retries.
"""

from __future__ import annotations

import time
from dataclasses import replace

import dagster as dg

from callops_dagster.cluster.health import LOST_WORKER
from callops_dagster.cluster.relaunch import (
    BACKFILL_FINISHED,
    DELETED,
    RELAUNCH,
    RELAUNCH_OF_TAG,
    RETRY_REFUSED,
    WAIT,
    Backfill,
    LaterRun,
    LostRun,
    decide,
    tick_summary,
)
from callops_dagster.platform.jobs import daily_job
from callops_dagster.platform.settings import Settings, load_settings
from callops_dagster.weekly.assets import weekly_job

RELAUNCH_SENSOR = "callops_relaunch_lost_days"
# Dagster's run tags, as it writes them (test_dagster_internals.py checks them against its constants).
PARTITION_TAG = "dagster/partition"
BACKFILL_ID_TAG = "dagster/backfill"
WILL_RETRY_TAG = "dagster/will_retry"
JOBS = (daily_job, weekly_job)
LOOKBACK_S = 24 * 3600.0  # lost runs older than this are not looked at
FAILURES_PER_TICK = 500  # newest first: every failure of the window, of any job, lost or not, counts


def default_status(settings: Settings) -> dg.DefaultSensorStatus:
    """RUNNING in a Celery cluster (CALLOPS_CELERY_BROKER set), STOPPED elsewhere, where no run
    is ever failed as lost (module docstring)."""
    return dg.DefaultSensorStatus.RUNNING if settings.celery_configured else dg.DefaultSensorStatus.STOPPED


def lost_failures(instance: dg.DagsterInstance, now: float) -> list[dg.EventLogRecord]:
    """The RUN_FAILURE events of the jobs in the lookback window that say the worker was lost, newest first."""
    records = instance.fetch_run_status_changes(
        dg.RunStatusChangeRecordsFilter(
            event_type=dg.DagsterEventType.RUN_FAILURE,
            after_timestamp=now - LOOKBACK_S,
        ),  # no job_names: the SQL storages refuse that filter
        limit=FAILURES_PER_TICK,
        ascending=False,
    ).records
    jobs = {job.name for job in JOBS}
    return [
        r for r in records if r.event_log_entry.job_name in jobs and LOST_WORKER in (r.event_log_entry.message or "")
    ]


def _later_runs(instance: dg.DagsterInstance, record: dg.RunRecord) -> tuple[LaterRun, ...]:
    """Runs of the same job and day created after ``record``'s run (a few of the newest)."""
    run = record.dagster_run
    newest = instance.get_run_records(
        dg.RunsFilter(job_name=run.job_name, tags={PARTITION_TAG: run.tags[PARTITION_TAG]}), limit=5
    )
    return tuple(
        LaterRun(r.dagster_run.run_id, r.dagster_run.status.value, r.dagster_run.parent_run_id == run.run_id)
        for r in newest
        if r.storage_id > record.storage_id
    )


def _retry_refused(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether the retry daemon logged on the run that it will not retry it (its backfill ended)."""
    events = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, ascending=False).records
    return any(RETRY_REFUSED in (e.event_log_entry.message or "") for e in events)


def lost_run(instance: dg.DagsterInstance, failure: dg.EventLogRecord) -> LostRun | None:
    """What the decision needs about the run ``failure`` failed; None when the run is gone."""
    record = instance.get_run_record_by_id(failure.run_id)
    if record is None:
        return None
    run = record.dagster_run
    lost = LostRun(
        run_id=run.run_id,
        job=run.job_name,
        day=run.tags.get(PARTITION_TAG),
        failed_at=failure.event_log_entry.timestamp,
        will_retry=run.tags.get(WILL_RETRY_TAG),
        relaunch_of=run.tags.get(RELAUNCH_OF_TAG),
    )
    if lost.day is None:
        return lost
    later = _later_runs(instance, record)
    backfill = None
    if backfill_id := run.tags.get(BACKFILL_ID_TAG):
        found = instance.get_backfill(backfill_id)
        backfill = Backfill(backfill_id, found.status.value if found else DELETED)
    # Only asked when it can matter: no later run, and a backfill that finished.
    refused = not later and backfill is not None and backfill.status in BACKFILL_FINISHED
    return replace(
        lost, later_runs=later, backfill=backfill, retry_refused=refused and _retry_refused(instance, run.run_id)
    )


@dg.sensor(
    name=RELAUNCH_SENSOR,
    jobs=list(JOBS),
    minimum_interval_seconds=load_settings().relaunch_sensor_interval,
    default_status=default_status(load_settings()),
    description=(
        "Cluster mode: runs a day (or week) again when its run failed because its worker was lost "
        "and Dagster's run retries will not retry it (its backfill ended before the retry was "
        "made, or run retries are off), and the day has no later run. Once per lost run (run key "
        "relaunch:<run id>); the new run is tagged callops/relaunch_of. On by default where "
        "CALLOPS_CELERY_BROKER is set (a Celery cluster); elsewhere no run is ever failed as lost, "
        "and it is off."
    ),
)
def relaunch_lost_days(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """A run request per lost run the decision says to relaunch."""
    instance = context.instance
    now = time.time()
    runs = [run for failure in lost_failures(instance, now) if (run := lost_run(instance, failure))]
    decisions = [decide(run, now=now, retries_enabled=instance.run_retries_enabled) for run in runs]
    requests = []
    for decision in decisions:
        if decision.action in (RELAUNCH, WAIT):
            context.log.info(decision.line())
        if decision.action == RELAUNCH:
            requests.append(
                dg.RunRequest(
                    run_key=decision.run.run_key,
                    job_name=decision.run.job,
                    partition_key=decision.run.day,
                    tags={RELAUNCH_OF_TAG: decision.run.run_id},
                )
            )
    return dg.SensorResult(run_requests=requests, skip_reason=None if requests else tick_summary(decisions))

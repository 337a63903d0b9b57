"""The relaunch sensor (cluster/sensors.py) over an in-memory instance holding runs failed as
run monitoring fails a lost one: the launcher's reason in the RUN_FAILURE message, Dagster's
retry tag, the backfill's status and the retry daemon's word, as the daemons write them. The
retry daemon's word is written by the daemon's own function (``should_retry``), so these tests
fail the day Dagster words it differently from what the sensor looks for."""

from __future__ import annotations

import os
import time

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.storage.tags import BACKFILL_ID_TAG, PARENT_RUN_ID_TAG, ROOT_RUN_ID_TAG, WILL_RETRY_TAG
from dagster._core.utils import make_new_run_id
from dagster._daemon.auto_run_reexecution.auto_run_reexecution import should_retry

import callops_dagster.cluster.sensors as sensors
from callops_dagster.cluster.relaunch import RELAUNCH_OF_TAG, RETRY_REFUSED
from callops_dagster.cluster.sensors import PARTITION_TAG, RELAUNCH_SENSOR, default_status, relaunch_lost_days
from callops_dagster.definitions import defs
from callops_dagster.platform.settings import Settings, load_settings
from callops_dagster_tests.conftest import TELEMETRY_OFF

DAY = "2025-04-28"
WEEK = "2025-04-21"
LOST = "Detected run worker status FAILED: 'run worker lost: the run's Celery task is STARTED but no live worker "


@pytest.fixture
def instance():
    """In memory, with run retries on as deploy/dagster.yaml has them."""
    inst = dg.DagsterInstance.ephemeral(settings={**TELEMETRY_OFF, "run_retries": {"enabled": True, "max_retries": 2}})
    yield inst
    inst.dispose()


def add_backfill(instance: dg.DagsterInstance, status: BulkActionStatus, backfill_id: str = "bf1") -> str:
    instance.add_backfill(
        PartitionBackfill(backfill_id, status, from_failure=False, tags={}, backfill_timestamp=time.time(),
                          partition_names=[DAY])
    )
    return backfill_id


def add_run(instance: dg.DagsterInstance, day: str = DAY, job: str = "callops_daily", **tags: str) -> dg.DagsterRun:
    return instance.add_run(
        dg.DagsterRun(job_name=job, run_id=make_new_run_id(), status=dg.DagsterRunStatus.STARTED,
                      tags={PARTITION_TAG: day, **tags})
    )


def fail(instance: dg.DagsterInstance, run: dg.DagsterRun, message: str = LOST) -> dg.DagsterRun:
    """Failed as run monitoring fails it: a RUN_FAILURE event with ``message``."""
    instance.report_run_failed(run, message + f"held it for 10s'. Marking run {run.run_id} as failed.")
    return instance.get_run_by_id(run.run_id)


def retry_of(instance: dg.DagsterInstance, parent: dg.DagsterRun) -> dg.DagsterRun:
    """A child run as the retry daemon makes it."""
    return instance.add_run(
        dg.DagsterRun(job_name=parent.job_name, run_id=make_new_run_id(), status=dg.DagsterRunStatus.NOT_STARTED,
                      parent_run_id=parent.run_id, root_run_id=parent.run_id,
                      tags={PARTITION_TAG: parent.tags[PARTITION_TAG], PARENT_RUN_ID_TAG: parent.run_id,
                            ROOT_RUN_ID_TAG: parent.run_id})
    )


def refused_by_the_retry_daemon(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str:
    """What Dagster's retry daemon logs on ``run`` when it decides not to retry it: its own
    function decides and writes it."""
    assert should_retry(run, instance) is False
    [word] = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records
    return word.event_log_entry.message


def orphan(instance: dg.DagsterInstance, day: str = DAY, job: str = "callops_daily") -> dg.DagsterRun:
    """A lost run whose backfill ended first: the retry daemon said it will not retry it."""
    run = fail(instance, add_run(instance, day, job, **{BACKFILL_ID_TAG: add_backfill(instance, BulkActionStatus.COMPLETED_FAILED)}))
    refused_by_the_retry_daemon(instance, run)
    return run


def tick(instance: dg.DagsterInstance) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance) as context:
        return relaunch_lost_days(context)


def skipped(result: dg.SensorResult) -> str:
    assert result.run_requests == []
    return result.skip_reason.skip_message


def test_the_sensor_is_in_the_code_location_off_by_default_without_celery_at_the_settings_interval():
    assert "CALLOPS_CELERY_BROKER" not in os.environ  # laptop mode, as every test loads the definitions
    sensor = defs.resolve_sensor_def(RELAUNCH_SENSOR)
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert sensor.minimum_interval_seconds == load_settings().relaunch_sensor_interval
    assert {job.name for job in sensor.jobs} == {"callops_daily", "callops_weekly"}


@pytest.mark.parametrize(("environ", "status"), [
    ({}, dg.DefaultSensorStatus.STOPPED),
    ({"CALLOPS_CELERY_BROKER": " "}, dg.DefaultSensorStatus.STOPPED),
    ({"CALLOPS_CELERY_BROKER": "pyamqp://callops@rabbitmq.internal:5672//"}, dg.DefaultSensorStatus.RUNNING),
    ({"CALLOPS_CELERY_BROKER": Settings().celery_broker}, dg.DefaultSensorStatus.RUNNING),  # the default, named
])
def test_the_sensor_is_on_by_default_where_the_celery_broker_is_set(environ, status):
    assert default_status(Settings.from_env(environ)) == status


@pytest.mark.parametrize("backfill", [BulkActionStatus.COMPLETED_FAILED, BulkActionStatus.COMPLETED_SUCCESS, None],
                         ids=["ended-failed", "ended", "deleted"])
def test_the_sensor_knows_the_retry_daemons_word_for_a_run_it_will_not_retry(instance, backfill):
    backfill_id = add_backfill(instance, backfill) if backfill else "gone"
    run = fail(instance, add_run(instance, **{BACKFILL_ID_TAG: backfill_id}))
    assert RETRY_REFUSED in refused_by_the_retry_daemon(instance, run)


def test_a_lost_run_of_an_ended_backfill_is_relaunched_once_by_run_key(instance):
    lost = orphan(instance)
    assert lost.tags[WILL_RETRY_TAG] == "true"  # Dagster meant to retry it, but its backfill ended first
    [request] = tick(instance).run_requests
    assert request.partition_key == DAY
    assert request.job_name == "callops_daily"
    assert request.run_key == f"relaunch:{lost.run_id}"
    assert request.tags == {RELAUNCH_OF_TAG: lost.run_id}


def test_once_the_relaunch_exists_the_day_is_left_to_it(instance):
    lost = orphan(instance)
    add_run(instance, **{RELAUNCH_OF_TAG: lost.run_id})  # what the daemon made of the request
    assert skipped(tick(instance)) == "1 lost run(s) settled"


def test_a_lost_run_dagster_retried_is_left_to_the_retry(instance):
    backfill = add_backfill(instance, BulkActionStatus.COMPLETED_FAILED)
    lost = fail(instance, add_run(instance, **{BACKFILL_ID_TAG: backfill}))
    retry_of(instance, lost)
    assert skipped(tick(instance)) == "1 lost run(s) settled"


def test_a_lost_run_of_a_running_backfill_is_waited_on(instance):
    fail(instance, add_run(instance, **{BACKFILL_ID_TAG: add_backfill(instance, BulkActionStatus.REQUESTED)}))
    assert "still runs: Dagster's run retries retry it" in skipped(tick(instance))


def test_an_ended_backfill_without_the_retry_daemons_word_is_waited_on(instance):
    fail(instance, add_run(instance, **{BACKFILL_ID_TAG: add_backfill(instance, BulkActionStatus.COMPLETED_FAILED)}))
    assert skipped(tick(instance)).endswith("waiting for the retry daemon's word on it")


def test_a_run_that_failed_for_another_reason_is_not_looked_at(instance):
    run = add_run(instance, **{BACKFILL_ID_TAG: add_backfill(instance, BulkActionStatus.COMPLETED_FAILED)})
    fail(instance, run, message="Execution of run for \"callops_daily\" failed. ")
    assert skipped(tick(instance)) == "no run lost its worker in the lookback window"


def test_a_lost_week_is_relaunched_on_the_weekly_job(instance):
    orphan(instance, WEEK, "callops_weekly")
    [request] = tick(instance).run_requests
    assert (request.job_name, request.partition_key) == ("callops_weekly", WEEK)


def test_with_run_retries_off_a_lost_run_is_relaunched(instance):
    plain = dg.DagsterInstance.ephemeral(settings=TELEMETRY_OFF)
    try:
        lost = fail(plain, add_run(plain))
        assert WILL_RETRY_TAG not in lost.tags
        [request] = tick(plain).run_requests
        assert request.run_key == f"relaunch:{lost.run_id}"
    finally:
        plain.dispose()


def test_a_lost_run_before_the_lookback_window_is_not_looked_at(instance, monkeypatch):
    orphan(instance)
    monkeypatch.setattr(sensors, "LOOKBACK_S", -60.0)  # the window starts a minute from now
    assert skipped(tick(instance)) == "no run lost its worker in the lookback window"


@pytest.mark.parametrize(("environ", "seconds"), [({}, 30), ({"CALLOPS_RELAUNCH_SENSOR_INTERVAL": "2"}, 2)])
def test_the_interval_is_a_setting(environ, seconds):
    assert Settings.from_env(environ).relaunch_sensor_interval == seconds

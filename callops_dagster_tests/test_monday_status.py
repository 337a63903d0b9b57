"""`callops status` on a week's first day (issue 22): a week's partition key is its first day,
so that day's latest run carrying the partition key may be its week's. The day's row, its
checks and ``--logs`` read the day's own runs (``callops_daily``); the week's run has a line
of its own.

Fast: runs added by hand to an in-memory instance, a day's then its week's. Slow (layer 2): a
generated Monday, with the warnings a generated day carries, run through ``callops_daily``,
then its week through ``callops_weekly``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.utils import make_new_run_id

from callops_dagster import runner
from callops_dagster.cluster.run_logs import day_run_logs
from callops_dagster.console import status_table, weeks_table
from callops_dagster.definitions import defs
from callops_dagster.mock.data import generate_day
from callops_dagster.platform.jobs import DAILY_JOB
from callops_dagster.weekly.assets import JOB as WEEKLY_JOB
from callops_dagster_tests.conftest import landing, resources_for

MONDAY = "2025-04-21"  # a day, and its week's partition key


def add_run(instance: dg.DagsterInstance, job: str, partition: str = MONDAY) -> dg.DagsterRun:
    """A finished run of ``job`` for ``partition``, tagged as Dagster tags it."""
    tags = defs.resolve_job_def(job).get_tags_for_partition_key(partition, selected_asset_keys=None)
    return instance.add_run(
        dg.DagsterRun(job_name=job, run_id=make_new_run_id(), status=dg.DagsterRunStatus.SUCCESS, tags=tags)
    )


def landed(data: Path) -> Path:
    """The Monday's landing folder, with one file."""
    folder = landing(data, MONDAY)
    folder.mkdir(parents=True)
    (folder / "call_logs.csv").write_text("call_id\n", encoding="utf-8")
    return folder


# ---------------------------------------------------------------- fast: runs added by hand


@pytest.fixture
def day_then_week(instance):
    """The Monday's run, then (later, so newest) its week's run."""
    return instance, add_run(instance, DAILY_JOB), add_run(instance, WEEKLY_JOB)


def test_the_days_latest_run_is_its_own_not_its_weeks(day_then_week):
    instance, day, week = day_then_week
    assert instance.get_runs(limit=1)[0].run_id == week.run_id  # the newest run with the tag is the week's
    assert runner.latest_run(instance, DAILY_JOB, MONDAY).run_id == day.run_id
    assert runner.latest_run(instance, WEEKLY_JOB, MONDAY).run_id == week.run_id


def test_the_status_row_shows_the_days_run_not_its_weeks(day_then_week, tmp_path):
    instance, day, week = day_then_week
    status = runner.day_status(instance, MONDAY, landed(tmp_path))
    assert status.last_run == f"success ({day.run_id[:8]})"
    assert runner.run_text(runner.latest_run(instance, WEEKLY_JOB, MONDAY)) == f"success ({week.run_id[:8]})"


def test_the_logs_of_a_monday_are_its_days_run(day_then_week):
    instance, day, week = day_then_week
    logs = day_run_logs(instance, MONDAY)
    assert (logs.run_id, logs.job) == (day.run_id, DAILY_JOB)
    assert day_run_logs(instance, MONDAY, job=WEEKLY_JOB).run_id == week.run_id


def test_a_day_with_only_its_weeks_run_has_no_run_of_its_own(instance, tmp_path):
    add_run(instance, WEEKLY_JOB)
    assert day_run_logs(instance, MONDAY) is None
    assert runner.day_status(instance, MONDAY, landed(tmp_path)).last_run is None


# ---------------------------------------------------------------- slow: a generated Monday and its week


@pytest.fixture(scope="module")
def monday(tmp_path_factory):
    """A generated Monday (its defects make checks WARN) run by callops_daily, then its week by
    callops_weekly, in one in-memory instance; the jobs over a temporary data dir."""
    data = tmp_path_factory.mktemp("monday") / "data"
    generate_day(dt.date.fromisoformat(MONDAY), data, calls=300, agents=12, orgs=2, defect_rate=0.02, seed=3)
    located = dg.Definitions(assets=defs.assets, asset_checks=defs.asset_checks, jobs=defs.jobs,
                             resources=resources_for(data))
    instance = dg.DagsterInstance.ephemeral(settings={"telemetry": {"enabled": False}})
    day = located.resolve_job_def(DAILY_JOB).execute_in_process(partition_key=MONDAY, instance=instance,
                                                                raise_on_error=False)
    week = located.resolve_job_def(WEEKLY_JOB).execute_in_process(partition_key=MONDAY, instance=instance,
                                                                  raise_on_error=False)
    yield instance, data, day, week
    instance.dispose()


@pytest.mark.slow
def test_a_generated_mondays_row_lists_its_warnings_each_with_its_asset(monday):
    instance, data, day, week = monday
    assert day.success and week.success
    status = runner.day_status(instance, MONDAY, landing(data, MONDAY))
    assert status.last_run == f"success ({day.run_id[:8]})"
    warned = {(c.asset, c.check) for c in status.checks if c.severity == "WARN"}
    assert warned, "a generated day carries defects its checks warn about"
    assert warned == {(c.asset, c.check) for c in runner.failed_checks(instance, day.run_id)}
    row = status_table([status]).splitlines()[1]
    assert all(f"{asset}:{check} (WARN)" in row for asset, check in warned)
    [week_row] = weeks_table(runner.week_statuses(instance)).splitlines()[1:]
    assert week_row.startswith(MONDAY) and f"success ({week.run_id[:8]})" in week_row


@pytest.mark.slow
def test_a_generated_mondays_logs_are_its_days_run(monday):
    instance, _, day, _ = monday
    logs = day_run_logs(instance, MONDAY)
    assert (logs.run_id, logs.job) == (day.run_id, DAILY_JOB)


@pytest.mark.slow
def test_each_jobs_runs_carry_their_lane_tag(monday):
    _, _, day, week = monday
    assert day.dagster_run.tags["callops/day"] == MONDAY and "callops/week" not in day.dagster_run.tags
    assert week.dagster_run.tags["callops/week"] == MONDAY and "callops/day" not in week.dagster_run.tags

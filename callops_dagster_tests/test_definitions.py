"""The code location loads: assets, checks, partitions, job, schedule, executor."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from callops_dagster.definitions import defs
from callops_dagster.platform.partitions import daily_partitions
from callops_dagster.platform.settings import load_settings
from callops_dagster_tests.conftest import CHECKS_PER_DAY, cli_env

SETTINGS = load_settings()  # as the definitions read them

DAGSTER = Path(sys.executable).parent / "dagster"
GROUPS = {
    "raw_call_logs": "landing",
    "raw_agent_roster": "landing",
    "raw_disposition_summary": "landing",
    "call_logs": "validated",
    "call_logs_rejected": "validated",
    "agent_roster": "validated",
    "agent_roster_rejected": "validated",
    "disposition_summary": "validated",
    "disposition_summary_rejected": "validated",
    "agent_day": "joined",
    "rejected_rows": "reporting",
    "agent_performance_summary": "reporting",
    "day_trend": "reporting",
    "slack_summary": "reporting",
    "agent_compliance": "compliance",
    "loan_contacts": "compliance",
    "loan_contact_frequency": "compliance",
    "agent_weekly_summary": "weekly",  # weekly partitions, its own job: test_weekly.py
}
DAILY = set(GROUPS) - {"agent_weekly_summary"}


def test_fixture_instance_has_telemetry_off(instance):
    assert instance.telemetry_enabled is False


def test_defs_load_with_every_asset():
    dg.Definitions.validate_loadable(defs)
    assert {key.to_user_string() for key in defs.resolve_all_asset_keys()} == set(GROUPS)


def test_every_asset_and_check_shares_one_daily_partitioning():
    assert isinstance(daily_partitions, dg.DailyPartitionsDefinition)
    for spec in defs.resolve_all_asset_specs():
        if spec.key.to_user_string() in DAILY:
            assert spec.partitions_def == daily_partitions, spec.key
    check_specs = [c for a in defs.assets for c in a.check_specs]
    assert len(check_specs) == CHECKS_PER_DAY
    for check in check_specs:
        assert check.partitions_def == daily_partitions, check.key


def test_partitions_follow_the_settings():
    assert daily_partitions.start == dt.datetime.fromisoformat(SETTINGS.start_date).replace(
        tzinfo=ZoneInfo(SETTINGS.timezone)
    )
    assert daily_partitions.timezone == SETTINGS.timezone


def test_every_asset_has_a_description_a_group_and_kinds():
    for spec in defs.resolve_all_asset_specs():
        name = spec.key.to_user_string()
        assert spec.description and spec.description.strip(), name
        assert spec.group_name == GROUPS[name], name
        assert spec.kinds, name


def test_daily_job_resolves_over_every_asset():
    job = defs.resolve_job_def("callops_daily")
    assert job.partitions_def == daily_partitions
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == DAILY
    assert job.executor_def.name == "in_process"


def test_executor_is_in_process():
    assert defs.executor is dg.in_process_executor


def test_schedule_resolves_stopped_and_asks_for_yesterday():
    schedule = defs.resolve_schedule_def("callops_daily_schedule")
    assert schedule.job_name == "callops_daily"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.cron_schedule == f"0 {SETTINGS.schedule_hour} * * *"
    assert schedule.execution_timezone == daily_partitions.timezone
    with dg.instance_for_test() as instance:  # a temp DAGSTER_HOME, telemetry disabled
        tick = dt.datetime(2025, 4, 29, SETTINGS.schedule_hour, tzinfo=ZoneInfo(SETTINGS.timezone))
        # Closed with the block: an open schedule context leaves its instance as the process's
        # current definitions-state storage, and a later dg.materialize in this worker fails.
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=tick) as context:
            requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == ["2025-04-28"]


# ---------------------------------------------------------------- subprocesses


@pytest.mark.slow
def test_dagster_definitions_validate_exits_zero(tmp_path):
    env = cli_env(tmp_path / "data", tmp_path / "dagster_home")
    done = subprocess.run(
        [str(DAGSTER), "definitions", "validate", "-m", "callops_dagster.definitions"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr


PRINT_PARTITIONS = (
    "from callops_dagster.definitions import defs\n"
    "p = defs.resolve_job_def('callops_daily').partitions_def\n"
    "print(p.start.isoformat(), p.timezone)\n"
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, "2025-01-01T00:00:00+05:30 Asia/Kolkata"),
        ({"CALLOPS_START_DATE": "2025-03-15"}, "2025-03-15T00:00:00+05:30 Asia/Kolkata"),
    ],
    ids=["default", "CALLOPS_START_DATE"],
)
def test_partition_start_default_and_env_override(tmp_path, extra, expected):
    env = cli_env(tmp_path / "data", tmp_path / "dagster_home", **extra)
    done = subprocess.run(
        [sys.executable, "-c", PRINT_PARTITIONS],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == expected

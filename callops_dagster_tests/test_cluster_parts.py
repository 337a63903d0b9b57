"""Cluster mode's parts, without servers: the PostgreSQL URL rewrite, deploy/dagster.yaml as
Dagster reads it, the `callops worker` command line and environment, and the lost-run decision.
(test_postgres_instance.py and test_cluster.py run them against the real servers.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from dagster._core.instance.config import dagster_instance_config
from dagster._core.launcher import WorkerStatus
from dagster._core.storage.compute_log_manager import ComputeIOType, ComputeLogManager
from dagster._serdes import ConfigurableClassData
from dagster_celery.cli import get_validated_config
from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG

import dagster as dg
from benchmarks.cluster_processes import DEPLOY, instance_home
from callops_dagster.cli import main
from callops_dagster.cluster import launcher as launcher_module
from callops_dagster.cluster.health import FAILED, RUNNING, SUCCESS, judge
from callops_dagster.cluster.launcher import CallopsCeleryRunLauncher
from callops_dagster.cluster.log_view import CapturedStream, RunLogs, last_lines, render
from callops_dagster.cluster.urls import PostgresUrlError, psycopg2_url, redacted
from callops_dagster.cluster.worker import (
    PRELOAD,
    WorkerOptions,
    config_yaml,
    worker_argv,
    worker_env,
    write_config,
)
from callops_dagster.platform.jobs import DAY_TAG
from callops_dagster.weekly.assets import WEEK_TAG

# ---------------------------------------------------------------- the URL rewrite


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:5432/dagster", "postgresql+psycopg2://postgres@127.0.0.1:5432/dagster"),
        ("postgres://postgres@db/dagster", "postgresql+psycopg2://postgres@db/dagster"),
        ("POSTGRESQL://u@h/d", "postgresql+psycopg2://u@h/d"),
        (
            "postgresql://ops:s%40cret@db.internal:6543/dagster?sslmode=require&application_name=callops",
            "postgresql+psycopg2://ops:s%40cret@db.internal:6543/dagster?sslmode=require&application_name=callops",
        ),
        ("  postgresql://u@h/d\n", "postgresql+psycopg2://u@h/d"),
    ],
)
def test_bare_postgres_urls_get_the_psycopg2_driver_and_keep_the_rest(given, expected):
    assert psycopg2_url(given) == expected


@pytest.mark.parametrize(
    "explicit",
    ["postgresql+psycopg2://u:p@h:5432/d", "postgresql+psycopg://u@h/d", "postgresql+pg8000://u@h/d?ssl=true"],
)
def test_a_url_that_names_its_driver_is_left_alone(explicit):
    assert psycopg2_url(explicit) == explicit


@pytest.mark.parametrize("wrong", ["mysql://u@h/d", "sqlite:///x.db", "", "127.0.0.1:5432/dagster"])
def test_a_url_of_another_database_is_refused_naming_the_variable(wrong):
    with pytest.raises(PostgresUrlError, match="DAGSTER_PG_URL"):
        psycopg2_url(wrong)


@pytest.mark.parametrize("url, shown", [
    ("postgresql://ops:s3cret@db:5432/d", "postgresql://ops:***@db:5432/d"),
    ("postgresql://ops@db/d", "postgresql://ops@db/d"),
    # Characters a URL parser takes for the path, query or fragment, inside the password.
    ("postgresql://u:ab#cd@h:5432/db", "postgresql://u:***@h:5432/db"),
    ("pyamqp://callops:pa/ss#w0rd@rabbit:5672//", "pyamqp://callops:***@rabbit:5672//"),
    ("redis://:p?w@d@cache:6379/0", "redis://:***@cache:6379/0"),
    ("postgresql://ops@db/d?sslmode=require&password=sekrit", "postgresql://ops@db/d?sslmode=require&password=***"),
])
def test_messages_never_show_the_password(url, shown):
    assert redacted(url) == shown


def test_a_refused_url_does_not_show_its_password():
    with pytest.raises(PostgresUrlError) as refused:
        psycopg2_url("mysql://ops:s3#cret@db/d")
    assert "s3#cret" not in str(refused.value) and "cret" not in str(refused.value)


# ---------------------------------------------------------------- deploy/dagster.yaml


@pytest.fixture
def deploy_config(tmp_path, monkeypatch) -> dict:
    """deploy/dagster.yaml, validated by Dagster's own instance schema (no database needed)."""
    monkeypatch.setenv("DAGSTER_PG_URL", "postgresql://postgres@127.0.0.1:5432/unused")
    config, custom_class = dagster_instance_config(str(instance_home(tmp_path / "home")))
    assert custom_class is None
    return config


def test_deploy_yaml_keeps_the_instance_in_postgres_through_the_callops_storage(deploy_config):
    storage = deploy_config["storage"]["custom"]
    assert (storage["module"], storage["class"]) == ("callops_dagster.cluster.storage", "CallopsPostgresStorage")
    assert storage["config"] == {"postgres_url": {"env": "DAGSTER_PG_URL"}, "should_autocreate_tables": False}


def test_deploy_yamls_compute_log_manager_is_built_from_the_environment(deploy_config, monkeypatch, tmp_path):
    """Bucket, prefix and staging folder from their variables; the S3 endpoint from
    AWS_ENDPOINT_URL, which boto3 reads itself (no endpoint_url in the yaml)."""
    for name, value in {"DAGSTER_COMPUTE_LOGS_BUCKET": "data-bucket", "DAGSTER_COMPUTE_LOGS_PREFIX": "prod/compute-logs",
                        "DAGSTER_COMPUTE_LOGS_LOCAL_DIR": str(tmp_path / "staging"),
                        "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}.items():
        monkeypatch.setenv(name, value)
    block = deploy_config["compute_logs"]
    manager = ConfigurableClassData(block["module"], block["class"], yaml.safe_dump(block["config"])).rehydrate(
        as_type=ComputeLogManager)
    assert manager._s3_key(["run-1", "compute_logs", "abc"], ComputeIOType.STDERR) == (
        "prod/compute-logs/storage/run-1/compute_logs/abc.err")
    assert manager._s3_bucket == "data-bucket" and manager.upload_interval == 10
    assert manager._s3_session.meta.endpoint_url == "http://127.0.0.1:9"
    assert manager.local_manager.get_captured_local_path(["run-1", "compute_logs", "abc"], "err").startswith(
        str(tmp_path / "staging"))


def test_deploy_yaml_queues_runs_one_per_day_and_retries_lost_ones(deploy_config):
    assert deploy_config["telemetry"] == {"enabled": False}
    assert deploy_config["run_queue"]["dequeue_interval_seconds"] <= 2  # Dagster's QueuedRunCoordinator
    runs = deploy_config["concurrency"]["runs"]
    assert runs["max_concurrent_runs"] >= 1
    assert runs["tag_concurrency_limits"] == [  # one run per day, and one per week, at once
        {"key": tag, "value": {"applyLimitPerUniqueValue": True}, "limit": 1} for tag in (DAY_TAG, WEEK_TAG)
    ]
    assert deploy_config["run_retries"]["enabled"] and deploy_config["run_retries"]["max_retries"] >= 1
    monitoring = deploy_config["run_monitoring"]
    assert monitoring["enabled"] and monitoring["max_resume_run_attempts"] == 0
    assert monitoring["poll_interval_seconds"] <= 10


def test_deploy_yaml_launcher_loads_with_the_settings_broker_backend_and_queue(deploy_config, monkeypatch):
    launcher_config = deploy_config["run_launcher"]
    assert launcher_config["class"] == "CallopsCeleryRunLauncher"
    launcher = ConfigurableClassData(
        launcher_config["module"], launcher_config["class"], yaml.dump(launcher_config["config"])
    ).rehydrate(as_type=CallopsCeleryRunLauncher)
    assert launcher.lost_after_seconds == 10
    assert launcher.default_queue == "dagster"
    assert launcher.broker.startswith("pyamqp://") and launcher.backend.startswith("redis://")
    assert launcher.celery.conf.task_acks_late is False


def test_deploy_workspace_loads_the_installed_code_location_as_callops():
    location = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())["load_from"][0]["python_module"]
    assert location == {"module_name": "callops_dagster.definitions", "location_name": "callops"}


# ---------------------------------------------------------------- callops worker


OPTIONS = WorkerOptions(broker="pyamqp://u:p@rabbit:5672//", backend="redis://cache:6379/1", queue="days",
                        concurrency=3, name="w1")


def test_worker_argv_is_dagster_celery_worker_start_with_a_prefork_pool(tmp_path):
    argv = worker_argv(tmp_path / "bin", tmp_path / "cfg.yaml", OPTIONS)
    assert argv[:3] == [str(tmp_path / "bin" / "dagster-celery"), "worker", "start"]
    head, celery_flags = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    pairs = dict(zip(head[3::2], head[4::2], strict=True))
    assert pairs == {"--app": "dagster_celery.app", "--config-yaml": str(tmp_path / "cfg.yaml"), "--queue": "days",
                     "--loglevel": "INFO", "--includes": PRELOAD, "--name": "w1"}
    assert {"--pool=prefork", "--concurrency=3"} <= set(celery_flags)


def test_worker_without_a_name_lets_dagster_celery_choose_one(tmp_path):
    argv = worker_argv(tmp_path, tmp_path / "cfg.yaml", WorkerOptions(broker="b", backend="r", queue="q"))
    assert "--name" not in argv and "--concurrency=1" in argv


def test_worker_env_puts_the_venvs_bin_first_on_path(tmp_path):
    bin_dir = tmp_path / "venv" / "bin"
    env = worker_env({"PATH": f"/usr/bin{os.pathsep}{bin_dir}{os.pathsep}/bin", "KEEP": "1"}, bin_dir)
    assert env["PATH"].split(os.pathsep) == [str(bin_dir), "/usr/bin", "/bin"]
    assert env["KEEP"] == "1"
    assert worker_env({}, bin_dir)["PATH"] == str(bin_dir)


def test_worker_config_is_what_dagster_celery_validates_and_private(tmp_path):
    path = write_config(tmp_path, OPTIONS)
    assert path.stat().st_mode & 0o077 == 0
    config = get_validated_config(str(path))
    assert (config["broker"], config["backend"]) == (OPTIONS.broker, OPTIONS.backend)
    assert config["config_source"]["task_acks_late"] is False
    # Real descriptors in the pool processes, or Dagster's compute log capture captures nothing.
    assert config["config_source"]["worker_redirect_stdouts"] is False
    assert config["config_source"]["worker_prefetch_multiplier"] == 1
    assert json.loads(config_yaml(OPTIONS)) == yaml.safe_load(path.read_text())


@pytest.mark.parametrize("command", ["migrate", "worker"])
@pytest.mark.parametrize("pg_url, said", [
    (None, "DAGSTER_PG_URL"),
    ("mysql://ops:s3#cret@db/d", "must be a PostgreSQL URL"),
    ("postgresql://ops:s3#cret@127.0.0.1:1/dagster", "the database postgresql+psycopg2://ops:***@127.0.0.1:1/dagster"),
], ids=["unset", "not-postgres", "unreachable"])
def test_a_database_it_cannot_use_is_one_line_without_the_password(monkeypatch, tmp_path, command, pg_url, said):
    monkeypatch.setenv("DAGSTER_HOME", str(instance_home(tmp_path / "home")))
    if pg_url is None:
        monkeypatch.delenv("DAGSTER_PG_URL", raising=False)
    else:
        monkeypatch.setenv("DAGSTER_PG_URL", pg_url)
    result = CliRunner().invoke(main, [command])
    assert result.exit_code == 2, result.output
    assert said in result.output
    assert "Traceback" not in result.output and "cret" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_callops_worker_refuses_without_a_cluster_dagster_home(monkeypatch, tmp_path):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code == 2
    assert "DAGSTER_HOME" in result.output and "deploy/dagster.yaml" in result.output
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # no dagster.yaml in it
    assert CliRunner().invoke(main, ["migrate"]).exit_code == 2


# ---------------------------------------------------------------- the lost-run decision


@pytest.mark.parametrize(
    ("state", "held", "missing_for", "status"),
    [
        ("SUCCESS", None, 0, SUCCESS),
        ("FAILURE", True, 0, FAILED),
        ("REVOKED", False, 99, FAILED),
        ("STARTED", True, 0, RUNNING),
        ("PENDING", True, 0, RUNNING),  # reserved by a worker, not started there yet
        ("STARTED", None, 99, RUNNING),  # the workers could not be asked: a doubt is not a loss
        ("STARTED", False, 0, RUNNING),  # first look with no holder: the grace starts
        ("STARTED", False, 9.9, RUNNING),
        ("STARTED", False, 10, FAILED),
        ("PENDING", False, 30, FAILED),  # never held again (a lost reserved message is requeued)
    ],
)
def test_a_started_run_is_lost_only_when_no_live_worker_holds_it_for_the_grace(state, held, missing_for, status):
    verdict = judge(state, held, missing_for, grace_s=10)
    assert verdict.status == status
    assert verdict.reason


def test_the_lost_verdict_says_what_happened():
    reason = judge("STARTED", False, 12, grace_s=10).reason
    assert "lost" in reason and "STARTED" in reason and "12s" in reason


class FakeResult:
    def __init__(self, state: str):
        self.state = state


def test_launcher_fails_a_run_after_the_grace_and_forgets_a_task_held_again(monkeypatch):
    launcher = CallopsCeleryRunLauncher(lost_after_seconds=10)
    states, holders, clock = {"t1": "STARTED"}, {"t1": False}, [100.0]
    monkeypatch.setattr(launcher.celery, "AsyncResult", lambda task_id: FakeResult(states[task_id]))
    monkeypatch.setattr(launcher, "_held", lambda task_id: holders[task_id])
    monkeypatch.setattr(launcher_module.time, "monotonic", lambda: clock[0])
    revoked: list[tuple[str, dict]] = []
    monkeypatch.setattr(launcher.celery.control, "revoke", lambda task_id, **how: revoked.append((task_id, how)))
    run = dg.DagsterRun(job_name="callops_daily", run_id="r1", tags={DAGSTER_CELERY_TASK_ID_TAG: "t1"})

    def look(at: float) -> WorkerStatus:
        clock[0] = at
        return launcher.check_run_worker_health(run).status

    assert look(100) == WorkerStatus.RUNNING  # first look without a holder
    holders["t1"] = True
    assert look(108) == WorkerStatus.RUNNING  # held again: the count starts over
    holders["t1"] = False
    assert look(112) == WorkerStatus.RUNNING  # missing again from 112
    assert look(121.9) == WorkerStatus.RUNNING
    assert revoked == []  # nothing is killed while the run may still be running
    assert look(122) == WorkerStatus.FAILED  # 10 s without a holder
    # ... and a worker too busy to answer is told to kill it, so its retry never runs beside it.
    assert revoked == [("t1", {"terminate": True, "signal": "SIGKILL"})]
    states["t1"] = "SUCCESS"
    assert look(200) == WorkerStatus.SUCCESS


def test_launcher_fails_a_started_run_that_never_got_a_task():
    launcher = CallopsCeleryRunLauncher()
    result = launcher.check_run_worker_health(dg.DagsterRun(job_name="callops_daily", run_id="r2"))
    assert result.status == WorkerStatus.FAILED and "Celery task" in result.msg


# ---------------------------------------------------------------- callops status --logs (log_view)


def _logs(*streams: CapturedStream) -> RunLogs:
    return RunLogs("2025-04-28", "run-1", "callops_daily", "FAILURE", streams)


def test_last_lines_keeps_the_end_of_the_text():
    assert last_lines("a\nb\nc\n", 2) == ["b", "c"]
    assert last_lines("a\nb", 5) == ["a", "b"]
    assert last_lines("a\nb", 0) == [] and last_lines("", 3) == []


def test_render_says_where_each_stream_is_and_shows_its_last_lines():
    text = render(_logs(CapturedStream("stdout", "s3://b/p/x.out", ""),
                        CapturedStream("stderr", "s3://b/p/x.err", "one\ntwo\nTraceback\n")), 2)
    assert text.splitlines() == [
        "Last run of 2025-04-28: run-1 (callops_daily, failure)",
        "stdout: s3://b/p/x.out (0 lines)",
        "stderr: s3://b/p/x.err (3 lines), the last 2:",
        "  two",
        "  Traceback",
    ]


def test_render_of_a_run_still_going_and_of_one_that_captured_nothing():
    going = render(_logs(CapturedStream("stderr", None, "so far\n")), 20)
    assert "stderr: not complete yet: the part uploaded so far (1 lines):" in going
    assert going.endswith("\n  so far")
    assert "no stdout/stderr captured" in render(_logs(), 20)


def _status_logs(data_dir: Path, day: str):
    return CliRunner().invoke(main, ["status", "--logs", day, "--data-dir", str(data_dir)],
                              env={"CALLOPS_DATA_DIR": None, "DAGSTER_HOME": None})


def test_status_logs_of_a_day_without_a_run_says_so_with_exit_status_1(tmp_path):
    result = _status_logs(tmp_path, "2025-04-28")
    assert result.exit_code == 1, result.output
    assert "2025-04-28 has no run in the Dagster instance" in result.output
    assert "telemetry:\n  enabled: false\n" in (tmp_path / ".dagster_home" / "dagster.yaml").read_text()


def test_status_logs_refuses_what_is_not_a_day_in_one_line(tmp_path):
    result = _status_logs(tmp_path, "28/04/2025")
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == ["callops: error: --logs '28/04/2025' is not a day (YYYY-MM-DD)"]

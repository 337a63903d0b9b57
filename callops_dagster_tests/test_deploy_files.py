"""The deployment files agree where they share a setting (docs/deploy.md).

deploy/dagster.yaml (one server or Celery workers), deploy/helm-values.yaml (Kubernetes,
official dagster/dagster chart), deploy/cluster.env (the processes' environment) and
deploy/Dockerfile (the one image): the same database, the same run queue limits, the same
retries and run monitoring, telemetry off, runs' stdout/stderr in the same bucket and prefix,
the same code location. The run launchers differ
on purpose: Celery workers in the first, Kubernetes Jobs in the second. And the chart keeps
the UI inside the cluster, with a read-only webserver for people who only look.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import pytest
import yaml
from dagster._core.utils import make_new_run_id
from dagster._utils.tags import TagConcurrencyLimitsCounter

from callops_dagster.definitions import defs
from callops_dagster.platform.jobs import DAILY_JOB, DAY_TAG
from callops_dagster.platform.settings import Settings, env_name
from callops_dagster.weekly.assets import JOB as WEEKLY_JOB
from callops_dagster.weekly.assets import WEEK_TAG

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
MONDAY = "2025-04-21"  # a day, and the first day (the partition key) of its week
# One run per day, and one per week, at once: keyed on the tags each job's runs carry.
LANE_LIMITS = [{"key": tag, "value": {"applyLimitPerUniqueValue": True}, "limit": 1} for tag in (DAY_TAG, WEEK_TAG)]


@pytest.fixture(scope="module")
def instance() -> dict:
    return yaml.safe_load((DEPLOY / "dagster.yaml").read_text())


@pytest.fixture(scope="module")
def helm() -> dict:
    return yaml.safe_load((DEPLOY / "helm-values.yaml").read_text())


@pytest.fixture(scope="module")
def cluster_env() -> dict[str, str]:
    lines = (DEPLOY / "cluster.env").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def _user_deployment(helm: dict) -> dict:
    (deployment,) = helm["dagster-user-deployments"]["deployments"]
    return deployment


def test_both_keep_history_in_the_same_external_postgres(instance, helm, cluster_env):
    storage = instance["storage"]["custom"]["config"]
    assert storage["postgres_url"] == {"env": "DAGSTER_PG_URL"}
    url = urlsplit(cluster_env["DAGSTER_PG_URL"])
    pg = helm["postgresql"]
    assert pg["enabled"] is False  # external, as the cluster's
    assert (pg["postgresqlHost"], pg["postgresqlUsername"], pg["postgresqlDatabase"], pg["service"]["port"]) == (
        url.hostname, url.username, url.path.lstrip("/"), url.port,
    )


def test_both_create_tables_once_before_anything_starts(instance, helm):
    assert instance["storage"]["custom"]["config"]["should_autocreate_tables"] is False  # callops migrate
    assert helm["migrate"]["enabled"] is True  # the chart's migration job


def test_both_queue_runs_with_the_same_limits(instance, helm):
    runs = instance["concurrency"]["runs"]
    queued = helm["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert helm["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert queued["maxConcurrentRuns"] == runs["max_concurrent_runs"]
    assert queued["tagConcurrencyLimits"] == runs["tag_concurrency_limits"]
    assert queued["dequeueIntervalSeconds"] == instance["run_queue"]["dequeue_interval_seconds"]
    assert runs["tag_concurrency_limits"] == LANE_LIMITS


def _run(job: str, partition: str) -> dg.DagsterRun:
    """A run of ``job`` for ``partition`` with the tags Dagster gives it (a backfill's, a
    schedule's, the launchpad's, `callops run`'s)."""
    tags = defs.resolve_job_def(job).get_tags_for_partition_key(partition, selected_asset_keys=None)
    return dg.DagsterRun(job_name=job, run_id=make_new_run_id(), tags=tags)


def test_on_a_weeks_first_day_the_days_run_does_not_wait_behind_the_weeks(instance):
    """The queue's limits, applied by Dagster's own counter as its run queue daemon does."""
    limits = instance["concurrency"]["runs"]["tag_concurrency_limits"]
    week_running = TagConcurrencyLimitsCounter(limits, [_run(WEEKLY_JOB, MONDAY)])
    assert not week_running.is_blocked(_run(DAILY_JOB, MONDAY))
    day_running = TagConcurrencyLimitsCounter(limits, [_run(DAILY_JOB, MONDAY)])
    assert not day_running.is_blocked(_run(WEEKLY_JOB, MONDAY))
    # Still one run per day, and one per week, at once; other days go ahead.
    assert day_running.is_blocked(_run(DAILY_JOB, MONDAY))
    assert week_running.is_blocked(_run(WEEKLY_JOB, MONDAY))
    assert not day_running.is_blocked(_run(DAILY_JOB, "2025-04-22"))


def test_both_retry_and_monitor_runs_alike(instance, helm):
    daemon = helm["dagsterDaemon"]
    assert daemon["runRetries"] == {"enabled": True, "maxRetries": instance["run_retries"]["max_retries"]}
    assert instance["run_retries"]["enabled"] is True
    ours, theirs = instance["run_monitoring"], daemon["runMonitoring"]
    assert ours["enabled"] is theirs["enabled"] is True
    for snake, camel in [("poll_interval_seconds", "pollIntervalSeconds"),
                         ("start_timeout_seconds", "startTimeoutSeconds"),
                         ("max_resume_run_attempts", "maxResumeRunAttempts")]:
        assert ours[snake] == theirs[camel], snake


def test_both_keep_telemetry_off(instance, helm):
    assert instance["telemetry"] == {"enabled": False}
    assert helm["telemetry"] == {"enabled": False}


def test_the_run_launchers_differ_on_purpose(instance, helm):
    assert instance["run_launcher"]["class"] == "CallopsCeleryRunLauncher"
    assert helm["runLauncher"]["type"] == "K8sRunLauncher"
    assert helm["rabbitmq"]["enabled"] is False and helm["redis"]["enabled"] is False


def test_the_image_the_chart_and_the_workspace_serve_the_same_code_location(helm):
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert cmd, "Dockerfile has an exec-form CMD"
    argv = yaml.safe_load(cmd.group(1))
    module = argv[argv.index("-m") + 1]
    deployment = _user_deployment(helm)
    grpc = deployment["dagsterApiGrpcArgs"]
    assert grpc[grpc.index("--module-name") + 1] == module
    assert argv[argv.index("-p") + 1] == str(deployment["port"])
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["module_name"] == module


def test_the_image_installs_the_cluster_extra_and_the_instance_where_the_chart_looks(helm):
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "'.[cluster]'" in dockerfile
    home = re.search(r"DAGSTER_HOME=(\S+)", dockerfile).group(1)
    assert home == helm["global"]["dagsterHome"]
    copied = [shlex.split(line)[1:] for line in dockerfile.splitlines() if line.startswith("COPY deploy/dagster.yaml")]
    assert copied == [["deploy/dagster.yaml", "$DAGSTER_HOME/dagster.yaml"]]


def test_every_callops_variable_named_is_a_setting_and_agrees_with_cluster_env(helm, cluster_env):
    known = {env_name(field) for field in Settings.model_fields}
    helm_env = {item["name"]: item["value"] for item in _user_deployment(helm)["env"]}
    named = [n for n in [*helm_env, *cluster_env] if n.startswith("CALLOPS_")]
    assert named and set(named) <= known, set(named) - known
    for name, value in helm_env.items():
        assert cluster_env.get(name) == value, name


def test_both_keep_runs_stdout_and_stderr_on_the_datas_object_storage(instance, helm, cluster_env):
    """deploy/dagster.yaml reads the bucket and prefix from the environment (cluster.env gives
    them); the chart writes them into its dagster.yaml: the same values, the same upload interval,
    in the bucket the data is in."""
    ours = instance["compute_logs"]
    assert (ours["module"], ours["class"]) == ("dagster_aws.s3.compute_log_manager", "S3ComputeLogManager")
    assert ours["config"]["bucket"] == {"env": "DAGSTER_COMPUTE_LOGS_BUCKET"}
    assert ours["config"]["prefix"] == {"env": "DAGSTER_COMPUTE_LOGS_PREFIX"}
    assert ours["config"]["local_dir"] == {"env": "DAGSTER_COMPUTE_LOGS_LOCAL_DIR"}
    assert cluster_env["DAGSTER_COMPUTE_LOGS_LOCAL_DIR"].startswith(cluster_env["DAGSTER_HOME"] + "/")
    # The image stages them there too (its DAGSTER_HOME is the one folder the callops user may write).
    staged = re.search(r"DAGSTER_COMPUTE_LOGS_LOCAL_DIR=(\S+)", (DEPLOY / "Dockerfile").read_text()).group(1)
    assert staged == cluster_env["DAGSTER_COMPUTE_LOGS_LOCAL_DIR"]
    # boto3 reads AWS_ENDPOINT_URL itself; a required `env:` endpoint would break plain AWS.
    assert "endpoint_url" not in ours["config"]
    theirs = helm["computeLogManager"]
    assert theirs["type"] == "S3ComputeLogManager"
    s3 = theirs["config"]["s3ComputeLogManager"]
    assert (s3["bucket"], s3["prefix"]) == (
        cluster_env["DAGSTER_COMPUTE_LOGS_BUCKET"], cluster_env["DAGSTER_COMPUTE_LOGS_PREFIX"],
    )
    assert s3["uploadInterval"] == ours["config"]["upload_interval"] > 0
    assert urlsplit(cluster_env["CALLOPS_DATA_DIR"]).netloc == s3["bucket"]


def test_the_webserver_that_shows_the_logs_gets_the_s3_credentials(helm):
    deployment_secrets = _user_deployment(helm)["envSecrets"]
    assert helm["dagsterWebserver"]["envSecrets"] == deployment_secrets


def test_the_ui_is_reachable_only_inside_the_cluster_with_a_read_only_webserver_for_lookers(helm):
    """Dagster's open-source webserver has no login (docs/deploy.md): the chart's webserver is a
    ClusterIP service, a read-only one is deployed beside it, and no ingress opens either."""
    webserver = helm["dagsterWebserver"]
    assert webserver["service"]["type"] == "ClusterIP"
    assert webserver["enableReadOnly"] is True
    assert helm["ingress"]["enabled"] is False
    for said in ((DEPLOY / "helm-values.yaml").read_text(), (DEPLOY.parent / "docs" / "deploy.md").read_text()):
        assert all(words in said for words in ("no login", "ClusterIP", "enableReadOnly", "authenticating proxy"))

"""Cluster mode end to end, on the machine's PostgreSQL, RabbitMQ and Redis (docs/deploy.md).

`callops migrate` first; then `dagster-webserver` and `dagster-daemon run` in one working
directory (deploy/workspace.yaml, a DAGSTER_HOME holding deploy/dagster.yaml) and two
`callops worker`s, each in a directory and DAGSTER_HOME of its own; all of them over one
shared data location. The test run has its own database and Celery queue (RabbitMQ's management
API is not there to make a vhost), so parallel runs do not cross.

Six generated days are backfilled as the UI does (GraphQL ``launchPartitionBackfill``): every
day runs on a worker and writes the reports an in-process run of the day writes. Then the last
three days again, and while a worker runs one, its whole process group is SIGKILLed: run
monitoring finds no live worker holding the run's task and fails the run, and the day runs
again, once, on the other worker: by Dagster's run retries when the retry daemon saw the backfill
still running, else (the lost run was the backfill's last, and the backfill ended first) by the
relaunch sensor (cluster/sensors.py). Either way every day's reports are there once and right.

Between the two, runs are followed from the UI's side (docs/deploy.md, "Where a cluster run's
logs are"): every process stages its compute logs in a folder of its own and they meet only in
the S3 bucket. A probe job (a second code location, callops_dagster_tests/cluster_probe.py)
prints a line and warns on a worker; the line is read through the webserver's GraphQL while the
run still runs, then both when it has ended. A day's Dagster warnings, and the traceback of a
day that fails on a worker (FAIL_DAY, nothing landed), are read the same way and by `callops
status --logs` from a third folder; the uploaded objects are grepped for the webhook URL and the
database password every process holds; Chromium saves the log viewer to artifacts/.

The days are a week apart: no day's seven-day contact window holds another landed day, so each
day's reports are the same whatever order the workers run the days in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pytest
import s3fs
import yaml
from celery import Celery
from upath import UPath

from benchmarks.cluster_processes import (
    BACKEND_URL,
    BIN,
    BROKER_URL,
    CALLOPS,
    DEPLOY,
    answering_workers,
    clean_up_celery,
    instance_home,
    log_tail,
    scratch_database,
    start_group,
    stop_group,
    unique_name,
)
from callops_dagster.cluster.relaunch import RELAUNCH_OF_TAG
from callops_dagster.cluster.sensors import RELAUNCH_SENSOR
from callops_dagster.mock.data import generate_day
from callops_dagster.report.manifest import verify_reports
from callops_dagster_tests.cluster_probe import PRINTED, WARNED, release_key
from callops_dagster_tests.conftest import PUBLISHED_FILES, REPORT_FILES, ephemeral_instance, materialize_day
from callops_dagster_tests.fake_slack import SECRET, FakeSlack
from callops_dagster_tests.helpers import subprocess_env
from callops_dagster_tests.ui.graphql_ops import (
    BACKFILL_MUTATION,
    BACKFILL_QUERY,
    CAPTURED_LOGS_METADATA_QUERY,
    CAPTURED_LOGS_QUERY,
    LAUNCH_MUTATION,
    LOGS_CAPTURED_QUERY,
)
from callops_dagster_tests.ui.webserver import (
    CHROMIUM_ARGS,
    LOCATION,
    REPOSITORY,
    WORKSPACE_QUERY,
    Webserver,
    _location_loaded,
    chromium_path,
    free_port,
)

pytestmark = pytest.mark.slow

DATA_ON = "s3"  # or "local": one shared folder instead of a moto S3 bucket (shared_data)
BUCKET = "callops-cluster-test"
LOGS_FOLDER = "compute-logs"  # under the data's prefix: DAGSTER_COMPUTE_LOGS_PREFIX
LOCAL_LOGS = "compute-logs-staging"  # DAGSTER_COMPUTE_LOGS_LOCAL_DIR, in each process's own folder
PROBE_LOCATION = "callops_probe"  # callops_dagster_tests/cluster_probe.py, a second code location
# A partition with nothing landed: its run fails at the first steps, on a worker. After every
# landed day, so no day's seven-day window or trend holds it.
FAIL_DAY = "2025-05-19"
PG_PASSWORD = "pgSECRETcallops4b1d"  # in DAGSTER_PG_URL (the machine's PostgreSQL trusts 127.0.0.1)
AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
DAYS = [(dt.date(2025, 3, 3) + dt.timedelta(weeks=n)).isoformat() for n in range(6)]
# Run again, one of them on the worker that is killed. Few, so that the lost run is often the
# backfill's last unfinished one: the backfill may then end before Dagster retries the run, and
# the relaunch sensor runs the day instead (docs/deploy.md). Which one did is printed.
KILL_DAYS = DAYS[-3:]
RELAUNCH_SENSOR_INTERVAL_S = 2  # CALLOPS_RELAUNCH_SENSOR_INTERVAL of every process here
JOB = "callops_daily"
DEADLINE_S = 240
TASK_TAG = "dagster-celery/task_id"
PID_EVENT = re.compile(r"Started process for run \(pid: (\d+)\)")
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
SENSOR_TICKS = """
query ($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
  ... on Sensor { sensorState { ticks(limit: 3) { timestamp status } } } } }
"""


# ---------------------------------------------------------------- the shared data location


@contextlib.contextmanager
def shared_data(root: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """Where every process of the cluster keeps the data and the runs' stdout/stderr, and the
    environment saying so. A moto S3 server in this process (``AWS_ENDPOINT_URL``) holds the
    compute logs (deploy/dagster.yaml: ``DAGSTER_COMPUTE_LOGS_BUCKET`` and ``_PREFIX``) and, with
    ``DATA_ON`` "s3", the data (``CALLOPS_DATA_DIR=s3://...``), as on machines apart; with
    "local" the data is one folder (one machine)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    aws = {**AWS, "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
    prefix = unique_name("cluster")
    logs = {"DAGSTER_COMPUTE_LOGS_BUCKET": BUCKET, "DAGSTER_COMPUTE_LOGS_PREFIX": f"{prefix}/{LOGS_FOLDER}"}
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in {**aws, **logs}.items():
                patch.setenv(name, value)
            boto3.client("s3").create_bucket(Bucket=BUCKET)
            location = str(root / "data") if DATA_ON == "local" else f"s3://{BUCKET}/{prefix}"
            yield location, {"CALLOPS_DATA_DIR": location, **aws, **logs}
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()  # the bucket lived in the server's memory


def land(staging: Path, location: str) -> None:
    """Copy the generated landing days under ``staging`` to the shared location."""
    for path in sorted((staging / "landing").rglob("*.csv")):
        target = UPath(location) / "landing" / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())


def reports_of(location: str, day: str) -> dict[str, bytes]:
    """The report files of ``day`` at ``location``, by name (its manifest, which holds the time it
    was written, left out: ``manifest_problems`` checks it)."""
    folder = UPath(location) / "reports" / day
    return {name: (folder / name).read_bytes() for name in REPORT_FILES if (folder / name).exists()}


def published_names(location: str, day: str) -> set[str]:
    return {p.name for p in (UPath(location) / "reports" / day).iterdir()}


def manifest_problems(location: str, day: str) -> list[str]:
    return verify_reports(UPath(location) / "reports" / day)


def reported_days(location: str) -> set[str]:
    return {p.name for p in (UPath(location) / "reports").iterdir() if not p.name.startswith(".")}


# ---------------------------------------------------------------- the cluster


def wait_for(what: str, poll: Callable[[], Any], logs: Callable[[], str], deadline_s: float = DEADLINE_S,
             every_s: float = 0.3) -> Any:
    """``poll()`` until it returns something true; fail with the cluster's logs after the deadline."""
    deadline = time.monotonic() + deadline_s
    while not (result := poll()):
        assert time.monotonic() < deadline, f"{what}: not after {deadline_s}s\n{logs()}"
        time.sleep(every_s)
    return result


@dataclass
class Cluster:
    root: Path
    queue: str
    location: str
    server: Webserver
    instance: dg.DagsterInstance
    env: dict[str, str]
    slack: FakeSlack
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    reference: dict[str, dict[str, bytes]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def log_path(self, name: str) -> Path:
        return self.root / f"{name}.log"

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{log_tail(self.log_path(name), 2500)}" for name in self.processes)

    def start(self, name: str, argv: list[str], cwd: Path, home: Path) -> None:
        """Start ``argv`` in ``cwd``: its instance in ``home``, its compute logs staged in
        ``cwd/LOCAL_LOGS`` (so a worker and the webserver share no local folder)."""
        env = {**self.env, "DAGSTER_HOME": str(home), "DAGSTER_COMPUTE_LOGS_LOCAL_DIR": str(cwd / LOCAL_LOGS)}
        self.processes[name] = start_group(argv, cwd, env, self.log_path(name))

    def workers(self) -> dict[str, int]:
        """Worker name -> process group."""
        return {name: p.pid for name, p in self.processes.items() if name.startswith("worker")}

    def launch_backfill(self, days: list[str]) -> str:
        """Launch a backfill of ``days`` as the Jobs page does for callops_daily."""
        launch = self.server.graphql(BACKFILL_MUTATION, {"backfillParams": {
            "selector": {
                "partitionSetName": f"{JOB}_partition_set",
                "repositorySelector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY},
            },
            "tags": [], "partitionNames": days, "fromFailure": False,
        }})["launchPartitionBackfill"]
        assert launch["__typename"] == "LaunchBackfillSuccess", launch
        return launch["backfillId"]

    def launch_run(self, location: str, job: str, tags: dict[str, str]) -> str:
        """Launch one run of ``job`` as the launchpad does; its id."""
        launch = self.server.graphql(LAUNCH_MUTATION, {"executionParams": {
            "mode": "default", "runConfigData": {},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
            "selector": {"repositoryLocationName": location, "repositoryName": REPOSITORY, "pipelineName": job},
        }})["launchPipelineExecution"]
        assert launch["__typename"] == "LaunchRunSuccess", launch
        return launch["run"]["id"]

    def shown_logs(self, run_id: str, where: bool = True) -> dict[str, str] | None:
        """The run's stdout and stderr as the UI's log viewer reads them from the webserver
        (``logFileKey`` of the run's LogsCapturedEvent, then ``CapturedLogsQuery`` and
        ``CapturedLogsMetadataQuery``), or None before the capture has started."""
        events = self.server.graphql(LOGS_CAPTURED_QUERY, {"runId": run_id})["logsForRun"]["events"]
        keys = [e["fileKey"] for e in events if e["__typename"] == "LogsCapturedEvent"]
        if not keys:
            return None
        log_key = [run_id, "compute_logs", keys[0]]
        logs = self.server.graphql(CAPTURED_LOGS_QUERY, {"logKey": log_key})["capturedLogs"]
        shown = {"file_key": keys[0], "stdout": logs["stdout"] or "", "stderr": logs["stderr"] or ""}
        if where:
            shown |= self.server.graphql(CAPTURED_LOGS_METADATA_QUERY, {"logKey": log_key})["capturedLogsMetadata"]
        return shown

    def runs_of(self, backfill: str) -> list[dg.DagsterRun]:
        return list(self.instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill})))

    def backfill_status(self, backfill: str) -> str:
        return self.server.graphql(BACKFILL_QUERY, {"backfillId": backfill})["partitionBackfillOrError"]["status"]

    def all_days_done(self, backfill: str, days: list[str]) -> list[dg.DagsterRun] | None:
        """The backfill's runs once every run has finished and each of ``days`` has succeeded."""
        runs = self.runs_of(backfill)
        done = all(r.status in FINISHED for r in runs)
        succeeded = {r.tags["dagster/partition"] for r in runs if r.status == dg.DagsterRunStatus.SUCCESS}
        return runs if done and succeeded >= set(days) else None

    def runs_again(self, lost: dg.DagsterRun) -> list[dg.DagsterRun]:
        """The runs that run ``lost``'s day again: Dagster's retries of it and the sensor's relaunches."""
        return [
            run
            for tag in ("dagster/parent_run_id", RELAUNCH_OF_TAG)
            for run in self.instance.get_runs(filters=dg.RunsFilter(job_name=JOB, tags={tag: lost.run_id}))
        ]

    def ran_again_once(self, lost: dg.DagsterRun) -> dg.DagsterRun | None:
        """The one run that ran ``lost``'s day again, once it has succeeded."""
        again = self.runs_again(lost)
        return again[0] if [r.status for r in again] == [dg.DagsterRunStatus.SUCCESS] else None

    def sensor_ticked_after(self, timestamp: float) -> bool:
        """Whether the relaunch sensor has finished a tick that started after ``timestamp``."""
        ticks = self.server.graphql(SENSOR_TICKS, {"selector": {
            "repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "sensorName": RELAUNCH_SENSOR,
        }})["sensorOrError"]["sensorState"]["ticks"]
        return any(t["timestamp"] > timestamp and t["status"] != "STARTED" for t in ticks)

    def run_pid(self, run_id: str) -> int | None:
        """The pid of the process that executed the run (a worker's pool process)."""
        for record in self.instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
            if match := PID_EVENT.search(record.message or ""):
                return int(match.group(1))
        return None


def location_loaded(server: Webserver, name: str) -> bool:
    entries = server.graphql(WORKSPACE_QUERY)["workspaceOrError"].get("locationEntries", [])
    return any(e["name"] == name and e["loadStatus"] == "LOADED" for e in entries)


def cluster_workspace(server_dir: Path) -> None:
    """deploy/workspace.yaml (the callops location) and the probe's location beside it."""
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    workspace["load_from"].append({"python_module": {
        "module_name": "callops_dagster_tests.cluster_probe", "location_name": PROBE_LOCATION,
    }})
    (server_dir / "workspace.yaml").write_text(yaml.safe_dump(workspace), encoding="utf-8")


def worker_names(queue: str) -> dict[str, str]:
    return {f"worker{n}": f"{queue}-w{n}" for n in (1, 2)}


def reference_reports(root: Path, staging: Path) -> dict[str, dict[str, bytes]]:
    """Each day run in this process (``dg.materialize``) over a local copy of the landed days."""
    data = root / "reference"
    shutil.copytree(staging / "landing", data / "landing")
    instance = ephemeral_instance()
    try:
        for day in DAYS:
            assert materialize_day(data, day, instance).success, day
    finally:
        instance.dispose()
    return {day: reports_of(str(data), day) for day in DAYS}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Migrated database, webserver, two workers and the landed days (the daemon starts with the
    first backfill); stopped and cleaned up after the module."""
    root = tmp_path_factory.mktemp("cluster")
    queue = unique_name("callops-test").replace("_", "-")
    staging = root / "staging"
    for day in DAYS:
        generate_day(dt.date.fromisoformat(day), staging, calls=200, agents=8, defect_rate=0.02, seed=3)
    with shared_data(root) as (location, data_env), scratch_database() as bare_url, FakeSlack() as slack, \
            pytest.MonkeyPatch.context() as patch:
        land(staging, location)
        # Secrets every process holds, which no uploaded log may show (test_no_secret_in_...).
        url = bare_url.replace("postgres@", f"postgres:{PG_PASSWORD}@", 1)
        patch.setenv("DAGSTER_PG_URL", url)
        patch.setenv("DAGSTER_COMPUTE_LOGS_LOCAL_DIR", str(root / "test-process" / LOCAL_LOGS))
        # The broker named as deploy/cluster.env names it: that also turns the relaunch sensor on.
        env = subprocess_env(DAGSTER_PG_URL=url, CALLOPS_CELERY_BROKER=BROKER_URL, CALLOPS_CELERY_QUEUE=queue,
                             SLACK_WEBHOOK_URL=slack.url,
                             CALLOPS_RELAUNCH_SENSOR_INTERVAL=str(RELAUNCH_SENSOR_INTERVAL_S), **data_env)
        server_dir = root / "server"
        server_home = instance_home(server_dir / "dagster_home")
        cluster_workspace(server_dir)
        started = time.monotonic()
        migrated = subprocess.run([str(CALLOPS), "migrate"], env={
            **env, "DAGSTER_HOME": str(server_home), "DAGSTER_COMPUTE_LOGS_LOCAL_DIR": str(server_dir / LOCAL_LOGS)},
                                  cwd=server_dir, capture_output=True, text=True, timeout=120)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        instance = dg.DagsterInstance.from_config(str(server_home))
        port = free_port()
        server = Webserver(None, port, Path(location), server_home, root / "webserver.log")  # process set below
        cluster = Cluster(root, queue, location, server, instance, env, slack)
        app = Celery(broker=BROKER_URL)
        try:
            cluster.start("webserver", [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port),
                                        "-w", "workspace.yaml"], server_dir, server_home)
            server.process = cluster.processes["webserver"]
            for key, name in worker_names(queue).items():
                worker_dir = root / key
                cluster.start(key, [str(CALLOPS), "worker", "--name", name], worker_dir,
                              instance_home(worker_dir / "dagster_home"))
            cluster.reference = reference_reports(root, staging)
            wait_for("webserver loaded", lambda: _location_loaded(server), cluster.logs)
            wait_for("probe location loaded", lambda: location_loaded(server, PROBE_LOCATION), cluster.logs)
            wait_for("workers answering", lambda: answering_workers(app, list(worker_names(queue).values())),
                     cluster.logs)
            cluster.timings["start (migrate, webserver, 2 workers, reference runs)"] = time.monotonic() - started
            yield cluster
        finally:
            task_ids = [r.tags[TASK_TAG] for r in instance.get_runs() if TASK_TAG in r.tags]
            for process in cluster.processes.values():
                stop_group(process)
            app.close()
            instance.dispose()
            clean_up_celery(queue, task_ids)
            for name, seconds in cluster.timings.items():
                print(f"cluster timing: {name}: {seconds:.1f}s")


@pytest.fixture(scope="module")
def first_backfill(cluster) -> tuple[str, list[dg.DagsterRun]]:
    """The six days backfilled; the daemon starts right after the launch, so its first tick
    takes the backfill (the backfill daemon looks every 30 s)."""
    started = time.monotonic()
    backfill = cluster.launch_backfill(DAYS)
    cluster.start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                  cluster.root / "server", cluster.server.dagster_home)
    runs = wait_for("first backfill's days", lambda: cluster.all_days_done(backfill, DAYS), cluster.logs)
    cluster.timings["first backfill: launch to every day done (daemon start included)"] = time.monotonic() - started
    return backfill, runs


@dataclass
class Kill:
    backfill: str
    victim: dg.DagsterRun
    worker: str
    runs: list[dg.DagsterRun]  # the backfill's
    again: dg.DagsterRun  # the run that ran the victim's day again (a retry, or a relaunch)


def find_running_day(cluster: Cluster, backfill: str) -> tuple[dg.DagsterRun, str] | None:
    """A run of ``backfill`` executing on a worker now, and that worker's name."""
    groups = {pgid: name for name, pgid in cluster.workers().items()}
    for run in cluster.runs_of(backfill):
        if run.status != dg.DagsterRunStatus.STARTED or (pid := cluster.run_pid(run.run_id)) is None:
            continue
        try:
            pgid = os.getpgid(pid)
        except ProcessLookupError:
            continue
        if pgid in groups:
            return run, groups[pgid]
    return None


@pytest.fixture(scope="module")
def killed(cluster, first_backfill) -> Kill:
    """The days again; one worker's process group SIGKILLed while it runs one."""
    started = time.monotonic()
    backfill = cluster.launch_backfill(KILL_DAYS)
    victim, worker = wait_for("a day running on a worker", lambda: find_running_day(cluster, backfill),
                              cluster.logs, deadline_s=120)
    os.killpg(cluster.workers()[worker], signal.SIGKILL)
    killed_at = time.monotonic()
    lost = wait_for("the lost run failed", lambda: (
        run if (run := cluster.instance.get_run_by_id(victim.run_id)).status in FINISHED else None
    ), cluster.logs)
    cluster.timings["kill to lost run failed"] = time.monotonic() - killed_at
    others = [day for day in KILL_DAYS if day != lost.tags["dagster/partition"]]
    wait_for("second backfill's other days", lambda: cluster.all_days_done(backfill, others), cluster.logs)
    again = wait_for("the lost day run again", lambda: cluster.ran_again_once(lost), cluster.logs)
    how = "relaunch sensor" if RELAUNCH_OF_TAG in again.tags else "Dagster's run retry"
    cluster.timings[f"second backfill: launch to every day done (lost day run again by {how})"] = (
        time.monotonic() - started
    )
    # The sensor has looked again since the day succeeded (and did not run it a second time).
    succeeded_at = time.time()
    wait_for("a relaunch sensor tick after", lambda: cluster.sensor_ticked_after(succeeded_at), cluster.logs, 60)
    return Kill(backfill, lost, worker, cluster.runs_of(backfill), cluster.instance.get_run_by_id(again.run_id))


# ---------------------------------------------------------------- the backfill


def test_every_day_ran_once_on_a_worker_and_succeeded(first_backfill):
    _, runs = first_backfill
    assert sorted(r.tags["dagster/partition"] for r in runs) == DAYS
    assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
    assert all(r.tags.get(TASK_TAG) for r in runs)
    assert len({r.tags[TASK_TAG] for r in runs}) == len(runs)


def test_the_workers_config_files_holding_the_broker_url_are_owner_only(cluster, first_backfill):
    """dagster-celery writes the broker and backend URLs (a password, in production) under the
    worker's DAGSTER_HOME at each start; `callops worker` makes them owner-only."""
    files = [p for key in worker_names(cluster.queue) for p in (cluster.root / key / "dagster_home").rglob("*")
             if p.is_file() and ("dagster_celery" in p.parts or p.name == "callops-worker.yaml")]
    assert any("dagster_celery" in p.parts for p in files), files
    assert {p: oct(p.stat().st_mode & 0o077) for p in files} == {p: "0o0" for p in files}


def test_both_workers_took_days(cluster, first_backfill):
    _, runs = first_backfill
    groups = {pgid: name for name, pgid in cluster.workers().items()}
    ran_on = {groups.get(os.getpgid(cluster.run_pid(r.run_id))) for r in runs}
    assert ran_on == set(groups.values())


def test_every_days_reports_equal_an_in_process_run(cluster, first_backfill):
    for day in DAYS:
        assert sorted(cluster.reference[day]) == sorted(REPORT_FILES), day
        assert reports_of(cluster.location, day) == cluster.reference[day], day


# ---------------------------------------------------------------- following a run from the UI


@dataclass
class Followed:
    day: dg.DagsterRun  # a day of the first backfill
    probe: str  # the probe's run (prints a line, warns)
    live: dict[str, str]  # what the webserver showed of the probe while it ran
    live_status: dg.DagsterRunStatus  # the probe's status just after that
    failed: dg.DagsterRun  # FAIL_DAY's run


@pytest.fixture(scope="module")
def followed(cluster, first_backfill) -> Followed:
    """The probe and FAIL_DAY run on the workers; the probe's stdout is read through the
    webserver while it runs (the part uploaded every upload_interval), then it is released."""
    started = time.monotonic()
    no_retry = {"dagster/max_retries": "0"}
    probe = cluster.launch_run(PROBE_LOCATION, "probe", no_retry)
    failing = cluster.launch_run(LOCATION, JOB, {"dagster/partition": FAIL_DAY, **no_retry})
    live = wait_for("the probe's line shown while it runs", lambda: (
        shown if (shown := cluster.shown_logs(probe, where=False)) and PRINTED.format(run_id=probe) in shown["stdout"]
        else None
    ), cluster.logs, 60, every_s=1)
    live_status = cluster.instance.get_run_by_id(probe).status
    boto3.client("s3").put_object(Bucket=BUCKET, Key=release_key(probe), Body=b"")
    ended = wait_for("the probe and the failing day ended", lambda: (
        runs if all((runs := [cluster.instance.get_run_by_id(i) for i in (probe, failing)])[n].status in FINISHED
                    for n in (0, 1)) else None
    ), cluster.logs, 120)
    cluster.timings["probe and failing day: launch to both ended"] = time.monotonic() - started
    day = next(r for r in first_backfill[1] if r.tags["dagster/partition"] == DAYS[0])
    assert ended[0].status == dg.DagsterRunStatus.SUCCESS, cluster.logs()
    return Followed(day, probe, live, live_status, ended[1])


def staged_files(folder: Path, run_ids: list[str]) -> list[Path]:
    return [p for run_id in run_ids for p in (folder / LOCAL_LOGS / run_id).rglob("*") if p.is_file()]


def uploaded_logs(cluster: Cluster) -> dict[str, bytes]:
    """Every object under DAGSTER_COMPUTE_LOGS_PREFIX, by key."""
    client = boto3.client("s3")
    prefix = cluster.env["DAGSTER_COMPUTE_LOGS_PREFIX"] + "/"
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
            for o in page.get("Contents", [])]
    return {key: client.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


def test_a_workers_stdout_shows_in_the_ui_while_the_run_runs(followed):
    assert followed.live_status == dg.DagsterRunStatus.STARTED
    assert PRINTED.format(run_id=followed.probe) in followed.live["stdout"]


def test_a_steps_printed_line_and_warning_are_read_through_the_webserver(cluster, followed):
    shown = cluster.shown_logs(followed.probe)
    assert PRINTED.format(run_id=followed.probe) in shown["stdout"]
    assert f"UserWarning: {WARNED.format(run_id=followed.probe)}" in shown["stderr"]
    prefix = cluster.env["DAGSTER_COMPUTE_LOGS_PREFIX"]
    where = f"s3://{BUCKET}/{prefix}/storage/{followed.probe}/compute_logs/{shown['file_key']}"
    assert (shown["stdoutLocation"], shown["stderrLocation"]) == (f"{where}.out", f"{where}.err")


def test_a_days_dagster_lines_and_warnings_are_read_through_the_webserver(cluster, followed):
    shown = cluster.shown_logs(followed.day.run_id)
    assert f"Agent Summary for {DAYS[0]}" in shown["stderr"]  # the day's message, logged by the step
    # Dagster's own lines: the days before DAYS[0] in its seven-day contact window are missing, which
    # the window's check reports (the IO manager logs no WARNING per missing day).
    assert re.search(r" - callops_daily - .* - loan_contact_frequency - ASSET_CHECK_EVALUATION - Asset check "
                     r"'contact_window_complete' on 'loan_contact_frequency' did not pass",
                     shown["stderr"]), shown["stderr"][-2000:]


def test_a_day_that_fails_on_a_worker_shows_its_traceback_in_the_ui(cluster, followed):
    assert followed.failed.status == dg.DagsterRunStatus.FAILURE
    assert cluster.run_pid(followed.failed.run_id) is not None  # it ran on a worker
    stderr = cluster.shown_logs(followed.failed.run_id)["stderr"]
    assert " - raw_call_logs - STEP_FAILURE - " in stderr
    assert f"call_logs.csv: file is missing (expected at {cluster.location}/landing/{FAIL_DAY}/call_logs.csv)" in stderr
    trace = stderr[stderr.index("Stack Trace:"):]
    assert re.search(r'^  File ".*/callops_dagster/ingest/raw_assets\.py", line \d+, in raw_asset$', trace, re.MULTILINE), (
        trace[:3000])


def test_the_webserver_reads_the_logs_from_object_storage_not_from_a_shared_folder(cluster, followed):
    """The workers' staging folders no longer hold the runs' logs (uploaded, then deleted); the
    webserver's holds what it downloaded to show them."""
    run_ids = [followed.probe, followed.failed.run_id, followed.day.run_id]
    for run_id in run_ids:
        cluster.shown_logs(run_id)
    for worker in worker_names(cluster.queue):
        assert staged_files(cluster.root / worker, run_ids) == [], worker
    downloaded = {p.relative_to(cluster.root / "server" / LOCAL_LOGS).parts[0] for p in
                  staged_files(cluster.root / "server", run_ids) if p.suffix == ".err"}
    assert downloaded == set(run_ids)
    uploaded = uploaded_logs(cluster)
    for run_id in run_ids:
        assert any(f"/storage/{run_id}/compute_logs/" in key and key.endswith(".err") for key in uploaded), run_id


def test_no_secret_in_the_uploaded_logs(cluster, followed):
    """The workers hold the webhook URL and the database password; no uploaded log shows them."""
    assert cluster.slack.requests, "the newest day posted to the fake Slack: the webhook reached the workers"
    uploaded = uploaded_logs(cluster)
    runs = {key.split("/storage/")[1].split("/")[0] for key in uploaded}
    assert {r.run_id for r in cluster.instance.get_runs()} <= runs  # every run's logs are there
    for key, body in uploaded.items():
        text = body.decode("utf-8", errors="replace")
        for secret in (SECRET, cluster.slack.url, PG_PASSWORD, cluster.env["DAGSTER_PG_URL"]):
            assert secret not in text, (key, secret)


def test_callops_status_logs_shows_where_a_days_logs_are_and_their_last_lines(cluster, followed):
    """For someone without the UI: from a folder of its own, with a DAGSTER_HOME of its own."""
    folder = cluster.root / "without-the-ui"
    env = {**cluster.env, "DAGSTER_HOME": str(instance_home(folder / "dagster_home")),
           "DAGSTER_COMPUTE_LOGS_LOCAL_DIR": str(folder / LOCAL_LOGS)}
    shown = subprocess.run([str(CALLOPS), "status", "--logs", FAIL_DAY, "--lines", "500"], cwd=folder, env=env,
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    run_id = followed.failed.run_id
    where = f"s3://{BUCKET}/{cluster.env['DAGSTER_COMPUTE_LOGS_PREFIX']}/storage/{run_id}/compute_logs/"
    assert shown.stdout.startswith(f"Last run of {FAIL_DAY}: {run_id} (callops_daily, failure)\n"), shown.stdout
    assert re.search(rf"^stdout: {re.escape(where)}\w+\.out \(0 lines\)$", shown.stdout, re.MULTILINE), shown.stdout
    assert re.search(rf"^stderr: {re.escape(where)}\w+\.err \(\d+ lines\):$", shown.stdout, re.MULTILINE), shown.stdout
    assert "call_logs.csv: file is missing" in shown.stdout
    assert PG_PASSWORD not in shown.stdout + shown.stderr


@pytest.mark.ui
def test_the_log_viewer_of_a_run_that_failed_on_a_worker(cluster, followed):
    """Headless Chromium opens the failed day's run on its stderr, as "View stdout / stderr"
    does; the screenshot goes to artifacts/cluster-run-logs.png."""
    from playwright.sync_api import expect, sync_playwright

    from callops_dagster_tests.ui.test_browser import screenshot

    file_key = cluster.shown_logs(followed.failed.run_id)["file_key"]
    # The community pop-up already dismissed (what its "Skip" writes), so it hides nothing.
    seen = cluster.server.dagster_home / ".nux" / "nux.yaml"
    seen.parent.mkdir(exist_ok=True)
    seen.write_text("seen: 1\n", encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1300})
            page.set_default_timeout(60_000)
            page.goto(f"{cluster.server.url}/runs/{followed.failed.run_id}?logType=stderr&logFileKey={file_key}")
            try:
                trace = page.get_by_text("Stack Trace:", exact=False).first
                trace.wait_for()
                trace.scroll_into_view_if_needed()
                expect(trace).to_be_visible()
            finally:
                screenshot(page, "cluster-run-logs.png")
        finally:
            browser.close()


# ---------------------------------------------------------------- a worker lost mid-run


def test_the_lost_run_is_failed_as_lost(cluster, killed):
    assert killed.victim.status == dg.DagsterRunStatus.FAILURE
    failure = cluster.instance.all_logs(killed.victim.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert failure and "run worker lost" in failure[-1].message, failure


def test_the_lost_day_runs_again_exactly_once_and_succeeds_on_the_other_worker(cluster, first_backfill, killed):
    day = killed.victim.tags["dagster/partition"]
    first_runs = {r.run_id for r in first_backfill[1]}
    day_runs = cluster.instance.get_runs(filters=dg.RunsFilter(job_name=JOB, tags={"dagster/partition": day}))
    assert sorted(r.run_id for r in day_runs if r.run_id not in first_runs) == sorted(
        [killed.victim.run_id, killed.again.run_id]
    )
    assert [r.run_id for r in cluster.runs_again(killed.victim)] == [killed.again.run_id]
    assert killed.again.status == dg.DagsterRunStatus.SUCCESS
    # A retry names its parent; a relaunch names the lost run in its own tag.
    assert killed.victim.run_id in {killed.again.tags.get("dagster/parent_run_id"), killed.again.tags.get(RELAUNCH_OF_TAG)}
    survivor = next(name for name in cluster.workers() if name != killed.worker)
    assert os.getpgid(cluster.run_pid(killed.again.run_id)) == cluster.workers()[survivor]


def test_no_day_ran_twice_at_once(cluster, first_backfill, killed):
    records = cluster.instance.get_run_records(filters=dg.RunsFilter(job_name=JOB))
    by_day: dict[str, list[tuple[float, float]]] = {}
    for record in records:
        by_day.setdefault(record.dagster_run.tags["dagster/partition"], []).append(
            (record.start_time, record.end_time)
        )
    for day, spans in by_day.items():
        spans.sort()
        assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:])), (day, spans)


def test_both_backfills_end_and_every_day_is_reported_once_and_right(cluster, first_backfill, killed):
    statuses = wait_for("backfills completed", lambda: (
        s if "REQUESTED" not in (s := (cluster.backfill_status(first_backfill[0]), cluster.backfill_status(killed.backfill)))
        else None
    ), cluster.logs)
    # A job backfill with a failed run ends COMPLETED_FAILED, even though the run's retry succeeded.
    assert statuses == ("COMPLETED_SUCCESS", "COMPLETED_FAILED")
    assert reported_days(cluster.location) == set(DAYS)
    for day in DAYS:
        assert published_names(cluster.location, day) == set(PUBLISHED_FILES), day
        assert manifest_problems(cluster.location, day) == [], day
        assert reports_of(cluster.location, day) == cluster.reference[day], day

"""Contender e: a backfill of many days through a real Dagster daemon and run queue.

A fresh ``DAGSTER_HOME`` gets a ``QueuedRunCoordinator`` with ``max_concurrent_runs`` set to
the concurrency under test; ``dagster-daemon run`` dequeues the runs and the default run
launcher starts one process per run (``dagster api execute_run``), each executing its day in
process (the job's ``in_process_executor``). The backfill is submitted with
``dagster job backfill`` and timed from submission until the last run has finished.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from callops_dagster.platform.home import INSTANCE_YAML as PROJECT_INSTANCE

BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parent.parent
# The instance as callops makes one (telemetry off, the project's SQLite storage), with a queue.
QUEUED_YAML = PROJECT_INSTANCE + """\
run_queue:
  max_concurrent_runs: {concurrency}
  dequeue_interval_seconds: 1
"""


def dagster_env(data_dir: Path, dagster_home: Path, instance_yaml: str | None = None) -> dict[str, str]:
    """Environment for a ``dagster`` process: this data dir, a fresh home holding the instance
    as callops makes one (``platform/home.INSTANCE_YAML``: telemetry off, the project's storage)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(
        instance_yaml or PROJECT_INSTANCE, encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLOPS_")}
    env.update(
        CALLOPS_DATA_DIR=str(data_dir),
        DAGSTER_HOME=str(dagster_home),
        DAGSTER_DISABLE_TELEMETRY="1",
    )
    return env


@contextlib.contextmanager
def open_instance(dagster_home: Path):
    """The instance in ``dagster_home``, from this process (its dagster.yaml reads DAGSTER_HOME)."""
    import dagster as dg

    before = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    try:
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            yield instance
    finally:
        if before is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = before


def _runs(dagster_home: Path) -> list:
    with open_instance(dagster_home) as instance:
        return list(instance.get_run_records())


def _wait_for_daemon(dagster_home: Path, daemon: subprocess.Popen, timeout: float = 120) -> None:
    """Until the daemon's first heartbeat is in the instance (it is then dequeuing)."""
    deadline = time.monotonic() + timeout
    with open_instance(dagster_home) as instance:
        while time.monotonic() < deadline:
            if daemon.poll() is not None:
                raise RuntimeError("dagster-daemon exited before it started")
            if instance.get_daemon_heartbeats():
                return
            time.sleep(0.5)
    raise RuntimeError("dagster-daemon did not start")


def run_backfill(days: list[str], data_dir: Path, workdir: Path, concurrency: int,
                 timeout: float = 3600) -> dict[str, float]:
    """Backfill ``days`` through the daemon; return seconds, days per minute and failed runs."""
    home = workdir / f"dagster_home_c{concurrency}"
    env = dagster_env(data_dir, home, QUEUED_YAML.format(concurrency=concurrency))
    _runs(home)  # creates the instance's SQLite tables before two processes race to do it
    log = open(workdir / f"daemon_c{concurrency}.log", "wb")
    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-m", "callops_dagster.definitions"],
        cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        _wait_for_daemon(home, daemon)
        start = time.time()
        submitted = subprocess.run(
            [str(BIN / "dagster"), "job", "backfill", "-m", "callops_dagster.definitions",
             "-j", "callops_daily", "--partitions", ",".join(days), "--noprompt"],
            cwd=PROJECT, env=env, capture_output=True, text=True,
        )
        if submitted.returncode != 0:
            raise RuntimeError(f"dagster job backfill failed:\n{submitted.stderr[-3000:]}")
        deadline = time.monotonic() + timeout
        while True:
            records = _runs(home)
            done = [r for r in records if r.dagster_run.is_finished]
            if len(records) >= len(days) and len(done) == len(records):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"backfill not finished after {timeout} s")
            time.sleep(1)
        end = max(r.end_time for r in records)
        failed = sum(not r.dagster_run.is_success for r in records)
        refreshes = _automation_runs(home)
        idle = idle_ticks(home, after=end)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
        log.close()
    seconds = end - start
    return {"seconds": seconds, "days_per_minute": len(days) / seconds * 60, "failed_runs": failed,
            "automation_runs": refreshes, "idle_ticks": idle}


AUTOMATION_SETTLE_S = 75  # two ticks of the automation sensor (every 30 s) after the backfill


def _automation_runs(home: Path) -> int:
    """The runs the automation sensor started because of the backfill (refreshes of days that
    ran before a day they read): counted over two of its ticks after the last backfill run,
    and waited for."""
    from callops_dagster.platform.automation import SENSOR

    deadline = time.monotonic() + AUTOMATION_SETTLE_S
    while True:
        runs = [r for r in _runs(home) if r.dagster_run.tags.get("dagster/sensor_name") == SENSOR]
        if time.monotonic() > deadline and all(r.dagster_run.is_finished for r in runs):
            return len(runs)
        time.sleep(1)


def idle_ticks(home: Path, after: float) -> list[float]:
    """Seconds of each tick of the automation sensor that began after ``after`` (the backfill's
    last run's end) and requested nothing: what automation costs a day that changed nothing."""
    from callops_dagster.platform.automation import SENSOR, completed_ticks

    with open_instance(home) as instance:
        ticks = completed_ticks(instance, SENSOR, after=after)
    return sorted(t.end_timestamp - t.timestamp for t in ticks
                  if not t.run_ids and t.status.value in ("SKIPPED", "SUCCESS"))

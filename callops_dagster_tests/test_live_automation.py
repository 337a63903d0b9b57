"""Layer 4: a corrected day through a live `dagster-daemon`, as an operator runs it.

Seven generated days are run with `callops run`; then the daemon runs with the landing sensor
switched on (the automation sensor is on by default). A corrected 2025-04-22 call_logs.csv (30
more calls) is dropped into the landing folder: the landing sensor runs the day, the automation
sensor refreshes the later days and the week, and every report file then equals a from-scratch
`callops run` over the same files in another data dir and instance. A touched, identical re-drop
afterwards starts no run at all.

Each process has its own temporary DAGSTER_HOME (telemetry off) and data dir; the sensors look
every 2 s (landing) and 5 s (automation). Nothing waits on a clock: the test waits (with a
ceiling against a hung daemon) for the events it needs, read from the daemon's instance: runs
ended, backfills done, sensor ticks completed. The figures it prints (runs and seconds to bring
the week up to date, the cost of an automation tick with nothing to do) are measured, not
asserted.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from callops_dagster.landing.watch import WatchState, files_fingerprint, landed_files
from callops_dagster.platform.automation import completed_ticks
from callops_dagster_tests.conftest import MANIFEST_FILE, cli_env
from callops_dagster_tests.test_live_sensor import stop_group

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
MODULE = ["-m", "callops_dagster.definitions"]
DAYS = [f"2025-04-{day}" for day in range(21, 28)]
CORRECTED = "2025-04-22"
LANDING_SENSOR, AUTOMATION_SENSOR = "callops_landing_sensor", "callops_automation"
INTERVALS = {"CALLOPS_LANDING_SENSOR_INTERVAL": "2", "CALLOPS_AUTOMATION_SENSOR_INTERVAL": "5"}
WAIT_S = 420  # a ceiling against a hung daemon, not a timing assertion
UNFINISHED = {
    dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING,
}


def run_cli(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """One of the project's commands (``callops``, ``dagster``) started in ``env``, output to ``log``."""
    with open(log, "w") as out:
        return subprocess.Popen([str(BIN / args[0]), *args[1:]], env=env, cwd=log.parent, stdout=out,
                                stderr=subprocess.STDOUT)


def finished(process: subprocess.Popen, log: Path) -> None:
    assert process.wait(timeout=WAIT_S) == 0, log.read_text()[-3000:]


def corrected_calls(path: Path) -> bytes:
    """The day's call_logs.csv with 30 more calls: copies of its first rows under new call_ids."""
    original = path.read_bytes()
    rows = list(csv.reader(io.StringIO(original.decode("utf-8"), newline="")))
    extra = io.StringIO()
    csv.writer(extra, lineterminator="\n").writerows([f"FIX{i:04d}", *row[1:]] for i, row in enumerate(rows[1:31]))
    return original.rstrip(b"\n") + b"\n" + extra.getvalue().encode("utf-8")


def drop(path: Path, body: bytes) -> None:
    """Land a file as a dropper does: written beside it under a hidden name, renamed onto it."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(body)
    os.replace(temporary, path)


def report_files(root: Path) -> dict[str, bytes]:
    """Every report file under ``root`` as a reader sees it (through the day links), without the
    kept versions and the manifests (they carry the time a set was first written)."""
    found = {}
    for folder, subfolders, names in os.walk(root, followlinks=True):
        subfolders[:] = [name for name in subfolders if name != ".versions"]
        for name in names:
            if name != MANIFEST_FILE:
                path = Path(folder) / name
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


class Daemon:
    """What the test reads from the daemon's instance."""

    def __init__(self, instance: dg.DagsterInstance):
        self.instance = instance

    def state(self, sensor: str):
        return next((s for s in self.instance.all_instigator_state() if s.instigator_name == sensor), None)

    def ticks(self, sensor: str, after: float = 0.0) -> list:
        """The sensor's completed ticks that started after ``after`` (epoch seconds), oldest first."""
        return completed_ticks(self.instance, sensor, after)

    def landing_cursor(self) -> WatchState:
        state = self.state(LANDING_SENSOR)
        return WatchState.from_json(state.instigator_data.cursor if state and state.instigator_data else None)

    def runs_since(self, moment: float) -> list[dg.RunRecord]:
        records = self.instance.get_run_records(ascending=True)
        return [r for r in records if r.create_timestamp.timestamp() > moment]

    def busy(self, moment: float) -> bool:
        """A run since ``moment`` has not ended, or a backfill is still being carried out."""
        if any(r.dagster_run.status in UNFINISHED for r in self.runs_since(moment)):
            return True
        return any(b.status.value == "REQUESTED" for b in self.instance.get_backfills())


def wait_for(predicate, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(1)
    raise AssertionError(f"gave up waiting for {what}")


def up_to_date(daemon: Daemon, moment: float) -> float | None:
    """When everything since ``moment`` is done: the end time of the last run, once no run or
    backfill is under way and two automation ticks that started after it requested nothing."""
    runs = daemon.runs_since(moment)
    if not runs or daemon.busy(moment):
        return None
    last_end = max(r.end_time for r in runs)
    quiet = daemon.ticks(AUTOMATION_SENSOR, after=last_end)
    return last_end if len(quiet) >= 2 and all(t.status.value == "SKIPPED" for t in quiet) else None


def test_a_corrected_day_reaches_every_report_through_the_daemon_and_a_touch_starts_nothing(
    tmp_path, monkeypatch, capsys
):
    data, home = tmp_path / "data", tmp_path / "dagster_home"
    fresh_data, fresh_home = tmp_path / "fresh" / "data", tmp_path / "fresh" / "dagster_home"
    env = cli_env(data, home, **INTERVALS)
    finished(run_cli(env, tmp_path / "mock.log", "callops", "mock", "--start", DAYS[0], "--days", "7", "--calls", "300"),
             tmp_path / "mock.log")
    calls = data / "landing" / CORRECTED / "call_logs.csv"
    correction = corrected_calls(calls)
    shutil.copytree(data / "landing", fresh_data / "landing")  # the from-scratch run: corrected files
    drop(fresh_data / "landing" / CORRECTED / "call_logs.csv", correction)
    runs = [
        (run_cli(env, tmp_path / "run.log", "callops", "run"), tmp_path / "run.log"),
        (run_cli(cli_env(fresh_data, fresh_home), tmp_path / "fresh" / "run.log", "callops", "run"),
         tmp_path / "fresh" / "run.log"),
    ]
    for process, log in runs:
        finished(process, log)
    assert report_files(data / "reports") != report_files(fresh_data / "reports")  # the correction matters

    finished(run_cli(env, tmp_path / "start.log", "dagster", "sensor", "start", *MODULE, LANDING_SENSOR),
             tmp_path / "start.log")
    log = open(tmp_path / "daemon.log", "w")
    process = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", *MODULE], env=env, cwd=tmp_path,
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # the instance's storage reads it
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            daemon = Daemon(instance)
            # Both sensors have looked once: the landing sensor adopted the days that ran, and
            # the automation sensor's first evaluation recorded where things stand.
            wait_for(lambda: set(daemon.landing_cursor().launched) == set(DAYS), "the landing sensor to adopt the days")
            wait_for(lambda: daemon.ticks(AUTOMATION_SENSOR), "the automation sensor's first tick")
            started = time.time()
            drop(calls, correction)
            done_at = wait_for(lambda: up_to_date(daemon, started), "the daemon to bring the week up to date")
            refreshed = daemon.runs_since(started)

            assert [r.dagster_run.status for r in refreshed] == [dg.DagsterRunStatus.SUCCESS] * len(refreshed)
            by_sensor = {}
            for record in refreshed:
                run = record.dagster_run
                assets = tuple(sorted(key.to_user_string() for key in run.asset_selection or ()))
                by_sensor.setdefault(run.tags.get("dagster/sensor_name"), []).append(
                    (assets, run.tags.get("dagster/partition"))
                )
            assert by_sensor.pop(LANDING_SENSOR) == [((), CORRECTED)]  # the day's whole job
            refreshes = by_sensor.pop(AUTOMATION_SENSOR)
            assert by_sensor == {}
            # A tick overlapping the landing run's last writes can refresh the corrected day's own
            # tables once more (Dagster counts those events in two ticks: docs/operations.md, "A
            # tick during a run's last writes"); the later days and the week are what it must reach.
            own_day = [r for r in refreshes if r[1] == CORRECTED]
            refreshes = [r for r in refreshes if r[1] != CORRECTED]
            assert len(refreshes) == len(set(refreshes))  # nothing refreshed twice
            # The later days whose seven-day window holds the corrected day, and its week.
            assert sorted(day for assets, day in refreshes if "loan_contact_frequency" in assets) == DAYS[2:]
            assert (("agent_weekly_summary",), DAYS[0]) in refreshes
            assert report_files(data / "reports") == report_files(fresh_data / "reports")

            # A touched, identical re-drop: the landing sensor adopts it, nothing runs.
            before = len(instance.get_run_records())
            for name in ("call_logs.csv", "agent_roster.csv", "disposition_summary.csv"):
                path = calls.with_name(name)
                os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**10))
            touched = files_fingerprint(landed_files(calls.parent))
            wait_for(lambda: daemon.landing_cursor().launched.get(CORRECTED) == touched, "the touch to be adopted")
            adopted_at = time.time()
            wait_for(lambda: len(daemon.ticks(LANDING_SENSOR, after=adopted_at)) >= 2
                     and len(daemon.ticks(AUTOMATION_SENSOR, after=adopted_at)) >= 2, "two more ticks of each sensor")
            assert len(instance.get_run_records()) == before
            assert not daemon.busy(started)
            (observation,) = instance.fetch_observations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey("raw_call_logs"), asset_partitions=[CORRECTED]), limit=1
            ).records
            assert observation.asset_observation.metadata["landing_status"].value == "identical"

            idle = [t.end_timestamp - t.timestamp for t in daemon.ticks(AUTOMATION_SENSOR, after=done_at)
                    if t.status.value == "SKIPPED"]
            with capsys.disabled():
                print(f"\ndaemon: a one-day correction brought the week up to date in {len(refreshed)} runs "
                      f"({len(own_day)} of the corrected day itself) "
                      f"({len(refreshes)} by automation: {sorted(refreshes, key=lambda r: r[1])}), "
                      f"{done_at - started:.0f} s from the drop to the last "
                      f"run's end; an automation tick with nothing to do took {statistics.median(idle):.2f} s "
                      f"(median of {len(idle)}, max {max(idle):.2f} s)")
    finally:
        stop_group(process)
        log.close()

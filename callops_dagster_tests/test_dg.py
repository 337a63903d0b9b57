"""`dg`, Dagster 1.13's command line, in this repository as a user runs it from its root.

Layer 3: the project configuration (pyproject.toml's ``[tool.dg]``) names the same code location
as ``[tool.dagster]`` and workspace.yaml, and ``dg check defs`` / ``dg list defs`` load it.
Layer 4: ``dg launch`` runs the brief's day over a temporary data dir and DAGSTER_HOME, by the
job and by the asset selection the README gives, writes the reports, prints no warning and
writes no telemetry. (``dg dev`` is what the UI tests start: ui/webserver.py.)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import dagster as dg
import pytest
import yaml

from callops_dagster_tests.conftest import (
    GOLDEN_DAY,
    GOLDEN_FIXTURE,
    PUBLISHED_FILES,
    cli_env,
    copy_golden,
    defs,
    reports_dir,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DG = Path(sys.executable).parent / "dg"
LOCATION = "callops"  # sensor and schedule state are keyed by it
MODULE = "callops_dagster.definitions"
# The day's assets as the README selects them for `dg launch --assets`: everything upstream of
# the message (the job callops_daily is the usual way; both stay inside the daily partitions).
DAILY_SELECTION = "+key:slack_summary or +key:day_trend"


def dg_env(data_dir: Path, dagster_home: Path, home: Path, **extra: str) -> dict[str, str]:
    """A shell as the README sets it up: the venv activated, DAGSTER_HOME and CALLOPS_DATA_DIR
    exported (cli_env: the project's instance yaml, telemetry off), and its own HOME, where a
    telemetry log would show."""
    return cli_env(data_dir, dagster_home, VIRTUAL_ENV=sys.prefix, HOME=str(home), **extra)


def run_dg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(DG), *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def warnings_in(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (done.stdout + done.stderr).splitlines() if "warning" in line.lower()]


def assert_no_telemetry(home: Path, dagster_home: Path) -> None:
    """dg logs its telemetry under $DAGSTER_HOME (or ~/.dagster) unless dagster.yaml turns it off."""
    assert not (home / ".dagster").exists()
    assert not (dagster_home / "logs").exists() and not (dagster_home / ".telemetry").exists()


# ---------------------------------------------------------------- layer 3: the project


def test_dg_names_the_code_location_as_dagster_and_the_workspace_do():
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    workspace = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text(encoding="utf-8"))
    tool_dg = pyproject["tool"]["dg"]
    assert tool_dg["directory_type"] == "project"
    assert tool_dg["project"]["root_module"] == "callops_dagster"
    assert tool_dg["project"]["code_location_target_module"] == MODULE
    assert tool_dg["project"]["code_location_name"] == LOCATION
    assert pyproject["tool"]["dagster"] == {"module_name": MODULE, "code_location_name": LOCATION}
    [entry] = workspace["load_from"]
    assert entry["python_module"]["module_name"] == MODULE
    assert entry["python_module"]["location_name"] == LOCATION


def test_dg_is_pinned_with_the_dagster_family():
    deps = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    [dagster] = [d for d in deps if d.startswith("dagster==")]
    assert "dagster-dg-cli" + dagster.removeprefix("dagster") in deps


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    root = tmp_path_factory.mktemp("dg")
    home, dagster_home = root / "home", root / "dagster_home"
    home.mkdir()
    return dg_env(root / "data", dagster_home, home), home, dagster_home


@pytest.mark.slow
def test_dg_check_defs_loads_the_definitions(shell):
    env, home, dagster_home = shell
    done = run_dg("check", "defs", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All definitions loaded successfully." in done.stdout
    assert warnings_in(done) == []
    assert_no_telemetry(home, dagster_home)


@pytest.mark.slow
def test_dg_list_defs_lists_the_code_locations_assets_jobs_and_automation(shell):
    env, home, dagster_home = shell
    done = run_dg("list", "defs", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert warnings_in(done) == []
    listed = json.loads(done.stdout)
    assert {a["asset_key"] for a in listed["assets"]} == {
        k.to_user_string() for k in defs.resolve_all_asset_keys()
    }
    assert {"raw_call_logs", "agent_performance_summary", "slack_summary", "agent_weekly_summary"} <= {
        a["asset_key"] for a in listed["assets"]
    }
    assert {j["name"] for j in listed["jobs"]} == {"callops_daily", "callops_weekly"}
    assert {s["name"] for s in listed["schedules"]} == {s.name for s in defs.schedules}
    assert {s["name"] for s in listed["sensors"]} == {s.name for s in defs.sensors}
    assert_no_telemetry(home, dagster_home)


# ---------------------------------------------------------------- layer 4: a day launched


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    """The golden day landed in a new data dir, launched with `dg launch --job`, then again with
    the README's asset selection of the day (its durations are seconds: test_golden.py)."""
    root = tmp_path_factory.mktemp("dg_launch")
    home = root / "home"
    home.mkdir()
    data_dir = copy_golden(root / "data")
    env = dg_env(data_dir, root / "dagster_home", home, CALLOPS_DURATION_UNIT="seconds")
    by_job = run_dg("launch", "--job", "callops_daily", "--partition", GOLDEN_DAY, env=env)
    first = {n: (reports_dir(data_dir, GOLDEN_DAY) / n).read_bytes()
             for n in PUBLISHED_FILES if (reports_dir(data_dir, GOLDEN_DAY) / n).is_file()}
    by_assets = run_dg("launch", "--assets", DAILY_SELECTION, "--partition", GOLDEN_DAY, env=env)
    return data_dir, home, root / "dagster_home", by_job, first, by_assets


RUN_ID = re.compile(r" - ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) - ")


def materialized_assets(dagster_home: Path, done: subprocess.CompletedProcess) -> set[str]:
    """Asset keys the launched run materialised, from its instance's records (the run id from its
    log lines; the console's last lines of a run are not always all there on a loaded machine)."""
    found = RUN_ID.search(done.stdout + done.stderr)
    assert found, (done.stdout + done.stderr)[-3000:]
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        records = instance.get_records_for_run(
            found.group(1), of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=1000
        ).records
    return {r.event_log_entry.dagster_event.asset_key.to_user_string() for r in records}


@pytest.mark.slow
def test_dg_launch_job_runs_the_day_and_writes_its_reports(launched):
    data_dir, home, dagster_home, by_job, first, _ = launched
    assert by_job.returncode == 0, by_job.stdout[-3000:] + by_job.stderr[-3000:]
    assert "RUN_SUCCESS" in by_job.stdout + by_job.stderr
    assert set(first) == set(PUBLISHED_FILES)
    assert first["agent_performance_summary.csv"] == (
        GOLDEN_FIXTURE / "expected_agent_performance_summary.csv").read_bytes()
    assert warnings_in(by_job) == []
    assert_no_telemetry(home, dagster_home)


@pytest.mark.slow
def test_dg_launch_of_the_days_asset_selection_runs_every_daily_asset(launched, monkeypatch):
    data_dir, home, dagster_home, by_job, first, by_assets = launched
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))  # the instance's storage reads it
    assert by_assets.returncode == 0, by_assets.stdout[-3000:] + by_assets.stderr[-3000:]
    daily = {k.to_user_string() for a in defs.assets if "weekly" not in a.group_names_by_key.values()
             for k in a.keys}
    assert materialized_assets(dagster_home, by_assets) == daily == materialized_assets(dagster_home, by_job)
    for name in PUBLISHED_FILES:
        if name != "manifest.json":  # carries the time the set was first written
            assert (reports_dir(data_dir, GOLDEN_DAY) / name).read_bytes() == first[name], name
    assert warnings_in(by_assets) == []
    assert_no_telemetry(home, dagster_home)

"""Whole-day robustness through the real CLI: kills, parallel days, file limits, bad paths."""

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import pytest

from callops_dagster.mock.data import generate_day
from callops_dagster_tests.conftest import cli_env, dagster_day_args, materialize_day

DAGSTER = Path(sys.executable).parent / "dagster"
DAY = "2025-04-28"
FILES = ("agent_performance_summary.csv", "rejected_rows.csv", "slack_message.txt")


def env_for(data_dir: Path, home: Path, **extra: str) -> dict[str, str]:
    return cli_env(data_dir, home, **extra)


def materialize(data_dir: Path, home: Path, day: str = DAY, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(DAGSTER), *dagster_day_args(day)],
        env=env_for(data_dir, home, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run_day(data_dir: Path, home: Path, day: str = DAY, **extra: str) -> subprocess.CompletedProcess:
    process = materialize(data_dir, home, day, **extra)
    _, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, "", stderr)


def report_digest(data_dir: Path, day: str = DAY) -> dict[str, str] | None:
    folder = data_dir / "reports" / day
    if not folder.exists():
        return None
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in FILES}


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory) -> tuple[Path, dict, dict]:
    """A data dir holding day D's reports from version 1 of its files, and both digests."""
    root = tmp_path_factory.mktemp("versions")
    for version, seed in (("v1", 1), ("v2", 2)):
        generate_day(dt.date.fromisoformat(DAY), root / version, calls=60_000, seed=seed)
        assert run_day(root / version, root / "home").returncode == 0
    return root, report_digest(root / "v1"), report_digest(root / "v2")


def test_a_killed_run_leaves_the_old_reports_or_the_new_never_a_mix(two_versions, tmp_path):
    root, old, new = two_versions
    assert old != new
    seen = set()
    # One real SIGKILL of a whole run, early and late; test_publish injects the failure between
    # the writes of a publish deterministically.
    for delay in (1.0, 4.0):
        data = tmp_path / f"kill-{delay}"
        shutil.copytree(root / "v1", data, symlinks=True)
        shutil.rmtree(data / "landing")
        shutil.copytree(root / "v2" / "landing", data / "landing")  # the corrected re-drop
        process = materialize(data, tmp_path / "home")
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        digest = report_digest(data)
        assert digest in (old, new), f"killed after {delay}s: a mix of old and new reports"
        seen.add("new" if digest == new else "old")
    assert "old" in seen  # at least one kill landed before publishing


READS_OTHER_DAYS = {"loan_contact_frequency", "day_trend", "agent_roster"}


def test_parallel_days_give_the_same_bytes_as_one_at_a_time(tmp_path):
    days = ["2025-04-27", "2025-04-28"]
    for folder in ("sequential", "parallel"):
        for seed, day in enumerate(days):
            generate_day(dt.date.fromisoformat(day), tmp_path / folder, calls=3_000, seed=seed)
    for day in days:
        assert run_day(tmp_path / "sequential", tmp_path / "home-seq", day).returncode == 0
    # A new instance creates its SQLite tables on first use; two runs racing to do that in an
    # empty DAGSTER_HOME collide ("table runs already exists"), so create them first, as
    # `make run` does by running days one after another.
    home = tmp_path / "home-par"
    subprocess.run([str(DAGSTER), "instance", "migrate"], env=env_for(tmp_path / "parallel", home),
                   check=True, capture_output=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda d: run_day(tmp_path / "parallel", tmp_path / "home-par", d), days))
    assert [r.returncode for r in results] == [0, 0], [r.stderr[-500:] for r in results]

    def tree(base: Path) -> dict[str, bytes]:
        """Every report and table; a manifest without its time (the sets' hashes and sizes).
        Not the tables that read the days before (the contact window, the trend, the roster in
        force): a day run beside them may not find them yet, and the automation sensor refreshes
        those tables once they land (test_corrections.py). The reports are compared whole."""
        return {
            str(p.relative_to(base)): p.read_bytes() if p.name != "manifest.json" else json.dumps(
                json.loads(p.read_bytes())["files"]).encode()
            for sub in ("reports", "warehouse")
            for p in sorted((base / sub).rglob("*"))
            if p.is_file() and ".versions" not in p.parts and not READS_OTHER_DAYS & set(p.parts)
        }

    assert tree(tmp_path / "sequential") == tree(tmp_path / "parallel")
    assert len(tree(tmp_path / "parallel")) > 20


def test_a_file_over_the_size_limit_fails_early_with_a_clear_line(tmp_path):
    generate_day(dt.date.fromisoformat(DAY), tmp_path, calls=20_000)
    result = run_day(tmp_path, tmp_path / "home", CALLOPS_MAX_FILE_MB="1")
    assert result.returncode != 0
    assert "call_logs.csv: file is" in result.stderr and "over the configured limit" in result.stderr
    assert not (tmp_path / "reports").exists()


KEYS_NOT_DAYS = ["../../etc", "2025-04-28/../../x", "2025-13-01"]


def test_the_dagster_cli_refuses_a_partition_key_that_is_not_a_day_before_any_file_is_touched(tmp_path):
    """The real entry point once, with the path-like key; the other keys in process below."""
    generate_day(dt.date.fromisoformat(DAY), tmp_path, calls=100)
    result = run_day(tmp_path, tmp_path / "home", KEYS_NOT_DAYS[0])
    assert result.returncode != 0
    assert not (tmp_path / "reports").exists() and not (tmp_path / "warehouse").exists()


@pytest.mark.parametrize("key", KEYS_NOT_DAYS)
def test_a_partition_key_that_is_not_a_day_is_refused_before_any_file_is_touched(tmp_path, instance, key):
    generate_day(dt.date.fromisoformat(DAY), tmp_path, calls=100)
    with pytest.raises(dg.DagsterUnknownPartitionError, match="Could not find a partition with key"):
        materialize_day(tmp_path, key, instance)
    assert not (tmp_path / "reports").exists() and not (tmp_path / "warehouse").exists()

"""The real command line, as a user runs it: `callops mock`, then `dagster job execute -j callops_daily` for the day."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from callops_dagster_tests.conftest import REPORT_FILES, cli_env, dagster_day_args, reports_dir, warehouse_file

DAGSTER = Path(sys.executable).parent / "dagster"
CALLOPS = Path(sys.executable).parent / "callops"
DAY = "2025-04-28"
SOURCES = ("call_logs", "agent_roster", "disposition_summary")
SUMMARY_COLUMNS = [
    "call_date", "org_id", "agent_id", "agent_name", "office_location", "total_calls",
    "unique_loans_contacted", "connect_rate", "avg_call_duration_min", "presence",
]


def materialize_cli(data_dir: Path, dagster_home: Path, day: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(DAGSTER), *dagster_day_args(day)],
        env=cli_env(data_dir, dagster_home), cwd=data_dir.parent,
        capture_output=True, text=True, timeout=300,
    )


def file_records(path: Path) -> int:
    """Data records of a landing file, counted with the csv module; blank lines are not records."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = [r for r in csv.reader(handle) if r and not (len(r) == 1 and not r[0].strip())]
    return len(rows) - 1  # the header


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """One mock day generated with `callops mock`, materialised with the dagster CLI."""
    root = tmp_path_factory.mktemp("cli")
    data_dir = root / "data"
    generated = subprocess.run(
        [str(CALLOPS), "mock", "--start", DAY, "--days", "1",
         "--data-dir", str(data_dir), "--calls", "600", "--defect-rate", "0.02", "--seed", "11"],
        env=cli_env(data_dir, root / "dagster_home"), capture_output=True, text=True, timeout=120,
    )
    assert generated.returncode == 0, generated.stderr
    done = materialize_cli(data_dir, root / "dagster_home", DAY)
    return data_dir, done


def test_materialize_exits_zero_and_writes_the_reports(cli_run):
    data_dir, done = cli_run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "RUN_SUCCESS" in done.stdout + done.stderr
    for name in REPORT_FILES:
        assert (reports_dir(data_dir, DAY) / name).is_file(), name


def test_summary_has_the_contract_columns(cli_run):
    data_dir, _ = cli_run
    summary = pd.read_csv(reports_dir(data_dir, DAY) / "agent_performance_summary.csv",
                          dtype=str, keep_default_na=False)
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert len(summary) > 0
    assert (summary["call_date"] == DAY).all()
    assert not summary.duplicated(["call_date", "org_id", "agent_id"]).any()
    assert set(summary["presence"]) <= {"0", "1"}
    assert summary["connect_rate"].str.fullmatch(r"(0\.\d{4}|1\.0000)?").all()
    assert summary["avg_call_duration_min"].str.fullmatch(r"(\d+\.\d{2})?").all()
    message = (reports_dir(data_dir, DAY) / "slack_message.txt").read_text(encoding="utf-8").splitlines()
    assert message[0] == f"Agent Summary for {DAY}"
    assert message[4].startswith("Data quality:")


@pytest.mark.parametrize("source", SOURCES)
def test_records_read_equal_kept_plus_rejected(cli_run, source):
    data_dir, _ = cli_run
    records = file_records(data_dir / "landing" / DAY / f"{source}.csv")
    kept = len(pd.read_parquet(warehouse_file(data_dir, source, DAY)))
    with open(reports_dir(data_dir, DAY) / "rejected_rows.csv", newline="", encoding="utf-8") as handle:
        rejected = Counter(row["source"] for row in csv.DictReader(handle))[f"{source}.csv"]
    assert records > 0 and kept > 0
    if source != "agent_roster":  # the generator injects row defects into calls and logins
        assert rejected > 0
    assert records == kept + rejected


def test_total_calls_add_up_to_the_kept_call_rows(cli_run):
    data_dir, _ = cli_run
    summary = pd.read_csv(reports_dir(data_dir, DAY) / "agent_performance_summary.csv", dtype=str)
    kept_calls = len(pd.read_parquet(warehouse_file(data_dir, "call_logs", DAY)))
    assert summary["total_calls"].astype(int).sum() == kept_calls


def test_materialize_fails_loudly_when_the_day_has_no_files(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "landing" / DAY).mkdir(parents=True)
    done = materialize_cli(data_dir, tmp_path / "dagster_home", DAY)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "call_logs.csv" in output and "RUN_FAILURE" in output
    assert not reports_dir(data_dir, DAY).exists()

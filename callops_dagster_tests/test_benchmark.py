"""The benchmark cannot rot: its DuckDB SQL agrees with the project, and a tiny run works.

No timing is asserted; these run the benchmark's code on a small generated day.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.contenders import transform_chain
from benchmarks.duckdb_day import run_day
from benchmarks.run import parse_size
from callops_dagster.mockdata import generate_day

PROJECT = Path(__file__).resolve().parent.parent
DAY = dt.date(2025, 5, 1)


@pytest.fixture(scope="module")
def generated_day(tmp_path_factory) -> Path:
    """A 3,000-call day with every defect class of the contract at 1%."""
    data_dir = tmp_path_factory.mktemp("bench") / "data"
    generate_day(DAY, data_dir, calls=3000, defect_rate=0.01, seed=11)
    return data_dir


def test_duckdb_sql_summary_equals_the_projects_summary(generated_day, tmp_path):
    ours = transform_chain(generated_day, DAY, tmp_path / "ours")
    duck = run_day(generated_day / "landing" / DAY.isoformat(), DAY, tmp_path / "duck")
    summary = ours["summary"].read_text(encoding="utf-8")
    assert summary.count("\n") > 10  # a real day, not two empty files
    assert duck["summary"].read_text(encoding="utf-8") == summary


def test_duckdb_sql_message_lines_equal_the_projects(generated_day, tmp_path):
    ours = transform_chain(generated_day, DAY, tmp_path / "ours")
    duck = run_day(generated_day / "landing" / DAY.isoformat(), DAY, tmp_path / "duck")
    expected = ours["message"].read_text(encoding="utf-8").splitlines()[:4]
    assert expected[1].startswith("Top Performer: ") and "n/a" not in expected[1]
    assert duck["message"].read_text(encoding="utf-8").splitlines() == expected


def test_duckdb_sql_follows_min_calls(generated_day, tmp_path):
    duck = run_day(generated_day / "landing" / DAY.isoformat(), DAY, tmp_path / "duck", min_calls=10**9)
    assert duck["message"].read_text(encoding="utf-8").splitlines()[1] == "Top Performer: n/a"


@pytest.mark.parametrize(("text", "rows"), [("100k", 100_000), ("1M", 1_000_000), ("2.5k", 2_500), ("800", 800)])
def test_sizes_are_parsed(text, rows):
    assert parse_size(text) == rows


def test_tiny_benchmark_run_writes_the_results_table(tmp_path):
    out = tmp_path / "RESULTS.md"
    env = {
        **os.environ,
        "BENCH_SIZES": "2k",
        "BENCH_REPEATS": "1",
        "BENCH_CONTENDERS": "a,b,c",
        "BENCH_PROFILE": "0",
        "BENCH_OUT": str(out),
        "BENCH_CACHE": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run"], cwd=PROJECT, env=env, capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    for row in ("| 2k | a: transform chain", "| 2k | b: DuckDB SQL", "| 2k | c: read floor"):
        assert row in text
    assert "2k: b summary = a summary yes" in text
    assert "| a/b <= 1 at 1M | n/a | not measured |" in text
    assert (tmp_path / "cache" / "calls-2k" / "landing" / DAY.isoformat() / "call_logs.csv").is_file()

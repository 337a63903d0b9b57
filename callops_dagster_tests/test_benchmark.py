"""The benchmark cannot rot: its DuckDB SQL reproduces the contract's worked examples, agrees
with the project, and a tiny run works.

No timing is asserted; these run the benchmark's code on the worked examples and a small
generated day.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.cluster import run_split
from benchmarks.contenders import transform_chain
from benchmarks.duckdb_day import run_day
from benchmarks.run import parse_size
from callops_dagster.mock.data import generate_day
from callops_dagster_tests.helpers import subprocess_env

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DAY = dt.date(2025, 5, 1)
EXAMPLE_DAY = dt.date(2025, 4, 28)
# The contract's worked examples and the duration unit each is written in.
EXAMPLES = [("assignment-2025-04-28", "minutes"), ("golden-2025-04-28", "seconds")]


@pytest.fixture(scope="module")
def generated_day(tmp_path_factory) -> Path:
    """A 3,000-call day with every defect class of the contract at 1%."""
    data_dir = tmp_path_factory.mktemp("bench") / "data"
    generate_day(DAY, data_dir, calls=3000, defect_rate=0.01, seed=11)
    return data_dir


@pytest.mark.parametrize(("example", "unit"), EXAMPLES)
def test_duckdb_sql_reproduces_the_worked_examples(example, unit, tmp_path):
    folder = FIXTURES / example
    duck = run_day(folder / "landing" / EXAMPLE_DAY.isoformat(), EXAMPLE_DAY, tmp_path, duration_unit=unit)
    assert duck["summary"].read_bytes() == (folder / "expected_agent_performance_summary.csv").read_bytes()
    expected = (folder / "expected_slack_message.txt").read_text(encoding="utf-8").splitlines()[:4]
    assert duck["message"].read_text(encoding="utf-8").splitlines() == expected


def test_duckdb_sql_counts_the_assignment_days_colliding_call_ids(tmp_path):
    folder = FIXTURES / "assignment-2025-04-28"
    duck = run_day(folder / "landing" / EXAMPLE_DAY.isoformat(), EXAMPLE_DAY, tmp_path)
    quality = json.loads(duck["quality"].read_text(encoding="utf-8"))
    assert quality["call_id_conflict"] == 10  # the README's ten shared ids, all calls kept
    assert quality["rows_rejected"] == 0 and quality["rows_read"] == 500 + 20 + 20


def test_duckdb_sql_counts_the_golden_days_rejected_rows(tmp_path):
    folder = FIXTURES / "golden-2025-04-28"
    duck = run_day(folder / "landing" / EXAMPLE_DAY.isoformat(), EXAMPLE_DAY, tmp_path, duration_unit="seconds")
    quality = json.loads(duck["quality"].read_text(encoding="utf-8"))
    expected = (folder / "expected_rejected_rows.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert quality["rows_rejected"] == len(expected)


def test_duckdb_sql_in_seconds_is_the_minutes_figure_over_60(tmp_path):
    folder = FIXTURES / "assignment-2025-04-28" / "landing" / EXAMPLE_DAY.isoformat()
    minutes = run_day(folder, EXAMPLE_DAY, tmp_path / "m")["summary"].read_text(encoding="utf-8")
    seconds = run_day(folder, EXAMPLE_DAY, tmp_path / "s", duration_unit="seconds")["summary"]
    first = [line.split(",")[8] for line in minutes.splitlines()[1:3]]
    assert [line.split(",")[8] for line in seconds.read_text(encoding="utf-8").splitlines()[1:3]] == [
        f"{float(f) / 60:.2f}" for f in first]  # e.g. 6.84 -> 0.11


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("2025-04-28T15:40:00", "2025-04-28 15:40:00"),
        ("2025-04-28 15:40", "2025-04-28 15:40:00"),
        ("2025-04-28T15:40:00.25", "2025-04-28 15:40:00.25"),
        ("2025-04-28T10:00:00Z", "2025-04-28 15:30:00"),
        ("2025-04-28 10:00+05:30", "2025-04-28 10:00:00"),
        ("2025-04-28T10:00:00-01:00", "2025-04-28 16:30:00"),
        ("2025-04-28T24:00:00", None),
        ("2025-02-30 10:00", None),
        ("2025-04-28 9:40", None),
        ("2025-04-28T10:00:00.1234567", None),
        ("2025-04-28T10:00:00+0530", None),
        ("28/04/2025 10:00", None),
        ("", None),
    ],
)
def test_duckdb_sql_reads_v2_date_times(text, local):
    assert _sql_value("v2_datetime(?)", text) == local


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("8:13", "2025-04-28 08:13:00"),
        ("08:13:05", "2025-04-28 08:13:05"),
        ("23:59", "2025-04-28 23:59:00"),
        ("2025-04-28T02:30:00Z", "2025-04-28 08:00:00"),
        ("24:00", None),
        ("8:60", None),
        ("0813", None),
    ],
)
def test_duckdb_sql_reads_v2_login_times(text, local):
    assert _sql_value("v2_login(?, '2025-04-28')", text) == local


def _sql_value(expression: str, text: str) -> str | None:
    """The contract SQL's macros applied to one value, as text."""
    import duckdb

    from benchmarks.duckdb_day import SQL

    macros = SQL[: SQL.index("CREATE OR REPLACE TEMP TABLE calls AS")]
    con = duckdb.connect()
    try:
        con.execute(macros.format(timezone="Asia/Kolkata", calls="", roster="", dispositions="", day="",
                                  unit_seconds=1, min_calls=5))
        value = con.execute(f"SELECT CAST({expression} AS VARCHAR)", [text]).fetchone()[0]
    finally:
        con.close()
    return value


def test_duckdb_sql_runs_on_a_generated_v2_day(generated_day, tmp_path):
    duck = run_day(generated_day / "landing" / DAY.isoformat(), DAY, tmp_path / "duck")
    assert duck["summary"].read_text(encoding="utf-8").count("\n") > 10
    quality = json.loads(duck["quality"].read_text(encoding="utf-8"))
    for figure in ("call_id_conflict", "bad_created_ts", "bad_duration", "bad_login_time", "malformed_rows"):
        assert quality[figure] > 0, figure
    assert 0 < quality["rows_rejected"] < quality["rows_read"]


# Chain against DuckDB (these two and the tiny benchmark run below): on branch mockbench the
# chain is still contract v1, so they fail until it is merged with the chain's v2.
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


def test_cluster_run_split_from_event_rows():
    """Contender f's per-run figures from the event log: two runs on one worker (pid 7)."""
    t0 = dt.datetime(2025, 3, 1, 12, 0, 0)

    def at(seconds: float) -> dt.datetime:
        return t0 + dt.timedelta(seconds=seconds)

    rows = []
    for run_id, start in (("r1", 0.0), ("r2", 10.0)):
        rows += [(run_id, "PIPELINE_ENQUEUED", at(start - 5), None),
                 (run_id, "PIPELINE_STARTING", at(start - 2), None),
                 (run_id, "PIPELINE_START", at(start), None),
                 (run_id, "STEP_START", at(start + 1), "raw_call_logs"),
                 (run_id, "ASSET_MATERIALIZATION", at(start + 5), "raw_call_logs"),
                 (run_id, "STEP_SUCCESS", at(start + 6), "raw_call_logs"),
                 (run_id, "PIPELINE_SUCCESS", at(start + 8), None)]
    split = run_split(rows, {"r1": 7, "r2": 7}, workers=1, wall=20.0)
    assert split["runs"] == 2 and split["rows_per_run"] == 7 and split["asset_rows_per_run"] == 1
    assert split["exec_s"] == 8 and split["in_steps_s"] == 5 and split["steps_per_run"] == 1
    assert split["gap_s"] == 2  # r1 ended at 8, r2 started at 10
    assert split["first_start_s"] == 2
    assert split["busy_fraction"] == 16 / 20


# e and f are left out: e starts a daemon and f a whole cluster (a PostgreSQL database, the
# daemon, Celery workers) for minutes each; test_cluster.py covers the cluster f times, and the
# test above the figures f reads from its event log.
@pytest.mark.slow
def test_tiny_benchmark_run_writes_the_results_table(tmp_path):
    out = tmp_path / "RESULTS.md"
    env = subprocess_env(**{
        "BENCH_SIZES": "2k",
        "BENCH_REPEATS": "1",
        "BENCH_CONTENDERS": "a,b,c",
        "BENCH_PROFILE": "0",
        "BENCH_OUT": str(out),
        "BENCH_CACHE": str(tmp_path / "cache"),
    })
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run"], cwd=PROJECT, env=env, capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    for row in ("| 2k | a: transform chain", "| 2k | b: DuckDB SQL", "| 2k | c: read floor"):
        assert row in text
    assert "2k: b summary = a summary yes" in text
    assert "| transform chain / DuckDB (a/b) <= 1.0 at 1M | n/a | not measured |" in text
    assert (tmp_path / "cache" / "calls-2k" / "landing" / DAY.isoformat() / "call_logs.csv").is_file()


def test_the_report_shows_a_days_steps_the_tiny_day_ratio_and_the_cli_days_memory(tmp_path):
    """RESULTS.md from saved results: the per-step table beside the floor's steps, d0 against a
    bare `import dagster` and against Dagster's floor (paired by round), each CLI day beside the
    floor, and the CLI day's peak RSS over its file's size, each judged."""
    from benchmarks.report import render
    from benchmarks.run import Sample, Settings

    def samples(*seconds: float, rss: int = 100 * 2**20) -> list:
        return [Sample(s, s, rss) for s in seconds]

    size = {"rows": 5_000_000, "file_bytes": 400 * 2**20, "repeats": 2, "checks": {}, "quality": None,
            "samples": {"b": samples(10.0, 20.0), "d": samples(30.0, 40.0, rss=1600 * 2**20),
                        "fl": samples(2.0, 1.0), "d0": samples(3.0, 2.0), "imp": samples(1.0, 1.0),
                        "impd": samples(2.0, 1.5)}}
    floor = {"wall": 3.0, "run_seconds": 2.0, "events": 180, "steps": {"validate_call_logs": 0.2}}
    steps = {"wall": 12.0, "run_seconds": 10.0, "events": 234,
             "steps": {"validate_call_logs": 4.0, "raw_call_logs": 2.5}, "floor": floor}
    small_profile = {"items": [["the whole process", 6.5, 1], ["`import dagster`", 1.25, 2]],
                     "callops": [["ingest/validated_assets.py:validate", 0.64, 17]]}
    results = {"sizes": [size], "skipped": [], "backfill": None, "profile": None, "steps": steps, "elapsed": 60.0,
               "small_profile": small_profile}
    text = render(Settings(sizes=[5_000_000], out=tmp_path / "R.md", cache=tmp_path), results)

    # Each step beside the floor's same step: 4.00 - 0.20 is callops's own.
    assert "| validate_call_logs | 4.00 | 40% | 0.20 | 3.80 |" in text
    assert "| raw_call_logs | 2.50 | 25% | n/a | n/a |" in text
    assert "| (the whole process) | 12.00 | | 3.00 | 9.00 |" in text
    assert "wrote 234 event-log rows" in text
    # The brief's day under cProfile: the process's items, then callops's functions.
    assert "| `import dagster` | 1.25 | 2 |" in text
    assert "| `ingest/validated_assets.py:validate` | 0.64 | 17 |" in text
    # d0/imp per round: 3/1 and 2/1 -> median 2.5, met at <= 2.5.
    assert '| the brief\'s CLI day / `python -c "import dagster"` (d0/imp) <= 2.5 | 2.50 | **met** |' in text
    # d0/fl per round: 3/2 and 2/1 -> median 1.75, over 1.2.
    assert "| a small day (the brief's) / Dagster's floor, same rounds (d0/fl) <= 1.2 | 1.96 | 1.75 | **missed** |" in text
    # d beside fl: d - fl per round 28 and 39 -> median 33.5; d/fl 15 and 40 -> 27.5.
    assert "| 5M calls | 35.00 (30.00-40.00) | 1.50 (1.00-2.00) | 33.50 | 27.50 | 1,600 / 100 |" in text
    # d/b per round: 30/10 and 40/20 -> median 2.5: over 1.5 at 5M.
    assert "| whole CLI day / DuckDB (d/b) <= 1.5 at 5M | 3.8-4.1 | 2.50 | **missed** |" in text
    assert "| peak RSS of the CLI day / call_logs size <= 5 at 5M | 7.0-7.6 | 4.00 | **met** |" in text
    # Why the small day misses 1.2: fl 1.5 (median) leaves 0.30 s; pandas & co. cost 1.75 - 1.0.
    assert "so 1.2x leaves 0.30 s for all of callops. Importing pandas, numpy and pyarrow alone costs 0.75 s" in text
    assert "the best such a day could do is 1.50x" in text

"""A CLI day's time per step: ``python -m benchmarks.steps DATA_DIR DAY [DAGSTER_HOME]``.

Runs ``dagster job execute -j callops_daily`` on one landed day (as contender d does) in a fresh
work dir, then reads the run's per-step times back from its instance
(``instance.get_run_step_stats``) and its event count. Prints one JSON line: the process's
wall time, the run's time (RUN_START to RUN_SUCCESS), each step's seconds and the events.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path


def step_times(dagster_home: Path) -> dict:
    """The newest run's step times (seconds, by step key), run time and event count."""
    from benchmarks.backfill import open_instance

    with open_instance(dagster_home) as instance:
        record = next(iter(instance.get_run_records(limit=1)))
        run = record.dagster_run
        stats = instance.get_run_step_stats(run.run_id)
        run_stats = instance.get_run_stats(run.run_id)
        events = len(instance.all_logs(run.run_id))
    steps = {s.step_key: round((s.end_time or 0) - (s.start_time or 0), 3) for s in stats}
    return {
        "status": run.status.value,
        "run_seconds": round((run_stats.end_time or 0) - (run_stats.start_time or 0), 3),
        "steps": dict(sorted(steps.items(), key=lambda kv: -kv[1])),
        "events": events,
    }


def cli_day(cache: Path, data_dir: Path, day: dt.date) -> dict:
    """One CLI day in a fresh work dir (the instance ``<cache>/dagster_home`` is kept); its
    wall time and step times."""
    from benchmarks.run import dagster_cli

    home = cache / "dagster_home"
    start = time.perf_counter()
    sample, work = dagster_cli(cache, data_dir, day)
    try:
        return {"wall": round(time.perf_counter() - start, 3), "rss": sample.rss, **step_times(home)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def floor_day(cache: Path, day: dt.date) -> dict:
    """One day of Dagster's floor (``run.dagster_floor``) on its warm instance; its wall time
    and step times, to set beside a callops day's."""
    from benchmarks.run import dagster_floor

    start = time.perf_counter()
    sample = dagster_floor(cache, day)
    return {"wall": round(time.perf_counter() - start, 3), "rss": sample.rss, **step_times(cache / "floor_home")}


def main(argv: list[str]) -> int:
    """One untimed run first (the instance's tables are created), then the timed one."""
    data_dir, day = Path(argv[0]).resolve(), dt.date.fromisoformat(argv[1])
    with tempfile.TemporaryDirectory(prefix="steps-") as cache:
        cli_day(Path(cache), data_dir, day)
        print(json.dumps(cli_day(Path(cache), data_dir, day)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

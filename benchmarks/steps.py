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


# What the small day's profile is summed into: a name, and the functions (pstats keys' file
# ending and function name) whose cumulative time it is. Functions, not a tree: the rows overlap
# (a step's time holds its event writes), each is read on its own against the process.
PROFILE_ITEMS = (
    ("the whole process", "/bin/dagster", "<module>"),
    ("`import dagster`", "dagster/__init__.py", "<module>"),
    ("loading callops's definitions (pandas, numpy, pyarrow with them)", "callops_dagster/definitions.py", "<module>"),
    ("the run: every step, from the executor", "_core/executor/in_process.py", "execute"),
    ("event writes to the instance (handle_new_event)", "instance/methods/event_methods.py", "handle_new_event"),
)


def small_day_profile(cache: Path, data_dir: Path, day: dt.date, top: int = 12) -> dict:
    """The brief's day as contender d0 runs it, under cProfile: the process's big items
    (``PROFILE_ITEMS``) and the ``top`` callops functions by cumulative time."""
    import os
    import pstats

    from benchmarks.backfill import dagster_env
    from benchmarks.run import BIN, run_process, work_dir

    work = work_dir(cache, data_dir, [day])
    out = work / "day.prof"
    try:
        run_process(
            [str(BIN / "python"), "-m", "cProfile", "-o", str(out), str(BIN / "dagster"), "job", "execute",
             "-m", "callops_dagster.definitions", "-j", "callops_daily",
             "--tags", json.dumps({"dagster/partition": day.isoformat()})],
            dagster_env(work, cache / "dagster_home"),
        )
        stats = pstats.Stats(str(out)).stats  # {(file, line, function): (cc, nc, tt, ct, callers)}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def cumulative(file_end: str, function: str) -> tuple[float, int]:
        found = [(v[3], v[1]) for (f, _, fn), v in stats.items() if f.endswith(file_end) and fn == function]
        return (max(t for t, _ in found), sum(n for _, n in found)) if found else (0.0, 0)

    items = [(name, *cumulative(end, fn)) for name, end, fn in PROFILE_ITEMS]
    ours = sorted(
        ((f"{f.split('/callops_dagster/', 1)[1]}:{fn}", v[3], v[1])
         for (f, _, fn), v in stats.items() if "/callops_dagster/" in f and fn != "<module>"),
        key=lambda row: -row[1],
    )[:top]
    return {"items": [list(i) for i in items], "callops": [list(i) for i in ours]}


def main(argv: list[str]) -> int:
    """One untimed run first (the instance's tables are created), then the timed one."""
    data_dir, day = Path(argv[0]).resolve(), dt.date.fromisoformat(argv[1])
    with tempfile.TemporaryDirectory(prefix="steps-") as cache:
        cli_day(Path(cache), data_dir, day)
        print(json.dumps(cli_day(Path(cache), data_dir, day)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

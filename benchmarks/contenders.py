"""The contenders, one per subprocess: ``python -m benchmarks.contenders NAME DATA_DIR DAYS OUT``.

``DAYS`` is one day or several, comma-separated (processed one after another, outputs under
``OUT/<day>/``). Prints one JSON line ``{"seconds": ...}``: the work, timed inside the process
after its imports (the parent measures the process's wall time and peak RSS around it).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import sys
import time
from pathlib import Path


def transform_chain(data_dir: Path, day: dt.date, out_dir: Path, min_calls: int = 5) -> dict[str, Path]:
    """Contender a: the project's own day pipeline (``report.day.run_day``), without Dagster.

    Read the three files (the roster may be carried forward), run the day and write the three
    report files, as the assets do.
    """
    from callops_dagster.contract.sources import CALL_LOGS, DISPOSITION_SUMMARY
    from callops_dagster.ingest.reading import read_landing_csv
    from callops_dagster.ingest.roster import choose_roster
    from callops_dagster.landing.folder import landing_file
    from callops_dagster.report.day import MESSAGE_FILE, REJECTED_ROWS_FILE, SUMMARY_FILE, run_day

    roster = choose_roster(data_dir, day)
    result = run_day(
        read_landing_csv(landing_file(data_dir, day, CALL_LOGS), CALL_LOGS),
        read_landing_csv(landing_file(data_dir, day, DISPOSITION_SUMMARY), DISPOSITION_SUMMARY),
        roster.table,
        day,
        roster_day=roster.roster_day,
        duration_unit=os.environ.get("CALLOPS_DURATION_UNIT", "minutes"),
        timezone=os.environ.get("CALLOPS_TIMEZONE", "Asia/Kolkata"),
        min_calls=min_calls,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"summary": SUMMARY_FILE, "message": MESSAGE_FILE, "rejected": REJECTED_ROWS_FILE}
    files = result.files()
    for name in paths.values():
        (out_dir / name).write_text(files[name], encoding="utf-8")
    return {key: out_dir / name for key, name in paths.items()}


def duckdb_sql(data_dir: Path, day: dt.date, out_dir: Path) -> dict[str, Path]:
    """Contender b: the contract as DuckDB SQL, under the project's duration unit and timezone
    (``CALLOPS_DURATION_UNIT``, ``CALLOPS_TIMEZONE``; the mock days are in minutes)."""
    from benchmarks.duckdb_day import run_day

    return run_day(
        data_dir / "landing" / day.isoformat(), day, out_dir,
        duration_unit=os.environ.get("CALLOPS_DURATION_UNIT", "minutes"),
        timezone=os.environ.get("CALLOPS_TIMEZONE", "Asia/Kolkata"),
    )


def read_floor(data_dir: Path, day: dt.date, out_dir: Path) -> dict[str, Path]:
    """Contender c: pyarrow reads the day's three files as strings, and nothing else."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    for name in ("call_logs", "agent_roster", "disposition_summary"):
        path = data_dir / "landing" / day.isoformat() / f"{name}.csv"
        with open(path, encoding="utf-8") as handle:
            header = handle.readline().strip().split(",")
        pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header}),
        )
    return {}


CONTENDERS = {"transform_chain": transform_chain, "duckdb_sql": duckdb_sql, "read_floor": read_floor}


# Imported before the clock starts: a contender is timed on its work, not its imports.
IMPORTS = {
    "transform_chain": ["pandas", "callops_dagster.report.day", "callops_dagster.ingest.roster"],
    "duckdb_sql": ["duckdb", "benchmarks.duckdb_day"],
    "read_floor": ["pyarrow.csv"],
}


def main(argv: list[str]) -> int:
    name, data_dir, days, out_dir = argv
    run = CONTENDERS[name]
    for module in IMPORTS[name]:
        importlib.import_module(module)
    start = time.perf_counter()
    for day in days.split(","):
        run(Path(data_dir), dt.date.fromisoformat(day), Path(out_dir) / day)
    print(json.dumps({"seconds": time.perf_counter() - start}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

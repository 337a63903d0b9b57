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
    """Contender a: the project's pure transforms for one day, without Dagster.

    Read the three files, validate and dedupe, join, summarise, build the message and write
    the three report files, as the assets do.
    """
    import pandas as pd

    from callops_dagster.contract.sources import CALL_LOGS, DISPOSITION_SUMMARY
    from callops_dagster.report.join import build_agent_day
    from callops_dagster.ingest.roster import choose_roster
    from callops_dagster.landing.folder import landing_file
    from callops_dagster.report.message import DataQuality, build_slack_message
    from callops_dagster.report.metrics import summarise_agent_day
    from callops_dagster.ingest.reading import read_landing_csv
    from callops_dagster.report.publish import rejected_rows_csv_text, summary_csv_text
    from callops_dagster.ingest.validation import (
        validate_agent_roster,
        validate_call_logs,
        validate_disposition_summary,
    )

    calls_raw = read_landing_csv(landing_file(data_dir, day, CALL_LOGS), CALL_LOGS)
    logins_raw = read_landing_csv(landing_file(data_dir, day, DISPOSITION_SUMMARY), DISPOSITION_SUMMARY)
    roster = choose_roster(data_dir, day)
    unit = os.environ.get("CALLOPS_DURATION_UNIT", "minutes")
    timezone = os.environ.get("CALLOPS_TIMEZONE", "Asia/Kolkata")
    calls = validate_call_logs(calls_raw.frame, day, duration_unit=unit, timezone=timezone)
    logins = validate_disposition_summary(logins_raw.frame, day, timezone)
    people = validate_agent_roster(roster.table.frame)
    records_read = calls_raw.records_read + logins_raw.records_read + roster.table.records_read
    del calls_raw, logins_raw  # as in the Dagster steps: the raw text is not needed further
    agent_day = build_agent_day(calls.kept, logins.kept, people.kept, day)
    summary = summarise_agent_day(agent_day)
    rejected = pd.concat(
        [people.rejected, calls.rejected, logins.rejected], ignore_index=True
    ).sort_values(["source", "row_number"], ignore_index=True)
    strangers = summary.loc[~summary["in_roster"] & (summary["total_calls"] > 0)]
    quality = DataQuality(
        rows_read=records_read,
        rows_rejected=len(rejected),
        calls_not_in_roster=int(strangers["total_calls"].sum()),
        agents_not_in_roster=len(strangers),
        roster_day=roster.roster_day,
        day=day,
        call_id_conflicts=calls.warnings["call_id_conflict"],
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "summary": out_dir / "agent_performance_summary.csv",
        "message": out_dir / "slack_message.txt",
        "rejected": out_dir / "rejected_rows.csv",
    }
    paths["summary"].write_text(summary_csv_text(summary), encoding="utf-8")
    paths["message"].write_text(build_slack_message(summary, day, quality, min_calls), encoding="utf-8")
    paths["rejected"].write_text(rejected_rows_csv_text(rejected), encoding="utf-8")
    return paths


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
    "transform_chain": ["pandas", "callops_dagster.ingest.validation", "callops_dagster.report.message",
                        "callops_dagster.report.publish", "callops_dagster.landing.folder"],
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

"""Contender b: one day of the contract (version 2) as DuckDB SQL (``contract.sql``), written
as files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

SQL = (Path(__file__).parent / "contract.sql").read_text(encoding="utf-8")
#: Seconds of the duration unit per minute: ``CALLOPS_DURATION_UNIT``'s two values.
UNIT_PER_MINUTE = {"minutes": 1, "seconds": 60}


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def run_day(
    landing_day: Path,
    day: dt.date,
    out_dir: Path,
    min_calls: int = 5,
    duration_unit: str = "minutes",
    timezone: str = "Asia/Kolkata",
) -> dict[str, Path]:
    """Run the contract SQL on one landing folder; write the summary CSV, the message's first
    four lines and the day's data-quality figures (``data_quality.json``, with the
    ``call_id_conflict`` count) to ``out_dir``. Returns the paths written."""
    import duckdb

    if duration_unit not in UNIT_PER_MINUTE:
        raise ValueError(f"duration_unit must be one of {sorted(UNIT_PER_MINUTE)}, not {duration_unit!r}")
    ZoneInfo(timezone)  # an unknown zone fails here, not as SQL
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "summary": out_dir / "agent_performance_summary.csv",
        "message": out_dir / "slack_message.txt",
        "quality": out_dir / "data_quality.json",
    }
    con = duckdb.connect()
    try:
        con.execute(
            SQL.format(
                calls=_quoted(landing_day / "call_logs.csv"),
                roster=_quoted(landing_day / "agent_roster.csv"),
                dispositions=_quoted(landing_day / "disposition_summary.csv"),
                day=day.isoformat(),
                timezone=timezone.replace("'", "''"),
                unit_seconds=UNIT_PER_MINUTE[duration_unit],
                min_calls=int(min_calls),
            )
        )
        con.execute(f"COPY (SELECT * FROM summary_csv) TO '{_quoted(paths['summary'])}' (HEADER, DELIMITER ',')")
        top = con.execute("SELECT name, percent FROM top_performer").fetchone()
        active, minutes_e1 = con.execute("SELECT active_agents, minutes_e1 FROM day_figures").fetchone()
        cursor = con.execute("SELECT * FROM data_quality")
        quality = dict(zip([c[0] for c in cursor.description], cursor.fetchone()))
    finally:
        con.close()
    lines = [
        f"Agent Summary for {day.isoformat()}",
        f"Top Performer: {top[0]} ({top[1]}% connect rate)" if top else "Top Performer: n/a",
        f"Total Active Agents: {active}",
        f"Average Duration: {minutes_e1 // 10}.{minutes_e1 % 10} min"
        if minutes_e1 is not None
        else "Average Duration: n/a",
    ]
    paths["message"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths["quality"].write_text(json.dumps({k: int(v) for k, v in quality.items()}, indent=1) + "\n",
                                encoding="utf-8")
    return paths

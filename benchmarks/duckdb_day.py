"""Contender b: one day of the contract as DuckDB SQL (``contract.sql``), written as files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

SQL = (Path(__file__).parent / "contract.sql").read_text(encoding="utf-8")


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def run_day(landing_day: Path, day: dt.date, out_dir: Path, min_calls: int = 5) -> dict[str, Path]:
    """Run the contract SQL on one landing folder; write the summary CSV and the message's
    first four lines to ``out_dir``. Returns the paths written."""
    import duckdb

    out_dir.mkdir(parents=True, exist_ok=True)
    summary_path = out_dir / "agent_performance_summary.csv"
    message_path = out_dir / "slack_message.txt"
    con = duckdb.connect()
    try:
        con.execute(
            SQL.format(
                calls=_quoted(landing_day / "call_logs.csv"),
                roster=_quoted(landing_day / "agent_roster.csv"),
                dispositions=_quoted(landing_day / "disposition_summary.csv"),
                day=day.isoformat(),
                min_calls=int(min_calls),
            )
        )
        con.execute(f"COPY (SELECT * FROM summary_csv) TO '{_quoted(summary_path)}' (HEADER, DELIMITER ',')")
        top = con.execute("SELECT name, percent FROM top_performer").fetchone()
        active, minutes_e1 = con.execute("SELECT active_agents, minutes_e1 FROM day_figures").fetchone()
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
    message_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"summary": summary_path, "message": message_path}

"""Every table's columns: name, logical type, meaning and the upstream columns it comes from.

Plain data (no dagster). The Dagster wiring turns it into each table asset's
``dagster/column_schema`` and ``dagster/column_lineage`` metadata, and docs/lineage.md is
rendered from it (``python -m callops_dagster.contract.columns``).

A column's ``sources`` are ``"table.column"`` names of its asset's *direct* upstream tables,
as Dagster's column lineage expects; following them back (``origins``) ends at the columns of
the landing files (the ``raw_*`` tables, whose columns have no upstream asset).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
import pyarrow as pa

from callops_dagster.contract.sources import (
    AGENT_ROSTER,
    CALL_LOGS,
    DISPOSITION_SUMMARY,
    RAW_TEXT,
    RAW_VALUE_COLUMNS,
    SOURCES,
    SourceSpec,
)

STRING, INTEGER, BOOLEAN, DECIMAL, FLOAT, TIMESTAMP = (
    "string", "integer", "boolean", "decimal", "float", "timestamp"
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    sources: tuple[str, ...] = ()  # "table.column" of the direct upstream tables


def logical_type(values: pd.Series) -> str:
    """The catalog's type name of a column (its dtype's own name when unknown).

    Exact decimals arrive either as Arrow decimals or, read back from Parquet, as Python
    ``Decimal`` objects in an object column.
    """
    dtype = values.dtype
    if dtype == object and len(present := values.dropna()) and all(isinstance(v, Decimal) for v in present):
        return DECIMAL
    if isinstance(dtype, pd.ArrowDtype) and pa.types.is_decimal(dtype.pyarrow_dtype):
        return DECIMAL
    if pd.api.types.is_bool_dtype(dtype):
        return BOOLEAN
    if pd.api.types.is_integer_dtype(dtype):
        return INTEGER
    if pd.api.types.is_float_dtype(dtype):
        return FLOAT
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return TIMESTAMP
    if pd.api.types.is_string_dtype(dtype):
        return STRING
    return str(dtype)


def _of(table: str, *columns: str) -> tuple[str, ...]:
    return tuple(f"{table}.{c}" for c in columns)


def _raw_table(spec: SourceSpec) -> tuple[Column, ...]:
    return (
        Column("row_number", INTEGER, f"1-based position of the record among {spec.file_name}'s data records."),
        *(Column(c, STRING, f"`{c}` of {spec.file_name}, as text, untrimmed.") for c in spec.columns),
        Column(RAW_TEXT, STRING, "The record's text when its field count differs from the header, else empty."),
    )


def _rejected_table(spec: SourceSpec) -> tuple[Column, ...]:
    raw = f"raw_{spec.name}"
    return (
        Column("source", STRING, f"Always `{spec.file_name}`."),
        Column("row_number", INTEGER, "1-based row number in the file.", _of(raw, "row_number")),
        Column(
            "reason", STRING, "The first row rule the row broke (reason code).",
            _of(raw, RAW_TEXT, *spec.columns),
        ),
        *(
            Column(c, STRING, f"Raw `{c}`." if c in spec.columns else f"Empty: {spec.file_name} has no `{c}`.",
                   _of(raw, c) if c in spec.columns else ())
            for c in RAW_VALUE_COLUMNS
        ),
        Column(RAW_TEXT, STRING, "The record's text when it was malformed.", _of(raw, RAW_TEXT)),
    )


def _derived_from(upstream: str) -> Callable[..., Column]:
    """A column factory for a table computed from ``upstream``: a column comes from the
    upstream column of the same name unless other source columns are given."""

    def column_from(name: str, kind: str, text: str, *sources: str) -> Column:
        return Column(name, kind, text, _of(upstream, *(sources or (name,))))

    return column_from


def _validated_call_logs() -> tuple[Column, ...]:
    kept = _derived_from("raw_call_logs")
    return (
        kept("row_number", INTEGER, "Row number of the kept record in call_logs.csv."),
        kept("call_id", STRING, "Call identifier, unique in the table."),
        kept("org_id", STRING, "Organisation."),
        kept("agent_id", STRING, "Agent (unique only within an org)."),
        kept("installment_id", STRING, "Loan installment called about; empty when missing."),
        kept("status", STRING, "Call status, trimmed and lower-cased."),
        kept("is_completed", BOOLEAN, "status is `completed` (a connected call).", "status"),
        kept("duration_s", DECIMAL, "Duration in seconds, exact; empty when not a plain number.", "duration"),
        kept("created_ts", TIMESTAMP, "When the call was created; decides which duplicate wins."),
        kept("call_date", STRING, "The partition's day."),
    )


def _validated_disposition_summary() -> tuple[Column, ...]:
    kept = _derived_from("raw_disposition_summary")
    return (
        kept("row_number", INTEGER, "Row number of the kept record in disposition_summary.csv."),
        kept("org_id", STRING, "Organisation."),
        kept("agent_id", STRING, "Agent."),
        kept("call_date", STRING, "The partition's day."),
        kept("login_time", STRING, "Earliest login_time of the agent-day, as text; empty when none."),
        kept("login_ts", TIMESTAMP, "login_time parsed; empty when not a valid timestamp.", "login_time"),
        kept("present", BOOLEAN, "login_time is non-empty.", "login_time"),
    )


def _validated_agent_roster() -> tuple[Column, ...]:
    kept = _derived_from("raw_agent_roster")
    return (
        kept("row_number", INTEGER, "Row number of the kept record in agent_roster.csv."),
        kept("org_id", STRING, "Organisation."),
        kept("agent_id", STRING, "Agent."),
        kept("first_name", STRING, "First name.", "users_first_name"),
        kept("last_name", STRING, "Last name.", "users_last_name"),
        kept("agent_name", STRING, "First and last name joined by a space.", "users_first_name", "users_last_name"),
        kept("office_location", STRING, "Office.", "users_office_location"),
        Column("roster_day", STRING, "The day whose agent_roster.csv this is: the day itself, or the earlier day carried forward (within the seven days before it, its input)."),
    )


CALLS, LOGINS, ROSTER, DAY = "call_logs", "disposition_summary", "agent_roster", "agent_day"
LOGIN_KEY = _of(LOGINS, "org_id", "agent_id", "call_date")
ROSTER_KEY = _of(ROSTER, "org_id", "agent_id")


def _agent_day() -> tuple[Column, ...]:
    def key(name: str, text: str) -> Column:  # the grain: from the calls and the logins
        return Column(name, STRING, text, (*_of(CALLS, name), *_of(LOGINS, name)))

    return (
        key("call_date", "The partition's day."),
        key("org_id", "Organisation."),
        key("agent_id", "Agent."),
        Column("agent_name", STRING, "From the roster; empty when not in it.", _of(ROSTER, "agent_name")),
        Column("office_location", STRING, "From the roster; empty when not in it.", _of(ROSTER, "office_location")),
        Column("total_calls", INTEGER, "Kept calls of the agent-day.", _of(CALLS, "call_id")),
        Column("completed_calls", INTEGER, "Calls with status completed.", _of(CALLS, "is_completed")),
        Column("unique_loans_contacted", INTEGER, "Distinct non-empty installment_id.", _of(CALLS, "installment_id")),
        Column("duration_sum_s", DECIMAL, "Exact sum of the valid durations, seconds.", _of(CALLS, "duration_s")),
        Column("duration_count", INTEGER, "Calls with a valid duration.", _of(CALLS, "duration_s")),
        Column("presence", INTEGER, "1 when the login row has a login_time, else 0.", _of(LOGINS, "present")),
        Column("has_login_row", BOOLEAN, "The agent-day has a disposition row.", LOGIN_KEY),
        Column("in_roster", BOOLEAN, "The (org_id, agent_id) is in the roster.", ROSTER_KEY),
        Column("calls_without_login", BOOLEAN, "Calls but no disposition row.", (*_of(CALLS, "call_id"), *LOGIN_KEY)),
        Column("login_without_calls", BOOLEAN, "A disposition row but no calls.", (*LOGIN_KEY, *_of(CALLS, "call_id"))),
        Column("not_in_roster", BOOLEAN, "Not in the roster.", ROSTER_KEY),
    )


def _summary() -> tuple[Column, ...]:
    metric = _derived_from(DAY)
    return (
        metric("call_date", STRING, "The partition's day."),
        metric("org_id", STRING, "Organisation."),
        metric("agent_id", STRING, "Agent."),
        metric("agent_name", STRING, "From the roster; empty when not in it."),
        metric("office_location", STRING, "From the roster; empty when not in it."),
        metric("total_calls", INTEGER, "Calls made that day."),
        metric("unique_loans_contacted", INTEGER, "Distinct loans (installment_id) called."),
        metric("connect_rate", FLOAT, "completed calls / total calls, 4 places; empty when no calls.",
               "completed_calls", "total_calls"),
        metric("avg_call_duration_min", FLOAT, "Mean duration in minutes, 2 places; empty when none.",
               "duration_sum_s", "duration_count"),
        metric("presence", INTEGER, "1 when the agent logged in that day, else 0."),
        metric("completed_calls", INTEGER, "Exact input of connect_rate (not in the CSV)."),
        metric("duration_sum_s", DECIMAL, "Exact input of the average (not in the CSV)."),
        metric("duration_count", INTEGER, "Exact input of the average (not in the CSV)."),
        metric("in_roster", BOOLEAN, "For the message's roster line (not in the CSV)."),
        metric("has_login_row", BOOLEAN, "The agent-day has a kept login row: for the rows read (not in the CSV)."),
    )


def _weekly() -> tuple[Column, ...]:
    """agent_weekly_summary (compliance/weekly.py): the week's summaries, calls and roster."""
    week = _derived_from("agent_performance_summary")
    return (
        week("week_start", STRING, "First day of the week (CALLOPS_WEEK_START).", "call_date"),
        week("org_id", STRING, "Organisation."),
        week("agent_id", STRING, "Agent."),
        Column("agent_name", STRING, "From the latest roster of the week; empty when not in it.",
               _of(ROSTER, "agent_name")),
        week("days_active", INTEGER, "Days with at least one kept call.", "total_calls"),
        week("days_present", INTEGER, "Days with presence 1.", "presence"),
        week("total_calls", INTEGER, "Kept calls in the week."),
        Column("unique_loans_contacted", INTEGER, "Distinct non-empty installment_id over the week.",
               _of(CALLS, "installment_id")),
        week("connect_rate", STRING, "completed / total calls over the week, 4 places; empty when no calls.",
             "completed_calls", "total_calls"),
        week("avg_call_duration_min", STRING, "Mean duration in minutes, 2 places; empty when none.",
             "duration_sum_s", "duration_count"),
        week("connect_rate_change", STRING, "Exact rate minus the previous week's, 4 places; empty "
             "when either is empty.", "completed_calls", "total_calls"),
        week("completed_calls", INTEGER, "Exact input of connect_rate (not in the CSV)."),
        week("duration_sum_s", DECIMAL, "Exact input of the average (not in the CSV)."),
        week("duration_count", INTEGER, "Exact input of the average (not in the CSV)."),
    )


def _agent_compliance() -> tuple[Column, ...]:
    """agent_compliance (compliance/rules.py): the summary's keys, the kept calls' times."""
    keyed = _derived_from("agent_performance_summary")
    created, login = _of(CALLS, "created_ts"), _of(LOGINS, "login_ts")
    return (
        keyed("call_date", STRING, "The partition's day."),
        keyed("org_id", STRING, "Organisation."),
        keyed("agent_id", STRING, "Agent."),
        keyed("agent_name", STRING, "As in the summary."),
        Column("calls_outside_hours", INTEGER, "Calls whose local time is outside CALLOPS_CALLING_HOURS.", created),
        Column("calls_unknown_time", INTEGER, "Calls whose created_ts is unparseable or empty.", created),
        Column("calls_before_login", INTEGER, "Calls earlier than the agent-day's kept login.", (*created, *login)),
        Column("first_call_at", STRING, "Earliest parseable call time, HH:MM:SS; empty when none.", created),
        Column("last_call_at", STRING, "Latest parseable call time, HH:MM:SS; empty when none.", created),
    )


def _loan_contacts() -> tuple[Column, ...]:
    """loan_contacts (compliance/rules.py): a day's kept calls to loans, per loan and agent."""
    call = _derived_from(CALLS)
    return (
        call("call_date", STRING, "The partition's day."),
        call("org_id", STRING, "Organisation of the loan."),
        call("installment_id", STRING, "The loan (non-empty installment_id)."),
        call("agent_id", STRING, "Agent who called it."),
        call("attempts", INTEGER, "Kept calls by the agent to the loan that day.", "call_id"),
        call("last_created_ts", TIMESTAMP, "Latest parseable created_ts of those calls; empty when none.",
             "created_ts"),
    )


def _loan_contact_frequency() -> tuple[Column, ...]:
    """loan_contact_frequency (compliance/rules.py): the loan_contacts of the seven-day window."""
    contact = _derived_from("loan_contacts")
    return (
        contact("org_id", STRING, "Organisation of the loan."),
        contact("installment_id", STRING, "The loan (non-empty installment_id)."),
        contact("attempts_7d", INTEGER, "Kept calls to the loan in the seven days ending on the day.", "attempts"),
        contact("days_called_7d", INTEGER, "Distinct call dates among them.", "call_date"),
        contact("agents_7d", INTEGER, "Distinct agent_ids among them.", "agent_id"),
        contact("last_called_at", STRING, "Latest parseable created_ts in the window; empty when none.",
                "last_created_ts"),
        contact("over_limit", INTEGER, "1 when attempts_7d > CALLOPS_MAX_ATTEMPTS_7D, else 0.", "attempts"),
    )


def _day_trend() -> tuple[Column, ...]:
    figures = (*_of(DAY, "total_calls", "completed_calls", "has_login_row"), "rejected_rows.row_number",
               "agent_roster.row_number", "agent_roster.roster_day")
    return (
        Column("figure", STRING, "connect_rate, total_calls, active_agents or rejected_share."),
        Column("today", FLOAT, "The day's figure.", figures),
        Column("trailing_median", FLOAT, "Median of the figure over the seven days before that ran.", figures),
        Column("robust_deviation", FLOAT, "Their MAD scaled to a standard deviation, floored.", figures),
        Column("deviations", FLOAT, "(today - median) / robust deviation, signed.", figures),
        Column("flagged", BOOLEAN, "More deviations than CALLOPS_TREND_DEVIATIONS.", figures),
    )


TABLES: dict[str, tuple[Column, ...]] = {
    **{f"raw_{spec.name}": _raw_table(spec) for spec in SOURCES},
    CALL_LOGS.name: _validated_call_logs(),
    DISPOSITION_SUMMARY.name: _validated_disposition_summary(),
    AGENT_ROSTER.name: _validated_agent_roster(),
    **{f"{spec.name}_rejected": _rejected_table(spec) for spec in SOURCES},
    "rejected_rows": tuple(
        Column(c.name, c.type, c.description if c.name != "source" else "The landing file.",
               tuple(f"{spec.name}_rejected.{c.name}" for spec in SOURCES))
        for c in _rejected_table(CALL_LOGS)
    ),
    DAY: _agent_day(),
    "agent_performance_summary": _summary(),
    "agent_weekly_summary": _weekly(),
    "agent_compliance": _agent_compliance(),
    "loan_contacts": _loan_contacts(),
    "loan_contact_frequency": _loan_contact_frequency(),
    "day_trend": _day_trend(),
}


def column(ref: str) -> Column:
    """The column named ``"table.column"``."""
    table, name = ref.split(".", 1)
    return next(c for c in TABLES[table] if c.name == name)


def origins(table: str, name: str) -> set[str]:
    """The landing-file columns (``raw_*.column``) a column is computed from, transitively."""
    sources = column(f"{table}.{name}").sources
    if not sources:
        return {f"{table}.{name}"} if table.startswith("raw_") else set()
    return set().union(*(origins(*ref.split(".", 1)) for ref in sources))


def lineage_edges(table: str, names: Iterable[str]) -> set[tuple[str, str]]:
    """Every (source, target) column edge on the way from the landing files to ``names``."""
    edges: set[tuple[str, str]] = set()
    todo = [f"{table}.{name}" for name in names]
    while todo:
        target = todo.pop()
        for source in column(target).sources:
            if (source, target) not in edges:
                edges.add((source, target))
                todo.append(source)
    return edges


def lineage_mermaid(table: str, names: Iterable[str]) -> str:
    """A Mermaid flowchart (left to right) of ``names``' column lineage, one box per table."""
    edges = lineage_edges(table, names)
    refs = {ref for edge in edges for ref in edge} | {f"{table}.{name}" for name in names}
    def node(ref: str) -> str:
        return ref.replace(".", "__")

    lines = ["flowchart LR"]
    for name in TABLES:  # upstream tables first, so the boxes read left to right
        columns = [c.name for c in TABLES[name] if f"{name}.{c.name}" in refs]
        if columns:
            lines.append(f"  subgraph {name}")
            lines += [f"    {node(f'{name}.{c}')}[{c}]" for c in columns]
            lines.append("  end")
    lines += [f"  {node(a)} --> {node(b)}" for a, b in sorted(edges)]
    return "\n".join(lines) + "\n"


def lineage_markdown(table: str = "agent_performance_summary") -> str:
    """A table of ``table``'s columns: direct sources and origins in the landing files."""
    lines = [
        f"| `{table}` column | type | computed from | landing-file columns it traces to |",
        "|---|---|---|---|",
    ]
    for col in TABLES[table]:
        by_file = defaultdict(list)
        for ref in sorted(origins(table, col.name)):
            raw_table, name = ref.split(".", 1)
            by_file[f"{raw_table.removeprefix('raw_')}.csv"].append(f"`{name}`")
        files = "; ".join(f"{file}: {', '.join(names)}" for file, names in by_file.items())
        lines.append(
            f"| `{col.name}` | {col.type} | {', '.join(f'`{s}`' for s in col.sources) or '-'} | {files or '-'} |"
        )
    return "\n".join(lines) + "\n"


# The columns drawn in docs/lineage.md: the contract's metrics.
DIAGRAM_COLUMNS = ("total_calls", "unique_loans_contacted", "connect_rate", "avg_call_duration_min", "presence")


def lineage_doc_block() -> str:
    """The generated part of docs/lineage.md: the metrics' diagram and the summary's table."""
    return (
        f"```mermaid\n{lineage_mermaid('agent_performance_summary', DIAGRAM_COLUMNS)}```\n\n"
        + lineage_markdown("agent_performance_summary")
    )


if __name__ == "__main__":
    sys.stdout.write(lineage_doc_block())

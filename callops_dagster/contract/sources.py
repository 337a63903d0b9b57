"""The data contract in code: landing files, their columns and keys, and the reason codes."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_KNOWN_STATUSES: tuple[str, ...] = (
    "completed",
    "connected",
    "failed",
    "busy",
    "no_answer",
    "voicemail",
    "canceled",
)
COMPLETED_STATUS = "completed"


@dataclass(frozen=True)
class SourceSpec:
    """One landing file: its name, its required columns and the columns of its key."""

    name: str
    columns: tuple[str, ...]
    keys: tuple[str, ...]
    dedupe_key: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"


CALL_LOGS = SourceSpec(
    name="call_logs",
    columns=(
        "call_id",
        "agent_id",
        "org_id",
        "installment_id",
        "status",
        "duration",
        "created_ts",
        "call_date",
    ),
    keys=("call_id", "agent_id", "org_id", "call_date"),
    # (v2) Versions of one call share all four; rows sharing only the call_id are different
    # calls whose ids collide (kept, counted as call_id_conflict).
    dedupe_key=("call_id", "org_id", "agent_id", "installment_id"),
)
AGENT_ROSTER = SourceSpec(
    name="agent_roster",
    columns=(
        "agent_id",
        "users_first_name",
        "users_last_name",
        "users_office_location",
        "org_id",
    ),
    keys=("agent_id", "org_id"),
    dedupe_key=("org_id", "agent_id"),
)
DISPOSITION_SUMMARY = SourceSpec(
    name="disposition_summary",
    columns=("agent_id", "org_id", "call_date", "login_time"),
    keys=("agent_id", "org_id", "call_date"),
    dedupe_key=("org_id", "agent_id", "call_date"),
)
SOURCES: tuple[SourceSpec, ...] = (CALL_LOGS, AGENT_ROSTER, DISPOSITION_SUMMARY)

# Reason codes, in the order the rules are applied.
MALFORMED_ROW = "malformed_row"
BAD_CALL_DATE = "bad_call_date"
CALL_DATE_OUTSIDE_PARTITION = "call_date_outside_partition"
DUPLICATE_EXACT = "duplicate_exact"
DUPLICATE_SUPERSEDED = "duplicate_superseded"


def missing_reason(column: str) -> str:
    """Reason code for an empty key column, e.g. ``missing_call_id``."""
    return f"missing_{column}"


# Warnings: the row is kept and counted.
UNKNOWN_STATUS = "unknown_status"
BAD_DURATION = "bad_duration"
MISSING_INSTALLMENT_ID = "missing_installment_id"
BAD_CREATED_TS = "bad_created_ts"
CALL_ID_CONFLICT = "call_id_conflict"
BAD_LOGIN_TIME = "bad_login_time"

# Union of every source's columns: the raw-value columns of rejected_rows.csv.
RAW_VALUE_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(c for spec in SOURCES for c in spec.columns)
)
RAW_TEXT = "raw_text"
REJECTED_COLUMNS: tuple[str, ...] = ("source", "row_number", "reason", *RAW_VALUE_COLUMNS, RAW_TEXT)


def raw_asset_name(spec: SourceSpec) -> str:
    """The landing asset of a file: ``raw_<name>``."""
    return f"raw_{spec.name}"

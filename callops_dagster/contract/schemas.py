"""pandera schemas of the validated tables: key columns present, non-empty and unique.

The asset checks run these lazily and report the failure cases; the tests use them too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc


def repeated_keys(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """True for each row whose whole key (``columns``) is on another row too: pandas'
    ``duplicated(keep=False)``, but the whole key is compared only for the rows whose first
    column repeats. A day's first key column (call_id, org_id) is nearly all distinct or has few
    values, so a million rows cost one Arrow hash of one column instead of pandas factorising
    every key column (0.6 s of a 1M-row day's key check; issue 23)."""
    first = pyarrow.array(frame[columns[0]], from_pandas=True)
    if isinstance(first, pyarrow.ChunkedArray):
        first = first.combine_chunks()
    codes = pc.dictionary_encode(first).indices.fill_null(-1).to_numpy(zero_copy_only=False)
    counts = np.bincount(codes + 1, minlength=1)  # missing values (code -1) count as one value
    candidates = counts[codes + 1] > 1
    repeated = np.zeros(len(frame), dtype=bool)
    if candidates.any():
        repeated[candidates] = frame.loc[candidates, list(columns)].duplicated(keep=False).to_numpy()
    return pd.Series(repeated, index=frame.index)


def _unique_key(columns: list[str]) -> pa.Check:
    """The table's key unique: a row-wise check, so its failure cases are the repeated rows."""
    return pa.Check(lambda frame: ~repeated_keys(frame, columns), name=f"unique_key({', '.join(columns)})")


def _key(name: str, unique: bool = False) -> pa.Column:
    return pa.Column(
        "str", pa.Check.str_length(min_value=1), nullable=False, unique=unique, name=name
    )


def _text(name: str) -> pa.Column:
    return pa.Column("str", nullable=True, name=name)


ROW_NUMBER_COLUMN = pa.Column("int64", pa.Check.ge(1), unique=True, name="row_number")

CALL_LOGS_SCHEMA = pa.DataFrameSchema(
    {
        "row_number": ROW_NUMBER_COLUMN,
        "call_id": _key("call_id"),
        "org_id": _key("org_id"),
        "agent_id": _key("agent_id"),
        "installment_id": _text("installment_id"),
        "status": _text("status"),
        "is_completed": pa.Column("bool", name="is_completed"),
        "created_ts": pa.Column("datetime64[us]", nullable=True, name="created_ts"),
        "call_date": _key("call_date"),
    },
    # (v2) A call's identity; rows sharing only the call_id are different calls.
    checks=[_unique_key(["call_id", "org_id", "agent_id", "installment_id"])],
    strict=False,
    name="call_logs",
)
DISPOSITION_SUMMARY_SCHEMA = pa.DataFrameSchema(
    {
        "row_number": ROW_NUMBER_COLUMN,
        "org_id": _key("org_id"),
        "agent_id": _key("agent_id"),
        "call_date": _key("call_date"),
        "login_time": _text("login_time"),
        "present": pa.Column("bool", name="present"),
    },
    checks=[_unique_key(["org_id", "agent_id", "call_date"])],
    strict=False,
    name="disposition_summary",
)
AGENT_ROSTER_SCHEMA = pa.DataFrameSchema(
    {
        "row_number": ROW_NUMBER_COLUMN,
        "org_id": _key("org_id"),
        "agent_id": _key("agent_id"),
        "agent_name": _text("agent_name"),
        "office_location": _text("office_location"),
    },
    checks=[_unique_key(["org_id", "agent_id"])],
    strict=False,
    name="agent_roster",
)
SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "call_logs": CALL_LOGS_SCHEMA,
    "disposition_summary": DISPOSITION_SUMMARY_SCHEMA,
    "agent_roster": AGENT_ROSTER_SCHEMA,
}


def schema_failures(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Every failure case of ``schema`` on ``frame`` (empty when the frame conforms)."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return exc.failure_cases
    return pd.DataFrame(columns=["schema_context", "column", "check", "check_number", "failure_case", "index"])

"""Row rules: split each file's records into kept (trimmed, typed, deduplicated) and rejected.

Every rejected row keeps its source file, row_number, raw values and the first rule it broke.
Rows that are kept but suspicious are counted as warnings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from callops_dagster.contract.sources import (
    AGENT_ROSTER,
    BAD_CALL_DATE,
    BAD_CREATED_TS,
    BAD_DURATION,
    BAD_LOGIN_TIME,
    CALL_ID_CONFLICT,
    CALL_DATE_OUTSIDE_PARTITION,
    CALL_LOGS,
    COMPLETED_STATUS,
    DEFAULT_KNOWN_STATUSES,
    DISPOSITION_SUMMARY,
    DUPLICATE_EXACT,
    DUPLICATE_SUPERSEDED,
    MALFORMED_ROW,
    MISSING_INSTALLMENT_ID,
    RAW_TEXT,
    RAW_VALUE_COLUMNS,
    REJECTED_COLUMNS,
    UNKNOWN_STATUS,
    SourceSpec,
    missing_reason,
)
from callops_dagster.contract.datetimes import DEFAULT_TIMEZONE, parse_created_ts, parse_login_time
from callops_dagster.contract.durations import MINUTES, exact_seconds, valid_durations
from callops_dagster.ingest.reading import ROW_NUMBER

REASON = "reason"
ROSTER_DAY = "roster_day"
# ASCII digits only: Python's \d also matches other scripts' digits ("٦٠"), which no
# parser downstream reads as a number.
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
CONFLICT_SAMPLE_ROWS = 10


@dataclass
class Validated:
    """The kept rows, the rejected rows (in ``REJECTED_COLUMNS`` form) and warning counts.

    ``samples`` holds a few example rows per warning that has them (``call_id_conflict``).
    """

    kept: pd.DataFrame
    rejected: pd.DataFrame
    warnings: dict[str, int] = field(default_factory=dict)
    samples: dict[str, pd.DataFrame] = field(default_factory=dict)

    def rejected_by_reason(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.rejected[REASON].value_counts().sort_index().items()}


def valid_dates(values: pd.Series) -> pd.Series:
    """True where the value is a real date written exactly ``YYYY-MM-DD``.

    Parses each distinct value once: a day's file carries only a handful of dates.
    """
    uniques = pd.Series(values.unique(), dtype="str")
    shaped = uniques.str.fullmatch(DATE_RE).fillna(False).astype(bool)
    real = pd.to_datetime(uniques.where(shaped), format="%Y-%m-%d", errors="coerce").notna()
    good = set(uniques[shaped & real])
    return values.isin(good)


def trimmed_text(values: pd.Series) -> pd.Series:
    """``values.str.strip()``, or ``values`` itself when no value has white space to trim.

    Most columns of a day are clean; returning the original column (equal, and shared with
    the raw table) instead of a copy saves a copy of the column's text in memory. Trimming
    only removes characters, so equal total sizes mean nothing was trimmed.
    """
    stripped = values.str.strip()
    return values if _text_bytes(stripped) == _text_bytes(values) else stripped


def _text_bytes(values: pd.Series) -> int:
    """Bytes of text in the column, from Arrow's offsets (``str.len()`` is ten times slower)."""
    return int(pc.sum(pc.binary_length(pa.array(values, from_pandas=True))).as_py() or 0)


def _trimmed(raw: pd.DataFrame, spec: SourceSpec) -> pd.DataFrame:
    trimmed = pd.DataFrame({c: trimmed_text(raw[c]) for c in spec.columns}, index=raw.index)
    trimmed.insert(0, ROW_NUMBER, raw[ROW_NUMBER])
    return trimmed


def _first_rules(
    raw: pd.DataFrame, trimmed: pd.DataFrame, spec: SourceSpec, partition_date: dt.date | None
) -> pd.Series:
    """Reason per row from rules 0-3 (malformed, missing keys, bad date, other date)."""
    rules: list[tuple[pd.Series, str]] = [(raw[RAW_TEXT].notna(), MALFORMED_ROW)]
    for key in spec.keys:
        rules.append((trimmed[key].eq("").fillna(False), missing_reason(key)))
    if "call_date" in spec.columns and partition_date is not None:
        dates = trimmed["call_date"]
        rules.append((~valid_dates(dates.fillna("")), BAD_CALL_DATE))
        rules.append((dates.ne(partition_date.isoformat()).fillna(False), CALL_DATE_OUTSIDE_PARTITION))
    # The first rule broken wins: np.select picks the first true condition, in one pass
    # (one assignment instead of one per rule; each rewrites a million-row text column).
    first = np.select([mask.to_numpy(bool) for mask, _ in rules], range(1, len(rules) + 1), default=0)
    reason = pd.Series(pd.NA, index=raw.index, dtype="str")
    broken = first > 0
    if broken.any():
        reason[broken] = np.array([code for _, code in rules], dtype=object)[first[broken] - 1]
    return reason


def _duplicate_reasons(
    candidates: pd.DataFrame, is_kept: pd.Series, spec: SourceSpec, compare: Iterable[str]
) -> pd.Series:
    """``duplicate_exact`` or ``duplicate_superseded`` for each candidate that is not kept."""
    keys = list(spec.dedupe_key)
    compare = list(compare)
    losers = candidates.loc[~is_kept, [ROW_NUMBER, *compare]]
    winners = candidates.loc[is_kept, compare]
    joined = losers.merge(winners, on=keys, how="left", suffixes=("", "_kept"))
    others = [c for c in compare if c not in keys]
    same = np.logical_and.reduce(
        [joined[c].eq(joined[f"{c}_kept"]).fillna(False).to_numpy(bool) for c in others]
    )
    codes = np.where(same, DUPLICATE_EXACT, DUPLICATE_SUPERSEDED)
    return pd.Series(codes, index=losers.index, dtype="str")


def _rejected_frame(raw: pd.DataFrame, reason: pd.Series, spec: SourceSpec) -> pd.DataFrame:
    """Rejected rows in the common shape of ``rejected_rows``: raw values, untrimmed."""
    rows = raw.loc[reason.notna()]
    out = pd.DataFrame(
        {
            "source": pd.Series(spec.file_name, index=rows.index, dtype="str"),
            ROW_NUMBER: rows[ROW_NUMBER].astype("int64"),
            REASON: reason.loc[rows.index].astype("str"),
        }
    )
    for column in (*RAW_VALUE_COLUMNS, RAW_TEXT):
        out[column] = rows[column] if column in rows else pd.Series(pd.NA, index=rows.index, dtype="str")
    return out[list(REJECTED_COLUMNS)].reset_index(drop=True)


def empty_rejected() -> pd.DataFrame:
    """A rejected-rows frame with no rows and the right columns and types."""
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in REJECTED_COLUMNS})
    frame[ROW_NUMBER] = frame[ROW_NUMBER].astype("int64")
    return frame


def with_roster_day(roster: pd.DataFrame, roster_day: str) -> pd.DataFrame:
    """The kept roster with the day whose file it is (the day itself, or the day carried from)."""
    return roster.assign(**{ROSTER_DAY: pd.Series(roster_day, index=roster.index, dtype="str")})


def roster_day_of(roster: pd.DataFrame, day: dt.date) -> dt.date:
    """The day whose file a roster table is (``day`` when the table does not say: no rows, or
    a table read straight from a file)."""
    if ROSTER_DAY not in roster.columns or roster.empty:
        return day
    return dt.date.fromisoformat(str(roster[ROSTER_DAY].iloc[0]))


def reported_rejects(result: Validated, carried_forward: bool) -> pd.DataFrame:
    """The file's rejected rows as the day reports them: none for a roster carried forward
    from an earlier day (its rejects belong to that day)."""
    return empty_rejected() if carried_forward else result.rejected


def records_conservation(records_read: int, result: Validated) -> dict[str, int]:
    """Records read (the reader's count) against rows kept plus rows rejected: nothing lost
    when ``difference`` is 0."""
    return {
        "records_read": records_read,
        "rows_kept": len(result.kept),
        "rows_rejected": len(result.rejected),
        "difference": records_read - len(result.kept) - len(result.rejected),
    }


def key_codes(values: pd.Series) -> np.ndarray:
    """Each value's code among the column's distinct values (-1 for a missing one): Arrow's hash
    table, several times faster than pandas' on a million call_ids. Computed once per column
    and shared by the checks that need it."""
    arrow = pa.array(values, from_pandas=True)
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    return pc.dictionary_encode(arrow).indices.fill_null(-1).to_numpy(zero_copy_only=False)


def repeated_codes(codes: np.ndarray, among: np.ndarray) -> np.ndarray:
    """True for the rows of ``among`` whose code occurs in more than one row of ``among``."""
    counted = among & (codes >= 0)
    counts = np.bincount(codes[counted], minlength=int(codes.max(initial=-1)) + 1)
    repeated = np.zeros(len(codes), dtype=bool)
    repeated[counted] = counts[codes[counted]] > 1
    return repeated


def _repeated(
    frame: pd.DataFrame, keys: list[str], among: pd.Series, first_codes: np.ndarray | None = None
) -> pd.Series:
    """True for the rows of ``among`` whose key occurs in more than one row of ``among``.

    ``first_codes``: the first key's ``key_codes`` for ``frame``'s rows, when already known.
    """
    codes = key_codes(frame[keys[0]]) if first_codes is None else first_codes
    first = pd.Series(repeated_codes(codes, among.to_numpy(bool)), index=frame.index)
    if len(keys) == 1:
        return first
    # Only rows whose first key repeats can repeat the whole key: a call identity is compared
    # column by column for the few rows sharing a call_id, not for the day.
    subset = frame.loc[first, keys]
    return subset.duplicated(keep=False).reindex(frame.index, fill_value=False)


def _split(
    raw: pd.DataFrame,
    spec: SourceSpec,
    partition_date: dt.date | None,
    order: list[str],
    ascending: list[bool],
    keep: str,
    normalised: pd.DataFrame | None = None,
    first_codes: np.ndarray | None = None,
    kept_columns: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Apply rules 0-4: returns the trimmed kept rows and the reason of every raw row.

    Rows passing rules 0-3 that share a dedupe key are sorted by ``order``; the ``keep`` row of each
    dedupe key wins, the others are duplicates (exact when equal after normalisation).
    ``kept_columns``: the columns the kept rows need (all when None); the others are not copied.
    """
    trimmed = _trimmed(raw, spec) if normalised is None else normalised
    reason = _first_rules(raw, trimmed, spec, partition_date)
    keys = list(spec.dedupe_key)
    # Only rows whose key occurs more than once need ordering: sort those few, not the day.
    candidates = reason.isna()
    contested = trimmed.loc[candidates & _repeated(trimmed, keys, candidates, first_codes)]
    contested = contested.sort_values(order, ascending=ascending, kind="stable")
    is_kept = ~contested.duplicated(keys, keep=keep)
    if not is_kept.all():
        reason.loc[contested.index[~is_kept]] = _duplicate_reasons(
            contested, is_kept, spec, spec.columns
        )
    kept = trimmed.loc[reason.isna(), kept_columns if kept_columns is not None else trimmed.columns]
    if not kept[ROW_NUMBER].is_monotonic_increasing:
        kept = kept.sort_values(ROW_NUMBER, kind="stable")
    return kept, reason


def validate_call_logs(
    raw: pd.DataFrame,
    partition_date: dt.date,
    known_statuses: Iterable[str] = DEFAULT_KNOWN_STATUSES,
    duration_unit: str = MINUTES,
    timezone: str = DEFAULT_TIMEZONE,
) -> Validated:
    """Apply the call_logs row rules.

    Versions of one call share (call_id, org_id, agent_id, installment_id): the latest
    created_ts wins (unparseable counts as oldest; ties to the later row). Rows sharing only
    the call_id are different calls, all kept, counted under ``call_id_conflict``.
    Durations are exact decimal seconds, read in ``duration_unit``.
    """
    trimmed = _trimmed(raw, CALL_LOGS)
    trimmed["status"] = trimmed["status"].str.lower()
    created = parse_created_ts(trimmed["created_ts"], timezone)
    # NaT is the smallest int64, so an unparseable created_ts sorts as the oldest.
    trimmed["_created_key"] = created.to_numpy().view("int64")
    call_codes = key_codes(trimmed["call_id"])  # the dedupe and the call_id_conflict check share it
    kept, reason = _split(
        raw,
        CALL_LOGS,
        partition_date,
        order=[*CALL_LOGS.dedupe_key, "_created_key", ROW_NUMBER],
        ascending=[True] * 6,
        keep="last",
        normalised=trimmed,
        first_codes=call_codes,
        # created_ts is taken from the parsed column: its text is not copied for the kept rows.
        kept_columns=[ROW_NUMBER, *(c for c in CALL_LOGS.columns if c != "created_ts")],
    )
    del trimmed  # frees the trimmed copy of the day before the kept table is built (memory)
    duration_ok = valid_durations(kept["duration"])
    known = kept["status"].isin(list(known_statuses))
    installment = kept["installment_id"].where(kept["installment_id"] != "")
    kept_created = created.loc[kept.index]
    table = pd.DataFrame(
        {
            ROW_NUMBER: kept[ROW_NUMBER].astype("int64"),
            "call_id": kept["call_id"],
            "org_id": kept["org_id"],
            "agent_id": kept["agent_id"],
            "installment_id": installment.astype("str"),
            "status": kept["status"],
            "is_completed": kept["status"].eq(COMPLETED_STATUS).astype(bool),
            "duration_s": exact_seconds(kept["duration"].where(duration_ok), duration_unit),
            "created_ts": kept_created,
            "call_date": kept["call_date"],
        }
    ).reset_index(drop=True)
    conflicts = call_id_conflicts(table, call_codes[raw.index.get_indexer(kept.index)])
    warnings = {
        UNKNOWN_STATUS: int((~known).sum()),
        BAD_DURATION: int((~duration_ok).sum()),
        MISSING_INSTALLMENT_ID: int(installment.isna().sum()),
        BAD_CREATED_TS: int(kept_created.isna().sum()),
        CALL_ID_CONFLICT: int(conflicts["call_id"].nunique()),
    }
    sample = conflicts.loc[conflicts["call_id"].isin(conflicts["call_id"].unique()[:CONFLICT_SAMPLE_ROWS])]
    return Validated(
        table, _rejected_frame(raw, reason, CALL_LOGS), warnings, {CALL_ID_CONFLICT: sample}
    )


def call_id_conflicts(calls: pd.DataFrame, codes: np.ndarray | None = None) -> pd.DataFrame:
    """The kept calls whose call_id is shared by another kept call (a colliding id).

    After versioning, each call identity has one row, so a call_id on two kept rows belongs
    to two different calls. Rows sorted by call_id, then row_number. ``codes``: the calls'
    ``key_codes`` of call_id, when already known.
    """
    shared = _repeated(calls, ["call_id"], pd.Series(True, index=calls.index), codes)
    columns = ["call_id", "org_id", "agent_id", "installment_id", ROW_NUMBER]
    return calls.loc[shared, columns].sort_values(["call_id", ROW_NUMBER], ignore_index=True)


def validate_disposition_summary(
    raw: pd.DataFrame, partition_date: dt.date, timezone: str = DEFAULT_TIMEZONE
) -> Validated:
    """Apply the disposition rules; one login record per (org_id, agent_id, call_date).

    login_time is a time of day on the row's call_date (for every row that can be kept, the
    partition's day) or a date-time. The kept row has the earliest login: parseable times
    first, then unparseable non-empty values (``bad_login_time``), then empty ones; ties go
    to the earlier row in the file.
    """
    trimmed = _trimmed(raw, DISPOSITION_SUMMARY)
    login = parse_login_time(trimmed["login_time"], partition_date, timezone)
    present = trimmed["login_time"].fillna("").ne("")
    trimmed["_login_rank"] = np.select([login.notna(), present], [0, 1], default=2)
    trimmed["_login_key"] = login.to_numpy().view("int64")
    kept, reason = _split(
        raw,
        DISPOSITION_SUMMARY,
        partition_date,
        order=[*DISPOSITION_SUMMARY.dedupe_key, "_login_rank", "_login_key", ROW_NUMBER],
        ascending=[True] * 6,
        keep="first",
        normalised=trimmed,
    )
    kept_login = login.loc[kept.index]
    kept_present = kept["login_time"].ne("")
    table = pd.DataFrame(
        {
            ROW_NUMBER: kept[ROW_NUMBER].astype("int64"),
            "org_id": kept["org_id"],
            "agent_id": kept["agent_id"],
            "call_date": kept["call_date"],
            "login_time": kept["login_time"].where(kept_present).astype("str"),
            "login_ts": kept_login,
            "present": kept_present.astype(bool),
        }
    ).reset_index(drop=True)
    warnings = {BAD_LOGIN_TIME: int((kept_present & kept_login.isna()).sum())}
    return Validated(table, _rejected_frame(raw, reason, DISPOSITION_SUMMARY), warnings)


def agent_name(first: pd.Series, last: pd.Series) -> pd.Series:
    """First and last name joined by one space; a missing part leaves no stray space."""
    return (first.fillna("") + " " + last.fillna("")).str.strip()


def validate_agent_roster(raw: pd.DataFrame) -> Validated:
    """Apply the roster rules; per (agent_id, org_id) the row later in the file wins."""
    kept, reason = _split(
        raw,
        AGENT_ROSTER,
        None,
        order=[*AGENT_ROSTER.dedupe_key, ROW_NUMBER],
        ascending=[True, True, True],
        keep="last",
    )
    table = pd.DataFrame(
        {
            ROW_NUMBER: kept[ROW_NUMBER].astype("int64"),
            "org_id": kept["org_id"],
            "agent_id": kept["agent_id"],
            "first_name": kept["users_first_name"],
            "last_name": kept["users_last_name"],
            "agent_name": agent_name(kept["users_first_name"], kept["users_last_name"]),
            "office_location": kept["users_office_location"],
        }
    ).reset_index(drop=True)
    return Validated(table, _rejected_frame(raw, reason, AGENT_ROSTER))

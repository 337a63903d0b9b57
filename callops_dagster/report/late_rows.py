"""Late rows: calls of another day that arrived in this day's file.

Rows rejected as ``call_date_outside_partition`` are not lost: they are counted here by the
date they carry, so the day's message and the ``late_rows`` check can say which earlier days
have calls that arrived late (and which rows claim a later day than the file's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from callops_dagster.contract.sources import CALL_DATE_OUTSIDE_PARTITION, CALL_LOGS

CALL_DATE = "call_date"


@dataclass(frozen=True)
class LateRows:
    """Call rows of the day's file that carry another date, counted by that date."""

    earlier: dict[str, int] = field(default_factory=dict)  # late rows: YYYY-MM-DD -> rows
    later: dict[str, int] = field(default_factory=dict)  # rows dated after the file's day

    @property
    def late(self) -> int:
        return sum(self.earlier.values())

    @property
    def future(self) -> int:
        return sum(self.later.values())


def late_rows(rejected: pd.DataFrame, day: dt.date) -> LateRows:
    """Count the call rows rejected as ``call_date_outside_partition`` by the date they carry.

    ``rejected`` is the day's rejected-rows table (raw values, untrimmed); only rows of
    call_logs.csv count (a login of another day is not a call). The rule that rejected them
    already proved the trimmed value is a real ``YYYY-MM-DD`` date.
    """
    if rejected.empty or CALL_DATE not in rejected:
        return LateRows()
    rows = rejected.loc[
        (rejected["source"] == CALL_LOGS.file_name)
        & (rejected["reason"] == CALL_DATE_OUTSIDE_PARTITION)
    ]
    counts = rows[CALL_DATE].astype("str").str.strip().value_counts().sort_index()
    today = day.isoformat()  # ISO dates sort as text
    return LateRows(
        earlier={d: int(n) for d, n in counts.items() if d < today},
        later={d: int(n) for d, n in counts.items() if d > today},
    )


def _rows(count: int, adjective: str = "") -> str:
    return f"{count} {adjective + ' ' if adjective else ''}row{'' if count == 1 else 's'}"


def _by_day(counts: dict[str, int], shown: int = 3) -> str:
    """``2025-04-27`` for one day; ``2025-04-26 (1), 2025-04-27 (2)`` for several."""
    if len(counts) == 1:
        return next(iter(counts))
    days = sorted(counts, reverse=True)  # the most recent days first
    text = ", ".join(f"{d} ({counts[d]})" for d in days[:shown])
    return text + (f" and {len(days) - shown} more days" if len(days) > shown else "")


def late_rows_text(rows: LateRows) -> str:
    """The message's words for late rows, e.g. ``1 late row for 2025-04-27``; empty when none."""
    parts = []
    if rows.late:
        parts.append(f"{_rows(rows.late, 'late')} for {_by_day(rows.earlier)}")
    if rows.future:
        parts.append(f"{_rows(rows.future)} dated after the day ({_by_day(rows.later)})")
    return "; ".join(parts)

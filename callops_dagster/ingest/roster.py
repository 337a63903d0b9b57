"""Which roster a day uses: its own, or the latest earlier one (carried forward when absent)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from upath import UPath

from callops_dagster.contract.sources import AGENT_ROSTER
from callops_dagster.ingest.reading import RawTable, SourceFileError, read_landing_csv
from callops_dagster.landing.folder import landed_days, landing_file
from callops_dagster.platform.storage import is_file, storage_errors


@dataclass
class RosterChoice:
    """The roster a day uses: its own, or the latest earlier one with data rows."""

    table: RawTable
    roster_day: dt.date
    skipped: list[str] = field(default_factory=list)  # why earlier candidates were passed over

    def carried_forward(self, day: dt.date) -> bool:
        return self.roster_day != day


def usable_roster(path: Path | UPath, max_bytes: int | None) -> RawTable | None:
    """The roster at ``path`` if it has data rows; None when absent, empty or header-only."""
    with storage_errors(path, "read"):
        if not is_file(path) or path.stat().st_size == 0:
            return None
    table = read_landing_csv(path, AGENT_ROSTER, max_bytes=max_bytes)
    return table if table.records_read > 0 else None


def roster_in_force(tables: Mapping[str, pd.DataFrame], day: dt.date) -> tuple[pd.DataFrame, dt.date] | None:
    """The raw roster in force on ``day`` among ``tables`` (raw roster tables by ISO day, the day
    itself and the days before it): the latest that has records, and its day; None when none has."""
    for key in sorted((k for k in tables if k <= day.isoformat()), reverse=True):
        if tables[key] is not None and len(tables[key]):
            return tables[key], dt.date.fromisoformat(key)
    return None


def choose_roster(data_dir: Path | UPath, day: dt.date, *, max_bytes: int | None = None) -> RosterChoice:
    """The day's own roster, or the latest earlier day's roster that has data rows.

    A roster of the day that is present but unusable (a missing column, say) fails the day:
    carrying forward is for a roster that did not come, not for one that came broken.
    Earlier rosters that cannot be read are skipped and listed.
    """
    own = usable_roster(landing_file(data_dir, day, AGENT_ROSTER), max_bytes)
    if own is not None:
        return RosterChoice(own, day)
    skipped: list[str] = []
    for earlier in reversed([d for d in landed_days(data_dir) if d < day]):
        try:
            table = usable_roster(landing_file(data_dir, earlier, AGENT_ROSTER), max_bytes)
        except SourceFileError as exc:
            skipped.append(f"{earlier.isoformat()}: {exc}")
            continue
        if table is not None:
            return RosterChoice(table, earlier, skipped)
    raise SourceFileError(
        AGENT_ROSTER.file_name,
        f"no roster with data rows for {day.isoformat()} and none on an earlier day to carry forward",
    )

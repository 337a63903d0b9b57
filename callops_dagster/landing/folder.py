"""Where a day's files live, and which roster a day uses (carried forward when absent)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from callops_dagster.contract.sources import AGENT_ROSTER, SourceSpec
from callops_dagster.landing.watch import landed_files, scan_landing
from callops_dagster.ingest.reading import RawTable, SourceFileError, read_landing_csv


def landing_dir(data_dir: Path, day: dt.date) -> Path:
    """``<data_dir>/landing/<YYYY-MM-DD>``; the day comes from a validated partition key."""
    return Path(data_dir) / "landing" / day.isoformat()


def landing_file(data_dir: Path, day: dt.date, spec: SourceSpec) -> Path:
    return landing_dir(data_dir, day) / spec.file_name


def landed_days(data_dir: Path) -> list[dt.date]:
    """Every folder under ``landing/`` whose name is a date, ascending; others are ignored."""
    return sorted(scan_landing(data_dir).days)


def newest_complete_day(data_dir: Path, last_day: dt.date) -> dt.date | None:
    """The latest day up to ``last_day`` (the newest partition) whose required files are all there.

    A folder for a later day (today's, still landing) or one missing a required file does
    not count: it must not make the day being finished look like an old one.
    """
    days = scan_landing(data_dir).days
    complete = [d for d, folder in days.items() if d <= last_day and landed_files(folder) is not None]
    return max(complete, default=None)


@dataclass
class RosterChoice:
    """The roster a day uses: its own, or the latest earlier one with data rows."""

    table: RawTable
    roster_day: dt.date
    skipped: list[str] = field(default_factory=list)  # why earlier candidates were passed over

    def carried_forward(self, day: dt.date) -> bool:
        return self.roster_day != day


def _usable_roster(path: Path, max_bytes: int | None) -> RawTable | None:
    """The roster at ``path`` if it has data rows; None when absent, empty or header-only."""
    if not path.is_file() or path.stat().st_size == 0:
        return None
    table = read_landing_csv(path, AGENT_ROSTER, max_bytes=max_bytes)
    return table if table.records_read > 0 else None


def choose_roster(data_dir: Path, day: dt.date, *, max_bytes: int | None = None) -> RosterChoice:
    """The day's own roster, or the latest earlier day's roster that has data rows.

    A roster of the day that is present but unusable (a missing column, say) fails the day:
    carrying forward is for a roster that did not come, not for one that came broken.
    Earlier rosters that cannot be read are skipped and listed.
    """
    own = _usable_roster(landing_file(data_dir, day, AGENT_ROSTER), max_bytes)
    if own is not None:
        return RosterChoice(own, day)
    skipped: list[str] = []
    for earlier in reversed([d for d in landed_days(data_dir) if d < day]):
        try:
            table = _usable_roster(landing_file(data_dir, earlier, AGENT_ROSTER), max_bytes)
        except SourceFileError as exc:
            skipped.append(f"{earlier.isoformat()}: {exc}")
            continue
        if table is not None:
            return RosterChoice(table, earlier, skipped)
    raise SourceFileError(
        AGENT_ROSTER.file_name,
        f"no roster with data rows for {day.isoformat()} and none on an earlier day to carry forward",
    )

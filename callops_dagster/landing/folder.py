"""Where a day's files live in the landing folder, and which days have landed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from upath import UPath

from callops_dagster.contract.sources import SourceSpec
from callops_dagster.landing.watch import landed_files, scan_landing
from callops_dagster.platform.storage import data_path


def landing_dir(data_dir: Path | UPath, day: dt.date) -> Path | UPath:
    """``<data_dir>/landing/<YYYY-MM-DD>``; the day comes from a validated partition key."""
    return data_path(data_dir) / "landing" / day.isoformat()


def landing_file(data_dir: Path | UPath, day: dt.date, spec: SourceSpec) -> Path | UPath:
    return landing_dir(data_dir, day) / spec.file_name


def landed_days(data_dir: Path | UPath) -> list[dt.date]:
    """Every folder under ``landing/`` whose name is a date, ascending; others are ignored."""
    return sorted(scan_landing(data_dir).days)


def newest_complete_day(data_dir: Path | UPath, last_day: dt.date) -> dt.date | None:
    """The latest day up to ``last_day`` (the newest partition) whose required files are all there.

    A folder for a later day (today's, still landing) or one missing a required file does
    not count: it must not make the day being finished look like an old one.
    """
    days = scan_landing(data_dir).days
    complete = [d for d, folder in days.items() if d <= last_day and landed_files(folder) is not None]
    return max(complete, default=None)

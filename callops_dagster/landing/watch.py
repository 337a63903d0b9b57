"""Which landed days are ready to run: folders listed, files fingerprinted, two looks compared.

Plain Python, no dagster: the landing sensor calls ``scan_landing`` and ``plan_tick`` once per
tick and keeps the returned ``WatchState`` (JSON) as its cursor. A day is ready when its
required files are present and their sizes and mtimes are the same as at the previous look.
A day that ran before and whose files changed by stat is then compared by content: when every
file's sha256 equals the data version its landing asset last recorded for the day, and the day
finished since, it is adopted without a run (a touched file, an identical re-drop).

The data dir may be object storage (``s3://bucket/prefix``): every look is a fresh listing
(``storage.list_folder``: fsspec's listing cache is dropped first), one request for the
landing folder and one per day, and an object's ETag takes part in its fingerprint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from upath import UPath

from callops_dagster.contract.sources import AGENT_ROSTER, CALL_LOGS, DISPOSITION_SUMMARY, SOURCES
from callops_dagster.platform.content import file_sha256
from callops_dagster.platform.storage import data_path, is_local, list_folder

# The roster may be carried forward from an earlier day, so only these two must be there.
REQUIRED_FILES: tuple[str, ...] = (CALL_LOGS.file_name, DISPOSITION_SUMMARY.file_name)
WATCHED_FILES: tuple[str, ...] = tuple(spec.file_name for spec in SOURCES)
CURSOR_VERSION = 1
# The data version of the roster landing asset on a day whose roster did not come (absent,
# empty or header-only: the validated roster carries an earlier one forward); raw_assets.py
# writes it.
CARRIED = "no-file"


@dataclass(frozen=True)
class LandingScan:
    """The date folders under ``landing/`` and the other entries (hidden ones left out)."""

    days: dict[dt.date, Path | UPath]
    ignored: tuple[str, ...] = ()


def parse_day(name: str) -> dt.date | None:
    """The date a folder name spells exactly as ``YYYY-MM-DD``, else None."""
    try:
        day = dt.date.fromisoformat(name)
    except ValueError:
        return None
    return day if name == day.isoformat() else None


def scan_landing(data_dir: Path | UPath) -> LandingScan:
    """One fresh listing of ``<data_dir>/landing``: date folders, and every other visible entry."""
    root = data_path(data_dir) / "landing"
    try:
        entries = list_folder(root)
    except (FileNotFoundError, NotADirectoryError):
        return LandingScan({})
    days: dict[dt.date, Path | UPath] = {}
    ignored = []
    for entry in entries:
        day = parse_day(entry.name)
        if day is not None and entry.is_dir:
            days[day] = entry.path
        elif not entry.name.startswith("."):  # hidden: a dropper's temporary folder
            ignored.append(entry.name)
    return LandingScan(days, tuple(sorted(ignored)))


@dataclass(frozen=True)
class LandedFile:
    """One watched file of a landed day, as ``os.stat`` (or the object listing) saw it."""

    name: str
    path: Path | UPath
    size: int
    mtime_ns: int
    etag: str = ""  # object storage only: changes with the object's content


def landed_files(folder: Path | UPath) -> tuple[LandedFile, ...] | None:
    """The day's watched files that are there, in contract order; None while a required one is missing."""
    if not is_local(folder):
        return _listed_files(folder)
    found = []
    for name in WATCHED_FILES:
        path = Path(folder) / name
        try:
            info = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            info = None
        if info is None or not stat.S_ISREG(info.st_mode):
            if name in REQUIRED_FILES:
                return None
            continue
        found.append(LandedFile(name, path, info.st_size, info.st_mtime_ns))
    return tuple(found)


def _listed_files(folder: UPath) -> tuple[LandedFile, ...] | None:
    """``landed_files`` of a day on object storage, from one fresh listing of its folder."""
    try:
        listed = {e.name: e for e in list_folder(folder) if not e.is_dir}
    except (FileNotFoundError, NotADirectoryError):
        listed = {}
    if any(name not in listed for name in REQUIRED_FILES):
        return None
    return tuple(
        LandedFile(e.name, e.path, e.size, e.mtime_ns, e.etag)
        for e in (listed[name] for name in WATCHED_FILES if name in listed)
    )


def files_fingerprint(files: tuple[LandedFile, ...]) -> str:
    """A short hash of the files' names, sizes and mtimes (and ETags, on object storage)."""
    parts = [f"{f.name}:{f.size}:{f.mtime_ns}" + (f":{f.etag}" if f.etag else "") for f in files]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Recorded:
    """What the instance holds for a day that ran: by file name, the data version of its landing
    asset's latest materialisation for the day (None when there is none), and whether the day's
    last asset was materialised after all of them (the day finished since it last read its files)."""

    versions: dict[str, str | None]
    finished: bool


def content_change(files: tuple[LandedFile, ...], recorded: Recorded | None) -> str | None:
    """Why the day must run again although it ran before, or None when its files hold the bytes
    its last finished run read: each present file's sha256 equals its recorded data version, and
    a roster that is absent was carried forward then too. Files are hashed one by one, stopping
    at the first that differs (``OSError`` when one cannot be read)."""
    if recorded is None or not any(recorded.versions.values()):
        return "no materialisation of its landing files recorded"
    if not recorded.finished:
        return "its last run did not finish after reading its files"
    present = {landed.name: landed for landed in files}
    for name in WATCHED_FILES:
        version = recorded.versions.get(name)
        if name not in present:
            if not (version or "").startswith(CARRIED):
                return f"{name} was removed"
        elif version is None or version.startswith(CARRIED):
            return f"{name} was added"
        elif file_sha256(present[name].path) != version:
            return f"{name} changed"
    return None


def run_key(day: str, fingerprint: str) -> str:
    """Dagster keeps run keys forever: the fingerprint makes a re-drop a new key."""
    return f"{day}:{fingerprint}"


@dataclass
class WatchState:
    """The sensor's cursor: per day, the fingerprint a run was requested for, and the one seen
    at the last look that has not been run yet."""

    launched: dict[str, str] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"version": CURSOR_VERSION, "launched": self.launched, "seen": self.seen},
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | None) -> WatchState:
        """The state in ``text``; an empty cursor is a fresh start. Raises ValueError when unreadable."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"cursor is not JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != CURSOR_VERSION:
            raise ValueError("cursor is not a landing-sensor cursor of this version")
        maps = [data.get("launched", {}), data.get("seen", {})]
        if not all(isinstance(m, dict) and all(isinstance(v, str) for v in m.values()) for m in maps):
            raise ValueError("cursor maps are not day -> fingerprint")
        return cls(dict(maps[0]), dict(maps[1]))


@dataclass
class TickPlan:
    """What one tick decided, day keys ascending in each list."""

    state: WatchState
    ready: list[tuple[str, str]] = field(default_factory=list)  # (day, fingerprint) to run now
    settling: list[str] = field(default_factory=list)  # new or changed since the last look
    incomplete: list[str] = field(default_factory=list)  # a required file is missing
    not_open: list[str] = field(default_factory=list)  # stable, but the day has not ended yet
    before_start: list[str] = field(default_factory=list)  # earlier than the first partition
    held_back: list[str] = field(default_factory=list)  # stable, over this tick's run limit
    adopted: list[str] = field(default_factory=list)  # already materialised when first seen
    identical: list[str] = field(default_factory=list)  # ran before, changed by stat, same bytes
    # Why each day that ran before runs again (content_change's reason).
    changed: dict[str, str] = field(default_factory=dict)
    # The files behind each ready, adopted or identical day's fingerprint, as stat saw them.
    files: dict[str, tuple[LandedFile, ...]] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the tick log when nothing is requested."""
        parts = [
            f"{len(items)} {label}: {', '.join(items[:5])}{' ...' if len(items) > 5 else ''}"
            for label, items in (
                ("settling (waiting for a second look)", self.settling),
                ("incomplete (a required file is missing)", self.incomplete),
                ("not yet a partition (retried on later ticks)", self.not_open),
                ("before the first partition (ignored)", self.before_start),
                ("held back (run or comparison limit per tick)", self.held_back),
            )
            if items
        ]
        if self.identical:
            parts.append(f"{len(self.identical)} touched with identical content (nothing to refresh): "
                         f"{', '.join(self.identical[:5])}{' ...' if len(self.identical) > 5 else ''}")
        return "; ".join(parts) or "every landed day is up to date"


def plan_tick(
    scan: LandingScan,
    state: WatchState,
    *,
    first_day: dt.date,
    today: dt.date,
    already_done: Callable[[], set[str]] = set,
    recorded: Callable[[str], Recorded | None] = lambda day: None,
    max_runs: int = 10,
    max_compares: int = 50,
) -> TickPlan:
    """Compare this look with the last one and decide which days to run.

    A day runs when its fingerprint equals the one seen at the previous look and differs from
    the one last launched. ``today`` (in the partitions' timezone) and later days are not
    partitions yet: they stay in ``seen`` and are retried. ``already_done()`` (the days already
    materialised) is asked only when a day is seen for the first time: such a day is adopted
    with its current fingerprint instead of being run again. A day launched before whose
    fingerprint changed is compared by content first (``content_change`` over ``recorded(day)``,
    at most ``max_compares`` days a tick): the same bytes are adopted as ``identical``.
    """
    new = WatchState()
    plan = TickPlan(state=new)
    done: set[str] | None = None
    for day in sorted(scan.days):
        key = day.isoformat()
        if key in state.launched:
            new.launched[key] = state.launched[key]
        files = landed_files(scan.days[day])
        fingerprint = None if files is None else files_fingerprint(files)
        if fingerprint is None:
            plan.incomplete.append(key)
        elif state.launched.get(key) == fingerprint:
            continue
        elif state.seen.get(key) != fingerprint:
            if key not in state.launched and key not in state.seen:
                done = already_done() if done is None else done
                if key in done:
                    new.launched[key] = fingerprint
                    plan.adopted.append(key)
                    plan.files[key] = files
                    continue
            new.seen[key] = fingerprint
            plan.settling.append(key)
        elif day < first_day:
            new.seen[key] = fingerprint
            plan.before_start.append(key)
        elif day >= today:
            new.seen[key] = fingerprint
            plan.not_open.append(key)
        elif key in state.launched and len(plan.identical) + len(plan.changed) >= max_compares:
            new.seen[key] = fingerprint
            plan.held_back.append(key)
        elif key in state.launched and _same_bytes(key, files, recorded(key), plan):
            new.launched[key] = fingerprint
            plan.identical.append(key)
            plan.files[key] = files
        elif key in plan.settling:
            continue  # a file went away while it was read: looked at afresh next tick
        elif len(plan.ready) >= max_runs:
            new.seen[key] = fingerprint
            plan.held_back.append(key)
        else:
            new.launched[key] = fingerprint
            plan.ready.append((key, fingerprint))
            plan.files[key] = files
    return plan


def _same_bytes(key: str, files: tuple[LandedFile, ...], found: Recorded | None, plan: TickPlan) -> bool:
    """True when the day's files hold the bytes its last finished run read. Otherwise the reason
    it runs again goes to ``plan.changed``, or, when a file vanished while it was read, the day
    to ``plan.settling``."""
    try:
        why = content_change(files, found)
    except FileNotFoundError:
        plan.settling.append(key)
        return False
    if why is None:
        return True
    plan.changed[key] = why
    return False

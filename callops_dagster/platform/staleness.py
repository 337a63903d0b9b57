"""Which materialised partitions read an input that changed since they ran: Dagster's own rule
for partitioned dependencies, over plain records (no dagster).

Each materialisation records, per input asset, the storage id of that asset's latest
materialisation when it ran (its tag ``dagster/input_event_pointer/<input>``). An input
partition it reads has **changed since** when it was materialised again after that pointer
with another data version than the one it had at the pointer (every asset has a code version,
so a data version is derived from content: the same bytes give the same version, and a
re-materialisation with the same version changes nothing). This is the rule of the UI's
"unsynced" (``CachingStaleStatusResolver._is_dep_updated`` in Dagster 1.13), read from public
records; like it, it looks one step upstream: a partition is stale when what it reads directly
changed, and what reads it becomes stale once it is refreshed.

A partition whose latest materialisation is stale waits for its refresh (``pending``); one
whose previous materialisation had gone stale and was materialised again read the change
(``done``, with the run that did it). The wiring that reads the records from an instance is in
``platform/provenance.py``; ``callops status`` shows the result.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

INPUT_POINTER_TAG = "dagster/input_event_pointer/"
DATA_VERSION_TAG = "dagster/data_version"
NULL_POINTER = "NULL"  # Dagster's pointer for an input that had no materialisation


@dataclass(frozen=True)
class Materialisation:
    """One materialisation of an asset partition, as the event log records it."""

    storage_id: int
    data_version: str | None
    run_id: str
    timestamp: float
    # input asset -> storage id of its latest materialisation when this one ran (None: none yet)
    pointers: Mapping[str, int | None] = field(default_factory=dict)


# asset -> partition -> its materialisations, in storage id order (oldest first)
History = Mapping[str, Mapping[str, Sequence[Materialisation]]]
# input asset -> the partitions of it that one partition reads (its partition mapping)
Reads = Mapping[str, Sequence[str]]


def pointers_from_tags(tags: Mapping[str, str]) -> dict[str, int | None]:
    """``dagster/input_event_pointer/<input>`` tags as ``{input: storage id or None}``."""
    found: dict[str, int | None] = {}
    for key, value in tags.items():
        if key.startswith(INPUT_POINTER_TAG):
            found[key.removeprefix(INPUT_POINTER_TAG)] = None if value == NULL_POINTER else int(value)
    return found


def _version_at(records: Sequence[Materialisation], storage_id: int | None) -> Materialisation | None:
    """The latest of ``records`` at ``storage_id`` (inclusive); the latest of all when None."""
    if storage_id is None:
        return records[-1] if records else None
    ids = [r.storage_id for r in records]
    index = bisect.bisect_right(ids, storage_id)
    return records[index - 1] if index else None


def changed_inputs(
    run: Materialisation, reads: Reads, history: History, until: Materialisation | None = None
) -> list[tuple[str, str]]:
    """The ``(input asset, partition)`` pairs that ``run`` read and that were materialised again
    with another data version after it ran, as seen now (or as ``until`` saw them when it ran),
    sorted. An input that ``run`` recorded no pointer for (a dependency added since) is left
    out, and so is a partition never materialised."""
    changed = []
    for asset, partitions in reads.items():
        if asset not in run.pointers:
            continue
        before_pointer = run.pointers[asset]
        now_pointer = until.pointers.get(asset) if until is not None else None
        if until is not None and now_pointer is None:
            continue
        for partition in partitions:
            records = history.get(asset, {}).get(partition, ())
            latest = _version_at(records, now_pointer)
            if latest is None or (before_pointer is not None and latest.storage_id <= before_pointer):
                continue
            before = _version_at(records, before_pointer) if before_pointer is not None else None
            if before is None or before.data_version != latest.data_version:
                changed.append((asset, partition))
    return sorted(changed)


@dataclass(frozen=True)
class PartitionState:
    """One asset partition: the inputs changed since its latest materialisation (stale, refresh
    pending), and the inputs its latest materialisation caught up with (a refresh, done)."""

    asset: str
    partition: str
    stale: list[tuple[str, str]]
    refreshed: list[tuple[str, str]]
    run_id: str
    timestamp: float


def partition_state(asset: str, partition: str, reads: Reads, history: History) -> PartitionState | None:
    """The state of ``asset``'s ``partition`` (None when it was never materialised)."""
    records = history.get(asset, {}).get(partition, ())
    if not records:
        return None
    latest = records[-1]
    refreshed = changed_inputs(records[-2], reads, history, until=latest) if len(records) > 1 else []
    return PartitionState(asset, partition, changed_inputs(latest, reads, history), refreshed, latest.run_id,
                          latest.timestamp)


@dataclass(frozen=True)
class Staleness:
    """A day's (or week's) assets together: ``pending`` names the assets whose inputs changed
    since they ran, ``done`` the latest refresh that caught up with a change; ``changed`` the
    other days (or weeks) whose change it is."""

    pending: list[str] = field(default_factory=list)
    pending_changed: list[str] = field(default_factory=list)
    done_run: str | None = None
    done_changed: list[str] = field(default_factory=list)

    def text(self) -> str:
        """``pending: loan_contact_frequency (2025-04-22 changed)``, ``done in run 5045274c
        (2025-04-22 changed)`` or ``up to date``."""
        if self.pending:
            reads = f" ({', '.join(self.pending_changed)} changed)" if self.pending_changed else ""
            return f"pending: {', '.join(self.pending)}{reads}"
        if self.done_run:
            reads = f" ({', '.join(self.done_changed)} changed)" if self.done_changed else ""
            return f"done in run {self.done_run[:8]}{reads}"
        return "up to date"


def _elsewhere(pairs: Sequence[tuple[str, str]], own: str | None) -> set[str]:
    return {p for _, p in pairs if p != own}


def summarise(states: Sequence[PartitionState | None], own: str | None) -> Staleness:
    """The staleness of a day (``own``: the day) or a week (``own`` None: a week has no files
    of its own) from the states of its asset partitions.

    Pending: the assets that are stale now, and the other days that changed (a day's own
    tables read one another; the cause named is the other day). Done: the latest run that
    caught up with a change of another day (a day re-run for its own files is not a refresh),
    and the days whose change its refreshes read."""
    known = [s for s in states if s is not None]
    stale = [s for s in known if s.stale]
    if stale:
        changed = set().union(*(_elsewhere(s.stale, own) for s in stale))
        return Staleness(pending=sorted(s.asset for s in stale), pending_changed=sorted(changed))
    refreshes = sorted((s for s in known if _elsewhere(s.refreshed, own)), key=lambda s: s.timestamp)
    if not refreshes:
        return Staleness()
    changed = set().union(*(_elsewhere(s.refreshed, own) for s in refreshes))
    return Staleness(done_run=refreshes[-1].run_id, done_changed=sorted(changed))

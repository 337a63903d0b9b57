"""The Dagster side of ``platform/staleness.py``: each asset's materialisation records (their
data version and input pointers, from public event-log records) and the partitions each asset
partition reads (its partition mappings), handed to the pure rules.

Public records only: ``DagsterInstance.fetch_materializations`` and the tags Dagster writes on
every materialisation (``dagster/data_version``, ``dagster/input_event_pointer/<input>``). The
UI's own resolver (``CachingStaleStatusResolver``) is private; ``test_staleness.py`` checks
that the two agree on a corrected day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import dagster as dg

from callops_dagster.platform.staleness import (
    DATA_VERSION_TAG,
    History,
    Materialisation,
    Reads,
    Staleness,
    partition_state,
    pointers_from_tags,
    summarise,
)

PAGE = 1000


def asset_history(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, list[Materialisation]]:
    """Every materialisation of ``key`` by partition, oldest first."""
    found: dict[str, list[Materialisation]] = {}
    cursor = None
    while True:
        page = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key), limit=PAGE, cursor=cursor, ascending=True
        )
        for record in page.records:
            tags = record.asset_materialization.tags or {}
            found.setdefault(record.partition_key, []).append(
                Materialisation(
                    record.storage_id, tags.get(DATA_VERSION_TAG), record.run_id, record.timestamp,
                    pointers_from_tags(tags),
                )
            )
        if not page.has_more:
            return found
        cursor = page.cursor


class StalenessReader:
    """Reads an instance's records once per asset and answers for any day or week."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance):
        self._graph = defs.resolve_asset_graph()
        self._instance = instance
        self._history: dict[str, dict[str, list[Materialisation]]] = {}

    def _load(self, keys: Iterable[dg.AssetKey]) -> History:
        for key in keys:
            name = key.to_user_string()
            if name not in self._history:
                self._history[name] = asset_history(self._instance, key)
        return self._history

    def reads(self, key: dg.AssetKey, partition: str) -> Reads:
        """The partitions of each input that ``key``'s ``partition`` reads (its partition
        mappings; partitions that do not exist left out)."""
        parents = sorted(self._graph.get(key).parent_keys)
        return {
            parent.to_user_string(): sorted(
                self._graph.get_parent_partition_keys_for_child(partition, parent, key)
                .partitions_subset.get_partition_keys()
            )
            for parent in parents
        }

    def staleness(self, keys: Sequence[dg.AssetKey], partition: str, own: str | None) -> Staleness:
        """``keys`` (the assets of one partitions definition) at ``partition``, summarised;
        ``own``: the day whose files these are (None for a week)."""
        states = []
        for key in keys:
            reads = self.reads(key, partition)
            history = self._load([key, *(dg.AssetKey.from_user_string(a) for a in reads)])
            states.append(partition_state(key.to_user_string(), partition, reads, history))
        return summarise(states, own)

    def keys_of(self, partitions_def: dg.PartitionsDefinition) -> list[dg.AssetKey]:
        """The materialisable assets partitioned by ``partitions_def``."""
        return sorted(
            key for key in self._graph.get_all_asset_keys()
            if self._graph.get(key).is_materializable and self._graph.get(key).partitions_def == partitions_def
        )

"""Resources: the platform's configuration and the Parquet warehouse IO manager."""


import contextlib
import io
import logging
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd
from upath import UPath

from callops_dagster.platform.dagster_internals import PlanUnreadable, readers_in_run
from callops_dagster.platform.files import atomic_path, write_atomic
from callops_dagster.platform.settings import Settings
from callops_dagster.platform.storage import data_path, is_local, storage_errors


@contextlib.contextmanager
def _without_debug_lines(log: logging.Logger, below: int = logging.INFO) -> Iterator[None]:
    """Dagster's UPathIOManager logs "Writing file at ...", "Loading 1 partitions..." and
    "Loading partition ... from ..." at DEBUG: 58 of a day's 292 event-log rows, each one a
    write to the instance's database. The path is in each materialisation's metadata already,
    so these lines are dropped (lines at ``below`` and above still reach the log)."""
    level = log.level
    _set_level(log, max(level, below))
    try:
        yield
    finally:
        _set_level(log, level)


def _set_level(log: logging.Logger, level: int) -> None:
    log.setLevel(level)
    # A Dagster log manager is not registered with logging, so setLevel leaves its cache of
    # isEnabledFor answers (Python's private Logger._cache) stale: cleared here when it is there.
    if isinstance(cache := getattr(log, "_cache", None), dict):
        cache.clear()


def _plain_index(frame: pd.DataFrame) -> bool:
    index = frame.index
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


# The documented defaults, for a resource made without loaded settings (tests, a REPL).
DEFAULTS = Settings.from_env({})


class CallopsConfig(dg.ConfigurableResource):
    """Where the data lives and the tunable rules of the contract: the settings the assets see.

    The values come from ``Settings`` (``from_settings``, as definitions.py does); the defaults
    here are Settings' own.
    """

    data_dir: str = str(DEFAULTS.data_dir)
    min_calls: int = DEFAULTS.min_calls
    missing_key_error_share: float = DEFAULTS.missing_key_error_share
    known_statuses: list[str] = list(DEFAULTS.known_statuses)
    max_file_mb: int = DEFAULTS.max_file_mb
    duration_unit: str = DEFAULTS.duration_unit
    timezone: str = DEFAULTS.timezone
    trend_deviations: float = DEFAULTS.trend_deviations
    trend_min_history: int = DEFAULTS.trend_min_history
    calling_hours: str = DEFAULTS.calling_hours
    max_attempts_7d: int = DEFAULTS.max_attempts_7d
    week_start: str = DEFAULTS.week_start

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> "CallopsConfig":
        """The resource holding ``settings``' values of its fields (``overrides`` win)."""
        values = {name: getattr(settings, name) for name in cls.model_fields}
        values["data_dir"] = str(settings.data_dir)
        values["known_statuses"] = list(settings.known_statuses)
        return cls(**{**values, **overrides})

    @property
    def root(self) -> UPath:
        """The data dir: a local path, or an object-storage URL (``s3://bucket/prefix``)."""
        return data_path(self.data_dir)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024


class ParquetUPathIOManager(dg.UPathIOManager):
    """DataFrames as Parquet, one file per asset and partition, replaced whole: locally streamed
    to a temporary file renamed onto the table's; on object storage written to a buffer, then
    one put (``write_atomic``).

    A table written in this run is also kept in memory until the run's last step that reads it
    has loaded it: a later step of the same run gets it without reading the Parquet file back
    (a shallow copy: with pandas' copy-on-write, a step that changes its input changes its own
    copy). The file is written all the same, so the warehouse holds every table, and a step of
    another run reads the file.

    The hand-over is bounded: the tables held together stay within ``handover_bytes`` (a table
    that would pass it is not held; its readers read the file), and ``release`` drops them all
    (``WarehouseIOManager`` calls it when the run's resources are torn down). How many steps
    read a table comes from the run's execution plan (``dagster_internals.readers_in_run``, a
    private Dagster API): when the plan cannot be read, one WARNING in the run's log says so and
    nothing is held (every step reads Parquet).
    """

    extension: str = ".parquet"

    def __init__(self, base_path: UPath, handover_bytes: int = 2 * 1024**3) -> None:
        super().__init__(base_path=base_path)
        self.handover_bytes = handover_bytes
        self._in_run: dict[str, list] = {}  # path -> [table, readers left or None, bytes]
        self._plan_unreadable = False

    @property
    def held_bytes(self) -> int:
        """The memory the tables held for later steps take (pandas' deep count)."""
        return sum(entry[2] for entry in self._in_run.values())

    def _remember(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        if not isinstance(obj, pd.DataFrame) or self._plan_unreadable or self.handover_bytes <= 0:
            return
        try:
            readers = readers_in_run(context)
        except PlanUnreadable as exc:
            self._plan_unreadable = True
            context.log.warning(
                "The run's execution plan could not be read (a private Dagster API changed, see "
                f"docs/dagster-internals.md: {exc}): tables are no longer handed over in memory "
                "in this run; each step reads them from Parquet"
            )
            return
        if readers == 0:
            return
        size = int(obj.memory_usage(index=True, deep=True).sum())
        if self.held_bytes + size > self.handover_bytes:
            return  # over the budget: its readers read the file
        self._in_run[str(path)] = [obj, readers, size]

    def _recall(self, path: UPath) -> pd.DataFrame | None:
        entry = self._in_run.get(str(path))
        if entry is None:
            return None
        table, readers, _ = entry
        if readers is not None:
            entry[1] -= 1
            if entry[1] <= 0:
                del self._in_run[str(path)]
        # As read back from Parquet (written without the index): a fresh 0..n-1 index.
        return table.reset_index(drop=True) if not _plain_index(table) else table.copy(deep=False)

    def release(self) -> None:
        """Drop every table held for later steps (the run is over)."""
        self._in_run.clear()

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        self._write(obj, path)
        self._remember(context, obj, path)

    def _write(self, obj: pd.DataFrame, path: UPath) -> None:
        # lz4: a million-row table writes and reads back in about half zstd's time (files
        # twice as large); these are working tables between steps, not an archive.
        if is_local(path):
            with atomic_path(path) as tmp:  # no second copy of the file in memory
                obj.to_parquet(tmp, index=False, compression="lz4")
            return
        buffer = io.BytesIO()
        obj.to_parquet(buffer, index=False, compression="lz4")
        write_atomic(path, buffer.getbuffer())

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        if (table := self._recall(path)) is not None:
            return table
        if is_local(path):
            return pd.read_parquet(str(path))
        with storage_errors(path, "read"):
            body = path.read_bytes()  # one GET
        return pd.read_parquet(io.BytesIO(body))

    # Dagster's own accesses of the warehouse: a failure of object storage names the path.
    def path_exists(self, path: UPath) -> bool:
        with storage_errors(path, "check"):
            return super().path_exists(path)

    def make_directory(self, path: UPath) -> None:
        with storage_errors(path, "create"):
            super().make_directory(path)

    def unlink(self, path: UPath) -> None:
        with storage_errors(path, "remove"):
            super().unlink(path)

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        with storage_errors(self._base_path, "write"), _without_debug_lines(context.log):
            super().handle_output(context, obj)

    def load_input(self, context: dg.InputContext) -> Any:
        # An input that allows missing partitions (the seven-day contact window) is loaded
        # without Dagster's WARNING per missing day: its asset names them, and its check warns.
        quiet = logging.ERROR if context.definition_metadata.get("allow_missing_partitions") else logging.INFO
        with storage_errors(self._base_path, "read"), _without_debug_lines(context.log, quiet):
            return super().load_input(context)


def tables_by_day(context: dg.AssetExecutionContext, input_name: str, loaded: object) -> dict[str, pd.DataFrame]:
    """A window input's tables by partition key, as this IO manager loads them: several
    partitions as a dict (a day never materialised is absent, or None), one as a table."""
    keys = list(context.asset_partition_keys_for_input(input_name))
    if isinstance(loaded, dict):
        return {k: v for k, v in loaded.items() if v is not None}
    return {keys[-1]: loaded} if loaded is not None and keys else {}


class WarehouseIOManager(dg.ConfigurableIOManagerFactory):
    """Stores every table asset under ``<data_dir>/warehouse/<asset>/<date>.parquet``; hands
    tables between the steps of a run in memory, up to ``handover_mb`` (0: never), all released
    when the run's resources are torn down."""

    data_dir: str = str(DEFAULTS.data_dir)
    handover_mb: int = DEFAULTS.handover_mb

    def create_io_manager(self, context: dg.InitResourceContext) -> ParquetUPathIOManager:
        return ParquetUPathIOManager(
            base_path=data_path(self.data_dir) / "warehouse", handover_bytes=self.handover_mb * 1024 * 1024
        )

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[ParquetUPathIOManager]:
        """The IO manager for one run (in-process: for all its steps), its held tables released
        when Dagster tears the run's resources down, whether the run succeeded or not."""
        io_manager = self.create_io_manager(context)
        try:
            yield io_manager
        finally:
            io_manager.release()

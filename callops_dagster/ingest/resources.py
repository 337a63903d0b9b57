"""The landing assets' IO manager: a raw table is stored as a reference to its landing file.

A landing asset is "the file as received", and the landing folder already keeps that file. A
string copy of it in Parquet (what the landing assets wrote until issue 23) cost a write of
every cell on every day (0.3 s at 1M rows, 1.6 s and 112 MB at 5M) to serve only a later run
that re-runs a validated asset alone. So ``warehouse/raw_call_logs/<date>.json`` (and
``raw_disposition_summary``'s) holds only which file the table was read from and its sha256
(the asset's data version):

- within a run, the raw table is handed to its reader in memory, as every table is
  (``ParquetUPathIOManager``'s hand-over);
- a step of another run reads the landing file again with the same reader, and checks its
  sha256: identical bytes give the identical table. A file changed or removed since the landing
  asset ran fails that step with a message naming the file and the day to run again; it is
  never read silently in place of what the lineage recorded;
- a day materialised before this (a ``<date>.parquet`` copy, no reference) is read from its copy.

``raw_agent_roster`` stays a Parquet table (``SPEC_OF_ASSET``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import dagster as dg
import pandas as pd
from upath import UPath

from callops_dagster.contract.sources import AGENT_ROSTER, SOURCES, raw_asset_name
from callops_dagster.ingest.reading import SourceFileError, read_landing_csv
from callops_dagster.landing.folder import landing_file
from callops_dagster.platform.files import write_atomic
from callops_dagster.platform.resources import ParquetUPathIOManager, WarehouseIOManager
from callops_dagster.platform.storage import StorageError, data_path, storage_errors

IO_MANAGER_KEY = "landing_io_manager"
# The landing assets stored as references: the call logs and the logins. The roster stays a
# Parquet table (a few kB): the validated roster reads the raw rosters of eight days, and a
# changed earlier roster must not fail a later day that does not use it.
SPEC_OF_ASSET = {raw_asset_name(spec): spec for spec in SOURCES if spec != AGENT_ROSTER}


@dataclass(frozen=True)
class LandedTable:
    """What a landing asset stored as a reference outputs: the file's records (``frame``) and the
    sha256 of the file they were read from."""

    frame: pd.DataFrame
    sha256: str


class LandingFileIOManager(ParquetUPathIOManager):
    """Stores a ``LandedTable`` as a reference to its landing file (``<date>.json``); loads it
    from memory within the run, else by reading the landing file again, checked by its sha256."""

    extension: str = ".json"

    def __init__(self, root: UPath, handover_bytes: int) -> None:
        super().__init__(base_path=root / "warehouse", handover_bytes=handover_bytes)
        self.root = root

    def dump_to_path(self, context: dg.OutputContext, obj: LandedTable, path: UPath) -> None:
        spec = SPEC_OF_ASSET[context.asset_key.path[-1]]
        write_atomic(path, json.dumps({"file": spec.file_name, "sha256": obj.sha256}, sort_keys=True) + "\n")
        self._remember(context, obj.frame, path)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        if (table := self._recall(path)) is not None:
            return table
        try:
            with storage_errors(path, "read"):
                reference = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            # A day materialised before issue 23 has the raw table's Parquet copy instead.
            if self.path_exists(copy := path.with_suffix(".parquet")):
                return super().load_from_path(context, copy)
            raise
        spec = SPEC_OF_ASSET[context.upstream_output.asset_key.path[-1]]
        day = path.stem
        where = f"{spec.file_name} of {day}"
        try:
            # The size limit was applied when the landing asset read these same bytes.
            table = read_landing_csv(landing_file(self.root, dt.date.fromisoformat(day), spec), spec)
        except (SourceFileError, StorageError, FileNotFoundError) as exc:
            raise dg.Failure(
                description=f"{where} cannot be read again ({exc}); {raw_asset_name(spec)} read it when "
                f"the day ran: restore the file, or land the day again and run it "
                f"(`callops run --day {day}`)",
                metadata={"file": spec.file_name},
            ) from None
        if table.fingerprint != reference["sha256"]:
            raise dg.Failure(
                description=f"{where} changed since {raw_asset_name(spec)} read it (sha256 "
                f"{reference['sha256'][:12]}... then, {table.fingerprint[:12]}... now): re-run the day "
                f"(`callops run --day {day}`) so every table reflects the file",
                metadata={"file": spec.file_name},
            )
        return table.frame


class LandingIOManager(WarehouseIOManager):
    """The landing assets' IO manager (``LandingFileIOManager``): a reference to each landing
    file under ``<data_dir>/warehouse/<raw asset>/<date>.json``, the table handed on in memory
    within a run (within ``handover_mb``)."""

    def create_io_manager(self, context: dg.InitResourceContext) -> LandingFileIOManager:
        return LandingFileIOManager(data_path(self.data_dir), handover_bytes=self.handover_mb * 1024 * 1024)

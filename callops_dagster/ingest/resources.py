"""The landing assets' IO manager: a raw table is stored as a reference to its landing file.

A landing asset is "the file as received", and the landing folder already keeps that file. A
string copy of it in Parquet (what the landing assets wrote until issue 23) cost a write of
every cell on every day (0.3 s at 1M rows, 1.6 s and 112 MB at 5M) to serve only a later run
that re-runs a validated asset alone. So ``warehouse/<raw asset>/<date>.json`` holds only which
file the table was read from and its sha256 (the asset's data version):

- within a run, the raw table is handed to its reader in memory, as every table is
  (``ParquetUPathIOManager``'s hand-over);
- a step of another run reads the landing file again with the same reader, and checks its
  sha256: identical bytes give the identical table. A file changed or removed since the landing
  asset ran fails that step with a message naming the file (re-run the day's landing assets);
  it is never read silently in place of what the lineage recorded.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import dagster as dg
import pandas as pd
from upath import UPath

from callops_dagster.contract.sources import AGENT_ROSTER, SOURCES, SourceSpec, raw_asset_name
from callops_dagster.ingest.reading import RawTable, SourceFileError, empty_raw_frame, read_landing_csv
from callops_dagster.ingest.roster import usable_roster
from callops_dagster.landing.folder import landing_file
from callops_dagster.landing.watch import CARRIED as NO_FILE
from callops_dagster.platform.files import write_atomic
from callops_dagster.platform.resources import ParquetUPathIOManager, WarehouseIOManager
from callops_dagster.platform.storage import StorageError, data_path, storage_errors

IO_MANAGER_KEY = "landing_io_manager"
SPEC_OF_ASSET = {raw_asset_name(spec): spec for spec in SOURCES}


def read_raw(root: UPath, day: dt.date, spec: SourceSpec, max_bytes: int | None) -> RawTable | None:
    """The day's landing file read as text; None for a roster that did not come (absent, empty
    or header-only): the validated roster then carries an earlier day's forward. A file that
    came broken raises ``SourceFileError``."""
    path = landing_file(root, day, spec)
    if spec == AGENT_ROSTER:
        return usable_roster(path, max_bytes)
    return read_landing_csv(path, spec, max_bytes=max_bytes)


@dataclass(frozen=True)
class LandedTable:
    """What a landing asset outputs: the file's records (``frame``) and the sha256 of the file
    they were read from (``NO_FILE`` for a roster that did not come)."""

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
        reference = {"file": None if obj.sha256 == NO_FILE else spec.file_name, "sha256": obj.sha256}
        write_atomic(path, json.dumps(reference, sort_keys=True) + "\n")
        self._remember(context, obj.frame, path)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        if (table := self._recall(path)) is not None:
            return table
        spec = SPEC_OF_ASSET[context.upstream_output.asset_key.path[-1]]
        with storage_errors(path, "read"):
            reference = json.loads(path.read_text(encoding="utf-8"))
        if reference["file"] is None:
            return empty_raw_frame(spec)
        day = dt.date.fromisoformat(path.stem)
        where = f"{spec.file_name} of {day.isoformat()}"
        try:
            # The size limit was applied when the landing asset read these same bytes.
            table = read_raw(self.root, day, spec, max_bytes=None)
        except (SourceFileError, StorageError) as exc:
            raise dg.Failure(
                description=f"{where} cannot be read again ({exc}); it was read when "
                f"{raw_asset_name(spec)} ran: re-run the day (`callops run --day {day.isoformat()}`)",
                metadata={"file": spec.file_name},
            ) from None
        if table is None or table.fingerprint != reference["sha256"]:
            raise dg.Failure(
                description=f"{where} changed since {raw_asset_name(spec)} read it (sha256 "
                f"{reference['sha256'][:12]}... then, {table.fingerprint[:12] if table else 'no rows'}... now): "
                f"re-run the day (`callops run --day {day.isoformat()}`) so every table reflects the file",
                metadata={"file": spec.file_name},
            )
        return table.frame


class LandingIOManager(WarehouseIOManager):
    """The landing assets' IO manager (``LandingFileIOManager``): a reference to each landing
    file under ``<data_dir>/warehouse/<raw asset>/<date>.json``, the table handed on in memory
    within a run (within ``handover_mb``)."""

    def create_io_manager(self, context: dg.InitResourceContext) -> LandingFileIOManager:
        return LandingFileIOManager(data_path(self.data_dir), handover_bytes=self.handover_mb * 1024 * 1024)

"""Resources: the platform's configuration and the Parquet warehouse IO manager."""


import os
import tempfile
from pathlib import Path

import dagster as dg
import pandas as pd
from upath import UPath

from callops_dagster.platform.settings import SETTINGS
from callops_dagster.report.publish import FILE_MODE


class CallopsConfig(dg.ConfigurableResource):
    """Where the data lives and the tunable rules of the contract."""

    data_dir: str = str(SETTINGS.data_dir)
    min_calls: int = SETTINGS.min_calls
    missing_key_error_share: float = SETTINGS.missing_key_error_share
    known_statuses: list[str] = list(SETTINGS.known_statuses)
    max_file_mb: int = SETTINGS.max_file_mb
    duration_unit: str = SETTINGS.duration_unit
    timezone: str = SETTINGS.timezone
    trend_deviations: float = SETTINGS.trend_deviations
    trend_min_history: int = SETTINGS.trend_min_history

    @property
    def root(self) -> Path:
        return Path(self.data_dir)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024


class ParquetUPathIOManager(dg.UPathIOManager):
    """DataFrames as Parquet, one file per asset and partition, replaced atomically."""

    extension: str = ".parquet"

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            # lz4: a million-row table writes and reads back in about half zstd's time (files
            # twice as large); these are working tables between steps, not an archive.
            obj.to_parquet(tmp, index=False, compression="lz4")
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, str(path))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        return pd.read_parquet(str(path))


class WarehouseIOManager(dg.ConfigurableIOManagerFactory):
    """Stores every table asset under ``<data_dir>/warehouse/<asset>/<date>.parquet``."""

    data_dir: str = str(SETTINGS.data_dir)

    def create_io_manager(self, context: dg.InitResourceContext) -> ParquetUPathIOManager:
        return ParquetUPathIOManager(base_path=UPath(self.data_dir) / "warehouse")

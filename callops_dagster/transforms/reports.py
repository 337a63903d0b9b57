"""The day's files for people, written atomically (temporary file, then rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from callops_dagster.transforms.metrics import summary_csv_frame


def write_atomic(path: Path, content: str | bytes) -> Path:
    """Write ``content`` to ``path`` so readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def csv_text(frame: pd.DataFrame) -> str:
    """RFC 4180 CSV with LF line ends and empty fields for missing values."""
    return frame.to_csv(index=False, lineterminator="\n")


def summary_csv_text(summary: pd.DataFrame) -> str:
    """``agent_performance_summary.csv``: the contract's columns, fixed decimal places."""
    return csv_text(summary_csv_frame(summary))

"""The day's files for people, written atomically (temporary file, then rename).

Every CSV for people is written through ``for_people``: a text cell that a spreadsheet would
read as a formula gets a leading ``'`` (``safe_text.spreadsheet_safe``); numbers are left
alone, and the warehouse keeps the exact values.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from callops_dagster.contract.safe_text import spreadsheet_safe
from callops_dagster.platform.files import DIR_MODE, write_atomic
from callops_dagster.report.metrics import summary_csv_frame

def for_people(frame: pd.DataFrame, numeric: Iterable[str] = ()) -> pd.DataFrame:
    """A report's rows as a spreadsheet may open them: formula-like text cells prefixed
    with ``'``; ``numeric`` names columns already formatted as text that stay as they are.
    Every CSV under ``reports/`` goes through here."""
    return spreadsheet_safe(frame, leave=numeric)


# A field is quoted when it holds the delimiter, a quote or a line break of either kind.
_NEEDS_QUOTES = r'[,"\r\n]'


def _csv_field(values: pd.Series) -> pd.Series:
    """Each value as one RFC 4180 field: missing is empty, quoted only when needed."""
    text = values.astype("string").fillna("")
    quoted = '"' + text.str.replace('"', '""', regex=False) + '"'
    return text.where(~text.str.contains(_NEEDS_QUOTES, regex=True), quoted)


def csv_text(frame: pd.DataFrame, numeric: Iterable[str] = ()) -> str:
    """RFC 4180 CSV with LF line ends and empty fields for missing values, for people.

    Written field by field rather than by ``DataFrame.to_csv``: with LF line ends Python's csv
    writer (3.11) leaves a bare carriage return unquoted, and a spreadsheet or a CSV reader
    then splits the row there (a name holding ``\r`` would shift every cell after it).
    """
    safe = for_people(frame, numeric)
    header = ",".join(_csv_field(pd.Series(list(map(str, safe.columns)))))
    if safe.empty:
        return header + "\n"
    fields = [_csv_field(safe[column]) for column in safe.columns]
    rows = fields[0].str.cat(fields[1:], sep=",") if len(fields) > 1 else fields[0]
    return header + "\n" + "\n".join(rows.tolist()) + "\n"


def rejected_rows_csv_text(rejected: pd.DataFrame) -> str:
    """``rejected_rows.csv``: RFC 4180, every text value quoted, a missing one left empty.

    Written by pyarrow's CSV writer, about 10x faster than ``DataFrame.to_csv`` on the
    hundred thousand rejected rows of a million-row day (benchmarks/). It quotes every text
    value, so an empty value read from the file (``""``) stays apart from a column that does
    not apply to the row's source file (nothing). The header is written as pandas would.
    """
    header = pd.DataFrame(columns=rejected.columns).to_csv(index=False, lineterminator="\n")
    sink = pa.BufferOutputStream()
    pacsv.write_csv(
        pa.Table.from_pandas(for_people(rejected), preserve_index=False),
        sink,
        write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"),
    )
    return header + sink.getvalue().to_pybytes().decode("utf-8")


def summary_csv_text(summary: pd.DataFrame) -> str:
    """``agent_performance_summary.csv``: the contract's columns, fixed decimal places."""
    numeric = [name for name in summary.columns if pd.api.types.is_numeric_dtype(summary[name])]
    return csv_text(summary_csv_frame(summary), numeric=numeric)


def publish_reports(reports_root: Path, day: str, files: dict[str, str | bytes]) -> Path:
    """Publish a day's report files together: readers see the old set or the new, never a mix.

    The files are written to ``.versions/<day>/<content hash>/`` and ``<day>`` is a symlink
    swapped to it with one atomic rename. The same content republishes to the same folder,
    so a re-run changes no byte; older versions of the day are removed afterwards.
    """
    digest = hashlib.sha256()
    for name in sorted(files):
        content = files[name]
        data = content.encode("utf-8") if isinstance(content, str) else content
        digest.update(name.encode() + b"\0" + data + b"\0")
    versions = reports_root / ".versions" / day
    version = versions / digest.hexdigest()[:16]
    if not version.is_dir():
        staging = Path(tempfile.mkdtemp(dir=_ensure(versions), prefix=".staging-"))
        os.chmod(staging, DIR_MODE)
        for name, content in files.items():
            write_atomic(staging / name, content)
        try:
            os.replace(staging, version)
        except OSError:  # a parallel run of the same day published the same content first
            shutil.rmtree(staging, ignore_errors=True)
            if not version.is_dir():
                raise
    link = reports_root / day
    if link.is_dir() and not link.is_symlink():  # a plain folder from an older layout
        shutil.rmtree(link)
    tmp_link = reports_root / f".{day}.link-{os.getpid()}"
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(version.relative_to(reports_root))
    os.replace(tmp_link, link)
    for old in versions.iterdir():
        if old != version:
            shutil.rmtree(old, ignore_errors=True)
    return link


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder

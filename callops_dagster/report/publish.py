"""The day's files for people, published as one set with a manifest written last.

Locally the set is a content-versioned folder swapped in by one rename of a symlink; on object
storage (``s3://...``) each file is one PUT and ``manifest.json`` (``report/manifest.py``) is
put after them, so a reader tells a complete set by verifying it.

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
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from upath import UPath

from callops_dagster.contract.safe_text import spreadsheet_safe
from callops_dagster.platform.files import DIR_MODE, write_atomic
from callops_dagster.platform.storage import is_local, list_folder, storage_errors
from callops_dagster.report.manifest import MANIFEST_FILE, build_manifest, manifest_text, parse_manifest
from callops_dagster.report.metrics import summary_csv_frame

def for_people(frame: pd.DataFrame, numeric: Iterable[str] = ()) -> pd.DataFrame:
    """A report's rows as a spreadsheet may open them: formula-like text cells prefixed
    with ``'``; ``numeric`` names columns already formatted as text that stay as they are.
    Every CSV under ``reports/`` goes through here."""
    return spreadsheet_safe(frame, leave=numeric)


# A field is quoted when it holds the delimiter, a quote or a line break of either kind (read
# alike by Python's re and Arrow's RE2).
_NEEDS_QUOTES = r'[,"\r\n]'
# Arrow joins text of one type: every field is large_string (64-bit offsets, so a whole
# report fits in one value), and so are the separators.
_QUOTE, _COMMA, _NEWLINE, _EMPTY = (pa.scalar(c, pa.large_string()) for c in ('"', ",", "\n", ""))


def _csv_field(values: pd.Series) -> pa.Array:
    """Each value as one RFC 4180 field, as Arrow text: missing is empty, quoted only when
    needed. The text of a value is pandas' (``astype("string")``)."""
    text = pa.array(values.astype("string").fillna("")).cast(pa.large_string())
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    needs = pc.match_substring_regex(text, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return text
    quoted = pc.binary_join_element_wise(_QUOTE, pc.replace_substring(text, '"', '""'), _QUOTE, _EMPTY)
    return pc.if_else(needs, quoted, text)


def csv_text(frame: pd.DataFrame, numeric: Iterable[str] = ()) -> str:
    """RFC 4180 CSV with LF line ends and empty fields for missing values, for people.

    Written field by field rather than by ``DataFrame.to_csv``: with LF line ends Python's csv
    writer (3.11) leaves a bare carriage return unquoted, and a spreadsheet or a CSV reader
    then splits the row there (a name holding ``\r`` would shift every cell after it). The
    fields are joined by Arrow (``str.cat`` took half a second on 280k rows).
    """
    safe = for_people(frame, numeric)
    header = ",".join(_csv_field(pd.Series(list(map(str, safe.columns)))).to_pylist())
    if safe.empty:
        return header + "\n"
    fields = [_csv_field(safe[column]) for column in safe.columns]
    rows = pc.binary_join_element_wise(*fields, _COMMA) if len(fields) > 1 else fields[0]
    lines = pa.LargeListArray.from_arrays(pa.array([0, len(rows)], pa.int64()), rows)
    return header + "\n" + pc.binary_join(lines, _NEWLINE)[0].as_py() + "\n"


def rejected_rows_csv_text(rejected: pd.DataFrame) -> str:
    """``rejected_rows.csv``: RFC 4180, every text value quoted, a missing one left empty.

    Written by pyarrow's CSV writer, about 10x faster than ``DataFrame.to_csv`` on the
    hundred thousand rejected rows of a million-row day (benchmarks/). It quotes every text
    value, so an empty value read from the file (``""``) stays apart from a column that does
    not apply to the row's source file (nothing). The header is written as pandas would.
    """
    header = pd.DataFrame(columns=rejected.columns).to_csv(index=False, lineterminator="\n")
    sink = pa.BufferOutputStream()
    # One chunk per column: pyarrow 26's writer, quoting as needed, writes garbage for a column
    # of several chunks one of which is empty (as a concatenation of per-file tables can be).
    pacsv.write_csv(
        pa.Table.from_pandas(for_people(rejected), preserve_index=False).combine_chunks(),
        sink,
        write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"),
    )
    return header + sink.getvalue().to_pybytes().decode("utf-8")


def summary_csv_text(summary: pd.DataFrame) -> str:
    """``agent_performance_summary.csv``: the contract's columns, fixed decimal places."""
    numeric = [name for name in summary.columns if pd.api.types.is_numeric_dtype(summary[name])]
    return csv_text(summary_csv_frame(summary), numeric=numeric)


def _as_bytes(files: dict[str, str | bytes]) -> dict[str, bytes]:
    return {name: c.encode("utf-8") if isinstance(c, str) else bytes(c) for name, c in files.items()}


def publish_reports(
    reports_root: Path | UPath, day: str, files: dict[str, str | bytes], reflects: dict[str, str] | None = None
) -> Path | UPath:
    """Publish a day's report files together, ``manifest.json`` last; returns the day's folder.

    Locally readers see the old set or the new, never a mix: the files are written to
    ``.versions/<day>/<content hash>/`` and ``<day>`` is a symlink swapped to it with one
    atomic rename. On object storage each file is put whole, then the manifest (``_put_set``).
    Either way the same content republishes without changing a byte (the manifest too);
    ``reflects`` (the landing files read, in the manifest) counts as content, so a refresh that
    read a corrected file names it even when the reports came out the same.
    """
    data = _as_bytes(files)
    if MANIFEST_FILE in data:
        raise ValueError(f"{MANIFEST_FILE} is the publisher's own file, not a report")
    if not is_local(reports_root):
        return _put_set(reports_root / day, day, data, reflects)
    digest = hashlib.sha256()
    for name in sorted(data):
        digest.update(name.encode() + b"\0" + data[name] + b"\0")
    if reflects:
        digest.update(manifest_text({"reflects": dict(sorted(reflects.items()))}).encode())
    versions = reports_root / ".versions" / day
    version = versions / digest.hexdigest()[:16]
    if not version.is_dir():
        _write_version(versions, version, day, data, reflects)
    elif not (version / MANIFEST_FILE).is_file():  # published before manifests existed
        write_atomic(version / MANIFEST_FILE, manifest_text(build_manifest(day, data, reflects=reflects)))
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


def _write_version(
    versions: Path, version: Path, day: str, data: dict[str, bytes], reflects: dict[str, str] | None
) -> None:
    """Write the set and its manifest (last) to a staging folder, renamed to ``version``."""
    staging = Path(tempfile.mkdtemp(dir=_ensure(versions), prefix=".staging-"))
    os.chmod(staging, DIR_MODE)
    for name, content in data.items():
        write_atomic(staging / name, content)
    write_atomic(staging / MANIFEST_FILE, manifest_text(build_manifest(day, data, reflects=reflects)))
    try:
        os.replace(staging, version)
    except OSError:  # a parallel run of the same day published the same content first
        shutil.rmtree(staging, ignore_errors=True)
        if not version.is_dir():
            raise


def _put_set(folder: UPath, day: str, data: dict[str, bytes], reflects: dict[str, str] | None) -> UPath:
    """The set on object storage: unchanged content is left as it is; otherwise the old manifest
    is deleted, each file put whole, files of the old set that are not in the new one deleted,
    and the new manifest put last. A reader that finds no manifest, or one that does not verify,
    is looking at a set being written."""
    with storage_errors(folder, "publish"):  # each write and listing names its own object
        manifest = build_manifest(day, data, reflects=reflects)
        old = _read_manifest(folder / MANIFEST_FILE)
        same = old is not None and old["files"] == manifest["files"] and old.get("reflects") == manifest.get("reflects")
        if same and _unchanged(folder, data):
            return folder
        fs = folder.fs
        if old is not None:
            fs.rm_file((folder / MANIFEST_FILE).path)
        for name, content in data.items():
            write_atomic(folder / name, content)
        for stale in _listed_files(folder) - set(data):
            fs.rm_file((folder / stale).path)
        write_atomic(folder / MANIFEST_FILE, manifest_text(manifest))
        return folder


def _read_manifest(path: UPath) -> dict | None:
    """The manifest at ``path``; None when there is none or it is unreadable."""
    try:
        return parse_manifest(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def _unchanged(folder: UPath, data: dict[str, bytes]) -> bool:
    """True when every file of ``data`` is in ``folder`` with the same bytes, and nothing else."""
    if _listed_files(folder) != {*data, MANIFEST_FILE}:
        return False
    return all((folder / name).read_bytes() == content for name, content in data.items())


def _listed_files(folder: UPath) -> set[str]:
    """The names of the objects directly in ``folder``, from a fresh listing."""
    return {entry.name for entry in list_folder(folder) if not entry.is_dir}


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder

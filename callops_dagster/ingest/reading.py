"""Read one landing CSV as text, exactly as the contract's file-level rules say.

Every value stays the text that was in the file (no type inference, no NA parsing); records
whose field count differs from the header are kept as raw text so validation can reject them
with ``malformed_row``. Defects that make the whole file unusable raise ``SourceFileError``
with one line naming the file, the problem and, where there is one, the line number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from upath import UPath

from callops_dagster.contract.sources import RAW_TEXT, SourceSpec
from callops_dagster.platform.content import bytes_sha256
from callops_dagster.platform.storage import is_file, storage_errors

BOM = b"\xef\xbb\xbf"
ROW_NUMBER = "row_number"
# pyarrow parses in blocks; one record must fit in a block. 64 MiB holds any sane record.
BLOCK_SIZE = 64 << 20
TEXT = pa.large_string()


class SourceFileError(ValueError):
    """A landing file that cannot be used at all. The message is meant for people."""

    def __init__(self, file_name: str, problem: str, line: int | None = None):
        where = f" (line {line})" if line is not None else ""
        super().__init__(f"{file_name}: {problem}{where}")
        self.file_name = file_name
        self.problem = problem
        self.line = line


@dataclass
class RawTable:
    """One file's records, in file order.

    ``frame`` has ``row_number`` (1-based position among data records), one text column per
    required column (values untrimmed, never null for a well-formed record) and ``raw_text``
    (the record's text for a malformed record, null otherwise). ``records_read`` is the
    reader's own count of data records, taken while parsing.
    """

    frame: pd.DataFrame
    records_read: int
    path: Path | UPath
    bytes: int
    extra_columns: list[str] = field(default_factory=list)
    # sha256 of the file's bytes: the landing asset's data version (identical bytes, no work).
    fingerprint: str = ""


def normalise_header(name: str) -> str:
    """Header names match after trimming white space and ignoring case."""
    return name.strip().lower()


def _skip_blank_lines(body: bytes) -> tuple[bytes, int]:
    """Drop blank or white-space-only lines before the header; return the rest and their count."""
    offset = skipped = 0
    while (end := body.find(b"\n", offset)) >= 0 and not body[offset:end].strip():
        offset, skipped = end + 1, skipped + 1
    return body[offset:], skipped


def _header_fields(body: bytes, file_name: str) -> list[str]:
    """The header record's fields: the first line of ``body``."""
    end = body.find(b"\n")
    line = body[: end if end >= 0 else len(body)]
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceFileError(file_name, "header is not valid UTF-8") from None
    return next(csv.reader([text.rstrip("\r")]))


def _map_columns(header: list[str], spec: SourceSpec) -> tuple[dict[str, int], list[str]]:
    """Position of each required column in the header, and the extra column names."""
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        norm = normalise_header(name)
        if norm in positions:
            raise SourceFileError(
                spec.file_name,
                f"duplicate column name {norm!r} in header (columns {positions[norm] + 1} and {i + 1})",
                line=1,
            )
        positions[norm] = i
    missing = [c for c in spec.columns if c not in positions]
    if missing:
        found = ", ".join(normalise_header(h) for h in header) or "nothing"
        hint = next(
            (f" (it looks {name}-separated; files must be comma-separated)"
             for sep, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe"))
             if len(header) == 1 and sep in header[0]),
            "",
        )
        raise SourceFileError(
            spec.file_name,
            f"missing required column(s) {', '.join(missing)}; header has {found}{hint}",
            line=1,
        )
    extras = [header[i].strip() for n, i in positions.items() if n not in spec.columns]
    return {c: positions[c] for c in spec.columns}, extras


def read_header(path: Path | UPath, file_name: str, *, limit: int = 1 << 20) -> list[str]:
    """The header fields of the file at ``path`` as written (BOM and leading blank lines skipped),
    reading at most ``limit`` bytes; ``SourceFileError`` (naming ``file_name``) when it has none."""
    with storage_errors(path, "read"), path.open("rb") as handle:
        start = handle.read(limit)
    body, _ = _skip_blank_lines(start[len(BOM) :] if start.startswith(BOM) else start)
    if not body or body.isspace():
        raise SourceFileError(file_name, "file has no header (empty, or only a byte-order mark or blank lines)")
    return _header_fields(body, file_name)


def _quoting_error(body: bytes) -> tuple[int, str] | None:
    """(line, problem) of the first record whose quoting is broken, read strictly.

    pyarrow is lenient: an unclosed quote silently swallows the rest of the file (or, when
    another quote closes it, the records in between). Python's csv module in strict mode is
    not, so it judges the files where that can have happened (see ``_quotes_need_checking``).
    """
    reader = csv.reader(io.StringIO(body.decode("utf-8", errors="replace"), newline=""), strict=True)
    last_line = 0
    try:
        for _ in reader:
            last_line = reader.line_num
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return last_line + 1, "unterminated quoted field"
        return last_line + 1, f"quoted field not closed properly ({exc})"
    return None


def _quotes_need_checking(body: bytes, table: pa.Table, invalid: "_Invalid") -> bool:
    """True when an unclosed quote may hide in what pyarrow parsed.

    An unclosed quote leaves an odd number of quotes, or makes a value span lines (so the
    file has more lines than records), or breaks a record's field count. Files without
    any of these (all of ours, in practice) skip the slow strict read.
    """
    if b'"' not in body:
        return False
    if body.count(b'"') % 2 or any('"' in text for _, text in invalid.malformed):
        return True
    records = table.num_rows + len(invalid.malformed) + len(invalid.blank)
    if body.count(b"\n") == records:
        return False  # one line per record: no value spans lines
    return any(pc.any(pc.match_substring(column, "\n")).as_py() for column in table.columns)


def _utf8_error_line(data: bytes) -> int | None:
    if data.isascii():  # a few milliseconds; decoding builds a copy of the whole text
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1
    return None


@dataclass
class _Invalid:
    """Records pyarrow could not fit to the header, with their 1-based record numbers."""

    malformed: list[tuple[int | None, str]] = field(default_factory=list)
    blank: list[int | None] = field(default_factory=list)

    def handler(self, row: pacsv.InvalidRow) -> str:
        text = row.text  # valid UTF-8: checked before parsing
        # A line of only white space is a blank line, not a record.
        if text.strip() == "":
            self.blank.append(row.number)
        else:
            self.malformed.append((row.number, text))
        return "skip"

    @property
    def any(self) -> bool:
        return bool(self.malformed or self.blank)


def _parse(buffer: pa.Buffer, width: int, use_threads: bool, quoted: bool = True) -> tuple[pa.Table, _Invalid]:
    """Parse the records; ``quoted`` says the body holds a quote character. Without one no value
    can span lines, and pyarrow's parser runs about twice as fast told so
    (``newlines_in_values`` off: the same records, fields and numbering)."""
    invalid = _Invalid()
    table = pacsv.read_csv(
        pa.BufferReader(buffer),
        read_options=pacsv.ReadOptions(
            autogenerate_column_names=True, use_threads=use_threads, block_size=BLOCK_SIZE
        ),
        parse_options=pacsv.ParseOptions(
            newlines_in_values=quoted, invalid_row_handler=invalid.handler
        ),
        convert_options=pacsv.ConvertOptions(
            # large_string is what pandas' Arrow-backed "str" dtype holds: no cast later.
            column_types={f"f{i}": TEXT for i in range(width)},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            null_values=[],
        ),
    )
    return table, invalid


def _row_numbers(good: int, invalid: _Invalid) -> tuple[np.ndarray, np.ndarray]:
    """Data-record numbers of the well-formed and the malformed records.

    pyarrow numbers the records it hands to the handler (header = 1, blank lines not
    counted); white-space-only lines are removed from the numbering here.
    """
    total = good + len(invalid.malformed) + len(invalid.blank)
    position = np.arange(2, total + 2)  # pyarrow's record numbers of the data records
    is_blank = np.isin(position, np.asarray(invalid.blank, dtype=np.int64))
    is_malformed = np.isin(position, np.asarray([n for n, _ in invalid.malformed], dtype=np.int64))
    number = np.cumsum(~is_blank)
    return number[~is_blank & ~is_malformed], number[is_malformed]


def _file_bytes(path: Path | UPath, name: str, max_bytes: int | None) -> tuple[bytes, int]:
    """The whole file and its size; ``SourceFileError`` when it is missing, empty or too large
    (``StorageError`` naming it when object storage fails)."""
    with storage_errors(path, "read"):
        if not is_file(path):
            raise SourceFileError(name, f"file is missing (expected at {path})")
        size = path.stat().st_size
        if size == 0:
            raise SourceFileError(name, "file is empty (0 bytes)")
        if max_bytes is not None and size > max_bytes:
            raise SourceFileError(
                name, f"file is {size:,} bytes, over the configured limit of {max_bytes:,} bytes"
            )
        return path.read_bytes(), size


def _body(data: bytes, name: str) -> tuple[bytes, int]:
    """The records from the header on (BOM and leading blank lines dropped, a final line end
    ensured) and how many blank lines were skipped."""
    body, skipped = _skip_blank_lines(data[len(BOM) :] if data.startswith(BOM) else data)
    if not body or body.isspace():  # not strip(): that would copy the whole file
        raise SourceFileError(name, "file has no header (only a byte-order mark or blank lines)")
    if not body.endswith(b"\n"):
        body += b"\n"  # pyarrow cannot infer the columns of a header-only file without one
    return body, skipped


def _parsed(data: bytes, body: bytes, skipped: int, header: list[str], name: str) -> tuple[pa.Table, _Invalid]:
    """The file parsed by pyarrow (header record included), after the UTF-8 and quoting checks."""
    # Checked before parsing: pyarrow decodes a record it cannot fit to the header before our
    # handler sees it, and a bad byte there escapes as a stray traceback. ~50 ms per 85 MB.
    if (line := _utf8_error_line(data)) is not None:
        raise SourceFileError(name, "file is not valid UTF-8", line=line)
    try:
        # One single-threaded parse: only it numbers the records it cannot fit to the header,
        # and on two busy cores the threaded reader measured no faster (benchmarks/).
        table, invalid = _parse(pa.py_buffer(body), len(header), use_threads=False, quoted=b'"' in body)
    except pa.ArrowInvalid as exc:
        raise SourceFileError(name, f"not parseable as CSV: {exc}") from None
    if _quotes_need_checking(body, table, invalid) and (problem := _quoting_error(body)):
        raise SourceFileError(name, problem[1], line=problem[0] + skipped)
    return table, invalid


def _records_frame(columns: dict[str, pa.ChunkedArray], good_rows: int, invalid: _Invalid) -> pd.DataFrame:
    """``row_number``, the required columns and ``raw_text``, malformed records in their place.

    Each column is held once: its old copy is freed as the next replaces it, which keeps the
    peak memory of a large file near one copy of its text.
    """
    good_numbers, malformed_numbers = _row_numbers(good_rows, invalid)
    texts = pa.nulls(good_rows, TEXT)
    numbers = good_numbers
    if invalid.malformed:
        # Malformed records go to their place in file order: one Arrow take per column
        # (cheaper than concatenating and sorting pandas frames of a million rows).
        numbers = np.concatenate([good_numbers, malformed_numbers])
        order = np.argsort(numbers, kind="stable")
        numbers = numbers[order]
        gap = pa.nulls(len(malformed_numbers), TEXT)
        for c, column in columns.items():
            columns[c] = pa.concat_arrays([*column.chunks, gap]).take(order)
        del column
        bad_texts = pa.array([text for _, text in invalid.malformed], type=TEXT)
        texts = pa.concat_arrays([texts, bad_texts]).take(order)
    return pd.DataFrame(
        {
            ROW_NUMBER: numbers,
            **{c: column.to_pandas() for c, column in columns.items()},
            RAW_TEXT: texts.to_pandas(),
        }
    )


def empty_raw_frame(spec: SourceSpec) -> pd.DataFrame:
    """A raw table with no records: what a file that did not come holds."""
    return pd.DataFrame(
        {ROW_NUMBER: pd.Series([], dtype="int64"), **{c: pd.Series([], dtype="str") for c in spec.columns},
         RAW_TEXT: pd.Series([], dtype="str")}
    )


def read_landing_csv(path: Path | UPath, spec: SourceSpec, *, max_bytes: int | None = None) -> RawTable:
    """Read one landing file (local or on object storage) as text records; raise
    ``SourceFileError`` if it is unusable."""
    name = spec.file_name
    data, size = _file_bytes(path, name, max_bytes)
    fingerprint = bytes_sha256(data)
    body, skipped = _body(data, name)
    try:
        header = _header_fields(body, name)
    except SourceFileError as exc:
        raise SourceFileError(name, exc.problem, line=skipped + 1) from None
    positions, extras = _map_columns(header, spec)
    table, invalid = _parsed(data, body, skipped, header, name)
    data_rows = table.slice(1)  # the first record is the header
    good_rows = data_rows.num_rows
    columns = {c: data_rows.column(positions[c]) for c in spec.columns}
    # The file's bytes and the parsed table (with any extra columns) are freed now.
    del data, body, table, data_rows
    frame = _records_frame(columns, good_rows, invalid)
    records = good_rows + len(invalid.malformed)
    return RawTable(
        frame=frame, records_read=records, path=path, bytes=size, extra_columns=extras, fingerprint=fingerprint
    )

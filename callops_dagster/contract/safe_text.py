"""Untrusted text from the source files, made safe where people read it.

The names, offices and ids in the reports come from exports anyone with access to the HR or
dialer system can type into. The warehouse keeps every value exactly; what changes is only
how a value is shown:

- report CSVs (opened in Excel or Google Sheets): a text cell that begins with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return would be a formula there, so it is written with a
  leading ``'`` (OWASP's rule against CSV injection). Numeric columns are never changed;
- the message: a line break or other control character inside a value would break the
  message's line-by-line format (and could fake a line), so each is shown as a space;
- Slack: ``&``, ``<`` and ``>`` are escaped as Slack documents (so ``<!channel>`` cannot ping
  and ``<http://x|click>`` cannot plant a link), direction overrides (U+202A-U+202E,
  U+2066-U+2069) are removed, and a value too long for its place is cut with ``…`` before
  escaping, so an escape sequence is never cut in half.

Pure functions over str and DataFrames; no dagster.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# ---------------------------------------------------------------- spreadsheets

FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_PREFIX = "'"
# Character classes written with the characters themselves, so Python's re and Arrow's RE2
# read them alike: the direction overrides and isolates (U+202A-U+202E, U+2066-U+2069), and
# C0 and C1 control characters, DEL and the Unicode line and paragraph separators (every
# character str.splitlines() breaks a line at, and the invisible rest of C0/C1).
DIRECTION_OVERRIDES = "[\u202a-\u202e\u2066-\u2069]"
CONTROL = "[\x00-\x1f\x7f-\x9f\u2028\u2029]"
_DIRECTION_RE = re.compile(DIRECTION_OVERRIDES)
_CONTROL_RE = re.compile(CONTROL)
SAMPLE_SIZE = 5
SAMPLE_CHARS = 80
# Below this many cells in all, one thread: a pool's start costs more than it saves.
PARALLEL_FROM_VALUES = 200_000


def spreadsheet_cell(value: str) -> str:
    """``value`` as a report cell: with a leading ``'`` when it begins with a formula character."""
    return FORMULA_PREFIX + value if value.startswith(FORMULA_CHARS) else value


def _is_text(column: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(column) or pd.api.types.is_object_dtype(column)


def _starts_formula(column: pd.Series) -> pd.Series:
    return column.str.startswith(FORMULA_CHARS).fillna(False).astype(bool)


def spreadsheet_safe(frame: pd.DataFrame, leave: Iterable[str] = ()) -> pd.DataFrame:
    """``frame`` with every text cell written as ``spreadsheet_cell`` says; numeric, boolean
    and date columns, the columns named in ``leave`` and missing values are left as they
    are. Returns a new frame. Idempotent: ``'`` is not a formula character."""
    out = frame.copy()
    kept = set(leave)
    for name in out.columns:
        column = out[name]
        if name in kept or not _is_text(column):
            continue
        if pd.api.types.is_string_dtype(column) and not pd.api.types.is_object_dtype(column):
            starts = _starts_formula(column)
            if starts.any():
                out[name] = column.where(~starts, FORMULA_PREFIX + column)
        else:  # object: may hold dates, Decimals, None beside strings
            out[name] = column.map(lambda v: spreadsheet_cell(v) if isinstance(v, str) else v)
    return out


# ---------------------------------------------------------------- what a raw file holds


@dataclass(frozen=True)
class HostileText:
    """Text cells of a raw file a person should know about, with a sample of each kind."""

    formula_like: int = 0
    direction_overrides: int = 0
    control_characters: int = 0
    sample: list[dict[str, object]] = field(default_factory=list)  # the formula-like ones


def _shown(value: str) -> str:
    """A sample value, cut to ``SAMPLE_CHARS`` (the sample is JSON: nothing in it is markup)."""
    return value if len(value) <= SAMPLE_CHARS else value[: SAMPLE_CHARS - 1] + "…"


def _arrow_text(column: pd.Series) -> pa.Array:
    """The column's text as one Arrow array, missing values as empty strings."""
    values = pa.array(column, from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return pc.fill_null(values.cast(pa.large_string()), "")


def _starts_formula_arrow(values: pa.Array) -> pa.Array:
    """``_starts_formula`` on Arrow text: one ``starts_with`` per formula character."""
    starts = pc.starts_with(values, FORMULA_CHARS[0])
    for char in FORMULA_CHARS[1:]:
        starts = pc.or_(starts, pc.starts_with(values, char))
    return starts


@dataclass(frozen=True)
class _ColumnText:
    """What ``profile_text`` finds in one column."""

    values: pa.Array  # the text, missing values as empty strings
    formula: pa.Array  # a boolean per cell
    direction: int
    control: int


def _column_text(column: pd.Series) -> _ColumnText:
    values = _arrow_text(column)
    # pandas' str.lstrip() on Arrow text is utf8_ltrim_whitespace: the same trim.
    starts = pc.or_(_starts_formula_arrow(values), _starts_formula_arrow(pc.utf8_ltrim_whitespace(values)))
    # Direction overrides and control characters are not printable: the exact patterns run
    # only on the values that are not.
    odd = values.filter(pc.invert(pc.utf8_is_printable(values)))
    return _ColumnText(
        values,
        starts,
        int(pc.sum(pc.match_substring_regex(odd, DIRECTION_OVERRIDES)).as_py() or 0),
        int(pc.sum(pc.match_substring_regex(odd, CONTROL)).as_py() or 0),
    )


def profile_text(frame: pd.DataFrame, columns: Iterable[str], row_number: str = "row_number") -> HostileText:
    """Count the cells of ``columns`` that begin with a formula character as written or with
    leading white space trimmed (as validation trims, so the count covers what the reports
    will prefix), that hold a direction override, or that hold a control character; sample
    the first. Arrow compute on the column's own buffers, the columns on the machine's cores
    at once (Arrow's kernels release the GIL; issue 23): a few hundredths of a second per
    million values of a column."""
    names = [name for name in columns if _is_text(frame[name]) and not frame[name].isna().all()]
    found = _on_cores(_column_text, [frame[name] for name in names])
    formula = direction = control = 0
    sample: list[dict[str, object]] = []
    for name, text in zip(names, found):  # in column order: the same sample whatever ran first
        starts = text.formula.to_numpy(zero_copy_only=False)
        formula += int(starts.sum())
        direction += text.direction
        control += text.control
        if starts.any() and len(sample) < SAMPLE_SIZE:
            where = starts.nonzero()[0][: SAMPLE_SIZE - len(sample)]
            for number, value in zip(frame[row_number].to_numpy()[where], text.values.take(where).to_pylist()):
                sample.append({"row_number": int(number), "column": name, "value": _shown(value)})
    return HostileText(formula, direction, control, sample)


def _on_cores(work, items: list) -> list:
    """``[work(item) for item in items]``, on as many threads as the machine has cores when
    there is enough to share (Arrow compute releases the GIL); in order."""
    if len(items) < 2 or sum(len(item) for item in items) < PARALLEL_FROM_VALUES:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(len(items), os.cpu_count() or 1)) as pool:
        return list(pool.map(work, items))


# ---------------------------------------------------------------- the message


def one_line(value: str) -> str:
    """``value`` with every control character and line separator shown as a space."""
    return _CONTROL_RE.sub(" ", value)


def one_line_values(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``frame`` with ``one_line`` applied to the text of ``columns`` (a new frame)."""
    out = frame.copy()
    for name in columns:
        out[name] = out[name].map(lambda v: one_line(v) if isinstance(v, str) else v)
    return out


# ---------------------------------------------------------------- Slack

ELLIPSIS = "…"
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ESCAPE_RE = re.compile("[&<>]")


def slack_escape(text: str) -> str:
    """Slack's three control characters as entities (``&`` first, so nothing is escaped twice)."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group()], text)


def slack_length(text: str) -> int:
    """Length as Slack's limits count it: UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def _cost(char: str) -> int:
    escaped = _ESCAPES.get(char)
    return len(escaped) if escaped else (2 if ord(char) > 0xFFFF else 1)


def _prefix_within(text: str, budget: int) -> str:
    """The longest prefix of ``text`` whose escaped length is at most ``budget``."""
    used = 0
    for i, char in enumerate(text[: max(budget, 0)]):  # a char costs at least 1
        used += _cost(char)
        if used > budget:
            return text[:i]
    return text[: max(budget, 0)]


def slack_text(text: str, limit: int, tail: int = 0) -> str:
    """One line of ``text`` for Slack, at most ``limit`` characters: direction overrides
    removed, control characters as spaces, escaped once. Too long, it keeps its beginning and
    (up to) its last ``tail`` characters with ``…`` between; the cut is made before escaping,
    so no escape sequence is cut in half."""
    clean = one_line(_DIRECTION_RE.sub("", text))
    escaped = slack_escape(clean)
    if slack_length(escaped) <= limit:
        return escaped
    end = _prefix_within(clean[-tail:][::-1], min(tail, limit // 2))[::-1] if tail else ""
    head = _prefix_within(clean, limit - 1 - slack_length(slack_escape(end)))
    return slack_escape(head) + ELLIPSIS + slack_escape(end)


def slack_lines(text: str, line_limit: int, total_limit: int, tail: int = 0) -> str:
    """A multi-line text for Slack: each line as ``slack_text`` makes it (at most
    ``line_limit``); the lines that would pass ``total_limit`` become ``… and N more lines``."""
    lines = [slack_text(line, line_limit, tail) for line in text.splitlines()]
    reserve = len(f"{ELLIPSIS} and {len(lines)} more lines") + 1
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        last = i == len(lines) - 1
        if used + slack_length(line) + (0 if last else reserve) > total_limit:
            out.append(f"{ELLIPSIS} and {len(lines) - i} more lines")
            break
        out.append(line)
        used += slack_length(line) + 1
    return "\n".join(out)

"""How the mock generator writes values: the forms of contract v2 and the brief's sample files.

Durations in decimal minutes or whole seconds, created_ts in every date-time form the contract
accepts, login_time as a time of day or a date-time, and the unparseable values the generator
injects as defects. Column-wise (pyarrow) where a day's calls go through it. Pure Python, no
dagster.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

LS = pa.large_string()
#: Unparseable created_ts (contract v2 "Date-times"), the empty value included.
BAD_TIMESTAMPS = ("{d:%d/%m/%Y} 15:40", "{d:%Y-%m-%d} 25:10:00", "", "{d:%Y-%m-%d}T15:40:00.1234567",
                  "1714300000", "{d:%Y-%m-%d} 3:40 PM", "{d:%Y-%m}-31T10:00:00", "{d:%Y-%m-%d}T10:00:00+0530",
                  "{d:%Y-%m-%d}")
#: Unparseable non-empty login_time values.
BAD_LOGINS = ("8.13", "25:00", "8:13 AM", "0813", "morning", "12:60", "{d:%d/%m/%Y} 08:13")
#: created_ts forms of contract v2 and their shares: ISO with T (the sample files' form),
#: space-separated, minute precision, with a fraction, UTC ``Z``, ``+05:30`` offset.
TS_FORMS = ("T", "space", "minute", "fraction", "utc", "offset")
TS_FORM_P = (0.80, 0.08, 0.04, 0.03, 0.02, 0.03)
UTC_OFFSET_S = 19800  # Asia/Kolkata, +05:30
DURATION_UNITS = ("minutes", "seconds")


def replace_rows(arr: pa.Array, idx: np.ndarray, values: list[str] | pa.Array) -> pa.Array:
    """Replace ``arr[idx]`` (idx sorted ascending) by ``values``."""
    if len(idx) == 0:
        return arr
    mask = np.zeros(len(arr), dtype=bool)
    mask[idx] = True
    return pc.replace_with_mask(arr, pa.array(mask), values if isinstance(values, pa.Array)
                                else pa.array(values, LS))


def hms(s: int) -> str:
    """``HH:MM:SS`` of ``s`` seconds after midnight."""
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    """Element-wise concatenation of string arrays and constants, with ``sep`` between."""
    return pc.binary_join_element_wise(
        *[pa.scalar(p, LS) if isinstance(p, str) else p for p in parts], pa.scalar(sep, LS))


def call_seconds(rng: np.random.Generator, code: np.ndarray) -> np.ndarray:
    """Whole seconds per call: talk time for the talking statuses, ring or attempt time (a few
    seconds to a minute and a half, sometimes 0) for the others."""
    talk = rng.integers(15, 1500, len(code))
    ring = np.where(rng.random(len(code)) < 0.1, 0, rng.integers(3, 90, len(code)))
    return np.where(code < 2, talk, ring)


def durations(seconds: np.ndarray, unit: str) -> pa.Array:
    """Durations as text: whole seconds, or decimal minutes with two places (``5.68``)."""
    if unit == "seconds":
        return pc.cast(pa.array(seconds), LS)
    centi = (seconds * 100 + 30) // 60  # minutes x 100, rounded half up
    return join(pc.cast(pa.array(centi // 100), LS), ".",
                 pc.utf8_lpad(pc.cast(pa.array(centi % 100), LS), width=2, padding="0"))


@functools.lru_cache(maxsize=2)
def iso_stamps(day: dt.date) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SS`` for every second of the day before ``day`` and of ``day``."""
    start = dt.datetime.combine(day - dt.timedelta(days=1), dt.time())
    seconds = pa.array(np.datetime64(start, "s") + np.arange(2 * 86400), pa.timestamp("s"))
    return pc.cast(pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S"), LS)


def timestamps(day: dt.date, secs: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """created_ts for local times ``secs`` (seconds from the day's midnight, -86400 to 86399)
    in the contract v2 forms (``TS_FORMS``), column-wise. ``Z`` and ``+05:30`` values name the
    same instant as the local time."""
    iso = iso_stamps(day)
    local = secs + 86400
    form = rng.choice(len(TS_FORMS), len(secs), p=TS_FORM_P)
    form[(form == TS_FORMS.index("utc")) & (local < UTC_OFFSET_S)] = 0  # UTC before the table
    out = iso.take(local)
    parts = {name: np.flatnonzero(form == k) for k, name in enumerate(TS_FORMS)}
    out = replace_rows(out, parts["space"], pc.replace_substring(
        iso.take(local[parts["space"]]), "T", " ", max_replacements=1))
    out = replace_rows(out, parts["minute"], pc.utf8_slice_codeunits(iso.take(local[parts["minute"]]), 0, 16))
    digits = rng.integers(0, 10**6, len(parts["fraction"]))
    places = rng.integers(1, 7, len(parts["fraction"]))
    out = replace_rows(out, parts["fraction"], join(iso.take(local[parts["fraction"]]), ".", pa.array(
        [f"{v:06d}"[:k] for v, k in zip(digits.tolist(), places.tolist())], LS)))
    out = replace_rows(out, parts["utc"], join(iso.take(local[parts["utc"]] - UTC_OFFSET_S), "Z"))
    return replace_rows(out, parts["offset"], join(iso.take(local[parts["offset"]]), "+05:30"))


def login_text(day: dt.date, seconds: int, form: int) -> str:
    """A login_time as exports write it: ``8:13`` (form 0), ``08:13:05`` (1), or a date-time
    ``2025-04-28T08:13:05`` (2) or ``2025-04-28 08:13`` (3)."""
    clock = hms(seconds)
    return (f"{seconds // 3600}:{clock[3:5]}", clock, f"{day.isoformat()}T{clock}",
            f"{day.isoformat()} {clock[:5]}")[form]


def login_seconds(text: str) -> int | None:
    """Seconds after midnight of a login_time written by ``login_text``; None otherwise."""
    parts = text[-8:].lstrip("T ").split(":") if len(text) > 8 else text.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]) * 3600 + int(parts[1]) * 60 + (int(parts[2]) if len(parts) == 3 else 0)

"""Date-times as real exports write them (contract v2): created_ts and login_time.

created_ts: ``YYYY-MM-DD HH:MM``, ``YYYY-MM-DD HH:MM:SS`` or ``YYYY-MM-DD HH:MM:SS.f`` (1-6
fraction digits), a single space or ``T`` between date and time, optionally ``Z`` or
``+HH:MM``/``-HH:MM``. A value with an offset is converted to the partition timezone; every
result is a naive local date-time in that timezone. login_time: those forms, or a time of day
(``H:MM``, ``HH:MM``, ``H:MM:SS``, ``HH:MM:SS``, hours 0-23) on the given day. Anything else,
or an impossible date or time, is NaT.

Each distinct value is parsed once: a day's values repeat (86,400 seconds at most).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_TIMEZONE = "Asia/Kolkata"
# ASCII digits only: Python's \d also matches other scripts' digits ("٦٠").
_D = "[0-9]"
DATETIME_RE = (
    rf"^(?P<year>{_D}{{4}})-(?P<month>{_D}{{2}})-(?P<day>{_D}{{2}})[ T]"
    rf"(?P<hour>{_D}{{2}}):(?P<minute>{_D}{{2}})"
    rf"(?::(?P<second>{_D}{{2}})(?:\.(?P<fraction>{_D}{{1,6}}))?)?"
    rf"(?P<zone>Z|[+-]{_D}{{2}}:{_D}{{2}})?$"
)
TIME_OF_DAY_RE = rf"^(?P<hour>{_D}{{1,2}}):(?P<minute>{_D}{{2}})(?::(?P<second>{_D}{{2}}))?$"
UNIT = "datetime64[us]"


def _text(parts: pa.StructArray, name: str) -> pa.Array:
    """One named group of ``pc.extract_regex``: null where the value did not match, and where
    an optional group took no part (Arrow gives an empty string there)."""
    group = parts.field(name)
    return pc.if_else(pc.equal(group, ""), pa.scalar(None, pa.string()), group)


def _number(parts: pa.StructArray, name: str, default: int = 0) -> np.ndarray:
    """A group of ASCII digits as int64 (``default`` where absent)."""
    return pc.fill_null(pc.cast(_text(parts, name), pa.int64()), default).to_numpy(zero_copy_only=False)


def _offset_minutes(parts: pa.StructArray) -> np.ndarray:
    """Minutes east of UTC for ``Z``/``+HH:MM``/``-HH:MM``; 0 without a zone, NaN when the
    offset itself is impossible (hours over 23 or minutes over 59)."""
    zone = pc.fill_null(_text(parts, "zone"), "Z")
    zone = pc.if_else(pc.equal(zone, "Z"), "+00:00", zone)
    hours = pc.cast(pc.utf8_slice_codeunits(zone, 1, 3), pa.int64()).to_numpy(zero_copy_only=False)
    minutes = pc.cast(pc.utf8_slice_codeunits(zone, 4, 6), pa.int64()).to_numpy(zero_copy_only=False)
    sign = np.where(pc.starts_with(zone, "-").to_numpy(zero_copy_only=False), -1, 1)
    total = ((hours * 60 + minutes) * sign).astype("float64")
    return np.where((hours <= 23) & (minutes <= 59), total, np.nan)


def _from_parts(parts: pa.StructArray, date: dt.date | None = None) -> pd.Series:
    """Naive date-times from the regex's groups (year ... fraction, or ``date``'s year, month
    and day); NaT where the value did not match or is impossible."""
    matched = parts.is_valid().to_numpy(zero_copy_only=False)
    numbers = {
        name: _number(parts, name) for name in ("hour", "minute", "second")
    }
    if date is None:
        numbers = {name: _number(parts, name) for name in ("year", "month", "day")} | numbers
        fraction = pc.fill_null(_text(parts, "fraction"), "")
        numbers["microsecond"] = pc.cast(pc.utf8_rpad(fraction, 6, "0"), pa.int64()).to_numpy(zero_copy_only=False)
    else:
        size = len(parts)
        numbers = {"year": np.full(size, date.year), "month": np.full(size, date.month),
                   "day": np.full(size, date.day)} | numbers | {"microsecond": np.zeros(size, dtype=np.int64)}
    frame = pd.DataFrame(numbers)
    # pandas rolls hour 24 or minute 60 over into the next unit: refuse them first. An
    # impossible date (month 13, February 30) coerces to NaT.
    ok = matched & (frame["hour"] <= 23) & (frame["minute"] <= 59) & (frame["second"] <= 59)
    parsed = pd.to_datetime(frame.where(ok), errors="coerce").astype(UNIT)
    return parsed.where(ok)


def _to_local(naive: pd.Series, parts: pa.StructArray, timezone: str) -> pd.Series:
    """Values written with an offset converted to wall-clock time in ``timezone``."""
    has_zone = pc.is_valid(_text(parts, "zone")).to_numpy(zero_copy_only=False)
    if not has_zone.any():
        return naive
    offsets = _offset_minutes(parts.filter(pa.array(has_zone)))
    utc = naive.loc[has_zone] - pd.to_timedelta(offsets, unit="min")
    local = utc.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None).astype(UNIT)
    out = naive.copy()
    out.loc[has_zone] = local.to_numpy()
    return out


def _parse_distinct(uniques: pa.Array, timezone: str, day: dt.date | None) -> pd.Series:
    """Parse distinct text values to naive local date-times (Arrow's RE2 matches the groups:
    the patterns are plain enough to read alike in Python's re and RE2)."""
    full = pc.extract_regex(uniques, DATETIME_RE)
    parsed = _to_local(_from_parts(full), full, timezone)
    if day is not None:
        clock = pc.extract_regex(uniques, TIME_OF_DAY_RE)
        is_clock = (clock.is_valid().to_numpy(zero_copy_only=False)
                    & ~full.is_valid().to_numpy(zero_copy_only=False))
        if is_clock.any():
            parsed.loc[is_clock] = _from_parts(clock.filter(pa.array(is_clock)), day).to_numpy()
    return parsed


def _parse(values: pd.Series, timezone: str, day: dt.date | None) -> pd.Series:
    """Each distinct value parsed once (a day's values repeat), then spread to every row."""
    text = pa.array(values, from_pandas=True, type=pa.large_string())
    encoded = pc.dictionary_encode(pc.fill_null(text, "")).combine_chunks() if isinstance(
        text, pa.ChunkedArray) else pc.dictionary_encode(pc.fill_null(text, ""))
    parsed = _parse_distinct(encoded.dictionary.cast(pa.string()), timezone, day)
    return pd.Series(parsed.to_numpy()[encoded.indices.to_numpy()], index=values.index, dtype=UNIT)


def parse_created_ts(values: pd.Series, timezone: str = DEFAULT_TIMEZONE) -> pd.Series:
    """created_ts as naive local date-times in ``timezone``; NaT where unparseable or empty."""
    return _parse(values, timezone, None)


def parse_login_time(values: pd.Series, day: dt.date, timezone: str = DEFAULT_TIMEZONE) -> pd.Series:
    """login_time as a time of day on ``day``, or a date-time as for created_ts; NaT else."""
    return _parse(values, timezone, day)

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


def _offset_minutes(zone: pd.Series) -> pd.Series:
    """Minutes east of UTC for ``Z``/``+HH:MM``/``-HH:MM``; 0 without a zone, NA when the
    offset itself is impossible (hours over 23 or minutes over 59)."""
    text = zone.fillna("Z").replace("Z", "+00:00")
    hours = pd.to_numeric(text.str[1:3]).astype("Int64")
    minutes = pd.to_numeric(text.str[4:6]).astype("Int64")
    sign = np.where(text.str[0] == "-", -1, 1)
    total = (hours * 60 + minutes) * sign
    return total.where((hours <= 23) & (minutes <= 59))


def _from_parts(parts: pd.DataFrame) -> pd.Series:
    """Naive date-times from text parts (year ... fraction); NaT where impossible."""
    numbers = {
        name: pd.to_numeric(parts[name].fillna("0"), errors="coerce")
        for name in ("year", "month", "day", "hour", "minute", "second")
    }
    numbers["microsecond"] = pd.to_numeric(parts["fraction"].fillna("").str.ljust(6, "0"), errors="coerce")
    frame = pd.DataFrame(numbers)
    # pandas rolls hour 24 or minute 60 over into the next unit: refuse them first. An
    # impossible date (month 13, February 30) coerces to NaT.
    clock_ok = (frame["hour"] <= 23) & (frame["minute"] <= 59) & (frame["second"] <= 59)
    parsed = pd.to_datetime(frame.where(clock_ok), errors="coerce").astype(UNIT)
    return parsed.where(clock_ok)


def _to_local(naive: pd.Series, zone: pd.Series, timezone: str) -> pd.Series:
    """Values written with an offset converted to wall-clock time in ``timezone``."""
    has_zone = zone.notna()
    if not has_zone.any():
        return naive
    offsets = _offset_minutes(zone.loc[has_zone])
    utc = naive.loc[has_zone] - pd.to_timedelta(offsets.astype("float64"), unit="min")
    local = utc.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None).astype(UNIT)
    out = naive.copy()
    out.loc[has_zone] = local
    return out


def _parse_distinct(uniques: pd.Series, timezone: str, day: dt.date | None) -> pd.Series:
    """Parse distinct text values (index-aligned) to naive local date-times."""
    full = uniques.str.extract(DATETIME_RE)
    parsed = _to_local(_from_parts(full), full["zone"], timezone)
    if day is not None:
        clock = uniques.str.extract(TIME_OF_DAY_RE)
        is_clock = clock["hour"].notna() & full["year"].isna()
        if is_clock.any():
            parts = clock.loc[is_clock].assign(
                year=f"{day.year:04d}", month=f"{day.month:02d}", day=f"{day.day:02d}", fraction=pd.NA
            )
            parsed.loc[is_clock] = _from_parts(parts)
    return parsed


def _parse(values: pd.Series, timezone: str, day: dt.date | None) -> pd.Series:
    codes, uniques = pd.factorize(values.fillna(""), use_na_sentinel=False)
    parsed = _parse_distinct(pd.Series(uniques, dtype="str"), timezone, day)
    return pd.Series(parsed.to_numpy()[codes], index=values.index, dtype=UNIT)


def parse_created_ts(values: pd.Series, timezone: str = DEFAULT_TIMEZONE) -> pd.Series:
    """created_ts as naive local date-times in ``timezone``; NaT where unparseable or empty."""
    return _parse(values, timezone, None)


def parse_login_time(values: pd.Series, day: dt.date, timezone: str = DEFAULT_TIMEZONE) -> pd.Series:
    """login_time as a time of day on ``day``, or a date-time as for created_ts; NaT else."""
    return _parse(values, timezone, day)

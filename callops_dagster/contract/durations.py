"""Call durations (contract v2): their unit, exact values in seconds, and a unit sanity check.

The file's unit is a setting (``CALLOPS_DURATION_UNIT``: ``minutes``, the default, as in the
brief's sample files, or ``seconds``). Durations are kept as exact decimal **seconds** whatever
the unit: a minute value times 60 is still an exact decimal, so every sum and average
downstream stays exact and is rounded once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MINUTES = "minutes"
SECONDS = "seconds"
DURATION_UNITS: tuple[str, ...] = (MINUTES, SECONDS)
SECONDS_PER_UNIT = {MINUTES: 60, SECONDS: 1}
DURATION_RE = r"^[0-9]+(\.[0-9]+)?$"
# Exact decimal arithmetic holds 76 digits; a duration needing more (with room for the day's
# sum and the unit's factor) cannot be summed exactly and is treated as a bad duration.
MAX_DURATION_DIGITS = 76 - 14
# duration_unit_plausible: a median of the day's positive durations past these bounds (in
# the configured unit) looks like the other unit; fewer positive durations say nothing.
MINUTES_MEDIAN_ABOVE = 60
SECONDS_MEDIAN_BELOW = 20
PLAUSIBILITY_MIN_DURATIONS = 20


def valid_durations(text: pd.Series) -> pd.Series:
    """True where the (trimmed) duration is a plain non-negative decimal number."""
    ok = text.str.fullmatch(DURATION_RE).fillna(False).astype(bool)
    return ok & text.str.len().le(MAX_DURATION_DIGITS + 1).fillna(False)


def exact_seconds(text: pd.Series, unit: str = MINUTES) -> pd.Series:
    """Durations as exact decimal seconds (Arrow decimal), null where missing.

    The scale is the most decimal places any value has, so no value is rounded; there is room
    for twelve more integer digits, so the unit's factor and a day's sum cannot overflow.
    """
    values = pa.array(text, from_pandas=True)  # no copy: the strings are Arrow already
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    # The values are plain decimals (``valid_durations``) or missing: the fraction is what
    # follows the one ".", and a value's length in bytes is its length in characters.
    point = pc.find_substring(values, ".")
    fraction = pc.if_else(pc.greater_equal(point, 0), pc.subtract(pc.subtract(pc.binary_length(values), point), 1), 0)
    scale = int(pc.max(fraction).as_py() or 0) if len(values) else 0
    digits = int(pc.max(pc.utf8_length(values)).as_py() or 1) if len(values) else 1
    kind = pa.decimal128(38, scale) if digits + 12 <= 38 else pa.decimal256(76, scale)
    factor = SECONDS_PER_UNIT[unit]
    if factor == 1:
        decimals = pc.cast(values, kind)
    else:  # the product's precision is the operands' plus 3: keep it within 76
        base = pc.cast(values, pa.decimal256(max(digits + 10, scale + 1), scale))
        product = pc.multiply(base, pa.scalar(Decimal(factor), pa.decimal128(2, 0)))
        decimals = pc.cast(product, kind)
    return pd.Series(pd.arrays.ArrowExtensionArray(decimals), index=text.index, name="duration_s")


def _as_floats(seconds: pd.Series) -> pd.Series:
    """Exact decimal seconds as the nearest float64 each (what ``astype("float64")`` gives,
    through Python's Decimal one value at a time): Arrow's decimal-to-text cast is exact and
    its text-to-float parse correctly rounded, in a tenth of the time."""
    values = pa.array(seconds.array)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    floats = pc.cast(pc.cast(values, pa.string()), pa.float64())
    return pd.Series(floats.to_numpy(zero_copy_only=False), index=seconds.index)


@dataclass(frozen=True)
class UnitVerdict:
    """The outcome of the duration-unit sanity check, with its one-line reason."""

    passed: bool
    median: float | None
    positive_durations: int
    text: str


def unit_verdict(duration_s: pd.Series, unit: str) -> UnitVerdict:
    """Does the median of the day's positive durations fit ``unit``?

    With minutes a median above 60 looks like seconds; with seconds a median below 20 looks
    like minutes. Fewer than 20 positive durations: passes with a note.
    """
    positive = duration_s.dropna()
    positive = positive.loc[positive > 0]
    if len(positive) < PLAUSIBILITY_MIN_DURATIONS:
        note = f"only {len(positive)} positive durations (fewer than {PLAUSIBILITY_MIN_DURATIONS}): not judged"
        return UnitVerdict(True, None, len(positive), note)
    median = float(_as_floats(positive).median()) / SECONDS_PER_UNIT[unit]
    shown = f"{median:g}"
    if unit == MINUTES and median > MINUTES_MEDIAN_ABOVE:
        text = f"median duration {shown} looks like seconds; set CALLOPS_DURATION_UNIT=seconds"
        return UnitVerdict(False, median, len(positive), text)
    if unit == SECONDS and median < SECONDS_MEDIAN_BELOW:
        text = f"median duration {shown} looks like minutes; set CALLOPS_DURATION_UNIT=minutes"
        return UnitVerdict(False, median, len(positive), text)
    return UnitVerdict(True, median, len(positive), f"median duration {shown} {unit}: plausible")

"""The contact-compliance parameters: the calling-hours window, the seven-day attempt limit
and the day a week starts. Settings validate with these; the compliance rules apply them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

DEFAULT_CALLING_HOURS = "08:00-19:00"
DEFAULT_MAX_ATTEMPTS_7D = 7
_HOURS_RE = re.compile(r"^([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_WEEK_START = "monday"


@dataclass(frozen=True)
class CallingHours:
    """The permitted local window: ``start`` inclusive, ``end`` exclusive, same day."""

    start: dt.time
    end: dt.time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    @classmethod
    def parse(cls, text: str) -> CallingHours:
        """``HH:MM-HH:MM`` with start before end; a window across midnight is refused."""
        match = _HOURS_RE.match(text.strip())
        if not match:
            raise ValueError(f"expected HH:MM-HH:MM (like {DEFAULT_CALLING_HOURS}), got {text!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"{text!r} is not a time range of one day")
        start = dt.time(h1, m1)
        end = dt.time.max if h2 == 24 else dt.time(h2, m2)
        if not start < end:
            raise ValueError(
                f"{text!r}: the start must be before the end (a window across midnight is not supported)"
            )
        return cls(start, end)

    def outside(self, times: pd.Series) -> pd.Series:
        """True where a parseable date-time's time of day is before start or at/after end."""
        seconds = _seconds_of_day(times)
        start = _seconds(self.start)
        end = 24 * 3600 if self.end == dt.time.max else _seconds(self.end)
        return (seconds.lt(start) | seconds.ge(end)).fillna(False).astype(bool)


def _seconds(clock: dt.time) -> int:
    return clock.hour * 3600 + clock.minute * 60 + clock.second


def _seconds_of_day(times: pd.Series) -> pd.Series:
    """Seconds since local midnight (fractions kept), NaN where the time is unknown."""
    return (times - times.dt.normalize()).dt.total_seconds()

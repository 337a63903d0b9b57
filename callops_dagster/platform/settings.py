"""Settings read from the environment once, at definition load: the one home of configuration.

| variable | default | what |
|---|---|---|
| CALLOPS_DATA_DIR | data | landing/, warehouse/ and reports/ live here |
| CALLOPS_START_DATE | 2025-01-01 | first daily partition |
| CALLOPS_TIMEZONE | Asia/Kolkata | the partitions' and the schedule's timezone |
| CALLOPS_SCHEDULE_HOUR | 4 | hour of the day (in that timezone) the daily schedule runs |
| CALLOPS_DURATION_UNIT | minutes | unit of call_logs.csv's duration: minutes or seconds |
| CALLOPS_MIN_CALLS | 5 | calls an agent-day needs to be top performer |
| CALLOPS_MISSING_KEY_ERROR_SHARE | 0.2 | share of a file's rows with missing keys that blocks the day |
| CALLOPS_KNOWN_STATUSES | completed,connected,... | statuses that are not counted as unknown_status |
| CALLOPS_MAX_FILE_MB | 2048 | landing files larger than this fail early |
| CALLOPS_TREND_DEVIATIONS | 3.5 | robust deviations from the trailing median that make the trend check WARN |
| CALLOPS_TREND_MIN_HISTORY | 3 | earlier landed days with figures the trend check needs (else it passes with a note) |
| CALLOPS_FRESHNESS_DEADLINE_HOURS | 6 | hours after a day ends (0-23) by which its summary must exist |
| CALLOPS_LANDING_SENSOR_INTERVAL | 30 | seconds between two looks of the landing sensor |
| SLACK_WEBHOOK_URL | (unset: dry-run) | Slack incoming webhook; only whether it is set is read here |
| CALLOPS_SLACK_POST_BACKFILL | false | post days that are not the newest landed day |
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from callops_dagster.contract.sources import DEFAULT_KNOWN_STATUSES
from callops_dagster.contract.durations import DURATION_UNITS, MINUTES


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    start_date: str
    timezone: str
    schedule_hour: int
    min_calls: int
    missing_key_error_share: float
    known_statuses: tuple[str, ...]
    max_file_mb: int
    duration_unit: str = MINUTES
    trend_deviations: float = 3.5
    trend_min_history: int = 3
    freshness_deadline_hours: int = 6
    landing_sensor_interval: int = 30
    slack_webhook_set: bool = False  # the URL itself is a secret, read by dg.EnvVar at run time
    slack_post_backfill: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str, default: str, parse=str):
            raw = env.get(name, "").strip() or default
            try:
                return parse(raw)
            except ValueError as exc:
                raise SettingsError(f"{name}={raw!r} is not valid: {exc}") from None

        start = get("CALLOPS_START_DATE", "2025-01-01", lambda v: dt.date.fromisoformat(v).isoformat())
        statuses = get("CALLOPS_KNOWN_STATUSES", ",".join(DEFAULT_KNOWN_STATUSES))
        return cls(
            data_dir=Path(get("CALLOPS_DATA_DIR", "data")).expanduser().resolve(),
            start_date=start,
            timezone=get("CALLOPS_TIMEZONE", "Asia/Kolkata"),
            schedule_hour=get("CALLOPS_SCHEDULE_HOUR", "4", int),
            min_calls=get("CALLOPS_MIN_CALLS", "5", int),
            missing_key_error_share=get("CALLOPS_MISSING_KEY_ERROR_SHARE", "0.2", float),
            known_statuses=tuple(s.strip().lower() for s in statuses.split(",") if s.strip()),
            max_file_mb=get("CALLOPS_MAX_FILE_MB", "2048", int),
            duration_unit=get("CALLOPS_DURATION_UNIT", MINUTES, _one_of(DURATION_UNITS)),
            trend_deviations=get("CALLOPS_TREND_DEVIATIONS", "3.5", _positive(float)),
            trend_min_history=get("CALLOPS_TREND_MIN_HISTORY", "3", _positive(int)),
            freshness_deadline_hours=get("CALLOPS_FRESHNESS_DEADLINE_HOURS", "6", _hour),
            landing_sensor_interval=get("CALLOPS_LANDING_SENSOR_INTERVAL", "30", _positive(int)),
            slack_webhook_set=bool(env.get("SLACK_WEBHOOK_URL", "").strip()),
            slack_post_backfill=get("CALLOPS_SLACK_POST_BACKFILL", "false", _flag),
        )


def _positive(parse):
    """``parse``, refusing zero and negative values."""

    def parse_positive(raw: str):
        value = parse(raw)
        if not value > 0:
            raise ValueError("must be greater than 0")
        return value

    return parse_positive


def _one_of(choices: tuple[str, ...]):
    """A parser accepting one of ``choices`` (case and surrounding space ignored)."""

    def parse_choice(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return value

    return parse_choice


def _hour(raw: str) -> int:
    """An hour of the day, 0-23 (the freshness deadline is a daily cron tick)."""
    value = int(raw)
    if not 0 <= value <= 23:
        raise ValueError("must be an hour from 0 to 23")
    return value


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in {"1", "true", "yes", "0", "false", "no"}:
        raise ValueError("expected true or false")
    return lowered in {"1", "true", "yes"}


SETTINGS = Settings.from_env()

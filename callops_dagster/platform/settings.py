"""Settings read from the environment when the definitions load: the one home of configuration.

| variable | default | what |
|---|---|---|
| CALLOPS_DATA_DIR | data | landing/, warehouse/ and reports/ live here: a folder or a URL (s3://bucket/prefix) |
| CALLOPS_START_DATE | 2025-01-01 | first daily partition |
| CALLOPS_TIMEZONE | Asia/Kolkata | the partitions' and the schedule's timezone |
| CALLOPS_SCHEDULE_HOUR | 4 | hour of the day (in that timezone) the daily schedule runs |
| CALLOPS_DURATION_UNIT | minutes | unit of call_logs.csv's duration: minutes or seconds |
| CALLOPS_MIN_CALLS | 5 | calls an agent-day needs to be top performer |
| CALLOPS_MISSING_KEY_ERROR_SHARE | 0.2 | share of a file's rows with missing keys that blocks the day |
| CALLOPS_KNOWN_STATUSES | completed,connected,... | statuses that are not counted as unknown_status |
| CALLOPS_MAX_FILE_MB | 2048 | landing files larger than this fail early |
| CALLOPS_HANDOVER_MB | 2048 | memory a run may hold tables in between its steps (beyond it, and after the run, they are read from Parquet); 0: never |
| CALLOPS_TREND_DEVIATIONS | 3.5 | robust deviations from the trailing median that make the trend check WARN |
| CALLOPS_TREND_MIN_HISTORY | 3 | earlier landed days with figures the trend check needs (else it passes with a note) |
| CALLOPS_FRESHNESS_DEADLINE_HOURS | 6 | hours after a day ends (0-23) by which its summary must exist |
| CALLOPS_LANDING_SENSOR_INTERVAL | 30 | seconds between two looks of the landing sensor |
| CALLOPS_AUTOMATION_SENSOR_INTERVAL | 30 | seconds between two evaluations of the automation sensor (refreshes) |
| CALLOPS_RELAUNCH_SENSOR_INTERVAL | 30 | cluster mode: seconds between two looks of the sensor that relaunches lost days |
| CALLOPS_CALLING_HOURS | 08:00-19:00 | permitted local calling window, same day (compliance) |
| CALLOPS_MAX_ATTEMPTS_7D | 7 | attempts on one loan in seven days before it is over the limit (compliance) |
| CALLOPS_WEEK_START | monday | first day of the weekly summary's week (compliance) |
| SLACK_WEBHOOK_URL | (unset: dry-run) | Slack incoming webhook; only whether it is set is read here |
| CALLOPS_SLACK_POST_BACKFILL | false | post days that are not the newest landed day |
| CALLOPS_CELERY_BROKER | pyamqp://guest:guest@127.0.0.1:5672// | cluster mode: the Celery broker runs are sent through (docs/deploy.md); set (deploy/cluster.env sets it), it also turns the relaunch sensor on by default |
| CALLOPS_CELERY_BACKEND | redis://127.0.0.1:6379/0 | cluster mode: the Celery result backend the daemon reads run tasks' states from |
| CALLOPS_CELERY_QUEUE | dagster | cluster mode: the queue the run launcher sends to and `callops worker` takes from |

pydantic-settings reads them (names are case-insensitive; an empty value means the default);
a value that cannot be used stops the load with ``SettingsError`` naming the variable.
``load_settings()`` reads the process environment once (the code location, ``callops``);
``Settings.from_env(mapping)`` reads a given mapping and nothing else (tests).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from upath import UPath

from callops_dagster.contract.calling_rules import (
    DEFAULT_CALLING_HOURS,
    DEFAULT_MAX_ATTEMPTS_7D,
    DEFAULT_WEEK_START,
    WEEKDAYS,
    CallingHours,
)
from callops_dagster.contract.durations import DURATION_UNITS, MINUTES
from callops_dagster.contract.sources import DEFAULT_KNOWN_STATUSES
from callops_dagster.platform.storage import data_path, is_local

ENV_PREFIX = "CALLOPS_"
WEBHOOK_ENV = "SLACK_WEBHOOK_URL"


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, populate_by_name=True
    )

    data_dir: UPath = UPath("data")
    start_date: str = "2025-01-01"
    timezone: str = "Asia/Kolkata"
    schedule_hour: int = 4
    min_calls: int = 5
    missing_key_error_share: float = 0.2
    known_statuses: Annotated[tuple[str, ...], NoDecode] = DEFAULT_KNOWN_STATUSES
    max_file_mb: int = 2048
    handover_mb: int = Field(2048, ge=0)
    duration_unit: str = MINUTES
    trend_deviations: float = Field(3.5, gt=0)
    trend_min_history: int = Field(3, gt=0)
    freshness_deadline_hours: int = Field(6, ge=0, le=23)  # a daily cron tick
    landing_sensor_interval: int = Field(30, gt=0)
    automation_sensor_interval: int = Field(30, gt=0)  # platform/automation.py
    relaunch_sensor_interval: int = Field(30, gt=0)  # cluster/sensors.py
    calling_hours: str = DEFAULT_CALLING_HOURS
    max_attempts_7d: int = Field(DEFAULT_MAX_ATTEMPTS_7D, ge=1)
    week_start: str = DEFAULT_WEEK_START
    # The URL itself is a secret, read by dg.EnvVar at run time: only whether it is set.
    slack_webhook_set: bool = Field(False, validation_alias=AliasChoices("slack_webhook_set", WEBHOOK_ENV))
    slack_post_backfill: bool = False
    # Cluster mode (callops_dagster/cluster): the same three in the daemon, webserver and workers.
    celery_broker: str = "pyamqp://guest:guest@127.0.0.1:5672//"
    celery_backend: str = "redis://127.0.0.1:6379/0"
    celery_queue: str = "dagster"

    @property
    def celery_configured(self) -> bool:
        """Whether CALLOPS_CELERY_BROKER is set: the mark of a Celery cluster's processes
        (deploy/cluster.env sets it for each), read when the definitions load."""
        return "celery_broker" in self.model_fields_set

    @model_validator(mode="before")
    @classmethod
    def _blank_means_default(cls, values: Any) -> Any:
        """Surrounding space is ignored, and an empty value leaves the default."""
        if not isinstance(values, dict):
            return values
        stripped = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
        return {k: v for k, v in stripped.items() if v != ""}

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_location(cls, value: Any) -> UPath:
        """A local folder made absolute; a URL (``s3://bucket/prefix``) kept as given, once its
        file system is known to be usable (its fsspec package installed)."""
        path = data_path(value if isinstance(value, UPath) else str(value))
        return path.expanduser().resolve() if is_local(path) else path

    @field_validator("start_date", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> str:
        return dt.date.fromisoformat(str(value)).isoformat()

    @field_validator("known_statuses", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        return tuple(s.strip().lower() for s in items if s.strip())

    @field_validator("duration_unit", mode="before")
    @classmethod
    def _unit(cls, value: Any) -> str:
        return _one_of(str(value), DURATION_UNITS)

    @field_validator("week_start", mode="before")
    @classmethod
    def _weekday(cls, value: Any) -> str:
        return _one_of(str(value), WEEKDAYS)

    @field_validator("calling_hours", mode="before")
    @classmethod
    def _window(cls, value: Any) -> str:
        return str(CallingHours.parse(str(value)))

    @field_validator("slack_webhook_set", mode="before")
    @classmethod
    def _is_set(cls, value: Any) -> bool:
        return bool(value.strip()) if isinstance(value, str) else bool(value)

    @field_validator("slack_post_backfill", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered not in {"1", "true", "yes", "0", "false", "no"}:
            raise ValueError("expected true or false")
        return lowered in {"1", "true", "yes"}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in ``environ`` (the process environment when None), and nothing else."""
        if environ is None:
            return _validated(cls)
        values = {name: environ.get(env_name(name), "") for name in cls.model_fields}
        return _validated(cls, **values)


def env_name(field: str) -> str:
    """The environment variable of a setting."""
    return WEBHOOK_ENV if field == "slack_webhook_set" else f"{ENV_PREFIX}{field.upper()}"


def _one_of(raw: str, choices: tuple[str, ...]) -> str:
    """``raw`` as one of ``choices`` (case and surrounding space ignored)."""
    value = raw.strip().lower()
    if value not in choices:
        raise ValueError(f"expected one of {', '.join(choices)}")
    return value


def _validated(cls: type[Settings], **values: Any) -> Settings:
    """``cls(**values)``; a value that does not validate raises ``SettingsError`` naming its variable."""
    try:
        return cls(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        name = next((f for f in cls.model_fields if f == field or env_name(f) == field.upper()), field)
        message = error["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{env_name(name)}={error.get('input')!r} is not valid: {message}") from None


@functools.cache
def load_settings() -> Settings:
    """The process environment's settings, read once (when the definitions load)."""
    return Settings.from_env(None)


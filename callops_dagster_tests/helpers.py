"""Shared test helpers: the contract's headers, one-line record builders, a file reader, and
the one environment every subprocess of the tests gets.

Builders return CSV lines (no quoting: the values are plain); ``read`` writes a file with a
header and records and reads it the way the platform does.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

from callops_dagster.contract.sources import SourceSpec
from callops_dagster.ingest.reading import RawTable, read_landing_csv

DAY = dt.date(2025, 4, 28)
CALL_HEADER = "call_id,agent_id,org_id,installment_id,status,duration,created_ts,call_date"
DISPOSITION_HEADER = "agent_id,org_id,call_date,login_time"
ROSTER_HEADER = "agent_id,users_first_name,users_last_name,users_office_location,org_id"
# A real webhook in a developer's shell must never receive a test's post.
WEBHOOK_ENV = "SLACK_WEBHOOK_URL"


def read(tmp_path: Path, spec: SourceSpec, header: str, *records: str) -> RawTable:
    path = tmp_path / spec.file_name
    path.write_text("".join(line + "\n" for line in (header, *records)), encoding="utf-8")
    return read_landing_csv(path, spec)


def call(
    call_id: str = "C1",
    agent_id: str = "A1",
    org_id: str = "O1",
    installment_id: str = "I1",
    status: str = "completed",
    duration: str = "60",
    created_ts: str = "2025-04-28 10:00:00",
    call_date: str = "2025-04-28",
) -> str:
    return ",".join((call_id, agent_id, org_id, installment_id, status, duration, created_ts, call_date))


def login(agent_id="A1", org_id="O1", call_date="2025-04-28", login_time="2025-04-28 09:00:00") -> str:
    return ",".join((agent_id, org_id, call_date, login_time))


def person(agent_id="A1", first="Ravi", last="Sharma", office="Pune", org_id="O1") -> str:
    return ",".join((agent_id, first, last, office, org_id))


def is_callers_setting(name: str) -> bool:
    """A variable of the caller's shell that would change what the platform does or where it posts."""
    return name.startswith("CALLOPS_") or name == WEBHOOK_ENV


def scrub_environ(environ: dict[str, str] | os._Environ) -> None:
    """Remove the caller's ``CALLOPS_*`` settings and Slack webhook from ``environ`` in place."""
    for name in [n for n in environ if is_callers_setting(n)]:
        del environ[name]


def subprocess_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """The environment of a subprocess started by a test: this process's (or ``base``), without
    the caller's ``CALLOPS_*`` settings or ``SLACK_WEBHOOK_URL``, telemetry off, plus ``extra``
    (the only way a test gives a subprocess a setting or a webhook)."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if not is_callers_setting(k)}
    env.update(DAGSTER_DISABLE_TELEMETRY="1", PYTHONUNBUFFERED="1", **extra)
    return env

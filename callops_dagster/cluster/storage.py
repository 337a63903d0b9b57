"""The instance's storage in PostgreSQL (``deploy/dagster.yaml``: ``storage: custom:``), and
``callops migrate``, which creates its tables.

``CallopsPostgresStorage`` is dagster-postgres's storage over the URL as people write it
(``DAGSTER_PG_URL=postgresql://user@host:5432/db``; ``urls.psycopg2_url`` names the driver).
With ``should_autocreate_tables: false`` (as deploy/dagster.yaml sets it) it never creates
tables: two processes creating them at once in an empty database collide (``DuplicateTable``),
so they are created once, by ``callops migrate``, before the webserver, the daemon and the
workers start; each of those refuses to start, saying so, while the tables are missing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy
import yaml
from dagster_postgres import (
    DagsterPostgresStorage,
    PostgresEventLogStorage,
    PostgresRunStorage,
    PostgresScheduleStorage,
)
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

from callops_dagster.cluster.urls import psycopg2_url, redacted
from callops_dagster.platform.dagster_internals import changed, resolve_config

log = logging.getLogger(__name__)

# The main table of each of the three storages (runs, event log, schedules).
MAIN_TABLES = ("runs", "event_logs", "jobs")
STORAGE_MODULE = __name__
STORAGE_CLASS = "CallopsPostgresStorage"


class ClusterSetupError(RuntimeError):
    """The cluster's instance cannot be used as configured (the message says why; no password)."""


class SchemaMissingError(ClusterSetupError):
    """The instance's database has no Dagster tables yet: ``callops migrate`` first."""


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """SQLAlchemy's errors (unreachable server, refused login, missing rights) as one-line
    ``ClusterSetupError``s naming the database without its password."""
    try:
        yield
    except sqlalchemy.exc.SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise ClusterSetupError(
            f"the database {redacted(url)} (DAGSTER_PG_URL): {cause[0] if cause else type(exc).__name__}"
        ) from None


def missing_tables(url: str) -> list[str]:
    """The main Dagster tables not (yet) in the database at ``url`` (a psycopg2 URL)."""
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with database_errors(url):
            present = set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return [t for t in MAIN_TABLES if t not in present]


def require_schema(url: str) -> None:
    """Raise ``SchemaMissingError`` when the database at ``url`` lacks the Dagster tables."""
    if missing := missing_tables(url):
        raise SchemaMissingError(
            f"the Dagster tables ({', '.join(missing)}) are not in {redacted(url)}: run "
            "`callops migrate` once (with this DAGSTER_HOME and DAGSTER_PG_URL) before starting "
            "the webserver, the daemon or a worker (docs/deploy.md, start order)"
        )


# Each process keeps one connection per storage open (more while threads need them) instead of
# dagster-postgres's connection per statement: a run writes ~230 events, and every new connection
# is a new PostgreSQL backend process (docs/deploy.md, "Sizing"). As the webserver already does.
POOL_RECYCLE_S = 3600
POOL_MAX_OVERFLOW = 20


# What the held-connection storage relies on in dagster-postgres (private members: the three
# storages' ``_engine``, the constructor's fields), fingerprinted as pinned (docs/dagster-internals.md).
RELIED_ON = {
    "dagster_postgres.storage:DagsterPostgresStorage.__init__": "587c0f0b1031d9cd",
    "dagster_postgres.run_storage.run_storage:PostgresRunStorage.optimize_for_webserver": "9342432a7176a234",
    "dagster_postgres.run_storage.run_storage:PostgresRunStorage.dispose": "e6cdbd55916e0d66",
    "dagster_postgres.event_log.event_log:PostgresEventLogStorage.optimize_for_webserver": "9342432a7176a234",
    "dagster_postgres.event_log.event_log:PostgresEventLogStorage.dispose": "b62871417953a280",
    "dagster_postgres.schedule_storage.schedule_storage:PostgresScheduleStorage.optimize_for_webserver": "9342432a7176a234",
    "dagster_postgres.schedule_storage.schedule_storage:PostgresScheduleStorage.dispose": "e6cdbd55916e0d66",
}


@functools.cache
def held_connections_problem() -> str | None:
    """Why the held-connection storages cannot be used with this dagster-postgres (None: they
    can). Checked once per process; when they cannot, one WARNING says so and the instance
    uses dagster-postgres's own storage (a connection per statement)."""
    if not (problems := changed(RELIED_ON)):
        return None
    problem = (
        "callops' held PostgreSQL connections (callops_dagster/cluster/storage.py) are off: "
        f"dagster-postgres differs from the pinned one in {'; '.join(problems)}. The instance "
        "uses DagsterPostgresStorage as it is; see docs/dagster-internals.md"
    )
    log.warning(problem)
    return problem


class _ClosesHeldConnections:
    """A dagster-postgres storage whose ``dispose`` also closes the connections its pool holds
    (theirs leaves them to the garbage collector: a Celery worker opening an instance per run
    would pile up PostgreSQL backends until it ran)."""

    def dispose(self) -> None:
        super().dispose()  # type: ignore[misc]
        self._engine.dispose()  # type: ignore[attr-defined]


class _HeldRunStorage(_ClosesHeldConnections, PostgresRunStorage):
    pass


class _HeldEventLogStorage(_ClosesHeldConnections, PostgresEventLogStorage):
    pass


class _HeldScheduleStorage(_ClosesHeldConnections, PostgresScheduleStorage):
    pass


class CallopsPostgresStorage(DagsterPostgresStorage):
    """``DagsterPostgresStorage`` over ``postgresql://`` / ``postgres://`` URLs (the psycopg2
    driver named for SQLAlchemy), refusing an empty database when it may not create tables,
    and holding its connections open (a pool per storage) rather than one per statement."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: Any = None,
        token_provider: Any = None,
    ) -> None:
        # DagsterPostgresStorage's constructor, with storages that close their held connections
        # when the instance is disposed (dagster-celery opens an instance per run).
        self.postgres_url = postgres_url
        self.should_autocreate_tables = should_autocreate_tables
        self._inst_data = inst_data
        self._run_storage = _HeldRunStorage(postgres_url, should_autocreate_tables, token_provider=token_provider)
        self._event_log_storage = _HeldEventLogStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )
        self._schedule_storage = _HeldScheduleStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )
        super(DagsterPostgresStorage, self).__init__()  # what DagsterPostgresStorage's constructor ends with
        # Dagster's own pooled set-up of the three storages (what dagster-webserver calls);
        # statement_timeout 0 is PostgreSQL's "no limit", the server's default.
        for storage in (self._run_storage, self._event_log_storage, self._schedule_storage):
            storage.optimize_for_webserver(
                statement_timeout=0, pool_recycle=POOL_RECYCLE_S, max_overflow=POOL_MAX_OVERFLOW
            )

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, Any]) -> DagsterPostgresStorage:
        url = psycopg2_url(pg_url_from_config(config_value))
        create = config_value.get("should_autocreate_tables", True)
        if not create:
            require_schema(url)
        stock_if_changed = DagsterPostgresStorage if held_connections_problem() else cls
        return stock_if_changed(
            inst_data=inst_data,
            postgres_url=url,
            should_autocreate_tables=create,
            token_provider=get_token_provider_from_config(config_value),
        )


def instance_yaml(home: Path) -> Mapping[str, Any]:
    """``home/dagster.yaml`` as written (empty when there is none, as Dagster reads it)."""
    path = home / "dagster.yaml"
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}


def uses_this_storage(home: Path) -> bool:
    """Whether ``home/dagster.yaml`` keeps the instance through ``CallopsPostgresStorage``."""
    config = instance_yaml(home)
    custom = (config.get("storage") or {}).get("custom") or {}
    return (custom.get("module"), custom.get("class")) == (STORAGE_MODULE, STORAGE_CLASS)


def storage_config(home: Path) -> Mapping[str, Any]:
    """The config of ``CallopsPostgresStorage`` in ``home/dagster.yaml``, environment resolved."""
    if not uses_this_storage(home):
        raise ClusterSetupError(
            f"{home / 'dagster.yaml'} does not keep the instance in PostgreSQL through "
            f"{STORAGE_MODULE}.{STORAGE_CLASS} (copy deploy/dagster.yaml there)"
        )
    raw = instance_yaml(home)["storage"]["custom"].get("config") or {}
    value, error = resolve_config(CallopsPostgresStorage.config_type(), raw)
    if error is not None:
        raise ClusterSetupError(f"the storage config in {home / 'dagster.yaml'} is not valid: "
                                f"{_config_problem(error)}")
    return value


def _config_problem(message: str) -> str:
    """One line of a Dagster config error: an unset variable's, else the first."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    unset = [line for line in lines if "environment variable" in line]
    return (unset or lines or ["(no detail)"])[0]


def check_schema(home: Path) -> None:
    """Raise ``SchemaMissingError`` when ``home``'s instance is in PostgreSQL through this
    storage and its tables are missing (what a worker checks before it starts)."""
    if uses_this_storage(home):
        require_schema(psycopg2_url(pg_url_from_config(storage_config(home))))


def migrate(home: Path, echo: Callable[[str], None]) -> str:
    """Create the Dagster tables in the instance's database when they are missing, then bring
    them to this Dagster's schema (``dagster instance migrate``); returns the URL (redacted)."""
    config = storage_config(home)
    url = psycopg2_url(pg_url_from_config(config))
    if missing := missing_tables(url):
        echo(f"Creating the Dagster tables in {redacted(url)} (missing: {', '.join(missing)})")
        with database_errors(url):
            # NullPool engines: nothing stays open once the tables are made.
            DagsterPostgresStorage(url, should_autocreate_tables=True,
                                   token_provider=get_token_provider_from_config(config))
    with database_errors(url), dg.DagsterInstance.get() as instance:
        instance.upgrade(echo)
    return redacted(url)

"""The instance in PostgreSQL (deploy/dagster.yaml), on the machine's server: a database of its
own, given as the ordinary ``postgresql://`` URL; ``callops migrate`` first (a worker refuses
before it); a day run by one process (``callops run``) is seen, with its check results, by
another process's instance (this one's).
"""

from __future__ import annotations

import subprocess

import dagster as dg
import pytest
import sqlalchemy

from benchmarks.cluster_processes import CALLOPS, instance_home, scratch_database
from callops_dagster.cluster.launcher import CallopsCeleryRunLauncher
from callops_dagster.cluster.urls import psycopg2_url
from callops_dagster.platform.jobs import DAY_TAG
from callops_dagster.weekly.assets import WEEK_TAG
from callops_dagster_tests.conftest import CHECKS_PER_DAY, GOLDEN_DAY, GOLDEN_FIXTURE, reports_dir
from callops_dagster_tests.helpers import subprocess_env

pytestmark = pytest.mark.slow
LANDED = GOLDEN_FIXTURE / "landing" / GOLDEN_DAY


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    """A scratch database and a DAGSTER_HOME using it; the environment of its processes."""
    root = tmp_path_factory.mktemp("pg")
    with scratch_database() as url:
        # The data is a local folder (one server): deploy/dagster.yaml without its S3 compute logs,
        # as docs/deploy.md says for that case.
        home = instance_home(root / "dagster_home", local_compute_logs=True)
        env = subprocess_env(DAGSTER_HOME=str(home), DAGSTER_PG_URL=url, CALLOPS_DATA_DIR=str(root / "data"),
                             CALLOPS_DURATION_UNIT="seconds")  # the golden day's unit
        yield {"root": root, "url": url, "home": home, "env": env}


def callops(pg: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CALLOPS), *args], env=pg["env"], cwd=pg["root"], capture_output=True, text=True,
                          timeout=300)


def tables(url: str) -> set[str]:
    engine = sqlalchemy.create_engine(psycopg2_url(url), poolclass=sqlalchemy.pool.NullPool)
    try:
        return set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def refused(pg) -> subprocess.CompletedProcess:
    """`callops worker` against the empty database, before `callops migrate`."""
    return callops(pg, "worker", "--name", "never-started")


@pytest.fixture(scope="module")
def migrated(pg, refused) -> subprocess.CompletedProcess:
    return callops(pg, "migrate")


@pytest.fixture(scope="module")
def day_run(pg, migrated) -> subprocess.CompletedProcess:
    """The golden day run by `callops run` (one process) into the PostgreSQL instance."""
    files = [LANDED / name for name in ("call_logs.csv", "agent_roster.csv", "disposition_summary.csv")]
    return callops(pg, "run", *map(str, files), "--date", GOLDEN_DAY)


@pytest.fixture(scope="module")
def instance(pg, day_run):
    """This process's own instance over the same home and database (a second process's view)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_PG_URL", pg["url"])
        with dg.DagsterInstance.from_config(str(pg["home"])) as inst:
            yield inst


def test_a_worker_refuses_to_start_before_migrate_and_says_why(refused, pg):
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "callops migrate" in refused.stderr and "runs" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_migrate_creates_the_tables_from_an_ordinary_postgresql_url(migrated, pg):
    assert pg["url"].startswith("postgresql://")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert {"runs", "event_logs", "jobs", "asset_check_executions", "alembic_version"} <= tables(pg["url"])
    again = callops(pg, "migrate")  # and again: nothing to do, nothing broken
    assert again.returncode == 0, again.stderr


def test_callops_run_writes_the_golden_reports(day_run, pg):
    assert day_run.returncode == 0, day_run.stdout + day_run.stderr
    written = reports_dir(pg["root"] / "data", GOLDEN_DAY) / "agent_performance_summary.csv"
    assert written.read_bytes() == (GOLDEN_FIXTURE / "expected_agent_performance_summary.csv").read_bytes()


def test_another_process_sees_the_run_its_materialisations_and_check_results(instance):
    runs = instance.get_runs(filters=dg.RunsFilter(job_name="callops_daily", tags={"dagster/partition": GOLDEN_DAY}))
    assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS]
    summary = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("agent_performance_summary"), asset_partitions=[GOLDEN_DAY]), limit=5
    ).records
    assert len(summary) == 1 and summary[0].run_id == runs[0].run_id
    checks = instance.get_records_for_run(runs[0].run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    assert len(checks) == CHECKS_PER_DAY
    assert instance.get_latest_materialization_event(dg.AssetKey("slack_summary")) is not None


def test_the_instance_is_the_cluster_one(instance):
    assert type(instance.run_launcher) is CallopsCeleryRunLauncher
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
    assert instance.run_monitoring_enabled and instance.run_monitoring_max_resume_run_attempts == 0
    assert instance.get_settings("telemetry") == {"enabled": False}
    limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    assert limits == [{"key": tag, "value": {"applyLimitPerUniqueValue": True}, "limit": 1} for tag in (DAY_TAG, WEEK_TAG)]


def backends(url: str) -> int:
    """Connections open to the database at ``url``, from another connection's view."""
    engine = sqlalchemy.create_engine(psycopg2_url(url), poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sqlalchemy.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )).scalar_one()
    finally:
        engine.dispose()


def test_a_run_process_writes_its_events_over_one_held_connection(instance, pg):
    """Fifty events written as a run writes them leave one connection open for the event log
    (reused each time), not fifty connected and closed (each a new PostgreSQL backend)."""
    before = backends(pg["url"])
    opened = []
    storage = instance.event_log_storage
    sqlalchemy.event.listen(storage._engine, "connect", lambda *args: opened.append(1))
    for n in range(50):
        instance.report_engine_event(f"probe {n}", job_name="callops_daily", run_id="pool-probe")
    assert len(opened) <= 1
    assert backends(pg["url"]) <= before + 1


def test_an_instance_opened_and_closed_leaves_no_connection_open(instance, pg):
    """A Celery worker opens an instance for each run: each one closes its held connections when
    it is disposed, so the database's backends do not pile up run after run."""
    before = backends(pg["url"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_PG_URL", pg["url"])
        for n in range(4):
            with dg.DagsterInstance.from_config(str(pg["home"])) as inst:
                inst.report_engine_event(f"run {n}", job_name="callops_daily", run_id="dispose-probe")
                inst.get_runs(limit=1)
            assert backends(pg["url"]) <= before, n

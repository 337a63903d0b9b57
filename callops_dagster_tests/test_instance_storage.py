"""The laptop instance callops makes (platform/home.INSTANCE_YAML): Dagster's SQLite storage
with the event log writing over kept connections (layer 2, on real SQLite files)."""

from __future__ import annotations

import uuid
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy

from callops_dagster.platform import instance as storage
from callops_dagster.platform.home import INSTANCE_YAML
from callops_dagster_tests.conftest import GOLDEN_DAY, copy_golden, materialize_day

TELEMETRY_ONLY = "telemetry:\n  enabled: false\n"
EARLIER = str(uuid.uuid4())


def messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [e.dagster_event.message for e in instance.all_logs(run_id) if e.dagster_event]


def open_instance(home: Path, yaml: str, monkeypatch) -> dg.DagsterInstance:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml, encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return dg.DagsterInstance.from_config(str(home))


def test_a_day_runs_on_the_project_instance_and_its_history_is_dagsters(tmp_path, monkeypatch):
    """A whole day materialised into the instance; its events, materialisations and check
    results read back by a second instance over the same folder (another process's view)."""
    data_dir = copy_golden(tmp_path / "data")
    with open_instance(tmp_path / "home", INSTANCE_YAML, monkeypatch) as instance:
        assert isinstance(instance.event_log_storage, storage.KeptConnectionsSqliteEventLogStorage)
        result = materialize_day(data_dir, GOLDEN_DAY, instance, CALLOPS_DURATION_UNIT="seconds")
        assert result.success
        run_id = result.run_id
    with open_instance(tmp_path / "home", INSTANCE_YAML, monkeypatch) as reader:
        events = reader.all_logs(run_id)
        assert any(e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RUN_SUCCESS for e in events)
        summary = reader.get_latest_materialization_event(dg.AssetKey("agent_performance_summary"))
        assert summary is not None and summary.run_id == run_id
        check = reader.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("agent_day"), "nothing_lost")]
        )
        assert check[dg.AssetCheckKey(dg.AssetKey("agent_day"), "nothing_lost")].run_id == run_id


def test_it_reads_the_history_of_an_instance_made_before(tmp_path, monkeypatch):
    """An instance folder made with Dagster's default storage, then given the project's: the
    same files, the earlier run's events there."""
    home = tmp_path / "home"
    with open_instance(home, TELEMETRY_ONLY, monkeypatch) as before:
        run = before.create_run_for_job(dg.GraphDefinition("g").to_job(), run_id=EARLIER)
        before.report_engine_event("written by the default storage", run)
    with open_instance(home, INSTANCE_YAML, monkeypatch) as after:
        assert "written by the default storage" in messages(after, EARLIER)
        assert after.get_run_by_id(EARLIER) is not None


def test_connections_are_kept_and_bounded(tmp_path, monkeypatch):
    """Many events of one run open its database a few times, not once each; runs beyond KEPT_ENGINES close the oldest
    engines (a webserver reading many runs keeps a bounded number of files open)."""
    with open_instance(tmp_path / "home", INSTANCE_YAML, monkeypatch) as instance:
        events = instance.event_log_storage
        opened: list[str] = []

        def count(engine_url: str):
            return lambda *args: opened.append(engine_url)

        original = events._engine

        def watched(shard: str):
            engine = original(shard)
            if not getattr(engine, "_callops_watched", False):
                sqlalchemy.event.listen(engine, "connect", count(shard))
                engine._callops_watched = True
            return engine

        monkeypatch.setattr(events, "_engine", watched)
        for n in range(40):
            instance.report_engine_event(f"probe {n}", job_name="callops_daily", run_id="one-run")
        assert opened.count("one-run") <= 3  # creating the database takes two, then one is kept
        for n in range(storage.KEPT_ENGINES + 5):
            instance.report_engine_event("probe", job_name="callops_daily", run_id=f"run-{n}")
        assert len(events._engines) <= storage.KEPT_ENGINES


def test_a_new_runs_database_is_written_in_wal_mode_without_waiting_for_the_disk(tmp_path, monkeypatch):
    """The run's database is created by the first write (in WAL mode, as Dagster makes it); the
    kept connection it is then written over commits with synchronous=NORMAL (1)."""
    run_id = str(uuid.uuid4())
    with open_instance(tmp_path / "home", INSTANCE_YAML, monkeypatch) as instance:
        instance.report_engine_event("first", job_name="callops_daily", run_id=run_id)
        with instance.event_log_storage._engine(run_id).connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1


def test_a_wiped_instance_writes_to_new_files(tmp_path, monkeypatch):
    """wipe() deletes the runs' database files: the kept engines go with them, so a run's
    events after the wipe land in its new file (not in a deleted one)."""
    with open_instance(tmp_path / "home", INSTANCE_YAML, monkeypatch) as instance:
        instance.report_engine_event("before", job_name="callops_daily", run_id="wiped-run")
        instance.wipe()
        instance.report_engine_event("after", job_name="callops_daily", run_id="wiped-run")
    with open_instance(tmp_path / "home", INSTANCE_YAML, monkeypatch) as reader:
        assert messages(reader, "wiped-run") == ["after"]


@pytest.fixture(autouse=True)
def _no_stray_dagster_home(monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


def test_a_run_is_followed_live_by_another_process_view(tmp_path, monkeypatch):
    """The UI follows a run through the event log's watch: a second instance over the same
    folder (the webserver's), having read the run first as the UI does, is told of each event
    while the writer (the run) still holds its connection, not only when it closes."""
    import threading
    import time

    run_id = str(uuid.uuid4())
    with open_instance(tmp_path / "home", INSTANCE_YAML, monkeypatch) as writer, \
            open_instance(tmp_path / "home", INSTANCE_YAML, monkeypatch) as webserver:
        writer.report_engine_event("first", job_name="callops_daily", run_id=run_id)
        assert messages(webserver, run_id) == ["first"]
        seen: list[str] = []
        arrived = threading.Event()

        def follow(entry, cursor):
            seen.append(entry.dagster_event.message)
            if len(seen) >= 5:
                arrived.set()

        records = webserver.event_log_storage.get_records_for_run(run_id)
        webserver.event_log_storage.watch(run_id, records.cursor, follow)
        try:
            for n in range(5):
                writer.report_engine_event(f"event {n}", job_name="callops_daily", run_id=run_id)
                time.sleep(0.05)
            assert arrived.wait(10), seen
        finally:
            webserver.event_log_storage.end_watch(run_id, follow)
        assert seen[:5] == [f"event {n}" for n in range(5)]


def test_the_event_log_can_be_made_on_a_new_folder(tmp_path):
    """The kept-connection event log alone on an empty folder (its constructor writes the index)."""
    events = storage.KeptConnectionsSqliteEventLogStorage(str(tmp_path / "runs"))
    try:
        assert (tmp_path / "runs" / "index.db").is_file()
    finally:
        events.dispose()

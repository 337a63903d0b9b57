"""The guards of the private Dagster names callops still uses (docs/dagster-internals.md).

Each test here fails the day Dagster changes a piece callops relies on: an upgrade then shows
what to review before its fingerprint is recorded again. The fallbacks are tested too: with a
piece "changed" (simulated), the laptop instance is Dagster's stock SQLite storage, says so in
one WARNING, and works.
"""

from __future__ import annotations

import ast
import logging
import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.asset_checks.asset_check_factories import utils as check_factory_utils
from dagster._core.storage import tags as dagster_tags
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from callops_dagster.cluster import sensors as relaunch_sensor
from callops_dagster.cluster import storage as cluster_storage
from callops_dagster.delivery import blocks, sensors as delivery_sensors
from callops_dagster.platform import dagster_internals, instance as laptop
from callops_dagster.platform.home import INSTANCE_YAML
from callops_dagster import runner

PACKAGE = Path(laptop.__file__).resolve().parents[1]
# The only modules of callops_dagster that may import a private Dagster module (``dagster._*``).
GUARD_MODULES = {"platform/dagster_internals.py", "platform/instance.py"}


def refresh_hint(expected: dict[str, str]) -> str:
    """What to paste once the changes are reviewed: the fingerprints as they are now."""
    lines = []
    for name in expected:
        try:
            lines.append(f'    "{name}": "{dagster_internals.fingerprint(dagster_internals.resolve(name))}",')
        except Exception as exc:  # gone: the code relying on it must change first
            lines.append(f"    {name}: {type(exc).__name__}")
    return "\n".join(lines)


def test_the_pinned_dagster_is_the_one_the_fingerprints_were_taken_from():
    assert dg.__version__ == dagster_internals.PINNED_DAGSTER


@pytest.mark.parametrize(
    "expected",
    [laptop.RELIED_ON, dagster_internals.PLAN_AND_CONFIG, cluster_storage.RELIED_ON],
    ids=["laptop-storage", "plan-and-config", "postgres-storage"],
)
def test_every_piece_of_dagster_relied_on_is_as_pinned(expected):
    problems = dagster_internals.changed(expected)
    assert not problems, (
        "Dagster changed code callops relies on (docs/dagster-internals.md). Review the module "
        "using it, then record the new fingerprints:\n" + "\n".join(problems) + "\n" + refresh_hint(expected)
    )


def test_a_changed_fingerprint_is_caught():
    """The guard itself: one character of difference is a change, a gone name is said to be gone."""
    name = next(iter(laptop.RELIED_ON))
    assert dagster_internals.changed({name: "0" * 16}) == [
        f"{name}: changed (fingerprint {laptop.RELIED_ON[name]}, expected {'0' * 16})"
    ]
    assert "gone" in dagster_internals.changed({"dagster._core.nowhere:Nothing": "0" * 16})[0]


def test_the_tag_and_metadata_names_written_as_literals_are_dagsters():
    assert relaunch_sensor.PARTITION_TAG == dagster_tags.PARTITION_NAME_TAG
    assert relaunch_sensor.BACKFILL_ID_TAG == dagster_tags.BACKFILL_ID_TAG
    assert relaunch_sensor.WILL_RETRY_TAG == dagster_tags.WILL_RETRY_TAG
    assert delivery_sensors.PARTITION_TAG == runner.PARTITION_TAG == dagster_tags.PARTITION_NAME_TAG
    assert blocks.FRESHNESS_TICK == check_factory_utils.LATEST_CRON_TICK_METADATA_KEY
    assert blocks.FRESHNESS_PARAMS == check_factory_utils.FRESHNESS_PARAMS_METADATA_KEY
    assert blocks.FRESHNESS_LAST_UPDATED == check_factory_utils.LAST_UPDATED_TIMESTAMP_METADATA_KEY


def private_dagster_imports(path: Path) -> list[str]:
    """The ``dagster._*`` modules ``path`` imports (anywhere in it, lazily or not)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        )
        found += [n for n in names if n.startswith("dagster._")]
    return found


def test_only_the_guard_modules_import_private_dagster_modules():
    importers = {
        str(path.relative_to(PACKAGE)): imports
        for path in sorted(PACKAGE.rglob("*.py"))
        if (imports := private_dagster_imports(path))
    }
    assert set(importers) == GUARD_MODULES, importers


# The fallbacks, at run time.


@pytest.fixture
def changed_connect(monkeypatch):
    """Dagster's ``_connect`` as if an upgrade had changed it (its fingerprint no longer matches)."""
    name = f"{laptop._SQLITE}:SqliteEventLogStorage._connect"
    monkeypatch.setitem(laptop.RELIED_ON, name, "0" * 16)
    laptop.kept_connections_problem.cache_clear()
    yield name
    laptop.kept_connections_problem.cache_clear()


def open_instance(home: Path, monkeypatch) -> dg.DagsterInstance:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(INSTANCE_YAML, encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return dg.DagsterInstance.from_config(str(home))


def test_the_laptop_instance_uses_the_kept_connections_when_dagster_is_as_pinned(tmp_path, monkeypatch, caplog):
    laptop.kept_connections_problem.cache_clear()
    with caplog.at_level(logging.WARNING), open_instance(tmp_path / "home", monkeypatch) as instance:
        assert type(instance.event_log_storage) is laptop.KeptConnectionsSqliteEventLogStorage
    assert not [r for r in caplog.records if r.name == laptop.__name__]


def test_a_changed_dagster_gives_the_stock_storage_with_one_warning_and_a_working_instance(
    tmp_path, monkeypatch, caplog, changed_connect
):
    run_id = str(uuid.uuid4())
    with caplog.at_level(logging.WARNING):
        with open_instance(tmp_path / "home", monkeypatch) as instance:
            assert type(instance.event_log_storage) is SqliteEventLogStorage
            instance.report_engine_event("written by the stock storage", job_name="callops_daily", run_id=run_id)
        with open_instance(tmp_path / "home", monkeypatch) as again:  # a second instance in the process
            assert type(again.event_log_storage) is SqliteEventLogStorage
            assert [e.dagster_event.message for e in again.all_logs(run_id)] == ["written by the stock storage"]
    warnings = [r for r in caplog.records if r.name == laptop.__name__]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert changed_connect in warnings[0].getMessage() and "stock SQLite storage" in warnings[0].getMessage()


def test_a_postgres_storage_change_falls_back_to_dagster_postgres_as_it_is(monkeypatch, caplog):
    """The cluster's storage: with a piece of dagster-postgres changed, ``from_config_value``
    returns dagster-postgres's own storage class (checked without a database: the constructor
    is replaced), after one WARNING."""
    from dagster_postgres import DagsterPostgresStorage

    name = next(iter(cluster_storage.RELIED_ON))
    monkeypatch.setitem(cluster_storage.RELIED_ON, name, "0" * 16)
    cluster_storage.held_connections_problem.cache_clear()
    made: list[type] = []
    monkeypatch.setattr(DagsterPostgresStorage, "__init__", lambda self, **kwargs: made.append(type(self)))
    monkeypatch.setattr(cluster_storage.CallopsPostgresStorage, "__init__", lambda self, **kwargs: made.append(type(self)))
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(2):
                cluster_storage.CallopsPostgresStorage.from_config_value(
                    None, {"postgres_url": "postgresql://u@127.0.0.1:5432/db", "should_autocreate_tables": True}
                )
    finally:
        cluster_storage.held_connections_problem.cache_clear()
    assert made == [DagsterPostgresStorage, DagsterPostgresStorage]
    assert len([r for r in caplog.records if r.name == cluster_storage.__name__]) == 1


def test_readers_in_run_is_none_outside_a_run_and_raises_when_the_plan_cannot_be_read(monkeypatch):
    assert dagster_internals.readers_in_run(dg.build_output_context(step_key="s", name="result")) is None

    class Context:
        step_key, name = "s", "result"

        @property
        def step_context(self):
            class Plan:
                def get_steps_to_execute_in_topo_order(self):
                    raise AttributeError("renamed")

            return type("StepContext", (), {"execution_plan": Plan()})()

    with pytest.raises(dagster_internals.PlanUnreadable, match="renamed"):
        dagster_internals.readers_in_run(Context())  # type: ignore[arg-type]

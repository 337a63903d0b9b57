"""Shared fixtures and helpers for the Dagster-level tests.

Every Dagster instance made here has telemetry off, and no test touches the network.
Helpers are plain functions (``from callops_dagster_tests.conftest import materialize_day``)
so tests can call them with their own data directories; fixtures wrap the common cases.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from callops_dagster_tests.helpers import (
    CALL_HEADER as CALL_LINE,
    DISPOSITION_HEADER as DISPOSITION_LINE,
    ROSTER_HEADER as ROSTER_LINE,
    is_callers_setting,
    scrub_environ,
    subprocess_env,
)

# Before the definitions load: the caller's CALLOPS_* settings and Slack webhook never reach
# a test (the autouse fixture below keeps it so for anything set later).
scrub_environ(os.environ)

from callops_dagster.definitions import defs  # noqa: E402
from callops_dagster.platform.home import INSTANCE_YAML
from callops_dagster.platform.resources import CallopsConfig, WarehouseIOManager
from callops_dagster.ingest.resources import IO_MANAGER_KEY as LANDING_IO_MANAGER, LandingIOManager
from callops_dagster.ingest.resources import SPEC_OF_ASSET as SPEC_OF_RAW_ASSET
from callops_dagster.delivery.resources import SlackResource

TESTS_DIR = Path(__file__).parent
GOLDEN_FIXTURE = TESTS_DIR / "fixtures" / "golden-2025-04-28"
GOLDEN_DAY = "2025-04-28"
REPORT_FILES = (
    "agent_performance_summary.csv", "slack_message.txt", "rejected_rows.csv",
    "agent_compliance.csv", "loan_contact_frequency.csv", "agent_summary.png",
)
# Written after the reports, listing each with its sha256 and size (report/manifest.py); it
# carries the time the set was first written, so byte comparisons across runs leave it out.
MANIFEST_FILE = "manifest.json"
PUBLISHED_FILES = (*REPORT_FILES, MANIFEST_FILE)
TELEMETRY_OFF = {"telemetry": {"enabled": False}}

# Every daily asset of the code location, as definitions.py hands them to dg.Definitions (a
# day's run); the weekly report has its own partitions and job (test_weekly.py).
ALL_ASSETS = [a for a in defs.assets if "weekly" not in a.group_names_by_key.values()]

CALL_HEADER = CALL_LINE.split(",")
ROSTER_HEADER = ROSTER_LINE.split(",")
DISPOSITION_HEADER = DISPOSITION_LINE.split(",")

# Tests in these modules start whole processes (the dagster or callops CLI, a live daemon,
# the benchmark) or run whole random days, or materialise whole days in Dagster (layer 2: a few
# seconds a test, most of them through module-scoped runs): `make test-fast` leaves them out.
SLOW_MODULES = {
    # whole processes, random whole days
    "test_hardening.py",
    "test_live_sensor.py",
    "test_callops_cli.py",
    "test_cli.py",
    "test_slack_cli.py",
    "test_properties.py",
    "test_corrections.py",
    # dg.materialize of whole days
    "test_alerts.py",
    "test_assignment.py",
    "test_catalog.py",
    "test_checks.py",
    "test_compliance_assets.py",
    "test_freshness.py",
    "test_golden.py",
    "test_hostile_text.py",
    "test_landing_io.py",
    "test_landing_sensor.py",
    "test_late_rows.py",
    "test_slack_delivery.py",
    "test_trend_check.py",
    "test_no_metadata_reads.py",
    "test_weekly.py",
}


# The longest modules (minutes of whole processes each), started first: `make test` hands whole
# files to its xdist workers in collection order (`--no-loadscope-reorder`: xdist would otherwise
# hand out the files with the most tests first), and one of these started last is the tail.
LONGEST_FIRST = (
    "test_cluster.py",
    "test_browser.py",
    "test_graphql.py",
    "test_live_automation.py",
    "test_callops_cli.py",
    "test_corrections.py",
    "test_hardening.py",
    "test_slack_cli.py",
    "test_postgres_instance.py",
    "test_object_storage.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The UI package is marked ``ui``; the modules above ``slow`` (others mark single tests);
    the ``LONGEST_FIRST`` modules run first, in that order (the rest keep theirs)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(Path(str(item.path)).name, len(rank)))
    for item in items:
        path = Path(str(item.path))
        if "ui" in path.relative_to(TESTS_DIR).parts[:-1]:
            item.add_marker(pytest.mark.ui)
        if path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def no_callers_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees a CALLOPS_* setting or SLACK_WEBHOOK_URL it did not set itself."""
    for name in [n for n in os.environ if is_callers_setting(n)]:
        monkeypatch.delenv(name)


# ---------------------------------------------------------------- instance and data dirs


def ephemeral_instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.ephemeral(settings=TELEMETRY_OFF)


@pytest.fixture
def instance() -> dg.DagsterInstance:
    """An in-memory Dagster instance with telemetry off."""
    inst = ephemeral_instance()
    yield inst
    inst.dispose()


def copy_golden(data_dir: Path) -> Path:
    """Copy the golden fixture's landing tree into ``data_dir`` and return ``data_dir``."""
    shutil.copytree(GOLDEN_FIXTURE / "landing", Path(data_dir) / "landing")
    return Path(data_dir)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty data directory (landing/, warehouse/, reports/ appear as tests write them)."""
    return tmp_path / "data"


# Per-partition asset checks in the design: 4 per landing file, 2 per validated table,
# 2 more on call_logs (call_id_conflict, duration_unit_plausible), 2 on agent_day,
# 1 on rejected_rows (late_rows), 5 on the summary (4 rules + trend), 2 on agent_compliance
# and 2 on loan_contact_frequency: 12 + 6 + 2 + 2 + 1 + 5 + 4 = 32.
CHECKS_PER_DAY = 32


@pytest.fixture
def golden_dir(tmp_path: Path) -> Path:
    """A data dir holding a copy of the golden day's landing files (and nothing else)."""
    return copy_golden(tmp_path / "data")


# ---------------------------------------------------------------- running the assets


def resources_for(data_dir: Path, slack: SlackResource | None = None, **config_overrides: Any) -> dict[str, Any]:
    """The code location's resources over ``data_dir``; Slack in dry-run unless given."""
    return {
        "callops": CallopsConfig(data_dir=str(data_dir), **config_overrides),
        "io_manager": WarehouseIOManager(data_dir=str(data_dir)),
        LANDING_IO_MANAGER: LandingIOManager(data_dir=str(data_dir)),
        "slack": slack or SlackResource(),
    }


def materialize_day(
    data_dir: Path,
    day: str,
    instance: dg.DagsterInstance,
    selection: str | Sequence[str] | None = None,
    slack: SlackResource | None = None,
    tags: dict[str, str] | None = None,
    **config_overrides: Any,
) -> dg.ExecuteInProcessResult:
    """Materialise every asset (and its inline checks) of ``day``; never raises on failure."""
    return dg.materialize(
        ALL_ASSETS,
        partition_key=day,
        resources=resources_for(data_dir, slack, **config_overrides),
        instance=instance,
        selection=selection,
        raise_on_error=False,
        tags=tags,
    )


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    """Asset keys (as strings) materialised by the run."""
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def asset_metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    """Metadata values of ``asset``'s materialisation in this run."""
    for event in result.get_asset_materialization_events():
        if event.asset_key.to_user_string() == asset:
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise AssertionError(f"{asset} was not materialised; got {sorted(materialized(result))}")


def check_evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], Any]:
    """``(asset, check_name) -> AssetCheckEvaluation`` for every check evaluated in the run."""
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


def check_eval(result: dg.ExecuteInProcessResult, asset: str, check: str):
    evals = check_evaluations(result)
    assert (asset, check) in evals, f"{asset}:{check} not evaluated; got {sorted(evals)}"
    return evals[(asset, check)]


# A test day runs alone, so the six days before it in its seven-day contact window never landed
# and this WARN fails on every such run; the tests of the window assert it themselves
# (test_compliance_assets.py), the others leave it out of their exact lists.
LONE_DAY_WINDOW = ("loan_contact_frequency", "contact_window_complete")


def failed_checks(
    result: dg.ExecuteInProcessResult, include_window: bool = False
) -> dict[tuple[str, str], dg.AssetCheckSeverity]:
    """The failing checks of the run and their severities (without the contact-window WARN of a
    lone day unless ``include_window``)."""
    return {
        k: e.severity
        for k, e in check_evaluations(result).items()
        if not e.passed and (include_window or k != LONE_DAY_WINDOW)
    }


def step_failure_messages(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """``step key -> text`` of each failed step (error message plus Failure description)."""
    out = {}
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        parts = [data.error.message if data.error else ""]
        if data.user_failure_data is not None:
            parts.append(data.user_failure_data.description or "")
        out[event.step_key] = "\n".join(parts)
    return out


# ---------------------------------------------------------------- files


def reports_dir(data_dir: Path, day: str) -> Path:
    return Path(data_dir) / "reports" / day


def warehouse_file(data_dir: Path, asset: str, day: str) -> Path:
    """Where the IO manager stores ``asset``'s partition: a table's Parquet file, or for a landing
    asset the reference to its landing file (ingest/resources.py)."""
    extension = ".json" if asset in SPEC_OF_RAW_ASSET else ".parquet"
    return Path(data_dir) / "warehouse" / asset / f"{day}{extension}"


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def landing(data_dir: Path, day: str) -> Path:
    return Path(data_dir) / "landing" / day


def write_day(
    data_dir: Path,
    day: str,
    *,
    calls: Iterable[Sequence[str]] | None = None,
    roster: Iterable[Sequence[str]] | None = None,
    dispositions: Iterable[Sequence[str]] | None = None,
) -> Path:
    """Write a tiny landing day; ``None`` writes the clean default for that file."""
    folder = landing(data_dir, day)
    write_csv(folder / "call_logs.csv", CALL_HEADER, clean_calls(day) if calls is None else calls)
    write_csv(folder / "agent_roster.csv", ROSTER_HEADER, CLEAN_ROSTER if roster is None else roster)
    write_csv(
        folder / "disposition_summary.csv",
        DISPOSITION_HEADER,
        clean_dispositions(day) if dispositions is None else dispositions,
    )
    return folder


CLEAN_ROSTER = [
    ["A1", "Asha", "Rao", "Pune", "ORG1"],
    ["A2", "Ben", "D'Souza", "Mumbai, MH", "ORG1"],
    ["A1", "Chen", "Li", "Chennai", "ORG2"],  # same agent_id in another org: another person
]


def clean_calls(day: str) -> list[list[str]]:
    """Eight clean calls: A1/ORG1 5 calls (3 completed), A2/ORG1 2, A1/ORG2 1."""
    ts = f"{day} 10:00:0"
    return [
        ["C1", "A1", "ORG1", "L1", "completed", "60", ts + "1", day],
        ["C2", "A1", "ORG1", "L2", "failed", "0", ts + "2", day],
        ["C3", "A1", "ORG1", "L1", "completed", "120", ts + "3", day],
        ["C4", "A1", "ORG1", "L3", "completed", "30", ts + "4", day],
        ["C5", "A1", "ORG1", "L4", "busy", "90", ts + "5", day],
        ["C6", "A2", "ORG1", "L5", "completed", "45", ts + "6", day],
        ["C7", "A2", "ORG1", "L6", "no_answer", "15", ts + "7", day],
        ["C8", "A1", "ORG2", "L7", "completed", "300", ts + "8", day],
    ]


def clean_dispositions(day: str) -> list[list[str]]:
    return [
        ["A1", "ORG1", day, f"{day} 09:00:00"],
        ["A2", "ORG1", day, f"{day} 09:05:00"],
        ["A1", "ORG2", day, f"{day} 09:10:00"],
    ]


def snapshot(paths: Iterable[Path]) -> dict[Path, tuple[bytes, int]]:
    """Bytes and mtime of each file, to prove files were left untouched."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


# ---------------------------------------------------------------- subprocess helpers


def dagster_day_args(day: str) -> list[str]:
    """``dagster`` CLI arguments that run one day: the daily job (``asset materialize --select
    '*'`` is refused since the code location has weekly partitions too)."""
    return ["job", "execute", "-m", "callops_dagster.definitions", "-j", "callops_daily",
            "--tags", json.dumps({"dagster/partition": day})]


def cli_env(data_dir: Path, dagster_home: Path, **extra: str) -> dict[str, str]:
    """Environment for a ``dagster`` subprocess: this data dir, a temp DAGSTER_HOME as callops
    makes one (telemetry off, the project's SQLite storage), and no inherited CALLOPS_* settings or Slack webhook (only ``extra`` ones)."""
    dagster_home = Path(dagster_home)
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(INSTANCE_YAML, encoding="utf-8")
    return subprocess_env(CALLOPS_DATA_DIR=str(data_dir), DAGSTER_HOME=str(dagster_home), **extra)

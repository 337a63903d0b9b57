"""The golden example, reproduced exactly by materialising every asset of the day.

Its durations are seconds (contract v2: ``CALLOPS_DURATION_UNIT=seconds``); run under the
default unit (minutes), its ``duration_unit_plausible`` check warns.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from callops_dagster_tests.conftest import (
    ALL_ASSETS,
    SPEC_OF_RAW_ASSET,
    GOLDEN_DAY,
    GOLDEN_FIXTURE,
    check_eval,
    REPORT_FILES,
    copy_golden,
    ephemeral_instance,
    materialize_day,
    materialized,
    reports_dir,
)

SECONDS = {"duration_unit": "seconds"}
ALL_ASSET_KEYS = {key.to_user_string() for a in ALL_ASSETS for key in a.keys}


def read_csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def golden_run(tmp_path_factory):
    """One run of every asset over a copy of the golden day (shared by this module)."""
    data_dir = copy_golden(tmp_path_factory.mktemp("golden") / "data")
    instance = ephemeral_instance()
    result = materialize_day(data_dir, GOLDEN_DAY, instance, **SECONDS)
    yield data_dir, instance, result
    instance.dispose()


def test_every_asset_materialises(golden_run):
    _, _, result = golden_run
    assert result.success
    assert materialized(result) == ALL_ASSET_KEYS


def test_summary_csv_is_byte_for_byte_the_expected_one(golden_run):
    data_dir, _, _ = golden_run
    written = reports_dir(data_dir, GOLDEN_DAY) / "agent_performance_summary.csv"
    expected = GOLDEN_FIXTURE / "expected_agent_performance_summary.csv"
    assert written.read_bytes() == expected.read_bytes()


def test_message_first_four_lines_are_the_expected_ones(golden_run):
    data_dir, _, _ = golden_run
    lines = (reports_dir(data_dir, GOLDEN_DAY) / "slack_message.txt").read_text(encoding="utf-8").splitlines()
    expected = (GOLDEN_FIXTURE / "expected_slack_message.txt").read_text(encoding="utf-8").splitlines()
    assert len(expected) == 4
    assert lines[:4] == expected


def test_message_fifth_line_is_data_quality(golden_run):
    data_dir, _, _ = golden_run
    lines = (reports_dir(data_dir, GOLDEN_DAY) / "slack_message.txt").read_text(encoding="utf-8").splitlines()
    assert lines[4].startswith("Data quality:")
    # 16 rejected of 96 call + 10 roster + 10 disposition records; AG9999 is not in the roster.
    assert "16 of 116 rows rejected" in lines[4]
    assert "1 call by 1 agent not in the roster" in lines[4]
    assert "carried forward" not in lines[4]
    # row 69 of call_logs.csv is a call of 2025-04-27 that arrived late in this day's file
    assert lines[4].endswith("; 1 late row for 2025-04-27")


def test_rejected_rows_are_the_expected_ones(golden_run):
    data_dir, _, _ = golden_run
    written = read_csv_rows(reports_dir(data_dir, GOLDEN_DAY) / "rejected_rows.csv")
    expected = read_csv_rows(GOLDEN_FIXTURE / "expected_rejected_rows.csv")
    assert written[0][:3] == ["source", "row_number", "reason"]
    assert [row[:3] for row in written] == expected


def files_under(data_dir: Path) -> set[Path]:
    """Every regular file the platform wrote (symlinks not followed, landing excluded)."""
    found = set()
    for root, _, names in os.walk(data_dir):
        if Path(root).relative_to(data_dir).parts[:1] != ("landing",):
            found.update(Path(root) / name for name in names)
    return found


def test_rematerialising_is_idempotent(golden_run):
    """A second run of the same partition leaves identical reports and Parquet files."""
    data_dir, instance, _ = golden_run
    reports = [reports_dir(data_dir, GOLDEN_DAY) / name for name in REPORT_FILES]
    parquet = sorted((data_dir / "warehouse").rglob("*.parquet"))
    references = sorted((data_dir / "warehouse").rglob("*.json"))
    # Tables only; a landing asset is stored as a reference to its landing file, not a copy.
    assert {p.parent.name for p in parquet} == ALL_ASSET_KEYS - {"slack_summary"} - set(SPEC_OF_RAW_ASSET)
    assert {p.parent.name for p in references} == set(SPEC_OF_RAW_ASSET)
    assert {p.stem for p in [*parquet, *references]} == {GOLDEN_DAY}
    everything = files_under(data_dir)
    before = {p: p.read_bytes() for p in [*reports, *parquet, *references]}

    again = materialize_day(data_dir, GOLDEN_DAY, instance, **SECONDS)

    assert again.success
    changed = [str(p.relative_to(data_dir)) for p in before if p.read_bytes() != before[p]]
    assert changed == []
    assert files_under(data_dir) == everything, "a re-run must replace files, not add new ones"


def test_rematerialising_does_not_duplicate_rows(golden_run):
    data_dir, instance, _ = golden_run
    materialize_day(data_dir, GOLDEN_DAY, instance, **SECONDS)
    summary = pd.read_csv(reports_dir(data_dir, GOLDEN_DAY) / "agent_performance_summary.csv", dtype=str)
    assert len(summary) == 10
    assert not summary.duplicated(["call_date", "org_id", "agent_id"]).any()
    rejected = pd.read_csv(reports_dir(data_dir, GOLDEN_DAY) / "rejected_rows.csv", dtype=str)
    assert len(rejected) == 16
    warehouse = data_dir / "warehouse"
    assert len(pd.read_parquet(warehouse / "agent_performance_summary" / f"{GOLDEN_DAY}.parquet")) == 10
    assert len(pd.read_parquet(warehouse / "rejected_rows" / f"{GOLDEN_DAY}.parquet")) == 16
    # 96 call records: 14 rejected, 82 kept (the summary's total_calls add up to 82)
    assert len(pd.read_parquet(warehouse / "call_logs" / f"{GOLDEN_DAY}.parquet")) == 82
    assert summary["total_calls"].astype(int).sum() == 82
    message = (reports_dir(data_dir, GOLDEN_DAY) / "slack_message.txt").read_text(encoding="utf-8")
    assert message.count("Agent Summary for") == 1


def test_duration_unit_is_plausible_under_seconds(golden_run):
    _, _, result = golden_run
    verdict = check_eval(result, "call_logs", "duration_unit_plausible")
    assert verdict.passed


def test_duration_unit_warns_under_the_default_minutes(tmp_path):
    """The golden durations (median 270) read as minutes: the check names the fix."""
    data_dir = copy_golden(tmp_path / "data")
    instance = ephemeral_instance()
    try:
        result = materialize_day(data_dir, GOLDEN_DAY, instance, selection=["raw_call_logs", "call_logs", "call_logs_rejected"])
    finally:
        instance.dispose()
    verdict = check_eval(result, "call_logs", "duration_unit_plausible")
    assert not verdict.passed
    assert verdict.severity == dg.AssetCheckSeverity.WARN
    assert "looks like seconds; set CALLOPS_DURATION_UNIT=seconds" in verdict.description

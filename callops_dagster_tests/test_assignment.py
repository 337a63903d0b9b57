"""The brief's own three sample files (contract v2's worked example), reproduced exactly.

Durations are decimal minutes (the default unit), created_ts ISO with a ``T``, login times
``H:MM``, and ten call_ids shared by different calls: all 500 calls are kept.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from callops_dagster_tests.conftest import (
    TESTS_DIR,
    check_eval,
    ephemeral_instance,
    failed_checks,
    materialize_day,
    reports_dir,
    warehouse_file,
)

FIXTURE = TESTS_DIR / "fixtures" / "assignment-2025-04-28"
DAY = "2025-04-28"


@pytest.fixture(scope="module")
def assignment_run(tmp_path_factory):
    """One run of every asset over a copy of the sample day, default settings."""
    data_dir = tmp_path_factory.mktemp("assignment") / "data"
    shutil.copytree(FIXTURE / "landing", data_dir / "landing")
    instance = ephemeral_instance()
    result = materialize_day(data_dir, DAY, instance)
    yield data_dir, result
    instance.dispose()


def _message(data_dir: Path) -> list[str]:
    return (reports_dir(data_dir, DAY) / "slack_message.txt").read_text(encoding="utf-8").splitlines()


def test_summary_csv_is_byte_for_byte_the_expected_one(assignment_run):
    data_dir, result = assignment_run
    assert result.success
    written = reports_dir(data_dir, DAY) / "agent_performance_summary.csv"
    assert written.read_bytes() == (FIXTURE / "expected_agent_performance_summary.csv").read_bytes()


def test_message_first_four_lines_are_the_expected_ones(assignment_run):
    data_dir, _ = assignment_run
    expected = (FIXTURE / "expected_slack_message.txt").read_text(encoding="utf-8").splitlines()
    assert _message(data_dir)[:4] == expected
    assert expected[3] == "Average Duration: 7.5 min"


def test_no_row_is_rejected(assignment_run):
    data_dir, _ = assignment_run
    with open(reports_dir(data_dir, DAY) / "rejected_rows.csv", newline="", encoding="utf-8") as handle:
        written = [row[:3] for row in csv.reader(handle)]
    with open(FIXTURE / "expected_rejected_rows.csv", newline="", encoding="utf-8") as handle:
        expected = list(csv.reader(handle))
    assert written == expected == [["source", "row_number", "reason"]]


def test_data_quality_line_names_the_shared_call_ids(assignment_run):
    data_dir, _ = assignment_run
    line = _message(data_dir)[4]
    assert line.startswith("Data quality: 0 of 540 rows rejected")
    assert line.endswith("; 10 call_ids shared by different calls (kept)")


def test_every_call_is_kept_and_parsed(assignment_run):
    import pandas as pd

    data_dir, _ = assignment_run
    calls = pd.read_parquet(warehouse_file(data_dir, "call_logs", DAY))
    assert len(calls) == 500
    assert calls["created_ts"].notna().all()
    logins = pd.read_parquet(warehouse_file(data_dir, "disposition_summary", DAY))
    assert logins["login_ts"].notna().sum() == 17  # 3 agents have an empty login_time
    assert logins["present"].sum() == 17


def test_only_the_call_id_conflict_and_compliance_checks_warn(assignment_run):
    _, result = assignment_run
    assert set(failed_checks(result, include_window=True)) == {
        ("call_logs", "call_id_conflict"),
        ("agent_compliance", "calls_within_hours"),  # 283 calls outside 08:00-19:00
        ("loan_contact_frequency", "contact_window_complete"),  # the six days before never landed
    }
    conflict = check_eval(result, "call_logs", "call_id_conflict")
    assert conflict.metadata["call_ids_shared"].value == 10
    assert "C7658" in conflict.metadata["sample"].value
    assert check_eval(result, "call_logs", "duration_unit_plausible").passed

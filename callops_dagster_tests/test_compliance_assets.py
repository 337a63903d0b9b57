"""Layer 2: the compliance assets through ``dg.materialize``, over one and several landed days.

The brief's sample day: 283 of its 500 calls are outside 08:00-19:00 and 176 come before the
agent's login. Several days: the seven-day window reads the days' loan_contacts that exist and
names the others; a loan called on three days adds up across them; a full window gives the CSV
the computation over the seven call tables gave.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil

import pandas as pd
import pytest

from callops_dagster.compliance.rules import FREQUENCY_NUMERIC
from callops_dagster.report.publish import csv_text
from callops_dagster_tests.conftest import (
    TESTS_DIR,
    asset_metadata,
    check_eval,
    ephemeral_instance,
    materialize_day,
    reports_dir,
    warehouse_file,
    write_day,
)
from callops_dagster_tests.test_compliance_rules import reference_frequency  # the computation before loan_contacts

ASSIGNMENT = TESTS_DIR / "fixtures" / "assignment-2025-04-28" / "landing"
DAY = "2025-04-28"


@pytest.fixture(scope="module")
def assignment_run(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("compliance") / "data"
    shutil.copytree(ASSIGNMENT, data_dir / "landing")
    instance = ephemeral_instance()
    result = materialize_day(data_dir, DAY, instance)
    yield data_dir, result
    instance.dispose()


def read_rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_sample_day_compliance_figures(assignment_run):
    data_dir, result = assignment_run
    assert result.success
    rows = read_rows(reports_dir(data_dir, DAY) / "agent_compliance.csv")
    summary = read_rows(reports_dir(data_dir, DAY) / "agent_performance_summary.csv")
    assert [(r["org_id"], r["agent_id"]) for r in rows] == [(r["org_id"], r["agent_id"]) for r in summary]
    assert sum(int(r["calls_outside_hours"]) for r in rows) == 283
    assert sum(int(r["calls_before_login"]) for r in rows) == 176
    assert sum(int(r["calls_unknown_time"]) for r in rows) == 0
    assert check_eval(result, "agent_compliance", "one_row_per_summary_row").passed
    outside = check_eval(result, "agent_compliance", "calls_within_hours")
    assert not outside.passed and outside.description == "283 calls outside 08:00-19:00 by 20 agents"


def test_sample_day_message_has_the_compliance_line(assignment_run):
    data_dir, _ = assignment_run
    lines = (reports_dir(data_dir, DAY) / "slack_message.txt").read_text(encoding="utf-8").splitlines()
    assert lines[4].startswith("Data quality:")
    assert lines[5] == "Compliance: 283 calls outside 08:00-19:00 (57% of calls); 0 loans over 7 attempts in 7 days"


def test_sample_day_window_names_the_six_missing_days(assignment_run):
    data_dir, result = assignment_run
    window = check_eval(result, "loan_contact_frequency", "contact_window_complete")
    assert not window.passed
    assert window.metadata["missing"].value == ", ".join(f"2025-04-{d}" for d in range(22, 28))
    rows = read_rows(reports_dir(data_dir, DAY) / "loan_contact_frequency.csv")
    calls = pd.read_parquet(warehouse_file(data_dir, "call_logs", DAY))
    loans = calls.dropna(subset=["installment_id"]).groupby(["org_id", "installment_id"]).size()
    assert len(rows) == len(loans)
    assert sum(int(r["attempts_7d"]) for r in rows) == int(loans.sum())


def test_sample_day_picture_is_published_and_shown(assignment_run):
    data_dir, result = assignment_run
    png = (reports_dir(data_dir, DAY) / "agent_summary.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) < 100_000
    assert asset_metadata(result, "slack_summary")["agent_summary"].startswith("![Agents on 2025-04-28](data:image/png;base64,")


def day_calls(day: str, loan_calls: int, hour: int = 10) -> list[list[str]]:
    """``loan_calls`` calls by A1/ORG1 to loan L1 and one call to L2, at ``hour``."""
    rows = [[f"{day}-C{i}", "A1", "ORG1", "L1", "completed", "5", f"{day}T{hour:02d}:0{i}:00", day]
            for i in range(loan_calls)]
    return rows + [[f"{day}-X", "A1", "ORG1", "L2", "failed", "1", f"{day}T{hour:02d}:30:00", day]]


def test_window_adds_up_the_days_that_exist_and_flags_the_loan(tmp_path):
    """L1: 3 calls on each of three days of the window = 9 > 7; one window day never ran."""
    data_dir = tmp_path / "data"
    days = ["2025-04-22", "2025-04-25", "2025-04-28"]
    for day in days:
        write_day(data_dir, day, calls=day_calls(day, 3, hour=7 if day == DAY else 10))
    instance = ephemeral_instance()
    try:
        for day in days:
            result = materialize_day(data_dir, day, instance)
            assert result.success
    finally:
        instance.dispose()
    rows = read_rows(reports_dir(data_dir, DAY) / "loan_contact_frequency.csv")
    assert [(r["installment_id"], r["attempts_7d"], r["days_called_7d"], r["over_limit"]) for r in rows] == [
        ("L1", "9", "3", "1"), ("L2", "3", "3", "0")
    ]
    assert rows[0]["last_called_at"] == "2025-04-28 07:02:00"
    window = check_eval(result, "loan_contact_frequency", "contact_window_complete")
    assert window.metadata["missing"].value == "2025-04-23, 2025-04-24, 2025-04-26, 2025-04-27"
    limit = check_eval(result, "loan_contact_frequency", "loans_within_contact_limit")
    assert not limit.passed and "L1" in limit.metadata["sample"].value
    message = (reports_dir(data_dir, DAY) / "slack_message.txt").read_text(encoding="utf-8").splitlines()
    # 4 calls on the day, all at 07:xx: outside the window
    assert message[5] == "Compliance: 4 calls outside 08:00-19:00 (100% of calls); 1 loans over 7 attempts in 7 days"


def test_configured_hours_and_limit_are_used(tmp_path):
    data_dir = tmp_path / "data"
    write_day(data_dir, DAY, calls=day_calls(DAY, 3, hour=7))
    instance = ephemeral_instance()
    try:
        result = materialize_day(data_dir, DAY, instance, calling_hours="07:00-20:00", max_attempts_7d=2)
    finally:
        instance.dispose()
    message = (reports_dir(data_dir, DAY) / "slack_message.txt").read_text(encoding="utf-8").splitlines()
    assert message[5] == "Compliance: 0 calls outside 07:00-20:00 (0% of calls); 1 loans over 2 attempts in 7 days"
    assert check_eval(result, "agent_compliance", "calls_within_hours").passed


# The day's calls and the tables the validated call_logs are written with (the day before only
# needs its loan_contacts: the window reads nothing else).
WINDOW_DAYS = [(dt.date(2025, 4, 22) + dt.timedelta(days=n)).isoformat() for n in range(7)]
UP_TO_LOAN_CONTACTS = ["raw_call_logs", "call_logs", "call_logs_rejected", "loan_contacts"]


def week_calls(n: int, day: str) -> list[list[str]]:
    """Day ``n`` of the week: loans L0-L5 of two orgs by three agents, some calls without a
    loan or a time, fractions of a second; L1 of ORG1 called every day."""
    rows = []
    for i in range(6 + 3 * n):
        loan = f"L{(i * (n + 1)) % 6}" if i % 5 else ""
        created = "" if (i + n) % 9 == 0 else f"{day} {8 + i % 11:02d}:{(7 * i) % 60:02d}:{i % 60:02d}.{n}5"
        rows.append([f"{day}-C{i}", f"A{1 + (i + n) % 3}", f"ORG{1 + i % 2}", loan, "completed", "5", created, day])
    return rows + [[f"{day}-L1", "A1", "ORG1", "L1", "failed", "1", f"{day} 12:00:00", day]]


def test_a_full_window_read_from_loan_contacts_gives_the_csv_of_the_call_tables(tmp_path):
    data_dir = tmp_path / "data"
    for n, day in enumerate(WINDOW_DAYS):
        write_day(data_dir, day, calls=week_calls(n, day))
    instance = ephemeral_instance()
    try:
        for day in WINDOW_DAYS[:-1]:
            assert materialize_day(data_dir, day, instance, selection=UP_TO_LOAN_CONTACTS).success
        result = materialize_day(data_dir, DAY, instance)
    finally:
        instance.dispose()
    assert result.success
    window = check_eval(result, "loan_contact_frequency", "contact_window_complete")
    assert window.passed and window.metadata["missing"].value == "none"
    assert asset_metadata(result, "loan_contact_frequency")["window_days_used"] == 7
    calls = pd.concat([pd.read_parquet(warehouse_file(data_dir, "call_logs", d)) for d in WINDOW_DAYS], ignore_index=True)
    expected = csv_text(reference_frequency(calls, dt.date.fromisoformat(DAY), 7), numeric=FREQUENCY_NUMERIC)
    published = (reports_dir(data_dir, DAY) / "loan_contact_frequency.csv").read_text(encoding="utf-8")
    assert published == expected
    rows = {(r["org_id"], r["installment_id"]): r for r in read_rows(reports_dir(data_dir, DAY) / "loan_contact_frequency.csv")}
    assert rows[("ORG1", "L1")]["days_called_7d"] == "7"
    assert any(r["over_limit"] == "1" for r in rows.values())
    contacts = pd.read_parquet(warehouse_file(data_dir, "loan_contacts", DAY))
    assert len(contacts) < len(pd.read_parquet(warehouse_file(data_dir, "call_logs", DAY)))


# What an asset backfill from the lineage page starts for a day after its range (it follows the
# seven-day windows downstream): the day never landed, so its window assets skip it, and every
# asset below them is skipped in the same run. Nothing fails, nothing is written for the day.
AFTER_RANGE = ["agent_roster", "agent_roster_rejected", "rejected_rows", "agent_day", "agent_performance_summary",
               "agent_compliance", "loan_contact_frequency", "slack_summary"]


def test_a_day_that_never_landed_is_skipped_with_a_reason_not_failed(tmp_path):
    from callops_dagster_tests.conftest import ephemeral_instance, materialize_day, reports_dir, write_day

    data_dir = tmp_path / "data"
    write_day(data_dir, "2025-04-27")
    instance = ephemeral_instance()
    try:
        assert materialize_day(data_dir, "2025-04-27", instance).success
        result = materialize_day(data_dir, "2025-04-28", instance, selection=AFTER_RANGE)
    finally:
        instance.dispose()
    assert result.success
    assert result.get_asset_materialization_events() == []
    skipped = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"}
    assert {"agent_day", "agent_performance_summary", "slack_summary"} <= skipped
    reasons = {e.asset_check_key.name: e.description for e in
               (x.event_specific_data for x in result.all_events if x.event_type_value == "ASSET_CHECK_EVALUATION")}
    assert reasons["contact_window_complete"] == (
        "not evaluated: 2025-04-28 skipped (the loan_contacts of 2025-04-28 itself is missing: not landed)"
    )
    assert reasons["records_conserved"].startswith("not evaluated: 2025-04-28 skipped")
    assert not reports_dir(data_dir, "2025-04-28").exists()

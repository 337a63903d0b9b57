"""The pure side of `callops run FILES`: which file is which, which day, landing; and the
command's text (check reasons, status table, progress line)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import pytest

from callops_dagster.console import (
    CheckLine,
    DayStatus,
    check_reason,
    compliance_text,
    progress_line,
    status_table,
)
from callops_dagster.contract.sources import AGENT_ROSTER, CALL_LOGS, DISPOSITION_SUMMARY, SOURCES
from callops_dagster.ingest.intake import (
    IntakeError,
    call_day,
    check_files,
    differing_files,
    guess_day,
    land_files,
    parse_day,
    partition_problem,
    recognise,
)
from callops_dagster_tests.conftest import (
    CALL_HEADER,
    CLEAN_ROSTER,
    DISPOSITION_HEADER,
    ROSTER_HEADER,
    clean_calls,
    clean_dispositions,
    write_csv,
)

DAY = "2025-04-28"


@pytest.fixture
def three(tmp_path: Path) -> list[Path]:
    """Clean files of DAY under names that say nothing, in the order the command wants."""
    return [
        write_csv(tmp_path / "in" / "x1.csv", CALL_HEADER, clean_calls(DAY)),
        write_csv(tmp_path / "in" / "x2.txt", ROSTER_HEADER, CLEAN_ROSTER),
        write_csv(tmp_path / "in" / "x3", DISPOSITION_HEADER, clean_dispositions(DAY)),
    ]


# ---------------------------------------------------------------- which file is which


def test_headers_are_recognised_trimmed_in_any_case_and_order():
    assert recognise([" CALL_ID", "Agent_Id ", "org_id", "installment_id", "status", "duration",
                      "created_ts", "call_date", "extra"]) == CALL_LOGS
    assert recognise(list(reversed(ROSTER_HEADER))) == AGENT_ROSTER
    assert recognise(DISPOSITION_HEADER) == DISPOSITION_SUMMARY
    assert recognise(["agent_id", "org_id", "call_date"]) is None


def test_a_header_with_every_column_is_a_call_log():
    assert recognise(CALL_HEADER + ROSTER_HEADER + DISPOSITION_HEADER) == CALL_LOGS


def test_check_files_maps_the_paths_to_their_sources(three):
    assert check_files(three) == dict(zip(SOURCES, three))


def test_a_byte_order_mark_and_blank_lines_before_the_header_are_fine(three):
    three[0].write_bytes(b"\xef\xbb\xbf\n  \n" + three[0].read_bytes())
    assert check_files(three)[CALL_LOGS] == three[0]


def test_files_in_the_wrong_order_are_refused_saying_which_looks_like_which(three):
    with pytest.raises(IntakeError) as refused:
        check_files([three[1], three[0], three[2]])
    message = str(refused.value)
    assert f"{three[1]} looks like agent_roster.csv" in message
    assert f"{three[0]} looks like call_logs.csv" in message
    assert "CALL_LOGS AGENT_ROSTER DISPOSITION_SUMMARY" in message and "\n" not in message


def test_a_file_twice_is_refused_naming_the_slot(three):
    with pytest.raises(IntakeError, match=r"x1\.csv, given as AGENT_ROSTER, looks like call_logs\.csv"):
        check_files([three[0], three[0], three[2]])


def test_a_missing_path_is_refused_by_name(three, tmp_path):
    with pytest.raises(IntakeError, match=r"nowhere\.csv: no such file"):
        check_files([three[0], tmp_path / "nowhere.csv", three[2]])


@pytest.mark.parametrize("content, problem", [(b"", "no header"), (b"a;b;c\n1;2;3\n", "missing column")])
def test_an_empty_or_foreign_file_is_refused_by_name(three, content, problem):
    three[2].write_bytes(content)
    with pytest.raises(IntakeError) as refused:
        check_files(three)
    assert str(refused.value).startswith(str(three[2])) and problem in str(refused.value)


# ---------------------------------------------------------------- which day


def test_the_day_is_the_call_date_most_well_formed_rows_carry():
    guess = guess_day(pd.Series([" 2025-04-28 ", "2025-04-28", "2025-04-27", "2025-02-30", "28/04/2025", ""]))
    assert (guess.day, guess.rows, guess.rows_read, guess.tied_with) == (dt.date(2025, 4, 28), 2, 6, ())


def test_a_tie_goes_to_the_latest_date_and_says_so():
    guess = guess_day(pd.Series(["2025-04-27", "2025-04-28", "2025-04-26"]))
    assert guess.day == dt.date(2025, 4, 28)
    assert guess.tied_with == (dt.date(2025, 4, 27), dt.date(2025, 4, 26))
    assert "the latest was taken" in guess.note()


def test_no_real_date_is_no_guess():
    assert guess_day(pd.Series(["yesterday", "2025-13-01", "20250428"])) is None


def test_call_day_skips_malformed_rows_and_asks_for_date_when_none_is_left(tmp_path):
    path = write_csv(tmp_path / "calls.csv", CALL_HEADER, [["C1", "A1", "O1", "L1", "completed", "1", "x"]])
    with pytest.raises(IntakeError, match="give the day with --date"):
        call_day(path)


def test_call_day_reads_the_file(three):
    assert call_day(three[0]).day == dt.date(2025, 4, 28)


@pytest.mark.parametrize("text", ["2025-4-28", "20250428", "2025-02-30", "2025-W18-1", "tomorrow"])
def test_unreadable_dates_are_refused(text):
    with pytest.raises(IntakeError, match="YYYY-MM-DD"):
        parse_day(text)


def test_partition_problem_names_the_setting_that_moves_the_range():
    first, last = dt.date(2025, 1, 1), dt.date(2025, 6, 30)
    assert partition_problem(dt.date(2025, 4, 28), first, last) is None
    assert "CALLOPS_START_DATE" in partition_problem(dt.date(2024, 12, 31), first, last)
    assert "CALLOPS_TIMEZONE" in partition_problem(dt.date(2025, 7, 1), first, last)


# ---------------------------------------------------------------- landing


def test_land_copies_byte_for_byte_under_the_contract_names(three, tmp_path):
    files = check_files(three)
    assert land_files(tmp_path / "data", dt.date(2025, 4, 28), files) == "land"
    folder = tmp_path / "data" / "landing" / DAY
    assert sorted(os.listdir(folder)) == sorted(s.file_name for s in SOURCES)
    for spec, path in files.items():
        assert (folder / spec.file_name).read_bytes() == path.read_bytes()
    assert os.listdir(tmp_path / "data" / "landing") == [DAY]  # no temporary folder left


def test_the_same_files_again_change_nothing(three, tmp_path):
    files = check_files(three)
    land_files(tmp_path, dt.date(2025, 4, 28), files)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "landing" / DAY).iterdir()}
    assert land_files(tmp_path, dt.date(2025, 4, 28), files) == "keep"
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "landing" / DAY).iterdir()} == before


def test_other_files_for_a_landed_day_are_refused_unless_replace(three, tmp_path):
    files = check_files(three)
    land_files(tmp_path, dt.date(2025, 4, 28), files)
    write_csv(three[1], ROSTER_HEADER, CLEAN_ROSTER[:2])
    folder = tmp_path / "landing" / DAY
    assert differing_files(folder, files) == ["agent_roster.csv"]
    with pytest.raises(IntakeError, match=r"2025-04-28 is already landed .*agent_roster\.csv differs.*--replace"):
        land_files(tmp_path, dt.date(2025, 4, 28), files)
    assert land_files(tmp_path, dt.date(2025, 4, 28), files, replace=True) == "replace"
    assert (folder / "agent_roster.csv").read_bytes() == three[1].read_bytes()
    assert os.listdir(tmp_path / "landing") == [DAY]


def test_an_empty_day_folder_is_landed_into(three, tmp_path):
    (tmp_path / "landing" / DAY).mkdir(parents=True)
    assert land_files(tmp_path, dt.date(2025, 4, 28), check_files(three)) == "land"
    assert len(os.listdir(tmp_path / "landing" / DAY)) == 3


def test_a_day_missing_a_file_counts_as_differing(three, tmp_path):
    files = check_files(three)
    land_files(tmp_path, dt.date(2025, 4, 28), files)
    (tmp_path / "landing" / DAY / "agent_roster.csv").unlink()
    assert differing_files(tmp_path / "landing" / DAY, files) == ["agent_roster.csv"]


# ---------------------------------------------------------------- text


def test_a_check_reason_prefers_its_description_then_text_then_counts():
    assert check_reason("median duration 412\nlooks like seconds", {"summary": "x"}) == "median duration 412 looks like seconds"
    assert check_reason(None, {"summary": "3 late rows for 2025-04-27", "late_rows": 3}) == "3 late rows for 2025-04-27"
    assert check_reason(None, {"note": "none", "records": 0, "sample": "md"}) == "records 0"
    assert check_reason("", {}) == "failed (no details recorded)"


def test_status_table_has_a_line_per_day_and_the_failed_checks():
    rows = [
        DayStatus("2025-04-27", ["call_logs.csv", "disposition_summary.csv"]),
        DayStatus("2025-04-28", ["call_logs.csv"], "2025-04-29 10:00", "success (abcd1234)",
                  [CheckLine("raw_call_logs", "duplicate_keys", "WARN", "rows 3")],
                  compliance_text({"calls_outside_hours": 283, "calls_before_login": 176}, {"loans_over_limit": 2})),
    ]
    header, first, second = status_table(rows).splitlines()
    assert header.split()[:3] == ["day", "landed", "files"]
    assert first.split() == ["2025-04-27", "call_logs", "disposition_summary", "no", "never", "run", "-", "-", "-"]
    assert "2025-04-29 10:00" in second and second.endswith("raw_call_logs:duplicate_keys (WARN)")
    assert "283 outside hours, 176 before login, 2 loans over limit" in second


def test_the_same_check_on_three_assets_names_each_asset():
    checks = [CheckLine(asset, "duplicate_keys", "WARN", "rows 2") for asset in ("raw_call_logs", "raw_agent_roster", "raw_disposition_summary")]
    row = status_table([DayStatus("2025-04-21", ["call_logs.csv"], "2025-04-22 10:00", "success (abcd1234)", checks)]).splitlines()[1]
    assert row.endswith(
        "raw_call_logs:duplicate_keys (WARN); raw_agent_roster:duplicate_keys (WARN); "
        "raw_disposition_summary:duplicate_keys (WARN)"
    )


def test_compliance_text_is_empty_for_a_day_without_figures():
    assert compliance_text({}, {}) is None


def test_progress_line_says_days_done_current_day_and_elapsed():
    assert progress_line(3, 6, "2025-04-24", 75.9, width=6) == "[###   ] 3/6 days  running 2025-04-24  1:15 elapsed"

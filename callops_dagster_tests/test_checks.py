"""Every asset check, passing on clean input and failing on input built to break it.

Checks on validated tables, on agent_day and on the summary can only fail if the code
feeding them is broken, so those tests monkeypatch the transform the asset calls.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

import callops_dagster.report.assets as joined_defs
import callops_dagster.report.assets as reporting_defs
import callops_dagster.ingest.validated_assets as validated_defs
from callops_dagster.contract import check_names as checks
from callops_dagster.definitions import defs
from callops_dagster.contract.sources import SOURCES
from callops_dagster_tests.conftest import (
    CHECKS_PER_DAY,
    CALL_HEADER,
    CLEAN_ROSTER,
    DISPOSITION_HEADER,
    GOLDEN_DAY,
    PUBLISHED_FILES,
    REPORT_FILES,
    ROSTER_HEADER,
    asset_metadata,
    check_eval,
    check_evaluations,
    clean_calls,
    clean_dispositions,
    copy_golden,
    failed_checks,
    landing,
    materialize_day,
    materialized,
    reports_dir,
    snapshot,
    step_failure_messages,
    warehouse_file,
    write_csv,
    write_day,
)

DAY = "2025-04-28"
WARN = dg.AssetCheckSeverity.WARN
ERROR = dg.AssetCheckSeverity.ERROR
# What a blocked day must not produce.
DOWNSTREAM = {"agent_day", "agent_performance_summary", "slack_summary"}
# The partitioned checks a daily run evaluates (the freshness check has its own sensor).
ALL_CHECK_KEYS = {
    (key.asset_key.to_user_string(), key.name) for asset in defs.assets for key in asset.check_keys
}
SPEC = {spec.name: spec for spec in SOURCES}


def report_files(data_dir: Path, day: str = DAY) -> list[str]:
    folder = reports_dir(data_dir, day)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def message_lines(data_dir: Path, day: str = DAY) -> list[str]:
    return (reports_dir(data_dir, day) / "slack_message.txt").read_text(encoding="utf-8").splitlines()


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assert_blocked(result, data_dir: Path) -> None:
    """The run failed and nothing after the failed step was materialised or reported."""
    assert not result.success
    assert not (materialized(result) & DOWNSTREAM)
    assert "agent_performance_summary.csv" not in report_files(data_dir)
    assert "slack_message.txt" not in report_files(data_dir)
    assert not warehouse_file(data_dir, "agent_day", DAY).exists()


# ---------------------------------------------------------------- all checks pass


def test_every_check_is_evaluated_and_passes_on_a_clean_day(data_dir, instance):
    write_day(data_dir, DAY)
    result = materialize_day(data_dir, DAY, instance)
    assert result.success
    assert len(ALL_CHECK_KEYS) == CHECKS_PER_DAY
    assert set(check_evaluations(result)) == ALL_CHECK_KEYS
    assert failed_checks(result) == {}
    roster = asset_metadata(result, "agent_roster")
    assert (roster["roster_day"], roster["carried_forward"]) == (DAY, False)
    assert message_lines(data_dir)[4] == (
        "Data quality: 0 of 14 rows rejected (0.0%); 0 calls by 0 agents not in the roster; "
        f"roster of {DAY}"
    )


def test_golden_day_fails_only_warn_checks(golden_dir, instance):
    """The golden day has every kind of row defect but none that should block it."""
    result = materialize_day(golden_dir, GOLDEN_DAY, instance, duration_unit="seconds")
    assert result.success
    assert failed_checks(result) == {
        ("raw_call_logs", checks.MISSING_KEYS): WARN,
        ("raw_call_logs", checks.DUPLICATE_KEYS): WARN,
        ("raw_agent_roster", checks.DUPLICATE_KEYS): WARN,
        ("raw_disposition_summary", checks.DUPLICATE_KEYS): WARN,
        ("agent_day", checks.AGENTS_IN_ROSTER): WARN,
        ("rejected_rows", checks.LATE_ROWS): WARN,  # row 69 carries 2025-04-27
        ("raw_call_logs", checks.FORMULA_LIKE_TEXT): WARN,  # row 13's duration is -5
        ("agent_compliance", checks.CALLS_WITHIN_HOURS): WARN,  # calls placed at night
    }
    formula = check_eval(result, "raw_call_logs", checks.FORMULA_LIKE_TEXT).metadata
    assert formula["sample"].value == [{"row_number": 13, "column": "duration", "value": "-5"}]
    missing = check_eval(result, "raw_call_logs", checks.MISSING_KEYS).metadata
    assert missing["rows_with_missing_keys"].value == 4  # rows 10, 39, 58, 79


# ---------------------------------------------------------------- has_rows


def test_has_rows_warns_on_header_only_call_logs_and_the_run_succeeds(data_dir, instance):
    write_day(data_dir, DAY, calls=[])
    result = materialize_day(data_dir, DAY, instance)

    assert result.success
    evaluation = check_eval(result, "raw_call_logs", checks.HAS_ROWS)
    assert not evaluation.passed
    assert evaluation.severity == WARN
    assert evaluation.metadata["records"].value == 0
    assert failed_checks(result) == {("raw_call_logs", checks.HAS_ROWS): WARN}
    assert DOWNSTREAM <= materialized(result)
    lines = message_lines(data_dir)
    assert lines[1:4] == ["Top Performer: n/a", "Total Active Agents: 0", "Average Duration: n/a"]


# ---------------------------------------------------------------- missing_keys


def ten_calls(day: str) -> list[list[str]]:
    extra = [
        ["C9", "A2", "ORG1", "L8", "failed", "5", f"{day} 11:00:00", day],
        ["C10", "A2", "ORG1", "L9", "completed", "25", f"{day} 11:00:01", day],
    ]
    return clean_calls(day) + extra


def test_missing_keys_warns_when_a_few_rows_lack_a_key(data_dir, instance):
    calls = clean_calls(DAY)
    calls[2][0] = "  "  # call_id blank after trimming
    write_day(data_dir, DAY, calls=calls)
    result = materialize_day(data_dir, DAY, instance)

    assert result.success
    evaluation = check_eval(result, "raw_call_logs", checks.MISSING_KEYS)
    assert (evaluation.passed, evaluation.severity) == (False, WARN)
    assert evaluation.metadata["rows_with_missing_keys"].value == 1
    assert DOWNSTREAM <= materialized(result)
    rejected = read_rows(reports_dir(data_dir, DAY) / "rejected_rows.csv")
    assert [(r["source"], r["row_number"], r["reason"]) for r in rejected] == [
        ("call_logs.csv", "3", "missing_call_id")
    ]


def test_missing_keys_at_exactly_the_share_only_warns(data_dir, instance):
    """ERROR is for *more than* the share: 2 of 10 rows (20%) is still a warning."""
    calls = ten_calls(DAY)
    calls[0][1] = ""  # agent_id
    calls[5][2] = ""  # org_id
    write_day(data_dir, DAY, calls=calls)
    result = materialize_day(data_dir, DAY, instance)

    assert result.success
    evaluation = check_eval(result, "raw_call_logs", checks.MISSING_KEYS)
    assert (evaluation.passed, evaluation.severity) == (False, WARN)
    assert evaluation.metadata["share"].value == pytest.approx(0.2)


def three_of_eight_missing(day: str) -> list[list[str]]:
    calls = clean_calls(day)
    calls[0][0] = ""  # call_id
    calls[3][1] = ""  # agent_id
    calls[6][7] = ""  # call_date
    return calls


def test_missing_keys_over_the_share_is_an_error_that_blocks_the_day(data_dir, instance):
    write_day(data_dir, DAY, calls=three_of_eight_missing(DAY))
    result = materialize_day(data_dir, DAY, instance)

    evaluation = check_eval(result, "raw_call_logs", checks.MISSING_KEYS)
    assert (evaluation.passed, evaluation.severity) == (False, ERROR)
    assert evaluation.metadata["share"].value == pytest.approx(0.375)
    assert_blocked(result, data_dir)
    assert not ({"call_logs", "call_logs_rejected", "rejected_rows"} & materialized(result))
    assert report_files(data_dir) == []


def test_missing_keys_error_share_is_configurable(data_dir, instance):
    write_day(data_dir, DAY, calls=three_of_eight_missing(DAY))
    result = materialize_day(data_dir, DAY, instance, missing_key_error_share=0.5)

    assert result.success
    evaluation = check_eval(result, "raw_call_logs", checks.MISSING_KEYS)
    assert (evaluation.passed, evaluation.severity) == (False, WARN)
    assert evaluation.metadata["error_share"].value == 0.5
    assert sorted(report_files(data_dir)) == sorted(PUBLISHED_FILES)


# ---------------------------------------------------------------- duplicate_keys


def test_duplicate_keys_warns_and_the_copies_are_rejected_downstream(data_dir, instance):
    """Each file gets an exact copy of its first record as its last record."""
    calls, roster, dispositions = clean_calls(DAY), CLEAN_ROSTER, clean_dispositions(DAY)
    write_day(
        data_dir, DAY,
        calls=[*calls, calls[0]], roster=[*roster, roster[0]], dispositions=[*dispositions, dispositions[0]],
    )
    result = materialize_day(data_dir, DAY, instance)

    assert result.success
    assert failed_checks(result) == {
        (f"raw_{source}", checks.DUPLICATE_KEYS): WARN for source in SPEC
    }
    for source in SPEC:
        metadata = check_eval(result, f"raw_{source}", checks.DUPLICATE_KEYS).metadata
        assert metadata["rows_with_duplicate_keys"].value == 1
    rejected = read_rows(reports_dir(data_dir, DAY) / "rejected_rows.csv")
    assert [(r["source"], r["row_number"], r["reason"]) for r in rejected] == [
        ("agent_roster.csv", "1", "duplicate_exact"),  # the later row in the file wins
        ("call_logs.csv", "1", "duplicate_exact"),  # same created_ts: the later row wins
        ("disposition_summary.csv", "4", "duplicate_exact"),  # same login_time: the earlier wins
    ]


# ---------------------------------------------------------------- validated tables


def patch_validator(monkeypatch, source: str, damage) -> None:
    """Make the validator of ``source`` return damaged kept rows (rejected rows unchanged)."""
    original = validated_defs.VALIDATORS[source]

    def broken(raw, context, config):
        result = original(raw, context, config)
        return dataclasses.replace(result, kept=damage(result.kept.copy()))

    monkeypatch.setitem(validated_defs.VALIDATORS, source, broken)


def test_keys_non_null_unique_fails_on_a_broken_key_and_blocks(monkeypatch, data_dir, instance):
    def duplicate_key(source: str):
        def damage(kept: pd.DataFrame) -> pd.DataFrame:
            for column in SPEC[source].dedupe_key:
                kept.loc[1, column] = kept.loc[0, column]
            return kept
        return damage

    def blank_org(kept: pd.DataFrame) -> pd.DataFrame:
        kept.loc[0, "org_id"] = ""
        return kept

    patch_validator(monkeypatch, "call_logs", duplicate_key("call_logs"))
    patch_validator(monkeypatch, "agent_roster", duplicate_key("agent_roster"))
    patch_validator(monkeypatch, "disposition_summary", blank_org)
    write_day(data_dir, DAY)
    result = materialize_day(data_dir, DAY, instance)

    assert failed_checks(result) == {(source, checks.KEYS_NON_NULL_UNIQUE): ERROR for source in SPEC}
    for source in SPEC:
        assert check_eval(result, source, checks.KEYS_NON_NULL_UNIQUE).metadata["failure_cases"].value >= 1
        assert check_eval(result, source, checks.RECORDS_CONSERVED).passed  # row counts unchanged
    assert_blocked(result, data_dir)


def test_records_conserved_fails_when_a_row_vanishes_and_blocks(monkeypatch, data_dir, instance):
    for source in SPEC:
        patch_validator(monkeypatch, source, lambda kept: kept.iloc[:-1])
    write_day(data_dir, DAY)
    result = materialize_day(data_dir, DAY, instance)

    assert failed_checks(result) == {(source, checks.RECORDS_CONSERVED): ERROR for source in SPEC}
    for source in SPEC:
        metadata = check_eval(result, source, checks.RECORDS_CONSERVED).metadata
        assert metadata["difference"].value == 1
        assert metadata["records_read"].value == metadata["rows_kept"].value + 1
    assert_blocked(result, data_dir)


def test_records_conserved_fails_on_one_source_and_blocks_the_day(monkeypatch, data_dir, instance):
    """One source out of balance is enough to stop the day."""
    patch_validator(monkeypatch, "disposition_summary", lambda kept: kept.iloc[:-1])
    write_day(data_dir, DAY)
    result = materialize_day(data_dir, DAY, instance)

    assert failed_checks(result) == {("disposition_summary", checks.RECORDS_CONSERVED): ERROR}
    assert_blocked(result, data_dir)


# ---------------------------------------------------------------- agent_day


@pytest.mark.parametrize(
    "which",
    [
        pytest.param(lambda day: day["total_calls"] > 0, id="an-agent-with-calls"),
        pytest.param(lambda day: day["total_calls"] == 0, id="an-agent-with-only-a-login"),
    ],
)
def test_nothing_lost_fails_when_the_join_drops_a_row_and_blocks(monkeypatch, golden_dir, instance, which):
    original = joined_defs.build_agent_day

    def lossy(*args, **kwargs):
        table = original(*args, **kwargs)
        victim = table.index[which(table)][0]
        return table.drop(index=victim).reset_index(drop=True)

    monkeypatch.setattr(joined_defs, "build_agent_day", lossy)
    result = materialize_day(golden_dir, GOLDEN_DAY, instance)

    evaluation = check_eval(result, "agent_day", checks.NOTHING_LOST)
    assert (evaluation.passed, evaluation.severity) == (False, ERROR)
    assert not result.success
    assert not ({"agent_performance_summary", "slack_summary"} & materialized(result))
    assert "agent_performance_summary.csv" not in report_files(golden_dir, GOLDEN_DAY)
    assert "slack_message.txt" not in report_files(golden_dir, GOLDEN_DAY)


def test_agents_in_roster_warns_with_a_sample_of_the_strangers(data_dir, instance):
    calls = clean_calls(DAY) + [
        ["C20", "GHOST", "ORG1", "L20", "completed", "60", f"{DAY} 12:00:00", DAY],
        # A2 exists in ORG1 only: in ORG2 it is another, unknown person.
        ["C21", "A2", "ORG2", "L21", "failed", "10", f"{DAY} 12:00:01", DAY],
        ["C22", "A2", "ORG2", "L22", "failed", "10", f"{DAY} 12:00:02", DAY],
    ]
    write_day(data_dir, DAY, calls=calls)
    result = materialize_day(data_dir, DAY, instance)

    assert result.success
    evaluation = check_eval(result, "agent_day", checks.AGENTS_IN_ROSTER)
    assert (evaluation.passed, evaluation.severity) == (False, WARN)
    assert evaluation.metadata["agents_not_in_roster"].value == 2
    assert evaluation.metadata["calls_by_agents_not_in_roster"].value == 3
    sample = evaluation.metadata["sample"].value
    assert "GHOST" in sample and "A2" in sample and "ORG2" in sample
    summary = {(r["org_id"], r["agent_id"]): r for r in
               read_rows(reports_dir(data_dir, DAY) / "agent_performance_summary.csv")}
    assert summary[("ORG2", "A2")]["agent_name"] == "" and summary[("ORG2", "A2")]["total_calls"] == "2"
    assert message_lines(data_dir)[4].startswith("Data quality:")
    assert "3 calls by 2 agents not in the roster" in message_lines(data_dir)[4]


# ---------------------------------------------------------------- agent_performance_summary


def test_summary_checks_fail_on_bad_rows_and_block_the_message(monkeypatch, data_dir, instance):
    """One bad row per rule, each on its own row (the clean day has three agent-days)."""
    original = reporting_defs.summarise_agent_day

    def damaged(agent_day: pd.DataFrame) -> pd.DataFrame:
        s = original(agent_day)
        assert len(s) == 3 and (s["total_calls"] > 0).all()
        s = pd.concat([s, s.iloc[[2]]], ignore_index=True)  # rows 2 and 3: one agent-day twice
        s.loc[0, "connect_rate"] = 1.5
        s.loc[1, "presence"] = 2
        s.loc[3, "unique_loans_contacted"] = s.loc[3, "total_calls"] + 1
        return s

    monkeypatch.setattr(reporting_defs, "summarise_agent_day", damaged)
    write_day(data_dir, DAY)
    result = materialize_day(data_dir, DAY, instance)

    rules = {
        checks.ONE_ROW_PER_AGENT_DAY: 2,
        checks.CONNECT_RATE_IN_RANGE: 1,
        checks.PRESENCE_IS_BINARY: 1,
        checks.LOANS_WITHIN_CALLS: 1,
    }
    assert failed_checks(result) == {("agent_performance_summary", name): ERROR for name in rules}
    for name, rows in rules.items():
        assert check_eval(result, "agent_performance_summary", name).metadata["rows_failing"].value == rows
    assert not result.success
    assert "slack_summary" not in materialized(result)
    assert "slack_message.txt" not in report_files(data_dir)


# ---------------------------------------------------------------- fatal file defects


def _missing_column(folder: Path) -> None:
    write_csv(folder / "call_logs.csv", CALL_HEADER[:-1], [r[:-1] for r in clean_calls(DAY)])


def _empty_file(folder: Path) -> None:
    (folder / "call_logs.csv").write_bytes(b"")


def _no_file(folder: Path) -> None:
    (folder / "call_logs.csv").unlink()


def _unterminated_quote(folder: Path) -> None:
    text = (folder / "call_logs.csv").read_text(encoding="utf-8")
    (folder / "call_logs.csv").write_text(text.replace("C4,", '"C4,', 1), encoding="utf-8")


def _duplicate_header(folder: Path) -> None:
    write_csv(folder / "call_logs.csv", [*CALL_HEADER, " Call_ID "], [[*r, "x"] for r in clean_calls(DAY)])


def _delimited_by(separator: str):
    def defect(folder: Path) -> None:
        lines = [CALL_HEADER, *clean_calls(DAY)]
        (folder / "call_logs.csv").write_text("".join(separator.join(r) + "\n" for r in lines), encoding="utf-8")
    return defect


def _latin1(folder: Path) -> None:
    text = (folder / "call_logs.csv").read_text(encoding="utf-8")
    (folder / "call_logs.csv").write_bytes(text.replace("C4,", "Cé4,", 1).encode("latin-1"))


def _binary_garbage(folder: Path) -> None:
    # A gzip header then bytes that are not text: an export that was compressed, or corrupt.
    (folder / "call_logs.csv").write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 8)


@pytest.mark.parametrize(
    ("defect", "problem"),
    [
        (_missing_column, "call_date"),
        (_empty_file, "empty"),
        (_no_file, "missing"),
        (_unterminated_quote, "unterminated"),
        (_duplicate_header, "duplicate column"),
        (_delimited_by(";"), "semicolon-separated"),
        (_delimited_by("\t"), "tab-separated"),
        (_latin1, "not valid UTF-8 (line 5)"),
        (_binary_garbage, "not valid UTF-8 (line 1)"),
    ],
    ids=["missing_column", "empty", "no_file", "unterminated_quote", "duplicate_header",
         "semicolons", "tabs", "latin1", "binary_garbage"],
)
def test_fatal_file_defect_fails_the_source_asset_naming_the_file(data_dir, instance, defect, problem):
    folder = write_day(data_dir, DAY)
    defect(folder)
    result = materialize_day(data_dir, DAY, instance)

    assert not result.success
    failures = step_failure_messages(result)
    assert set(failures) == {"raw_call_logs"}
    assert "call_logs.csv" in failures["raw_call_logs"]
    assert problem in failures["raw_call_logs"]
    assert not ({"raw_call_logs", "call_logs", "call_logs_rejected", "rejected_rows"} | DOWNSTREAM) & materialized(result)
    assert report_files(data_dir) == []
    for asset in ("raw_call_logs", "call_logs", "call_logs_rejected", "agent_day", "rejected_rows"):
        assert not warehouse_file(data_dir, asset, DAY).exists()


def test_a_missing_day_folder_fails_the_day_naming_the_first_file(data_dir, instance):
    write_day(data_dir, "2025-04-27")  # an earlier roster exists, so only the calls are missing
    result = materialize_day(data_dir, DAY, instance)

    failures = step_failure_messages(result)
    assert "raw_call_logs" in failures and "raw_disposition_summary" in failures
    assert "call_logs.csv: file is missing" in failures["raw_call_logs"]
    assert str(landing(data_dir, DAY)) in failures["raw_call_logs"]
    assert "disposition_summary.csv: file is missing" in failures["raw_disposition_summary"]
    assert not reports_dir(data_dir, DAY).exists()


def test_fatal_file_defect_leaves_the_days_earlier_outputs_untouched(data_dir, instance):
    folder = write_day(data_dir, DAY)
    assert materialize_day(data_dir, DAY, instance).success
    kept = [reports_dir(data_dir, DAY) / name for name in REPORT_FILES] + [
        warehouse_file(data_dir, asset, DAY)
        for asset in ("raw_call_logs", "call_logs", "call_logs_rejected", "agent_day",
                      "rejected_rows", "agent_performance_summary")
    ]
    before = snapshot(kept)

    _missing_column(folder)
    result = materialize_day(data_dir, DAY, instance)

    assert not result.success
    assert "call_logs.csv" in step_failure_messages(result)["raw_call_logs"]
    assert not (materialized(result) & (DOWNSTREAM | {"rejected_rows"}))
    assert snapshot(kept) == before


def test_a_broken_roster_of_the_day_fails_rather_than_being_carried_forward(data_dir, instance):
    write_day(data_dir, "2025-04-27")
    folder = write_day(data_dir, DAY)
    write_csv(folder / "agent_roster.csv", ROSTER_HEADER[:-1], [r[:-1] for r in CLEAN_ROSTER])
    result = materialize_day(data_dir, DAY, instance)

    failures = step_failure_messages(result)
    assert set(failures) == {"raw_agent_roster"}
    assert "agent_roster.csv" in failures["raw_agent_roster"] and "org_id" in failures["raw_agent_roster"]
    assert report_files(data_dir) == []


# ---------------------------------------------------------------- roster carry-forward


DAY2 = "2025-04-29"


def write_day_two_without_roster(data_dir: Path, roster: str) -> None:
    """Day 2 calls by golden-roster agents; its roster is absent or header-only."""
    calls = [
        [f"D{i}", "AG1000", "ORG02", f"L{i}", "completed" if i % 2 else "failed", "60",
         f"{DAY2} 10:00:0{i}", DAY2]
        for i in range(5)
    ]
    calls.append(["D9", "AG9999", "ORG01", "L9", "completed", "30", f"{DAY2} 11:00:00", DAY2])
    folder = landing(data_dir, DAY2)
    write_csv(folder / "call_logs.csv", CALL_HEADER, calls)
    write_csv(folder / "disposition_summary.csv", DISPOSITION_HEADER,
              [["AG1000", "ORG02", DAY2, f"{DAY2} 09:00:00"]])
    if roster == "header-only":
        write_csv(folder / "agent_roster.csv", ROSTER_HEADER, [])


@pytest.mark.parametrize("roster", ["absent", "header-only"])
def test_a_day_without_a_roster_uses_the_latest_earlier_one(tmp_path, instance, roster):
    data_dir = copy_golden(tmp_path / "data")  # day 1: 2025-04-28, roster with a duplicate row
    # An older roster that names AG1000/ORG02 differently: it must not be the one used.
    write_csv(landing(data_dir, "2025-04-20") / "agent_roster.csv", ROSTER_HEADER,
              [["AG1000", "Old", "Name", "Nowhere", "ORG02"]])
    write_day_two_without_roster(data_dir, roster)
    assert materialize_day(data_dir, GOLDEN_DAY, instance, duration_unit="seconds").success
    result = materialize_day(data_dir, DAY2, instance)

    assert result.success
    meta = asset_metadata(result, "agent_roster")
    assert meta["roster_day"] == GOLDEN_DAY
    assert meta["carried_forward"] is True
    summary = {(r["org_id"], r["agent_id"]): r for r in
               read_rows(reports_dir(data_dir, DAY2) / "agent_performance_summary.csv")}
    assert summary[("ORG02", "AG1000")]["agent_name"] == "Meera Kapoor"
    assert summary[("ORG01", "AG9999")]["agent_name"] == ""
    # Day 1's rejected roster row belongs to day 1 and is not reported again.
    rejected = read_rows(reports_dir(data_dir, DAY2) / "rejected_rows.csv")
    assert all(r["source"] != "agent_roster.csv" for r in rejected)
    assert asset_metadata(result, "agent_roster_rejected")["dagster/row_count"] == 0
    line = message_lines(data_dir, DAY2)[4]
    assert line.startswith("Data quality:")
    assert "roster carried forward from 2025-04-28" in line
    assert "0 of 7 rows rejected" in line  # 6 calls + 1 login; the old roster is not read today
    assert "1 call by 1 agent not in the roster" in line


def test_no_roster_today_or_earlier_fails_the_day(data_dir, instance):
    folder = write_day(data_dir, DAY)
    (folder / "agent_roster.csv").unlink()
    result = materialize_day(data_dir, DAY, instance)

    failures = step_failure_messages(result)
    assert set(failures) == {"validate_agent_roster"}  # the landing asset has no rows; the roster in force fails
    assert "agent_roster.csv" in failures["validate_agent_roster"]
    assert "no roster" in failures["validate_agent_roster"]
    assert report_files(data_dir) == []


def test_path_metadata_names_the_file_each_asset_read_or_wrote(tmp_path, instance):
    """`source_path` says which landing file each raw asset read (a roster that did not come:
    none; the validated roster names the day carried from), `path` where its table is stored
    (for a landing asset, the reference to its file) and, for the message, where it was written."""
    data_dir = copy_golden(tmp_path / "data")
    write_day_two_without_roster(data_dir, "absent")
    result = materialize_day(data_dir, DAY2, instance)
    assert result.success

    assert "source_path" not in asset_metadata(result, "raw_agent_roster")
    assert asset_metadata(result, "agent_roster")["roster_day"] == GOLDEN_DAY
    paths = {asset: str(asset_metadata(result, asset)["source_path"]) for asset in
             ("raw_call_logs", "raw_disposition_summary")}
    paths["slack_summary"] = str(asset_metadata(result, "slack_summary")["path"])
    assert str(asset_metadata(result, "raw_call_logs")["path"]) == str(
        data_dir / "warehouse" / "raw_call_logs" / f"{DAY2}.json")
    assert paths == {
        "raw_call_logs": str(landing(data_dir, DAY2) / "call_logs.csv"),
        "raw_disposition_summary": str(landing(data_dir, DAY2) / "disposition_summary.csv"),
        "slack_summary": str(reports_dir(data_dir, DAY2) / "slack_message.txt"),
    }

"""Layer 1: the row rules (``validation``) on small hand-written landing files.

The files go through the real reader, so trimming, malformed records and row numbers are the
ones the assets see. Each test checks one rule of the data contract.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from callops_dagster.contract.sources import (
    AGENT_ROSTER,
    BAD_DURATION,
    CALL_LOGS,
    DISPOSITION_SUMMARY,
    MISSING_INSTALLMENT_ID,
    RAW_TEXT,
    REJECTED_COLUMNS,
    UNKNOWN_STATUS,
    SourceSpec,
)
from callops_dagster.ingest.validation import (
    Validated,
    validate_agent_roster,
    validate_call_logs,
    validate_disposition_summary,
)
from callops_dagster_tests.helpers import (  # noqa: F401  (test_contract_v2 imports some from here)
    CALL_HEADER,
    DAY,
    DISPOSITION_HEADER,
    ROSTER_HEADER,
    call,
    login,
    person,
    read,
)


def calls(tmp_path: Path, *records: str, known=None) -> Validated:
    """The call rules on ``records``; these tests' durations are seconds (contract v2's
    ``CALLOPS_DURATION_UNIT=seconds``; the default unit, minutes, is tested in test_contract_v2)."""
    raw = read(tmp_path, CALL_LOGS, CALL_HEADER, *records)
    if known is None:
        return validate_call_logs(raw.frame, DAY, duration_unit="seconds")
    return validate_call_logs(raw.frame, DAY, known, duration_unit="seconds")


def logins(tmp_path: Path, *records: str) -> Validated:
    raw = read(tmp_path, DISPOSITION_SUMMARY, DISPOSITION_HEADER, *records)
    return validate_disposition_summary(raw.frame, DAY)


def roster(tmp_path: Path, *records: str) -> Validated:
    raw = read(tmp_path, AGENT_ROSTER, ROSTER_HEADER, *records)
    return validate_agent_roster(raw.frame)


def reasons(result: Validated) -> dict[int, str]:
    """Reason per rejected row_number."""
    return dict(zip(result.rejected["row_number"].tolist(), result.rejected["reason"].tolist()))


# --- rule 0 and the rejected-rows shape ---------------------------------------------------


@pytest.mark.parametrize("record", ["C1,A1,O1", call() + ",extra"], ids=["too_few", "too_many"])
def test_malformed_call_row_is_rejected_with_its_raw_text(tmp_path, record):
    result = calls(tmp_path, call(call_id="C0"), record)
    assert reasons(result) == {2: "malformed_row"}
    assert result.rejected.loc[0, RAW_TEXT] == record
    assert result.kept["call_id"].tolist() == ["C0"]


def test_rejected_rows_have_the_common_columns_and_untrimmed_raw_values(tmp_path):
    result = calls(tmp_path, call(call_id="  ", agent_id=" A1 ", status=" BUSY "))
    rejected = result.rejected
    assert list(rejected.columns) == list(REJECTED_COLUMNS)
    row = rejected.iloc[0]
    assert (row["source"], row["row_number"], row["reason"]) == ("call_logs.csv", 1, "missing_call_id")
    assert row["call_id"] == "  " and row["agent_id"] == " A1 " and row["status"] == " BUSY "
    assert pd.isna(row["users_first_name"]) and pd.isna(row["login_time"])  # other files' columns
    assert pd.isna(row[RAW_TEXT])


@pytest.mark.parametrize(
    "validate, spec, header",
    [
        (lambda raw: validate_disposition_summary(raw, DAY), DISPOSITION_SUMMARY, DISPOSITION_HEADER),
        (validate_agent_roster, AGENT_ROSTER, ROSTER_HEADER),
    ],
    ids=["disposition_summary", "agent_roster"],
)
def test_malformed_rows_of_every_file_are_rejected(tmp_path, validate, spec, header):
    raw = read(tmp_path, spec, header, "A1,O1", "A2,O1,2025-04-28,x,y,z,w")
    result = validate(raw.frame)
    assert reasons(result) == {1: "malformed_row", 2: "malformed_row"}
    assert set(result.rejected["source"]) == {spec.file_name}
    assert result.rejected[RAW_TEXT].tolist() == ["A1,O1", "A2,O1,2025-04-28,x,y,z,w"]
    assert len(result.kept) == 0


# --- call_logs rules 1-3 ------------------------------------------------------------------


@pytest.mark.parametrize("column", ["call_id", "agent_id", "org_id", "call_date"])
@pytest.mark.parametrize("empty", ["", "   "], ids=["empty", "spaces"])
def test_empty_call_key_is_rejected_as_missing(tmp_path, column, empty):
    result = calls(tmp_path, call(call_id="C0"), call(**{column: empty}))
    assert reasons(result) == {2: f"missing_{column}"}
    assert result.kept["call_id"].tolist() == ["C0"]


@pytest.mark.parametrize(
    "value",
    [
        "2025/04/28",
        "2025-02-30",
        "2025-4-28",
        "28-04-2025",
        "20250428",
        "2025-04-28 00:00:00",
        "2025-13-01",
        "NA",
        "\u0662\u0660\u0662\u0665-\u0660\u0664-\u0662\u0668",  # Arabic-Indic digits
    ],
)
def test_call_date_not_written_as_a_real_yyyy_mm_dd_is_bad(tmp_path, value):
    result = calls(tmp_path, call(call_date=value))
    assert reasons(result) == {1: "bad_call_date"}
    assert len(result.kept) == 0


def test_call_date_surrounded_by_spaces_is_trimmed_and_kept(tmp_path):
    result = calls(tmp_path, call(call_date=" 2025-04-28 "))
    assert len(result.rejected) == 0
    assert result.kept["call_date"].tolist() == ["2025-04-28"]


def test_real_leap_day_is_a_good_date(tmp_path):
    raw = read(tmp_path, CALL_LOGS, CALL_HEADER, call(call_date="2024-02-29"))
    result = validate_call_logs(raw.frame, dt.date(2024, 2, 29))
    assert len(result.rejected) == 0 and len(result.kept) == 1


def test_call_date_of_another_day_is_outside_partition(tmp_path):
    result = calls(tmp_path, call(call_id="C1", call_date="2025-04-27"), call(call_id="C2"))
    assert reasons(result) == {1: "call_date_outside_partition"}
    assert result.kept["call_id"].tolist() == ["C2"]


@pytest.mark.parametrize(
    "record, reason",
    [
        (call(call_id="", agent_id="", org_id="", call_date="bad"), "missing_call_id"),
        (call(agent_id="", org_id="", call_date=""), "missing_agent_id"),
        (call(org_id="", call_date="2025/04/28"), "missing_org_id"),
        (call(call_date=""), "missing_call_date"),
        (call(call_date="2025-02-30"), "bad_call_date"),  # a bad date is not also "outside"
        ("C1,,,,", "malformed_row"),  # too few fields beats empty keys
    ],
)
def test_first_rule_broken_wins(tmp_path, record, reason):
    result = calls(tmp_path, record)
    assert reasons(result) == {1: reason}


def test_rows_rejected_by_rules_1_to_3_take_no_part_in_deduplication(tmp_path):
    # The later-created row has another call_date: it must not supersede the good row.
    result = calls(
        tmp_path,
        call(created_ts="2025-04-28 10:00:00"),
        call(created_ts="2025-04-28 23:00:00", call_date="2025-04-29"),
    )
    assert reasons(result) == {2: "call_date_outside_partition"}
    assert result.kept["row_number"].tolist() == [1]


# --- normalisation ------------------------------------------------------------------------


def test_status_is_trimmed_and_lower_cased_and_completed_counts(tmp_path):
    result = calls(tmp_path, call(call_id="C1", status=" COMPLETED "), call(call_id="C2", status="Busy"))
    assert result.kept["status"].tolist() == ["completed", "busy"]
    assert result.kept["is_completed"].tolist() == [True, False]
    assert result.warnings[UNKNOWN_STATUS] == 0


def test_kept_values_are_trimmed(tmp_path):
    result = calls(tmp_path, call(call_id=" C1 ", agent_id=" A1", org_id="O1 ", installment_id=" I9 "))
    row = result.kept.iloc[0]
    assert (row["call_id"], row["agent_id"], row["org_id"], row["installment_id"]) == ("C1", "A1", "O1", "I9")


def test_only_trimming_and_status_case_are_normalised(tmp_path):
    # Agent ids keep their case: "a1" and "A1" are different agents.
    result = calls(tmp_path, call(call_id="C1", agent_id="a1"), call(call_id="C2", agent_id="A1"))
    assert result.kept["agent_id"].tolist() == ["a1", "A1"]


# --- call deduplication -------------------------------------------------------------------


def test_identical_rows_are_duplicate_exact_and_the_later_is_kept(tmp_path):
    result = calls(tmp_path, call(), call())
    assert reasons(result) == {1: "duplicate_exact"}
    assert result.kept["row_number"].tolist() == [2]


def test_rows_equal_after_trimming_and_status_case_are_duplicate_exact(tmp_path):
    result = calls(tmp_path, call(status="COMPLETED", agent_id=" A1 "), call(status="completed "))
    assert reasons(result) == {1: "duplicate_exact"}


def test_60_and_60_point_0_differ_so_the_duplicate_is_superseded(tmp_path):
    result = calls(tmp_path, call(duration="60"), call(duration="60.0"))
    assert reasons(result) == {1: "duplicate_superseded"}
    assert result.kept["duration_s"].tolist() == [Decimal("60.0")]


def test_latest_created_ts_wins_even_when_earlier_in_file(tmp_path):
    result = calls(
        tmp_path,
        call(created_ts="2025-04-28 12:00:00", status="completed"),
        call(created_ts="2025-04-28 09:00:00", status="busy"),
    )
    assert reasons(result) == {2: "duplicate_superseded"}
    assert result.kept["status"].tolist() == ["completed"]


def test_latest_created_ts_wins_when_later_in_file(tmp_path):
    result = calls(
        tmp_path,
        call(created_ts="2025-04-28 09:00:00", status="busy"),
        call(created_ts="2025-04-28 09:00:01", status="completed"),
        call(created_ts="2025-04-28 08:59:59", status="failed"),
    )
    assert reasons(result) == {1: "duplicate_superseded", 3: "duplicate_superseded"}
    assert result.kept["row_number"].tolist() == [2]


@pytest.mark.parametrize(
    # (v2) "2025-04-28T23:00:00" and "2025-04-28 23:00" are valid forms now: test_contract_v2
    "bad_ts", ["", "garbage", "2025-04-28t23:00:00", "2025-04-28 25:00:00", "28/04/2025 23:00"]
)
def test_unparseable_created_ts_counts_as_oldest(tmp_path, bad_ts):
    result = calls(
        tmp_path,
        call(created_ts="2025-04-28 01:00:00", status="busy"),
        call(created_ts=bad_ts, status="completed"),
    )
    assert reasons(result) == {2: "duplicate_superseded"}
    assert result.kept["status"].tolist() == ["busy"]


def test_created_ts_tie_goes_to_the_later_row(tmp_path):
    result = calls(
        tmp_path,
        call(status="busy"),
        call(status="completed"),
        call(call_id="C2"),
    )
    assert reasons(result) == {1: "duplicate_superseded"}
    assert result.kept.set_index("call_id").loc["C1", "status"] == "completed"


def test_two_unparseable_created_ts_tie_goes_to_the_later_row(tmp_path):
    result = calls(tmp_path, call(created_ts="x", status="busy"), call(created_ts="y", status="failed"))
    assert reasons(result) == {1: "duplicate_superseded"}
    assert result.kept["status"].tolist() == ["failed"]


def test_kept_created_ts_is_parsed_and_unparseable_is_null(tmp_path):
    result = calls(tmp_path, call(call_id="C1"), call(call_id="C2", created_ts="soon"))
    created = result.kept.set_index("call_id")["created_ts"]
    assert created["C1"] == pd.Timestamp("2025-04-28 10:00:00")
    assert pd.isna(created["C2"])


def test_kept_calls_stay_in_file_order(tmp_path):
    result = calls(tmp_path, call(call_id="Z"), call(call_id="A"), call(call_id="M"))
    assert result.kept["call_id"].tolist() == ["Z", "A", "M"]
    assert result.kept["row_number"].tolist() == [1, 2, 3]


# --- call warnings ------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["ringing", "complete", "completed!", "no answer"])
def test_unknown_status_is_kept_counted_and_not_completed(tmp_path, status):
    result = calls(tmp_path, call(call_id="C1", status=status), call(call_id="C2"))
    assert len(result.rejected) == 0
    assert result.warnings[UNKNOWN_STATUS] == 1
    assert result.kept.set_index("call_id").loc["C1", "is_completed"] == False  # noqa: E712


def test_known_statuses_are_configurable(tmp_path):
    result = calls(
        tmp_path,
        call(call_id="C1", status="ringing"),
        call(call_id="C2", status="busy"),
        call(call_id="C3", status="Completed"),
        known=("completed", "ringing"),
    )
    assert result.warnings[UNKNOWN_STATUS] == 1
    assert result.kept["is_completed"].tolist() == [False, False, True]


def test_every_default_known_status_is_not_a_warning(tmp_path):
    statuses = ["completed", "connected", "failed", "busy", "no_answer", "voicemail", "canceled"]
    result = calls(tmp_path, *(call(call_id=f"C{i}", status=s.upper()) for i, s in enumerate(statuses)))
    assert result.warnings[UNKNOWN_STATUS] == 0
    assert result.kept["is_completed"].sum() == 1


@pytest.mark.parametrize(
    "duration",
    ["-5", "1e3", "inf", "NaN", "abc", "", "  ", "1.", ".5", "1,5", "+5", "0x10", "5 s"],
)
def test_bad_duration_is_null_and_the_call_still_counts(tmp_path, duration):
    value = f'"{duration}"' if "," in duration else duration
    result = calls(tmp_path, call(call_id="C1", duration=value), call(call_id="C2", duration="30"))
    assert len(result.rejected) == 0
    assert result.warnings[BAD_DURATION] == 1
    kept = result.kept.set_index("call_id")
    assert pd.isna(kept.loc["C1", "duration_s"])
    assert kept.loc["C2", "duration_s"] == Decimal("30")


@pytest.mark.parametrize(
    "duration, seconds",
    [("0", "0"), ("0.0", "0"), ("60", "60"), ("12.25", "12.25"), (" 75 ", "75"), ("007", "7")],
)
def test_valid_duration_is_kept_exactly(tmp_path, duration, seconds):
    result = calls(tmp_path, call(duration=duration))
    assert result.warnings[BAD_DURATION] == 0
    assert result.kept.loc[0, "duration_s"] == Decimal(seconds)


def test_duration_in_non_ascii_digits_is_a_bad_duration_not_a_crash(tmp_path):
    # "٦٠" is 60 in Arabic-Indic digits; seconds are written in ASCII digits.
    result = calls(tmp_path, call(call_id="C1", duration="\u0666\u0660"), call(call_id="C2"))
    assert len(result.kept) == 2
    assert result.warnings[BAD_DURATION] == 1


def test_huge_duration_matching_the_pattern_does_not_crash_validation(tmp_path):
    result = calls(tmp_path, call(call_id="C1", duration="9" * 40), call(call_id="C2"))
    assert len(result.kept) == 2
    assert result.kept.set_index("call_id").loc["C2", "duration_s"] == Decimal("60")


@pytest.mark.parametrize("installment", ["", "   "])
def test_empty_installment_id_is_kept_with_a_warning(tmp_path, installment):
    result = calls(tmp_path, call(call_id="C1", installment_id=installment), call(call_id="C2"))
    assert len(result.rejected) == 0
    assert result.warnings[MISSING_INSTALLMENT_ID] == 1
    assert pd.isna(result.kept.set_index("call_id").loc["C1", "installment_id"])


def test_warnings_count_only_kept_rows(tmp_path):
    result = calls(
        tmp_path,
        call(status="ringing", duration="abc", installment_id=""),
        call(status="ringing", duration="abc", installment_id=""),
        call(call_id="C9", call_date="", status="ringing", duration="abc", installment_id=""),
    )
    assert len(result.kept) == 1
    assert result.warnings == {
        UNKNOWN_STATUS: 1, BAD_DURATION: 1, MISSING_INSTALLMENT_ID: 1, "bad_created_ts": 0, "call_id_conflict": 0
    }


# --- disposition_summary ------------------------------------------------------------------


@pytest.mark.parametrize(
    "record, reason",
    [
        (login(agent_id=""), "missing_agent_id"),
        (login(org_id=" "), "missing_org_id"),
        (login(call_date=""), "missing_call_date"),
        (login(call_date="2025-4-28"), "bad_call_date"),
        (login(call_date="2025-04-27"), "call_date_outside_partition"),
        (login(agent_id="", org_id="", call_date="x"), "missing_agent_id"),
        (login(org_id="", call_date="x"), "missing_org_id"),
    ],
)
def test_disposition_rules_0_to_3(tmp_path, record, reason):
    result = logins(tmp_path, login(agent_id="A0"), record)
    assert reasons(result) == {2: reason}
    assert result.kept["agent_id"].tolist() == ["A0"]


def test_earliest_parseable_login_wins(tmp_path):
    result = logins(
        tmp_path,
        login(login_time="2025-04-28 09:30:00"),
        login(login_time="2025-04-28 08:15:00"),
        login(login_time="2025-04-28 10:00:00"),
    )
    assert reasons(result) == {1: "duplicate_superseded", 3: "duplicate_superseded"}
    assert result.kept["login_time"].tolist() == ["2025-04-28 08:15:00"]
    assert result.kept["present"].tolist() == [True]


def test_unparseable_login_sorts_after_parseable(tmp_path):
    result = logins(tmp_path, login(login_time="morning"), login(login_time="2025-04-28 11:00:00"))
    assert reasons(result) == {1: "duplicate_superseded"}
    assert result.kept["row_number"].tolist() == [2]


def test_unparseable_non_empty_login_sorts_before_empty_and_means_present(tmp_path):
    result = logins(tmp_path, login(login_time=""), login(login_time="9am"))
    assert reasons(result) == {1: "duplicate_superseded"}
    assert result.kept["login_time"].tolist() == ["9am"]
    assert result.kept["present"].tolist() == [True]


def test_empty_login_sorts_last(tmp_path):
    result = logins(
        tmp_path,
        login(login_time=""),
        login(login_time="2025-04-28 12:00:00"),
        login(login_time="  "),
    )
    assert reasons(result) == {1: "duplicate_superseded", 3: "duplicate_superseded"}
    assert result.kept["row_number"].tolist() == [2]


def test_equal_login_times_tie_goes_to_the_earlier_row(tmp_path):
    result = logins(tmp_path, login(), login(login_time=" 2025-04-28 09:00:00 "))
    assert reasons(result) == {2: "duplicate_exact"}
    assert result.kept["row_number"].tolist() == [1]


def test_two_unparseable_logins_tie_goes_to_the_earlier_row(tmp_path):
    result = logins(tmp_path, login(login_time="late"), login(login_time="early"))
    assert reasons(result) == {2: "duplicate_superseded"}
    assert result.kept["login_time"].tolist() == ["late"]


def test_all_empty_logins_are_one_absent_record(tmp_path):
    result = logins(tmp_path, login(login_time=""), login(login_time=""))
    assert reasons(result) == {2: "duplicate_exact"}
    assert result.kept["present"].tolist() == [False]
    assert pd.isna(result.kept.loc[0, "login_time"])


def test_present_if_any_row_has_a_login_time(tmp_path):
    result = logins(tmp_path, login(login_time=""), login(login_time=""), login(login_time="x"))
    assert len(result.kept) == 1
    assert result.kept["present"].tolist() == [True]


def test_login_key_includes_the_org(tmp_path):
    result = logins(tmp_path, login(org_id="O1"), login(org_id="O2"))
    assert len(result.rejected) == 0
    assert sorted(result.kept["org_id"]) == ["O1", "O2"]


# --- agent_roster -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "record, reason",
    [
        (person(agent_id=""), "missing_agent_id"),
        (person(org_id="  "), "missing_org_id"),
        (person(agent_id="", org_id=""), "missing_agent_id"),
        ("A1,Ravi", "malformed_row"),
    ],
)
def test_roster_rules(tmp_path, record, reason):
    result = roster(tmp_path, person(agent_id="A0"), record)
    assert reasons(result) == {2: reason}
    assert result.kept["agent_id"].tolist() == ["A0"]


def test_roster_later_row_wins(tmp_path):
    result = roster(tmp_path, person(first="Ravi"), person(first="Ravindra"))
    assert reasons(result) == {1: "duplicate_superseded"}
    assert result.kept["agent_name"].tolist() == ["Ravindra Sharma"]


def test_roster_rows_equal_after_trimming_are_duplicate_exact(tmp_path):
    result = roster(tmp_path, person(first=" Ravi "), person(), person(agent_id="A2"))
    assert reasons(result) == {1: "duplicate_exact"}


def test_same_agent_id_in_two_orgs_is_two_people(tmp_path):
    result = roster(tmp_path, person(org_id="O1", first="Ravi"), person(org_id="O2", first="Meera"))
    assert len(result.rejected) == 0
    names = result.kept.set_index("org_id")["agent_name"]
    assert names["O1"] == "Ravi Sharma" and names["O2"] == "Meera Sharma"


def test_roster_names_are_trimmed_and_joined_by_one_space(tmp_path):
    result = roster(
        tmp_path,
        person(agent_id="A1", first=" Ravi ", last=" Sharma ", office='"Hyderabad, Telangana"'),
        person(agent_id="A2", first="Zoë", last=""),
        person(agent_id="A3", first="", last="O'Brien"),
    )
    kept = result.kept.set_index("agent_id")
    assert kept.loc["A1", "agent_name"] == "Ravi Sharma"
    assert kept.loc["A1", "office_location"] == "Hyderabad, Telangana"
    assert kept.loc["A2", "agent_name"] == "Zoë"
    assert kept.loc["A3", "agent_name"] == "O'Brien"


# --- conservation -------------------------------------------------------------------------


def test_conservation_on_a_messy_call_file(tmp_path):
    raw = read(
        tmp_path,
        CALL_LOGS,
        CALL_HEADER,
        call(call_id="C1"),
        "C2,A1",
        "",
        call(call_id=""),
        call(call_id="C3", agent_id=""),
        call(call_id="C4", org_id=""),
        call(call_id="C5", call_date=""),
        call(call_id="C6", call_date="2025/04/28"),
        call(call_id="C7", call_date="2025-04-27"),
        call(call_id="C1"),
        call(call_id="C8", duration="60"),
        call(call_id="C8", status="weird", duration="abc"),  # the same call (v2 identity), newer
        call(call_id="C9") + ",surplus",
        call(call_id="NA"),
    )
    result = validate_call_logs(raw.frame, DAY)
    assert raw.records_read == 13
    assert len(result.kept) + len(result.rejected) == raw.records_read
    assert sorted(result.kept["call_id"]) == ["C1", "C8", "NA"]
    assert set(result.rejected_by_reason()) == {
        "malformed_row",
        "missing_call_id",
        "missing_agent_id",
        "missing_org_id",
        "missing_call_date",
        "bad_call_date",
        "call_date_outside_partition",
        "duplicate_exact",
        "duplicate_superseded",
    }
    all_numbers = sorted([*result.kept["row_number"], *result.rejected["row_number"]])
    assert all_numbers == list(range(1, raw.records_read + 1))


def test_conservation_on_a_messy_disposition_file(tmp_path):
    raw = read(
        tmp_path,
        DISPOSITION_SUMMARY,
        DISPOSITION_HEADER,
        login(),
        login(login_time=""),
        login(agent_id="A2", login_time="x"),
        login(agent_id="A2"),
        "A3,O1",
        login(agent_id="A4", call_date="2025-02-30"),
        login(agent_id="A5", org_id=""),
        login(agent_id="A6", login_time=""),
    )
    result = validate_disposition_summary(raw.frame, DAY)
    assert len(result.kept) + len(result.rejected) == raw.records_read == 8
    assert sorted(result.kept["agent_id"]) == ["A1", "A2", "A6"]


def test_conservation_on_a_messy_roster(tmp_path):
    raw = read(
        tmp_path,
        AGENT_ROSTER,
        ROSTER_HEADER,
        person(),
        person(),
        person(first="Other"),
        person(agent_id=""),
        "A9",
        person(org_id="O2"),
    )
    result = validate_agent_roster(raw.frame)
    assert len(result.kept) + len(result.rejected) == raw.records_read == 6
    assert len(result.kept) == 2

"""Layer 1: the rules contract version 2 adds, one behaviour per test.

Date-time forms (created_ts and login_time), offsets, the call identity (exact, superseded,
colliding), durations in minutes or seconds and the unit's plausibility check.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from callops_dagster.platform.settings import Settings, SettingsError
from callops_dagster.contract.sources import CALL_LOGS
from callops_dagster.contract.datetimes import parse_created_ts, parse_login_time
from callops_dagster.contract.durations import exact_seconds, unit_verdict
from callops_dagster.report.message import DataQuality, quality_line
from callops_dagster.ingest.validation import validate_call_logs
from callops_dagster_tests.helpers import CALL_HEADER, DAY, call, login, read
from callops_dagster_tests.test_validation import calls, logins, reasons

ACCEPTED_CREATED_TS = {
    "2025-04-28 15:40": "2025-04-28 15:40:00",
    "2025-04-28T15:40": "2025-04-28 15:40:00",
    "2025-04-28 15:40:07": "2025-04-28 15:40:07",
    "2025-04-28T15:40:07": "2025-04-28 15:40:07",
    "2025-04-28 15:40:07.5": "2025-04-28 15:40:07.500000",
    "2025-04-28T15:40:07.123456": "2025-04-28 15:40:07.123456",
    # offsets convert to the partition timezone (Asia/Kolkata, +05:30)
    "2025-04-28T10:10:07Z": "2025-04-28 15:40:07",
    "2025-04-28 10:10:07+00:00": "2025-04-28 15:40:07",
    "2025-04-28T15:40:07+05:30": "2025-04-28 15:40:07",
    "2025-04-28T04:40:07-05:30": "2025-04-28 15:40:07",
    "2025-04-28T23:00Z": "2025-04-29 04:30:00",  # the instant is the next local day
    "2025-04-28T10:10:07.25Z": "2025-04-28 15:40:07.250000",
}
REFUSED_CREATED_TS = [
    "",
    "2025-04-28",  # no time
    "2025-04-28  15:40:00",  # two spaces
    "2025-04-28t15:40:00",  # lower-case t
    "2025-4-28 15:40:00",  # digits not as shown
    "2025-04-28 5:40:00",
    "2025-04-28 15:40:7",
    "28/04/2025 15:40",
    "2025-04-28 24:00:00",  # impossible times
    "2025-04-28 15:60:00",
    "2025-04-28 15:40:60",
    "2025-02-30 10:00:00",  # impossible date
    "2025-13-01 10:00:00",
    "2025-04-28 15:40:07.",  # empty fraction
    "2025-04-28 15:40:07.1234567",  # seven fraction digits
    "2025-04-28 15:40.5",  # a fraction needs seconds
    "2025-04-28 15:40:07+0530",  # offset without a colon
    "2025-04-28 15:40:07+24:00",  # impossible offset
    "2025-04-28 15:40:07 Z",
    "15:40",  # a time of day is a login form, not a created_ts
    "٢٠٢٥-04-28 15:40:00",  # other scripts' digits
]


@pytest.mark.parametrize("text, expected", ACCEPTED_CREATED_TS.items())
def test_created_ts_forms_are_accepted(text, expected):
    assert parse_created_ts(pd.Series([text], dtype="str"))[0] == pd.Timestamp(expected)


@pytest.mark.parametrize("text", REFUSED_CREATED_TS)
def test_created_ts_other_forms_are_unparseable(text):
    assert pd.isna(parse_created_ts(pd.Series([text], dtype="str"))[0])


def test_created_ts_offsets_use_the_configured_timezone():
    parsed = parse_created_ts(pd.Series(["2025-04-28T12:00:00Z"], dtype="str"), "Europe/London")
    assert parsed[0] == pd.Timestamp("2025-04-28 13:00:00")  # BST


@pytest.mark.parametrize(
    "text, expected",
    [
        ("8:13", "2025-04-28 08:13:00"),
        ("08:13", "2025-04-28 08:13:00"),
        ("8:13:05", "2025-04-28 08:13:05"),
        ("23:59:59", "2025-04-28 23:59:59"),
        ("0:00", "2025-04-28 00:00:00"),
        ("2025-04-28T08:13:00", "2025-04-28 08:13:00"),
        ("2025-04-28 02:43Z", "2025-04-28 08:13:00"),
    ],
)
def test_login_time_forms_are_accepted(text, expected):
    parsed = parse_login_time(pd.Series([text], dtype="str"), DAY)
    assert parsed[0] == pd.Timestamp(expected)


@pytest.mark.parametrize("text", ["24:00", "8:60", "8:13:60", "123:00", "8:5", "8", "8.13", "8:13 AM", ""])
def test_login_time_other_forms_are_unparseable(text):
    assert pd.isna(parse_login_time(pd.Series([text], dtype="str"), DAY)[0])


# --- created_ts in the call rules ------------------------------------------------------------


def test_bad_created_ts_is_kept_and_counted(tmp_path):
    result = calls(
        tmp_path,
        call(call_id="C1", created_ts="2025-04-28T10:00:00"),
        call(call_id="C2", created_ts="yesterday"),
        call(call_id="C3", created_ts=""),
    )
    assert result.kept["call_id"].tolist() == ["C1", "C2", "C3"]
    assert result.warnings["bad_created_ts"] == 2


def test_latest_created_ts_wins_across_forms_and_offsets(tmp_path):
    # 10:30+05:30 is 10:30 local; 05:10Z is 10:40 local, so the first row is the latest.
    result = calls(
        tmp_path,
        call(status="completed", created_ts="2025-04-28T05:10:00Z"),
        call(status="failed", created_ts="2025-04-28 10:30+05:30"),
    )
    assert result.kept["status"].tolist() == ["completed"]
    assert reasons(result) == {2: "duplicate_superseded"}


def test_fraction_orders_versions(tmp_path):
    result = calls(
        tmp_path,
        call(status="completed", created_ts="2025-04-28 10:00:00.25"),
        call(status="failed", created_ts="2025-04-28 10:00:00.2"),
    )
    assert result.kept["status"].tolist() == ["completed"]


# --- the call identity ------------------------------------------------------------------------


def test_identical_versions_of_one_call_are_duplicate_exact(tmp_path):
    result = calls(tmp_path, call(), call(status=" COMPLETED "))
    assert reasons(result) == {1: "duplicate_exact"}
    assert result.warnings["call_id_conflict"] == 0


def test_a_later_version_supersedes(tmp_path):
    result = calls(
        tmp_path,
        call(status="failed", created_ts="2025-04-28 10:05:00"),
        call(status="completed", created_ts="2025-04-28 10:00:00"),
    )
    assert reasons(result) == {2: "duplicate_superseded"}
    assert result.kept["status"].tolist() == ["failed"]


@pytest.mark.parametrize(
    "other",
    [{"agent_id": "A2"}, {"org_id": "O2"}, {"installment_id": "I2"}, {"installment_id": ""}],
    ids=["other_agent", "other_org", "other_loan", "no_loan"],
)
def test_calls_sharing_only_the_call_id_are_all_kept(tmp_path, other):
    result = calls(tmp_path, call(), call(**other, status="failed"))
    assert result.rejected.empty
    assert len(result.kept) == 2
    assert result.warnings["call_id_conflict"] == 1
    assert result.samples["call_id_conflict"]["row_number"].tolist() == [1, 2]


def test_colliding_ids_are_each_versioned(tmp_path):
    """C1 of A1 has two versions, C1 of A2 one: A1's older version goes, both calls stay."""
    result = calls(
        tmp_path,
        call(agent_id="A1", status="failed", created_ts="2025-04-28 10:00:00"),
        call(agent_id="A2", status="busy", created_ts="2025-04-28 09:00:00"),
        call(agent_id="A1", status="completed", created_ts="2025-04-28 11:00:00"),
    )
    assert reasons(result) == {1: "duplicate_superseded"}
    kept = result.kept.set_index("agent_id")["status"].to_dict()
    assert kept == {"A2": "busy", "A1": "completed"}
    assert result.warnings["call_id_conflict"] == 1


def test_empty_installment_counts_as_a_value_of_the_identity(tmp_path):
    result = calls(tmp_path, call(installment_id=""), call(installment_id=" "))
    assert reasons(result) == {1: "duplicate_exact"}


def test_call_id_conflict_counts_call_ids_not_rows(tmp_path):
    result = calls(
        tmp_path,
        call(call_id="C1", agent_id="A1"),
        call(call_id="C1", agent_id="A2"),
        call(call_id="C1", agent_id="A3"),
        call(call_id="C2", installment_id="I1"),
        call(call_id="C2", installment_id="I2"),
        call(call_id="C3"),
    )
    assert result.warnings["call_id_conflict"] == 2
    assert len(result.kept) == 6


# --- login_time in the disposition rules -------------------------------------------------------


def test_earliest_time_of_day_login_wins(tmp_path):
    result = logins(tmp_path, login(login_time="10:05"), login(login_time="9:58"))
    assert result.kept["login_time"].tolist() == ["9:58"]
    assert reasons(result) == {1: "duplicate_superseded"}


def test_time_of_day_and_date_time_logins_compare(tmp_path):
    result = logins(tmp_path, login(login_time="9:58"), login(login_time="2025-04-28T09:30:00"))
    assert result.kept["login_time"].tolist() == ["2025-04-28T09:30:00"]


def test_bad_login_time_means_present_and_is_counted(tmp_path):
    result = logins(
        tmp_path,
        login(agent_id="A1", login_time="morning"),
        login(agent_id="A2", login_time="8:13"),
        login(agent_id="A3", login_time=""),
    )
    kept = result.kept.set_index("agent_id")
    assert kept["present"].to_dict() == {"A1": True, "A2": True, "A3": False}
    assert result.warnings["bad_login_time"] == 1
    assert kept.loc["A2", "login_ts"] == pd.Timestamp("2025-04-28 08:13:00")


def test_parseable_login_beats_unparseable(tmp_path):
    result = logins(tmp_path, login(login_time="early"), login(login_time="23:59"))
    assert result.kept["login_time"].tolist() == ["23:59"]
    assert result.warnings["bad_login_time"] == 0


# --- durations and their unit -----------------------------------------------------------------


def test_minutes_are_the_default_unit_and_kept_as_exact_seconds(tmp_path):
    result = validate_call_logs(read(tmp_path, CALL_LOGS, CALL_HEADER, call(duration="5.68")).frame, DAY)
    assert result.kept["duration_s"].tolist() == [Decimal("340.80")]


def test_seconds_unit_keeps_the_value(tmp_path):
    raw = read(tmp_path, CALL_LOGS, CALL_HEADER, call(duration="5.68"))
    result = validate_call_logs(raw.frame, DAY, duration_unit="seconds")
    assert result.kept["duration_s"].tolist() == [Decimal("5.68")]


def test_minute_averages_are_exact():
    seconds = exact_seconds(pd.Series(["4.46", "4.47"], dtype="str"), "minutes")
    assert sum(seconds) / 2 / 60 == Decimal("4.465")


def _seconds(values, unit):
    return exact_seconds(pd.Series([str(v) for v in values], dtype="str"), unit)


@pytest.mark.parametrize(
    "unit, values, passed, phrase",
    [
        ("minutes", [412] * 20, False, "median duration 412 looks like seconds; set CALLOPS_DURATION_UNIT=seconds"),
        ("minutes", [60] * 20, True, "plausible"),  # exactly 60 is not above 60
        ("minutes", [5.68] * 20, True, "plausible"),
        ("seconds", [5.5] * 20, False, "median duration 5.5 looks like minutes; set CALLOPS_DURATION_UNIT=minutes"),
        ("seconds", [20] * 20, True, "plausible"),  # exactly 20 is not below 20
        ("seconds", [412] * 20, True, "plausible"),
        ("minutes", [412] * 19, True, "only 19 positive durations"),
        ("minutes", [412] * 19 + [0] * 50, True, "only 19 positive durations"),  # zeros do not count
    ],
)
def test_duration_unit_plausibility(unit, values, passed, phrase):
    verdict = unit_verdict(_seconds(values, unit), unit)
    assert verdict.passed is passed
    assert phrase in verdict.text


def test_plausibility_uses_the_median_not_the_mean():
    verdict = unit_verdict(_seconds([5] * 15 + [10_000] * 10, "minutes"), "minutes")
    assert verdict.passed and verdict.median == 5


@pytest.mark.parametrize("raw, unit", [("", "minutes"), ("Seconds", "seconds"), (" minutes ", "minutes")])
def test_duration_unit_setting(raw, unit):
    assert Settings.from_env({"CALLOPS_DURATION_UNIT": raw}).duration_unit == unit


def test_unknown_duration_unit_is_refused_naming_the_variable():
    with pytest.raises(SettingsError, match="CALLOPS_DURATION_UNIT='hours'.*minutes, seconds"):
        Settings.from_env({"CALLOPS_DURATION_UNIT": "hours"})


# --- the message ------------------------------------------------------------------------------


def _quality(conflicts: int) -> DataQuality:
    return DataQuality(
        rows_read=10, rows_rejected=0, calls_not_in_roster=0, agents_not_in_roster=0,
        roster_day=DAY, day=DAY, call_id_conflicts=conflicts,
    )


@pytest.mark.parametrize(
    "conflicts, tail",
    [(0, "roster of 2025-04-28"), (1, "; 1 call_id shared by different calls (kept)"),
     (10, "; 10 call_ids shared by different calls (kept)")],
)
def test_quality_line_names_shared_call_ids(conflicts, tail):
    assert quality_line(_quality(conflicts)).endswith(tail)

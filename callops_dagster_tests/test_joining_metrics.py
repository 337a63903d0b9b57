"""Layer 1: the agent-day join (``joining``), the metrics (``metrics``) and the summary CSV.

Inputs are tiny landing files read and validated by the real transforms; expected figures are
worked out by hand from the contract (exact fractions, rounded half away from zero).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from callops_dagster.contract.sources import AGENT_ROSTER, CALL_LOGS, DISPOSITION_SUMMARY, SourceSpec
from callops_dagster.report.join import build_agent_day
from callops_dagster.report.message import DataQuality, build_slack_message
from callops_dagster.report.metrics import round_half_up, summarise_agent_day, summary_csv_frame
from callops_dagster.ingest.reading import read_landing_csv
from callops_dagster.report.publish import rejected_rows_csv_text, summary_csv_text
from callops_dagster.ingest.validation import (
    validate_agent_roster,
    validate_call_logs,
    validate_disposition_summary,
)

from callops_dagster_tests.helpers import CALL_HEADER, DAY, DISPOSITION_HEADER, ROSTER_HEADER, call, login, person

CONTRACT_COLUMNS = [
    "call_date",
    "org_id",
    "agent_id",
    "agent_name",
    "office_location",
    "total_calls",
    "unique_loans_contacted",
    "connect_rate",
    "avg_call_duration_min",
    "presence",
]


def raw(tmp_path: Path, spec: SourceSpec, header: str, records: list[str]) -> pd.DataFrame:
    path = tmp_path / spec.file_name
    path.write_text("".join(line + "\n" for line in (header, *records)), encoding="utf-8")
    return read_landing_csv(path, spec).frame


DEFAULT_ROSTER = [person()]


def agent_day(tmp_path, calls=(), logins=(), roster=None) -> tuple[pd.DataFrame, int]:
    """The agent-day table and the number of kept call rows."""
    # These tests' durations are seconds (CALLOPS_DURATION_UNIT=seconds).
    kept_calls = validate_call_logs(
        raw(tmp_path, CALL_LOGS, CALL_HEADER, list(calls)), DAY, duration_unit="seconds"
    ).kept
    kept_logins = validate_disposition_summary(
        raw(tmp_path, DISPOSITION_SUMMARY, DISPOSITION_HEADER, list(logins)), DAY
    ).kept
    people = DEFAULT_ROSTER if roster is None else roster
    kept_roster = validate_agent_roster(raw(tmp_path, AGENT_ROSTER, ROSTER_HEADER, list(people))).kept
    return build_agent_day(kept_calls, kept_logins, kept_roster, DAY), len(kept_calls)


def summary(tmp_path, calls=(), logins=(), roster=None) -> pd.DataFrame:
    return summarise_agent_day(agent_day(tmp_path, calls, logins, roster)[0])


def csv_rows(frame: pd.DataFrame) -> list[dict[str, str]]:
    """The summary CSV as written, parsed back into dicts of text."""
    return list(csv.DictReader(io.StringIO(summary_csv_text(frame))))


def one(rows: list[dict[str, str]], agent_id: str, org_id: str = "O1") -> dict[str, str]:
    [row] = [r for r in rows if r["agent_id"] == agent_id and r["org_id"] == org_id]
    return row


# --- the agent-day grain ------------------------------------------------------------------


def test_login_without_calls_has_zero_calls_and_presence_1(tmp_path):
    rows = csv_rows(summary(tmp_path, logins=[login("A1")]))
    row = one(rows, "A1")
    assert row["total_calls"] == "0"
    assert row["presence"] == "1"
    assert row["connect_rate"] == "" and row["avg_call_duration_min"] == ""


def test_calls_without_login_have_presence_0(tmp_path):
    day, _ = agent_day(tmp_path, calls=[call("C1", agent_id="A1")], logins=[login("A2")])
    row = day.set_index("agent_id").loc["A1"]
    assert row["total_calls"] == 1
    assert row["presence"] == 0
    assert bool(row["calls_without_login"])


def test_empty_login_time_and_no_calls_is_a_row_with_presence_0(tmp_path):
    rows = csv_rows(summary(tmp_path, logins=[login("A1", login_time="")]))
    row = one(rows, "A1")
    assert (row["total_calls"], row["presence"]) == ("0", "0")


def test_agent_not_in_roster_keeps_calls_with_empty_name_and_office(tmp_path):
    day, _ = agent_day(
        tmp_path,
        calls=[call("C1", agent_id="A1"), call("C2", agent_id="GHOST"), call("C3", agent_id="GHOST")],
        roster=[person("A1", office='"Hyderabad, Telangana"')],
    )
    ghost = day.set_index("agent_id").loc["GHOST"]
    assert ghost["total_calls"] == 2
    assert ghost["agent_name"] == "" and ghost["office_location"] == ""
    assert bool(ghost["not_in_roster"]) and not bool(ghost["in_roster"])
    known = day.set_index("agent_id").loc["A1"]
    assert known["agent_name"] == "Ravi Sharma" and not bool(known["not_in_roster"])


def test_roster_joins_on_agent_id_and_org_id(tmp_path):
    rows = csv_rows(
        summary(
            tmp_path,
            calls=[call("C1", agent_id="A1", org_id="O1"), call("C2", agent_id="A1", org_id="O2"),
                   call("C3", agent_id="A1", org_id="O3")],
            roster=[person("A1", first="Ravi", org_id="O1"), person("A1", first="Meera", org_id="O2")],
        )
    )
    assert one(rows, "A1", "O1")["agent_name"] == "Ravi Sharma"
    assert one(rows, "A1", "O2")["agent_name"] == "Meera Sharma"
    assert one(rows, "A1", "O3")["agent_name"] == ""


def test_grain_is_the_union_of_call_and_login_keys(tmp_path):
    day, _ = agent_day(
        tmp_path,
        calls=[call("C1", agent_id="A1"), call("C2", agent_id="A2")],
        logins=[login("A2"), login("A3")],
        roster=[person("A1"), person("A2"), person("A3"), person("A4")],
    )
    assert sorted(day["agent_id"]) == ["A1", "A2", "A3"]  # roster-only A4 is not an agent-day
    assert set(day["call_date"]) == {"2025-04-28"}


def test_sum_of_total_calls_equals_kept_call_rows(tmp_path):
    calls = [
        call("C1", agent_id="A1"),
        call("C1", agent_id="A1"),  # duplicate, rejected
        call("C2", agent_id="A1", status="busy"),
        call("C3", agent_id="A2", duration="abc"),  # kept with a warning
        call("C4", agent_id="", org_id="O1"),  # rejected
        call("C5", agent_id="A3", org_id="O2", installment_id=""),
        call("C6", agent_id="NOBODY"),
        call("C7", agent_id="A1", call_date="2025-04-27"),  # rejected
    ]
    day, kept_calls = agent_day(tmp_path, calls=calls, logins=[login("A9")])
    assert kept_calls == 5
    assert int(day["total_calls"].sum()) == kept_calls
    assert int(summarise_agent_day(day)["total_calls"].sum()) == kept_calls


def test_unique_loans_counts_distinct_non_empty_installments(tmp_path):
    calls = [
        call("C1", installment_id="I1"),
        call("C2", installment_id="I1"),
        call("C3", installment_id="I2"),
        call("C4", installment_id=""),
        call("C5", installment_id=" I2 "),
    ]
    row = one(csv_rows(summary(tmp_path, calls=calls)), "A1")
    assert row["total_calls"] == "5"
    assert row["unique_loans_contacted"] == "2"


def test_unique_loans_is_zero_when_every_installment_is_empty(tmp_path):
    row = one(csv_rows(summary(tmp_path, calls=[call("C1", installment_id="")])), "A1")
    assert row["unique_loans_contacted"] == "0"


# --- connect rate -------------------------------------------------------------------------


def calls_with(completed: int, total: int, agent_id: str = "A1", prefix: str = "C") -> list[str]:
    return [
        call(f"{prefix}{i}", agent_id=agent_id, status="completed" if i < completed else "busy")
        for i in range(total)
    ]


@pytest.mark.parametrize(
    "completed, total, text",
    [(1, 1, "1.0000"), (0, 2, "0.0000"), (1, 3, "0.3333"), (2, 3, "0.6667"), (5, 8, "0.6250")],
)
def test_connect_rate_has_exactly_four_places(tmp_path, completed, total, text):
    row = one(csv_rows(summary(tmp_path, calls=calls_with(completed, total))), "A1")
    assert row["connect_rate"] == text


def test_connect_rate_rounds_half_away_from_zero(tmp_path):
    # 1/32 = 0.03125 exactly: half away from zero gives 0.0313 (round-half-even gives 0.0312).
    row = one(csv_rows(summary(tmp_path, calls=calls_with(1, 32))), "A1")
    assert row["connect_rate"] == "0.0313"


def test_only_completed_status_counts_as_connected(tmp_path):
    calls = [call("C1", status="Completed"), call("C2", status="connected"), call("C3", status="weird")]
    row = one(csv_rows(summary(tmp_path, calls=calls)), "A1")
    assert row["connect_rate"] == "0.3333"


def test_connect_rate_is_empty_when_no_calls(tmp_path):
    frame = summary(tmp_path, logins=[login("A1")])
    assert pd.isna(frame.loc[0, "connect_rate"])
    assert one(csv_rows(frame), "A1")["connect_rate"] == ""


# --- average duration ---------------------------------------------------------------------


def test_average_duration_rounds_the_exact_value_half_up(tmp_path):
    # 2679 s over 10 calls = 4.465 min exactly -> 4.47.
    durations = ["268"] * 9 + ["267"]
    assert sum(int(d) for d in durations) == 2679
    calls = [call(f"C{i}", duration=d) for i, d in enumerate(durations)]
    row = one(csv_rows(summary(tmp_path, calls=calls)), "A1")
    assert row["avg_call_duration_min"] == "4.47"


@pytest.mark.parametrize(
    ("duration", "shown"),
    [
        # 267.9 s = 4.465 min exactly; as a float 267.9 / 60 falls just below the half.
        pytest.param("267.9", "4.47", id="decimal-seconds-are-exact"),
        pytest.param("300", "5.00", id="exactly-two-places"),
    ],
)
def test_average_duration_is_exact_to_two_places(tmp_path, duration, shown):
    row = one(csv_rows(summary(tmp_path, calls=[call("C1", duration=duration)])), "A1")
    assert row["avg_call_duration_min"] == shown


def test_average_duration_excludes_null_durations(tmp_path):
    calls = [call("C1", duration="60"), call("C2", duration="120"), call("C3", duration="abc"),
             call("C4", duration="-5")]
    row = one(csv_rows(summary(tmp_path, calls=calls)), "A1")
    assert row["total_calls"] == "4"
    assert row["avg_call_duration_min"] == "1.50"  # (60 + 120) / 2 s


def test_average_duration_includes_zero_durations(tmp_path):
    calls = [call("C1", duration="0"), call("C2", duration="120", status="busy")]
    row = one(csv_rows(summary(tmp_path, calls=calls)), "A1")
    assert row["avg_call_duration_min"] == "1.00"  # (0 + 120) / 2 s


def test_average_duration_is_empty_when_no_duration_is_valid(tmp_path):
    calls = [call("C1", duration=""), call("C2", duration="inf")]
    frame = summary(tmp_path, calls=calls)
    row = one(csv_rows(frame), "A1")
    assert row["total_calls"] == "2"
    assert row["avg_call_duration_min"] == ""
    assert row["connect_rate"] == "1.0000"


def test_average_duration_is_per_agent_day(tmp_path):
    calls = [call("C1", agent_id="A1", duration="60"), call("C2", agent_id="A2", duration="180")]
    rows = csv_rows(summary(tmp_path, calls=calls, roster=[person("A1"), person("A2")]))
    assert one(rows, "A1")["avg_call_duration_min"] == "1.00"
    assert one(rows, "A2")["avg_call_duration_min"] == "3.00"


# --- round_half_up ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, places, expected",
    [
        (Fraction(4465, 1000), 2, "4.47"),
        (Fraction(2679, 600), 2, "4.47"),
        (Fraction(5, 8) * 100, 0, "63"),
        (Fraction(5, 2), 0, "3"),  # half-even would give 2
        (Fraction(1, 2), 0, "1"),
        (Fraction(-5, 2), 0, "-3"),  # away from zero
        (Fraction(1, 32), 4, "0.0313"),
        (Fraction(1, 3), 4, "0.3333"),
        (Fraction(2, 3), 4, "0.6667"),
        (Fraction(13, 2), 1, "6.5"),
        (Fraction(6), 1, "6.0"),
        (Fraction(0), 2, "0.00"),
        (Fraction(44999, 10000), 1, "4.5"),
        (Fraction(4449, 1000), 2, "4.45"),
    ],
)
def test_round_half_up(value, places, expected):
    result = round_half_up(value, places)
    assert result == Decimal(expected)
    assert str(result) == expected


# --- the CSV ------------------------------------------------------------------------------


def test_csv_has_the_contract_columns_in_order(tmp_path):
    text = summary_csv_text(summary(tmp_path, calls=[call("C1")], logins=[login()]))
    header = next(csv.reader(io.StringIO(text)))
    assert header == CONTRACT_COLUMNS
    assert list(summary_csv_frame(summary(tmp_path, calls=[call("C1")])).columns) == CONTRACT_COLUMNS


def test_csv_rows_are_sorted_by_org_then_agent(tmp_path):
    keys = [("O2", "A1"), ("O1", "B7"), ("O1", "A10"), ("O2", "A0"), ("O1", "A2")]
    calls = [call(f"C{i}", agent_id=a, org_id=o) for i, (o, a) in enumerate(keys)]
    rows = csv_rows(summary(tmp_path, calls=calls, roster=[]))
    assert [(r["org_id"], r["agent_id"]) for r in rows] == sorted(keys)


def test_csv_quotes_values_with_commas_and_keeps_non_latin_letters(tmp_path):
    roster = [person("A1", first="Zoë", last="O'Brien", office='"Hyderabad, Telangana"')]
    frame = summary(tmp_path, calls=[call("C1")], logins=[login()], roster=roster)
    text = summary_csv_text(frame)
    assert '"Hyderabad, Telangana"' in text
    row = one(csv_rows(frame), "A1")
    assert row["office_location"] == "Hyderabad, Telangana"
    assert row["agent_name"] == "Zoë O'Brien"
    assert len(next(csv.reader(io.StringIO(text.splitlines()[1])))) == len(CONTRACT_COLUMNS)


def test_csv_row_for_a_full_agent_day(tmp_path):
    calls = [
        call("C1", installment_id="I1", status="completed", duration="240"),
        call("C2", installment_id="I2", status="busy", duration="0"),
        call("C3", installment_id="I1", status="completed", duration="x"),
    ]
    row = one(csv_rows(summary(tmp_path, calls=calls, logins=[login()])), "A1")
    assert row == {
        "call_date": "2025-04-28",
        "org_id": "O1",
        "agent_id": "A1",
        "agent_name": "Ravi Sharma",
        "office_location": "Pune",
        "total_calls": "3",
        "unique_loans_contacted": "2",
        "connect_rate": "0.6667",  # 2/3
        "avg_call_duration_min": "2.00",  # (240 + 0) / 2 s = 120 s
        "presence": "1",
    }


def test_message_shows_five_eighths_as_63_percent(tmp_path):
    frame = summary(tmp_path, calls=calls_with(5, 8), logins=[login()])
    quality = DataQuality(rows_read=10, rows_rejected=0, calls_not_in_roster=0,
                          agents_not_in_roster=0, roster_day=DAY, day=DAY)
    message = build_slack_message(frame, DAY, quality, min_calls=5)
    assert message.splitlines()[1] == "Top Performer: Ravi Sharma (63% connect rate)"


def test_rejected_rows_csv_keeps_raw_text_whole_and_empty_apart_from_missing():
    rejected = pd.DataFrame({
        "source": pd.Series(["call_logs.csv", "agent_roster.csv"], dtype="str"),
        "row_number": pd.Series([3, 7], dtype="int64"),
        "reason": pd.Series(["malformed_row", "missing_org_id"], dtype="str"),
        "org_id": pd.Series([None, ""], dtype="str"),  # missing (not in the record) vs empty
        "raw_text": pd.Series(['C1,"Hyderabad, ""T"" B"\nnext', None], dtype="str"),
    })
    text = rejected_rows_csv_text(rejected)

    assert text.splitlines()[0] == "source,row_number,reason,org_id,raw_text"
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert rows == [
        ["call_logs.csv", "3", "malformed_row", "", 'C1,"Hyderabad, ""T"" B"\nnext'],
        ["agent_roster.csv", "7", "missing_org_id", "", ""],
    ]
    assert ',"",' in text.splitlines()[-1]  # the empty org_id is quoted, the missing one is not
    assert text.endswith("\n")

"""Layer 1: the landing-file reader (``reading.read_landing_csv``) on small hand-written files.

Each test writes a few bytes to a temporary file and reads them through the real reader, so
the file-level rules of the data contract are checked exactly as the assets meet them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from callops_dagster.contract.sources import (
    AGENT_ROSTER,
    CALL_LOGS,
    DISPOSITION_SUMMARY,
    RAW_TEXT,
    SourceSpec,
)
from callops_dagster.ingest.profiling import profile_raw
from callops_dagster.ingest.reading import (
    ROW_NUMBER,
    RawTable,
    SourceFileError,
    read_landing_csv,
)

from callops_dagster_tests.helpers import CALL_HEADER, DISPOSITION_HEADER, ROSTER_HEADER

GOOD_CALL = "C1,A1,O1,I1,completed,60,2025-04-28 10:00:00,2025-04-28"


def write(tmp_path: Path, content: str | bytes, spec: SourceSpec = CALL_LOGS) -> Path:
    """Write ``content`` (text is encoded as UTF-8 as is, no newline translation)."""
    path = tmp_path / spec.file_name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def read(tmp_path: Path, content: str | bytes, spec: SourceSpec = CALL_LOGS, **kwargs) -> RawTable:
    return read_landing_csv(write(tmp_path, content, spec), spec, **kwargs)


def lines(*records: str, end: str = "\n") -> str:
    return "".join(r + end for r in records)


def fails(tmp_path: Path, content: str | bytes, spec: SourceSpec = CALL_LOGS) -> SourceFileError:
    with pytest.raises(SourceFileError) as info:
        read(tmp_path, content, spec)
    return info.value


# --- header matching ---------------------------------------------------------------------


def test_header_names_are_trimmed_and_case_insensitive(tmp_path):
    header = " Call_ID ,AGENT_ID,\torg_id,Installment_Id ,STATUS,Duration,Created_TS,Call_Date"
    table = read(tmp_path, lines(header, GOOD_CALL))
    assert list(table.frame.columns) == [ROW_NUMBER, *CALL_LOGS.columns, RAW_TEXT]
    assert table.frame.loc[0, "call_id"] == "C1"
    assert table.frame.loc[0, "call_date"] == "2025-04-28"


def test_columns_may_come_in_any_order(tmp_path):
    header = "call_date,status,created_ts,org_id,duration,call_id,installment_id,agent_id"
    record = "2025-04-28,busy,2025-04-28 10:00:00,O9,75,C7,I3,A5"
    row = read(tmp_path, lines(header, record)).frame.iloc[0]
    assert (row["call_id"], row["agent_id"], row["org_id"]) == ("C7", "A5", "O9")
    assert (row["installment_id"], row["status"], row["duration"]) == ("I3", "busy", "75")
    assert row["created_ts"] == "2025-04-28 10:00:00"


def test_extra_columns_are_ignored_and_reported(tmp_path):
    header = "Notes," + CALL_HEADER + ", Campaign "
    table = read(tmp_path, lines(header, "hello," + GOOD_CALL + ",spring"))
    assert table.extra_columns == ["Notes", "Campaign"]
    assert "Notes" not in table.frame.columns and "notes" not in table.frame.columns
    assert table.frame.loc[0, "call_id"] == "C1"


def test_no_extra_columns_reports_an_empty_list(tmp_path):
    assert read(tmp_path, lines(CALL_HEADER, GOOD_CALL)).extra_columns == []


def test_header_names_equal_after_normalisation_are_fatal(tmp_path):
    error = fails(tmp_path, lines(CALL_HEADER + ", CALL_ID ", GOOD_CALL + ",C2"))
    assert str(error).startswith("call_logs.csv: ")
    assert "duplicate" in str(error) and "call_id" in str(error)


def test_duplicate_extra_column_names_are_fatal_too(tmp_path):
    error = fails(tmp_path, lines(CALL_HEADER + ",note,Note", GOOD_CALL + ",a,b"))
    assert error.file_name == "call_logs.csv"
    assert "note" in str(error)


@pytest.mark.parametrize("spec", [CALL_LOGS, AGENT_ROSTER, DISPOSITION_SUMMARY], ids=lambda s: s.name)
def test_missing_required_column_names_the_file_and_the_column(tmp_path, spec):
    header = ",".join(c for c in spec.columns if c != "org_id")
    error = fails(tmp_path, lines(header, ",".join("x" for _ in spec.columns[1:])), spec)
    assert str(error).startswith(f"{spec.file_name}: ")
    assert "org_id" in error.problem
    assert "missing" in error.problem


# --- files that cannot be used at all ---------------------------------------------------


def test_zero_byte_file_fails_naming_the_file(tmp_path):
    error = fails(tmp_path, b"")
    assert str(error).startswith("call_logs.csv: ")
    assert "empty" in str(error)


def test_missing_file_fails_naming_the_file(tmp_path):
    with pytest.raises(SourceFileError) as info:
        read_landing_csv(tmp_path / "nowhere" / "agent_roster.csv", AGENT_ROSTER)
    assert str(info.value).startswith("agent_roster.csv: ")
    assert "missing" in str(info.value)


def test_over_the_size_limit_fails(tmp_path):
    content = lines(CALL_HEADER, GOOD_CALL)
    with pytest.raises(SourceFileError, match="call_logs.csv"):
        read(tmp_path, content, max_bytes=len(content) - 1)
    assert read(tmp_path, content, max_bytes=len(content)).records_read == 1


def test_unterminated_quote_fails_with_its_line(tmp_path):
    content = lines(
        CALL_HEADER,
        GOOD_CALL,
        'C2,A1,O1,"I2,completed,60,2025-04-28 10:00:00,2025-04-28',
        "C3,A1,O1,I3,completed,60,2025-04-28 10:00:00,2025-04-28",
    )
    error = fails(tmp_path, content)
    assert error.file_name == "call_logs.csv"
    assert "quote" in error.problem
    assert error.line == 3
    assert str(error).endswith("(line 3)")


def test_unterminated_quote_line_counts_physical_lines_of_earlier_quoted_newlines(tmp_path):
    content = lines(
        CALL_HEADER,
        'C1,A1,O1,"two\nline loan",completed,60,2025-04-28 10:00:00,2025-04-28',
        'C2,A1,O1,I2,"completed,60,2025-04-28 10:00:00,2025-04-28',
    )
    assert fails(tmp_path, content).line == 4


def test_unterminated_quote_fails_even_when_another_quote_balances_the_count(tmp_path):
    # Two opening quotes that never close properly: the quote count is even, but the file
    # is not RFC 4180 CSV. Reading it must fail, not glue records 1-3 into one value.
    content = lines(
        CALL_HEADER,
        'C1,A1,O1,"I1,completed,60,2025-04-28 10:00:00,2025-04-28',
        "C2,A1,O1,I2,completed,60,2025-04-28 10:00:00,2025-04-28",
        'C3,A1,O1,"I3,completed,60,2025-04-28 10:00:00,2025-04-28',
        "C4,A1,O1,I4,completed,60,2025-04-28 10:00:00,2025-04-28",
    )
    error = fails(tmp_path, content)
    assert error.line == 2


def test_latin1_bytes_in_a_record_fail_with_their_line(tmp_path):
    content = lines(CALL_HEADER, GOOD_CALL, "C2,A1,O1,I2,completed,60,2025-04-28 10:00:00,2025-04-28")
    content += "C3,A1,O1,Jos\xe9,completed,60,2025-04-28 10:00:00,2025-04-28\n"
    error = fails(tmp_path, content.encode("latin-1"))
    assert error.file_name == "call_logs.csv"
    assert "UTF-8" in error.problem
    assert error.line == 4


def test_latin1_bytes_in_the_header_fail_on_line_1(tmp_path):
    content = (ROSTER_HEADER + ",Bür\n" + "A1,Ravi,Sharma,Pune,O1,x\n").encode("latin-1")
    error = fails(tmp_path, content, AGENT_ROSTER)
    assert error.file_name == "agent_roster.csv"
    assert error.line == 1


def test_latin1_bytes_in_a_malformed_record_still_fail_as_not_utf8(tmp_path):
    content = (CALL_HEADER + "\n" + GOOD_CALL + "\nC2,A1,Jos\xe9\n").encode("latin-1")
    error = fails(tmp_path, content)
    assert "UTF-8" in error.problem
    assert error.line == 3


# --- encodings, line ends, quoting --------------------------------------------------------


def test_bom_and_crlf_are_accepted(tmp_path):
    content = b"\xef\xbb\xbf" + lines(CALL_HEADER, GOOD_CALL, "C2,A2,O1,I2,busy,0,x,y", end="\r\n").encode()
    table = read(tmp_path, content)
    assert table.records_read == 2
    assert table.frame["call_id"].tolist() == ["C1", "C2"]  # BOM not glued to the first name
    assert table.frame["call_date"].tolist() == ["2025-04-28", "y"]  # no stray \r
    assert table.frame[RAW_TEXT].isna().all()


def test_bom_with_header_only_gives_zero_records(tmp_path):
    table = read(tmp_path, b"\xef\xbb\xbf" + (DISPOSITION_HEADER + "\r\n").encode(), DISPOSITION_SUMMARY)
    assert table.records_read == 0
    assert len(table.frame) == 0


def test_header_only_file_without_final_line_end_gives_zero_records(tmp_path):
    table = read(tmp_path, ROSTER_HEADER, AGENT_ROSTER)
    assert table.records_read == 0
    assert len(table.frame) == 0


def test_last_record_without_final_line_end_is_read(tmp_path):
    table = read(tmp_path, CALL_HEADER + "\n" + GOOD_CALL)
    assert table.records_read == 1
    assert table.frame.loc[0, "call_date"] == "2025-04-28"


def test_rfc4180_quoting_with_commas_apostrophes_and_non_latin_letters(tmp_path):
    content = lines(
        ROSTER_HEADER,
        'A1,"O\'Brien","Reddy, Jr.","Hyderabad, Telangana",O1',
        'A2,Zoë,Björk,"He said ""hi""",O1',
        "A3,अनन्या,山田,Pune,O2",
    )
    frame = read(tmp_path, content, AGENT_ROSTER).frame
    assert frame["users_first_name"].tolist() == ["O'Brien", "Zoë", "अनन्या"]
    assert frame["users_last_name"].tolist() == ["Reddy, Jr.", "Björk", "山田"]
    assert frame["users_office_location"].tolist() == ["Hyderabad, Telangana", 'He said "hi"', "Pune"]
    assert frame[RAW_TEXT].isna().all()


def test_embedded_newlines_stay_in_the_value_and_do_not_split_records(tmp_path):
    content = lines(
        ROSTER_HEADER,
        'A1,Ravi,Sharma,"Line one\nline two",O1',
        'A2,Meera,Kapoor,"CRLF\r\ninside",O1',
        "A3,Zoë,Singh,Pune,O1",
    )
    table = read(tmp_path, content, AGENT_ROSTER)
    assert table.records_read == 3
    assert table.frame[ROW_NUMBER].tolist() == [1, 2, 3]
    assert table.frame.loc[0, "users_office_location"] == "Line one\nline two"
    assert table.frame.loc[1, "users_office_location"] == "CRLF\r\ninside"
    assert table.frame.loc[2, "agent_id"] == "A3"


# --- records and their numbers ------------------------------------------------------------


def test_blank_lines_are_not_records_and_not_numbered(tmp_path):
    content = "\n" + CALL_HEADER + "\n\n" + GOOD_CALL + "\n\n\n" + GOOD_CALL.replace("C1", "C2") + "\n   \n"
    content += GOOD_CALL.replace("C1", "C3") + "\n\n"
    table = read(tmp_path, content)
    assert table.records_read == 3
    assert table.frame["call_id"].tolist() == ["C1", "C2", "C3"]
    assert table.frame[ROW_NUMBER].tolist() == [1, 2, 3]


@pytest.mark.parametrize("before", ["\n", "\r\n\r\n", "   \n", " \t \r\n"], ids=["lf", "crlf", "spaces", "tab_crlf"])
def test_blank_lines_before_the_header_are_skipped(tmp_path, before):
    # The reader treats a white-space-only line as blank inside the file; before the header too.
    table = read(tmp_path, before + lines(CALL_HEADER, GOOD_CALL))
    assert table.records_read == 1
    assert table.frame.loc[0, "call_id"] == "C1"
    assert table.frame[ROW_NUMBER].tolist() == [1]


def test_blank_crlf_lines_are_not_records(tmp_path):
    content = lines(CALL_HEADER, "", GOOD_CALL, "", "", end="\r\n")
    table = read(tmp_path, content)
    assert table.records_read == 1
    assert table.frame[ROW_NUMBER].tolist() == [1]


def test_a_record_of_empty_fields_is_a_record(tmp_path):
    table = read(tmp_path, lines(CALL_HEADER, ",,,,,,,"))
    assert table.records_read == 1
    assert table.frame.loc[0, "call_id"] == ""
    assert pd.isna(table.frame.loc[0, RAW_TEXT])


def test_too_many_and_too_few_fields_are_kept_as_malformed_raw_text(tmp_path):
    too_many = GOOD_CALL.replace("C1", "C2") + ",surplus"
    too_few = "C3,A1,O1"
    content = lines(CALL_HEADER, GOOD_CALL, "", too_many, "", too_few, GOOD_CALL.replace("C1", "C4"))
    table = read(tmp_path, content)
    frame = table.frame
    assert table.records_read == 4
    assert frame[ROW_NUMBER].tolist() == [1, 2, 3, 4]
    assert frame[RAW_TEXT].isna().tolist() == [True, False, False, True]
    assert frame.loc[1, RAW_TEXT] == too_many
    assert frame.loc[2, RAW_TEXT] == too_few
    assert frame.loc[1, CALL_LOGS.columns].isna().all()  # no half-parsed values
    assert frame.loc[3, "call_id"] == "C4"
    assert profile_raw(frame, CALL_LOGS).malformed == 2  # the raw asset's malformed_rows


def test_malformed_rows_after_quoted_newlines_keep_their_record_number(tmp_path):
    content = lines(
        ROSTER_HEADER,
        'A1,Ravi,Sharma,"two\nlines",O1',
        "A2,Meera",
        "A3,Zoë,Singh,Pune,O1",
    )
    frame = read(tmp_path, content, AGENT_ROSTER).frame
    assert frame[ROW_NUMBER].tolist() == [1, 2, 3]
    assert frame.loc[1, RAW_TEXT] == "A2,Meera"


@pytest.mark.parametrize("text", ["NA", "NULL", "nan", "NaN", "None", "N/A", "#N/A", "null", "-"])
def test_na_like_values_are_read_as_text(tmp_path, text):
    record = f"{text},{text},{text},{text},{text},{text},{text},{text}"
    row = read(tmp_path, lines(CALL_HEADER, record)).frame.iloc[0]
    for column in CALL_LOGS.columns:
        assert row[column] == text


def test_values_are_untrimmed_text_and_never_coerced(tmp_path):
    record = " C1 ,007,O1,  ,COMPLETED,60.0,2025-04-28 10:00:00,2025-04-28"
    row = read(tmp_path, lines(CALL_HEADER, record)).frame.iloc[0]
    assert row["call_id"] == " C1 "
    assert row["agent_id"] == "007"  # not the number 7
    assert row["installment_id"] == "  "
    assert row["duration"] == "60.0"
    assert isinstance(row["duration"], str)


def test_every_value_column_is_text_even_when_numeric(tmp_path):
    frame = read(tmp_path, lines(CALL_HEADER, "1,2,3,4,5,6,7,8")).frame
    for column in CALL_LOGS.columns:
        assert pd.api.types.is_string_dtype(frame[column]), column
    assert frame.loc[0, "duration"] == "6"


def test_a_one_megabyte_field_is_read_whole(tmp_path):
    big = "x" * (1 << 20)
    content = lines(CALL_HEADER, f'C1,A1,O1,"{big}",completed,60,2025-04-28 10:00:00,2025-04-28', GOOD_CALL)
    table = read(tmp_path, content)
    assert table.records_read == 2
    assert table.frame.loc[0, "installment_id"] == big
    assert table.frame.loc[1, "call_id"] == "C1"


def test_records_read_counts_every_data_record(tmp_path):
    body = [GOOD_CALL.replace("C1", f"C{i}") for i in range(1, 8)]
    body[3] = "C4,only,three"
    content = lines(CALL_HEADER, *body[:2], "", *body[2:])
    table = read(tmp_path, content)
    expected = sum(1 for r in csv.reader(io.StringIO(content)) if r) - 1  # minus the header
    assert table.records_read == expected == 7
    assert len(table.frame) == table.records_read


def test_header_only_file_gives_zero_records(tmp_path):
    table = read(tmp_path, lines(DISPOSITION_HEADER), DISPOSITION_SUMMARY)
    assert table.records_read == 0
    assert list(table.frame.columns) == [ROW_NUMBER, *DISPOSITION_SUMMARY.columns, RAW_TEXT]


def test_raw_table_remembers_path_and_size(tmp_path):
    content = lines(CALL_HEADER, GOOD_CALL)
    path = write(tmp_path, content)
    table = read_landing_csv(path, CALL_LOGS)
    assert table.path == path
    assert table.bytes == len(content.encode())

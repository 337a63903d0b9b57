"""Layer 1: where a day's files live, the roster carry-forward (``landing``) and raw profiles.

Each test lays out a tiny landing zone under ``tmp_path``:
``<data_dir>/landing/<YYYY-MM-DD>/agent_roster.csv``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from callops_dagster.contract.sources import AGENT_ROSTER, CALL_LOGS, DISPOSITION_SUMMARY, SourceSpec
from callops_dagster.ingest.roster import choose_roster
from callops_dagster.landing.folder import landed_days, landing_file, newest_complete_day
from callops_dagster.ingest.profiling import profile_raw
from callops_dagster.ingest.reading import SourceFileError, read_landing_csv

DAY = dt.date(2025, 4, 28)
ROSTER_HEADER = "agent_id,users_first_name,users_last_name,users_office_location,org_id\n"
CALL_HEADER = "call_id,agent_id,org_id,installment_id,status,duration,created_ts,call_date\n"
DISPOSITION_HEADER = "agent_id,org_id,call_date,login_time\n"


def roster_text(*agent_ids: str) -> str:
    return ROSTER_HEADER + "".join(f"{a},First,Last,Pune,O1\n" for a in agent_ids)


def land(data_dir: Path, day: str, content: str | bytes, name: str = "agent_roster.csv") -> Path:
    path = data_dir / "landing" / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def agent_ids(choice) -> list[str]:
    return choice.table.frame["agent_id"].tolist()


# --- choose_roster ------------------------------------------------------------------------


def test_paths_follow_the_landing_layout(tmp_path):
    path = landing_file(tmp_path, DAY, AGENT_ROSTER)
    assert path == tmp_path / "landing" / "2025-04-28" / "agent_roster.csv"


def test_the_days_own_roster_is_used_when_it_has_data_rows(tmp_path):
    land(tmp_path, "2025-04-27", roster_text("OLD"))
    land(tmp_path, "2025-04-28", roster_text("A1", "A2"))
    choice = choose_roster(tmp_path, DAY)
    assert choice.roster_day == DAY
    assert not choice.carried_forward(DAY)
    assert agent_ids(choice) == ["A1", "A2"]


def test_missing_roster_carries_forward_the_latest_earlier_day(tmp_path):
    land(tmp_path, "2025-04-20", roster_text("OLDEST"))
    land(tmp_path, "2025-04-26", roster_text("LATEST"))
    land(tmp_path, "2025-04-28", CALL_HEADER, name="call_logs.csv")  # the day, without a roster
    land(tmp_path, "2025-04-29", roster_text("FUTURE"))  # later days are never used
    choice = choose_roster(tmp_path, DAY)
    assert choice.roster_day == dt.date(2025, 4, 26)
    assert choice.carried_forward(DAY)
    assert agent_ids(choice) == ["LATEST"]


def test_missing_day_folder_carries_forward(tmp_path):
    land(tmp_path, "2025-04-27", roster_text("A1"))
    choice = choose_roster(tmp_path, DAY)
    assert choice.roster_day == dt.date(2025, 4, 27)


@pytest.mark.parametrize(
    "content",
    [b"", ROSTER_HEADER, ROSTER_HEADER.replace("\n", "\r\n"), "\n" + ROSTER_HEADER + "\n\n",
     b"\xef\xbb\xbf" + ROSTER_HEADER.encode()],
    ids=["zero_bytes", "header_only", "header_only_crlf", "header_and_blank_lines", "bom_header_only"],
)
def test_empty_or_header_only_roster_carries_forward(tmp_path, content):
    land(tmp_path, "2025-04-27", roster_text("PREV"))
    land(tmp_path, "2025-04-28", content)
    choice = choose_roster(tmp_path, DAY)
    assert choice.roster_day == dt.date(2025, 4, 27)
    assert agent_ids(choice) == ["PREV"]


def test_header_only_roster_without_final_line_end_carries_forward(tmp_path):
    land(tmp_path, "2025-04-27", roster_text("PREV"))
    land(tmp_path, "2025-04-28", ROSTER_HEADER.rstrip("\n"))
    choice = choose_roster(tmp_path, DAY)
    assert choice.roster_day == dt.date(2025, 4, 27)


def test_earlier_header_only_and_empty_rosters_are_skipped(tmp_path):
    land(tmp_path, "2025-04-24", roster_text("GOOD"))
    land(tmp_path, "2025-04-25", ROSTER_HEADER)
    land(tmp_path, "2025-04-26", b"")
    land(tmp_path, "2025-04-27", CALL_HEADER, name="call_logs.csv")
    choice = choose_roster(tmp_path, DAY)
    assert choice.roster_day == dt.date(2025, 4, 24)
    assert agent_ids(choice) == ["GOOD"]


def test_no_roster_anywhere_fails_naming_the_file(tmp_path):
    land(tmp_path, "2025-04-28", CALL_HEADER, name="call_logs.csv")
    with pytest.raises(SourceFileError) as info:
        choose_roster(tmp_path, DAY)
    assert info.value.file_name == "agent_roster.csv"
    assert str(info.value).startswith("agent_roster.csv: ")


def test_no_landing_folder_at_all_fails(tmp_path):
    with pytest.raises(SourceFileError, match="agent_roster.csv"):
        choose_roster(tmp_path / "nothing-here", DAY)


def test_only_header_only_earlier_rosters_fail(tmp_path):
    land(tmp_path, "2025-04-26", ROSTER_HEADER)
    land(tmp_path, "2025-04-28", ROSTER_HEADER)
    with pytest.raises(SourceFileError, match="agent_roster.csv"):
        choose_roster(tmp_path, DAY)


def test_only_later_rosters_fail(tmp_path):
    land(tmp_path, "2025-04-29", roster_text("FUTURE"))
    with pytest.raises(SourceFileError):
        choose_roster(tmp_path, DAY)


@pytest.mark.parametrize(
    "content, problem",
    [
        ("agent_id,users_first_name,users_last_name,org_id\nA1,Ravi,Sharma,O1\n", "users_office_location"),
        (ROSTER_HEADER.rstrip("\n") + ",Agent_ID\nA1,Ravi,Sharma,Pune,O1,A1\n", "duplicate"),
        (ROSTER_HEADER + 'A1,"Ravi,Sharma,Pune,O1\n', "quote"),
        ((ROSTER_HEADER + "A1,Zo\xeb,Singh,Pune,O1\n").encode("latin-1"), "UTF-8"),
    ],
    ids=["missing_column", "duplicate_header", "unterminated_quote", "latin1"],
)
def test_present_but_broken_roster_fails_rather_than_carrying_forward(tmp_path, content, problem):
    land(tmp_path, "2025-04-27", roster_text("PREV"))
    land(tmp_path, "2025-04-28", content)
    with pytest.raises(SourceFileError) as info:
        choose_roster(tmp_path, DAY)
    assert info.value.file_name == "agent_roster.csv"
    assert problem in str(info.value)


def test_non_date_folders_are_ignored(tmp_path):
    land(tmp_path, "2025-04-20", roster_text("REAL"))
    for name in ("backup", "2025-04-27-old", "20250427", "2025-W17-7", "2025-4-27", "latest"):
        land(tmp_path, name, roster_text("IMPOSTOR"))
    (tmp_path / "landing" / "2025-04-26").write_text(roster_text("A FILE, NOT A FOLDER"))
    choice = choose_roster(tmp_path, DAY)
    assert choice.roster_day == dt.date(2025, 4, 20)
    assert agent_ids(choice) == ["REAL"]


def test_landed_days_lists_only_date_folders_in_order(tmp_path):
    for name in ("2025-04-28", "2025-04-02", "notes", "20250403", "2025-04-10"):
        (tmp_path / "landing" / name).mkdir(parents=True)
    (tmp_path / "landing" / "2025-04-05").write_text("a file")
    assert landed_days(tmp_path) == [dt.date(2025, 4, 2), dt.date(2025, 4, 10), dt.date(2025, 4, 28)]


def test_carried_roster_rows_keep_their_own_row_numbers(tmp_path):
    land(tmp_path, "2025-04-27", roster_text("A1", "A2", "A3"))
    choice = choose_roster(tmp_path, DAY)
    assert choice.table.frame["row_number"].tolist() == [1, 2, 3]
    assert choice.table.records_read == 3
    assert choice.table.path == tmp_path / "landing" / "2025-04-27" / "agent_roster.csv"


# --- profile_raw --------------------------------------------------------------------------


def profile(tmp_path: Path, spec: SourceSpec, content: str):
    path = tmp_path / spec.file_name
    path.write_text(content, encoding="utf-8")
    return profile_raw(read_landing_csv(path, spec).frame, spec)


def test_profile_counts_records_missing_and_duplicate_call_keys(tmp_path):
    content = CALL_HEADER + "".join(
        [
            "C1,A1,O1,I1,completed,60,2025-04-28 10:00:00,2025-04-28\n",
            "C1,A1,O1,I1,completed,60,2025-04-28 10:00:00,2025-04-28\n",  # the same call again
            "C1,A2,O1,I1,busy,60,2025-04-28 11:00:00,2025-04-28\n",  # (v2) another agent's call
            ",A1,O1,I1,completed,60,2025-04-28 10:00:00,2025-04-28\n",  # missing call_id
            "C2,  ,O1,I1,completed,60,2025-04-28 10:00:00,2025-04-28\n",  # missing agent_id
            "C3,A1,O1,I1,completed,60,2025-04-28 10:00:00,\n",  # missing call_date
            "C4,A1,O1,,completed,60,2025-04-28 10:00:00,2025-04-28\n",  # installment is no key
            "C5,A1\n",  # malformed
            "\n",
        ]
    )
    result = profile(tmp_path, CALL_LOGS, content)
    assert result.records == 8
    assert result.malformed == 1
    assert result.missing_keys == 3
    assert result.duplicate_keys == 1
    assert result.missing_key_share == pytest.approx(3 / 8)


def test_profile_does_not_count_rows_with_a_missing_key_as_duplicates(tmp_path):
    content = CALL_HEADER + (
        "C1,,O1,I1,completed,60,2025-04-28 10:00:00,2025-04-28\n"
        "C1,A1,O1,I1,completed,60,2025-04-28 10:00:00,2025-04-28\n"
    )
    result = profile(tmp_path, CALL_LOGS, content)
    assert (result.missing_keys, result.duplicate_keys) == (1, 0)


def test_profile_of_roster_keys_on_agent_and_org(tmp_path):
    content = roster_text("A1", "A1", "A2") + "A1,Ravi,Sharma,Pune,O2\n" + "A3,x,y,z, \n"
    result = profile(tmp_path, AGENT_ROSTER, content)
    assert result.records == 5
    assert result.missing_keys == 1
    assert result.duplicate_keys == 1  # A1@O1 twice; A1@O2 is another person


def test_profile_of_disposition_keys_on_org_agent_and_date(tmp_path):
    content = DISPOSITION_HEADER + (
        "A1,O1,2025-04-28,2025-04-28 09:00:00\n"
        "A1,O1,2025-04-28,\n"
        "A1,O1,2025-04-27,2025-04-27 09:00:00\n"
        "A1,O2,2025-04-28,\n"
        ",O1,2025-04-28,\n"
        "A9\n"
    )
    result = profile(tmp_path, DISPOSITION_SUMMARY, content)
    assert (result.records, result.malformed, result.missing_keys, result.duplicate_keys) == (6, 1, 1, 1)


def test_profile_of_a_header_only_file(tmp_path):
    result = profile(tmp_path, CALL_LOGS, CALL_HEADER)
    assert (result.records, result.malformed, result.missing_keys, result.duplicate_keys) == (0, 0, 0, 0)
    assert result.missing_key_share == 0.0


def test_newest_complete_day_ignores_later_and_incomplete_folders(tmp_path):
    """Slack posts only the newest day: a folder still landing must not make the day old."""
    for day in ("2025-04-26", "2025-04-27", "2025-04-28", "2025-04-29"):
        folder = tmp_path / "landing" / day
        folder.mkdir(parents=True)
        for name in ("call_logs.csv", "disposition_summary.csv"):
            (folder / name).write_text("x\n")
    (tmp_path / "landing" / "2025-04-28" / "disposition_summary.csv").unlink()  # incomplete
    last_partition = dt.date(2025, 4, 28)  # 2025-04-29 is today: not a partition yet
    assert newest_complete_day(tmp_path, last_partition) == dt.date(2025, 4, 27)
    assert newest_complete_day(tmp_path, dt.date(2025, 4, 25)) is None

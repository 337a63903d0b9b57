"""Layer 1: the landing sensor's pure helpers (listing, fingerprints, the two-look plan)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest

from callops_dagster.landing.folder import landed_days
from callops_dagster.landing.watch import (
    WatchState,
    files_fingerprint,
    landed_files,
    parse_day,
    plan_tick,
    run_key,
    scan_landing,
)
from callops_dagster_tests.conftest import landing, write_day

DAY = "2025-04-28"
FIRST = dt.date(2025, 1, 1)
TODAY = dt.date(2025, 5, 1)


def plan(data_dir: Path, state: WatchState, **kw):
    kw = {"first_day": FIRST, "today": TODAY, **kw}
    return plan_tick(scan_landing(data_dir), state, **kw)


def fingerprint_of(folder: Path) -> str:
    """The fingerprint the plan gives a complete day's files."""
    return files_fingerprint(landed_files(folder))


def touch(path: Path, seconds_later: int = 10) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + seconds_later * 10**9))


@pytest.mark.parametrize(
    ("name", "expected"),
    [("2025-04-28", dt.date(2025, 4, 28)), ("20250428", None), ("2025-4-28", None),
     ("2025-02-30", None), ("notes", None), ("2025-04-28.tmp", None)],
)
def test_parse_day_accepts_only_exact_iso_dates(name, expected):
    assert parse_day(name) == expected


def test_scan_lists_date_folders_and_names_the_rest(tmp_path):
    write_day(tmp_path, DAY)
    (tmp_path / "landing" / "archive").mkdir()
    (tmp_path / "landing" / "README.txt").write_text("x")
    (tmp_path / "landing" / "2025-04-29").write_text("a file, not a folder")
    (tmp_path / "landing" / ".2025-04-30.partial").mkdir()
    scan = scan_landing(tmp_path)
    assert list(scan.days) == [dt.date(2025, 4, 28)]
    assert scan.ignored == ("2025-04-29", "README.txt", "archive")
    assert landed_days(tmp_path) == [dt.date(2025, 4, 28)]


def test_scan_of_a_missing_landing_folder_is_empty(tmp_path):
    assert scan_landing(tmp_path).days == {}


def test_fingerprint_needs_calls_and_logins_but_not_the_roster(tmp_path):
    folder = write_day(tmp_path, DAY)
    with_roster = fingerprint_of(folder)
    (folder / "agent_roster.csv").unlink()
    without_roster = fingerprint_of(folder)
    assert with_roster and without_roster and with_roster != without_roster
    (folder / "disposition_summary.csv").unlink()
    assert landed_files(folder) is None


def test_fingerprint_changes_with_size_or_mtime_only(tmp_path):
    folder = write_day(tmp_path, DAY)
    first = fingerprint_of(folder)
    assert fingerprint_of(folder) == first
    touch(folder / "call_logs.csv")
    touched = fingerprint_of(folder)
    assert touched != first
    with open(folder / "call_logs.csv", "a", encoding="utf-8") as handle:
        handle.write("C9,A1,ORG1,L9,completed,5,2025-04-28 11:00:00,2025-04-28\n")
    assert fingerprint_of(folder) not in {first, touched}


def test_a_folder_named_like_a_required_file_is_not_the_file(tmp_path):
    folder = write_day(tmp_path, DAY)
    (folder / "call_logs.csv").unlink()
    (folder / "call_logs.csv").mkdir()
    assert landed_files(folder) is None


def test_run_key_carries_the_fingerprint():
    assert run_key(DAY, "abc") == "2025-04-28:abc"


def test_cursor_round_trips():
    state = WatchState({"2025-04-27": "aa"}, {"2025-04-28": "bb"})
    assert WatchState.from_json(state.to_json()) == state
    assert WatchState.from_json(None) == WatchState()


@pytest.mark.parametrize("bad", ["not json", "[1]", '{"version": 99}', '{"version": 1, "seen": {"d": 1}}'])
def test_cursor_rejects_foreign_text(bad):
    with pytest.raises(ValueError):
        WatchState.from_json(bad)


def test_a_new_day_runs_on_the_second_unchanged_look(tmp_path):
    write_day(tmp_path, DAY)
    first = plan(tmp_path, WatchState())
    assert (first.ready, first.settling) == ([], [DAY])
    second = plan(tmp_path, first.state)
    fingerprint = fingerprint_of(landing(tmp_path, DAY))
    assert second.ready == [(DAY, fingerprint)]
    assert second.state == WatchState(launched={DAY: fingerprint})
    third = plan(tmp_path, second.state)
    assert third.ready == [] and third.state == second.state
    assert third.summary() == "every landed day is up to date"


def test_a_day_still_changing_waits(tmp_path):
    folder = write_day(tmp_path, DAY)
    state = plan(tmp_path, WatchState()).state
    touch(folder / "call_logs.csv")
    changed = plan(tmp_path, state)
    assert changed.ready == [] and changed.settling == [DAY]
    assert plan(tmp_path, changed.state).ready != []


def test_a_re_drop_runs_once_more(tmp_path):
    folder = write_day(tmp_path, DAY)
    state = plan(tmp_path, plan(tmp_path, WatchState()).state).state
    touch(folder / "disposition_summary.csv")
    looked = plan(tmp_path, state)
    assert looked.ready == []
    again = plan(tmp_path, looked.state)
    assert again.ready == [(DAY, fingerprint_of(folder))]
    assert plan(tmp_path, again.state).ready == []


def test_a_day_with_a_missing_required_file_is_incomplete_and_keeps_its_launch(tmp_path):
    folder = write_day(tmp_path, DAY)
    state = plan(tmp_path, plan(tmp_path, WatchState()).state).state
    data = (folder / "call_logs.csv").read_bytes()
    info = (folder / "call_logs.csv").stat()
    (folder / "call_logs.csv").unlink()
    gone = plan(tmp_path, state)
    assert gone.incomplete == [DAY] and gone.state.launched == state.launched
    (folder / "call_logs.csv").write_bytes(data)  # the same file dropped again, mtime kept
    os.utime(folder / "call_logs.csv", ns=(info.st_atime_ns, info.st_mtime_ns))
    assert plan(tmp_path, plan(tmp_path, gone.state).state).ready == []


def test_today_and_later_are_retried_not_dropped(tmp_path):
    write_day(tmp_path, TODAY.isoformat())
    state = WatchState()
    for _ in range(3):
        tick = plan(tmp_path, state)
        assert tick.ready == []
        state = tick.state
    assert tick.not_open == [TODAY.isoformat()]
    later = plan(tmp_path, state, today=TODAY + dt.timedelta(days=1))
    assert [day for day, _ in later.ready] == [TODAY.isoformat()]


def test_days_before_the_first_partition_are_never_run(tmp_path):
    write_day(tmp_path, "2024-12-31")
    tick = plan(tmp_path, plan(tmp_path, WatchState()).state)
    assert tick.ready == [] and tick.before_start == ["2024-12-31"]


def test_days_already_done_are_adopted_without_a_run(tmp_path):
    write_day(tmp_path, DAY)
    write_day(tmp_path, "2025-04-29")
    asked = []

    def done() -> set[str]:
        asked.append(1)
        return {DAY}

    first = plan(tmp_path, WatchState(), already_done=done)
    assert first.adopted == [DAY] and first.settling == ["2025-04-29"] and len(asked) == 1
    second = plan(tmp_path, first.state, already_done=done)
    assert [d for d, _ in second.ready] == ["2025-04-29"]
    assert len(asked) == 1  # only asked when a day is seen for the first time
    touch(landing(tmp_path, DAY) / "call_logs.csv")  # a corrected re-drop of an adopted day runs
    assert [d for d, _ in plan(tmp_path, plan(tmp_path, second.state).state).ready] == [DAY]


def test_a_backlog_drains_a_limited_number_of_runs_per_tick(tmp_path):
    days = [f"2025-04-{d:02d}" for d in range(1, 6)]
    for day in days:
        write_day(tmp_path, day)
    state = plan(tmp_path, WatchState(), max_runs=2).state
    ran = []
    for _ in range(3):
        tick = plan(tmp_path, state, max_runs=2)
        ran += [d for d, _ in tick.ready]
        state = tick.state
    assert ran == days


def test_removed_days_leave_the_cursor(tmp_path):
    import shutil

    write_day(tmp_path, DAY)
    state = plan(tmp_path, plan(tmp_path, WatchState()).state).state
    shutil.rmtree(landing(tmp_path, DAY))
    assert plan(tmp_path, state).state == WatchState()


def test_the_fingerprint_formula_is_the_one_cursors_already_hold(tmp_path):
    """Name, size and mtime of each present file, contract order, one line each, sha256, 16 hex."""
    folder = write_day(tmp_path, DAY)
    lines = []
    for name in ("call_logs.csv", "agent_roster.csv", "disposition_summary.csv"):
        info = (folder / name).stat()
        lines.append(f"{name}:{info.st_size}:{info.st_mtime_ns}")
    expected = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    assert files_fingerprint(landed_files(folder)) == expected


def test_the_plan_keeps_the_files_behind_each_ready_or_adopted_day(tmp_path):
    write_day(tmp_path, DAY)
    later = write_day(tmp_path, "2025-04-29")
    (later / "agent_roster.csv").unlink()
    first = plan(tmp_path, WatchState(), already_done=lambda: {DAY})
    assert first.adopted == [DAY] and list(first.files) == [DAY]  # the settling day has none yet
    second = plan(tmp_path, first.state)
    assert list(second.files) == ["2025-04-29"]
    files = second.files["2025-04-29"]
    assert [f.name for f in files] == ["call_logs.csv", "disposition_summary.csv"]
    assert files_fingerprint(files) == second.ready[0][1]
    for landed in files:
        info = landed.path.stat()
        assert (landed.size, landed.mtime_ns) == (info.st_size, info.st_mtime_ns)
    assert plan(tmp_path, second.state).files == {}
    assert landed_files(tmp_path / "no-such-day") is None

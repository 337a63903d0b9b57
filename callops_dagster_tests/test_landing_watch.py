"""Layer 1: the landing sensor's pure helpers (listing, fingerprints, the two-look plan)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest

from callops_dagster.contract.sources import CALL_LOGS
from callops_dagster.ingest.reading import read_landing_csv
from callops_dagster.landing import watch
from callops_dagster.landing.folder import landed_days
from callops_dagster.landing.watch import (
    CARRIED,
    Recorded,
    WatchState,
    content_change,
    files_fingerprint,
    landed_files,
    parse_day,
    plan_tick,
    run_key,
    scan_landing,
)
from callops_dagster.platform.content import bytes_sha256, file_sha256
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


# ---------------------------------------------------------------- a day that ran before, touched

WATCHED = ("call_logs.csv", "agent_roster.csv", "disposition_summary.csv")


def as_recorded(folder: Path, *, finished: bool = True, **versions: str | None) -> Recorded:
    """What the instance would hold after a finished run over ``folder``'s files as they are now
    (each file's sha256 as its landing asset's data version); ``versions`` override by stem."""
    recorded = {name: file_sha256(folder / name) if (folder / name).exists() else None for name in WATCHED}
    recorded |= {f"{stem}.csv": version for stem, version in versions.items()}
    return Recorded(recorded, finished)


def ran(data_dir: Path) -> WatchState:
    """The cursor after the sensor ran every landed day (two looks)."""
    return plan(data_dir, plan(data_dir, WatchState()).state).state


def test_the_sensor_hashes_a_file_as_the_landing_asset_versions_it(tmp_path):
    """One formula: the sha256 of the file's bytes is the raw asset's data version."""
    folder = write_day(tmp_path, DAY)
    path = folder / "call_logs.csv"
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert file_sha256(path) == bytes_sha256(path.read_bytes()) == expected
    assert read_landing_csv(path, CALL_LOGS).fingerprint == expected


def test_a_touched_day_with_the_same_bytes_is_adopted_without_a_run(tmp_path):
    folder = write_day(tmp_path, DAY)
    state = ran(tmp_path)
    recorded = as_recorded(folder)
    touch(folder / "call_logs.csv")
    touch(folder / "agent_roster.csv")
    first = plan(tmp_path, state, recorded=lambda day: recorded)
    assert first.settling == [DAY] and first.identical == []  # the two-look rule still holds
    second = plan(tmp_path, first.state, recorded=lambda day: recorded)
    assert second.ready == [] and second.identical == [DAY] and second.changed == {}
    assert second.state == WatchState(launched={DAY: fingerprint_of(folder)})
    assert list(second.files) == [DAY]
    assert "1 touched with identical content (nothing to refresh): 2025-04-28" in second.summary()
    third = plan(tmp_path, second.state, recorded=lambda day: recorded)
    assert (third.ready, third.identical, third.settling) == ([], [], [])


def test_a_re_drop_with_new_bytes_runs_and_says_which_file(tmp_path):
    folder = write_day(tmp_path, DAY)
    state = ran(tmp_path)
    recorded = as_recorded(folder)
    with open(folder / "disposition_summary.csv", "a", encoding="utf-8") as handle:
        handle.write(f"A3,ORG1,{DAY},{DAY} 09:30:00\n")
    tick = plan(tmp_path, plan(tmp_path, state, recorded=lambda day: recorded).state, recorded=lambda day: recorded)
    assert tick.ready == [(DAY, fingerprint_of(folder))] and tick.identical == []
    assert tick.changed == {DAY: "disposition_summary.csv changed"}


def test_only_a_day_that_ran_before_is_compared(tmp_path):
    write_day(tmp_path, DAY)

    def never(day):
        raise AssertionError(f"{day} was compared")

    tick = plan(tmp_path, plan(tmp_path, WatchState(), recorded=never).state, recorded=never)
    assert [d for d, _ in tick.ready] == [DAY]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("nothing recorded", "no materialisation of its landing files recorded"),
        ("unfinished", "its last run did not finish after reading its files"),
        ("roster removed", "agent_roster.csv was removed"),
        ("roster was carried", "agent_roster.csv was added"),
        ("roster never recorded", "agent_roster.csv was added"),
        ("roster carried, still absent", None),
        ("unchanged", None),
    ],
)
def test_content_change_names_why_a_day_runs_again(tmp_path, change, reason):
    folder = write_day(tmp_path, DAY)
    recorded = as_recorded(folder)
    if change == "nothing recorded":
        recorded = None
    elif change == "unfinished":
        recorded = as_recorded(folder, finished=False)
    elif change == "roster removed":
        (folder / "agent_roster.csv").unlink()
    elif change == "roster was carried":
        recorded = as_recorded(folder, agent_roster=CARRIED + "abc")
    elif change == "roster never recorded":
        recorded = as_recorded(folder, agent_roster=None)
    elif change == "roster carried, still absent":
        (folder / "agent_roster.csv").unlink()
        recorded = as_recorded(folder, agent_roster=CARRIED + "abc")
    assert content_change(landed_files(folder), recorded) == reason


def test_content_change_stops_at_the_first_file_that_differs(tmp_path, monkeypatch):
    folder = write_day(tmp_path, DAY)
    recorded = as_recorded(folder, call_logs="0" * 64)
    hashed = []
    monkeypatch.setattr(watch, "file_sha256", lambda path: hashed.append(path.name) or file_sha256(path))
    assert content_change(landed_files(folder), recorded) == "call_logs.csv changed"
    assert hashed == ["call_logs.csv"]


def test_a_file_that_vanishes_while_compared_is_looked_at_again(tmp_path):
    folder = write_day(tmp_path, DAY)
    state = ran(tmp_path)
    touch(folder / "call_logs.csv")
    looked = plan(tmp_path, state)

    def recorded_then_gone(day):
        found = as_recorded(folder)
        (folder / "call_logs.csv").unlink()  # the dropper replaces the file just now
        return found

    tick = plan(tmp_path, looked.state, recorded=recorded_then_gone)
    assert (tick.ready, tick.identical, tick.settling) == ([], [], [DAY])
    assert tick.state.launched == state.launched and DAY not in tick.state.seen
    assert plan(tmp_path, tick.state).incomplete == [DAY]


def test_comparisons_per_tick_are_limited_and_the_rest_held_back(tmp_path):
    days = ["2025-04-26", "2025-04-27", DAY]
    for day in days:
        write_day(tmp_path, day)
    state = ran(tmp_path)
    recorded = {day: as_recorded(landing(tmp_path, day)) for day in days}
    for day in days:
        touch(landing(tmp_path, day) / "call_logs.csv")
    state = plan(tmp_path, state, recorded=recorded.get, max_compares=2).state
    tick = plan(tmp_path, state, recorded=recorded.get, max_compares=2)
    assert tick.identical == days[:2] and tick.held_back == [DAY] and tick.ready == []
    last = plan(tmp_path, tick.state, recorded=recorded.get, max_compares=2)
    assert last.identical == [DAY] and last.ready == []
    assert last.state.launched == {day: fingerprint_of(landing(tmp_path, day)) for day in days}

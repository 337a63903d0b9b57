"""Staleness: which materialised partitions read an input that changed since they ran.

Layer 1: the pure rules (``platform/staleness.py``) on hand-built records. Layer 2 (slow): two
days materialised, day 1's file corrected and only its landing and validated tables run again;
day 2's seven-day window is then stale, refresh pending, as Dagster's own resolver (the UI's
"unsynced") says too; after day 2 is refreshed it is done and nothing is stale.
"""

from __future__ import annotations

import pytest

from callops_dagster.console import DayStatus, WeekStatus, status_table, weeks_table
from callops_dagster.platform.staleness import (
    Materialisation,
    PartitionState,
    Staleness,
    changed_inputs,
    partition_state,
    pointers_from_tags,
    summarise,
)

D1, D2, D3 = "2025-04-22", "2025-04-23", "2025-04-24"


def m(storage_id: int, version: str, run: str = "run", **pointers: int | None) -> Materialisation:
    return Materialisation(storage_id, version, f"{run}{storage_id}", float(storage_id), pointers)


# loan_contacts of D1 and D2 (ids 1, 2), then frequency of D2 read them (its pointer: 2).
BASE = {"loan_contacts": {D1: [m(1, "a")], D2: [m(2, "b")]}}
READS = {"loan_contacts": [D1, D2]}


def with_input(history, partition, record):
    return {"loan_contacts": {**history["loan_contacts"], partition: [*history["loan_contacts"].get(partition, []), record]}}


def test_an_input_partition_materialised_again_with_another_version_is_a_change():
    run = m(3, "f", loan_contacts=2)
    history = with_input(BASE, D1, m(4, "a2"))
    assert changed_inputs(run, READS, history) == [("loan_contacts", D1)]


def test_the_same_version_materialised_again_is_no_change():
    run = m(3, "f", loan_contacts=2)
    assert changed_inputs(run, READS, with_input(BASE, D1, m(4, "a"))) == []


def test_a_materialisation_before_the_run_is_what_it_read():
    run = m(3, "f", loan_contacts=2)
    assert changed_inputs(run, READS, BASE) == []


def test_a_partition_first_materialised_after_the_run_is_a_change():
    run = m(3, "f", loan_contacts=2)
    reads = {"loan_contacts": [D1, D2, D3]}
    assert changed_inputs(run, reads, with_input(BASE, D3, m(4, "c"))) == [("loan_contacts", D3)]


def test_changed_back_to_the_version_it_read_is_no_change():
    run = m(3, "f", loan_contacts=2)
    history = with_input(with_input(BASE, D1, m(4, "a2")), D1, m(5, "a"))
    assert changed_inputs(run, READS, history) == []


def test_an_input_the_run_recorded_nothing_for_is_left_out():
    run = m(3, "f")  # a dependency added since it ran
    assert changed_inputs(run, READS, with_input(BASE, D1, m(4, "a2"))) == []


def test_pointers_are_read_from_dagsters_tags_and_null_is_none():
    tags = {
        "dagster/input_event_pointer/loan_contacts": "17",
        "dagster/input_event_pointer/raw_agent_roster": "NULL",
        "dagster/input_data_version/loan_contacts": "abc",
        "dagster/data_version": "x",
    }
    assert pointers_from_tags(tags) == {"loan_contacts": 17, "raw_agent_roster": None}


def test_latest_stale_is_pending_and_a_later_run_is_the_refresh_done():
    frequency = {D2: [m(3, "f", loan_contacts=2)]}
    changed = with_input(BASE, D1, m(4, "a2"))
    stale = partition_state("loan_contact_frequency", D2, READS, {**changed, "loan_contact_frequency": frequency})
    assert (stale.stale, stale.refreshed) == ([("loan_contacts", D1)], [])
    refreshed = {D2: [*frequency[D2], m(5, "f2", run="refresh", loan_contacts=4)]}
    done = partition_state("loan_contact_frequency", D2, READS, {**changed, "loan_contact_frequency": refreshed})
    assert (done.stale, done.refreshed, done.run_id) == ([], [("loan_contacts", D1)], "refresh5")


def test_a_partition_never_materialised_has_no_state():
    assert partition_state("loan_contact_frequency", D3, READS, BASE) is None


def state(asset, stale=(), refreshed=(), run="r", when=0.0):
    return PartitionState(asset, D2, list(stale), list(refreshed), run, when)


def test_a_day_is_pending_while_an_asset_is_stale_and_names_the_other_days_that_changed():
    states = [
        state("loan_contact_frequency", stale=[("loan_contacts", D1), ("loan_contacts", D2)]),
        state("slack_summary", refreshed=[("loan_contact_frequency", D2)], run="older"),
        None,
    ]
    assert summarise(states, own=D2) == Staleness(pending=["loan_contact_frequency"], pending_changed=[D1])
    assert summarise(states, own=D2).text() == "pending: loan_contact_frequency (2025-04-22 changed)"


def test_a_day_refreshed_for_another_days_change_is_done_by_its_latest_run():
    states = [
        state("loan_contact_frequency", refreshed=[("loan_contacts", D1)], run="first", when=1),
        state("slack_summary", refreshed=[("loan_contact_frequency", D2)], run="second", when=2),
    ]
    # slack_summary read its own day's table: not a cause, and no refresh of its own
    assert summarise(states, own=D2) == Staleness(done_run="first", done_changed=[D1])
    assert summarise(states, own=D2).text() == "done in run first (2025-04-22 changed)"


def test_a_day_run_again_for_its_own_files_is_up_to_date_not_a_refresh():
    states = [state("call_logs", refreshed=[("raw_call_logs", D2)]), state("slack_summary")]
    assert summarise(states, own=D2).text() == "up to date"


def test_a_week_names_every_day_it_read_change():
    states = [state("agent_weekly_summary", stale=[("agent_performance_summary", D2)])]
    assert summarise(states, own=None).pending_changed == [D2]


def test_status_tables_show_the_refresh_column_and_the_weeks():
    rows = [
        DayStatus("2025-04-22", ["call_logs.csv"], "2025-04-29 10:00", "success (abcd1234)", refresh="up to date"),
        DayStatus("2025-04-23", ["call_logs.csv"], "2025-04-29 10:00", "success (bcde2345)",
                  refresh="pending: loan_contact_frequency (2025-04-22 changed)"),
    ]
    header, first, second = status_table(rows).splitlines()
    assert "inputs changed" in header
    assert "  up to date  " in first
    assert "  pending: loan_contact_frequency (2025-04-22 changed)  " in second
    week_header, week = weeks_table(
        [WeekStatus("2025-04-21", "2025-04-29 10:01", "done in run 5045274c", "success (5045274c)")]
    ).splitlines()
    assert week_header.split() == ["week", "materialised", "last", "callops_weekly", "run", "inputs", "changed"]
    assert week.split() == ["2025-04-21", "2025-04-29", "10:01", "success", "(5045274c)", "done", "in", "run", "5045274c"]


# ---------------------------------------------------------------- layer 2: an instance


@pytest.mark.slow
def test_a_corrected_day_leaves_the_next_days_window_pending_until_it_is_refreshed(tmp_path):
    import dagster as dg

    from callops_dagster.definitions import defs
    from callops_dagster.platform.partitions import daily_partitions
    from callops_dagster.platform.provenance import StalenessReader
    from callops_dagster_tests.conftest import clean_calls, ephemeral_instance, materialize_day, write_day

    data_dir = tmp_path / "data"
    write_day(data_dir, D1)
    write_day(data_dir, D2)
    instance = ephemeral_instance()
    try:
        for day in (D1, D2):
            assert materialize_day(data_dir, day, instance).success

        def status(day: str) -> Staleness:
            reader = StalenessReader(defs, instance)
            return reader.staleness(reader.keys_of(daily_partitions), day, own=day)

        assert status(D1).text() == status(D2).text() == "up to date"

        # Day 1 gets one more call; only its landing and validated tables run again.
        extra = ["C9", "A1", "ORG1", "L1", "completed", "60", f"{D1} 11:00:00", D1]
        write_day(data_dir, D1, calls=[*clean_calls(D1), extra])
        again = ["raw_call_logs", "call_logs", "call_logs_rejected", "loan_contacts"]
        assert materialize_day(data_dir, D1, instance, selection=again).success
        assert status(D2) == Staleness(pending=["loan_contact_frequency"], pending_changed=[D1])
        # Dagster's own resolver (what the UI shows as unsynced) agrees on the day's assets.
        from dagster._utils.test.data_versions import get_stale_status_resolver  # private: the check only

        resolver = get_stale_status_resolver(instance, list(defs.assets))
        unsynced = {
            key.to_user_string()
            for key in StalenessReader(defs, instance).keys_of(daily_partitions)
            if resolver.get_status(key, D2).value == "STALE"
        }
        assert unsynced == {"loan_contact_frequency"}

        refresh = materialize_day(data_dir, D2, instance, selection="loan_contact_frequency*")
        assert refresh.success
        assert status(D2) == Staleness(done_run=refresh.run_id, done_changed=[D1])
        # Re-running day 1 whole brings it up to date; a run for its own files is not a refresh.
        assert status(D1).pending
        assert materialize_day(data_dir, D1, instance).success
        assert status(D1).text() == "up to date"
        assert dg.AssetKey("loan_contact_frequency") in StalenessReader(defs, instance).keys_of(daily_partitions)
    finally:
        instance.dispose()


def test_the_manifests_files_read_are_the_landing_partitions_upstream_of_a_days_reports():
    """``files_read`` (report/manifest.py) against the lineage: every landing partition that
    slack_summary of a day reads, through every partition mapping. The lineage links the
    rosters of the day and the seven days before (the roster in force is one of them); the
    manifest names the one in force."""
    import datetime as dt

    import dagster as dg

    from callops_dagster.compliance.rules import window_days
    from callops_dagster.definitions import defs
    from callops_dagster.report.manifest import files_read

    graph = defs.resolve_asset_graph()
    day, found, todo = "2025-04-28", set(), [(dg.AssetKey("slack_summary"), "2025-04-28")]
    while todo:
        key, partition = todo.pop()
        for parent in graph.get(key).parent_keys - {key}:
            result = graph.get_parent_partition_keys_for_child(partition, parent, key)
            for upstream in result.partitions_subset.get_partition_keys():
                if (parent, upstream) not in found:
                    found.add((parent, upstream))
                    todo.append((parent, upstream))
    landing = sorted((p, k.to_user_string().removeprefix("raw_") + ".csv") for k, p in found if k.to_user_string().startswith("raw_"))
    window = [d.isoformat() for d in window_days(dt.date.fromisoformat(day))]
    rosters = [(p, f) for p, f in landing if f == "agent_roster.csv"]
    assert [p for p, _ in rosters] == [d.isoformat() for d in (dt.date(2025, 4, 20) + dt.timedelta(n) for n in range(9))][1:]
    for roster_day in (day, "2025-04-21"):  # its own roster, or one carried from the window's first day
        read = files_read(window, day, roster_day=roster_day)
        assert [x for x in landing if x not in rosters] == [x for x in read if x[1] != "agent_roster.csv"]
        assert set(read) - set(landing) == set()

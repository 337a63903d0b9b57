"""The warehouse IO manager (layer 2): tables handed on in memory within a run, written all the
same, read back from Parquet by another run; no DEBUG path lines in the event log."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from callops_dagster.platform.resources import WarehouseIOManager

DAY = "2025-04-28"
days = dg.DailyPartitionsDefinition(start_date="2025-04-01")


@dg.asset(partitions_def=days)
def calls() -> pd.DataFrame:
    return pd.DataFrame({"agent_id": ["A1", "A2", "A1"], "seconds": [10, 20, 30]}, index=[7, 8, 9])


@dg.asset(partitions_def=days)
def changed_copy(calls: pd.DataFrame) -> pd.DataFrame:
    """A step that changes its input in place: no other step may see the change."""
    calls["seconds"] = calls["seconds"] * 1000
    calls.loc[0, "agent_id"] = "ZZ"
    return calls


@dg.asset(partitions_def=days, deps=[changed_copy])
def totals(calls: pd.DataFrame) -> pd.DataFrame:
    return calls.groupby("agent_id", as_index=False)["seconds"].sum()


def run(tmp_path, assets, selection=None) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            assets, selection=selection, partition_key=DAY, instance=instance,
            resources={"io_manager": WarehouseIOManager(data_dir=str(tmp_path))},
        )
        assert result.success
        result.debug_lines = [  # type: ignore[attr-defined]
            e.user_message for e in instance.all_logs(result.run_id) if e.dagster_event is None and e.level == 10
        ]
        return result


def test_a_table_is_handed_on_in_memory_and_written_all_the_same(tmp_path, monkeypatch):
    def no_read(*args, **kwargs):
        raise AssertionError("read back from Parquet within the run")

    monkeypatch.setattr(pd, "read_parquet", no_read)
    result = run(tmp_path, [calls, changed_copy, totals])

    # As read back from Parquet (written without the index): a fresh 0..n-1 index.
    changed = result.output_for_node("changed_copy")
    assert changed.to_dict("list") == {"agent_id": ["ZZ", "A2", "A1"], "seconds": [10000, 20000, 30000]}
    # totals loaded calls after changed_copy changed its own copy: the original values.
    assert result.output_for_node("totals").to_dict("list") == {"agent_id": ["A1", "A2"], "seconds": [40, 20]}
    monkeypatch.undo()
    assert pd.read_parquet(tmp_path / "warehouse" / "calls" / f"{DAY}.parquet")["seconds"].tolist() == [10, 20, 30]


def test_another_run_reads_the_table_from_parquet(tmp_path):
    run(tmp_path, [calls])
    result = run(tmp_path, [calls, changed_copy, totals], selection=[totals])
    assert result.output_for_node("totals")["seconds"].tolist() == [40, 20]


def test_the_io_manager_writes_no_debug_lines_to_the_event_log(tmp_path):
    result = run(tmp_path, [calls, changed_copy, totals])
    assert not [line for line in result.debug_lines if "Writing file" in line or "Loading" in line]


@dg.asset(
    partitions_def=days,
    ins={"calls": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-2),
                             metadata={"allow_missing_partitions": True})},
)
def window(calls) -> pd.DataFrame:
    return pd.concat(list(calls.values()), ignore_index=True)


def test_missing_days_of_a_window_that_allows_them_are_not_logged_as_warnings(tmp_path):
    """The contact window names its missing days itself (metadata and a WARN check): the IO
    manager adds no WARNING line per missing day."""
    result = run(tmp_path, [calls, window])
    assert len(result.output_for_node("window")) == 3  # the day itself; its two days before are missing
    with dg.instance_for_test() as instance:
        result = dg.materialize([calls, window], partition_key=DAY, instance=instance,
                                resources={"io_manager": WarehouseIOManager(data_dir=str(tmp_path))})
        warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == 30]
    assert not [w for w in warnings if "Couldn't load partition" in w]


def test_the_days_reports_are_the_same_when_the_downstream_steps_read_the_warehouse(tmp_path):
    """A whole day in one run hands its tables on in memory; the same day's downstream assets
    run again in another run read them back from Parquet (other dtypes: exact decimals come back
    as Python Decimals). Every published report is byte for byte the same."""
    from callops_dagster_tests.conftest import GOLDEN_DAY, copy_golden, ephemeral_instance, materialize_day

    data_dir = copy_golden(tmp_path / "data")
    reports = data_dir / "reports" / GOLDEN_DAY
    instance = ephemeral_instance()
    try:
        assert materialize_day(data_dir, GOLDEN_DAY, instance, duration_unit="seconds").success
        in_memory = {p.name: p.read_bytes() for p in reports.iterdir() if p.name != "manifest.json"}
        downstream = ["rejected_rows", "agent_day", "agent_performance_summary", "agent_compliance",
                      "loan_contacts", "loan_contact_frequency", "slack_summary"]
        assert materialize_day(data_dir, GOLDEN_DAY, instance, selection=downstream, duration_unit="seconds").success
        from_parquet = {p.name: p.read_bytes() for p in reports.iterdir() if p.name != "manifest.json"}
    finally:
        instance.dispose()
    assert len(in_memory) == 6
    assert from_parquet == in_memory

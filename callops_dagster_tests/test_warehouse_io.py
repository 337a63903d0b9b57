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


class Recording(WarehouseIOManager):
    """The warehouse IO manager, keeping hold of the IO manager it made for the run."""

    def create_io_manager(self, context):
        io_manager = super().create_io_manager(context)
        MADE.append(io_manager)
        return io_manager


MADE: list = []


def parquet_reads(monkeypatch) -> list[str]:
    """The Parquet files read back (pandas.read_parquet calls), recorded as they happen."""
    reads: list[str] = []
    original = pd.read_parquet

    def recording(path, *args, **kwargs):
        reads.append(str(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(pd, "read_parquet", recording)
    return reads


@dg.asset(partitions_def=days)
def wide() -> pd.DataFrame:
    """A table of ~1.6 MB in memory."""
    return pd.DataFrame({"n": range(200_000)})


@dg.asset(partitions_def=days)
def wide_total(wide: pd.DataFrame, calls: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"n": [int(wide["n"].sum())], "calls": [len(calls)]})


def test_the_hand_over_is_bounded_in_bytes_beyond_which_tables_are_read_from_parquet(tmp_path, monkeypatch):
    """With a 1 MB budget the small calls table is handed over and the 1.6 MB one is read back
    from its file; the answer is the same."""
    reads = parquet_reads(monkeypatch)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [wide, calls, wide_total], partition_key=DAY, instance=instance,
            resources={"io_manager": WarehouseIOManager(data_dir=str(tmp_path), handover_mb=1)},
        )
    assert result.success
    assert result.output_for_node("wide_total").to_dict("list") == {"n": [sum(range(200_000))], "calls": [3]}
    assert [p.split("warehouse")[-1] for p in reads] == [f"/wide/{DAY}.parquet"]


def test_no_hand_over_at_all_with_a_budget_of_zero(tmp_path, monkeypatch):
    reads = parquet_reads(monkeypatch)
    with dg.instance_for_test() as instance:
        assert dg.materialize(
            [wide, calls, wide_total], partition_key=DAY, instance=instance,
            resources={"io_manager": WarehouseIOManager(data_dir=str(tmp_path), handover_mb=0)},
        ).success
    assert sorted(p.split("warehouse")[-1] for p in reads) == [f"/calls/{DAY}.parquet", f"/wide/{DAY}.parquet"]


@dg.asset(partitions_def=days)
def never_read() -> pd.DataFrame:
    """A table no step of the run reads after it."""
    return pd.DataFrame({"n": [1, 2]})


def test_tables_are_held_while_readers_remain_and_released_when_the_run_ends(tmp_path):
    """During the run a table with a reader still to come is held; it is let go after its last
    reader; and whatever is still held when the run ends (a reader that never ran, here a
    failed step) is released by the resource's teardown: the IO manager holds nothing after."""
    seen: dict[str, int] = {}

    @dg.asset(partitions_def=days)
    def first_reader(calls: pd.DataFrame) -> pd.DataFrame:
        seen["held while a reader remains"] = len(MADE[-1]._in_run)
        return calls

    @dg.asset(partitions_def=days)
    def second_reader(calls: pd.DataFrame, first_reader: pd.DataFrame) -> pd.DataFrame:
        seen["held after the last reader"] = len(MADE[-1]._in_run)
        return calls

    @dg.asset(partitions_def=days)
    def failing_reader(second_reader: pd.DataFrame) -> pd.DataFrame:
        seen["held at the failing step"] = len(MADE[-1]._in_run)  # second_reader's, for never_run
        raise RuntimeError("boom")

    @dg.asset(partitions_def=days)
    def never_run(second_reader: pd.DataFrame, failing_reader: pd.DataFrame) -> pd.DataFrame:
        return second_reader

    MADE.clear()
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [calls, first_reader, second_reader, failing_reader, never_run, never_read], partition_key=DAY,
            instance=instance, raise_on_error=False,
            resources={"io_manager": Recording(data_dir=str(tmp_path))},
        )
    assert not result.success
    assert seen == {"held while a reader remains": 1, "held after the last reader": 0, "held at the failing step": 1}
    assert len(MADE) == 1 and MADE[0]._in_run == {} and MADE[0].held_bytes == 0


def test_an_unreadable_plan_is_one_warning_and_no_hand_over(tmp_path, monkeypatch):
    """The day the execution plan's private API changes (simulated: StepOutputHandle gone), the
    run still succeeds, every step reads Parquet, and the run's log says so once."""
    from callops_dagster.platform import dagster_internals

    def gone(*args, **kwargs):
        raise AttributeError("StepOutputHandle is gone")

    monkeypatch.setattr(dagster_internals, "StepOutputHandle", gone)
    reads = parquet_reads(monkeypatch)
    with dg.instance_for_test() as instance:
        result = dg.materialize([calls, changed_copy, totals], partition_key=DAY, instance=instance,
                                resources={"io_manager": WarehouseIOManager(data_dir=str(tmp_path))})
        warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == 30]
    assert result.success
    assert result.output_for_node("totals").to_dict("list") == {"agent_id": ["A1", "A2"], "seconds": [40, 20]}
    assert len(reads) == 2  # calls, for changed_copy and for totals
    assert sum("execution plan could not be read" in w for w in warnings) == 1

"""Layer 2: the summary's numeric metadata and its trend check, over several days in one instance."""

from __future__ import annotations


import dagster as dg
import pytest

from callops_dagster.contract import check_names as checks
from callops_dagster_tests.conftest import check_eval, clean_calls, materialize_day, materialized, write_day

SECONDS = {"duration_unit": "seconds"}  # clean_calls' durations are seconds

SUMMARY = "agent_performance_summary"
WEEK = ["2025-04-24", "2025-04-25", "2025-04-26", "2025-04-27"]
DAY = "2025-04-28"
INTS = ("active_agents", "total_calls", "rejected_rows", "rows_read")
FLOATS = ("connect_rate", "avg_duration_min", "rejected_share")


def summary_metadata(result: dg.ExecuteInProcessResult) -> dict[str, dg.MetadataValue]:
    for event in result.get_asset_materialization_events():
        if event.asset_key.to_user_string() == SUMMARY:
            return dict(event.materialization.metadata)
    raise AssertionError(f"{SUMMARY} not materialised")


def trend(result: dg.ExecuteInProcessResult):
    return check_eval(result, "day_trend", checks.FIGURES_IN_TREND)


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """Four ordinary days, then a day with a quarter of the calls, in one instance."""
    data_dir = tmp_path_factory.mktemp("trend") / "data"
    instance = dg.DagsterInstance.ephemeral(settings={"telemetry": {"enabled": False}})
    results = {}
    for day in WEEK:
        write_day(data_dir, day)
        results[day] = materialize_day(data_dir, day, instance, **SECONDS)
    write_day(data_dir, DAY, calls=clean_calls(DAY)[:2])
    results[DAY] = materialize_day(data_dir, DAY, instance, **SECONDS)
    yield data_dir, instance, results
    instance.dispose()


def test_summary_figures_are_numeric_under_stable_keys(week):
    _, _, results = week
    metadata = summary_metadata(results[WEEK[0]])
    for key in INTS:
        assert isinstance(metadata[key], dg.IntMetadataValue), key
    for key in FLOATS:
        assert isinstance(metadata[key], dg.FloatMetadataValue), key
    values = {k: metadata[k].value for k in INTS + FLOATS}
    # The clean day: 8 calls, 5 completed, 660 s over 8 calls, 14 rows read, none rejected.
    assert values == {
        "active_agents": 3, "total_calls": 8, "rejected_rows": 0, "rows_read": 14,
        "connect_rate": 0.625, "avg_duration_min": 1.38, "rejected_share": 0.0,
    }


def test_the_first_day_passes_with_a_note(week):
    _, _, results = week
    evaluation = trend(results[WEEK[0]])
    assert evaluation.passed
    metadata = {k: v.value for k, v in evaluation.metadata.items()}
    assert metadata["history_days"] == 0
    assert metadata["note"].startswith("too little history: 0")


def test_an_ordinary_day_with_enough_history_passes(week):
    _, _, results = week
    evaluation = trend(results[WEEK[3]])
    assert evaluation.passed
    metadata = {k: v.value for k, v in evaluation.metadata.items()}
    assert metadata["history_days"] == 3
    assert metadata["total_calls_median"] == 8.0 and metadata["total_calls_deviations"] == 0.0
    numbers = [k for k in evaluation.metadata if k.endswith(("_median", "_deviations"))]
    assert len(numbers) == 8
    assert all(isinstance(evaluation.metadata[k], dg.FloatMetadataValue) for k in numbers)


def test_a_collapse_in_calls_warns_without_blocking(week):
    data_dir, _, results = week
    result = results[DAY]
    assert result.success
    assert "slack_summary" in materialized(result)
    evaluation = trend(result)
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    metadata = {k: v.value for k, v in evaluation.metadata.items()}
    assert metadata["history_days"] == 4
    assert "total_calls" in metadata["flagged"]
    assert metadata["total_calls_median"] == 8.0
    assert metadata["total_calls_deviations"] == pytest.approx(-6.0)  # (2 - 8) / floor of 1 call
    assert metadata["threshold"] == 3.5
    assert "total_calls" in metadata["trend"] and "yes" in metadata["trend"]


def test_the_threshold_and_minimum_history_come_from_the_config(week, tmp_path):
    data_dir, instance, _ = week
    lenient = materialize_day(data_dir, DAY, instance, trend_deviations=10.0, **SECONDS)
    assert trend(lenient).passed
    strict_history = materialize_day(data_dir, DAY, instance, trend_min_history=6, **SECONDS)
    evaluation = trend(strict_history)
    assert evaluation.passed
    assert "too little history: 4" in evaluation.metadata["note"].value

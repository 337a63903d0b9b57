"""Layer 2-3: the freshness check of the summary and its sensor; the operations settings."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from callops_dagster.definitions import defs
from callops_dagster.report.checks import freshness_checks
from callops_dagster.platform.partitions import daily_partitions
from callops_dagster.platform.settings import Settings, SettingsError, load_settings

SETTINGS = load_settings()  # as the definitions read them

SUMMARY = dg.AssetKey("agent_performance_summary")
CHECK_KEYS = [spec.key for checks_def in freshness_checks for spec in checks_def.check_specs]
FRESHNESS_JOB = dg.define_asset_job("freshness_only", selection=dg.AssetSelection.checks(*freshness_checks))


def expected_day(now: dt.datetime) -> str:
    """The day that must exist: the one ending before the latest deadline tick."""
    local = now.astimezone(ZoneInfo(daily_partitions.timezone))
    deadline = local.replace(hour=SETTINGS.freshness_deadline_hours, minute=0, second=0, microsecond=0)
    if deadline > local:
        deadline -= dt.timedelta(days=1)
    return (deadline.date() - dt.timedelta(days=1)).isoformat()


def evaluate(instance: dg.DagsterInstance) -> dg.AssetCheckEvaluation:
    location = dg.Definitions(
        assets=defs.assets, asset_checks=freshness_checks, jobs=[FRESHNESS_JOB], resources=defs.resources
    )
    result = location.resolve_job_def("freshness_only").execute_in_process(instance=instance)
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def test_one_freshness_check_on_the_summary_in_the_partitions_timezone():
    assert CHECK_KEYS == [dg.AssetCheckKey(SUMMARY, "freshness_check")]
    assert CHECK_KEYS[0] in defs.resolve_asset_graph().asset_check_keys


def test_the_daily_job_leaves_the_freshness_check_to_its_sensor():
    job = defs.resolve_job_def("callops_daily")
    assert "freshness_check" not in " ".join(node.name for node in job.graph.node_defs)


def test_a_missing_day_fails_the_check_as_a_warning(instance):
    evaluation = evaluate(instance)
    day = expected_day(dt.datetime.now(dt.UTC))
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert day in evaluation.description
    params = evaluation.metadata["dagster/freshness_params"].value
    assert params == {
        "timezone": daily_partitions.timezone,
        "deadline_cron": f"0 {SETTINGS.freshness_deadline_hours} * * *",
    }


def test_an_older_day_does_not_make_it_fresh_but_the_expected_day_does(instance):
    day = expected_day(dt.datetime.now(dt.UTC))
    older = (dt.date.fromisoformat(day) - dt.timedelta(days=3)).isoformat()
    instance.report_runless_asset_event(dg.AssetMaterialization(SUMMARY, partition=older))
    overdue = evaluate(instance)
    assert not overdue.passed and "overdue" in overdue.description
    instance.report_runless_asset_event(dg.AssetMaterialization(SUMMARY, partition=day))
    fresh = evaluate(instance)
    assert fresh.passed
    assert "dagster/fresh_until_timestamp" in fresh.metadata


def test_freshness_sensor_is_stopped_and_asks_for_the_check(instance):
    sensor = defs.resolve_sensor_def("callops_freshness_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    context = dg.build_sensor_context(instance=instance, sensor_name=sensor.name, definitions=defs)
    (request,) = sensor.evaluate_tick(context).run_requests
    assert list(request.asset_check_keys) == CHECK_KEYS


def test_operations_settings_defaults_and_overrides():
    defaults = Settings.from_env({})
    assert (defaults.trend_deviations, defaults.trend_min_history) == (3.5, 3)
    assert (defaults.freshness_deadline_hours, defaults.landing_sensor_interval) == (6, 30)
    custom = Settings.from_env({
        "CALLOPS_TREND_DEVIATIONS": "5", "CALLOPS_TREND_MIN_HISTORY": "2",
        "CALLOPS_FRESHNESS_DEADLINE_HOURS": "0", "CALLOPS_LANDING_SENSOR_INTERVAL": "5",
    })
    assert (custom.trend_deviations, custom.trend_min_history) == (5.0, 2)
    assert (custom.freshness_deadline_hours, custom.landing_sensor_interval) == (0, 5)


@pytest.mark.parametrize(
    ("name", "value"),
    [("CALLOPS_FRESHNESS_DEADLINE_HOURS", "24"), ("CALLOPS_FRESHNESS_DEADLINE_HOURS", "-1"),
     ("CALLOPS_TREND_DEVIATIONS", "0"), ("CALLOPS_TREND_MIN_HISTORY", "-2"),
     ("CALLOPS_LANDING_SENSOR_INTERVAL", "soon")],
)
def test_unusable_operations_settings_are_named(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})

"""Layer 2 and 3: the weekly report over generated days, its job and its schedule.

Nine generated days, 2025-04-18 to 2025-04-26: the end of the week of 2025-04-14 (Friday to
Sunday) and the week of 2025-04-21 without its Sunday. Each day runs once (module fixture);
each test materialises a week.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from callops_dagster.compliance import weekly
from callops_dagster.weekly.assets import (
    WEEKLY,
    WEEKLY_FILE,
    WEEKLY_MESSAGE_FILE,
    weekly_csv_text,
    weekly_partitions,
)
from callops_dagster.definitions import defs
from callops_dagster.platform.metadata import COLUMN_LINEAGE, COLUMN_SCHEMA, column_lineage
from callops_dagster.mock.data import generate_day
from callops_dagster.contract.columns import TABLES
from callops_dagster_tests.conftest import (
    asset_metadata,
    ephemeral_instance,
    materialize_day,
    resources_for,
    step_failure_messages,
)

FIRST_DAY = dt.date(2025, 4, 18)
DAYS = [FIRST_DAY + dt.timedelta(days=i) for i in range(9)]  # 2025-04-18 .. 2025-04-26
WEEK = "2025-04-21"
PREVIOUS_WEEK = "2025-04-14"
EMPTY_WEEK = "2025-04-28"


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> tuple[Path, dg.DagsterInstance]:
    data_dir = tmp_path_factory.mktemp("weekly") / "data"
    instance = ephemeral_instance()
    for day in DAYS:
        generate_day(day, data_dir, calls=150, agents=6, seed=day.day)
        assert materialize_day(data_dir, day.isoformat(), instance).success, day
    yield data_dir, instance
    instance.dispose()


def materialize_week(data_dir: Path, instance: dg.DagsterInstance, week: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets),
        selection=[WEEKLY],
        partition_key=week,
        resources=resources_for(data_dir),
        instance=instance,
        raise_on_error=False,
    )


def warehouse_tables(data_dir: Path, asset: str) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in sorted((data_dir / "warehouse" / asset).glob("*.parquet"))}


def week_folder(data_dir: Path, week: str) -> Path:
    return data_dir / "reports" / "weeks" / week


def test_week_csv_is_the_weekly_summary_of_the_warehouse_tables(landed):
    data_dir, instance = landed
    result = materialize_week(data_dir, instance, WEEK)
    assert result.success, step_failure_messages(result)
    inputs = weekly.week_inputs(
        dt.date.fromisoformat(WEEK),
        warehouse_tables(data_dir, "agent_performance_summary"),
        warehouse_tables(data_dir, "call_logs"),
        warehouse_tables(data_dir, "agent_roster"),
    )
    expected = weekly.agent_weekly_summary(
        dt.date.fromisoformat(WEEK), inputs.summaries, inputs.calls, inputs.roster, inputs.previous
    )
    text = (week_folder(data_dir, WEEK) / WEEKLY_FILE).read_text(encoding="utf-8")
    assert text == weekly_csv_text(expected)
    csv = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert list(csv.columns) == list(weekly.WEEKLY_COLUMNS)
    assert len(csv) == len(expected) > 0
    assert set(csv["week_start"]) == {WEEK}
    # Agents who called in both weeks have a change; those who did not, none.
    both = expected["rate"].notna() & expected["rate_change"].notna()
    assert both.any()
    assert (csv.loc[both.to_numpy(), "connect_rate_change"] != "").all()
    assert (csv.loc[~both.to_numpy(), "connect_rate_change"] == "").all()
    # The table in the warehouse keeps the exact inputs beside the contract's columns.
    stored = pd.read_parquet(data_dir / "warehouse" / WEEKLY / f"{WEEK}.parquet")
    assert {*weekly.WEEKLY_COLUMNS, "completed_calls", "duration_sum_s", "duration_count"} <= set(stored.columns)
    assert stored["total_calls"].sum() == inputs.summaries["total_calls"].sum()


def test_missing_day_is_named_and_the_week_still_succeeds(landed):
    data_dir, instance = landed
    result = materialize_week(data_dir, instance, WEEK)
    assert result.success
    meta = asset_metadata(result, WEEKLY)
    assert meta["days_missing"] == "2025-04-27"
    assert meta["days_used"] == ", ".join(d.isoformat() for d in DAYS[3:])
    assert meta["previous_week_days"] == 3
    assert meta["slack_delivery"] == "dry_run"  # the week holds the newest landed day
    schema = meta[COLUMN_SCHEMA]
    assert [(c.name, c.type) for c in schema.columns] == [(c.name, c.type) for c in TABLES[WEEKLY]]
    assert meta[COLUMN_LINEAGE] == column_lineage(WEEKLY)
    message = (week_folder(data_dir, WEEK) / WEEKLY_MESSAGE_FILE).read_text(encoding="utf-8")
    assert message.startswith(f"Agent Summary for the week of {WEEK}\nTop Performer: ")


def test_an_earlier_week_has_no_change_and_does_not_post(landed):
    data_dir, instance = landed
    result = materialize_week(data_dir, instance, PREVIOUS_WEEK)
    assert result.success, step_failure_messages(result)
    meta = asset_metadata(result, WEEKLY)
    assert meta["days_missing"] == "2025-04-14, 2025-04-15, 2025-04-16, 2025-04-17"
    assert meta["slack_delivery"] == "skipped"
    csv = pd.read_csv(week_folder(data_dir, PREVIOUS_WEEK) / WEEKLY_FILE, dtype=str, keep_default_na=False)
    assert set(csv["connect_rate_change"]) == {""}


def test_a_week_without_days_fails_saying_so(landed):
    data_dir, instance = landed
    result = materialize_week(data_dir, instance, EMPTY_WEEK)
    assert not result.success
    text = "\n".join(step_failure_messages(result).values())
    assert f"no day of the week of {EMPTY_WEEK} (2025-04-28 to 2025-05-04)" in text
    assert not week_folder(data_dir, EMPTY_WEEK).exists()


# ---------------------------------------------------------------- definitions


def test_weekly_job_and_schedule_resolve_and_the_daily_job_leaves_the_week_out():
    weekly_job = defs.resolve_job_def("callops_weekly")
    assert {k.to_user_string() for k in weekly_job.asset_layer.executable_asset_keys} == {WEEKLY}
    daily = defs.resolve_job_def("callops_daily")
    assert WEEKLY not in {k.to_user_string() for k in daily.asset_layer.executable_asset_keys}
    schedule = defs.resolve_schedule_def("callops_weekly_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.cron_schedule == "0 4 * * 1"  # Monday, the default week start, 04:00


def test_weeks_start_on_monday_holding_the_start_date():
    keys = weekly_partitions.get_partition_keys()
    assert keys[0] == "2024-12-30"  # the Monday on or before CALLOPS_START_DATE=2025-01-01
    assert all(dt.date.fromisoformat(k).weekday() == 0 for k in keys[:5])


# ---------------------------------------------------------------- week boundaries (layer 1)


@pytest.mark.parametrize("name", weekly.WEEKDAYS)
def test_dagster_weeks_start_on_the_named_day_holding_the_start_date(name):
    start = dt.date(2025, 1, 1)  # a Wednesday
    partitions = dg.WeeklyPartitionsDefinition(
        start_date=weekly.first_week_start(start, name).isoformat(),
        day_offset=weekly.dagster_day_offset(name),
        timezone="Asia/Kolkata",
    )
    first = dt.date.fromisoformat(partitions.get_partition_keys()[0])
    assert first.strftime("%A").lower() == name
    assert first <= start < first + dt.timedelta(days=7)
    assert weekly.week_of(dt.date(2025, 4, 27), name) <= dt.date(2025, 4, 27)


def test_week_inputs_split_this_week_from_the_previous_and_name_missing_days():
    def summary(day: str) -> pd.DataFrame:
        return pd.DataFrame({"org_id": ["O"], "agent_id": ["A"], "call_date": [day]})

    days = ["2025-04-19", "2025-04-21", "2025-04-23"]
    rosters = {d: pd.DataFrame({"org_id": ["O"], "agent_id": ["A"], "agent_name": [d]}) for d in days}
    inputs = weekly.week_inputs(
        dt.date(2025, 4, 21), {d: summary(d) for d in days}, {"2025-04-21": summary("2025-04-21")}, rosters
    )
    assert inputs.days_used == ["2025-04-21", "2025-04-23"]
    assert inputs.previous_days == ["2025-04-19"]
    assert inputs.days_missing == ["2025-04-22", "2025-04-24", "2025-04-25", "2025-04-26", "2025-04-27"]
    assert inputs.summaries["call_date"].tolist() == ["2025-04-21", "2025-04-23"]
    assert inputs.previous["call_date"].tolist() == ["2025-04-19"]
    assert inputs.roster["agent_name"].tolist() == ["2025-04-23"]  # the week's latest roster
    with pytest.raises(weekly.NoDayOfTheWeek, match="2025-04-28 to 2025-05-04"):
        weekly.week_inputs(dt.date(2025, 4, 28), {d: summary(d) for d in days}, {}, rosters)


def test_week_start_setting_names_the_variable_when_refused():
    from callops_dagster.platform.settings import Settings, SettingsError

    assert Settings.from_env({"CALLOPS_WEEK_START": " Sunday "}).week_start == "sunday"
    assert Settings.from_env({}).week_start == "monday"
    with pytest.raises(SettingsError, match="CALLOPS_WEEK_START='mon' is not valid"):
        Settings.from_env({"CALLOPS_WEEK_START": "mon"})


def test_weekly_csv_quotes_formula_like_names_and_leaves_negative_changes_alone():
    row = {c: "" for c in weekly.WEEKLY_COLUMNS}
    row.update(week_start=WEEK, org_id="O1", agent_id="@A1", agent_name="=HYPERLINK(\"x\")", days_active=1,
               days_present=1, total_calls=5, unique_loans_contacted=2, connect_rate="0.4000",
               avg_call_duration_min="1.50", connect_rate_change="-0.0125")
    csv = pd.read_csv(io.StringIO(weekly_csv_text(pd.DataFrame([row]))), dtype=str, keep_default_na=False)
    assert csv.loc[0, "agent_name"] == "'=HYPERLINK(\"x\")" and csv.loc[0, "agent_id"] == "'@A1"
    assert csv.loc[0, "connect_rate_change"] == "-0.0125" and csv.loc[0, "total_calls"] == "5"

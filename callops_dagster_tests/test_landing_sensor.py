"""Layer 2: the landing sensor evaluated as the daemon does, with a real instance and cursor."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import dagster as dg
import pytest

import callops_dagster.landing.sensors as sensors
from callops_dagster.definitions import defs
from callops_dagster.platform.resources import CallopsConfig
from callops_dagster.platform.settings import Settings, SettingsError, load_settings
from callops_dagster.landing.watch import Recorded, WatchState, files_fingerprint, landed_files
from callops_dagster.platform.content import file_sha256
from callops_dagster_tests.conftest import landing, materialize_day, write_day

SETTINGS = load_settings()  # as the definitions read them

DAY = "2025-04-28"
SENSOR = "callops_landing_sensor"


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:  # a persistent temp instance, telemetry off
        yield inst


class Ticker:
    """Evaluates the sensor tick after tick, carrying the cursor like the daemon."""

    def __init__(self, instance: dg.DagsterInstance, data_dir: Path):
        self.instance, self.data_dir, self.cursor = instance, data_dir, None
        self.sensor = defs.resolve_sensor_def(SENSOR)

    def tick(self):
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            sensor_name=SENSOR,
            resources={"callops": CallopsConfig(data_dir=str(self.data_dir))},
            definitions=defs,
        )
        result = self.sensor.evaluate_tick(context)
        self.cursor = result.cursor
        return result

    def requested(self) -> list[tuple[str, str]]:
        return [(r.partition_key, r.run_key) for r in self.tick().run_requests]


def fingerprint_of(folder: Path) -> str:
    """The fingerprint the landing sensor gives a complete day's files."""
    return files_fingerprint(landed_files(folder))


def redrop(folder: Path) -> None:
    """A corrected file: one more call row, so size and mtime change."""
    with open(folder / "call_logs.csv", "a", encoding="utf-8") as handle:
        handle.write(f"C99,A2,ORG1,L99,completed,30,{DAY} 12:00:00,{DAY}\n")


def test_sensor_is_defined_stopped_and_targets_the_daily_job():
    sensor = defs.resolve_sensor_def(SENSOR)
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert sensor.job_name == "callops_daily"
    assert sensor.minimum_interval_seconds == SETTINGS.landing_sensor_interval


def test_the_automation_sensor_looks_as_often_as_the_settings_say():
    assert defs.resolve_sensor_def("callops_automation").minimum_interval_seconds == SETTINGS.automation_sensor_interval
    assert Settings.from_env({}).automation_sensor_interval == 30
    assert Settings.from_env({"CALLOPS_AUTOMATION_SENSOR_INTERVAL": "5"}).automation_sensor_interval == 5
    with pytest.raises(SettingsError, match="CALLOPS_AUTOMATION_SENSOR_INTERVAL"):
        Settings.from_env({"CALLOPS_AUTOMATION_SENSOR_INTERVAL": "0"})


def test_new_day_waits_for_stability_then_runs_once(instance, data_dir):
    ticker = Ticker(instance, data_dir)
    assert ticker.requested() == []  # no landing folder at all
    folder = write_day(data_dir, DAY)
    first = ticker.tick()
    assert first.run_requests == [] and "settling" in first.skip_message
    requests = ticker.tick().run_requests
    fingerprint = fingerprint_of(folder)
    assert [(r.partition_key, r.run_key) for r in requests] == [(DAY, f"{DAY}:{fingerprint}")]
    assert requests[0].tags[sensors.FINGERPRINT_TAG] == fingerprint
    job = defs.resolve_job_def("callops_daily")
    assert requests[0].partition_key in job.partitions_def.get_partition_keys()
    dg.validate_run_config(job, requests[0].run_config)
    assert WatchState.from_json(ticker.cursor).launched == {DAY: fingerprint}
    for _ in range(3):  # unchanged: never again
        assert ticker.requested() == []


def test_corrected_re_drop_runs_exactly_once_more(instance, data_dir):
    ticker = Ticker(instance, data_dir)
    folder = write_day(data_dir, DAY)
    ticker.tick()
    (first,) = ticker.requested()
    redrop(folder)
    assert ticker.requested() == []  # first look at the new files
    (second,) = ticker.requested()
    assert second[0] == DAY and second[1] != first[1]
    assert ticker.requested() == [] and ticker.requested() == []


def test_non_date_folders_are_ignored(instance, data_dir):
    ticker = Ticker(instance, data_dir)
    write_day(data_dir, DAY)
    write_day(data_dir, "latest")  # a full day's files under a name that is not a date
    (data_dir / "landing" / "2025-04-31").mkdir()
    ticker.tick()
    assert [day for day, _ in ticker.requested()] == [DAY]
    state = WatchState.from_json(ticker.cursor)
    assert set(state.launched) | set(state.seen) == {DAY}


def test_a_day_not_yet_a_partition_is_retried_on_later_ticks(instance, data_dir, monkeypatch):
    monkeypatch.setattr(sensors, "current_day", lambda: dt.date(2025, 4, 28))
    ticker = Ticker(instance, data_dir)
    write_day(data_dir, DAY)
    for _ in range(3):
        result = ticker.tick()
        assert result.run_requests == []
    assert "not yet a partition" in result.skip_message
    monkeypatch.setattr(sensors, "current_day", lambda: dt.date(2025, 4, 29))
    assert [day for day, _ in ticker.requested()] == [DAY]


def test_a_day_already_materialised_is_adopted_not_rerun(instance, data_dir):
    instance.report_runless_asset_event(dg.AssetMaterialization("slack_summary", partition=DAY))
    ticker = Ticker(instance, data_dir)
    write_day(data_dir, DAY)
    write_day(data_dir, "2025-04-29")
    ticker.tick()
    assert [day for day, _ in ticker.requested()] == ["2025-04-29"]


def test_an_unreadable_cursor_starts_over_without_crashing(instance, data_dir):
    ticker = Ticker(instance, data_dir)
    write_day(data_dir, DAY)
    ticker.cursor = "{not json"
    assert ticker.requested() == []
    assert [day for day, _ in ticker.requested()] == [DAY]


def test_a_tick_over_a_year_of_landed_days_is_cheap(instance, data_dir, capsys):
    """Measured, not asserted: the figure goes to the report (pytest -s shows it)."""
    start = dt.date(2025, 1, 1)
    for offset in range(365):
        folder = landing(data_dir, (start + dt.timedelta(days=offset)).isoformat())
        folder.mkdir(parents=True)
        for name in ("call_logs.csv", "agent_roster.csv", "disposition_summary.csv"):
            (folder / name).write_text("header\n")
    ticker = Ticker(instance, data_dir)
    ticker.tick()
    state = WatchState.from_json(ticker.cursor)
    everything_run = WatchState(launched=dict(state.seen))
    ticker.cursor = everything_run.to_json()
    began = time.perf_counter()
    result = ticker.tick()
    elapsed = time.perf_counter() - began
    assert result.run_requests == [] and WatchState.from_json(result.cursor) == everything_run
    with capsys.disabled():
        print(f"\nlanding sensor: one steady tick over 365 landed days took {elapsed * 1000:.1f} ms; "
              f"cursor {len(result.cursor)} bytes")


def test_an_unreadable_landing_folder_skips_the_tick_and_keeps_the_cursor(instance, data_dir, monkeypatch):
    ticker = Ticker(instance, data_dir)
    write_day(data_dir, DAY)
    ticker.tick()
    before = ticker.cursor

    def unreadable(_):
        raise PermissionError(13, "Permission denied", str(data_dir / "landing"))

    monkeypatch.setattr(sensors, "scan_landing", unreadable)
    result = ticker.tick()
    assert result.run_requests == []
    assert "cannot read the landing folder" in result.skip_message and "Permission denied" in result.skip_message
    assert result.cursor in (None, before)  # None: the daemon keeps the cursor it had
    monkeypatch.undo()
    ticker.cursor = before
    assert [day for day, _ in ticker.requested()] == [DAY]


RAW_ASSETS = {"raw_call_logs", "raw_agent_roster", "raw_disposition_summary"}


def observed(result) -> dict[str, dg.AssetObservation]:
    """The tick's observations by asset name (the sensor reports at most one per asset and day)."""
    events = [event for event in result.asset_events if isinstance(event, dg.AssetObservation)]
    assert len(events) == len(result.asset_events)
    return {event.asset_key.to_user_string(): event for event in events}


def report_like_the_daemon(instance: dg.DagsterInstance, result) -> None:
    """`evaluate_tick` returns the tick's asset events without storing them; the sensor daemon
    hands each one to `report_runless_asset_event` (dagster/_daemon/sensor.py), as here."""
    for event in result.asset_events:
        instance.report_runless_asset_event(event)


def stored_observations(instance: dg.DagsterInstance, asset: str, day: str) -> list[dg.AssetObservation]:
    records = instance.fetch_observations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[day]), limit=10
    ).records
    return [record.asset_observation for record in records]


def test_a_settled_day_is_observed_on_each_raw_asset_partition(instance, data_dir, monkeypatch):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.example.invalid/T000/B000/not-a-real-secret")
    ticker = Ticker(instance, data_dir)
    folder = write_day(data_dir, DAY)
    assert ticker.tick().asset_events == []  # first look: settling, nothing landed yet
    result = ticker.tick()
    assert [r.partition_key for r in result.run_requests] == [DAY]
    fingerprint = fingerprint_of(folder)
    events = observed(result)
    assert set(events) == RAW_ASSETS
    for asset, event in events.items():
        name = asset.removeprefix("raw_") + ".csv"
        info = (folder / name).stat()
        assert event.partition == DAY
        assert event.metadata["landing_fingerprint"].value == fingerprint
        assert event.metadata["file_bytes"].value == info.st_size
        assert event.metadata["file_mtime"].value == pytest.approx(info.st_mtime_ns / 1e9)
        assert event.metadata["path"].value == f"landing/{DAY}/{name}"
        assert event.metadata["landing_status"].value == "landed"
        assert set(event.metadata) == {"landing_fingerprint", "file_bytes", "file_mtime", "path", "landing_status"}
        assert "not-a-real-secret" not in repr(event) and str(data_dir) not in repr(event)
    report_like_the_daemon(instance, result)
    for asset in RAW_ASSETS:
        (stored,) = stored_observations(instance, asset, DAY)
        assert stored.metadata["landing_fingerprint"].value == fingerprint
    assert stored_observations(instance, "raw_call_logs", "2025-04-27") == []
    for _ in range(2):  # unchanged: no more observations
        assert ticker.tick().asset_events == []


def test_a_day_without_its_roster_is_observed_on_the_other_two_assets(instance, data_dir):
    ticker = Ticker(instance, data_dir)
    folder = write_day(data_dir, DAY)
    (folder / "agent_roster.csv").unlink()  # carried forward from an earlier day
    ticker.tick()
    assert set(observed(ticker.tick())) == {"raw_call_logs", "raw_disposition_summary"}


def test_a_re_drop_is_observed_again_with_its_new_fingerprint(instance, data_dir):
    ticker = Ticker(instance, data_dir)
    folder = write_day(data_dir, DAY)
    ticker.tick()
    first = ticker.tick()
    report_like_the_daemon(instance, first)
    old = fingerprint_of(folder)
    redrop(folder)
    assert ticker.tick().asset_events == []  # the re-drop is settling
    second = ticker.tick()
    new = fingerprint_of(folder)
    assert new != old and [r.run_key for r in second.run_requests] == [f"{DAY}:{new}"]
    events = observed(second)
    assert set(events) == RAW_ASSETS
    assert {e.partition for e in events.values()} == {DAY}
    assert {e.metadata["landing_fingerprint"].value for e in events.values()} == {new}
    assert events["raw_call_logs"].metadata["file_bytes"].value == (folder / "call_logs.csv").stat().st_size
    report_like_the_daemon(instance, second)
    history = stored_observations(instance, "raw_call_logs", DAY)  # newest first
    assert [o.metadata["landing_fingerprint"].value for o in history] == [new, old]
    assert ticker.tick().asset_events == []


def test_an_adopted_day_is_observed_without_a_run(instance, data_dir):
    instance.report_runless_asset_event(dg.AssetMaterialization("slack_summary", partition=DAY))
    ticker = Ticker(instance, data_dir)
    folder = write_day(data_dir, DAY)
    result = ticker.tick()
    assert result.run_requests == []
    events = observed(result)
    assert set(events) == RAW_ASSETS
    for event in events.values():
        assert event.partition == DAY and event.metadata["landing_status"].value == "adopted"
        assert event.metadata["landing_fingerprint"].value == fingerprint_of(folder)
    assert ticker.tick().asset_events == []


# ---------------------------------------------------------------- a day that ran before, touched


def touch(path: Path, seconds_later: int = 10) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + seconds_later * 10**9))


@pytest.fixture
def ran_day(instance, data_dir):
    """A landed day that ran (every asset materialised in ``instance``) and a sensor that has
    adopted it."""
    folder = write_day(data_dir, DAY)
    assert materialize_day(data_dir, DAY, instance).success
    ticker = Ticker(instance, data_dir)
    assert ticker.tick().run_requests == []  # already materialised: adopted
    assert WatchState.from_json(ticker.cursor).launched == {DAY: fingerprint_of(folder)}
    return ticker, folder


def test_the_instance_records_each_landed_file_s_sha256(ran_day, instance):
    _, folder = ran_day
    recorded = sensors.recorded_day(instance, DAY)
    assert recorded.finished
    assert recorded.versions == {name: file_sha256(folder / name) for name in sensors.RAW_ASSET_OF_FILE}
    assert sensors.recorded_day(instance, "2025-04-27") == Recorded(dict.fromkeys(sensors.RAW_ASSET_OF_FILE), False)


def test_a_touched_identical_re_drop_starts_no_run(ran_day):
    ticker, folder = ran_day
    for name in ("call_logs.csv", "agent_roster.csv", "disposition_summary.csv"):
        touch(folder / name)
    assert ticker.tick().run_requests == []  # settling
    result = ticker.tick()
    assert result.run_requests == [] and "identical content (nothing to refresh)" in result.skip_message
    assert WatchState.from_json(ticker.cursor).launched == {DAY: fingerprint_of(folder)}
    events = observed(result)
    assert set(events) == RAW_ASSETS
    assert {e.metadata["landing_status"].value for e in events.values()} == {"identical"}
    assert all("identical content; nothing to refresh" in e.description for e in events.values())
    for _ in range(2):
        assert ticker.tick().run_requests == []


def test_a_changed_re_drop_of_a_day_that_ran_runs_it(ran_day):
    ticker, folder = ran_day
    redrop(folder)
    assert ticker.tick().run_requests == []  # settling
    (request,) = ticker.tick().run_requests
    fingerprint = fingerprint_of(folder)
    assert (request.partition_key, request.run_key) == (DAY, f"{DAY}:{fingerprint}")
    assert ticker.requested() == []


def test_a_touched_day_whose_last_run_did_not_finish_runs_again(ran_day, instance, data_dir):
    """The landing assets materialised after the day's summary (a run that stopped half way):
    touching the files is the way to run it again."""
    ticker, folder = ran_day
    assert materialize_day(data_dir, DAY, instance, selection=["raw_call_logs"]).success
    touch(folder / "call_logs.csv")
    ticker.tick()
    assert [day for day, _ in ticker.requested()] == [DAY]

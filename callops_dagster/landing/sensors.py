"""The landing sensor: runs the daily job for a day once its files have landed and settled."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from callops_dagster.contract.sources import SOURCES, raw_asset_name
from callops_dagster.landing.watch import LandedFile, WatchState, plan_tick, run_key, scan_landing
from callops_dagster.platform.jobs import daily_job
from callops_dagster.platform.partitions import daily_partitions
from callops_dagster.platform.resources import CallopsConfig
from callops_dagster.platform.settings import load_settings

FINGERPRINT_TAG = "callops/landing_fingerprint"
# A day already materialised when the sensor first sees it is adopted, not run again.
DONE_ASSET = dg.AssetKey("slack_summary")
# A landing tree full of unrun days drains this many runs per tick (use a backfill for more).
MAX_RUNS_PER_TICK = 10
# Which raw landing asset each landed file is (observed per day when the day settles).
RAW_ASSET_OF_FILE = {spec.file_name: dg.AssetKey(raw_asset_name(spec)) for spec in SOURCES}

def landed_observations(
    day: str, fingerprint: str, files: tuple[LandedFile, ...], data_dir: Path, *, adopted: bool
) -> list[dg.AssetObservation]:
    """One observation per landed file, on its raw asset's ``day`` partition: what landed, as
    stat saw it. No file contents and nothing from the environment."""
    note = "already materialised; adopted without a run" if adopted else "settled; run requested"
    observations = []
    for landed in files:
        try:
            path = landed.path.relative_to(data_dir).as_posix()
        except ValueError:
            path = f"landing/{day}/{landed.name}"
        observations.append(
            dg.AssetObservation(
                asset_key=RAW_ASSET_OF_FILE[landed.name],
                partition=day,
                description=f"{landed.name} landed for {day}: {note}",
                metadata={
                    "landing_fingerprint": fingerprint,
                    "file_bytes": dg.MetadataValue.int(landed.size),
                    "file_mtime": dg.MetadataValue.timestamp(landed.mtime_ns / 1e9),
                    "path": dg.MetadataValue.path(path),
                    "landing_status": "adopted" if adopted else "landed",
                },
            )
        )
    return observations

def current_day() -> dt.date:
    """Today in the partitions' timezone: the first day that is not a partition yet."""
    return dt.datetime.now(ZoneInfo(daily_partitions.timezone)).date()

@dg.sensor(
    name="callops_landing_sensor",
    job=daily_job,
    minimum_interval_seconds=load_settings().landing_sensor_interval,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Watches `<data_dir>/landing/` and runs `callops_daily` for a day once call_logs.csv and "
        "disposition_summary.csv are there (the roster may be carried forward) and their sizes "
        "and mtimes are unchanged since the previous tick. The run key carries a fingerprint of "
        "the day's files: a corrected re-drop runs once more, an unchanged day never twice. "
        "When a day settles (or is adopted as already materialised) the sensor reports an "
        "observation on each raw landing asset's partition for that day, with the fingerprint, "
        "so a landed day shows in the UI before its run has finished."
    ),
)
def landing_sensor(context: dg.SensorEvaluationContext, callops: CallopsConfig):
    try:
        state = WatchState.from_json(context.cursor)
    except ValueError as exc:
        context.log.warning(f"starting from an empty cursor: {exc}")
        state = WatchState()
    try:
        scan = scan_landing(callops.root)
        plan = plan_tick(
            scan,
            state,
            first_day=daily_partitions.start.date(),
            today=current_day(),
            already_done=lambda: context.instance.get_materialized_partitions(DONE_ASSET),
            max_runs=MAX_RUNS_PER_TICK,
        )
    except OSError as exc:  # the cursor stays as it was; the next tick tries again
        # A StorageError (object storage unreachable, no credentials, ...) names the folder or
        # file it failed on; a local OSError names its path.
        reason = f"cannot read the landing folder {callops.root / 'landing'}: {exc}"
        context.log.error(reason)
        return dg.SkipReason(reason)
    for name in scan.ignored:
        context.log.info(f"landing/{name} is not a YYYY-MM-DD folder: ignored")
    if plan.adopted:
        context.log.info(f"already materialised, adopted without a run: {', '.join(plan.adopted)}")
    for day in plan.not_open:
        context.log.info(f"{day} has landed but is not a partition yet; retried on a later tick")
    for day in plan.before_start:
        context.log.info(f"{day} is before the first partition {daily_partitions.start.date()}: ignored")
    requests = [
        dg.RunRequest(run_key=run_key(day, fingerprint), partition_key=day, tags={FINGERPRINT_TAG: fingerprint})
        for day, fingerprint in plan.ready
    ]
    fingerprints = dict(plan.ready) | {day: plan.state.launched[day] for day in plan.adopted}
    observations = [
        event
        for day, fingerprint in sorted(fingerprints.items())
        for event in landed_observations(
            day, fingerprint, plan.files[day], callops.root, adopted=day in plan.adopted
        )
    ]
    return dg.SensorResult(
        run_requests=requests,
        asset_events=observations,
        cursor=plan.state.to_json(),
        skip_reason=None if requests else plan.summary(),
    )

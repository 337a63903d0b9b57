"""The landing sensor: runs the daily job for a day once its files have landed and settled."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from callops_dagster.contract.sources import SOURCES, raw_asset_name
from callops_dagster.landing.watch import LandedFile, Recorded, WatchState, plan_tick, run_key, scan_landing
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
# Where a materialisation keeps the data version its asset returned (the landing assets: the
# file's sha256, ingest/raw_assets.py).
DATA_VERSION_TAG = "dagster/data_version"
# What the sensor did with a day, as its observations say it.
NOTES = {
    "landed": "settled; run requested",
    "adopted": "already materialised; adopted without a run",
    "identical": "identical content; nothing to refresh",
}


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey, day: str) -> dg.EventLogRecord | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1
    ).records
    return records[0] if records else None


def recorded_day(instance: dg.DagsterInstance, day: str) -> Recorded:
    """The data version of each landing asset's latest materialisation for ``day`` (by file
    name), and whether the day's last asset was materialised after all of them."""
    landed = {name: _latest(instance, key, day) for name, key in RAW_ASSET_OF_FILE.items()}
    done = _latest(instance, DONE_ASSET, day)
    return Recorded(
        versions={
            name: None if record is None else record.asset_materialization.tags.get(DATA_VERSION_TAG)
            for name, record in landed.items()
        },
        finished=done is not None
        and all(record is None or record.storage_id < done.storage_id for record in landed.values()),
    )


def landed_observations(
    day: str, fingerprint: str, files: tuple[LandedFile, ...], data_dir: Path, *, status: str
) -> list[dg.AssetObservation]:
    """One observation per landed file, on its raw asset's ``day`` partition: what landed, as
    stat saw it, and what the sensor did (``NOTES``). No file contents, nothing from the
    environment."""
    note = NOTES[status]
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
                    "landing_status": status,
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
        "the day's files: a corrected re-drop runs once more, an unchanged day never twice. A day "
        "that ran before and changed only by stat (a touched file, an identical re-drop) is "
        "compared by content (sha256 against its landing assets' data versions) and not run. "
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
            recorded=lambda day: recorded_day(context.instance, day),
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
    if plan.identical:
        context.log.info(f"touched, identical content; nothing to refresh: {', '.join(plan.identical)}")
    for day, why in plan.changed.items():
        context.log.info(f"{day} ran before and runs again: {why}")
    for day in plan.not_open:
        context.log.info(f"{day} has landed but is not a partition yet; retried on a later tick")
    for day in plan.before_start:
        context.log.info(f"{day} is before the first partition {daily_partitions.start.date()}: ignored")
    requests = [
        dg.RunRequest(run_key=run_key(day, fingerprint), partition_key=day, tags={FINGERPRINT_TAG: fingerprint})
        for day, fingerprint in plan.ready
    ]
    statuses = {day: "landed" for day, _ in plan.ready}
    statuses |= {day: "adopted" for day in plan.adopted} | {day: "identical" for day in plan.identical}
    observations = [
        event
        for day, status in sorted(statuses.items())
        for event in landed_observations(
            day, plan.state.launched[day], plan.files[day], callops.root, status=status
        )
    ]
    return dg.SensorResult(
        run_requests=requests,
        asset_events=observations,
        cursor=plan.state.to_json(),
        skip_reason=None if requests else plan.summary(),
    )

"""The ``callops`` command's Dagster side: run a landed day through ``callops_daily`` in the
project's instance (so the run shows in the UI), and read back what the instance knows.

Import this only after the command has set ``CALLOPS_DATA_DIR`` and ``DAGSTER_HOME``: the
definitions read their settings when they load.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from upath import UPath

from callops_dagster.compliance.weekly import week_of
from callops_dagster.console import CheckLine, DayStatus, WeekStatus, check_reason, compliance_text
from callops_dagster.definitions import defs
from callops_dagster.delivery.blocks import error_summary
from callops_dagster.ingest.intake import partition_problem
from callops_dagster.landing.watch import landed_files
from callops_dagster.platform.automation import SENSOR as AUTOMATION_SENSOR
from callops_dagster.platform.jobs import DAILY_JOB
from callops_dagster.platform.partitions import daily_partitions
from callops_dagster.platform.provenance import StalenessReader
from callops_dagster.platform.settings import load_settings
from callops_dagster.platform.storage import is_dir, list_folder, storage_errors
from callops_dagster.report.manifest import verify_reports
from callops_dagster.weekly.assets import JOB as WEEKLY_JOB
from callops_dagster.weekly.assets import WEEKLY as WEEKLY_ASSET
from callops_dagster.weekly.assets import WEEKLY_FILE, WEEKS_FOLDER, weekly_partitions

JOB = DAILY_JOB
PARTITION_TAG = "dagster/partition"
LAST_ASSET = dg.AssetKey("slack_summary")  # writes the day's reports
# The run's events are in the instance (and the UI); the terminal gets the command's lines.
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


class RunnerError(ValueError):
    """The command and the loaded definitions disagree; one line for people."""


@dataclass(frozen=True)
class DayResult:
    day: str
    run_id: str
    success: bool
    failure: str = ""
    checks: list[CheckLine] = field(default_factory=list)


def open_instance(data_dir: Path | UPath) -> dg.DagsterInstance:
    """The instance at ``DAGSTER_HOME``, once the definitions are known to use ``data_dir``."""
    if str(load_settings().data_dir) != str(data_dir):
        raise RunnerError(f"definitions loaded for {load_settings().data_dir}, not {data_dir}; run callops in its own process")
    return dg.DagsterInstance.get()


def partition_range_problem(day: dt.date) -> str | None:
    """Why ``day`` is not one of the daily partitions, or None."""
    keys = daily_partitions.get_partition_keys()
    if not keys:
        return f"there are no partitions yet; CALLOPS_START_DATE ({load_settings().start_date}) moves the first"
    return partition_problem(day, dt.date.fromisoformat(keys[0]), dt.date.fromisoformat(keys[-1]))


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[CheckLine]:
    """Every check of the run that did not pass (WARN or ERROR), in the order evaluated."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    lines = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        metadata = {key: value.value for key, value in (evaluation.metadata or {}).items()}
        lines.append(
            CheckLine(
                asset=evaluation.asset_key.to_user_string(),
                check=evaluation.check_name,
                severity=evaluation.severity.value,
                reason=check_reason(evaluation.description, metadata),
            )
        )
    return lines


def _failure_reason(result: dg.ExecuteInProcessResult) -> str:
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        described = data.user_failure_data.description if data.user_failure_data else None
        text = described or (data.error.message if data.error else "")
        if text:
            return f"step {event.step_key}: {error_summary(text, limit=500)}"
    return "see the run in the Dagster UI"


def run_day(
    instance: dg.DagsterInstance, day: str, job: str = JOB, assets: Sequence[dg.AssetKey] | None = None
) -> DayResult:
    """One run of ``job`` (``callops_daily``) for the partition ``day`` in ``instance`` (only
    ``assets`` and their checks, when given); never raises on a failed run."""
    result = defs.resolve_job_def(job).execute_in_process(
        partition_key=day, instance=instance, raise_on_error=False, run_config=QUIET, asset_selection=assets
    )
    return DayResult(
        day=day,
        run_id=result.run_id,
        success=result.success,
        failure="" if result.success else _failure_reason(result),
        checks=failed_checks(instance, result.run_id),
    )


def _local_time(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M")


def staleness_reader(instance: dg.DagsterInstance) -> StalenessReader:
    """Reads the instance's materialisation records once for every day and week asked about."""
    return StalenessReader(defs, instance)


def latest_run(instance: dg.DagsterInstance, job: str, partition: str) -> dg.DagsterRun | None:
    """The newest run of ``job`` for ``partition``. The job matters: a week's partition key is
    its first day, so that day's latest run of any job may be its week's."""
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=job, tags={PARTITION_TAG: partition}), limit=1)
    return runs[0] if runs else None


def day_status(
    instance: dg.DagsterInstance, day: str, folder: Path | UPath, reader: StalenessReader | None = None
) -> DayStatus:
    """The landed files of ``day``, when its reports were last materialised, whether its report
    set is complete (its manifest verifies), the status and failed checks of its latest
    ``callops_daily`` run, and whether an input of its tables changed since they ran (refresh
    pending or done), as recorded in the instance."""
    reader = reader or staleness_reader(instance)
    files = landed_files(folder) or [e for e in list_folder(folder) if not e.is_dir]
    done = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=LAST_ASSET, asset_partitions=[day]), limit=1, ascending=False
    ).records
    run = latest_run(instance, JOB, day)
    return DayStatus(
        day=day,
        files=[f.name for f in files],
        materialised_at=_local_time(done[0].timestamp) if done else None,
        last_run=run_text(run),
        checks=failed_checks(instance, run.run_id) if run else [],
        compliance=compliance_text(
            _latest_metadata(instance, "agent_compliance", day), _latest_metadata(instance, "loan_contact_frequency", day)
        ),
        reports=reports_state(reports_folder(day)),
        refresh=reader.staleness(reader.keys_of(daily_partitions), day, own=day).text() if done else None,
    )


def week_statuses(instance: dg.DagsterInstance, reader: StalenessReader | None = None) -> list[WeekStatus]:
    """Every materialised week, oldest first: when, and whether an input changed since."""
    reader = reader or staleness_reader(instance)
    key = dg.AssetKey(WEEKLY_ASSET)
    rows = []
    for week in weekly_partitions.get_partition_keys():
        done = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[week]), limit=1, ascending=False
        ).records
        if done:
            rows.append(WeekStatus(week, _local_time(done[0].timestamp), reader.staleness([key], week, own=None).text(),
                                   run_text(latest_run(instance, WEEKLY_JOB, week))))
    return rows
def run_text(run: dg.DagsterRun | None) -> str | None:
    """``success (1a2b3c4d)``; None when there is no run."""
    return f"{run.status.value.lower()} ({run.run_id[:8]})" if run else None


def reports_state(folder: Path | UPath) -> str | None:
    """``complete`` when the folder's manifest verifies, ``incomplete: ...`` with the first
    problem when not, None when there is no report folder."""
    if not is_dir(folder):
        return None
    problems = verify_reports(folder)
    return "complete" if not problems else f"incomplete: {problems[0]}"


def _latest_metadata(instance: dg.DagsterInstance, asset: str, day: str) -> dict:
    """The metadata values of ``asset``'s latest materialisation of ``day`` ({} when none)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[day]), limit=1, ascending=False
    ).records
    if not records:
        return {}
    return {k: v.value for k, v in (records[0].asset_materialization.metadata or {}).items()}


def reports_folder(day: str) -> Path | UPath:
    return load_settings().data_dir / "reports" / day


def weeks_of(days: list[str]) -> tuple[list[str], list[str]]:
    """The week starts holding ``days``, ascending: (weekly partitions, weeks not ended yet)."""
    weeks = sorted({week_of(dt.date.fromisoformat(d), load_settings().week_start).isoformat() for d in days})
    existing = set(weekly_partitions.get_partition_keys())
    return [w for w in weeks if w in existing], [w for w in weeks if w not in existing]


def run_week(instance: dg.DagsterInstance, week: str) -> DayResult:
    """One run of ``callops_weekly`` for the week starting ``week``; never raises on failure."""
    return run_day(instance, week, job=WEEKLY_JOB)


def weekly_file(week: str) -> Path | UPath:
    return load_settings().data_dir / "reports" / WEEKS_FOLDER / week / WEEKLY_FILE


# ---------------------------------------------------------------- refresh (issue: corrections)

# Assets that sum up several days: refreshed once the days' own chains have settled, so a chain
# that moves over several rounds (the carried-forward roster) does not refresh them twice.
SUMMARIES = {dg.AssetKey("day_trend"), dg.AssetKey(WEEKLY_ASSET)}
# What they read: while a chain recomputes one of these, they wait.
SUMMARY_INPUTS = {dg.AssetKey(k) for k in ("agent_day", "rejected_rows", "agent_roster", "agent_performance_summary", "call_logs")}
MAX_ROUNDS = 60  # a carried-forward roster moves one day a round; a day's chain is one round
DAEMON_FRESH_S = 60


@dataclass(frozen=True)
class Refresh:
    """One partition brought up to date: which assets, why, and the run."""

    partition: str
    weekly: bool
    assets: list[str]
    why: str
    result: DayResult


def daemon_refreshes(instance: dg.DagsterInstance) -> bool:
    """True when a live daemon runs the automation sensor: it brings the dependents up to date
    and the command leaves them to it (two evaluators would request the same refresh twice)."""
    try:
        heartbeats = instance.get_daemon_heartbeats()
    except Exception:  # an instance without daemon storage
        return False
    beat = heartbeats.get("ASSET")
    if beat is None or dt.datetime.now().timestamp() - beat.timestamp > DAEMON_FRESH_S:
        return False
    states = [s for s in instance.all_instigator_state() if s.instigator_name == AUTOMATION_SENSOR]
    return not states or any(s.status.value != "STOPPED" for s in states)  # default: running


def _requests(result) -> dict[tuple[bool, str], list[dg.AssetKey]]:
    """The requested asset partitions, by (weekly, partition key), in the order to run them:
    days in date order, then weeks in date order."""
    weekly_keys = {dg.AssetKey(WEEKLY_ASSET)}
    found: dict[tuple[bool, str], list[dg.AssetKey]] = {}
    for key in defs.resolve_asset_graph().get_all_asset_keys():
        for partition in result.get_requested_partitions(key):
            found.setdefault((key in weekly_keys, partition), []).append(key)
    return dict(sorted(found.items()))


def reads_later(instance: dg.DagsterInstance, days: Sequence[str]) -> bool:
    """Whether anything that can read ``days`` is materialised: a later day, or the week holding
    one of them or a later week. When not (the newest day landing, the usual case), running the
    days can leave nothing stale and the command evaluates no condition (about a second each)."""
    if not days:
        return False
    later = [d for d in instance.get_materialized_partitions(LAST_ASSET) if d > min(days)]
    first_week = week_of(dt.date.fromisoformat(min(days)), load_settings().week_start).isoformat()
    weeks = [w for w in instance.get_materialized_partitions(dg.AssetKey(WEEKLY_ASSET)) if w >= first_week]
    return bool(later or weeks)


def prime_refresh(instance: dg.DagsterInstance):
    """Right before the command's runs: one evaluation of the conditions, which records where
    things stand (a first evaluation requests nothing), so that the next one sees exactly what
    the runs changed. Returns its cursor."""
    return dg.evaluate_automation_conditions(defs=defs, instance=instance).cursor


def refresh_dependents(
    instance: dg.DagsterInstance, cursor, changed: Sequence[str], on_refresh: Callable[[Refresh], None] = lambda r: None
) -> list[Refresh]:
    """Evaluate the assets' automation conditions (as the daemon's automation sensor does) and
    run what they request, round after round until nothing is requested: every partition that
    was materialised before and read a changed one. ``changed``: the days this command ran (for
    the reasons printed; they are not refreshed themselves); ``cursor``: ``prime_refresh``'s,
    taken before the command's runs."""
    done: list[Refresh] = []
    touched = list(changed)
    failed: set[tuple[bool, str]] = set()
    waiting: dict[tuple[bool, str], set[dg.AssetKey]] = {}  # summaries held until the chains settle
    for _ in range(MAX_ROUNDS):
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
        cursor = result.cursor
        # Not the days this command ran (a step that failed there would only fail again), nor a
        # refresh that failed already (its failure was reported).
        requests = {at: keys for at, keys in _requests(result).items()
                    if at not in failed and not (not at[0] and at[1] in changed)}
        for at, keys in requests.items():
            if held := {k for k in keys if k in SUMMARIES}:
                waiting.setdefault(at, set()).update(held)
        chains = {at: [k for k in keys if k not in SUMMARIES] for at, keys in requests.items()}
        chains = {at: keys for at, keys in chains.items() if keys}
        if not any(k in SUMMARY_INPUTS for keys in chains.values() for k in keys):
            # Nothing the summaries read is being recomputed: they go along with the chains, in
            # the same run as their day's chain where there is one.
            for at, keys in ((at, keys) for at, keys in waiting.items() if keys):
                chains[at] = sorted({*chains.get(at, []), *keys}, key=lambda k: k.to_user_string())
            chains, waiting = dict(sorted(chains.items())), {}
        if not chains:
            # The days' chains have settled: what sums up several days (trend, weeks) runs once,
            # over what they left.
            chains = {at: sorted(keys, key=lambda k: k.to_user_string()) for at, keys in sorted(waiting.items()) if keys}
            waiting = {}
            if not chains:
                break
        for (weekly, partition), keys in chains.items():
            job = WEEKLY_JOB if weekly else JOB
            outcome = run_day(instance, partition, job=job, assets=keys)
            refresh = Refresh(partition, weekly, sorted(k.to_user_string() for k in keys),
                              _why(partition, weekly, touched), outcome)
            on_refresh(refresh)
            done.append(refresh)
            if not outcome.success:
                failed.add((weekly, partition))
    return done


def _why(partition: str, weekly: bool, touched: Sequence[str]) -> str:
    """Which changed days a refreshed partition reads."""
    day = dt.date.fromisoformat(partition)
    if weekly:
        reads = [d for d in touched if day - dt.timedelta(days=7) <= dt.date.fromisoformat(d) < day + dt.timedelta(days=7)]
        return f"it reads {', '.join(sorted(set(reads)))}" if reads else "an input changed"
    earlier = sorted({d for d in touched if day - dt.timedelta(days=7) <= dt.date.fromisoformat(d) < day})
    return f"it reads {', '.join(earlier)} (seven-day window, trend or roster)" if earlier else "an input changed"

"""The ``callops`` command's Dagster side: run a landed day through ``callops_daily`` in the
project's instance (so the run shows in the UI), and read back what the instance knows.

Import this only after the command has set ``CALLOPS_DATA_DIR`` and ``DAGSTER_HOME``: the
definitions read their settings when they load.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from upath import UPath

from callops_dagster.compliance.weekly import week_of
from callops_dagster.console import CheckLine, DayStatus, check_reason, compliance_text
from callops_dagster.definitions import defs
from callops_dagster.delivery.blocks import error_summary
from callops_dagster.ingest.intake import partition_problem
from callops_dagster.landing.watch import landed_files
from callops_dagster.platform.jobs import DAILY_JOB
from callops_dagster.platform.partitions import daily_partitions
from callops_dagster.platform.settings import load_settings
from callops_dagster.platform.storage import is_dir, list_folder, storage_errors
from callops_dagster.report.manifest import verify_reports
from callops_dagster.weekly.assets import JOB as WEEKLY_JOB
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


def run_day(instance: dg.DagsterInstance, day: str, job: str = JOB) -> DayResult:
    """One run of ``job`` (``callops_daily``) for the partition ``day`` in ``instance``; never
    raises on a failed run."""
    result = defs.resolve_job_def(job).execute_in_process(
        partition_key=day, instance=instance, raise_on_error=False, run_config=QUIET
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


def latest_run(instance: dg.DagsterInstance, job: str, partition: str) -> dg.DagsterRun | None:
    """The newest run of ``job`` for ``partition``. The job matters: a week's partition key is
    its first day, so that day's latest run of any job may be its week's."""
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=job, tags={PARTITION_TAG: partition}), limit=1)
    return runs[0] if runs else None


def day_status(instance: dg.DagsterInstance, day: str, folder: Path | UPath) -> DayStatus:
    """The landed files of ``day``, when its reports were last materialised, whether its report
    set is complete (its manifest verifies), and the status and failed checks of its latest
    ``callops_daily`` run, as recorded in the instance."""
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
    )


def run_text(run: dg.DagsterRun | None) -> str | None:
    """``success (1a2b3c4d)``; None when there is no run."""
    return f"{run.status.value.lower()} ({run.run_id[:8]})" if run else None


def week_runs(instance: dg.DagsterInstance, days: list[str]) -> list[tuple[str, str]]:
    """(week start, its latest ``callops_weekly`` run) for each week holding ``days`` that has
    a run, ascending."""
    weeks = sorted({week_of(dt.date.fromisoformat(d), load_settings().week_start).isoformat() for d in days})
    found = [(week, run_text(latest_run(instance, WEEKLY_JOB, week))) for week in weeks]
    return [(week, text) for week, text in found if text]


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

"""Validated tables: each file's rows trimmed, typed and deduplicated, and its rejected rows."""

import datetime as dt
import warnings
from collections.abc import Callable

import dagster as dg
import pandas as pd

from callops_dagster.contract import check_names as checks
from callops_dagster.contract.durations import unit_verdict
from callops_dagster.contract.sources import raw_asset_name
from callops_dagster.contract.sources import (
    AGENT_ROSTER,
    CALL_LOGS,
    DISPOSITION_SUMMARY,
    SourceSpec,
)
from callops_dagster.contract.sources import CALL_ID_CONFLICT
from callops_dagster.ingest.validation import (
    Validated,
    records_conservation,
    reported_rejects,
    with_roster_day,
    validate_agent_roster,
    validate_call_logs,
    validate_disposition_summary,
)
from callops_dagster.platform.metadata import (
    OWNERS,
    counts_md,
    declared_metadata,
    sample_md,
    table_metadata,
)
from callops_dagster.platform.automation import CODE_VERSION, refresh_on_change, refresh_on_new_version, versioned_output
from callops_dagster.ingest.reading import SourceFileError
from callops_dagster.ingest.roster import choose_roster, roster_in_force
from callops_dagster.platform.checks import check_spec, not_landed_results
from callops_dagster.platform.storage import StorageError
from callops_dagster.platform.versions import frame_version
from callops_dagster.platform.partitions import daily_partitions, partition_day
from callops_dagster.platform.resources import CallopsConfig

GROUP = "validated"
Validator = Callable[[pd.DataFrame, dg.AssetExecutionContext, CallopsConfig], Validated]

VALIDATORS: dict[str, Validator] = {
    CALL_LOGS.name: lambda raw, context, config: validate_call_logs(
        raw, partition_day(context), config.known_statuses, config.duration_unit, config.timezone
    ),
    DISPOSITION_SUMMARY.name: lambda raw, context, config: validate_disposition_summary(
        raw, partition_day(context), config.timezone
    ),
    AGENT_ROSTER.name: lambda raw, context, config: validate_agent_roster(raw),
}
DESCRIPTIONS = {
    CALL_LOGS.name: (
        "Kept call attempts: trimmed, status lower-cased, one row per call (call_id, org_id, "
        "agent_id, installment_id; the latest created_ts wins, ties to the later row; calls "
        "sharing only a call_id are all kept), duration as exact decimal seconds read in "
        "CALLOPS_DURATION_UNIT (null when not a plain number)."
    ),
    DISPOSITION_SUMMARY.name: (
        "Kept login records: one per (org_id, agent_id, call_date), the earliest login_time "
        "wins; `present` when that login_time is non-empty."
    ),
    AGENT_ROSTER.name: (
        "Kept roster: one row per (org_id, agent_id), the later row in the file wins; "
        "agent_name is first and last name joined by a space."
    ),
}


def rejected_asset_name(spec: SourceSpec) -> str:
    return f"{spec.name}_rejected"


def _check_specs(spec: SourceSpec) -> list[dg.AssetCheckSpec]:
    extra = CALL_LOGS_CHECKS if spec == CALL_LOGS else []
    return extra + [
        check_spec(
            checks.KEYS_NON_NULL_UNIQUE,
            spec.name,
            blocking=True,
            description=f"Keys ({', '.join(spec.dedupe_key)}) are non-empty and unique (pandera schema).",
        ),
        check_spec(
            checks.RECORDS_CONSERVED,
            spec.name,
            blocking=True,
            description="Records read (the reader's count) = rows kept + rows rejected.",
        ),
    ]


CALL_LOGS_CHECKS = [
    check_spec(
        checks.CALL_ID_CONFLICT,
        CALL_LOGS.name,
        description=(
            "WARN when kept calls of different agents or loans share a call_id (colliding ids: "
            "all kept, none dropped), with the number of call_ids and a sample."
        ),
    ),
    check_spec(
        checks.DURATION_UNIT_PLAUSIBLE,
        CALL_LOGS.name,
        description=(
            "WARN when the median of the day's positive durations does not fit "
            "CALLOPS_DURATION_UNIT (above 60 for minutes, below 20 for seconds)."
        ),
    ),
]


def _call_logs_check_results(result: Validated, config: CallopsConfig) -> list[dg.AssetCheckResult]:
    """The call_logs-only checks: colliding call_ids and the duration unit's plausibility."""
    conflicts = result.warnings[CALL_ID_CONFLICT]
    sample = result.samples[CALL_ID_CONFLICT]
    verdict = unit_verdict(result.kept["duration_s"], config.duration_unit)
    return [
        dg.AssetCheckResult(
            asset_key=CALL_LOGS.name,
            check_name=checks.CALL_ID_CONFLICT,
            passed=conflicts == 0,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{conflicts} call_ids shared by different calls (kept)" if conflicts else None,
            metadata={
                "call_ids_shared": conflicts,
                "calls_with_shared_ids": int(result.kept["call_id"].duplicated(keep=False).sum()),
                "sample": sample_md(sample),
            },
        ),
        dg.AssetCheckResult(
            asset_key=CALL_LOGS.name,
            check_name=checks.DURATION_UNIT_PLAUSIBLE,
            passed=verdict.passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=verdict.text,
            metadata={
                "duration_unit": config.duration_unit,
                "positive_durations": verdict.positive_durations,
                "median_duration": verdict.median if verdict.median is not None else float("nan"),
                "summary": verdict.text,
            },
        ),
    ]


def _check_results(
    spec: SourceSpec, result: Validated, records_read: int, config: CallopsConfig
) -> list[dg.AssetCheckResult]:
    """The validated table's checks: keys (pandera), the call_logs-only ones, conservation."""
    # pandera is imported where it validates: the webserver, the daemon and `callops status`
    # load these definitions without ever running a check (~0.1 s of each process's start).
    from callops_dagster.contract.schemas import SCHEMAS, schema_failures

    failures = schema_failures(result.kept, SCHEMAS[spec.name])
    conservation = records_conservation(records_read, result)
    return [
        dg.AssetCheckResult(
            asset_key=spec.name,
            check_name=checks.KEYS_NON_NULL_UNIQUE,
            passed=failures.empty,
            metadata={
                "failure_cases": len(failures),
                "sample": sample_md(failures.head(10).astype(str)),
            },
        ),
        *(_call_logs_check_results(result, config) if spec == CALL_LOGS else []),
        dg.AssetCheckResult(
            asset_key=spec.name,
            check_name=checks.RECORDS_CONSERVED,
            passed=conservation["difference"] == 0,
            metadata=conservation,
        ),
    ]


def _outs(spec: SourceSpec) -> dict[str, dg.AssetOut]:
    """The validated table of one file and its rejected rows."""
    rejected_name = rejected_asset_name(spec)
    # The roster's landing asset is recomputed when the previous day's roster changes: a day
    # with its own file finds the same version, and nothing below it runs again.
    versioned = {
        # The roster skips a day that never ran (see validate): its outputs are optional.
        "is_required": spec != AGENT_ROSTER,
        "code_version": CODE_VERSION,
        "automation_condition": refresh_on_new_version() if spec == AGENT_ROSTER else refresh_on_change(),
    }
    return {
        spec.name: dg.AssetOut(
            group_name=GROUP,
            kinds={"pandas", "parquet"},
            owners=OWNERS,
            metadata=declared_metadata(spec.name),
            description=DESCRIPTIONS[spec.name],
            **versioned,
        ),
        rejected_name: dg.AssetOut(
            group_name=GROUP,
            kinds={"pandas", "parquet"},
            owners=OWNERS,
            metadata=declared_metadata(rejected_name),
            description=(
                f"Rows of {spec.file_name} that broke a row rule: row_number, reason "
                "code (the first rule broken) and raw values."
            ),
            **versioned,
        ),
    }


ROSTER_WINDOW_DAYS = 7  # the earlier days whose rosters the lineage links a day's roster to


def _roster_window() -> dg.AssetIn:
    """The roster's input: the raw rosters of the day and the seven days before it (a day never
    run is absent), so the lineage shows which days a carried-forward roster can come from."""
    with warnings.catch_warnings():  # allow_nonexistent_upstream_partitions is beta in 1.13
        warnings.simplefilter("ignore", dg.BetaWarning)
        mapping = dg.TimeWindowPartitionMapping(
            start_offset=-ROSTER_WINDOW_DAYS, allow_nonexistent_upstream_partitions=True
        )
    return dg.AssetIn(raw_asset_name(AGENT_ROSTER), partition_mapping=mapping, metadata={"allow_missing_partitions": True})


def _own_day_ran(context: dg.AssetExecutionContext, loaded: object) -> bool:
    """Whether the day's own raw roster is among the loaded window (it ran: the day landed)."""
    if isinstance(loaded, dict):
        return context.partition_key in loaded and loaded[context.partition_key] is not None
    keys = list(context.asset_partition_keys_for_input("raw"))
    return loaded is not None and bool(keys) and keys[-1] == context.partition_key


def _roster_in_force(context: dg.AssetExecutionContext, config: CallopsConfig, loaded: object) -> tuple[pd.DataFrame, str | None]:
    """The raw roster the day uses and the earlier day it was carried from (None: its own).

    The latest roster with records among the day and the seven before it (the input); when
    none of them ran with one (a roster missing for a week, or a day run before the days before
    it), the latest earlier landed roster file (read from landing/, named in the log: the
    lineage does not link it)."""
    day = partition_day(context)
    keys = list(context.asset_partition_keys_for_input("raw"))
    tables = loaded if isinstance(loaded, dict) else ({keys[-1]: loaded} if loaded is not None and keys else {})
    found = roster_in_force(tables, day)
    if found is None:  # none in the window ran with rows: the earlier landed files (a day run out of order)
        try:
            choice = choose_roster(config.root, day, max_bytes=config.max_file_bytes)
        except (SourceFileError, StorageError) as exc:
            raise dg.Failure(description=str(exc), metadata={"file": AGENT_ROSTER.file_name}) from None
        for note in choice.skipped:
            context.log.warning(f"earlier roster skipped: {note}")
        found = choice.table.frame, choice.roster_day
        context.log.warning(
            f"roster read from {choice.table.path}: no day of the {ROSTER_WINDOW_DAYS}-day window before "
            f"{day} ran with one (the lineage does not link this file)"
        )
    frame, roster_day = found
    if roster_day != day:
        context.log.warning(f"{AGENT_ROSTER.file_name} for {day} has no data rows; using the roster of {roster_day}")
        return frame, roster_day.isoformat()
    return frame, None


def _kept_metadata(spec: SourceSpec, result: Validated, kept: pd.DataFrame) -> dict:
    return table_metadata(
        kept,
        spec.name,
        rows_rejected=len(result.rejected),
        rejected_by_reason=counts_md(result.rejected_by_reason(), "reason"),
        warnings=counts_md(result.warnings, "warning"),
        **{f"warning_{k}": v for k, v in result.warnings.items()},
    )


def _rejected_metadata(name: str, reported: pd.DataFrame, carried_from: str | None) -> dict:
    return table_metadata(
        reported,
        name,
        rejected_by_reason=counts_md(reported["reason"].value_counts().to_dict(), "reason"),
        **({"note": f"roster carried forward from {carried_from}; its rejects belong to that day"}
           if carried_from else {}),
    )


def build_validated_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    """The validated table of one file and its rejected rows, with their checks."""
    rejected_name = rejected_asset_name(spec)

    @dg.multi_asset(
        name=f"validate_{spec.name}",
        partitions_def=daily_partitions,
        ins={"raw": _roster_window() if spec == AGENT_ROSTER else dg.AssetIn(raw_asset_name(spec))},
        outs=_outs(spec),
        check_specs=_check_specs(spec),
    )
    def validate(context: dg.AssetExecutionContext, callops: CallopsConfig, raw):
        carried_from = None
        if spec == AGENT_ROSTER:
            if not _own_day_ran(context, raw):
                why = "its landing files never ran: not landed"
                context.log.info(f"{spec.name} of {context.partition_key} skipped: {why}")
                yield from not_landed_results(_check_specs(spec), context.partition_key, why)
                return
            raw, carried_from = _roster_in_force(context, callops, raw)
        result = VALIDATORS[spec.name](raw, context, callops)
        kept = with_roster_day(result.kept, carried_from or context.partition_key) if spec == AGENT_ROSTER else result.kept
        reported = reported_rejects(result, carried_from is not None)
        # The roster's tables carry a content version: a day whose roster stays the same after an
        # earlier day changed keeps its version, and nothing below it runs again.
        output = (
            (lambda value, **kw: versioned_output(value, frame_version(value), **kw))
            if spec == AGENT_ROSTER else dg.Output
        )
        roster = {"roster_day": carried_from or context.partition_key, "carried_forward": carried_from is not None}
        yield output(kept, output_name=spec.name,
                     metadata={**_kept_metadata(spec, result, kept), **(roster if spec == AGENT_ROSTER else {})})
        yield output(
            reported, output_name=rejected_name, metadata=_rejected_metadata(rejected_name, reported, carried_from)
        )
        # The raw table holds one row per record the reader read: its length is records_read.
        yield from _check_results(spec, result, len(raw), callops)

    return validate


validated_assets = [
    build_validated_asset(spec) for spec in (CALL_LOGS, AGENT_ROSTER, DISPOSITION_SUMMARY)
]

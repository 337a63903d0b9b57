"""Landing assets: each day's three files read as text, one asset per file."""


import dagster as dg

from callops_dagster.contract import check_names as checks
from callops_dagster.contract.safe_text import HostileText, profile_text
from callops_dagster.contract.sources import AGENT_ROSTER, RAW_TEXT, SOURCES, SourceSpec, raw_asset_name
from callops_dagster.ingest.profiling import RawProfile, profile_raw
from callops_dagster.ingest.reading import RawTable, SourceFileError, read_landing_csv
from callops_dagster.ingest.roster import choose_roster
from callops_dagster.landing.folder import landing_file
from callops_dagster.platform.metadata import OWNERS, declared_metadata, table_metadata
from callops_dagster.platform.checks import check_spec
from callops_dagster.platform.partitions import daily_partitions, partition_day
from callops_dagster.platform.resources import CallopsConfig
from callops_dagster.platform.storage import StorageError

GROUP = "landing"
# The system that exports each file (a tag, to filter the catalog by source).
SOURCE_SYSTEMS = {"call_logs": "dialer", "disposition_summary": "dialer", "agent_roster": "hr"}


def _check_specs(spec: SourceSpec) -> list[dg.AssetCheckSpec]:
    asset = raw_asset_name(spec)
    keys = ", ".join(spec.keys)
    return [
        check_spec(
            checks.HAS_ROWS,
            asset,
            description=f"WARN when {spec.file_name} has no data rows for the day.",
        ),
        check_spec(
            checks.MISSING_KEYS,
            asset,
            blocking=True,
            description=(
                f"Rows with an empty key ({keys}): WARN when any; ERROR, blocking the day, "
                "when more than the configured share of the file (default 20%)."
            ),
        ),
        check_spec(
            checks.DUPLICATE_KEYS,
            asset,
            description=f"WARN when rows share a key ({', '.join(spec.dedupe_key)}); they are deduplicated downstream.",
        ),
        check_spec(
            checks.FORMULA_LIKE_TEXT,
            asset,
            description=(
                "WARN when text cells begin with =, +, -, @, a tab or a carriage return (as written "
                "or trimmed): a spreadsheet would run them as formulas, so the report CSVs write them "
                "with a leading '. With a sample, and counts of cells holding direction overrides "
                "or control characters."
            ),
        ),
    ]


def _check_results(
    spec: SourceSpec, profile: RawProfile, text: HostileText, error_share: float
) -> list[dg.AssetCheckResult]:
    asset = raw_asset_name(spec)
    too_many = profile.missing_key_share > error_share
    return [
        dg.AssetCheckResult(
            asset_key=asset, check_name=checks.HAS_ROWS, passed=profile.records > 0,
            severity=dg.AssetCheckSeverity.WARN, metadata={"records": profile.records},
        ),
        dg.AssetCheckResult(
            asset_key=asset, check_name=checks.MISSING_KEYS, passed=profile.missing_keys == 0,
            severity=dg.AssetCheckSeverity.ERROR if too_many else dg.AssetCheckSeverity.WARN,
            metadata={
                "rows_with_missing_keys": profile.missing_keys,
                "share": round(profile.missing_key_share, 6),
                "error_share": error_share,
            },
        ),
        dg.AssetCheckResult(
            asset_key=asset, check_name=checks.DUPLICATE_KEYS, passed=profile.duplicate_keys == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"rows_with_duplicate_keys": profile.duplicate_keys},
        ),
        dg.AssetCheckResult(
            asset_key=asset, check_name=checks.FORMULA_LIKE_TEXT, passed=text.formula_like == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "formula_like_cells": text.formula_like,
                "cells_with_direction_overrides": text.direction_overrides,
                "cells_with_control_characters": text.control_characters,
                "sample": dg.MetadataValue.json(text.sample),
            },
        ),
    ]


def _read(spec: SourceSpec, config: CallopsConfig, context: dg.AssetExecutionContext) -> tuple[RawTable, dict]:
    """The day's file (the roster may be carried forward) and metadata saying which."""
    day = partition_day(context)
    if spec == AGENT_ROSTER:
        choice = choose_roster(config.root, day, max_bytes=config.max_file_bytes)
        for note in choice.skipped:
            context.log.warning(f"earlier roster skipped: {note}")
        if choice.carried_forward(day):
            context.log.warning(
                f"{spec.file_name} for {day} has no data rows; using {choice.table.path}"
            )
        return choice.table, {
            "roster_day": choice.roster_day.isoformat(),
            "carried_forward": choice.carried_forward(day),
        }
    return read_landing_csv(landing_file(config.root, day, spec), spec, max_bytes=config.max_file_bytes), {}


def build_raw_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    """The asset of one landing file: its records as text, with the landing checks."""

    @dg.asset(
        name=raw_asset_name(spec),
        partitions_def=daily_partitions,
        group_name=GROUP,
        kinds={"csv", "pandas"},
        owners=OWNERS,
        tags={"source_system": SOURCE_SYSTEMS[spec.name]},
        metadata=declared_metadata(raw_asset_name(spec)),
        check_specs=_check_specs(spec),
        description=(
            f"`landing/<date>/{spec.file_name}` read as text, one row per record, with its "
            "1-based row_number; malformed records keep their raw text. A file that cannot be "
            "used fails the day with a message naming the file and the problem."
            + (" A day without a roster uses the latest earlier day's roster." if spec == AGENT_ROSTER else "")
        ),
    )
    def raw_asset(context: dg.AssetExecutionContext, callops: CallopsConfig):
        try:
            table, extra = _read(spec, callops, context)
        except (SourceFileError, StorageError) as exc:  # StorageError: object storage failed; names the object
            raise dg.Failure(description=str(exc), metadata={"file": spec.file_name}) from None
        profile = profile_raw(table.frame, spec)
        text = profile_text(table.frame, (*spec.columns, RAW_TEXT))
        yield dg.Output(
            table.frame,
            metadata=table_metadata(
                table.frame,
                raw_asset_name(spec),
                source_path=dg.MetadataValue.path(str(table.path)),
                bytes=table.bytes,
                records_read=table.records_read,
                malformed_rows=profile.malformed,
                extra_columns_ignored=", ".join(table.extra_columns) or "none",
                **extra,
            ),
        )
        yield from _check_results(spec, profile, text, callops.missing_key_error_share)

    return raw_asset


raw_assets = [build_raw_asset(spec) for spec in SOURCES]

"""Landing assets: each day's three files read as text, one asset per file."""

from typing import Any

import dagster as dg

from callops_dagster.contract import check_names as checks
from callops_dagster.contract.safe_text import HostileText, profile_text
from callops_dagster.contract.sources import AGENT_ROSTER, RAW_TEXT, SOURCES, SourceSpec, raw_asset_name
from callops_dagster.ingest.profiling import RawProfile, profile_raw
from callops_dagster.ingest.reading import RawTable, SourceFileError, empty_raw_frame, read_landing_csv
from callops_dagster.ingest.resources import IO_MANAGER_KEY, SPEC_OF_ASSET as BY_REFERENCE, LandedTable
from callops_dagster.ingest.roster import usable_roster
from callops_dagster.landing.folder import landing_file
from callops_dagster.landing.watch import CARRIED as NO_FILE
from callops_dagster.platform.metadata import OWNERS, declared_metadata, table_metadata
from callops_dagster.platform.automation import CODE_VERSION, versioned_output
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


def _read(spec: SourceSpec, config: CallopsConfig, day) -> RawTable | None:
    """The day's file; None for a roster that did not come (absent, empty or header-only): the
    validated roster then carries an earlier day's forward. A roster that came broken fails."""
    path = landing_file(config.root, day, spec)
    if spec == AGENT_ROSTER:
        return usable_roster(path, config.max_file_bytes)
    return read_landing_csv(path, spec, max_bytes=config.max_file_bytes)


def _file_metadata(table: RawTable | None) -> dict[str, Any]:
    """What was read: the file, its size and sha256 (a roster that did not come: nothing)."""
    if table is None:
        return {"roster": "none for the day: the validated roster carries an earlier day's forward"}
    return {
        "source_path": dg.MetadataValue.path(str(table.path)),
        "bytes": table.bytes,
        "sha256": table.fingerprint,
        "records_read": table.records_read,
        "extra_columns_ignored": ", ".join(table.extra_columns) or "none",
    }


def build_raw_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    """The asset of one landing file: its records as text, with the landing checks."""
    by_reference = raw_asset_name(spec) in BY_REFERENCE

    @dg.asset(
        name=raw_asset_name(spec),
        partitions_def=daily_partitions,
        group_name=GROUP,
        kinds={"csv", "pandas"},
        owners=OWNERS,
        tags={"source_system": SOURCE_SYSTEMS[spec.name]},
        metadata=declared_metadata(raw_asset_name(spec)),
        check_specs=_check_specs(spec),
        # No automation condition: a landing file has no upstream asset; `callops run` and the
        # landing sensor run a landed day, and automation takes it from there.
        code_version=CODE_VERSION,
        # The call logs and logins: a reference to the landing file, not a copy (ingest/resources.py).
        io_manager_key=IO_MANAGER_KEY if by_reference else None,
        description=(
            f"`landing/<date>/{spec.file_name}` read as text, one row per record, with its "
            "1-based row_number; malformed records keep their raw text. A file that cannot be "
            "used fails the day with a message naming the file and the problem."
            + (
                " Stored as a reference to the landing file (its sha256), not a copy: a later run "
                "reads the file again, and fails naming it if its bytes changed."
                if by_reference else ""
            )
            + (
                " A day without a roster (absent, empty or header-only) has no rows here: the "
                "validated roster carries the latest earlier one forward."
                if spec == AGENT_ROSTER else ""
            )
        ),
    )
    def raw_asset(context: dg.AssetExecutionContext, callops: CallopsConfig):
        try:
            table = _read(spec, callops, partition_day(context))
        except (SourceFileError, StorageError) as exc:  # StorageError: object storage failed; names the object
            raise dg.Failure(description=str(exc), metadata={"file": spec.file_name}) from None
        if table is None:
            context.log.warning(
                f"{spec.file_name} for {context.partition_key} has no data rows: an earlier roster is carried forward"
            )
        frame = table.frame if table is not None else empty_raw_frame(spec)
        profile = profile_raw(frame, spec)
        text = profile_text(frame, (*spec.columns, RAW_TEXT))
        # Identical bytes, identical version: a re-run of the same files changes nothing below.
        version = table.fingerprint if table is not None else NO_FILE
        yield versioned_output(
            LandedTable(frame, version) if by_reference else frame,
            version,
            metadata=table_metadata(
                frame, raw_asset_name(spec), **_file_metadata(table), malformed_rows=profile.malformed
            ),
        )
        yield from _check_results(spec, profile, text, callops.missing_key_error_share)

    return raw_asset


raw_assets = [build_raw_asset(spec) for spec in SOURCES]

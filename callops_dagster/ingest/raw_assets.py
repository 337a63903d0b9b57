"""Landing assets: each day's three files read as text, one asset per file."""

import hashlib
import warnings
from typing import Any

import dagster as dg
import pandas as pd

from callops_dagster.contract import check_names as checks
from callops_dagster.contract.safe_text import HostileText, profile_text
from callops_dagster.contract.sources import AGENT_ROSTER, RAW_TEXT, SOURCES, SourceSpec, raw_asset_name
from callops_dagster.ingest.profiling import RawProfile, profile_raw
from callops_dagster.ingest.reading import RawTable, SourceFileError, read_landing_csv
from callops_dagster.ingest.roster import choose_roster
from callops_dagster.landing.folder import landing_file
from callops_dagster.landing.watch import CARRIED
from callops_dagster.platform.metadata import OWNERS, declared_metadata, table_metadata
from callops_dagster.platform.automation import CODE_VERSION, refresh_on_new_version
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


ROSTER_DAY = "roster_day"  # the raw roster's column naming the day whose file it is


def _roster(
    config: CallopsConfig, context: dg.AssetExecutionContext, previous: pd.DataFrame | None
) -> tuple[pd.DataFrame, RawTable | None, str]:
    """The roster in force on the day: its own file when it has data rows, else the previous
    day's roster in force (an input, so the lineage shows the carry-forward). Only when the
    previous day never ran (a day that did not land) are the earlier landed files searched.
    Returns the table (with ``roster_day``), the file read (None when carried) and its version."""
    day = partition_day(context)
    choice = choose_roster(
        config.root, day, max_bytes=config.max_file_bytes, own_only=previous is not None
    )
    if choice is not None and not choice.carried_forward(day):
        frame = choice.table.frame.assign(**{ROSTER_DAY: day.isoformat()})
        return frame, choice.table, choice.table.fingerprint
    if choice is None:  # no usable own roster: the previous day's roster in force
        frame, source = previous.reset_index(drop=True), "the previous day's roster in force"
    else:  # the previous day never ran: the latest earlier landed roster file
        for note in choice.skipped:
            context.log.warning(f"earlier roster skipped: {note}")
        frame = choice.table.frame.assign(**{ROSTER_DAY: choice.roster_day.isoformat()})
        source = str(choice.table.path)
    context.log.warning(
        f"{AGENT_ROSTER.file_name} for {day} has no data rows; using the roster of "
        f"{frame[ROSTER_DAY].iloc[0]} ({source})"
    )
    return frame, None, CARRIED + frame_version(frame)


def frame_version(frame: pd.DataFrame) -> str:
    """A content hash of a small table (its values, column names and order)."""
    digest = hashlib.sha256("\x1f".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


PREVIOUS = "previous_roster"


def _previous_roster() -> dict[str, dg.AssetIn]:
    """The roster asset's input: its own previous day (None before the first day or for a day
    that never ran)."""
    with warnings.catch_warnings():  # allow_nonexistent_upstream_partitions is beta in 1.13
        warnings.simplefilter("ignore", dg.BetaWarning)
        mapping = dg.TimeWindowPartitionMapping(
            start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
        )
    return {
        PREVIOUS: dg.AssetIn(
            raw_asset_name(AGENT_ROSTER), partition_mapping=mapping, metadata={"allow_missing_partitions": True}
        )
    }


def _file_metadata(table: RawTable | None, spec: SourceSpec) -> dict[str, Any]:
    """What was read: the file, its size and sha256 (none for a carried-forward roster)."""
    if table is None:
        return {"carried_forward": True}
    return {
        "source_path": dg.MetadataValue.path(str(table.path)),
        "bytes": table.bytes,
        "sha256": table.fingerprint,
        "records_read": table.records_read,
        "extra_columns_ignored": ", ".join(table.extra_columns) or "none",
    }


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
        code_version=CODE_VERSION,
        ins=_previous_roster() if spec == AGENT_ROSTER else {},
        # The landing files have no upstream asset: `callops run` and the landing sensor run a
        # landed day; the carried-forward roster follows the previous day's when it changes.
        automation_condition=refresh_on_new_version() if spec == AGENT_ROSTER else None,
        description=(
            f"`landing/<date>/{spec.file_name}` read as text, one row per record, with its "
            "1-based row_number; malformed records keep their raw text. A file that cannot be "
            "used fails the day with a message naming the file and the problem."
            + (
                " A day without a roster (or with no data rows) uses the previous day's roster in "
                "force (its input), named in the `roster_day` column."
                if spec == AGENT_ROSTER else ""
            )
        ),
    )
    def raw_asset(context: dg.AssetExecutionContext, callops: CallopsConfig, **previous: Any):
        try:
            if spec == AGENT_ROSTER:
                frame, table, version = _roster(callops, context, previous.get(PREVIOUS))
            else:
                table = read_landing_csv(
                    landing_file(callops.root, partition_day(context), spec), spec, max_bytes=callops.max_file_bytes
                )
                frame, version = table.frame, table.fingerprint
        except (SourceFileError, StorageError) as exc:  # StorageError: object storage failed; names the object
            raise dg.Failure(description=str(exc), metadata={"file": spec.file_name}) from None
        profile = profile_raw(frame, spec)
        text = profile_text(frame, (*spec.columns, RAW_TEXT))
        yield dg.Output(
            frame,
            data_version=dg.DataVersion(version),
            metadata=table_metadata(
                frame,
                raw_asset_name(spec),
                **_file_metadata(table, spec),
                malformed_rows=profile.malformed,
            ),
        )
        yield from _check_results(spec, profile, text, callops.missing_key_error_share)

    return raw_asset


raw_assets = [build_raw_asset(spec) for spec in SOURCES]

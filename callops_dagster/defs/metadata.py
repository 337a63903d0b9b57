"""Materialization metadata shared by the assets: row count, preview, schema, lookups."""


from typing import Any

import dagster as dg
import pandas as pd

PREVIEW_ROWS = 10


def column_schema(frame: pd.DataFrame) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(str(name), str(dtype)) for name, dtype in frame.dtypes.items()]
    )


def table_metadata(frame: pd.DataFrame, **extra: Any) -> dict[str, Any]:
    """``dagster/row_count``, a markdown preview and the column schema, plus ``extra``."""
    preview = frame.head(PREVIEW_ROWS).astype("object").where(frame.head(PREVIEW_ROWS).notna(), "")
    return {
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if len(frame) else "_no rows_"),
        "dagster/column_schema": column_schema(frame),
        **extra,
    }


def counts_md(counts: dict[str, int], label: str) -> dg.MetadataValue:
    """A small two-column markdown table of counts (``_none_`` when empty)."""
    rows = [f"| {key} | {value} |" for key, value in counts.items() if value]
    body = "\n".join([f"| {label} | rows |", "|---|---|", *rows]) if rows else "_none_"
    return dg.MetadataValue.md(body)


def latest_partition_metadata(
    context: dg.AssetExecutionContext, asset_key: dg.AssetKey | str
) -> dict[str, Any]:
    """Metadata values of ``asset_key``'s latest materialization of this run's partition."""
    key = dg.AssetKey.from_coercible(asset_key)
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[context.partition_key]), limit=1
    )
    if not result.records:
        raise dg.Failure(f"{key.to_user_string()} has no materialization for {context.partition_key}")
    materialization = result.records[0].asset_materialization
    return {k: v.value for k, v in (materialization.metadata or {}).items()}

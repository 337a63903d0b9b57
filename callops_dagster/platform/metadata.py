"""Metadata shared by the assets: owners, column schema and lineage, row count, preview, lookups."""


from collections.abc import Sequence
from typing import Any

import dagster as dg
import pandas as pd

from callops_dagster.contract.columns import TABLES, logical_type

PREVIEW_ROWS = 10
OWNERS = ["team:callops"]
COLUMN_SCHEMA = "dagster/column_schema"
COLUMN_LINEAGE = "dagster/column_lineage"


def column_schema(frame: pd.DataFrame, asset: str | None = None) -> dg.TableSchema:
    """The frame's columns and types, described from the catalog (contract/columns.py)."""
    described = {c.name: c.description for c in TABLES.get(asset, ())}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(str(name), logical_type(frame[name]), described.get(str(name)))
            for name in frame.columns
        ]
    )


def column_lineage(asset: str) -> dg.TableColumnLineage:
    """Each column of ``asset`` and the columns of its upstream assets it is computed from."""
    return dg.TableColumnLineage(
        deps_by_column={
            c.name: [dg.TableColumnDep(*ref.split(".", 1)) for ref in c.sources] for c in TABLES[asset]
        }
    )


def declared_metadata(asset: str) -> dict[str, Any]:
    """Definition metadata of a table asset: its declared column schema and column lineage."""
    return {
        COLUMN_SCHEMA: dg.TableSchema(
            columns=[dg.TableColumn(c.name, c.type, c.description) for c in TABLES[asset]]
        ),
        COLUMN_LINEAGE: column_lineage(asset),
    }


def table_metadata(
    frame: pd.DataFrame,
    asset: str | None = None,
    preview_columns: Sequence[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """``dagster/row_count``, a markdown preview, the column schema and (for a catalogued
    ``asset``) the column lineage, plus ``extra``."""
    head = frame.head(PREVIEW_ROWS).loc[:, list(preview_columns or frame.columns)]
    preview = head.astype("object").where(head.notna(), "")
    return {
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if len(frame) else "_no rows_"),
        COLUMN_SCHEMA: column_schema(frame, asset),
        **({COLUMN_LINEAGE: column_lineage(asset)} if asset in TABLES else {}),
        **extra,
    }


def sample_md(rows: pd.DataFrame) -> dg.MetadataValue:
    """``rows`` as a markdown table for a check's or an asset's metadata (``_none_`` when empty);
    the caller picks the rows and columns to show."""
    return dg.MetadataValue.md(rows.to_markdown(index=False) if len(rows) else "_none_")


def counts_md(counts: dict[str, int], label: str) -> dg.MetadataValue:
    """A small two-column markdown table of counts (``_none_`` when empty)."""
    rows = [f"| {key} | {value} |" for key, value in counts.items() if value]
    body = "\n".join([f"| {label} | rows |", "|---|---|", *rows]) if rows else "_none_"
    return dg.MetadataValue.md(body)

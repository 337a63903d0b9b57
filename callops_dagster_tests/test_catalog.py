"""What the catalog says about each asset: owners, kinds, tags, column schema and lineage."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pytest

from callops_dagster.definitions import defs
from callops_dagster.platform.metadata import COLUMN_LINEAGE, COLUMN_SCHEMA, OWNERS, column_lineage
from callops_dagster.mock.data import generate_day
from callops_dagster.contract.columns import (
    TABLES,
    column,
    lineage_doc_block,
    logical_type,
    origins,
)
from callops_dagster_tests.conftest import (
    CHECKS_PER_DAY,
    GOLDEN_DAY,
    copy_golden,
    ephemeral_instance,
    materialize_day,
)

DOCS_LINEAGE = Path(__file__).resolve().parent.parent / "docs" / "lineage.md"
SPECS = {spec.key.to_user_string(): spec for spec in defs.resolve_all_asset_specs()}
GRAPH = defs.resolve_asset_graph()
KINDS = {"csv", "pandas", "parquet", "slack"}


def parents(asset: str) -> set[str]:
    return {k.to_user_string() for k in GRAPH.get(dg.AssetKey(asset)).parent_keys}


# ---------------------------------------------------------------- the column catalog


def test_the_catalog_describes_every_table_asset():
    assert set(TABLES) == set(SPECS) - {"slack_summary"}


def test_every_source_is_a_column_of_a_direct_parent():
    for table, columns in TABLES.items():
        for col in columns:
            assert col.description, (table, col.name)
            for ref in col.sources:
                source_table, _ = ref.split(".", 1)
                assert source_table in parents(table), (table, col.name, ref)
                column(ref)  # raises StopIteration when the column is not declared


def test_landing_columns_have_no_upstream_columns():
    for table in ("raw_call_logs", "raw_agent_roster", "raw_disposition_summary"):
        assert all(not c.sources for c in TABLES[table]), table
        assert parents(table) == set()


def test_metrics_trace_back_to_the_landing_files():
    summary = "agent_performance_summary"
    assert origins(summary, "connect_rate") == {"raw_call_logs.status", "raw_call_logs.call_id"}
    assert origins(summary, "presence") == {"raw_disposition_summary.login_time"}
    assert origins(summary, "avg_call_duration_min") == {"raw_call_logs.duration"}
    assert origins(summary, "unique_loans_contacted") == {"raw_call_logs.installment_id"}
    assert origins(summary, "agent_name") == {
        "raw_agent_roster.users_first_name", "raw_agent_roster.users_last_name"
    }


def test_docs_lineage_holds_the_current_generated_block():
    text = DOCS_LINEAGE.read_text(encoding="utf-8")
    block = re.search(r"<!-- BEGIN generated lineage -->\n(.*)<!-- END generated lineage -->", text, re.S)
    assert block, "docs/lineage.md lost its generated block markers"
    assert block.group(1) == lineage_doc_block(), (
        "docs/lineage.md is out of date: paste `python -m callops_dagster.contract.columns`"
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pd.Series([1, 2], dtype="int64"), "integer"),
        (pd.Series([True, False]), "boolean"),
        (pd.Series([True, None], dtype="boolean"), "boolean"),
        (pd.Series([0.5, None], dtype="Float64"), "float"),
        (pd.Series(["a", None], dtype="str"), "string"),
        (pd.Series(pd.to_datetime(["2025-04-28 10:00:00"])).astype("datetime64[s]"), "timestamp"),
        (pd.Series(pd.arrays.ArrowExtensionArray(pa.array([Decimal("1.5")], pa.decimal128(38, 1)))), "decimal"),
        (pd.Series([Decimal("1.5"), None], dtype="object"), "decimal"),
        (pd.Series(["a", Decimal("1")], dtype="object"), "string"),
    ],
    ids=["int", "bool", "nullable-bool", "float", "str", "timestamp", "arrow-decimal",
         "decimal-objects", "mixed-objects"],
)
def test_logical_type(values, expected):
    assert logical_type(values) == expected


# ---------------------------------------------------------------- the definitions


def test_every_asset_has_owners_kinds_and_a_description():
    for name, spec in SPECS.items():
        assert list(spec.owners) == OWNERS, name
        assert spec.kinds and spec.kinds <= KINDS, (name, spec.kinds)
        assert spec.description and len(spec.description) > 20, name


def test_landing_assets_are_tagged_with_their_source_system():
    tags = {name: SPECS[name].tags.get("source_system") for name in SPECS if name.startswith("raw_")}
    assert tags == {"raw_call_logs": "dialer", "raw_disposition_summary": "dialer", "raw_agent_roster": "hr"}


def test_every_check_has_a_description():
    specs = [c for a in defs.assets for c in a.check_specs]
    assert len(specs) == CHECKS_PER_DAY
    assert all(c.description and len(c.description) > 10 for c in specs)


def test_table_assets_declare_schema_and_lineage_in_their_definition():
    for name in TABLES:
        metadata = SPECS[name].metadata
        schema = metadata[COLUMN_SCHEMA]
        assert [(c.name, c.type) for c in schema.columns] == [(c.name, c.type) for c in TABLES[name]]
        assert metadata[COLUMN_LINEAGE] == column_lineage(name)
        assert set(metadata[COLUMN_LINEAGE].deps_by_column) == {c.name for c in schema.columns}
    assert COLUMN_SCHEMA not in SPECS["slack_summary"].metadata


def test_summary_lineage_names_the_agent_day_columns():
    deps = SPECS["agent_performance_summary"].metadata[COLUMN_LINEAGE].deps_by_column
    assert set(deps["connect_rate"]) == {
        dg.TableColumnDep(dg.AssetKey("agent_day"), "completed_calls"),
        dg.TableColumnDep(dg.AssetKey("agent_day"), "total_calls"),
    }
    assert deps["presence"] == [dg.TableColumnDep(dg.AssetKey("agent_day"), "presence")]


# ---------------------------------------------------------------- what a run publishes


@pytest.fixture(scope="module", params=["golden", "generated"])
def run(request, tmp_path_factory):
    """All assets of one day: the golden fixture, and a generated day with many defects."""
    data_dir = tmp_path_factory.mktemp(request.param) / "data"
    if request.param == "golden":
        copy_golden(data_dir)
    else:
        generate_day(dt.date.fromisoformat(GOLDEN_DAY), data_dir, calls=300, agents=8, defect_rate=0.05, seed=9)
    instance = ephemeral_instance()
    result = materialize_day(data_dir, GOLDEN_DAY, instance)
    assert result.success
    yield result
    instance.dispose()


def test_materialised_schema_is_the_declared_one(run):
    events = {e.asset_key.to_user_string(): e.materialization.metadata for e in run.get_asset_materialization_events()}
    daily = {name: columns for name, columns in TABLES.items() if name != "agent_weekly_summary"}  # test_weekly
    assert set(daily) <= set(events)
    for name, columns in daily.items():
        schema = events[name][COLUMN_SCHEMA].value
        assert [(c.name, c.type) for c in schema.columns] == [(c.name, c.type) for c in columns], name
        assert [c.description for c in schema.columns] == [c.description for c in columns], name
        assert events[name][COLUMN_LINEAGE].value == column_lineage(name), name


def test_summary_preview_shows_the_contract_columns_only(run):
    [event] = [e for e in run.get_asset_materialization_events()
               if e.asset_key.to_user_string() == "agent_performance_summary"]
    header = event.materialization.metadata["preview"].value.splitlines()[0]
    assert [h.strip() for h in header.strip("|").split("|")][-1] == "presence"
    assert "duration_sum_s" not in header

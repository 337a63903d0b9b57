"""Through the webserver's GraphQL API, what the UI itself calls: the catalog, a day
launched as one run, a range backfilled."""

from __future__ import annotations

import re

from callops_dagster.contract import check_names as checks
from callops_dagster.contract.columns import TABLES
from callops_dagster_tests.conftest import CHECKS_PER_DAY, REPORT_FILES, reports_dir
from callops_dagster_tests.ui.conftest import (
    ASSETS, CHECKS, DAILY_ASSETS, DAY, FRESHNESS_CHECK, GROUPS, JOB, RANGE, materialized_days,
)
from callops_dagster_tests.ui.graphql_ops import CHECK_EXECUTIONS_QUERY, PARTITIONS_QUERY
from callops_dagster_tests.ui.webserver import LOCATION, REPOSITORY

# The designed lineage: (upstream, downstream).
EDGES = {
    *((f"raw_{s}", s) for s in ("call_logs", "agent_roster", "disposition_summary")),
    *((f"raw_{s}", f"{s}_rejected") for s in ("call_logs", "agent_roster", "disposition_summary")),
    *((s, "agent_day") for s in ("call_logs", "agent_roster", "disposition_summary")),
    *((f"{s}_rejected", "rejected_rows") for s in ("call_logs", "agent_roster", "disposition_summary")),
    ("agent_day", "agent_performance_summary"),
    ("rejected_rows", "agent_performance_summary"),  # the day's figures (rows rejected, read)
    ("agent_roster", "agent_performance_summary"),  # rows read: the roster counts when it is the day's own
    ("agent_performance_summary", "slack_summary"),
    ("rejected_rows", "slack_summary"),
    # the data-quality line from the day's tables: rows read and roster day, call_id conflicts
    ("agent_roster", "slack_summary"), ("call_logs", "slack_summary"),
    # the trend: the day and the seven days before, from their tables
    *((s, "day_trend") for s in ("agent_day", "rejected_rows", "agent_roster")),
    # compliance: per agent-day from the summary and the kept calls and logins; the loan
    # window from each day's loan_contacts of the kept calls (seven daily partitions); both
    # published by slack_summary
    *(("agent_performance_summary", "agent_compliance"), ("call_logs", "agent_compliance"),
      ("disposition_summary", "agent_compliance"), ("call_logs", "loan_contacts"),
      ("loan_contacts", "loan_contact_frequency"),
      ("agent_compliance", "slack_summary"), ("loan_contact_frequency", "slack_summary")),
    *((s, "agent_weekly_summary") for s in ("agent_performance_summary", "call_logs", "agent_roster")),
}
KINDS = {"csv", "pandas", "parquet", "slack"}
CLI_CHECK_LINE = re.compile(r"Asset check '(\w+)' on '(\w+)' (passed|did not pass)")


# ---------------------------------------------------------------- the code location


def test_code_location_serves_the_job_and_the_schedule(server):
    data = server.graphql("""
      query ($selector: RepositorySelector!) { repositoryOrError(repositorySelector: $selector) {
        ... on Repository { jobs { name } schedules { name scheduleState { status } } } } }
    """, {"selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}})
    repo = data["repositoryOrError"]
    assert {JOB, "callops_weekly"} <= {j["name"] for j in repo["jobs"]}
    assert {(s["name"], s["scheduleState"]["status"]) for s in repo["schedules"]} == {
        ("callops_daily_schedule", "STOPPED"), ("callops_weekly_schedule", "STOPPED")
    }


def test_asset_nodes_are_the_designed_ones_all_partitioned_daily(asset_nodes):
    assert set(asset_nodes) == ASSETS
    for name, node in asset_nodes.items():
        assert node["isPartitioned"], name
        assert node["partitionDefinition"]["type"] == "TIME_WINDOW", name
        assert node["repository"]["location"]["name"] == LOCATION, name


def test_groups_descriptions_kinds_and_owners(asset_nodes):
    for group, names in GROUPS.items():
        assert {n for n, node in asset_nodes.items() if node["groupName"] == group} == names
    for name, node in asset_nodes.items():
        assert len(node["description"].strip()) > 20, name
        assert node["kinds"] and set(node["kinds"]) <= KINDS, (name, node["kinds"])
        assert {o.get("team") for o in node["owners"]} == {"callops"}, name
    assert "slack" in asset_nodes["slack_summary"]["kinds"]


def test_lineage_edges_are_exactly_the_designed_ones(asset_nodes):
    edges = {
        ("/".join(dep["path"]), name)
        for name, node in asset_nodes.items() for dep in node["dependencyKeys"]
    }
    assert edges == EDGES
    sources = {n for n, node in asset_nodes.items() if not node["dependencyKeys"]}
    sinks = ASSETS - {up for up, _ in edges}
    assert sources == GROUPS["landing"]
    assert sinks == {"slack_summary", "agent_weekly_summary", "day_trend"}


def test_each_asset_has_its_checks_with_descriptions(asset_nodes):
    found = {
        name: {c["name"] for c in node["assetChecksOrError"]["checks"]}
        for name, node in asset_nodes.items() if node["assetChecksOrError"]["checks"]
    }
    asset, freshness = FRESHNESS_CHECK
    assert found == {**CHECKS, asset: CHECKS[asset] | {freshness}}
    for name, node in asset_nodes.items():
        for check in node["assetChecksOrError"]["checks"]:
            assert len(check["description"].strip()) > 10, (name, check["name"])
    blocking = {c["name"] for c in asset_nodes["raw_call_logs"]["assetChecksOrError"]["checks"] if c["blocking"]}
    assert blocking == {checks.MISSING_KEYS}


def _entries(metadata: list[dict]) -> dict[str, dict]:
    return {e["label"]: e for e in metadata}


def _lineage(entry: dict) -> dict[str, set[str]]:
    return {
        item["columnName"]: {f"{'/'.join(d['assetKey']['path'])}.{d['columnName']}" for d in item["columnDeps"]}
        for item in entry["lineage"]
    }


def test_every_table_asset_publishes_its_column_schema_and_lineage(asset_nodes):
    assert set(TABLES) == ASSETS - {"slack_summary"}
    for name in TABLES:
        entries = _entries(asset_nodes[name]["metadataEntries"])
        columns = entries["dagster/column_schema"]["schema"]["columns"]
        assert [(c["name"], c["type"]) for c in columns] == [(c.name, c.type) for c in TABLES[name]]
        assert all(c["description"] for c in columns), name
        lineage = _lineage(entries["dagster/column_lineage"])
        assert set(lineage) == {c["name"] for c in columns}, name
        parents = {"/".join(d["path"]) for d in asset_nodes[name]["dependencyKeys"]}
        for column, deps in lineage.items():  # deps are columns of direct parents
            for dep in deps:
                table, dep_column = dep.split(".", 1)
                assert table in parents, (name, column, dep)
                assert dep_column in {c.name for c in TABLES[table]}, (name, column, dep)


def _origins(lineage: dict[str, dict[str, set[str]]], ref: str) -> set[str]:
    table, column = ref.split(".", 1)
    deps = lineage[table][column]
    return {ref} if not deps else set().union(*(_origins(lineage, d) for d in deps))


def test_column_lineage_traces_metrics_to_the_landing_columns(asset_nodes):
    lineage = {
        name: _lineage(_entries(asset_nodes[name]["metadataEntries"])["dagster/column_lineage"])
        for name in TABLES
    }
    summary = lineage["agent_performance_summary"]
    assert summary["connect_rate"] == {"agent_day.completed_calls", "agent_day.total_calls"}
    assert summary["presence"] == {"agent_day.presence"}
    assert lineage["agent_day"]["completed_calls"] == {"call_logs.is_completed"}
    assert lineage["call_logs"]["is_completed"] == {"raw_call_logs.status"}
    assert _origins(lineage, "agent_performance_summary.connect_rate") == {
        "raw_call_logs.status", "raw_call_logs.call_id"
    }
    assert _origins(lineage, "agent_performance_summary.presence") == {
        "raw_disposition_summary.login_time"
    }
    assert _origins(lineage, "agent_performance_summary.avg_call_duration_min") == {
        "raw_call_logs.duration"
    }


# ---------------------------------------------------------------- a day launched from the UI


def test_launched_day_succeeds_as_one_partitioned_run_of_the_job(launched, server):
    assert launched["status"] == "SUCCESS", server.log_tail()
    assert launched["pipelineName"] == JOB
    assert {"key": "dagster/partition", "value": DAY} in launched["tags"]


def test_reports_are_byte_identical_to_the_cli_run(launched, ui):
    server, cli_dir, cli_done = ui
    assert cli_done.returncode == 0, cli_done.stdout[-3000:] + cli_done.stderr[-3000:]
    for name in REPORT_FILES:
        from_ui = (reports_dir(server.data_dir, DAY) / name).read_bytes()
        from_cli = (reports_dir(cli_dir, DAY) / name).read_bytes()
        assert from_ui and from_ui == from_cli, name
    message = (reports_dir(server.data_dir, DAY) / "slack_message.txt").read_text(encoding="utf-8")
    assert message.startswith(f"Agent Summary for {DAY}\n")


def test_check_results_of_the_partition_match_the_cli_run(launched, server, ui):
    cli_done = ui[2]
    cli_results = {
        (asset, check): outcome == "passed"
        for check, asset, outcome in CLI_CHECK_LINE.findall(cli_done.stdout + cli_done.stderr)
        if (asset, check) != FRESHNESS_CHECK  # `--select '*'` also runs the clock-based check
    }
    ui_results = {}
    for asset, names in CHECKS.items():
        for name in names:
            executions = server.graphql(
                CHECK_EXECUTIONS_QUERY, {"assetKey": {"path": [asset]}, "checkName": name}
            )["assetCheckExecutions"]
            [execution] = [e for e in executions if e["runId"] == launched["id"]]
            assert execution["partition"] == DAY, (asset, name)
            evaluation = execution["evaluation"]
            assert evaluation["partition"] == DAY
            ui_results[(asset, name)] = evaluation["success"]
            if evaluation["severity"] == "ERROR":
                assert evaluation["success"], (asset, name)  # a failing ERROR check blocks the day
    assert len(ui_results) == CHECKS_PER_DAY
    assert ui_results == cli_results
    assert not all(ui_results.values())  # the generated day's defects raise warnings


def test_every_asset_shows_the_day_materialised(launched, server):
    for name in DAILY_ASSETS:
        node = server.graphql(
            PARTITIONS_QUERY, {"assetKey": {"path": [name]}, "partitions": [DAY]}
        )["assetNodeOrError"]
        assert node["partitionStats"]["numFailed"] == 0, name
        # The day, and perhaps already some of the backfilled range, nothing else.
        assert DAY in materialized_days(node) <= {DAY, *RANGE}, name
        [materialization] = node["assetMaterializations"]
        assert (materialization["partition"], materialization["runId"]) == (DAY, launched["id"])


def test_summary_metadata_has_the_preview_key_figures_and_schema(launched, server):
    node = server.graphql(
        PARTITIONS_QUERY, {"assetKey": {"path": ["agent_performance_summary"]}, "partitions": [DAY]}
    )["assetNodeOrError"]
    entries = _entries(node["assetMaterializations"][0]["metadataEntries"])
    summary = (reports_dir(server.data_dir, DAY) / "agent_performance_summary.csv").read_text(encoding="utf-8")
    agents = len(summary.splitlines()) - 1
    assert entries["dagster/row_count"]["intValue"] == agents
    preview = entries["preview"]["mdStr"]
    assert preview.splitlines()[0].split("|")[1].strip() == "call_date"
    assert "connect_rate" in preview and len(preview.splitlines()) == 2 + min(agents, 10)
    assert entries["active_agents"]["intValue"] > 0
    assert entries["total_calls"]["intValue"] > entries["active_agents"]["intValue"]
    assert 0 < entries["connect_rate"]["floatValue"] < 1
    columns = entries["dagster/column_schema"]["schema"]["columns"]
    assert [(c["name"], c["type"]) for c in columns] == [
        (c.name, c.type) for c in TABLES["agent_performance_summary"]
    ]
    assert entries["dagster/column_lineage"]["__typename"] == "TableColumnLineageMetadataEntry"


def test_backfill_of_a_range_runs_each_day(backfilled, server):
    result = backfilled
    assert result["status"] == "COMPLETED_SUCCESS", result
    assert sorted(result["partitionNames"]) == RANGE
    partitions = {
        t["value"] for run in result["runs"] for t in run["tags"] if t["key"] == "dagster/partition"
    }
    assert partitions == set(RANGE) and {r["status"] for r in result["runs"]} == {"SUCCESS"}
    for day in RANGE:
        message = (reports_dir(server.data_dir, day) / "slack_message.txt").read_text(encoding="utf-8")
        assert message.startswith(f"Agent Summary for {day}\n")
    node = server.graphql(
        PARTITIONS_QUERY, {"assetKey": {"path": ["slack_summary"]}, "partitions": RANGE}
    )["assetNodeOrError"]
    assert materialized_days(node) == {DAY, *RANGE}

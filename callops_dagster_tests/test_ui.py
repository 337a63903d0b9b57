"""The UI as people drive it: a real `dagster dev`, its GraphQL API and headless Chromium.

One `dagster dev` serves the whole module (bound to 127.0.0.1, temporary DAGSTER_HOME, a
generated data dir). Meanwhile the same landing day is materialised with the CLI in another
data dir, so the reports of a day launched from the UI can be compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from callops_dagster.defs import check_names as checks
from callops_dagster.mockdata import generate_day
from callops_dagster.transforms.columns import TABLES
from callops_dagster_tests.conftest import REPORT_FILES, reports_dir
from callops_dagster_tests.test_cli import materialize_cli
from callops_dagster_tests.webserver import (
    CHROMIUM_ARGS,
    LOCATION,
    PROJECT_ROOT,
    REPOSITORY,
    RUN_TIMEOUT_S,
    Webserver,
    chromium_path,
    start_dagster_dev,
    stop,
)

DAY = "2025-04-28"
RANGE = ["2025-04-29", "2025-04-30"]  # backfilled from the UI
JOB = "callops_daily"
ARTIFACTS = PROJECT_ROOT / "artifacts"
DOCS_SCREENSHOT = PROJECT_ROOT / "docs" / "img" / "lineage.png"
GROUPS = {
    "landing": {"raw_call_logs", "raw_agent_roster", "raw_disposition_summary"},
    "validated": {"call_logs", "call_logs_rejected", "agent_roster", "agent_roster_rejected",
                  "disposition_summary", "disposition_summary_rejected"},
    "joined": {"agent_day"},
    "reporting": {"rejected_rows", "agent_performance_summary", "slack_summary"},
}
ASSETS = set().union(*GROUPS.values())
# The designed lineage: (upstream, downstream).
EDGES = {
    *((f"raw_{s}", s) for s in ("call_logs", "agent_roster", "disposition_summary")),
    *((f"raw_{s}", f"{s}_rejected") for s in ("call_logs", "agent_roster", "disposition_summary")),
    *((s, "agent_day") for s in ("call_logs", "agent_roster", "disposition_summary")),
    *((f"{s}_rejected", "rejected_rows") for s in ("call_logs", "agent_roster", "disposition_summary")),
    ("agent_day", "agent_performance_summary"),
    ("agent_performance_summary", "slack_summary"),
    ("rejected_rows", "slack_summary"),
}
LANDING_CHECKS = {checks.HAS_ROWS, checks.MISSING_KEYS, checks.DUPLICATE_KEYS}
VALIDATED_CHECKS = {checks.KEYS_NON_NULL_UNIQUE, checks.RECORDS_CONSERVED}
CHECKS = {
    **{f"raw_{s}": LANDING_CHECKS for s in ("call_logs", "agent_roster", "disposition_summary")},
    **{s: VALIDATED_CHECKS for s in ("call_logs", "agent_roster", "disposition_summary")},
    "agent_day": {checks.NOTHING_LOST, checks.AGENTS_IN_ROSTER},
    "agent_performance_summary": {checks.ONE_ROW_PER_AGENT_DAY, checks.CONNECT_RATE_IN_RANGE,
                                  checks.PRESENCE_IS_BINARY, checks.LOANS_WITHIN_CALLS},
}
KINDS = {"csv", "pandas", "parquet", "slack"}
CLI_CHECK_LINE = re.compile(r"Asset check '(\w+)' on '(\w+)' (passed|did not pass)")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """`dagster dev` over a generated day, and the CLI's run of the same day elsewhere."""
    root = tmp_path_factory.mktemp("ui")
    data_dir, cli_dir = root / "data", root / "cli" / "data"
    generate_day(dt.date.fromisoformat(DAY), data_dir, calls=400, agents=12, defect_rate=0.02, seed=5)
    for day in RANGE:
        generate_day(dt.date.fromisoformat(day), data_dir, calls=150, agents=6, defect_rate=0.02, seed=5)
    shutil.copytree(data_dir / "landing" / DAY, cli_dir / "landing" / DAY)
    with ThreadPoolExecutor(max_workers=1) as pool:
        cli = pool.submit(materialize_cli, cli_dir, root / "cli" / "dagster_home", DAY)
        server = start_dagster_dev(root, data_dir)
        cli_done = cli.result()
    yield server, cli_dir, cli_done
    assert stop(server), f"dagster dev did not stop on SIGTERM:\n{server.log_tail()}"


@pytest.fixture(scope="module")
def server(ui) -> Webserver:
    return ui[0]


@pytest.fixture(scope="module")
def asset_nodes(server) -> dict[str, dict]:
    data = server.graphql(ASSET_NODES_QUERY)
    return {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}


ASSET_NODES_QUERY = """
{ assetNodes {
    assetKey { path } groupName isPartitioned description kinds
    partitionDefinition { type name }
    repository { name location { name } }
    owners { __typename ... on TeamAssetOwner { team } }
    dependencyKeys { path }
    assetChecksOrError { ... on AssetChecks { checks { name description blocking } } }
    metadataEntries { label __typename
      ... on TableSchemaMetadataEntry { schema { columns { name type description } } }
      ... on TableColumnLineageMetadataEntry {
        lineage { columnName columnDeps { assetKey { path } columnName } } }
    }
} }
"""

PARTITION_CONFIG_QUERY = """
query ConfigPartitionForAssetJobQuery($repositoryName: String!, $repositoryLocationName: String!,
    $jobName: String!, $partitionName: String!, $assetKeys: [AssetKeyInput!]!) {
  pipelineOrError(params: {pipelineName: $jobName, repositoryName: $repositoryName,
                           repositoryLocationName: $repositoryLocationName}) {
    __typename
    ... on Pipeline { partition(partitionName: $partitionName, selectedAssetKeys: $assetKeys) {
        runConfigOrError { ... on PartitionRunConfig { yaml } }
        tagsOrError { ... on PartitionTags { results { key value } } } } }
  }
}
"""

LAUNCH_MUTATION = """
mutation LaunchPipelineExecution($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { id pipelineName } }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PythonError { message }
  }
}
"""

RUN_QUERY = """
query ($runId: ID!) { runOrError(runId: $runId) { __typename
  ... on Run { status pipelineName tags { key value } } } }
"""


BACKFILL_MUTATION = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PartitionKeysNotFoundError { message }
    ... on PythonError { message }
  }
}
"""

BACKFILL_QUERY = """
query ($backfillId: String!) { partitionBackfillOrError(backfillId: $backfillId) {
  __typename ... on PartitionBackfill { status numPartitions partitionNames
    runs(limit: 10) { id status tags { key value } } } } }
"""


def _asset_keys(asset_nodes: dict[str, dict]) -> list[dict]:
    return [{"path": n["assetKey"]["path"]} for n in asset_nodes.values()]


@pytest.fixture(scope="module")
def backfill(server, asset_nodes) -> str:
    """Launch a backfill of RANGE as the UI's "Materialize all" does for several partitions.

    It is launched first: the backfill daemon picks it up on its next tick (every 30 s) and
    runs it while the other tests look at the single day.
    """
    launch = server.graphql(BACKFILL_MUTATION, {"backfillParams": {
        "tags": [], "assetSelection": _asset_keys(asset_nodes), "partitionNames": RANGE,
        "fromFailure": False,
    }})["launchPartitionBackfill"]
    assert launch["__typename"] == "LaunchBackfillSuccess", launch
    return launch["backfillId"]


@pytest.fixture(scope="module")
def launched(server, asset_nodes, backfill) -> dict:
    """Launch DAY as the UI's "Materialize all" does for one partition, and wait for the end.

    The UI first asks the job for the partition's tags and run config, then launches the
    job over the selected assets and their checks with those tags.
    """
    assets = _asset_keys(asset_nodes)
    check_handles = [
        {"assetKey": {"path": n["assetKey"]["path"]}, "name": c["name"]}
        for n in asset_nodes.values() for c in n["assetChecksOrError"]["checks"]
    ]
    config = server.graphql(PARTITION_CONFIG_QUERY, {
        "repositoryName": REPOSITORY, "repositoryLocationName": LOCATION, "jobName": JOB,
        "partitionName": DAY, "assetKeys": assets,
    })["pipelineOrError"]["partition"]
    tags = config["tagsOrError"]["results"]
    launch = server.graphql(LAUNCH_MUTATION, {"executionParams": {
        "mode": "default",
        "executionMetadata": {"tags": tags},
        "runConfigData": config["runConfigOrError"]["yaml"],
        "selector": {
            "repositoryLocationName": LOCATION, "repositoryName": REPOSITORY,
            "pipelineName": JOB, "assetSelection": assets, "assetCheckSelection": check_handles,
        },
    }})["launchPipelineExecution"]
    assert launch["__typename"] == "LaunchRunSuccess", launch
    run_id = launch["run"]["id"]
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        run = server.graphql(RUN_QUERY, {"runId": run_id})["runOrError"]
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']}:\n{server.log_tail()}"
        time.sleep(0.5)
    return {"id": run_id, "tags": tags, **run}


# ---------------------------------------------------------------- the code location


def test_code_location_serves_the_job_and_the_schedule(server):
    data = server.graphql("""
      query ($selector: RepositorySelector!) { repositoryOrError(repositorySelector: $selector) {
        ... on Repository { jobs { name } schedules { name scheduleState { status } } } } }
    """, {"selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}})
    repo = data["repositoryOrError"]
    assert JOB in {j["name"] for j in repo["jobs"]}
    assert {(s["name"], s["scheduleState"]["status"]) for s in repo["schedules"]} == {
        ("callops_daily_schedule", "STOPPED")
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
    assert sinks == {"slack_summary"}


def test_each_asset_has_its_checks_with_descriptions(asset_nodes):
    found = {
        name: {c["name"] for c in node["assetChecksOrError"]["checks"]}
        for name, node in asset_nodes.items() if node["assetChecksOrError"]["checks"]
    }
    assert found == CHECKS
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


CHECK_EXECUTIONS_QUERY = """
query ($assetKey: AssetKeyInput!, $checkName: String!) {
  assetCheckExecutions(assetKey: $assetKey, checkName: $checkName, limit: 5) {
    runId status partition evaluation { success severity partition } } }
"""


def test_check_results_of_the_partition_match_the_cli_run(launched, server, ui):
    cli_done = ui[2]
    cli_results = {
        (asset, check): outcome == "passed"
        for check, asset, outcome in CLI_CHECK_LINE.findall(cli_done.stdout + cli_done.stderr)
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
    assert len(ui_results) == 21
    assert ui_results == cli_results
    assert not all(ui_results.values())  # the generated day's defects raise warnings


PARTITIONS_QUERY = """
query ($assetKey: AssetKeyInput!, $partitions: [String!]) { assetNodeOrError(assetKey: $assetKey) {
  ... on AssetNode {
    partitionStats { numMaterialized numFailed numMaterializing }
    assetPartitionStatuses { ... on TimePartitionStatuses { ranges { startKey endKey status } } }
    assetMaterializations(partitions: $partitions, limit: 1) { partition runId metadataEntries {
      label __typename
      ... on IntMetadataEntry { intValue }
      ... on FloatMetadataEntry { floatValue }
      ... on MarkdownMetadataEntry { mdStr }
      ... on TableSchemaMetadataEntry { schema { columns { name type } } } } }
} } }
"""


def _materialized_days(node: dict) -> set[str]:
    days = set()
    for r in node["assetPartitionStatuses"]["ranges"]:
        if r["status"] == "MATERIALIZED":
            start, end = dt.date.fromisoformat(r["startKey"]), dt.date.fromisoformat(r["endKey"])
            days |= {(start + dt.timedelta(n)).isoformat() for n in range((end - start).days + 1)}
    return days


def test_every_asset_shows_the_day_materialised(launched, server):
    for name in ASSETS:
        node = server.graphql(
            PARTITIONS_QUERY, {"assetKey": {"path": [name]}, "partitions": [DAY]}
        )["assetNodeOrError"]
        assert node["partitionStats"]["numFailed"] == 0, name
        # The day, and perhaps already some of the backfilled range, nothing else.
        assert DAY in _materialized_days(node) <= {DAY, *RANGE}, name
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


# ---------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()

    with sync_playwright() as playwright:
        launched_browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched_browser
        launched_browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    # Navigation collapsed, and asset nodes showing checks, partitions and kinds only, so the
    # whole graph fits on one screen.
    context.add_init_script(
        "window.localStorage.setItem('dagster-nav-collapsed', 'true');"
        "window.localStorage.setItem('asset-node-facets', JSON.stringify(['checks','partitions','kind-tag']));"
    )
    context.set_default_timeout(60_000)
    yield context.new_page()
    context.close()


def screenshot(target, name: str) -> Path:
    """Save a screenshot of a page or an element to the git-ignored artifacts/ folder."""
    ARTIFACTS.mkdir(exist_ok=True)
    target.screenshot(path=ARTIFACTS / name)
    return ARTIFACTS / name


def test_asset_graph_page_shows_the_whole_lineage(launched, server, page):
    expanded = ",".join(f"global@global:{group}" for group in GROUPS)
    page.goto(f"{server.url}/asset-groups?expanded={expanded}")
    graph = page.locator("[data-svg-viewport='1']")  # the graph's pan-and-zoom viewport
    for name in sorted(ASSETS | set(GROUPS)):
        graph.get_by_text(name, exact=True).first.wait_for()
    # Live data (check results, partitions filled) has arrived for every node.
    expect(graph.get_by_text(re.compile(r"^\d+% filled$"))).to_have_count(len(ASSETS))
    expect(graph.get_by_text(re.compile(r"^\d+ / \d+ Passed$"))).to_have_count(len(CHECKS))
    for name in sorted(ASSETS):
        box = graph.get_by_text(name, exact=True).first.bounding_box()
        view = graph.bounding_box()
        assert view["x"] <= box["x"] and box["x"] + box["width"] <= view["x"] + view["width"], name
        assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"], name
    path = screenshot(graph, "lineage.png")
    if os.environ.get("CALLOPS_UPDATE_SCREENSHOT") == "1":  # `make screenshot`
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOT)


def test_partitions_page_shows_the_launched_day_materialised(launched, server, page):
    page.goto(f"{server.url}/assets/agent_performance_summary?view=partitions&partition={DAY}")
    page.get_by_text(re.compile(r"^Materialized \([123]\)$")).wait_for()  # the backfill may be done
    assert page.get_by_text("Failed (0)").is_visible()
    # The selected day's header: the day and its status tag, in the innermost box holding both.
    header = page.locator("div", has=page.get_by_text("Materialized", exact=True)).filter(has_text=DAY).last
    assert list(dict.fromkeys(header.inner_text().split())) == [DAY, "Materialized"]  # truncation renders the day twice
    assert page.get_by_text(launched["id"][:8], exact=True).first.is_visible()  # the run
    for label in ("active_agents", "total_calls", "connect_rate"):
        assert page.get_by_text(label, exact=True).first.is_visible(), label
    screenshot(page, "partitions.png")


def test_asset_page_lists_the_declared_columns(server, page):
    page.goto(f"{server.url}/assets/agent_performance_summary?view=overview")
    for col in TABLES["agent_performance_summary"]:
        page.get_by_text(col.name, exact=True).first.wait_for()
    connect_rate = next(c for c in TABLES["agent_performance_summary"] if c.name == "connect_rate")
    assert page.get_by_text(connect_rate.description).first.is_visible()
    screenshot(page, "summary_overview.png")


def test_backfill_of_a_range_runs_each_day(backfill, launched, server):
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        result = server.graphql(BACKFILL_QUERY, {"backfillId": backfill})["partitionBackfillOrError"]
        if result["status"] != "REQUESTED":
            break
        assert time.monotonic() < deadline, f"backfill still running:\n{server.log_tail()}"
        time.sleep(1)
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
    assert _materialized_days(node) == {DAY, *RANGE}

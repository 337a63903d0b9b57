"""One `dg dev` for all UI tests, the day and the range launched through it, a browser.

The server is bound to 127.0.0.1 on a free port with a temporary DAGSTER_HOME and a generated
data dir. Meanwhile the same landing day is materialised with the CLI in another data dir,
so the reports of the day launched from the UI can be compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import sync_playwright

from callops_dagster.contract import check_names as checks
from callops_dagster.mock.data import generate_day
from callops_dagster_tests.test_cli import materialize_cli
from callops_dagster_tests.ui.graphql_ops import (
    ASSET_NODES_QUERY,
    BACKFILL_MUTATION,
    BACKFILL_QUERY,
    LAUNCH_MUTATION,
    PARTITION_CONFIG_QUERY,
    RUN_QUERY,
)
from callops_dagster_tests.ui.webserver import (
    CHROMIUM_ARGS,
    LOCATION,
    REPOSITORY,
    RUN_TIMEOUT_S,
    Webserver,
    chromium_path,
    start_dagster_dev,
    stop,
)

DAY = "2025-04-28"  # launched as one run, as the UI does for one partition
RANGE = ["2025-04-29", "2025-04-30"]  # backfilled, as the UI does for several
JOB = "callops_daily"
GROUPS = {
    "landing": {"raw_call_logs", "raw_agent_roster", "raw_disposition_summary"},
    "validated": {"call_logs", "call_logs_rejected", "agent_roster", "agent_roster_rejected",
                  "disposition_summary", "disposition_summary_rejected"},
    "joined": {"agent_day"},
    "reporting": {"rejected_rows", "agent_performance_summary", "day_trend", "slack_summary"},
    "compliance": {"agent_compliance", "loan_contacts", "loan_contact_frequency"},
    "weekly": {"agent_weekly_summary"},  # weekly partitions: not part of a day's run
}
ASSETS = set().union(*GROUPS.values())
DAILY_ASSETS = ASSETS - GROUPS["weekly"]
LANDING_CHECKS = {checks.HAS_ROWS, checks.MISSING_KEYS, checks.DUPLICATE_KEYS, checks.FORMULA_LIKE_TEXT}
VALIDATED_CHECKS = {checks.KEYS_NON_NULL_UNIQUE, checks.RECORDS_CONSERVED}
CHECKS = {
    **{f"raw_{s}": LANDING_CHECKS for s in ("call_logs", "agent_roster", "disposition_summary")},
    **{s: VALIDATED_CHECKS for s in ("agent_roster", "disposition_summary")},
    "call_logs": VALIDATED_CHECKS | {checks.CALL_ID_CONFLICT, checks.DURATION_UNIT_PLAUSIBLE},
    "agent_day": {checks.NOTHING_LOST, checks.AGENTS_IN_ROSTER},
    "rejected_rows": {checks.LATE_ROWS},
    "agent_compliance": {checks.ONE_ROW_PER_SUMMARY_ROW, checks.CALLS_WITHIN_HOURS},
    "loan_contact_frequency": {checks.CONTACT_WINDOW_COMPLETE, checks.LOANS_WITHIN_CONTACT_LIMIT},
    "agent_performance_summary": {checks.ONE_ROW_PER_AGENT_DAY, checks.CONNECT_RATE_IN_RANGE,
                                  checks.PRESENCE_IS_BINARY, checks.LOANS_WITHIN_CALLS},
    "day_trend": {checks.FIGURES_IN_TREND},
}

# Dagster's freshness check on the summary: unpartitioned, judged against the clock by its own
# sensor, so it is not part of a day's run (see report/checks.py).
FRESHNESS_CHECK = ("agent_performance_summary", "freshness_check")


def wait_for(what: str, server: Webserver, poll, done) -> dict:
    """Call ``poll()`` until ``done(result)``; fail with the server's log after RUN_TIMEOUT_S."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while not done(result := poll()):
        assert time.monotonic() < deadline, f"{what} not done: {result}\n{server.log_tail()}"
        time.sleep(0.5)
    return result


def materialized_days(node: dict) -> set[str]:
    days = set()
    for r in node["assetPartitionStatuses"]["ranges"]:
        if r["status"] == "MATERIALIZED":
            start, end = dt.date.fromisoformat(r["startKey"]), dt.date.fromisoformat(r["endKey"])
            days |= {(start + dt.timedelta(n)).isoformat() for n in range((end - start).days + 1)}
    return days


@pytest.fixture(scope="package")
def ui(tmp_path_factory):
    """`dg dev` over a generated day, and the CLI's run of the same day elsewhere."""
    root = tmp_path_factory.mktemp("ui")
    data_dir, cli_dir = root / "data", root / "cli" / "data"
    generate_day(dt.date.fromisoformat(DAY), data_dir, calls=400, agents=12, defect_rate=0.02, seed=5)
    for day in RANGE:
        generate_day(dt.date.fromisoformat(day), data_dir, calls=150, agents=6, defect_rate=0.02, seed=5)
    shutil.copytree(data_dir / "landing" / DAY, cli_dir / "landing" / DAY)
    with ThreadPoolExecutor(max_workers=1) as pool:
        cli = pool.submit(materialize_cli, cli_dir, root / "cli" / "dagster_home", DAY)
        server = start_dagster_dev(root, data_dir)
        try:
            cli_done = cli.result()
        except BaseException:
            stop(server)
            raise
    yield server, cli_dir, cli_done
    assert stop(server), f"dg dev did not stop on SIGTERM:\n{server.log_tail()}"


@pytest.fixture(scope="package")
def server(ui) -> Webserver:
    return ui[0]


@pytest.fixture(scope="package")
def asset_nodes(server) -> dict[str, dict]:
    data = server.graphql(ASSET_NODES_QUERY)
    return {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}


def _asset_keys(asset_nodes: dict[str, dict]) -> list[dict]:
    """The daily assets, as the UI selects them for a day (the callops_daily job's)."""
    return [{"path": n["assetKey"]["path"]} for name, n in asset_nodes.items() if name in DAILY_ASSETS]


@pytest.fixture(scope="package")
def backfill(server, asset_nodes) -> str:
    """Launch a backfill of RANGE as the Jobs page does for callops_daily: one run of the job
    per day (README, "Backfill a range").

    An asset backfill from the lineage page would also target the six days after the range,
    whose seven-day contact window (loan_contact_frequency) holds a day of the range; the
    job's backfill runs exactly the days asked for (docs/compliance.md).
    It is launched first: the backfill daemon picks it up on its next tick (every 30 s) and
    runs it while the single day runs and is looked at.
    """
    launch = server.graphql(BACKFILL_MUTATION, {"backfillParams": {
        "selector": {
            "partitionSetName": f"{JOB}_partition_set",
            "repositorySelector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY},
        },
        "tags": [], "partitionNames": RANGE, "fromFailure": False,
    }})["launchPartitionBackfill"]
    assert launch["__typename"] == "LaunchBackfillSuccess", launch
    return launch["backfillId"]


@pytest.fixture(scope="package")
def launched(server, asset_nodes, backfill) -> dict:
    """Launch DAY as the UI's "Materialize all" does for one partition, and wait for the end.

    The UI first asks the job for the partition's tags and run config, then launches the
    job over the selected assets and their checks with those tags.
    """
    assets = _asset_keys(asset_nodes)
    check_handles = [
        {"assetKey": {"path": n["assetKey"]["path"]}, "name": c["name"]}
        for n in asset_nodes.values() for c in n["assetChecksOrError"]["checks"]
        if (n["assetKey"]["path"][-1], c["name"]) != FRESHNESS_CHECK
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
    run = wait_for(
        f"run {run_id}", server,
        lambda: server.graphql(RUN_QUERY, {"runId": run_id})["runOrError"],
        lambda run: run["status"] in ("SUCCESS", "FAILURE", "CANCELED"),
    )
    return {"id": run_id, "tags": tags, **run}


@pytest.fixture(scope="package")
def backfilled(server, backfill, launched) -> dict:
    """The backfill of RANGE, once it has finished (the daemon looks every 30 s)."""
    return wait_for(
        f"backfill {backfill}", server,
        lambda: server.graphql(BACKFILL_QUERY, {"backfillId": backfill})["partitionBackfillOrError"],
        lambda result: result["status"] != "REQUESTED",
    )




@pytest.fixture(scope="package")
def browser():
    executable = chromium_path()

    with sync_playwright() as playwright:
        launched_browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched_browser
        launched_browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 3840, "height": 3200})  # the whole lineage, zoomed to fit
    # Navigation collapsed, and asset nodes showing checks, partitions and kinds only, so the
    # whole graph fits on one screen.
    context.add_init_script(
        "window.localStorage.setItem('dagster-nav-collapsed', 'true');"
        "window.localStorage.setItem('asset-node-facets', JSON.stringify(['checks','partitions','kind-tag']));"
    )
    context.set_default_timeout(60_000)
    yield context.new_page()
    context.close()

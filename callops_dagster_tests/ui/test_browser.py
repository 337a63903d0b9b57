"""In headless Chromium (Debian's package, driven by Playwright): the pages people look at.

Screenshots go to the git-ignored artifacts/ folder; `make screenshot` also copies the
lineage graph to docs/img/lineage.png for the README.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from callops_dagster.contract.columns import TABLES
from callops_dagster_tests.ui.conftest import ASSETS, CHECKS, DAY, GROUPS, RANGE
from callops_dagster_tests.ui.webserver import PROJECT_ROOT, chromium_path

ARTIFACTS = PROJECT_ROOT / "artifacts"
DOCS_SCREENSHOT = PROJECT_ROOT / "docs" / "img" / "lineage.png"


def screenshot(target, name: str) -> Path:
    """Save a screenshot of a page or an element to the git-ignored artifacts/ folder."""
    ARTIFACTS.mkdir(exist_ok=True)
    target.screenshot(path=ARTIFACTS / name)
    return ARTIFACTS / name


# The day's lineage from files to message, expanded; compliance and weekly folded to their
# group boxes beside it, so the whole graph fits on one screen.
EXPANDED = ("landing", "validated", "joined", "reporting")


def test_asset_graph_page_shows_the_whole_lineage(backfilled, server, page):
    expanded = ",".join(f"global@global:{group}" for group in EXPANDED)
    page.goto(f"{server.url}/asset-groups?expanded={expanded}")
    graph = page.locator("[data-svg-viewport='1']")  # the graph's pan-and-zoom viewport
    shown = set().union(*(GROUPS[g] for g in EXPANDED))
    try:
        for name in sorted(shown | set(GROUPS)):
            graph.get_by_text(name, exact=True).first.wait_for()
    finally:
        screenshot(page, "lineage-page.png")  # what the page showed, to look at when this fails
    # Live data (check results, partitions filled) has arrived for every node.
    expect(graph.get_by_text(re.compile(r"^\d+% filled$"))).to_have_count(len(shown), timeout=30_000)
    checked = [a for a in CHECKS if a in shown]
    expect(graph.get_by_text(re.compile(r"^\d+ / \d+ Passed$"))).to_have_count(len(checked), timeout=30_000)
    for name in sorted(shown | set(GROUPS)):
        box = graph.get_by_text(name, exact=True).first.bounding_box()
        view = graph.bounding_box()
        assert view["x"] <= box["x"] and box["x"] + box["width"] <= view["x"] + view["width"], name
        assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"], name
    path = screenshot(graph, "lineage.png")
    # `make screenshot` (not a CALLOPS_ name: the conftest keeps every CALLOPS_* setting from the tests)
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOT)


def test_partitions_page_shows_the_launched_day_materialised(launched, backfilled, server, page):
    page.goto(f"{server.url}/assets/agent_performance_summary?view=partitions&partition={DAY}")
    page.get_by_text(f"Materialized ({1 + len(RANGE)})", exact=True).wait_for()  # the day and the range
    assert page.get_by_text("Failed (0)").is_visible()
    # The selected day's header: the day and its status tag, in the innermost box holding both.
    header = page.locator("div", has=page.get_by_text("Materialized", exact=True)).filter(has_text=DAY).last
    assert list(dict.fromkeys(header.inner_text().split())) == [DAY, "Materialized"]  # truncation renders the day twice
    assert page.get_by_text(launched["id"][:8], exact=True).first.is_visible()  # the run
    for label in ("active_agents", "total_calls", "connect_rate"):
        assert page.get_by_text(label, exact=True).first.is_visible(), label
    screenshot(page, "partitions.png")


def test_asset_page_lists_the_declared_columns(backfilled, server, page):
    page.goto(f"{server.url}/assets/agent_performance_summary?view=overview")
    for col in TABLES["agent_performance_summary"]:
        page.get_by_text(col.name, exact=True).first.wait_for()
    connect_rate = next(c for c in TABLES["agent_performance_summary"] if c.name == "connect_rate")
    expect(page.get_by_text(connect_rate.description).first).to_be_visible()  # waits, unlike is_visible()
    screenshot(page, "summary_overview.png")


def test_missing_chromium_fails_the_tests_with_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(pytest.fail.Exception, match=r"Chromium not found .*make browser"):
        chromium_path()

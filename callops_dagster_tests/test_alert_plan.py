"""Layer 1: the run-alert plan (delivery/alerts.py): what the sensor posts, logs or skips, and why.

The sensor itself, over real runs and a fake Slack, is tested in test_alerts.py.
"""

from __future__ import annotations

import pytest

from callops_dagster.delivery.alerts import (
    DRY_RUN,
    POST,
    SKIP,
    AlertCursor,
    FinishedRun,
    plan_alerts,
    tick_summary,
    within_budget,
)
from callops_dagster.delivery.blocks import FailedCheck, FailedStep, OverdueDay, RunOutcome

DAY = "2025-04-28"
FRESHNESS = "agent_performance_summary:freshness_check"
ERROR_CHECK = FailedCheck("raw_call_logs", "missing_keys", "ERROR", {"rows_with_missing_keys": 3})
WARN_CHECK = FailedCheck("raw_call_logs", "duplicate_keys", "WARN", {"rows_with_duplicate_keys": 6})


def outcome(**kw) -> RunOutcome:
    return RunOutcome(**{"day": DAY, "run_id": "run-aaaaaaaa", "job": "callops_daily", "succeeded": True, **kw})


def overdue(day: str) -> OverdueDay:
    return OverdueDay("agent_performance_summary", "freshness_check", day, f"{day} 06:00 Asia/Kolkata")


def finished(storage_id: int, found: RunOutcome | None) -> FinishedRun:
    return FinishedRun(storage_id, f"run-{storage_id:08d}", found)


def test_a_failed_error_check_is_posted_and_the_cursor_moves_past_its_run():
    [step] = plan_alerts([finished(5, outcome(failed_checks=[ERROR_CHECK]))], AlertCursor(1))
    assert step.action == POST and step.alerts
    assert step.text.splitlines()[1] == "• raw_call_logs › missing_keys ERROR: rows_with_missing_keys=3"
    assert step.cursor == AlertCursor(5)


def test_a_run_that_is_not_a_day_and_found_nothing_overdue_is_skipped():
    [step] = plan_alerts([finished(5, None)], AlertCursor(1, {FRESHNESS: DAY}))
    assert (step.action, step.text, step.alerts) == (SKIP, None, False)
    assert step.reason == "not a run of a day, and no overdue day"
    assert step.cursor == AlertCursor(5, {FRESHNESS: DAY})


@pytest.mark.parametrize(("include_warn", "action"), [(False, SKIP), (True, POST)])
def test_a_warn_check_alerts_only_when_asked(include_warn, action):
    [step] = plan_alerts([finished(5, outcome(failed_checks=[WARN_CHECK]))], AlertCursor(1), include_warn=include_warn)
    assert step.action == action
    assert step.cursor == AlertCursor(5)


def test_a_clean_run_is_skipped_saying_why():
    [step] = plan_alerts([finished(5, outcome())], AlertCursor(1))
    assert step.action == SKIP
    assert step.reason.startswith("nothing to alert: no failed ERROR check")


def test_dry_run_logs_the_alert_instead_of_posting_it():
    [step] = plan_alerts([finished(5, outcome(succeeded=False, failed_steps=[FailedStep("x", "boom")]))],
                         AlertCursor(1), dry_run=True)
    assert (step.action, step.alerts) == (DRY_RUN, True)
    assert "• step x failed: boom" in step.text


def test_the_text_is_redacted():
    failure = FailedStep("raw_call_logs", "POST https://hooks.example/T0/B0/secret failed")
    [step] = plan_alerts([finished(5, outcome(succeeded=False, failed_steps=[failure]))], AlertCursor(1),
                         redact=lambda text: text.replace("https://hooks.example/T0/B0/secret", "<URL>"))
    assert "secret" not in step.text and "POST <URL> failed" in step.text


def test_an_overdue_day_already_alerted_is_skipped_saying_so():
    [step] = plan_alerts([finished(5, outcome(day=None, overdue=[overdue(DAY)]))], AlertCursor(1, {FRESHNESS: DAY}))
    assert step.action == SKIP
    assert step.reason == "nothing to alert: 1 overdue day(s) already alerted"
    assert step.cursor == AlertCursor(5, {FRESHNESS: DAY})


def test_an_overdue_day_alerts_once_when_two_runs_of_one_tick_find_it():
    runs = [finished(5, outcome(day=None, overdue=[overdue(DAY)])), finished(6, outcome(day=None, overdue=[overdue(DAY)]))]
    first, second = plan_alerts(runs, AlertCursor(1))
    assert first.action == POST and first.text.startswith(f"callops {DAY}: day overdue")
    assert first.cursor == AlertCursor(5, {FRESHNESS: DAY})
    assert second.action == SKIP and second.cursor == AlertCursor(6, {FRESHNESS: DAY})


def test_a_new_overdue_day_alerts_and_replaces_the_one_recorded():
    older = "2025-04-25"
    [step] = plan_alerts([finished(5, outcome(day=None, overdue=[overdue(DAY)]))], AlertCursor(1, {FRESHNESS: older}))
    assert step.action == POST
    assert step.cursor == AlertCursor(5, {FRESHNESS: DAY})


def test_a_day_run_alerts_its_failure_without_an_overdue_day_already_alerted():
    found = outcome(succeeded=False, failed_steps=[FailedStep("raw_call_logs", "missing")], overdue=[overdue(DAY)])
    [step] = plan_alerts([finished(5, found)], AlertCursor(1, {FRESHNESS: DAY}))
    assert step.action == POST
    assert "not materialised by its deadline" not in step.text
    assert "• step raw_call_logs failed: missing" in step.text


def test_no_finished_run_is_an_empty_plan():
    assert plan_alerts([], AlertCursor(1)) == []


@pytest.mark.parametrize(
    ("posted", "elapsed_s", "allowed"),
    [(0, 100.0, True), (1, 10.0, True), (1, 15.0, True), (1, 15.1, False), (3, 39.0, False)],
)
def test_a_post_starts_only_inside_the_tick_budget_except_the_first(posted, elapsed_s, allowed):
    assert within_budget(posted, elapsed_s, worst_post_s=25.0, budget_s=40.0) is allowed


@pytest.mark.parametrize(
    ("alerted", "dry_run", "summary"),
    [
        (2, False, "2 alert(s) sent"),
        (1, True, "1 alert(s) logged (dry-run)"),
        (0, False, "no finished run with a failed ERROR check or step, or a newly overdue day"),
    ],
)
def test_tick_summary(alerted, dry_run, summary):
    assert tick_summary(alerted, dry_run) == summary


def test_the_first_cursor_format_and_a_written_cursor_read_back():
    assert AlertCursor.parse("42") == AlertCursor(42)
    cursor = AlertCursor(7, {FRESHNESS: "2025-04-28"})
    assert AlertCursor.parse(cursor.dump()) == cursor


@pytest.mark.parametrize("raw", ["", "{", "[]", '{"after": "x"}', '{"overdue_alerted": {}}'])
def test_an_unreadable_cursor_is_a_value_error(raw):
    with pytest.raises(ValueError, match="unreadable cursor"):
        AlertCursor.parse(raw)

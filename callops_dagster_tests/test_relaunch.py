"""Which lost runs the relaunch sensor runs again (cluster/relaunch.py), on hand-built facts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from callops_dagster.cluster.relaunch import (
    DECISION_TIMEOUT_S,
    LEAVE,
    RELAUNCH,
    WAIT,
    Backfill,
    Decision,
    LaterRun,
    LostRun,
    decide,
    tick_summary,
)

NOW = 1_000_000.0
DAY = "2025-04-28"
# A backfill's last run lost; the backfill ended; the retry daemon said it will not retry it.
ORPHAN = LostRun(
    run_id="lost0001-aaaa",
    job="callops_daily",
    day=DAY,
    failed_at=NOW - 30,
    backfill=Backfill("bf1", "COMPLETED_FAILED"),
    will_retry="true",
    retry_refused=True,
)


def decided(run: LostRun = ORPHAN, *, now: float = NOW, retries_enabled: bool = True) -> Decision:
    return decide(run, now=now, retries_enabled=retries_enabled)


def test_a_lost_run_whose_backfill_ended_before_its_retry_is_relaunched():
    decision = decided()
    assert decision.action == RELAUNCH
    assert decision.reason == (
        "its backfill bf1 (completed_failed) ended before a retry was made, and Dagster will not retry it"
    )


@pytest.mark.parametrize("status", ["COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED"])
def test_any_finished_backfill_counts_as_ended(status):
    assert decided(replace(ORPHAN, backfill=Backfill("bf1", status))).action == RELAUNCH


def test_the_run_key_names_the_lost_run():
    assert ORPHAN.run_key == "relaunch:lost0001-aaaa"


@pytest.mark.parametrize(
    ("later", "reason"),
    [
        (LaterRun("retry001-bbbb", "SUCCESS", retry_of_it=True), "already retried as retry001 (success)"),
        (LaterRun("retry001-bbbb", "QUEUED", retry_of_it=True), "already retried as retry001 (queued)"),
        (LaterRun("hand0001-cccc", "STARTED", retry_of_it=False), "already run again as hand0001 (started)"),
        (LaterRun("hand0001-cccc", "FAILURE", retry_of_it=False), "already run again as hand0001 (failure)"),
    ],
)
def test_a_day_with_a_later_run_is_left_to_it(later, reason):
    decision = decided(replace(ORPHAN, later_runs=(later,)))
    assert (decision.action, decision.reason) == (LEAVE, reason)


def test_a_retry_is_named_before_other_later_runs():
    later = (LaterRun("hand0001-cccc", "SUCCESS", False), LaterRun("retry001-bbbb", "SUCCESS", True))
    assert decided(replace(ORPHAN, later_runs=later)).reason == "already retried as retry001 (success)"


def test_a_backfill_still_running_is_waited_on():
    decision = decided(replace(ORPHAN, backfill=Backfill("bf1", "REQUESTED"), retry_refused=False))
    assert decision.action == WAIT
    assert "still runs" in decision.reason


@pytest.mark.parametrize("age", [0, 30, DECISION_TIMEOUT_S - 1])
def test_an_ended_backfill_without_the_daemons_word_is_waited_on(age):
    run = replace(ORPHAN, retry_refused=False, failed_at=NOW - age)
    decision = decided(run)
    assert decision.action == WAIT
    assert decision.reason.endswith("waiting for the retry daemon's word on it")


def test_an_ended_backfill_without_the_daemons_word_is_relaunched_after_the_timeout():
    decision = decided(replace(ORPHAN, retry_refused=False, failed_at=NOW - DECISION_TIMEOUT_S))
    assert decision.action == RELAUNCH
    assert decision.reason.endswith(f"no retry {DECISION_TIMEOUT_S:.0f}s after the failure")


@pytest.mark.parametrize("retries_enabled", [True, False], ids=["retries-on", "retries-off"])
@pytest.mark.parametrize("status", ["CANCELED", "CANCELING", "FAILED", "FAILING", "DELETED"])
def test_a_stopped_backfills_lost_run_is_left_failed(status, retries_enabled):
    decision = decided(replace(ORPHAN, backfill=Backfill("bf1", status)), retries_enabled=retries_enabled)
    assert decision.action == LEAVE
    assert decision.reason.endswith("was stopped: its days are not run again")


def test_a_lost_run_outside_a_backfill_is_left_to_dagsters_retries():
    decision = decided(replace(ORPHAN, backfill=None, retry_refused=False))
    assert (decision.action, decision.reason) == (LEAVE, "not part of a backfill: Dagster's run retries retry it")


@pytest.mark.parametrize("backfill", [None, Backfill("bf1", "REQUESTED"), Backfill("bf1", "COMPLETED_FAILED")])
def test_with_run_retries_off_a_lost_run_is_relaunched_at_once(backfill):
    run = replace(ORPHAN, backfill=backfill, will_retry=None, retry_refused=False, failed_at=NOW)
    decision = decided(run, retries_enabled=False)
    assert (decision.action, decision.reason) == (RELAUNCH, "run retries are off")


def test_spent_retries_leave_the_day_failed():
    decision = decided(replace(ORPHAN, will_retry="false"))
    assert decision.action == LEAVE
    assert "spent" in decision.reason


@pytest.mark.parametrize("retries_enabled", [True, False])
def test_a_relaunch_that_is_lost_is_not_relaunched_again(retries_enabled):
    decision = decided(replace(ORPHAN, relaunch_of="lost0000-zzzz"), retries_enabled=retries_enabled)
    assert decision.action == LEAVE
    assert decision.reason == "itself a relaunch of lost0000: a lost day is relaunched once"


def test_a_run_without_a_partition_is_left():
    assert decided(replace(ORPHAN, day=None)).action == LEAVE


def test_the_tick_summary_names_the_waits_and_counts_the_rest():
    waiting = decided(replace(ORPHAN, retry_refused=False))
    left = decided(replace(ORPHAN, backfill=None))
    assert tick_summary([waiting, left]) == (
        "waiting on 1: callops_daily 2025-04-28 (lost run lost0001): wait, its backfill bf1 (completed_failed) "
        "has ended; waiting for the retry daemon's word on it; 1 lost run(s) settled"
    )
    assert tick_summary([]) == "no run lost its worker in the lookback window"

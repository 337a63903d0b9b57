"""The run alert sensor: one Slack alert per finished run with a failed ERROR check or step,
and one per newly overdue day of the freshness check."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from callops_dagster.definitions import defs
import callops_dagster.delivery.sensors as alerts_module
from callops_dagster.delivery.sensors import ALERT_SENSOR, AlertCursor, run_alerts
from callops_dagster.delivery.resources import SlackResource
from callops_dagster_tests.conftest import (
    GOLDEN_DAY,
    clean_calls,
    copy_golden,
    landing,
    materialize_day,
    write_day,
)
from callops_dagster_tests.fake_slack import SECRET, FakeSlack, Reply
from callops_dagster_tests.test_freshness import SUMMARY, evaluate, expected_day

DAY = "2025-04-28"


def tick(instance: dg.DagsterInstance, slack: SlackResource, cursor: str | None = "0") -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"slack": slack})
    return run_alerts(context)


def webhook(url: str, **overrides) -> SlackResource:
    return SlackResource(webhook_url=url, **{"backoff_s": 0.01, "max_wait_s": 2.0, **overrides})


def missing_call_ids(day: str) -> list[list[str]]:
    """Three of eight calls without a call_id: 37.5% > 20%, an ERROR that blocks the day."""
    calls = clean_calls(day)
    for row in calls[:3]:
        row[0] = ""
    return calls


def test_the_alert_sensor_is_in_the_code_location_and_on_by_default():
    sensor = defs.resolve_sensor_def(ALERT_SENSOR)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_an_error_check_gives_exactly_one_alert_naming_it(data_dir, instance):
    write_day(data_dir, DAY, calls=missing_call_ids(DAY))
    run = materialize_day(data_dir, DAY, instance)
    assert not run.success
    with FakeSlack() as slack:
        first = tick(instance, webhook(slack.url))
        second = tick(instance, webhook(slack.url), first.cursor)
    [alert] = slack.requests
    assert first.skip_reason.skip_message == "1 alert(s) sent"
    lines = alert.text.splitlines()
    assert lines[0] == f"callops {DAY}: run failed (run {run.run_id[:8]}, job __ephemeral_asset_job__)"
    assert "• raw_call_logs › missing_keys ERROR: error_share=0.2, rows_with_missing_keys=3, share=0.375" in lines
    assert lines[2] == (
        "• step raw_call_logs failed: 1 blocking asset check failed with ERROR severity: raw_call_logs: missing_keys"
    )
    assert len(lines) == 3
    assert alert.blocks[0]["text"]["text"].startswith(f"*callops {DAY}: run failed")
    assert second.cursor == first.cursor  # nothing new since: nothing sent again
    assert second.skip_reason.skip_message.startswith("no finished run")


def test_a_clean_run_and_a_warn_only_run_give_no_alert(data_dir, instance):
    write_day(data_dir, DAY)
    assert materialize_day(data_dir, DAY, instance).success
    golden = copy_golden(data_dir.parent / "golden")
    golden_run = materialize_day(golden, GOLDEN_DAY, instance, duration_unit="seconds")
    assert golden_run.success  # only WARN checks fail
    with FakeSlack() as slack:
        result = tick(instance, webhook(slack.url))
        assert slack.requests == []
        assert AlertCursor.parse(result.cursor).after > 0  # moved past both runs
        tick(instance, webhook(slack.url, alert_on_warn=True))
    # Both runs have failed WARN checks: the clean day's seven-day contact window is incomplete
    # (the six days before it never landed), and the golden day has late rows too.
    assert len(slack.requests) == 2, [a.text for a in slack.requests]
    [golden_alert] = [a for a in slack.requests if f"run {golden_run.run_id[:8]}" in a.text]
    [clean_alert] = [a for a in slack.requests if a is not golden_alert]
    assert "checks failed" in golden_alert.text
    assert "• raw_call_logs › duplicate_keys WARN: rows_with_duplicate_keys=6" in golden_alert.text
    assert clean_alert.text.splitlines()[1:] == ["• loan_contact_frequency › contact_window_complete WARN: days_missing=6"]


def test_a_run_failing_for_another_reason_names_the_step(data_dir, instance):
    write_day(data_dir, DAY)
    (landing(data_dir, DAY) / "call_logs.csv").unlink()
    assert not materialize_day(data_dir, DAY, instance).success
    with FakeSlack() as slack:
        tick(instance, webhook(slack.url))
    [alert] = slack.requests
    assert "• step raw_call_logs failed:" in alert.text and "call_logs.csv" in alert.text
    assert "›" not in alert.text  # no failed check to name


def test_the_first_tick_starts_from_now(data_dir, instance):
    write_day(data_dir, DAY, calls=missing_call_ids(DAY))
    materialize_day(data_dir, DAY, instance)  # before the sensor ever ran: not alerted
    with FakeSlack() as slack:
        first = tick(instance, webhook(slack.url), cursor=None)
        assert slack.requests == []
        later = materialize_day(data_dir, DAY, instance)
        tick(instance, webhook(slack.url), first.cursor)
    [alert] = slack.requests
    assert later.run_id[:8] in alert.text


def test_an_alert_slack_refused_is_retried_next_tick_and_sent_once(data_dir, instance):
    write_day(data_dir, DAY, calls=missing_call_ids(DAY))
    materialize_day(data_dir, DAY, instance)
    with FakeSlack(default=Reply(500, "internal_error")) as down:
        failed = tick(instance, webhook(down.url, max_attempts=4))
    assert len(down.requests) == 2  # at most two tries per tick, to keep the tick short
    assert AlertCursor.parse(failed.cursor).after == 0  # not past the run: its alert is still owed
    assert "HTTP 500" in failed.skip_reason.skip_message
    assert SECRET not in failed.skip_reason.skip_message
    with FakeSlack() as up:
        done = tick(instance, webhook(up.url), failed.cursor)
        tick(instance, webhook(up.url), done.cursor)
    assert len(up.requests) == 1


def test_a_tick_past_its_time_budget_leaves_the_rest_for_the_next_tick(data_dir, instance, monkeypatch):
    """A tick that ran over Dagster's sensor timeout would lose its cursor and resend alerts."""
    write_day(data_dir, DAY, calls=missing_call_ids(DAY))
    runs = [materialize_day(data_dir, DAY, instance) for _ in range(2)]
    monkeypatch.setattr(alerts_module, "TICK_BUDGET_S", 0.0)  # any second alert would pass it
    with FakeSlack() as slack:
        first = tick(instance, webhook(slack.url))
        assert len(slack.requests) == 1 and runs[0].run_id[:8] in slack.requests[0].text
        assert "the rest on the next tick" in first.skip_reason.skip_message
        second = tick(instance, webhook(slack.url), first.cursor)
        tick(instance, webhook(slack.url), second.cursor)
    assert [runs[i].run_id[:8] in r.text for i, r in enumerate(slack.requests)] == [True, True]


def test_dry_run_sends_nothing_and_moves_on(data_dir, instance):
    write_day(data_dir, DAY, calls=missing_call_ids(DAY))
    materialize_day(data_dir, DAY, instance)
    result = tick(instance, SlackResource())
    assert AlertCursor.parse(result.cursor).after > 0
    assert result.skip_reason.skip_message == "1 alert(s) logged (dry-run)"


# ---------------------------------------------------------------- freshness


FRESHNESS = "agent_performance_summary:freshness_check"


def test_an_overdue_day_alerts_once_and_a_fresh_pass_says_nothing(instance):
    missing = evaluate(instance)  # nothing materialised: the expected day never arrived
    assert not missing.passed and missing.severity == dg.AssetCheckSeverity.WARN
    day = expected_day(dt.datetime.now(dt.UTC))
    with FakeSlack() as slack:
        first = tick(instance, webhook(slack.url))
        [alert] = slack.requests
        evaluate(instance)  # evaluated again (a backfill, the UI): still the same day
        second = tick(instance, webhook(slack.url), first.cursor)
        instance.report_runless_asset_event(dg.AssetMaterialization(SUMMARY, partition=day))
        assert evaluate(instance).passed
        third = tick(instance, webhook(slack.url), second.cursor)
    assert len(slack.requests) == 1
    lines = alert.text.splitlines()
    assert lines[0].startswith(f"callops {day}: day overdue (run ")
    assert lines[1].startswith(f"• agent_performance_summary › freshness_check: {day} not materialised by")
    assert "(it has never been materialised for any day)" in lines[1]
    assert f"landing/{day}/" in lines[2] and defs.resolve_sensor_def("callops_landing_sensor").name in lines[2]
    assert day in missing.description  # the day from the metadata is the one Dagster expected
    assert first.skip_reason.skip_message == "1 alert(s) sent"
    assert AlertCursor.parse(first.cursor).overdue_alerted == {FRESHNESS: day}
    assert second.skip_reason.skip_message.startswith("no finished run")
    assert AlertCursor.parse(second.cursor).after > AlertCursor.parse(first.cursor).after
    assert third.skip_reason.skip_message.startswith("no finished run")


def test_a_new_overdue_day_alerts_even_after_an_earlier_one(instance):
    day = expected_day(dt.datetime.now(dt.UTC))
    older = (dt.date.fromisoformat(day) - dt.timedelta(days=3)).isoformat()
    instance.report_runless_asset_event(dg.AssetMaterialization(SUMMARY, partition=older))
    evaluate(instance)
    earlier = AlertCursor(0, {FRESHNESS: older}).dump()  # the older day was alerted before
    with FakeSlack() as slack:
        result = tick(instance, webhook(slack.url), earlier)
    [alert] = slack.requests
    assert alert.text.startswith(f"callops {day}: day overdue") and "never been materialised" not in alert.text
    assert AlertCursor.parse(result.cursor).overdue_alerted == {FRESHNESS: day}


def test_an_overdue_alert_slack_refused_is_sent_on_the_next_tick(instance):
    evaluate(instance)
    with FakeSlack(default=Reply(500, "internal_error")) as down:
        failed = tick(instance, webhook(down.url))
    assert AlertCursor.parse(failed.cursor) == AlertCursor(0)  # the day is not recorded as alerted
    with FakeSlack() as up:
        tick(instance, webhook(up.url), failed.cursor)
    [alert] = up.requests
    assert "day overdue" in alert.text


def test_an_unreadable_cursor_starts_again_from_now(data_dir, instance):
    write_day(data_dir, DAY, calls=missing_call_ids(DAY))
    materialize_day(data_dir, DAY, instance)
    with FakeSlack() as slack:
        result = tick(instance, webhook(slack.url), cursor="not a cursor")
    assert slack.requests == []
    assert result.skip_reason.skip_message.startswith("first tick")
    assert AlertCursor.parse(result.cursor).after > 0

"""slack_summary posting to a real HTTP server on 127.0.0.1, through ``dg.materialize``.

The resource takes its URL from ``dg.EnvVar("SLACK_WEBHOOK_URL")`` as the code location
does, and the URL holds a distinctive secret that must appear nowhere afterwards.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from callops_dagster.delivery.assets import POST_TAG
from callops_dagster.delivery.resources import WEBHOOK_ENV, SlackResource
from callops_dagster.delivery.ledger import ledger_path, read_posts
from callops_dagster_tests.conftest import (
    REPORT_FILES,
    TELEMETRY_OFF,
    asset_metadata,
    clean_calls,
    materialize_day,
    materialized,
    reports_dir,
    step_failure_messages,
    write_day,
)
from callops_dagster_tests.fake_slack import SECRET, FakeSlack, Reply, closed_port_url

DAY = "2025-04-28"
EARLIER = "2025-04-27"


def webhook(monkeypatch, url: str, **overrides) -> SlackResource:
    """The resource as definitions.py binds it (EnvVar), with fast retries."""
    monkeypatch.setenv(WEBHOOK_ENV, url)
    return SlackResource(webhook_url=dg.EnvVar(WEBHOOK_ENV), **{"backoff_s": 0.01, "max_wait_s": 5.0, **overrides})


def message(data_dir: Path, day: str = DAY) -> str:
    return (reports_dir(data_dir, day) / "slack_message.txt").read_text(encoding="utf-8")


def test_without_a_webhook_it_is_a_dry_run(data_dir, instance):
    write_day(data_dir, DAY)
    result = materialize_day(data_dir, DAY, instance)
    assert result.success
    meta = asset_metadata(result, "slack_summary")
    assert meta["slack_delivery"] == "dry_run"
    assert (reports_dir(data_dir, DAY) / "slack_message.txt").is_file()
    assert read_posts(ledger_path(data_dir, DAY)) == []  # nothing posted, nothing recorded


def test_the_newest_day_posts_blocks_and_text(data_dir, instance, monkeypatch):
    write_day(data_dir, DAY)
    with FakeSlack() as slack:
        result = materialize_day(data_dir, DAY, instance, slack=webhook(monkeypatch, slack.url))
    assert result.success
    [request] = slack.requests
    assert request.text == message(data_dir)
    header, fields, context, orgs = request.blocks
    assert header["text"]["text"] == f"Agent Summary for {DAY}"
    assert [f["text"] for f in fields["fields"][::2]] == [
        "*Top Performer*", "*Total Active Agents*", "*Average Duration*",
    ]
    assert fields["fields"][1] == {"type": "plain_text", "text": "Asha Rao (60% connect rate)"}
    assert context["elements"][0]["text"].startswith("Data quality: 0 of 14 rows rejected")
    assert context["elements"][1]["text"].startswith("Compliance: 0 calls outside 08:00-19:00")
    assert orgs["text"]["text"].startswith("ORG1: 2 active agents")
    meta = asset_metadata(result, "slack_summary")
    assert (meta["slack_delivery"], meta["slack_attempts"]) == ("posted", 1)
    [post] = read_posts(ledger_path(data_dir, DAY))
    assert (post.day, post.kind, post.run_id) == (DAY, "posted", result.run_id)


def test_the_same_content_is_not_posted_twice_unless_forced(data_dir, instance, monkeypatch):
    write_day(data_dir, DAY)
    with FakeSlack() as slack:
        resource = webhook(monkeypatch, slack.url)
        materialize_day(data_dir, DAY, instance, slack=resource)
        again = materialize_day(data_dir, DAY, instance, slack=resource)
        assert len(slack.requests) == 1
        assert asset_metadata(again, "slack_summary")["slack_delivery"] == "skipped"
        assert "already posted" in asset_metadata(again, "slack_summary")["slack_reason"]
        forced = materialize_day(data_dir, DAY, instance, slack=resource, tags={POST_TAG: "force"})
    assert asset_metadata(forced, "slack_summary")["slack_delivery"] == "repost"
    assert len(slack.requests) == 2
    assert slack.requests[1].text == slack.requests[0].text  # a re-post is not a correction
    assert [p.kind for p in read_posts(ledger_path(data_dir, DAY))] == ["posted", "repost"]


def test_a_changed_message_goes_out_as_a_correction(data_dir, instance, monkeypatch):
    write_day(data_dir, DAY)
    with FakeSlack() as slack:
        resource = webhook(monkeypatch, slack.url)
        materialize_day(data_dir, DAY, instance, slack=resource)
        write_day(data_dir, DAY, calls=clean_calls(DAY)[:-1])  # a corrected re-drop: one call fewer
        result = materialize_day(data_dir, DAY, instance, slack=resource)
    assert result.success
    assert len(slack.requests) == 2
    fixed = slack.requests[1]
    assert fixed.text.splitlines()[0] == f"Agent Summary for {DAY} (correction)"
    assert fixed.text.splitlines()[1:-1] == message(data_dir).splitlines()[1:]
    first = slack.requests[0].text.splitlines()
    changed = [(old, new) for old, new in zip(first[1:], message(data_dir).splitlines()[1:]) if old != new]
    assert changed and fixed.text.splitlines()[-1] == "Changed since the first post: " + "; ".join(
        f"{old} → {new}" for old, new in changed
    )
    assert fixed.blocks[0]["text"]["text"].endswith("(correction)")
    assert [p.kind for p in read_posts(ledger_path(data_dir, DAY))] == ["posted", "correction"]


def test_a_posted_earlier_day_whose_message_changed_gets_one_correction(data_dir, instance, monkeypatch):
    """Automation refreshes an earlier day after a correction: it was posted when it was the
    newest day, so its changed message goes out once as a correction; the same refresh again
    posts nothing, and a day never posted (a backfill day) stays unposted."""
    write_day(data_dir, EARLIER)
    with FakeSlack() as slack:
        resource = webhook(monkeypatch, slack.url)
        materialize_day(data_dir, EARLIER, instance, slack=resource)  # the newest day then: posted
        write_day(data_dir, DAY)
        materialize_day(data_dir, DAY, instance, slack=resource)
        write_day(data_dir, EARLIER, calls=clean_calls(EARLIER)[:-1])
        materialize_day(data_dir, EARLIER, instance, slack=resource)
        materialize_day(data_dir, EARLIER, instance, slack=resource)  # same content: nothing
    titles = [r.text.splitlines()[0] for r in slack.requests]
    assert titles == [f"Agent Summary for {EARLIER}", f"Agent Summary for {DAY}",
                      f"Agent Summary for {EARLIER} (correction)"]
    assert [p.kind for p in read_posts(ledger_path(data_dir, EARLIER))] == ["posted", "correction"]


def test_a_backfill_day_posts_nothing_unless_asked(data_dir, instance, monkeypatch):
    write_day(data_dir, EARLIER)
    write_day(data_dir, DAY)
    with FakeSlack() as slack:
        resource = webhook(monkeypatch, slack.url)
        old = materialize_day(data_dir, EARLIER, instance, slack=resource)
        assert old.success and slack.requests == []
        meta = asset_metadata(old, "slack_summary")
        assert meta["slack_delivery"] == "skipped" and DAY in meta["slack_reason"]
        assert (reports_dir(data_dir, EARLIER) / "slack_message.txt").is_file()
        asked = materialize_day(data_dir, EARLIER, instance, slack=resource, tags={POST_TAG: "backfill"})
        assert asset_metadata(asked, "slack_summary")["slack_delivery"] == "posted"
        assert [r.text.splitlines()[0] for r in slack.requests] == [f"Agent Summary for {EARLIER}"]
        configured = webhook(monkeypatch, slack.url, post_backfill=True)
        write_day(data_dir, EARLIER, calls=clean_calls(EARLIER)[:-1])
        materialize_day(data_dir, EARLIER, instance, slack=configured)
    assert slack.requests[-1].text.startswith(f"Agent Summary for {EARLIER} (correction)")


def test_an_unknown_post_tag_fails_clearly(data_dir, instance):
    write_day(data_dir, DAY)
    result = materialize_day(data_dir, DAY, instance, tags={POST_TAG: "always"})
    assert not result.success
    message = step_failure_messages(result)["slack_summary"]
    assert "callops/slack_post='always' is not one of: backfill, force" in message


def test_429_with_retry_after_then_success(data_dir, instance, monkeypatch):
    write_day(data_dir, DAY)
    with FakeSlack([Reply(429, "rate_limited", {"Retry-After": "1"})]) as slack:
        result = materialize_day(data_dir, DAY, instance, slack=webhook(monkeypatch, slack.url))
    assert result.success
    assert len(slack.requests) == 2 and slack.requests[0].payload == slack.requests[1].payload
    assert asset_metadata(result, "slack_summary")["slack_attempts"] == 2


def assert_failed_with_reports_written(result, data_dir: Path, *phrases: str) -> str:
    assert not result.success
    assert "slack_summary" not in materialized(result)
    assert "agent_performance_summary" in materialized(result)
    text = step_failure_messages(result)["slack_summary"]
    for phrase in (f"Slack post of {DAY} failed", f"reports are written in reports/{DAY}/", *phrases):
        assert phrase in text
    assert SECRET not in text and "127.0.0.1" not in text
    for name in REPORT_FILES:
        assert (reports_dir(data_dir, DAY) / name).is_file()
    assert read_posts(ledger_path(data_dir, DAY)) == []
    return text


def test_persistent_500_fails_the_asset_and_keeps_the_reports(data_dir, instance, monkeypatch):
    write_day(data_dir, DAY)
    with FakeSlack(default=Reply(500, "internal_error")) as slack:
        result = materialize_day(data_dir, DAY, instance, slack=webhook(monkeypatch, slack.url, max_attempts=3))
    assert len(slack.requests) == 3
    assert_failed_with_reports_written(result, data_dir, "HTTP 500", "gave up after 3 attempts")


def test_unreachable_webhook_fails_the_asset_and_keeps_the_reports(data_dir, instance, monkeypatch):
    write_day(data_dir, DAY)
    result = materialize_day(data_dir, DAY, instance, slack=webhook(monkeypatch, closed_port_url(), max_attempts=2))
    assert_failed_with_reports_written(result, data_dir, "could not reach Slack", "gave up after 2 attempts")


def files_containing(root: Path, needle: str) -> list[str]:
    hits = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if not path.is_symlink() and needle.encode() in path.read_bytes():
                hits.append(str(path.relative_to(root)))
    return hits


def test_the_webhook_url_is_nowhere_in_storage_logs_or_outputs(tmp_path, monkeypatch, capfd):
    """A persistent instance (sqlite + compute logs) after a post, a retry and a failure."""
    data_dir, home = tmp_path / "data", tmp_path / "dagster_home"
    write_day(data_dir, DAY)
    home.mkdir()
    instance = dg.DagsterInstance.local_temp(str(home), overrides=TELEMETRY_OFF)
    try:
        with FakeSlack([Reply(429, "rate_limited", {"Retry-After": "0"})]) as slack:
            resource = webhook(monkeypatch, slack.url)
            posted = materialize_day(data_dir, DAY, instance, slack=resource)
            write_day(data_dir, DAY, calls=clean_calls(DAY)[:-1])
            slack.default = Reply(503, "unavailable")
            failed = materialize_day(data_dir, DAY, instance, slack=resource)
        assert posted.success and not failed.success
        assert len(slack.requests) == 2 + 4  # 429 + success, then 4 tries of the correction
        unreachable = materialize_day(data_dir, DAY, instance, slack=webhook(monkeypatch, closed_port_url()))
        assert not unreachable.success
        run_config = json.dumps([instance.get_run_by_id(r.run_id).run_config for r in (posted, failed)])
    finally:
        instance.dispose()
    stored = sorted(p.name for p in home.rglob("*") if p.is_file())
    # the grep below is not vacuous: the run and event sqlite files and the compute logs
    assert any(name.endswith(".db") for name in stored) and any(name.endswith(".err") for name in stored), stored
    assert files_containing(home, SECRET) == []
    assert files_containing(data_dir, SECRET) == []
    captured = capfd.readouterr()
    assert "Slack post of 2025-04-28 failed" in captured.out + captured.err
    assert SECRET not in captured.out + captured.err
    assert SECRET not in run_config


def test_a_ledger_that_cannot_be_written_fails_the_asset_clearly(data_dir, instance, monkeypatch):
    write_day(data_dir, DAY)
    (data_dir / "slack").write_text("not a folder")  # so slack/posted/ cannot be created
    with FakeSlack() as slack:
        result = materialize_day(data_dir, DAY, instance, slack=webhook(monkeypatch, slack.url))
    assert len(slack.requests) == 1
    message = step_failure_messages(result)["slack_summary"]
    assert f"Slack took the message for {DAY}, but recording it in" in message
    assert SECRET not in message


def test_an_unreadable_ledger_fails_the_asset_before_posting(data_dir, instance, monkeypatch):
    write_day(data_dir, DAY)
    ledger = ledger_path(data_dir, DAY)
    ledger.parent.mkdir(parents=True)
    ledger.write_text("{broken")
    with FakeSlack() as slack:
        result = materialize_day(data_dir, DAY, instance, slack=webhook(monkeypatch, slack.url))
    assert slack.requests == []
    assert f"{DAY}.json is unreadable" in step_failure_messages(result)["slack_summary"]
    assert (reports_dir(data_dir, DAY) / "slack_message.txt").is_file()

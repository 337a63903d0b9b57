"""The real surfaces with a webhook set: `make run`'s `callops run` and `dagster sensor preview`.

Only the newest landed day posts; a failed correction fails the run with a URL-free error;
the alert sensor, loaded by the dagster CLI with the URL from the environment, posts one
alert for that run; and the secret is nowhere in DAGSTER_HOME, the data dir or the output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from callops_dagster.delivery.sensors import ALERT_SENSOR
from callops_dagster_tests.conftest import REPORT_FILES, clean_calls, cli_env, reports_dir, write_day
from callops_dagster_tests.fake_slack import SECRET, FakeSlack, Reply
from callops_dagster_tests.test_slack_delivery import files_containing

DAGSTER = Path(sys.executable).parent / "dagster"
CALLOPS = Path(sys.executable).parent / "callops"
DAYS = ("2025-04-27", "2025-04-28")


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """Two landed days run twice with the webhook set (the second time the newest day is
    corrected and Slack rate-limits far beyond the budget), then one sensor tick."""
    root = tmp_path_factory.mktemp("slack_cli")
    data_dir, home = root / "data", root / "dagster_home"
    for day in DAYS:
        write_day(data_dir, day)
    with FakeSlack() as slack:
        env = cli_env(data_dir, home, SLACK_WEBHOOK_URL=slack.url)
        first = run([str(CALLOPS), "run"], env, root)
        posts_after_first = list(slack.requests)
        write_day(data_dir, DAYS[1], calls=clean_calls(DAYS[1])[:-1])
        slack.default = Reply(429, "rate_limited", {"Retry-After": "3600"})
        second = run([str(CALLOPS), "run"], env, root)
        posts_after_second = list(slack.requests)
        slack.default = Reply()
        preview = run(
            [str(DAGSTER), "sensor", "preview", ALERT_SENSOR, "-m", "callops_dagster.definitions", "--cursor", "0"],
            env, root,
        )
        alerts = slack.requests[len(posts_after_second):]
    return {
        "data_dir": data_dir, "home": home, "first": first, "second": second, "preview": preview,
        "posts": posts_after_first, "retries": posts_after_second[len(posts_after_first):], "alerts": alerts,
    }


def test_make_run_posts_only_the_newest_day_and_its_week(story):
    first = story["first"]
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    # The week of DAYS[0] ends before the newest day: like an older day, it does not post.
    post, week = story["posts"]
    assert post.text.splitlines()[0] == f"Agent Summary for {DAYS[1]}"
    assert post.blocks[0]["type"] == "header"
    assert week.text.splitlines()[0] == f"Agent Summary for the week of {DAYS[1]}"  # a Monday


def test_a_correction_slack_refuses_fails_the_day_with_the_reports_written(story):
    second = story["second"]
    assert second.returncode == 1
    assert f"{DAYS[0]}: ok" in second.stdout  # same content, not the newest: nothing to post
    failed = next(line for line in second.stdout.splitlines() if line.startswith(f"{DAYS[1]}: FAILED"))
    assert f"Slack post of {DAYS[1]} failed: Slack answered HTTP 429 'rate_limited'" in failed
    assert "retry budget of 30 s" in failed
    # Retry-After 3600 s is beyond the budget: no waiting. The day is not tried again; the week
    # it changed is refreshed after it (its corrected message is refused the same way).
    attempt, week = story["retries"]
    assert attempt.text.startswith(f"Agent Summary for {DAYS[1]} (correction)")
    assert week.text.startswith(f"Agent Summary for the week of {DAYS[1]} (correction)")
    assert f"week of {DAYS[1]}: refresh FAILED (agent_weekly_summary)" in second.stdout
    for name in REPORT_FILES:
        assert (reports_dir(story["data_dir"], DAYS[1]) / name).is_file()


def test_the_alert_sensor_posts_one_alert_for_each_failed_run(story):
    preview = story["preview"]
    assert preview.returncode == 0, preview.stdout[-2000:] + preview.stderr[-2000:]
    # The runs that finished: four days, two weeks, the week's refresh; the day's run and the
    # week's refresh failed (Slack refused both posts), one alert each.
    day, week = sorted(story["alerts"], key=lambda a: "week" in a.text)
    assert day.text.startswith(f"callops {DAYS[1]}: run failed")
    assert "• step slack_summary failed: Slack post of 2025-04-28 failed: Slack answered HTTP 429" in day.text
    assert "• step agent_weekly_summary failed: Slack post of weeks/2025-04-28 failed" in week.text


def test_the_secret_is_nowhere(story):
    assert files_containing(story["home"], SECRET) == []
    assert files_containing(story["data_dir"], SECRET) == []
    for done in (story["first"], story["second"], story["preview"]):
        assert SECRET not in done.stdout + done.stderr
    assert any(p.suffix == ".db" for p in story["home"].rglob("*"))
    assert os.path.isdir(story["home"] / "storage")  # compute logs were written (and searched)

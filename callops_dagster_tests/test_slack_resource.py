"""SlackResource.post against a real HTTP server on 127.0.0.1: retries, limits, no URL leaks."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from callops_dagster.delivery.resources import REDACTED, SLACK_SDK_LOGGERS, SlackDeliveryError, SlackResource, redact
from callops_dagster.platform.settings import Settings, SettingsError
from callops_dagster_tests.fake_slack import SECRET, FakeSlack, Reply, closed_port_url

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]


def resource(url: str, **overrides) -> SlackResource:
    return SlackResource(webhook_url=url, **{"backoff_s": 1.0, "max_wait_s": 30.0, **overrides})


class Sleeps(list):
    """Records the waits instead of sleeping them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_posts_text_and_blocks_as_json():
    with FakeSlack() as slack:
        attempts = resource(slack.url).post("hello text", BLOCKS, sleep=Sleeps())
    assert attempts == 1
    [request] = slack.requests
    # links are never unfurled: a link typed into a name gets no preview
    assert request.payload == {"text": "hello text", "blocks": BLOCKS, "unfurl_links": False, "unfurl_media": False}
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.path.endswith(SECRET)


def test_429_waits_what_retry_after_says_then_succeeds():
    sleeps = Sleeps()
    with FakeSlack([Reply(429, "rate_limited", {"Retry-After": "7"})]) as slack:
        attempts = resource(slack.url).post("t", BLOCKS, sleep=sleeps)
    assert attempts == 2
    assert sleeps == [7.0]  # Retry-After, not the 1 s backoff
    assert [r.payload for r in slack.requests] == [{"text": "t", "blocks": BLOCKS, "unfurl_links": False, "unfurl_media": False}] * 2


def test_429_without_retry_after_backs_off():
    sleeps = Sleeps()
    with FakeSlack([Reply(429), Reply(429)]) as slack:
        resource(slack.url).post("t", BLOCKS, sleep=sleeps)
    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize("value", ["nan", "NaN", "soon"])
def test_a_retry_after_that_is_not_a_number_of_seconds_backs_off(value):
    sleeps = Sleeps()
    with FakeSlack([Reply(429, "rate_limited", {"Retry-After": value})]) as slack:
        assert resource(slack.url).post("t", BLOCKS, sleep=sleeps) == 2
    assert sleeps == [1.0]  # the ordinary backoff; nan used to reach time.sleep() and crash


def test_a_caller_can_lower_the_wait_budget():
    sleeps = Sleeps()
    with FakeSlack([Reply(429, "rate_limited", {"Retry-After": "7"})]) as slack:
        with pytest.raises(SlackDeliveryError, match="retry budget of 5 s"):
            resource(slack.url).post("t", BLOCKS, sleep=sleeps, max_wait_s=5.0)
    assert len(slack.requests) == 1 and sleeps == []


def test_retry_after_beyond_the_budget_gives_up_at_once():
    sleeps = Sleeps()
    with FakeSlack([Reply(429, "rate_limited", {"Retry-After": "3600"})]) as slack:
        with pytest.raises(SlackDeliveryError, match="retry budget of 30 s") as raised:
            resource(slack.url).post("t", BLOCKS, sleep=sleeps)
    assert len(slack.requests) == 1 and sleeps == []
    assert "429" in str(raised.value)


def test_persistent_5xx_backs_off_exponentially_then_fails_without_the_url():
    sleeps = Sleeps()
    with FakeSlack(default=Reply(500, "internal_error")) as slack:
        with pytest.raises(SlackDeliveryError) as raised:
            resource(slack.url, max_attempts=4).post("t", BLOCKS, sleep=sleeps)
    assert len(slack.requests) == 4
    assert sleeps == [1.0, 2.0, 4.0]
    message = str(raised.value)
    assert "HTTP 500" in message and "internal_error" in message and "gave up after 4 attempts" in message
    assert SECRET not in message and "127.0.0.1" not in message


def test_total_wait_is_bounded():
    sleeps = Sleeps()
    with FakeSlack(default=Reply(503)) as slack:
        with pytest.raises(SlackDeliveryError, match="retry budget"):
            resource(slack.url, max_attempts=10, max_wait_s=5).post("t", BLOCKS, sleep=sleeps)
    assert sleeps == [1.0, 2.0]  # the next wait (4 s) would pass 5 s in total
    assert sum(sleeps) <= 5


def test_4xx_is_not_retried():
    sleeps = Sleeps()
    with FakeSlack(default=Reply(404, "no_service")) as slack:
        with pytest.raises(SlackDeliveryError, match="HTTP 404 'no_service'; not retried"):
            resource(slack.url).post("t", BLOCKS, sleep=sleeps)
    assert len(slack.requests) == 1 and sleeps == []


def test_unreachable_host_is_retried_then_fails_without_the_url():
    sleeps = Sleeps()
    url = closed_port_url()
    with pytest.raises(SlackDeliveryError) as raised:
        resource(url, max_attempts=3).post("t", BLOCKS, sleep=sleeps)
    message = str(raised.value)
    assert "could not reach Slack" in message and "gave up after 3 attempts" in message
    assert "refused" in message.lower()
    assert sleeps == [1.0, 2.0]
    assert SECRET not in message and url not in message


def test_a_url_that_is_not_http_is_refused_without_echoing_it():
    with pytest.raises(SlackDeliveryError) as raised:
        resource(f"ftp://example.invalid/{SECRET}").post("t", BLOCKS, sleep=Sleeps())
    assert "not an http(s) URL" in str(raised.value)
    assert SECRET not in str(raised.value)


def test_dry_run_without_a_url():
    assert SlackResource().dry_run
    assert SlackResource(webhook_url="  ").dry_run
    assert not SlackResource(webhook_url="https://hooks.slack.com/x").dry_run
    with pytest.raises(SlackDeliveryError, match="dry-run"):
        SlackResource().post("t", BLOCKS)


def test_the_url_is_not_in_the_resource_repr():
    assert SECRET not in repr(resource(f"https://hooks.slack.com/services/{SECRET}"))


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.mark.parametrize("name", SLACK_SDK_LOGGERS)
def test_slack_sdk_loggers_redact_a_known_url(name):
    """slack_sdk logs ``Going to retry the same request: POST <url>``: the URL is redacted."""
    with FakeSlack() as slack:  # a post registers the URL as a secret
        resource(slack.url).post("t", BLOCKS, sleep=Sleeps())
    logger, handler = logging.getLogger(name), Collect()
    logger.addHandler(handler)
    try:
        logger.error("Going to retry the same request: POST %s", slack.url)
    finally:
        logger.removeHandler(handler)
    assert handler.lines == [f"Going to retry the same request: POST {REDACTED}"]


def test_redact_hides_the_url_and_its_path_alone():
    url = f"https://hooks.slack.com/services/T0/B0/{SECRET}"
    assert redact(f"POST {url} failed", url) == f"POST {REDACTED} failed"
    assert SECRET not in redact(f"POST /services/T0/B0/{SECRET} HTTP/1.1", url)
    assert redact("nothing secret", None) == "nothing secret"


# ---------------------------------------------------------------- settings


def test_settings_note_only_whether_the_webhook_is_set():
    url = f"https://hooks.slack.com/services/{SECRET}"
    settings = Settings.from_env({"SLACK_WEBHOOK_URL": url, "CALLOPS_SLACK_POST_BACKFILL": "true"})
    assert settings.slack_webhook_set and settings.slack_post_backfill
    assert SECRET not in repr(settings)
    assert not Settings.from_env({"SLACK_WEBHOOK_URL": "  "}).slack_webhook_set
    assert not Settings.from_env({}).slack_post_backfill
    with pytest.raises(SettingsError, match="CALLOPS_SLACK_POST_BACKFILL='maybe'"):
        Settings.from_env({"CALLOPS_SLACK_POST_BACKFILL": "maybe"})


@pytest.mark.slow  # materialises a whole day
def test_the_code_location_binds_the_webhook_by_env_var_name():
    """definitions.py never holds the URL: with the variable set it binds dg.EnvVar."""
    code = (
        "from callops_dagster.definitions import defs; "
        "r = defs.resources['slack']; print(type(r.webhook_url).__name__, r.webhook_url.env_var_name)"
    )
    env = {"PATH": "/usr/bin:/bin", "SLACK_WEBHOOK_URL": f"https://hooks.slack.com/{SECRET}", "HOME": "/tmp"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[:2] == ["EnvVar", "SLACK_WEBHOOK_URL"]

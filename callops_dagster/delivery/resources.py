"""Slack delivery: a webhook resource over slack_sdk, bounded retries, and no leaked URL.

Without a webhook URL the resource is in dry-run: callers log what they would have sent and
nothing leaves the machine. The URL is a secret: it comes from ``dg.EnvVar`` (so run config
and snapshots hold only the variable's name), it is never logged or put in metadata, error
messages are redacted, and slack_sdk's own logger (which prints the full URL when it
retries) is replaced by a quiet, redacting one; slack_sdk's retries are off because ours are
bounded in total wait.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.error import URLError

import dagster as dg
from pydantic import Field
from slack_sdk.webhook import WebhookClient

from callops_dagster.delivery.blocks import notification_text
from callops_dagster.platform.settings import WEBHOOK_ENV

REDACTED = f"<{WEBHOOK_ENV}>"
# Loggers slack_sdk may write to; each gets the redacting filter (filters do not propagate).
SLACK_SDK_LOGGERS = ("slack_sdk", "slack_sdk.webhook", "slack_sdk.webhook.client", "slack_sdk.http_retry")

_secrets: set[str] = set()


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every known webhook URL (and its path alone) replaced by a placeholder."""
    known = sorted({*_secrets, *(s for s in secrets if s)}, key=len, reverse=True)
    for secret in known:  # whole URLs first, then their paths (a log may print just those)
        text = text.replace(secret, REDACTED)
    for secret in known:
        path = secret.split("://", 1)[-1].partition("/")[2]
        if len(path) > 8:
            text = text.replace("/" + path, "/" + REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites log records that would print a webhook URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactingFilter()
for _name in SLACK_SDK_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)
# The logger handed to WebhookClient: above DEBUG (slack_sdk checks ``logger.level`` before
# formatting the URL and body into debug lines) and redacting what it does print.
SDK_LOGGER = logging.getLogger("callops_dagster.slack_sdk")
SDK_LOGGER.setLevel(logging.WARNING)
SDK_LOGGER.addFilter(_FILTER)


class SlackDeliveryError(Exception):
    """Slack did not take the message; the text never contains the webhook URL."""


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list) else str(value)
    return None


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    """Seconds from a ``Retry-After: <seconds>`` header; None when absent or a date."""
    value = _header(headers, "Retry-After")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    # nan would pass every budget comparison and then crash time.sleep(); inf is over any budget.
    return None if seconds is None or math.isnan(seconds) else max(seconds, 0.0)


def _describe(exc: Exception) -> str:
    reason = exc.reason if isinstance(exc, URLError) else exc
    return f"{type(reason).__name__}: {reason}"


class SlackResource(dg.ConfigurableResource):
    """Posts to a Slack incoming webhook; dry-run when no URL is set.

    Set the URL with the environment variable ``SLACK_WEBHOOK_URL`` (bound with
    ``dg.EnvVar``). 429 (honouring Retry-After) and 5xx answers and connection errors are
    retried with exponential backoff, at most ``max_attempts`` tries and ``max_wait_s``
    seconds of waiting in total.
    """

    webhook_url: str | None = Field(
        default=None, repr=False, description=f"Set from {WEBHOOK_ENV}; unset means dry-run."
    )
    post_backfill: bool = Field(default=False, description="Post days that are not the newest landed day.")
    alert_on_warn: bool = Field(default=False, description="Alert on failed WARN checks too, not only ERROR.")
    max_attempts: int = 4
    backoff_s: float = 1.0
    max_wait_s: float = 30.0
    timeout_s: int = 10

    @property
    def dry_run(self) -> bool:
        return not (self.webhook_url or "").strip()

    def post(
        self,
        text: str,
        blocks: Sequence[Mapping[str, Any]],
        log: Callable[[str], None] = lambda _: None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int | None = None,
        max_wait_s: float | None = None,
    ) -> int:
        """Send ``text`` (the notification text) and ``blocks``; return the attempts used.

        ``text`` is the message as written: it is escaped and cut here, for every message
        (``slack_blocks.notification_text``); ``blocks`` come escaped from ``slack_blocks``.
        Links in the message are not unfurled (a link in a name gets no preview).

        Raises SlackDeliveryError (URL-free) when Slack refuses the message or the retry
        budget runs out. ``max_attempts`` and ``max_wait_s`` lower the configured ones (a
        sensor tick must stay short). Must not be called in dry-run.
        """
        url = (self.webhook_url or "").strip()
        if not url:
            raise SlackDeliveryError(f"{WEBHOOK_ENV} is not set (dry-run): nothing to post to")
        if not url.lower().startswith(("https://", "http://")):
            raise SlackDeliveryError(f"{WEBHOOK_ENV} is not an http(s) URL")
        _secrets.add(url)
        payload_text = notification_text(text)
        client = WebhookClient(url, timeout=self.timeout_s, retry_handlers=[], logger=SDK_LOGGER)
        waited = 0.0
        wait_budget = min(self.max_wait_s, self.max_wait_s if max_wait_s is None else max_wait_s)
        attempts = max(min(self.max_attempts, max_attempts or self.max_attempts), 1)
        for attempt in range(1, attempts + 1):
            wait = self.backoff_s * 2 ** (attempt - 1)
            try:
                response = client.send(
                    text=payload_text, blocks=list(blocks), unfurl_links=False, unfurl_media=False
                )
            except Exception as exc:  # noqa: BLE001 - every transport error is reported, redacted
                problem = f"could not reach Slack ({redact(_describe(exc), url)})"
            else:
                if 200 <= response.status_code < 300:
                    return attempt
                body = redact(str(response.body or "").strip()[:200], url)
                problem = f"Slack answered HTTP {response.status_code} {body!r}"
                if response.status_code == 429:
                    asked = _retry_after(response.headers)
                    wait = wait if asked is None else asked
                elif response.status_code < 500:
                    raise SlackDeliveryError(f"{problem}; not retried (check the webhook and the payload)")
            if attempt == attempts:
                raise SlackDeliveryError(f"{problem}; gave up after {attempt} attempts")
            if waited + wait > wait_budget:
                raise SlackDeliveryError(
                    f"{problem}; gave up after {attempt} attempt(s): waiting {wait:g} s more would "
                    f"pass the retry budget of {wait_budget:g} s"
                )
            log(f"{problem}; retrying in {wait:g} s (attempt {attempt + 1} of {attempts})")
            sleep(wait)
            waited += wait
        raise AssertionError("the last attempt returns or raises")  # pragma: no cover

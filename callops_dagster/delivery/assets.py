"""Posting the day's summary to Slack: only the newest day, once, corrections marked.

Called by ``slack_summary`` after the day's reports are published, so a failed post leaves
the reports written. The rules and the ledger are in ``delivery/ledger.py``; the
per-run overrides are the run tag ``callops/slack_post`` (``backfill`` or ``force``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dagster as dg

from callops_dagster.delivery.resources import SlackDeliveryError, SlackResource
from callops_dagster.platform.partitions import daily_partitions
from callops_dagster.landing.folder import newest_complete_day
from callops_dagster.delivery.blocks import correction_text, summary_blocks
from callops_dagster.delivery.ledger import (
    BACKFILL,
    FORCE,
    POST_MODES,
    LedgerError,
    Post,
    content_hash,
    decide,
    ledger_path,
    now_utc,
    read_posts,
    record_post,
)

POST_TAG = "callops/slack_post"


def _post_mode(context: dg.AssetExecutionContext) -> str | None:
    mode = context.run.tags.get(POST_TAG)
    if mode is not None and mode not in POST_MODES:
        raise dg.Failure(f"run tag {POST_TAG}={mode!r} is not one of: {', '.join(POST_MODES)}")
    return mode


def deliver_summary(
    context: dg.AssetExecutionContext, slack: SlackResource, data_dir: Path, day: str, text: str
) -> dict[str, Any]:
    """Post ``text`` for ``day`` when the rules say so; return the metadata that says what happened."""
    mode = _post_mode(context)
    last_partition = dt.date.fromisoformat(daily_partitions.get_last_partition_key())
    newest_day = newest_complete_day(data_dir, last_partition)
    newest = newest_day.isoformat() if newest_day else None
    ledger = ledger_path(data_dir, day)
    try:
        posts = read_posts(ledger)
    except LedgerError as exc:
        raise dg.Failure(description=str(exc)) from None
    digest = content_hash(text)
    decision = decide(
        day, newest, digest, posts[-1] if posts else None,
        post_backfill=slack.post_backfill or mode == BACKFILL, force=mode == FORCE,
    )
    meta: dict[str, Any] = {"slack_reason": decision.reason, "slack_content_hash": digest[:16]}
    if not decision.post:
        context.log.info(f"Slack: {day} not posted: {decision.reason}")
        return {"slack_delivery": "skipped", **meta}
    message = correction_text(text) if decision.correction else text
    if slack.dry_run:
        context.log.info(
            f"Slack dry-run (SLACK_WEBHOOK_URL not set): would post {day} as {decision.kind} "
            f"({decision.reason}); the message is in reports/{day}/"
        )
        return {"slack_delivery": "dry_run", **meta}
    try:
        attempts = slack.post(message, summary_blocks(message), log=context.log.warning)
    except SlackDeliveryError as exc:
        raise dg.Failure(
            description=(
                f"Slack post of {day} failed: {exc}. The reports are written in reports/{day}/; "
                "re-materialise slack_summary for the day to post again."
            ),
            metadata={"slack_delivery": "failed", **meta},
        ) from None
    try:
        record_post(ledger, Post(day, digest, now_utc(), decision.kind, context.run.run_id))
    except OSError as exc:
        raise dg.Failure(
            description=(
                f"Slack took the message for {day}, but recording it in {ledger} failed ({exc}); "
                "fix the folder's permissions before the next run, which would post it again."
            ),
            metadata={"slack_delivery": decision.kind, **meta},
        ) from None
    context.log.info(f"Slack: posted {day} as {decision.kind} ({decision.reason}) in {attempts} attempt(s)")
    return {"slack_delivery": decision.kind, "slack_attempts": attempts, **meta}

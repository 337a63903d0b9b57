"""The ``slack_summary`` asset: the day's message built and the day's reports published, then
the message posted to Slack: only the newest day, once, corrections marked.

The post comes after the day's reports are published, so a failed post leaves the reports
written. The rules and the ledger are in ``delivery/ledger.py``; the
per-run overrides are the run tag ``callops/slack_post`` (``backfill`` or ``force``).
"""


import datetime as dt
from typing import Any

import dagster as dg
import pandas as pd
from upath import UPath

from callops_dagster.compliance.picture import agent_summary_png, markdown_image
from callops_dagster.compliance.rules import CallingHours, compliance_files, compliance_line, window_days
from callops_dagster.contract.sources import SOURCES, raw_asset_name
from callops_dagster.contract.safe_text import one_line_values
from callops_dagster.ingest.validation import call_id_conflicts, roster_day_of
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
from callops_dagster.delivery.resources import SlackDeliveryError, SlackResource
from callops_dagster.landing.folder import newest_complete_day
from callops_dagster.platform.automation import CODE_VERSION, refresh_on_change
from callops_dagster.platform.metadata import OWNERS
from callops_dagster.platform.partitions import daily_partitions, partition_day
from callops_dagster.platform.resources import CallopsConfig
from callops_dagster.platform.staleness import DATA_VERSION_TAG
from callops_dagster.report.assets import REPORTING
from callops_dagster.report.day import (
    MESSAGE_FILE,
    MESSAGE_SOURCE_COLUMNS,
    data_quality,
    day_message,
    report_files,
    rows_read_of,
)
from callops_dagster.report.message import DataQuality, top_performer
from callops_dagster.report.manifest import files_read, reflects_entries
from callops_dagster.report.publish import publish_reports

POST_TAG = "callops/slack_post"


def _post_mode(context: dg.AssetExecutionContext) -> str | None:
    mode = context.run.tags.get(POST_TAG)
    if mode is not None and mode not in POST_MODES:
        raise dg.Failure(f"run tag {POST_TAG}={mode!r} is not one of: {', '.join(POST_MODES)}")
    return mode


def deliver_summary(
    context: dg.AssetExecutionContext, slack: SlackResource, data_dir: UPath, day: str, text: str,
    through: str | None = None,
) -> dict[str, Any]:
    """Post ``text`` for ``day`` when the rules say so; return the metadata that says what happened.

    ``day`` names the ledger and the reports folder (``weeks/<week start>`` for a week);
    ``through`` is the last day the message covers (default ``day``): it posts when no later
    landed day exists."""
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
        through or day, newest, digest, posts[-1] if posts else None,
        post_backfill=slack.post_backfill or mode == BACKFILL, force=mode == FORCE,
    )
    meta: dict[str, Any] = {"slack_reason": decision.reason, "slack_content_hash": digest[:16]}
    if not decision.post:
        context.log.info(f"Slack: {day} not posted: {decision.reason}")
        return {"slack_delivery": "skipped", **meta}
    message = correction_text(text, posts[-1].text if posts else "") if decision.correction else text
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
        record_post(ledger, Post(day, digest, now_utc(), decision.kind, context.run.run_id, text))
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


RAW_ASSET_OF_FILE = {spec.file_name: dg.AssetKey(raw_asset_name(spec)) for spec in SOURCES}


def _reflects(context: dg.AssetExecutionContext, day: dt.date, roster_day: dt.date) -> dict[str, str]:
    """The landing files the day's reports read and the sha256 each had (its landing asset's
    data version, from the instance), for the manifest's ``reflects``."""
    read = files_read([d.isoformat() for d in window_days(day)], day.isoformat(), roster_day.isoformat())
    versions = {}
    for partition, name in read:
        latest = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=RAW_ASSET_OF_FILE[name], asset_partitions=[partition]),
            limit=1, ascending=False,
        ).records
        versions[(partition, name)] = latest[0].asset_materialization.tags.get(DATA_VERSION_TAG) if latest else None
    return reflects_entries(versions)


def _data_quality(
    day: dt.date, summary: pd.DataFrame, rejected: pd.DataFrame, roster: pd.DataFrame, calls: pd.DataFrame
) -> DataQuality:
    """The day's data-quality figures, from the day's tables (its inputs): rows read, the roster
    day and the call_ids shared by different calls."""
    return data_quality(
        summary,
        rejected,
        day=day,
        rows_read=rows_read_of(summary, rejected, roster, day),
        roster_day=roster_day_of(roster, day),
        call_id_conflicts=int(call_id_conflicts(calls)["call_id"].nunique()),
    )


@dg.asset(
    partitions_def=daily_partitions,
    # With the other reports in the lineage graph's right-hand column.
    group_name=REPORTING,
    kinds={"slack", "csv"},
    owners=OWNERS,
    ins={
        "agent_performance_summary": dg.AssetIn(),
        "rejected_rows": dg.AssetIn(),
        "agent_compliance": dg.AssetIn(),
        "loan_contact_frequency": dg.AssetIn(),
        "agent_roster": dg.AssetIn(),
        "call_logs": dg.AssetIn(),
    },
    code_version=CODE_VERSION,
    automation_condition=refresh_on_change(),
)
def slack_summary(
    context: dg.AssetExecutionContext,
    callops: CallopsConfig,
    slack: SlackResource,
    agent_performance_summary: pd.DataFrame,
    rejected_rows: pd.DataFrame,
    agent_compliance: pd.DataFrame,
    loan_contact_frequency: pd.DataFrame,
    agent_roster: pd.DataFrame,
    call_logs: pd.DataFrame,
) -> dg.MaterializeResult:
    """The day's Slack-style summary; publishes the day's reports together.

    The message: top performer, active agents and average duration, then a data-quality line,
    the compliance line and one line per org. `reports/<date>/` gets `slack_message.txt`,
    `agent_performance_summary.csv`, `rejected_rows.csv`, `agent_compliance.csv`,
    `loan_contact_frequency.csv` and `agent_summary.png`, then `manifest.json` (each file's
    sha256 and size) last: locally in one atomic switch, so a run that stops half-way leaves
    the previous reports whole; on object storage file by file, the manifest telling a
    complete set. Then the message is posted to Slack
    (newest landed day only, once per content; dry-run without SLACK_WEBHOOK_URL).
    The manifest's `reflects` names the landing files read (the window's call logs, the day's
    disposition summary and roster in force) with their sha256.
    """
    day = partition_day(context)
    quality = _data_quality(day, agent_performance_summary, rejected_rows, agent_roster, call_logs)
    hours = CallingHours.parse(callops.calling_hours)
    compliance = compliance_line(
        agent_compliance, int(agent_performance_summary["total_calls"].sum()), loan_contact_frequency,
        hours, callops.max_attempts_7d,
    )
    text = day_message(agent_performance_summary, day, quality, callops.min_calls, compliance)
    best = top_performer(one_line_values(agent_performance_summary, MESSAGE_SOURCE_COLUMNS), callops.min_calls)
    picture = agent_summary_png(agent_performance_summary, agent_compliance, best, day)
    files = {
        **report_files(agent_performance_summary, rejected_rows, text),
        **compliance_files(agent_compliance, loan_contact_frequency, picture),
    }
    reflects = _reflects(context, day, roster_day_of(agent_roster, day))
    path = publish_reports(callops.root / "reports", day.isoformat(), files, reflects=reflects)
    context.log.info(f"Slack summary for {day}:\n{text}")
    delivery = deliver_summary(context, slack, callops.root, day.isoformat(), text)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path / MESSAGE_FILE)),
            "message": dg.MetadataValue.md("\n".join(f"> {line}  " for line in text.splitlines())),
            "rows_rejected": quality.rows_rejected,
            "rows_read": quality.rows_read,
            "agent_summary": dg.MetadataValue.md(markdown_image(picture, f"Agents on {day}")),
            **delivery,
        }
    )

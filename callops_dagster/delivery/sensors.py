"""One Slack alert per finished run of a day: its failing checks, or the step that failed;
and one per newly overdue day, when a freshness check fails.

Open-source Dagster does not alert on asset checks: a failed non-blocking check leaves the
run green, and a failed blocking check fails the run without naming the check. This sensor
reads each finished run's check evaluations and step failures from the instance's event log,
asks ``delivery/alerts.plan_alerts`` what to post, log or skip and why, and posts one short
alert per run through the same ``SlackResource`` (dry-run logs it when no webhook is set).

The cursor is the storage id of the last run-finished event handled. A run has one such
event (RUN_SUCCESS or RUN_FAILURE), so it is alerted once; the cursor moves past a run only
after its alert went out, so an alert Slack refused is retried on the next tick, never sent
twice. On its first tick the sensor starts from "now": runs that finished before it was
first turned on are not alerted.

Freshness checks are evaluated by their own sensor in unpartitioned runs, and again whenever
the asset is materialised or someone executes the check, so the same overdue day can fail many
runs. A failed freshness check alerts (whatever its severity) once per overdue day: the cursor
also records, per freshness check, the last overdue day alerted, moved in the same tick result
as the run cursor (so a refused alert is retried and a sent one is not repeated).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import dagster as dg

from callops_dagster.delivery.alerts import (
    DRY_RUN,
    POST,
    AlertCursor,
    FinishedRun,
    PlannedAlert,
    over_budget_summary,
    plan_alerts,
    tick_summary,
    within_budget,
)
from callops_dagster.delivery.resources import SlackDeliveryError, SlackResource, redact
from callops_dagster.delivery.blocks import (
    FailedCheck,
    FailedStep,
    OverdueDay,
    RunOutcome,
    alert_blocks,
    numeric_counts,
    overdue_day,
)

ALERT_SENSOR = "callops_run_alerts"
PARTITION_TAG = "dagster/partition"
RUNS_PER_TICK = 25
# A tick must finish well inside Dagster's 60 s sensor timeout, or its cursor is lost and
# alerts already sent go out again: each alert gets 2 tries and at most 5 s of Retry-After,
# and no alert starts once the worst case of one more would pass the tick's budget (the rest
# go on the next tick). A refused alert is retried next tick.
ATTEMPTS_PER_TICK = 2
ALERT_WAIT_S = 5.0
TICK_BUDGET_S = 40.0
FINISHED = (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE)


def _failed_checks(instance: dg.DagsterInstance, run_id: str) -> tuple[list[FailedCheck], list[OverdueDay]]:
    """The run's failed checks, with failed freshness checks apart as the days they find overdue."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    failed, overdue = [], []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        values = {key: value.value for key, value in (evaluation.metadata or {}).items()}
        late = overdue_day(evaluation.asset_key.to_user_string(), evaluation.check_name, values)
        if late is not None:
            overdue.append(late)
            continue
        failed.append(
            FailedCheck(
                asset=evaluation.asset_key.to_user_string(),
                check=evaluation.check_name,
                severity=evaluation.severity.value,
                counts=numeric_counts(values),
            )
        )
    return failed, overdue


def _failed_steps(instance: dg.DagsterInstance, run_id: str) -> list[FailedStep]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    steps = []
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.step_failure_data
        described = data.user_failure_data.description if data.user_failure_data else None
        message = described or (data.error.message if data.error else "") or "no error message"
        steps.append(FailedStep(event.step_key or "?", message))
    return steps


def run_outcome(instance: dg.DagsterInstance, record: dg.EventLogRecord) -> RunOutcome | None:
    """What the alert says about the run that ``record`` (its finished event) ends; None
    for a run without a partition (not a day of callops) that found no overdue day."""
    run = instance.get_run_by_id(record.run_id)
    if run is None:
        return None
    failed_checks, overdue = _failed_checks(instance, run.run_id)
    if PARTITION_TAG not in run.tags and not overdue:
        return None
    succeeded = record.event_log_entry.dagster_event.event_type == dg.DagsterEventType.RUN_SUCCESS
    steps = [] if succeeded else _failed_steps(instance, run.run_id)
    if not succeeded and not steps:  # failed outside any step (run worker, config, ...)
        steps = [FailedStep("run", record.event_log_entry.message or "")]
    return RunOutcome(
        day=run.tags.get(PARTITION_TAG),
        run_id=run.run_id,
        job=run.job_name,
        succeeded=succeeded,
        failed_checks=failed_checks,
        failed_steps=steps,
        overdue=overdue,
    )


def finished_runs(instance: dg.DagsterInstance, after: int, limit: int = RUNS_PER_TICK) -> list[dg.EventLogRecord]:
    """Run-finished events after storage id ``after``, oldest first."""
    found: Iterable[dg.EventLogRecord] = (
        record
        for event_type in FINISHED
        for record in instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(event_type=event_type, after_storage_id=after),
            limit=limit,
            ascending=True,
        ).records
    )
    return sorted(found, key=lambda r: r.storage_id)[:limit]


@dg.sensor(
    name=ALERT_SENSOR,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "One Slack alert per finished run of a day with a failed ERROR check or a failed step, "
        "and one per newly overdue day found by a freshness check "
        "(dry-run logs it when SLACK_WEBHOOK_URL is not set). On by default: an alert that has "
        "to be switched on is an alert nobody gets."
    ),
)
def run_alerts(context: dg.SensorEvaluationContext, slack: SlackResource) -> dg.SensorResult:
    """Alerts for the runs that finished since the last tick."""
    instance = context.instance
    cursor = None
    if context.cursor is not None:
        try:
            cursor = AlertCursor.parse(context.cursor)
        except ValueError as exc:  # set by hand in the UI: start again from now rather than fail every tick
            context.log.error(f"{exc}: starting again from now, as on a first tick")
    if cursor is None:
        latest = (instance.fetch_run_status_changes(t, limit=1, ascending=False).records for t in FINISHED)
        start = max((r.storage_id for records in latest for r in records), default=0)
        return dg.SensorResult(
            cursor=AlertCursor(start).dump(), skip_reason="first tick: alerting on runs that finish from now on"
        )
    started = time.monotonic()
    runs = [
        FinishedRun(record.storage_id, record.run_id, run_outcome(instance, record))
        for record in finished_runs(instance, cursor.after)
    ]
    plan = plan_alerts(
        runs,
        cursor,
        include_warn=slack.alert_on_warn,
        dry_run=slack.dry_run,
        redact=lambda text: redact(text, slack.webhook_url),
    )
    return _act_on_plan(plan, cursor, context, slack, started)


def _act_on_plan(
    plan: list[PlannedAlert],
    cursor: AlertCursor,
    context: dg.SensorEvaluationContext,
    slack: SlackResource,
    started: float,
) -> dg.SensorResult:
    """Post or log each planned alert in turn; stop (the cursor before the step) at the tick's
    time budget or when Slack refuses, so the rest are sent on the next tick."""
    alerted = 0
    worst_post_s = ATTEMPTS_PER_TICK * slack.timeout_s + ALERT_WAIT_S
    for step in plan:
        if step.action == DRY_RUN:
            context.log.info(f"Slack dry-run (SLACK_WEBHOOK_URL not set): alert not sent:\n{step.text}")
        elif step.action == POST:
            if not within_budget(alerted, time.monotonic() - started, worst_post_s, TICK_BUDGET_S):
                return dg.SensorResult(cursor=cursor.dump(), skip_reason=over_budget_summary(alerted))
            try:
                slack.post(
                    step.text, alert_blocks(step.text), log=context.log.warning,
                    max_attempts=ATTEMPTS_PER_TICK, max_wait_s=ALERT_WAIT_S,
                )
            except SlackDeliveryError as exc:
                reason = f"alert for run {step.run_id[:8]} not delivered, retried next tick: {exc}"
                context.log.error(reason)
                return dg.SensorResult(cursor=cursor.dump(), skip_reason=reason)
        alerted += step.alerts
        cursor = step.cursor
    return dg.SensorResult(cursor=cursor.dump(), skip_reason=tick_summary(alerted, slack.dry_run))

"""What the run-alert sensor does with the runs that finished since its last tick: a plan.

Plain Python, no dagster: the sensor (``delivery/sensors.py``) reads each finished run's
outcome from the event log, asks ``plan_alerts`` what to do about each, and only acts on the
answer: posts an alert, logs it (dry-run) or skips the run, and moves its cursor to the step's
cursor once the step is done. ``within_budget`` says whether one more post may start in the
tick's time, ``tick_summary`` what the tick says when it ends.

Why alerts are deduplicated the way they are (the cursor, overdue days alerted once) is in the
sensor's module docstring.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from callops_dagster.delivery.blocks import RunOutcome, alert_text

POST = "post"
DRY_RUN = "dry-run"
SKIP = "skip"


@dataclass(frozen=True)
class AlertCursor:
    """The sensor's cursor: the storage id of the last run-finished event handled, and per
    freshness check (``asset:check``) the last overdue day alerted."""

    after: int
    overdue_alerted: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: str) -> AlertCursor:
        """A cursor as written by ``dump``; a bare number (the first format) is ``after``.
        Anything else is a ValueError."""
        if raw.strip().lstrip("-").isdigit():
            return cls(int(raw))
        try:
            data = json.loads(raw)
            return cls(int(data["after"]), {str(k): str(v) for k, v in data.get("overdue_alerted", {}).items()})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"unreadable cursor {raw[:80]!r}") from exc

    def dump(self) -> str:
        return json.dumps({"after": self.after, "overdue_alerted": self.overdue_alerted}, sort_keys=True)


@dataclass(frozen=True)
class FinishedRun:
    """A run-finished event: its storage id, its run, and what the alert would say about the
    run (None: not a run of a day, and no overdue day found)."""

    storage_id: int
    run_id: str
    outcome: RunOutcome | None


@dataclass(frozen=True)
class PlannedAlert:
    """What to do about one finished run, and why; ``cursor`` is the sensor's cursor once it
    is done (past the run, with the overdue days it alerts recorded)."""

    run_id: str
    action: str  # post | dry-run | skip
    reason: str
    cursor: AlertCursor
    text: str | None = None  # the alert, redacted; None when skipped

    @property
    def alerts(self) -> bool:
        """An alert goes out (posted, or logged in dry-run)."""
        return self.action != SKIP


def _step(run: FinishedRun, cursor: AlertCursor, include_warn: bool, dry_run: bool) -> PlannedAlert:
    """What to do about ``run`` after ``cursor``: its alert, without overdue days already alerted."""
    if run.outcome is None:
        reason = "not a run of a day, and no overdue day"
        return PlannedAlert(run.run_id, SKIP, reason, replace(cursor, after=run.storage_id))
    new = [o for o in run.outcome.overdue if cursor.overdue_alerted.get(o.key) != o.day]
    outcome = replace(run.outcome, overdue=new)
    after = AlertCursor(run.storage_id, {**cursor.overdue_alerted, **{o.key: o.day for o in new}})
    text = alert_text(outcome, include_warn=include_warn)
    if text is None:
        dropped = len(run.outcome.overdue) - len(new)
        reason = (
            f"nothing to alert: {dropped} overdue day(s) already alerted"
            if dropped
            else "nothing to alert: no failed ERROR check (or WARN, when asked) or step, no overdue day"
        )
        return PlannedAlert(run.run_id, SKIP, reason, after)
    if dry_run:
        return PlannedAlert(run.run_id, DRY_RUN, "dry-run: logged, not sent", after, text)
    return PlannedAlert(run.run_id, POST, "alert", after, text)


def plan_alerts(
    runs: Sequence[FinishedRun],
    cursor: AlertCursor,
    *,
    include_warn: bool = False,
    dry_run: bool = False,
    redact: Callable[[str], str] = lambda text: text,
) -> list[PlannedAlert]:
    """One step per finished run, oldest first: post its alert, log it (``dry_run``), or skip it.

    An overdue day already alerted (in ``cursor``, or by an earlier run of ``runs``) is left out
    of the alert; a run left with nothing to say is skipped. ``redact`` hides secrets (the
    webhook URL) in the text. Each step's cursor moves past its run and records the overdue days
    its alert names.
    """
    plan = []
    for run in runs:
        step = _step(run, cursor, include_warn, dry_run)
        plan.append(replace(step, text=redact(step.text)) if step.text else step)
        cursor = step.cursor
    return plan


def within_budget(posted: int, elapsed_s: float, worst_post_s: float, budget_s: float) -> bool:
    """Whether one more post may start: the first always; later ones only when the worst case
    of one more (its tries and waits) still ends inside the tick's time budget."""
    return posted == 0 or elapsed_s + worst_post_s <= budget_s


def over_budget_summary(posted: int) -> str:
    return f"{posted} alert(s) sent; the rest on the next tick (tick time budget)"


def tick_summary(alerted: int, dry_run: bool) -> str:
    """What a finished tick says: how many alerts went out, or that there was nothing."""
    if not alerted:
        return "no finished run with a failed ERROR check or step, or a newly overdue day"
    return f"{alerted} alert(s) {'logged (dry-run)' if dry_run else 'sent'}"

"""Slack payloads built from plain values: the day's summary as Block Kit, and run alerts.

Pure functions (no dagster, no network): the message text stays the one source of truth and
the blocks are derived from its lines, so the file, the notification text and the blocks
always say the same thing. Every payload text goes through ``safe_text.slack_text`` (escape
``&``, ``<``, ``>`` once; no direction overrides or control characters; cut within Slack's
limits), so source text can never ping a channel or plant a link.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callops_dagster.contract.safe_text import slack_lines, slack_text

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks), and the message
# `text` limit (https://docs.slack.dev/reference/methods/chat.postMessage).
HEADER_MAX = 150
TEXT_MAX = 3000
FIELD_MAX = 2000
MESSAGE_TEXT_MAX = 40_000
# A line cut for its place keeps its last characters too: "(69% connect rate)" after a name.
TAIL = 60
CORRECTION = "(correction)"
ALERT_LINES_MAX = 8


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_text(text: str, limit: int) -> dict[str, str]:
    """A plain_text object of source text: Slack shows it as written (no bold, code, links or
    mentions), escaped and cut as ``safe_text.slack_text`` says."""
    return {"type": "plain_text", "text": slack_text(text, limit, TAIL)}


def notification_text(text: str) -> str:
    """A message's ``text`` field (what notifications show): every line escaped, cleaned and
    cut as ``slack_lines`` says, within Slack's 40,000 characters (a final newline kept)."""
    end = "\n" if text.endswith("\n") else ""
    return slack_lines(text, FIELD_MAX, MESSAGE_TEXT_MAX - len(end), TAIL) + end


def correction_text(text: str, previous: str = "") -> str:
    """The message with its first line marked ``(correction)``; when the previously posted text
    is known, a last line names the lines that changed, old → new (no ">" for Slack to escape)."""
    first, newline, rest = text.partition("\n")
    marked = f"{first} {CORRECTION}{newline}{rest}"
    changes = changed_lines(previous, text) if previous else []
    if not changes:
        return marked
    listed = "; ".join(f"{old} → {new}" for old, new in changes)
    return f"{marked.rstrip(chr(10))}\nChanged since the first post: {listed}"


def changed_lines(old: str, new: str) -> list[tuple[str, str]]:
    """Lines that differ at the same position (a line that appears or disappears: against '')."""
    a, b = old.splitlines(), new.splitlines()
    width = max(len(a), len(b))
    a, b = a + [""] * (width - len(a)), b + [""] * (width - len(b))
    return [(x, y) for x, y in zip(a, b) if x != y]


COMPLIANCE_PREFIX = "Compliance: "


def summary_blocks(text: str) -> list[dict[str, Any]]:
    """Block Kit for the day's message: a header (line 1), a label and a value per figure
    (lines 2-4, ``Label: value``), a context with the data quality (line 5) and the
    ``Compliance:`` line (line 6, when present), then the per-org lines. Every text that can hold source text is plain_text (mrkdwn only for our
    own bold labels), so a name like ``*bold*`` or `` `code` `` is shown as written."""
    lines = text.splitlines()
    if not lines:
        return []
    blocks: list[dict[str, Any]] = [{"type": "header", "text": plain_text(lines[0], HEADER_MAX)}]
    fields = []
    for line in lines[1:4]:
        label, _, value = line.partition(": ")
        fields.append({"type": "mrkdwn", "text": f"*{slack_text(label, FIELD_MAX - 2)}*"})
        fields.append(plain_text(value, FIELD_MAX))
    if fields:
        blocks.append({"type": "section", "fields": fields})
    # The data-quality line and, when there is one, the Compliance: line are the context.
    notes = lines[4:5] + [line for line in lines[5:6] if line.startswith(COMPLIANCE_PREFIX)]
    if notes:
        blocks.append({"type": "context", "elements": [plain_text(line, FIELD_MAX) for line in notes]})
    if len(lines) > 4 + len(notes):
        orgs = slack_lines("\n".join(lines[4 + len(notes):]), FIELD_MAX, TEXT_MAX, TAIL)
        blocks.append({"type": "section", "text": {"type": "plain_text", "text": orgs}})
    return blocks


# ---------------------------------------------------------------- alerts


@dataclass(frozen=True)
class FailedCheck:
    asset: str
    check: str
    severity: str  # "ERROR" or "WARN"
    counts: Mapping[str, float | int] = field(default_factory=dict)


@dataclass(frozen=True)
class FailedStep:
    step: str
    message: str


@dataclass(frozen=True)
class OverdueDay:
    """A failed freshness check: the day whose data was not materialised by its deadline."""

    asset: str
    check: str
    day: str
    deadline: str  # "2025-04-29 06:00 Asia/Kolkata"
    never_materialized: bool = False

    @property
    def key(self) -> str:
        """The check this is about, as ``asset:check`` (what an alert is recorded under)."""
        return f"{self.asset}:{self.check}"


@dataclass(frozen=True)
class RunOutcome:
    """What an alert needs to know about one finished run: of a day (``day`` is its
    partition), or an unpartitioned run that evaluated freshness checks (``day`` is None)."""

    day: str | None
    run_id: str
    job: str
    succeeded: bool
    failed_checks: Sequence[FailedCheck] = ()
    failed_steps: Sequence[FailedStep] = ()
    overdue: Sequence[OverdueDay] = ()


# Metadata of Dagster's time-partition freshness checks (``build_time_partition_freshness_checks``).
FRESHNESS_TICK = "dagster/latest_cron_tick_timestamp"
FRESHNESS_PARAMS = "dagster/freshness_params"
FRESHNESS_LAST_UPDATED = "dagster/last_updated_timestamp"


def overdue_day(asset: str, check: str, metadata: Mapping[str, Any]) -> OverdueDay | None:
    """The overdue day named by a failed time-partition freshness check's metadata, or None
    when the metadata is not such a check's.

    The metadata has the deadline's cron tick (a POSIX timestamp) and the check's timezone;
    for daily partitions the day expected at that tick is the one that ended before it: the
    tick's local date minus one (a deadline at 06:00 on the 29th expects the 28th; one at
    00:00 on the 29th, too).
    """
    tick, params = metadata.get(FRESHNESS_TICK), metadata.get(FRESHNESS_PARAMS)
    if isinstance(tick, bool) or not isinstance(tick, (int, float)) or not isinstance(params, Mapping):
        return None
    try:
        zone = ZoneInfo(str(params.get("timezone")))
    except (ZoneInfoNotFoundError, ValueError):
        return None
    local = dt.datetime.fromtimestamp(tick, zone)
    return OverdueDay(
        asset=asset,
        check=check,
        day=(local.date() - dt.timedelta(days=1)).isoformat(),
        deadline=f"{local:%Y-%m-%d %H:%M} {zone.key}",
        never_materialized=FRESHNESS_LAST_UPDATED not in metadata,
    )


def overdue_lines(overdue: OverdueDay) -> list[str]:
    """What an alert says about an overdue day, and what to do about it."""
    never = " (it has never been materialised for any day)" if overdue.never_materialized else ""
    return [
        f"• {overdue.asset} › {overdue.check}: {overdue.day} not materialised by its deadline "
        f"{overdue.deadline}{never}",
        f"  to do: land the files of {overdue.day} in landing/{overdue.day}/ (call_logs.csv, "
        "disposition_summary.csv), check that the landing sensor callops_landing_sensor is on "
        "and the daemon running, or re-run the day if its run failed",
    ]


def numeric_counts(metadata: Mapping[str, Any], limit: int = 3) -> dict[str, float | int]:
    """The first ``limit`` numeric metadata values (counts, shares) of a check evaluation."""
    out: dict[str, float | int] = {}
    for key, value in metadata.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = value
        if len(out) == limit:
            break
    return out


def error_summary(text: str, limit: int = 200) -> str:
    """An error message on one short line, without a leading ``module.ClassName:``."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    joined = " ".join(lines[:3])
    joined = re.sub(r"^[\w.]*\.?\w+(Error|Exception|Failure): ", "", joined)
    return _cut(joined, limit) if joined else "no error message"


def alert_text(outcome: RunOutcome, include_warn: bool = False) -> str | None:
    """One short alert for a finished run, or None when there is nothing to say.

    A failed run of a day always alerts (with its failed checks and steps). A successful run
    alerts when a check failed with ERROR severity (or WARN, when ``include_warn``), or
    when it names an overdue day. A run that is not a day's run alerts only for overdue days.
    """
    checks = [c for c in outcome.failed_checks if include_warn or c.severity == "ERROR"]
    if outcome.day is None and not outcome.overdue:
        return None
    if outcome.succeeded and not checks and not outcome.overdue:
        return None
    what = "run failed" if not outcome.succeeded else "checks failed" if checks else "day overdue"
    label = outcome.day or ", ".join(dict.fromkeys(o.day for o in outcome.overdue))
    lines = [f"callops {label}: {what} (run {outcome.run_id[:8]}, job {outcome.job})"]
    for overdue in outcome.overdue:
        lines.extend(overdue_lines(overdue))
    for check in checks:
        counts = ", ".join(f"{k}={v}" for k, v in check.counts.items())
        lines.append(f"• {check.asset} › {check.check} {check.severity}" + (f": {counts}" if counts else ""))
    for step in outcome.failed_steps:
        lines.append(f"• step {step.step} failed: {error_summary(step.message)}")
    if len(lines) > ALERT_LINES_MAX + 1:
        hidden = len(lines) - 1 - ALERT_LINES_MAX
        lines = [*lines[: ALERT_LINES_MAX + 1], f"… and {hidden} more (see the run in the Dagster UI)"]
    return "\n".join(lines) + "\n"


def alert_blocks(text: str) -> list[dict[str, Any]]:
    """An alert: its first line (ours) in bold, the rest (which may quote source text, in
    an error message) as plain_text."""
    first, _, rest = text.strip().partition("\n")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{slack_text(first, TEXT_MAX - 2, TAIL)}*"}}
    ]
    if rest:
        body = slack_lines(rest, FIELD_MAX, TEXT_MAX, TAIL)
        blocks.append({"type": "section", "text": {"type": "plain_text", "text": body}})
    return blocks

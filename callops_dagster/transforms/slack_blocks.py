"""Slack payloads built from plain values: the day's summary as Block Kit, and run alerts.

Pure functions (no dagster, no network): the message text stays the one source of truth and
the blocks are derived from its lines, so the file, the notification text and the blocks
always say the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
HEADER_MAX = 150
TEXT_MAX = 3000
FIELD_MAX = 2000
CORRECTION = "(correction)"
ALERT_LINES_MAX = 8


def mrkdwn_escape(text: str) -> str:
    """Slack's three control characters; anything else is shown as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn(text: str, limit: int = TEXT_MAX) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _cut(mrkdwn_escape(text), limit)}


def correction_text(text: str) -> str:
    """The message with its first line marked ``(correction)``."""
    first, newline, rest = text.partition("\n")
    return f"{first} {CORRECTION}{newline}{rest}"


def summary_blocks(text: str) -> list[dict[str, Any]]:
    """Block Kit for the day's message: a header (line 1), one field per figure (lines 2-4,
    ``Label: value``), a context line with the data quality (line 5) and the per-org lines."""
    lines = text.splitlines()
    if not lines:
        return []
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(lines[0], HEADER_MAX)}}
    ]
    fields = []
    for line in lines[1:4]:
        label, _, value = line.partition(": ")
        fields.append({"type": "mrkdwn", "text": _cut(f"*{mrkdwn_escape(label)}*\n{mrkdwn_escape(value)}", FIELD_MAX)})
    if fields:
        blocks.append({"type": "section", "fields": fields})
    if len(lines) > 4:
        blocks.append({"type": "context", "elements": [_mrkdwn(lines[4], FIELD_MAX)]})
    if len(lines) > 5:
        blocks.append({"type": "section", "text": _mrkdwn("\n".join(lines[5:]))})
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
class RunOutcome:
    """What an alert needs to know about one finished run of a day."""

    day: str
    run_id: str
    job: str
    succeeded: bool
    failed_checks: Sequence[FailedCheck] = ()
    failed_steps: Sequence[FailedStep] = ()


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

    A failed run always alerts (with its failed checks and steps). A successful run alerts
    when a check failed with ERROR severity (or WARN, when ``include_warn``).
    """
    checks = [c for c in outcome.failed_checks if include_warn or c.severity == "ERROR"]
    if outcome.succeeded and not checks:
        return None
    what = "run failed" if not outcome.succeeded else "checks failed"
    lines = [f"callops {outcome.day}: {what} (run {outcome.run_id[:8]}, job {outcome.job})"]
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
    """An alert as one mrkdwn section (the first line in bold)."""
    first, _, rest = text.strip().partition("\n")
    body = f"*{mrkdwn_escape(first)}*" + (f"\n{mrkdwn_escape(rest)}" if rest else "")
    return [{"type": "section", "text": {"type": "mrkdwn", "text": _cut(body, TEXT_MAX)}}]

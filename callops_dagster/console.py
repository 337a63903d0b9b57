"""What the ``callops`` command prints, from plain values (no dagster): check lines, the
status table and the progress line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callops_dagster.delivery.blocks import numeric_counts

# Text metadata a check may carry its reason under, in order of preference.
REASON_KEYS = ("reason", "summary", "note")
REPORT_MEANINGS = {
    "agent_performance_summary.csv": "one row per agent and day: calls, loans, connect rate, duration, presence",
    "slack_message.txt": "the day's Slack message (below)",
    "rejected_rows.csv": "every row not used, with its file, row number and reason",
    "agent_compliance.csv": "per agent and day: calls outside the calling hours, before the login, first and last call",
    "loan_contact_frequency.csv": "per loan called that day: attempts in the seven days ending that day, over_limit",
    "agent_summary.png": "each agent's connect rate against calls made (outside hours in red)",
    "manifest.json": "written last: each file above with its sha256 and size (`callops status` checks the set)",
}


@dataclass(frozen=True)
class CheckLine:
    """A check that warned (WARN) or failed (ERROR) on a day, and why, in one line."""

    asset: str
    check: str
    severity: str
    reason: str

    def text(self) -> str:
        return f"{self.check}: {self.reason} ({self.severity}, {self.asset})"

    def key(self) -> str:
        """``raw_call_logs:duplicate_keys``: the asset and the check, as Dagster writes a check key."""
        return f"{self.asset}:{self.check}"


def check_reason(description: str | None, metadata: Mapping[str, Any]) -> str:
    """A failed check's one-line reason: its evaluation's description, else a text reason in its
    metadata, else its first numeric metadata values."""
    texts = [description] + [metadata.get(key) for key in REASON_KEYS]
    for text in texts:
        if isinstance(text, str) and text.strip() and text.strip() != "none":
            return " ".join(text.split())
    counts = numeric_counts(metadata)
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "failed (no details recorded)"


@dataclass(frozen=True)
class DayStatus:
    """What the instance knows about one landed day."""

    day: str
    files: Sequence[str]
    materialised_at: str | None = None  # local time of the summary's latest materialisation
    last_run: str | None = None  # "success" / "failure" / ... of the day's latest run
    checks: Sequence[CheckLine] = field(default_factory=tuple)
    compliance: str | None = None  # the day's compliance figures, as its run recorded them
    reports: str | None = None  # "complete" when the day's report manifest verifies; None: no reports
    # inputs changed since it ran: "pending: ... (2025-04-22 changed)", "done in run ...", "up to
    # date" (platform/staleness.py); None: never materialised
    refresh: str | None = None


@dataclass(frozen=True)
class WeekStatus:
    """What the instance knows about one materialised week."""

    week: str
    materialised_at: str
    refresh: str
    last_run: str | None = None  # its latest callops_weekly run: ``success (1a2b3c4d)``


def compliance_text(agent_figures: Mapping[str, Any], loan_figures: Mapping[str, Any]) -> str | None:
    """``283 outside hours, 176 before login, 0 loans over limit`` from the compliance assets'
    metadata; None when the day has none recorded."""
    if not agent_figures and not loan_figures:
        return None
    parts = [
        f"{agent_figures.get('calls_outside_hours', '?')} outside hours",
        f"{agent_figures.get('calls_before_login', '?')} before login",
        f"{loan_figures.get('loans_over_limit', '?')} loans over limit",
    ]
    return ", ".join(parts)


def status_table(rows: Sequence[DayStatus]) -> str:
    """One line per landed day: files, materialised or not (and when, and whether its report set
    is complete), its latest ``callops_daily`` run, whether an input changed since (refresh
    pending or done), and that run's checks that did not pass, each as ``asset:check (severity)``."""
    header = ("day", "landed files", "materialised", "last run", "inputs changed", "compliance",
              "checks that warned or failed")
    lines = [
        (
            r.day,
            " ".join(name.removesuffix(".csv") for name in r.files) or "-",
            (r.materialised_at or "no") + (f" (reports {r.reports})" if r.reports else ""),
            r.last_run or "never run",
            r.refresh or "-",
            r.compliance or "-",
            "; ".join(f"{c.key()} ({c.severity})" for c in r.checks) or "-",
        )
        for r in rows
    ]
    return _table(header, lines)


def weeks_table(rows: Sequence[WeekStatus]) -> str:
    """One line per materialised week: when, its latest ``callops_weekly`` run, and whether an
    input changed since."""
    return _table(
        ("week", "materialised", "last callops_weekly run", "inputs changed"),
        [(r.week, r.materialised_at, r.last_run or "-", r.refresh) for r in rows],
    )


def _table(header: Sequence[str], lines: Sequence[Sequence[object]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines)]
    return "\n".join(
        "  ".join(str(cell).ljust(w) for cell, w in zip(line, widths)).rstrip() for line in (header, *lines)
    )


def progress_line(done: int, total: int, day: str, elapsed_s: float, width: int = 20) -> str:
    """``[#####     ] 3/7 days  running 2025-04-24  0:42 elapsed``."""
    filled = round(width * done / total) if total else width
    minutes, seconds = divmod(int(elapsed_s), 60)
    return f"[{'#' * filled}{' ' * (width - filled)}] {done}/{total} days  running {day}  {minutes}:{seconds:02d} elapsed"

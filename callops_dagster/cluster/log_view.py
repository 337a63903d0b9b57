"""What ``callops status --logs DAY`` prints: where a run's raw stdout and stderr are and their
last lines (pure: ``run_logs`` reads them from the instance)."""

from __future__ import annotations

from dataclasses import dataclass

STREAMS = ("stdout", "stderr")


@dataclass(frozen=True)
class CapturedStream:
    name: str  # stdout | stderr
    location: str | None  # None while the run goes on (object storage holds the part so far)
    text: str


@dataclass(frozen=True)
class RunLogs:
    day: str
    run_id: str
    job: str
    status: str
    streams: tuple[CapturedStream, ...]  # empty: the run never reached its steps (queued, lost at start)


def last_lines(text: str, count: int) -> list[str]:
    """The last ``count`` lines of ``text`` (none for ``count`` 0), without the line ends."""
    lines = text.splitlines()
    return lines[-count:] if count > 0 else []


def render(logs: RunLogs, count: int) -> str:
    """The run, then each stream: where it is, how many lines, and its last ``count`` lines."""
    out = [f"Last run of {logs.day}: {logs.run_id} ({logs.job}, {logs.status.lower()})"]
    if not logs.streams:
        out.append("  no stdout/stderr captured for it: it did not get as far as its steps")
    for stream in logs.streams:
        where = stream.location or "not complete yet: the part uploaded so far"
        lines = stream.text.splitlines()
        shown = last_lines(stream.text, count)
        tail = f", the last {len(shown)}:" if shown and len(shown) < len(lines) else (":" if shown else "")
        out.append(f"{stream.name}: {where} ({len(lines)} lines){tail}")
        out.extend(f"  {line}" for line in shown)
    return "\n".join(out)

"""Which lost runs to run again: the decision behind the relaunch sensor (``sensors.py``).

Plain Python, no dagster: the sensor gathers, for each run that failed because its worker was
lost (``health.LOST_WORKER`` in its RUN_FAILURE message), what the instance says about it, as a
``LostRun``; ``decide`` says whether to request a new run of its day now (RELAUNCH), to look
again on a later tick (WAIT), or to leave it for good (LEAVE), and why.

Why a sensor is needed at all: Dagster's run retries retry a lost run, but the retry daemon
does not retry a run whose backfill has already ended, and a job backfill ends as soon as none
of its runs is unfinished, without waiting for retries. The retry daemon decides once, when it
processes the failure: backfill not ended then, it creates the retry (a run whose
``dagster/parent_run_id`` is the lost run); ended, it logs "Not retrying run since it is part
of a backfill that is in a terminal state" on the lost run and never comes back to it. So:

- a later run of the same job and day (the retry, a run launched by hand, the landing sensor's)
  settles it: the day is somebody else's now (LEAVE);
- the retry daemon said it will not retry (``retry_refused``): nothing else will run the day,
  relaunch it;
- the backfill has ended but the daemon has not said yet: it may be between reading the
  backfill (still running) and creating the retry, so wait for its word, up to
  ``decision_timeout_s`` after the failure (the daemon looks every 5 s; past the timeout it is
  taken as down, and the day relaunched);
- the backfill still runs: the daemon will retry it (WAIT: if the backfill ends first, the
  case above);
- not part of a backfill: run retries retry it (LEAVE);
- run retries off: relaunch it;
- the backfill was canceled (or failed, or deleted): its days are not wanted, left failed;
- retries spent (``dagster/will_retry`` false), or the run is itself a relaunch (or a retry of
  one): left failed. A day that loses its worker every time (one the OOM killer takes) must not
  be run for ever; one relaunch per lost run, after Dagster's own retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RELAUNCH, WAIT, LEAVE = "relaunch", "wait", "leave"
RELAUNCH_OF_TAG = "callops/relaunch_of"  # on a relaunch: the lost run it runs again
# What the retry daemon logs on a run of an ended (or deleted) backfill it will not retry
# (test_relaunch_sensor.py has Dagster's own function write it, and fails if this no longer matches).
RETRY_REFUSED = "Not retrying run since it is part of a backfill"
# Backfill statuses (BulkActionStatus names): still launching or waiting for its runs, and
# ended by finishing its runs. Any other (canceled, failed, deleted) was stopped: not relaunched.
BACKFILL_RUNNING = frozenset({"REQUESTED"})
BACKFILL_FINISHED = frozenset({"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED"})
DELETED = "DELETED"
DECISION_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class LaterRun:
    """A run of the lost run's job and day, created after it."""

    run_id: str
    status: str  # a DagsterRunStatus name
    retry_of_it: bool  # its dagster/parent_run_id is the lost run (Dagster's retry, or a re-execution)


@dataclass(frozen=True)
class Backfill:
    backfill_id: str
    status: str  # a BulkActionStatus name; DELETED when the backfill is gone


@dataclass(frozen=True)
class LostRun:
    """What the instance says about a run that failed as lost."""

    run_id: str
    job: str
    day: str | None  # its dagster/partition (a weekly run's: its week's first day)
    failed_at: float  # epoch seconds of its RUN_FAILURE event
    later_runs: tuple[LaterRun, ...] = ()
    backfill: Backfill | None = None
    will_retry: str | None = None  # the dagster/will_retry tag run retries set when it failed
    retry_refused: bool = False  # the retry daemon logged that it will not retry it
    relaunch_of: str | None = None  # its callops/relaunch_of tag: itself a relaunch, or a retry of one

    @property
    def run_key(self) -> str:
        """The relaunch's run key: Dagster requests a run key of a sensor once."""
        return f"relaunch:{self.run_id}"


@dataclass(frozen=True)
class Decision:
    run: LostRun
    action: str  # relaunch | wait | leave
    reason: str

    def line(self) -> str:
        return f"{self.run.job} {self.run.day} (lost run {self.run.run_id[:8]}): {self.action}, {self.reason}"


def decide(
    run: LostRun,
    *,
    now: float,
    retries_enabled: bool,
    decision_timeout_s: float = DECISION_TIMEOUT_S,
) -> Decision:
    """Whether to run ``run``'s day again now (module docstring: the cases and why)."""
    age = now - run.failed_at
    if run.day is None:
        return Decision(run, LEAVE, "not a run of a partition")
    if run.later_runs:
        later = next((r for r in run.later_runs if r.retry_of_it), run.later_runs[0])
        how = "retried" if later.retry_of_it else "run again"
        return Decision(run, LEAVE, f"already {how} as {later.run_id[:8]} ({later.status.lower()})")
    if run.relaunch_of is not None:
        return Decision(run, LEAVE, f"itself a relaunch of {run.relaunch_of[:8]}: a lost day is relaunched once")
    backfill = run.backfill and f"its backfill {run.backfill.backfill_id} ({run.backfill.status.lower()})"
    if run.backfill is not None and run.backfill.status not in BACKFILL_RUNNING | BACKFILL_FINISHED:
        return Decision(run, LEAVE, f"{backfill} was stopped: its days are not run again")
    if not retries_enabled:
        return Decision(run, RELAUNCH, "run retries are off")
    if run.will_retry == "false":
        return Decision(run, LEAVE, "Dagster's run retries for it are spent: left failed")
    if run.backfill is None:
        return Decision(run, LEAVE, "not part of a backfill: Dagster's run retries retry it")
    if run.backfill.status in BACKFILL_RUNNING:
        return Decision(run, WAIT, f"{backfill} still runs: Dagster's run retries retry it")
    if run.retry_refused:
        return Decision(run, RELAUNCH, f"{backfill} ended before a retry was made, and Dagster will not retry it")
    if age < decision_timeout_s:
        return Decision(run, WAIT, f"{backfill} has ended; waiting for the retry daemon's word on it")
    return Decision(
        run, RELAUNCH, f"{backfill} has ended and no retry {decision_timeout_s:.0f}s after the failure"
    )


def tick_summary(decisions: Sequence[Decision]) -> str:
    """What a tick that relaunched nothing says."""
    if not decisions:
        return "no run lost its worker in the lookback window"
    waiting = [d for d in decisions if d.action == WAIT]
    left = len(decisions) - len(waiting)
    parts = [f"waiting on {len(waiting)}: " + "; ".join(d.line() for d in waiting[:3])] if waiting else []
    if left:
        parts.append(f"{left} lost run(s) settled")
    return "; ".join(parts)

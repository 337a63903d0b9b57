"""Is the run worker of a started run still alive? The decision behind run monitoring in
cluster mode (``launcher.CallopsCeleryRunLauncher.check_run_worker_health``).

A worker that dies with its machine (or is SIGKILLed) never writes FAILURE for the task it
was running: the shared result backend keeps saying STARTED. So for a run Dagster believes
started, the task's state alone cannot tell a long run from a lost one; the live workers can:
asked over the broker (``inspect().query_task``), each answers whether it holds the task
(running or reserved). Prefork workers answer while a run executes in a pool process. Nobody
holding it for ``grace_s`` seconds (two looks or more, so a worker slow to answer once is not
taken for dead) means the run is lost: FAILED, and Dagster's run retries run the day again.
"""

from __future__ import annotations

from dataclasses import dataclass

# The names of dagster's WorkerStatus members this decision returns.
RUNNING, SUCCESS, FAILED = "RUNNING", "SUCCESS", "FAILED"
# Celery's states that say the task ended, and how.
ENDED = {"SUCCESS": SUCCESS, "FAILURE": FAILED, "REVOKED": FAILED}
# How a lost run's failure reason begins. Run monitoring puts the reason in the run's
# RUN_FAILURE message, where the relaunch sensor (``relaunch.py``) looks for it.
LOST_WORKER = "run worker lost"


@dataclass(frozen=True)
class Verdict:
    status: str  # a dagster WorkerStatus name: RUNNING, SUCCESS or FAILED
    reason: str


def judge(task_state: str, held: bool | None, missing_for_s: float, grace_s: float) -> Verdict:
    """The health of a started run's worker.

    ``task_state``: Celery's state of the run's task in the result backend (PENDING, RECEIVED,
    STARTED, RETRY, SUCCESS, FAILURE, REVOKED); ``held``: whether a live worker said it holds
    the task (None: the workers could not be asked, e.g. the broker is unreachable; no answer
    at all is False: no worker is alive); ``missing_for_s``: for how long no worker has held
    it (0 at the first look that found none); ``grace_s``: how long that may last.
    A doubt (workers unreachable, a task missing for less than the grace) is RUNNING: failing
    a run that is still running would let its retry run the same day twice.
    """
    if task_state in ENDED:
        return Verdict(ENDED[task_state], f"the run's Celery task ended: {task_state}")
    if held is None:
        return Verdict(RUNNING, f"task {task_state}; the workers could not be asked, so it is taken as running")
    if held:
        return Verdict(RUNNING, f"task {task_state}, held by a live worker")
    if missing_for_s < grace_s:
        return Verdict(
            RUNNING, f"task {task_state}, held by no live worker for {missing_for_s:.0f}s (lost after {grace_s:.0f}s)"
        )
    return Verdict(
        FAILED,
        f"{LOST_WORKER}: the run's Celery task is {task_state} but no live worker has held it for "
        f"{missing_for_s:.0f}s (its worker was killed or its machine went down)",
    )

"""The run launcher of cluster mode (``deploy/dagster.yaml``: ``run_launcher``): each run is a
Celery task taken by a long-lived ``callops worker``, and a run whose worker died is noticed.

``CallopsCeleryRunLauncher`` is dagster-celery's ``CeleryRunLauncher`` with two changes:

- broker, result backend and queue come from the settings (``CALLOPS_CELERY_BROKER``,
  ``CALLOPS_CELERY_BACKEND``, ``CALLOPS_CELERY_QUEUE``), the same ones ``callops worker``
  reads, so the daemon, the webserver and the workers cannot disagree;
- ``check_run_worker_health`` (run monitoring asks it about every started run) reads the
  task's state from the shared result backend and, while it says the task is running, asks
  the live workers whether one of them still holds it (``health.judge`` decides). The stock
  version reads only the state: with its default ``rpc://`` backend only the launching process
  can read it (the daemon sees PENDING and fails every run), and a SIGKILLed worker never
  writes FAILURE (a lost run stays STARTED for ever).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_celery.launcher import CeleryRunLauncher
from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG

from callops_dagster.cluster.health import ENDED, FAILED, RUNNING, judge
from callops_dagster.cluster.worker import celery_settings
from callops_dagster.platform.dagster_internals import CheckRunHealthResult, WorkerStatus
from callops_dagster.platform.settings import load_settings

LOST_AFTER_S = 10
INSPECT_TIMEOUT_S = 1.0


class CallopsCeleryRunLauncher(CeleryRunLauncher):
    """Runs as Celery tasks on ``callops worker``s; lost workers detected (module docstring)."""

    def __init__(
        self,
        lost_after_seconds: float = LOST_AFTER_S,
        inspect_timeout_seconds: float = INSPECT_TIMEOUT_S,
        inst_data: Any = None,
    ) -> None:
        settings = load_settings()
        super().__init__(
            default_queue=settings.celery_queue,
            broker=settings.celery_broker,
            backend=settings.celery_backend,
            config_source=celery_settings(),
            inst_data=inst_data,
        )
        self.lost_after_seconds = float(lost_after_seconds)
        self.inspect_timeout_seconds = float(inspect_timeout_seconds)
        self._missing_since: dict[str, float] = {}  # task id -> first look that found no holder

    @classmethod
    def config_type(cls) -> dict[str, dg.Field]:
        return {
            "lost_after_seconds": dg.Field(
                float, is_required=False, default_value=float(LOST_AFTER_S),
                description="How long no live worker may hold a started run's task before the run is failed as lost.",
            ),
            "inspect_timeout_seconds": dg.Field(
                float, is_required=False, default_value=INSPECT_TIMEOUT_S,
                description="How long to wait for the workers' answers when asking who holds a task.",
            ),
        }

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, Any]) -> CallopsCeleryRunLauncher:
        return cls(inst_data=inst_data, **config_value)

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        task_id = run.tags.get(DAGSTER_CELERY_TASK_ID_TAG)
        if not task_id:
            return CheckRunHealthResult(WorkerStatus.FAILED, "the run has no Celery task: it never reached a worker")
        try:
            state = self.celery.AsyncResult(task_id).state
        except Exception as exc:  # the result backend is down: a doubt, not a lost run
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"could not read the task's state: {exc}")
        held = None if state in ENDED else self._held(task_id)
        now = time.monotonic()
        if held is False:
            missing_for = now - self._missing_since.setdefault(task_id, now)
        else:
            missing_for = 0.0
            self._missing_since.pop(task_id, None)
        verdict = judge(state, held, missing_for, self.lost_after_seconds)
        if verdict.status != RUNNING:
            self._missing_since.pop(task_id, None)
        if verdict.status == FAILED and held is False:
            self._revoke(task_id)
        return CheckRunHealthResult(WorkerStatus[verdict.status], verdict.reason)

    def _revoke(self, task_id: str) -> None:
        """Make sure a run declared lost is not still running somewhere: a worker too busy to
        answer would otherwise go on beside the retry (which the day's free slot lets start).
        Every worker kills the task's pool process if it has it, and drops the task if it is
        ever delivered again. Best effort: a worker that cannot be reached is the lost one."""
        try:
            self.celery.control.revoke(task_id, terminate=True, signal="SIGKILL")
        except Exception:
            pass

    def _held(self, task_id: str) -> bool | None:
        """Whether a live worker holds ``task_id`` (running or reserved); None when the workers
        cannot be asked. No answer at all means no worker is alive: False."""
        try:
            replies = self.celery.control.inspect(timeout=self.inspect_timeout_seconds).query_task(task_id)
        except Exception:
            return None
        return any(task_id in (tasks or {}) for tasks in (replies or {}).values())

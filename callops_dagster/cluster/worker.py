"""``callops worker``: a long-lived Celery worker that runs the runs the daemon launches.

A thin wrapper over ``dagster-celery worker start`` (which starts ``celery -A
dagster_celery.app worker``), built here as plain argv and environment (tests read them):

- the broker, result backend and queue are the settings the run launcher uses
  (``CALLOPS_CELERY_*``), handed to dagster-celery as its ``--config-yaml``;
- the venv's ``bin`` goes first on PATH: dagster-celery runs ``celery`` by name, so
  ``/path/.venv/bin/callops worker`` works without an activated venv;
- the prefork pool: a run executes in a pool process while the worker's main process goes on
  answering control messages, which is how run monitoring asks who holds a run
  (``health.py``); ``--concurrency`` pool processes, so that many runs at once;
- early acknowledgement (``task_acks_late: false``, prefetch 1): a message is acknowledged when
  its run starts, so a worker that dies mid-run does not get its run redelivered and started a
  second time beside the retry; a message it had only reserved goes back to the queue;
- the pool processes keep their real stdout and stderr (``worker_redirect_stdouts: false``):
  Celery's default swaps them for a logging proxy with no file descriptor, and Dagster's
  compute log capture, which redirects the descriptors, then silently captures nothing (the
  UI's "View stdout / stderr" of a worker's run was empty). What a run prints still reaches
  the worker's own output: Dagster mirrors it there while it captures.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP = "dagster_celery.app"
# Imported once by the worker's main process before it forks its pool: every run is warm.
PRELOAD = "callops_dagster.definitions"
CONFIG_FILE = "callops-worker.yaml"


def celery_settings() -> dict[str, object]:
    """Celery settings shared by the run launcher and the workers."""
    return {
        "worker_prefetch_multiplier": 1,
        "task_acks_late": False,
        "broker_connection_retry_on_startup": True,
        "worker_redirect_stdouts": False,
    }


@dataclass(frozen=True)
class WorkerOptions:
    broker: str
    backend: str
    queue: str
    concurrency: int = 1
    name: str | None = None
    loglevel: str = "INFO"


def config_yaml(options: WorkerOptions) -> str:
    """dagster-celery's ``--config-yaml`` (the Celery executor's config block), as JSON (a
    subset of YAML: no quoting to get wrong)."""
    config = {"broker": options.broker, "backend": options.backend, "config_source": celery_settings()}
    return json.dumps({"execution": {"config": config}}, indent=2) + "\n"


def write_config(dagster_home: Path, options: WorkerOptions) -> Path:
    """Write ``config_yaml`` to ``DAGSTER_HOME/callops-worker.yaml`` (owner-only: it may hold
    the broker's password), atomically: workers sharing a home write the same text."""
    path = dagster_home / CONFIG_FILE
    staging = path.with_name(f".{CONFIG_FILE}.{os.getpid()}")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(config_yaml(options))
    os.replace(staging, path)
    return path


def worker_argv(bin_dir: Path, config_path: Path, options: WorkerOptions) -> list[str]:
    """``dagster-celery worker start ...`` for ``options`` (Celery's own flags after ``--``)."""
    argv = [str(bin_dir / "dagster-celery"), "worker", "start", "--app", APP,
            "--config-yaml", str(config_path), "--queue", options.queue, "--loglevel", options.loglevel,
            "--includes", PRELOAD]
    if options.name:
        argv += ["--name", options.name]
    return argv + ["--", "--pool=prefork", f"--concurrency={options.concurrency}",
                   "--without-gossip", "--without-mingle"]


def worker_env(environ: Mapping[str, str], bin_dir: Path) -> dict[str, str]:
    """``environ`` with ``bin_dir`` first on PATH (dagster-celery runs ``celery`` by name)."""
    env = dict(environ)
    rest = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != str(bin_dir)]
    env["PATH"] = os.pathsep.join([str(bin_dir), *rest])
    return env

"""Starting a cluster-mode callops on this machine's servers (PostgreSQL 127.0.0.1:5432,
RabbitMQ 127.0.0.1:5672, Redis 127.0.0.1:6379), shared by the cluster tests
(``callops_dagster_tests/test_cluster.py`` and others) and the benchmark's contender f
(``benchmarks/cluster.py``): a database, a queue and result keys of their own, made for one
run and removed after it; instance homes holding deploy/dagster.yaml; process groups started
and stopped whole; whether the workers answer.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import redis
import sqlalchemy
import yaml
from celery import Celery
from kombu import Connection

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEPLOY = PROJECT_ROOT / "deploy"
BIN = Path(sys.executable).parent
CALLOPS = BIN / "callops"
PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
BROKER_URL = "pyamqp://guest:guest@127.0.0.1:5672//"
BACKEND_URL = "redis://127.0.0.1:6379/0"


def unique_name(prefix: str) -> str:
    """``prefix`` and 8 random hex digits: a name no parallel test run shares."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def scratch_database(prefix: str = "callops_test") -> Iterator[str]:
    """A new, empty PostgreSQL database; yields its URL in the ordinary ``postgresql://`` form
    (which the instance's storage must accept) and drops it after, its connections ended."""
    name = unique_name(prefix)
    admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
            ), {"name": name})
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def instance_home(path: Path, *, local_compute_logs: bool = False) -> Path:
    """``path`` holding a copy of deploy/dagster.yaml: a cluster-mode DAGSTER_HOME. With
    ``local_compute_logs``, the copy leaves out its ``compute_logs`` (runs' stdout/stderr on the
    data's object storage), for a cluster whose data is a local folder: the logs stay in the
    home's storage/, as Dagster's default does."""
    path.mkdir(parents=True, exist_ok=True)
    if not local_compute_logs:
        shutil.copy(DEPLOY / "dagster.yaml", path / "dagster.yaml")
        return path
    config = yaml.safe_load((DEPLOY / "dagster.yaml").read_text(encoding="utf-8"))
    del config["compute_logs"]
    (path / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def start_group(argv: Sequence[str], cwd: Path, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start ``argv`` in a process group of its own, its output in ``log_path``."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of the process group, read from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(stat.parent.name))
    return members


def stop_group(process: subprocess.Popen, timeout_s: float = 30) -> None:
    """SIGTERM the process group of ``process``, then SIGKILL what is left after ``timeout_s``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            process.poll()
            if not group_members(process.pid):
                return
            time.sleep(0.2)


def log_tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-chars:] if path.exists() else ""


def answering_workers(app: Celery, names: Sequence[str]) -> bool:
    """Whether every worker of ``names`` (``--name``) answers a ping over the broker."""
    replies = app.control.inspect(timeout=1.0).ping() or {}
    return all(any(node.startswith(f"{name}@") for node in replies) for name in names)


def clean_up_celery(queue: str, task_ids: Sequence[str]) -> None:
    """Remove ``queue`` (and its exchange) from RabbitMQ and the tasks' results from Redis."""
    with Connection(BROKER_URL) as conn:
        channel = conn.default_channel
        channel.queue_delete(queue)
        channel.exchange_delete(queue)
    if task_ids:
        results = redis.Redis.from_url(BACKEND_URL)
        results.delete(*(f"celery-task-meta-{task_id}" for task_id in task_ids))
        results.close()


SERVERS = {"PostgreSQL": 5432, "RabbitMQ": 5672, "Redis": 6379}


def unreachable_servers(host: str = "127.0.0.1") -> list[str]:
    """The servers of ``SERVERS`` that do not accept a connection on ``host``."""
    missing = []
    for name, port in SERVERS.items():
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError:
            missing.append(name)
    return missing

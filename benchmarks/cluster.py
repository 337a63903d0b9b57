"""Contender f: the backfill on the cluster of docs/deploy.md, on this machine.

For each worker count: a scratch PostgreSQL database, ``callops migrate``, ``dagster-daemon
run`` (the run queue of ``deploy/dagster.yaml``: ``QueuedRunCoordinator``, dequeue every 2 s,
at most 4 runs started; ``CallopsCeleryRunLauncher``) and N ``callops worker --concurrency 1``,
each with its own ``DAGSTER_HOME`` holding a copy of ``deploy/dagster.yaml`` (without its
``compute_logs``, which needs object storage: runs' stdout/stderr stay in each home), all on
one Celery queue of their own (RabbitMQ broker, Redis results). The days are in one local data
dir every process reads (the cluster's "shared" data dir is a folder on this one machine). The
backfill is submitted with ``dagster job backfill`` as contender e's is and timed from
submission to the end of the last run. No webserver: nothing here needs it.

Besides the time, what limits it is measured rather than guessed:

- per run, from the instance's ``event_logs`` table: the event rows written, how many of them
  are asset events (which open a second connection to write their index rows), the run's
  execution time (RUN_START to RUN_SUCCESS), its steps' share of it, and each worker's idle
  gap between the end of one run and the start of the next (the run start latency when the
  queue is never empty), and the workers' busy fraction of the wall time;
- the time of one event write through the instance (a connection opened per write, as
  dagster-postgres does) and of a bare PostgreSQL connection, after the backfill;
- the broker's round trip (publish, then get, on a queue of its own) and Redis's;
- CPU seconds during the backfill: the machine's (``/proc/stat``), the daemon's and the
  workers' process groups, PostgreSQL's, RabbitMQ's and Redis's processes, and the rest (other
  work on the machine);
- each worker's peak RSS (``VmHWM`` of its processes), after the 100k-row days and, when a
  ``probe_day`` is given (1 worker only), after one more day of that size.

Every process, the database, the Celery queue and the task results are removed after, also on
error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.cluster_processes import (
    BACKEND_URL,
    BIN,
    BROKER_URL,
    CALLOPS,
    DEPLOY,
    PROJECT_ROOT,
    answering_workers,
    clean_up_celery,
    group_members,
    instance_home,
    log_tail,
    scratch_database,
    start_group,
    stop_group,
    unique_name,
)

JOB = "callops_daily"
TASK_TAG = "dagster-celery/task_id"
PID_EVENT = re.compile(r"Started process for run \(pid: (\d+)\)")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The asset events: dagster-postgres writes their index rows through a second connection.
ASSET_EVENTS = {"ASSET_MATERIALIZATION", "ASSET_MATERIALIZATION_PLANNED", "ASSET_OBSERVATION",
                "ASSET_CHECK_EVALUATION", "ASSET_CHECK_EVALUATION_PLANNED"}
SERVERS = {"postgres": ("postgres",), "rabbitmq": ("beam.smp", "erl_child_setup", "inet_gethost", "epmd"),
           "redis": ("redis-server",)}
PROBES = 100


def cluster_env(data_dir: Path, url: str, queue: str) -> dict[str, str]:
    """The environment of every process of the cluster: this process's without the caller's
    ``CALLOPS_*`` settings, the database, broker, backend and queue, the data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLOPS_") and k != "SLACK_WEBHOOK_URL"}
    env.update(DAGSTER_DISABLE_TELEMETRY="1", PYTHONUNBUFFERED="1", DAGSTER_PG_URL=url,
               CALLOPS_CELERY_BROKER=BROKER_URL, CALLOPS_CELERY_BACKEND=BACKEND_URL,
               CALLOPS_CELERY_QUEUE=queue, CALLOPS_DATA_DIR=str(data_dir))
    return env


@contextlib.contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """``values`` in this process's environment (the instance's yaml reads DAGSTER_PG_URL, the
    launcher the CALLOPS_CELERY_* settings), restored after."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ---------------------------------------------------------------- CPU and memory from /proc


def _proc_stat(pid_dir: Path) -> tuple[str, int, float] | None:
    """(command name, process group, CPU seconds of it and its waited-for children)."""
    try:
        text = (pid_dir / "stat").read_text()
    except OSError:
        return None
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text.rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return comm, int(fields[2]), ticks / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds the machine's cores have been busy since boot (all processes, any user)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS


def cpu_snapshot(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far by holder: each of ``groups`` (name -> process group), the servers
    (by command name; a PostgreSQL backend that ended is in its postmaster's children's time)
    and the whole machine."""
    totals = dict.fromkeys([*groups, *SERVERS], 0.0)
    by_group = {pgid: name for name, pgid in groups.items()}
    for pid_dir in Path("/proc").glob("[0-9]*"):
        if (stat := _proc_stat(pid_dir)) is None:
            continue
        comm, pgid, seconds = stat
        if pgid in by_group:
            totals[by_group[pgid]] += seconds
        else:
            for server, names in SERVERS.items():
                if comm in names:
                    totals[server] += seconds
    totals["machine"] = machine_busy_seconds()
    return totals


def peak_rss(pgid: int) -> int:
    """The largest peak RSS (VmHWM, bytes) of the process group's live processes."""
    peak = 0
    for pid in group_members(pgid):
        with contextlib.suppress(OSError, StopIteration):
            line = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("VmHWM:"))
            peak = max(peak, int(line.split()[1]) * 1024)
    return peak


# ---------------------------------------------------------------- the instance's event log


def run_split(rows: list[tuple[str, str | None, dt.datetime, str | None]], pids: dict[str, int],
              workers: int, wall: float) -> dict:
    """Per-run figures from the event log's rows (run_id, event type, timestamp, step key) and
    each run's pool process (``pids``): event rows, asset events, execution time, its steps'
    share, the idle gap on a worker between two runs, the workers' busy fraction."""
    runs: dict[str, dict] = {}
    for run_id, kind, stamp, step in rows:
        run = runs.setdefault(run_id, {"rows": 0, "asset": 0, "steps": {}})
        run["rows"] += 1
        run["asset"] += kind in ASSET_EVENTS
        t = stamp.timestamp()
        if kind in ("PIPELINE_ENQUEUED", "PIPELINE_STARTING", "PIPELINE_START", "PIPELINE_SUCCESS",
                    "PIPELINE_FAILURE"):
            run[kind] = t
        if step and kind in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
            run["steps"].setdefault(step, {})[kind] = t
    done = {k: r for k, r in runs.items() if "PIPELINE_START" in r and
            ("PIPELINE_SUCCESS" in r or "PIPELINE_FAILURE" in r)}
    for run in done.values():
        run["end"] = run.get("PIPELINE_SUCCESS", run.get("PIPELINE_FAILURE"))
        run["exec"] = run["end"] - run["PIPELINE_START"]
        run["in_steps"] = sum(s["STEP_SUCCESS"] - s["STEP_START"] for s in run["steps"].values()
                              if "STEP_START" in s and "STEP_SUCCESS" in s)
    by_pid: dict[int, list[dict]] = {}
    for run_id, run in done.items():
        if run_id in pids:
            by_pid.setdefault(pids[run_id], []).append(run)
    gaps = []
    for chain in by_pid.values():
        chain.sort(key=lambda r: r["PIPELINE_START"])
        gaps += [b["PIPELINE_START"] - a["end"] for a, b in zip(chain, chain[1:])]
    if not done:
        return {"runs": 0}
    median = lambda key: statistics.median(r[key] for r in done.values())  # noqa: E731
    return {
        "runs": len(done),
        "rows_per_run": median("rows"),
        "asset_rows_per_run": median("asset"),
        "exec_s": median("exec"),
        "in_steps_s": median("in_steps"),
        "steps_per_run": statistics.median(len(r["steps"]) for r in done.values()),
        # a worker's first run: from its launch (the task sent) to RUN_START in the pool process
        "first_start_s": statistics.median(
            c[0]["PIPELINE_START"] - c[0]["PIPELINE_STARTING"] for c in by_pid.values() if "PIPELINE_STARTING" in c[0]
        ) if by_pid else None,
        "gap_s": statistics.median(gaps) if gaps else None,
        "busy_fraction": sum(r["exec"] for r in done.values()) / (workers * wall) if wall else None,
    }


def database_bytes(url: str) -> int:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1),
                                      poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sqlalchemy.text("SELECT pg_database_size(current_database())")).scalar())
    finally:
        engine.dispose()


def event_log(url: str) -> tuple[list, dict[str, int]]:
    """The event log's rows of every run and the pid of each run's process."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1),
                                      poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(sqlalchemy.text(
                "SELECT run_id, dagster_event_type, timestamp, step_key FROM event_logs WHERE run_id <> ''"))]
            pids = {}
            for run_id, event in conn.execute(sqlalchemy.text(
                    "SELECT run_id, event FROM event_logs WHERE dagster_event_type = 'ENGINE_EVENT' "
                    "AND event LIKE '%Started process for run%'")):
                if match := PID_EVENT.search(event):
                    pids[run_id] = int(match.group(1))
    finally:
        engine.dispose()
    return rows, pids


# ---------------------------------------------------------------- round trips


def write_times(instance, probes: int = PROBES) -> dict[str, float]:
    """Median seconds of one event written through the instance (as a run worker writes its
    events: dagster-postgres opens a connection per write) and of a bare connection opened,
    queried and closed."""
    import psycopg2

    run_id = f"write-probe-{unique_name('bench')}"
    writes, connects = [], []
    url = instance.event_log_storage.postgres_url
    for _ in range(probes):
        start = time.perf_counter()
        instance.report_engine_event("benchmark write probe", job_name=JOB, run_id=run_id)
        writes.append(time.perf_counter() - start)
        start = time.perf_counter()
        conn = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://", 1))
        conn.cursor().execute("SELECT 1")
        conn.close()
        connects.append(time.perf_counter() - start)
    return {"event_write_s": statistics.median(writes), "connect_s": statistics.median(connects)}


def broker_round_trip(probes: int = PROBES) -> dict[str, float]:
    """Median seconds of a message published and got back through RabbitMQ (a queue of its own,
    deleted after), and of a SET and GET on Redis."""
    import redis
    from kombu import Connection

    name = unique_name("callops-bench-rtt").replace("_", "-")
    broker = []
    with Connection(BROKER_URL) as conn:
        queue = conn.SimpleQueue(name)
        try:
            for i in range(probes):
                start = time.perf_counter()
                queue.put({"n": i})
                queue.get(timeout=10).ack()
                broker.append(time.perf_counter() - start)
        finally:
            queue.close()  # its consumer cancelled first: deleting a consumed queue cancels it from afar
            channel = conn.channel()
            channel.queue_delete(name)
            channel.exchange_delete(name)
            channel.close()
    client = redis.Redis.from_url(BACKEND_URL)
    key, backend = f"{name}-key", []
    try:
        for i in range(probes):
            start = time.perf_counter()
            client.set(key, str(i))
            client.get(key)
            backend.append(time.perf_counter() - start)
    finally:
        client.delete(key)
        client.close()
    return {"broker_s": statistics.median(broker), "redis_s": statistics.median(backend)}


# ---------------------------------------------------------------- the run


def _submit(days: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(BIN / "dagster"), "job", "backfill", "-w", "workspace.yaml", "-j", JOB,
         "--partitions", ",".join(days), "--noprompt"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dagster job backfill failed:\n{done.stderr[-3000:]}")


def _wait(what: str, poll, logs, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while not (result := poll()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not after {timeout:.0f} s\n{logs()}")
        time.sleep(interval)
    return result


def run_cluster_backfill(days: list[str], data_dir: Path, workdir: Path, workers: int,
                         probe_day: str | None = None, timeout: float = 3600) -> dict:
    """Backfill ``days`` on a fresh cluster of ``workers`` workers; return the figures (module
    docstring). ``probe_day``: one more day, after, for the worker's peak RSS at its size."""
    import dagster as dg
    from celery import Celery

    root = Path(tempfile.mkdtemp(dir=workdir, prefix=f"cluster-w{workers}-"))
    queue = unique_name("callops-bench").replace("_", "-")
    names = {f"worker{n}": f"{queue}-w{n}" for n in range(1, workers + 1)}
    processes: dict[str, subprocess.Popen] = {}
    task_ids: list[str] = []

    def logs() -> str:
        return "\n".join(f"--- {name}\n{log_tail(root / f'{name}.log', 2500)}" for name in processes)

    with scratch_database("callops_bench") as url:
        env = cluster_env(data_dir, url, queue)
        server = root / "server"
        home = instance_home(server / "dagster_home", local_compute_logs=True)  # the data is a local folder
        shutil.copy(DEPLOY / "workspace.yaml", server / "workspace.yaml")
        migrated = subprocess.run([str(CALLOPS), "migrate"], env={**env, "DAGSTER_HOME": str(home)}, cwd=server,
                                  capture_output=True, text=True, timeout=300)
        if migrated.returncode != 0:
            raise RuntimeError(f"callops migrate failed:\n{migrated.stdout}{migrated.stderr}")
        app = Celery(broker=BROKER_URL)
        with patched_environ({k: v for k, v in env.items() if k.startswith(("CALLOPS_", "DAGSTER_PG"))}):
            instance = dg.DagsterInstance.from_config(str(home))
            try:
                processes["daemon"] = start_group([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                                                  server, {**env, "DAGSTER_HOME": str(home)}, root / "daemon.log")
                for key, name in names.items():
                    folder = root / key
                    processes[key] = start_group(
                        [str(CALLOPS), "worker", "--name", name, "--concurrency", "1"], folder,
                        {**env, "DAGSTER_HOME": str(instance_home(folder / "dagster_home", local_compute_logs=True))},
                        root / f"{key}.log")
                _wait("daemon heartbeat", instance.get_daemon_heartbeats, logs, 180)
                _wait("workers answering", lambda: answering_workers(app, list(names.values())), logs, 180)
                groups = {name: p.pid for name, p in processes.items()}
                size_before = database_bytes(url)
                cpu_before = cpu_snapshot(groups)
                start = time.time()
                _submit(days, server, {**env, "DAGSTER_HOME": str(home)})

                def finished() -> list | None:
                    records = list(instance.get_run_records(filters=dg.RunsFilter(job_name=JOB)))
                    return records if len(records) >= len(days) and all(
                        r.dagster_run.is_finished for r in records) else None

                records = _wait("the backfill's runs", finished, logs, timeout)
                cpu_after = cpu_snapshot(groups)
                end = max(r.end_time for r in records)
                seconds = end - start
                result = {
                    "workers": workers, "seconds": seconds, "days_per_minute": len(days) / seconds * 60,
                    "failed_runs": sum(not r.dagster_run.is_success for r in records),
                    "runs": len(records),
                    "cpu": {k: cpu_after[k] - cpu_before[k] for k in cpu_after},
                    "cpu_wall": time.time() - start,
                    "worker_rss": max(peak_rss(processes[k].pid) for k in names),
                }
                rows, pids = event_log(url)
                result["split"] = run_split(rows, pids, workers, seconds)
                result["db_bytes_per_run"] = (database_bytes(url) - size_before) / len(records)
                if probe_day:
                    probe_start = time.time()
                    _submit([probe_day], server, {**env, "DAGSTER_HOME": str(home)})
                    _wait("the probe day's run", lambda: (
                        (r := list(instance.get_run_records(filters=dg.RunsFilter(
                            job_name=JOB, tags={"dagster/partition": probe_day}))))
                        and all(x.dagster_run.is_finished for x in r) and r), logs, timeout)
                    result["probe"] = {"day": probe_day, "seconds": time.time() - probe_start,
                                       "worker_rss": max(peak_rss(processes[k].pid) for k in names)}
                result.update(write_times(instance))
                result.update(broker_round_trip())
                return result
            finally:
                with contextlib.suppress(Exception):
                    task_ids = [r.tags[TASK_TAG] for r in instance.get_runs() if TASK_TAG in r.tags]
                for process in processes.values():
                    stop_group(process)
                app.close()
                instance.dispose()
                clean_up_celery(queue, task_ids)
                shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":  # a quick look: python -m benchmarks.cluster DATA_DIR DAY,DAY WORKERS
    import sys

    data, day_list, count = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
    with tempfile.TemporaryDirectory(dir=PROJECT_ROOT / "benchmarks" / ".cache") as tmp:
        print(json.dumps(run_cluster_backfill(day_list, Path(data), Path(tmp), count), indent=2, default=str))

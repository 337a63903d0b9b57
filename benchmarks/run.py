"""``make bench``: time the contenders on generated days and write ``benchmarks/RESULTS.md``.

Contenders (each run in its own subprocess, alternating, after one untimed warm-up round that
also checks DuckDB's summary against the project's):

  a  the project's transform chain for one day, in process, without Dagster
  b  the contract as DuckDB SQL (``contract.sql``)
  c  the floor: pyarrow reads the day's three files as strings
  d  one day materialised with the ``dagster`` CLI, as a whole process (d0: the same on the brief's
     own day, 500 calls; imp: a process that only runs ``import dagster``); and once, at 1M rows,
     a CLI day's time per step (``benchmarks/steps.py``)
  fl Dagster's floor: 13 trivial daily-partitioned assets wired like ``callops_daily``, a blocking
     check each (``dagster_floor_defs.py``), run the way d is on the same kind of instance: what
     Dagster itself costs a day of this shape; d - fl is callops's own cost
  e  a backfill of 100k-row days through a Dagster daemon and run queue (concurrency 1 and 2),
     against DuckDB processing the same days in one process
  f  the same backfill on the cluster of docs/deploy.md (PostgreSQL instance, Celery run
     launcher, 1 and 2 ``callops worker``s; ``benchmarks/cluster.py``), with what limits it

Environment overrides: ``BENCH_SIZES`` (default ``100k,1M,5M``), ``BENCH_REPEATS`` (5),
``BENCH_REPEATS_LARGE`` (3, for sizes of 5M rows and more), ``BENCH_CONTENDERS`` (``a,b,c,d,e,f``),
``BENCH_BACKFILL_DAYS`` (30), ``BENCH_PROFILE`` (1: profile contender a at the largest size
with pyinstrument), ``BENCH_OUT`` (``benchmarks/RESULTS.md``), ``BENCH_CACHE``
(``benchmarks/.cache``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
BIN = Path(sys.executable).parent
DAY = dt.date(2025, 5, 1)
BACKFILL_START = dt.date(2025, 3, 1)
BACKFILL_ROWS = 100_000
# The brief's own day, shipped with the package: the small day set beside Dagster's floor.
BRIEF_DAY = dt.date(2025, 4, 28)
BRIEF_FILES = PROJECT / "callops_dagster" / "sample" / "assignment-2025-04-28"
STEPS_ROWS = 1_000_000  # the size of the per-step table
LARGE = 5_000_000
# Peak RSS of the current chain is about 1.2 GB per million rows; 5M is skipped below this.
BYTES_PER_ROW_NEEDED = 1_600

NAMES = {
    "a": "transform chain (pandas, in process)",
    "b": "DuckDB SQL",
    "c": "read floor (pyarrow, strings)",
    "d": "dagster CLI, whole process",
    "d0": "dagster CLI, the brief's day (500 calls)",
    "fl": "Dagster's floor: 13 trivial assets shaped like the daily job, `dagster job execute`",
    "imp": "`python -c \"import dagster\"` (the floor of any Dagster process)",
    "impd": "`python -c \"import dagster, pandas, pyarrow.parquet\"` (what any Dagster process reading a CSV into pandas imports)",
}
# The processes that only import: Dagster; Dagster with the libraries a day's run cannot do without.
IMPORTS_ONLY = {"imp": "import dagster", "impd": "import dagster, pandas, pyarrow.parquet"}
# The floor's code location (a file the project's sessions share beside the repository; a copy
# is committed under benchmarks/floor/ for a clone without it).
FLOOR_MODULE = "dagster_floor_defs"


def floor_tools() -> Path:
    """The folder holding ``dagster_floor_defs.py``: ``../shared/tools`` beside the repository,
    else the committed copy."""
    shared = PROJECT.parent / "shared" / "tools"
    return shared if (shared / f"{FLOOR_MODULE}.py").is_file() else HERE / "floor"


def parse_size(text: str) -> int:
    """``100k`` -> 100000, ``1M`` -> 1000000, ``2500`` -> 2500."""
    text = text.strip()
    scale = {"k": 1_000, "K": 1_000, "m": 1_000_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def label(rows: int) -> str:
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows >= 1_000 and rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


@dataclass
class Settings:
    sizes: list[int]
    repeats: int = 5
    repeats_large: int = 3
    contenders: list[str] = field(default_factory=lambda: list("abcdef"))
    backfill_days: int = 30
    profile: bool = True
    out: Path = HERE / "RESULTS.md"
    cache: Path = HERE / ".cache"

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            sizes=[parse_size(s) for s in env.get("BENCH_SIZES", "100k,1M,5M").split(",") if s.strip()],
            repeats=int(env.get("BENCH_REPEATS", "5")),
            repeats_large=int(env.get("BENCH_REPEATS_LARGE", "3")),
            contenders=[c.strip() for c in env.get("BENCH_CONTENDERS", "a,b,c,d,e,f").split(",") if c.strip()],
            backfill_days=int(env.get("BENCH_BACKFILL_DAYS", "30")),
            profile=env.get("BENCH_PROFILE", "1") == "1",
            out=Path(env.get("BENCH_OUT", HERE / "RESULTS.md")),
            cache=Path(env.get("BENCH_CACHE", HERE / ".cache")),
        )


# ---------------------------------------------------------------- data


def landed(cache: Path, rows: int, days: list[dt.date]) -> Path:
    """A data dir with ``days`` of ``rows`` call rows each (1% defects per class), cached.

    Generated in a subprocess: a child forked from a big parent would inherit its peak RSS.
    """
    data_dir = cache / f"calls-{label(rows)}"
    for day in days:
        if not (data_dir / "landing" / day.isoformat() / "disposition_summary.csv").is_file():
            run_process(
                [str(Path(sys.executable).parent / "callops"), "mock", "--start", day.isoformat(),
                 "--days", "1", "--data-dir", str(data_dir), "--calls", str(rows),
                 "--defect-rate", "0.01", "--seed", "7"]
            )
    return data_dir


def brief_day(cache: Path) -> Path:
    """A data dir whose landing day is the brief's own (the package's sample files)."""
    data_dir = cache / "brief"
    link = data_dir / "landing" / BRIEF_DAY.isoformat()
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(BRIEF_FILES, target_is_directory=True)
    return data_dir


def work_dir(cache: Path, data_dir: Path, days: list[dt.date]) -> Path:
    """A fresh data dir whose landing days link to the cached ones (outputs go here)."""
    work = Path(tempfile.mkdtemp(dir=cache, prefix="run-"))
    for day in days:
        (work / "landing").mkdir(parents=True, exist_ok=True)
        (work / "landing" / day.isoformat()).symlink_to(data_dir / "landing" / day.isoformat())
    return work


# ---------------------------------------------------------------- processes


@dataclass
class Sample:
    seconds: float  # the work (a, b, c: timed inside the process) or the whole process (d)
    wall: float  # the whole process, start to exit
    rss: int  # peak resident set size, bytes (the process and its waited-for children)


def run_process(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run ``cmd``; return wall seconds, peak RSS in bytes and stdout. Raises on failure."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    return wall, usage.ru_maxrss * 1024, stdout


def contender(name: str, data_dir: Path, days: list[dt.date], out_dir: Path) -> Sample:
    """One run of a, b or c in its own Python process."""
    program = {"a": "transform_chain", "b": "duckdb_sql", "c": "read_floor"}[name]
    wall, rss, stdout = run_process(
        [sys.executable, "-m", "benchmarks.contenders", program, str(data_dir),
         ",".join(d.isoformat() for d in days), str(out_dir)]
    )
    return Sample(json.loads(stdout.strip().splitlines()[-1])["seconds"], wall, rss)


def dagster_cli(cache: Path, data_dir: Path, day: dt.date) -> tuple[Sample, Path]:
    """One day through ``dagster job execute -j callops_daily`` in a fresh data dir.

    The instance (``<cache>/dagster_home``, made fresh by ``main``) is shared by the run's CLI
    days, as a user's instance would be: its SQLite tables exist before the first timed run.
    """
    from benchmarks.backfill import dagster_env

    work = work_dir(cache, data_dir, [day])
    env = dagster_env(work, cache / "dagster_home")
    wall, rss, _ = run_process(
        [str(BIN / "dagster"), "job", "execute", "-m", "callops_dagster.definitions", "-j", "callops_daily",
         "--tags", json.dumps({"dagster/partition": day.isoformat()})],
        env,
    )
    return Sample(wall, wall, rss), work


def dagster_floor(cache: Path, day: dt.date) -> Sample:
    """One day of Dagster's floor through ``dagster job execute -j daily``, as ``dagster_cli``
    runs a callops day: a whole process, on an instance of its own (``<cache>/floor_home``,
    made fresh by ``main``, kept warm across the run) holding the same dagster.yaml."""
    from benchmarks.backfill import dagster_env

    env = dagster_env(cache / "floor_data", cache / "floor_home")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(floor_tools()), env.get("PYTHONPATH")]))
    wall, rss, _ = run_process(
        [str(BIN / "dagster"), "job", "execute", "-m", FLOOR_MODULE, "-j", "daily",
         "--tags", json.dumps({"dagster/partition": day.isoformat()})],
        env,
    )
    return Sample(wall, wall, rss)


# ---------------------------------------------------------------- the run


def summaries_equal(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


def first_lines(path: Path, n: int = 4) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[:n]


def measure_size(settings: Settings, rows: int, log) -> dict:
    """Warm-up round (and the DuckDB check), then ``repeats`` alternating timed rounds."""
    data_dir = landed(settings.cache, rows, [DAY])
    names = [c for c in ("a", "b", "c", "d") if c in settings.contenders]
    if "d" in names:
        names += ["fl"]  # in every size's rounds: each CLI day is paired with the floor
    if "d" in names and rows == settings.sizes[0]:
        names += ["d0", "imp", "impd"]
    repeats = settings.repeats_large if rows >= LARGE else settings.repeats
    samples: dict[str, list[Sample]] = {n: [] for n in names}
    checks: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(dir=settings.cache, prefix="out-") as out:
        out = Path(out)

        def once(name: str, timed: bool) -> None:
            if name in IMPORTS_ONLY:
                wall, rss, _ = run_process([sys.executable, "-c", IMPORTS_ONLY[name]])
                sample = Sample(wall, wall, rss)
            elif name == "fl":
                sample = dagster_floor(settings.cache, DAY)
            elif name == "d0":
                sample, work = dagster_cli(settings.cache, brief_day(settings.cache), BRIEF_DAY)
                shutil.rmtree(work, ignore_errors=True)
            elif name == "d":
                sample, work = dagster_cli(settings.cache, data_dir, DAY)
                report = work / "reports" / DAY.isoformat() / "agent_performance_summary.csv"
                if (out / "a" / DAY.isoformat()).exists():
                    checks["d summary = a summary"] = summaries_equal(
                        report, out / "a" / DAY.isoformat() / "agent_performance_summary.csv"
                    )
                shutil.rmtree(work, ignore_errors=True)
            else:
                sample = contender(name, data_dir, [DAY], out / name)
            if timed:
                samples[name].append(sample)
            log(f"  {label(rows)} {name}{'' if timed else ' (warm-up)'}: {sample.seconds:.2f} s, "
                f"{sample.rss / 2**20:.0f} MiB")

        for name in names:  # warm-up: page cache, and the outputs to compare
            once(name, timed=False)
        if "a" in names and "b" in names:
            day_out = out / "a" / DAY.isoformat(), out / "b" / DAY.isoformat()
            checks["b summary = a summary"] = summaries_equal(
                day_out[0] / "agent_performance_summary.csv", day_out[1] / "agent_performance_summary.csv"
            )
            checks["b message lines 1-4 = a's"] = first_lines(day_out[0] / "slack_message.txt") == first_lines(
                day_out[1] / "slack_message.txt"
            )
            if not all(checks.values()):
                raise RuntimeError(f"DuckDB does not reproduce the project's outputs at {label(rows)}: {checks}")
        quality_file = out / "b" / DAY.isoformat() / "data_quality.json"
        quality = json.loads(quality_file.read_text(encoding="utf-8")) if quality_file.is_file() else None
        for round_ in range(repeats):
            shift = round_ % len(names)  # alternate: each round starts with the next contender
            for name in names[shift:] + names[:shift]:
                once(name, timed=True)
    file_bytes = (data_dir / "landing" / DAY.isoformat() / "call_logs.csv").stat().st_size
    return {"rows": rows, "file_bytes": file_bytes, "repeats": repeats, "samples": samples, "checks": checks,
            "quality": quality}


def measure_backfill(settings: Settings, log) -> dict:
    """e and f: the backfill through the daemon (default launcher, concurrency 1 and 2) and on
    the cluster (1 and 2 workers), DuckDB and the chain on the same days; every day's summary
    of e and f checked against the chain's."""
    from benchmarks.backfill import run_backfill
    from benchmarks.cluster import run_cluster_backfill

    days = [BACKFILL_START + dt.timedelta(days=i) for i in range(settings.backfill_days)]
    data_dir = landed(settings.cache, BACKFILL_ROWS, days)
    keys = [d.isoformat() for d in days]
    result: dict = {"days": len(days), "rows": BACKFILL_ROWS, "checks": {}}
    # The cluster's memory at 1M rows, when that size is measured (its day is landed already).
    probe = landed(settings.cache, 1_000_000, [DAY]) if 1_000_000 in settings.sizes else None
    with tempfile.TemporaryDirectory(dir=settings.cache, prefix="out-") as out:
        chain_out = Path(out) / "a"
        result["duckdb"] = contender("b", data_dir, days, Path(out) / "b")
        result["chain"] = contender("a", data_dir, days, chain_out)
        log(f"  backfill: DuckDB {result['duckdb'].seconds:.1f} s, chain {result['chain'].seconds:.1f} s")

        def check(name: str, work: Path) -> None:
            same = [summaries_equal(work / "reports" / k / "agent_performance_summary.csv",
                                    chain_out / k / "agent_performance_summary.csv")
                    for k in keys if (work / "reports" / k / "agent_performance_summary.csv").is_file()]
            result["checks"][f"{name}: summaries = the chain's"] = f"{sum(same)} of {len(keys)} days"

        runs = [(f"dagster_c{n}", n) for n in (1, 2)] if "e" in settings.contenders else []
        runs += [(f"cluster_w{n}", n) for n in (1, 2)] if "f" in settings.contenders else []
        for name, n in runs:
            work = work_dir(settings.cache, data_dir, days)
            try:
                if name.startswith("dagster"):
                    result[name] = run_backfill(keys, work, work, n)
                else:
                    if probe is not None and n == 1:
                        (work / "landing" / DAY.isoformat()).symlink_to(probe / "landing" / DAY.isoformat())
                    result[name] = run_cluster_backfill(keys, work, work, n, probe_day=(
                        DAY.isoformat() if probe is not None and n == 1 else None))
                check(name, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            log(f"  backfill {name}: {result[name]}")
    return result


def mem_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def profile_chain(settings: Settings, rows: int) -> str:
    """pyinstrument's call tree of one run of contender a (the top of it)."""
    data_dir = landed(settings.cache, rows, [DAY])
    with tempfile.TemporaryDirectory(dir=settings.cache, prefix="prof-") as out:
        _, _, stdout = run_process(
            [str(BIN / "pyinstrument"), "-r", "text", "--no-color", "-o", str(Path(out) / "profile.txt"),
             "-m", "benchmarks.contenders", "transform_chain", str(data_dir), DAY.isoformat(),
             str(Path(out) / "a")]
        )
        text = (Path(out) / "profile.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "transform_chain" in line), 0)
    return "\n".join(lines[start : start + 45])


def main() -> int:
    settings = Settings.from_env()
    settings.cache.mkdir(parents=True, exist_ok=True)
    for home in ("dagster_home", "floor_home"):
        shutil.rmtree(settings.cache / home, ignore_errors=True)
    started = time.time()

    def log(text: str) -> None:
        print(f"[{time.time() - started:6.0f} s] {text}", flush=True)

    results: dict = {"sizes": [], "skipped": [], "backfill": None, "profile": None, "steps": None}
    for rows in settings.sizes:
        if rows >= LARGE and mem_available() < rows * BYTES_PER_ROW_NEEDED:
            results["skipped"].append(
                f"{label(rows)}: {mem_available() / 2**30:.1f} GiB available, "
                f"{rows * BYTES_PER_ROW_NEEDED / 2**30:.1f} GiB wanted"
            )
            log(f"skipping {label(rows)}: not enough free memory")
            continue
        log(f"size {label(rows)}")
        results["sizes"].append(measure_size(settings, rows, log))
    if "d" in settings.contenders and STEPS_ROWS in [s["rows"] for s in results["sizes"]]:
        from benchmarks.steps import cli_day, floor_day

        log(f"a CLI day's steps at {label(STEPS_ROWS)}, and the floor's")
        day_data = landed(settings.cache, STEPS_ROWS, [DAY])
        results["steps"] = cli_day(settings.cache, day_data, DAY)
        results["steps"]["floor"] = floor_day(settings.cache, DAY)
    if "d" in settings.contenders and settings.profile:
        from benchmarks.steps import small_day_profile

        log("the brief's day under cProfile")
        results["small_profile"] = small_day_profile(settings.cache, brief_day(settings.cache), BRIEF_DAY)
    if "f" in settings.contenders:
        from benchmarks.cluster_processes import unreachable_servers

        if missing := unreachable_servers():
            settings.contenders.remove("f")
            results["skipped"].append(f"f (the cluster): no {', '.join(missing)} on 127.0.0.1")
            log(f"skipping f: no {', '.join(missing)}")
    if {"e", "f"} & set(settings.contenders) and settings.backfill_days > 0:
        log(f"backfill of {settings.backfill_days} days")
        results["backfill"] = measure_backfill(settings, log)
    if settings.profile and "a" in settings.contenders and results["sizes"]:
        profiled = max(s["rows"] for s in results["sizes"] if s["rows"] <= 1_000_000) if any(
            s["rows"] <= 1_000_000 for s in results["sizes"]) else results["sizes"][0]["rows"]
        log(f"profiling a at {label(profiled)}")
        results["profile"] = (profiled, profile_chain(settings, profiled))
    results["elapsed"] = time.time() - started
    # Kept, so a change to the report can be rendered again without measuring again.
    with open(settings.cache / "results.pickle", "wb") as kept:
        pickle.dump((settings, results), kept)
    from benchmarks.report import render

    settings.out.write_text(render(settings, results), encoding="utf-8")
    log(f"wrote {settings.out}")
    return 0


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("pandas", "pyarrow", "duckdb", "dagster"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


if __name__ == "__main__":
    # As benchmarks.run, so the kept results name their classes by a module they can be read back from.
    from benchmarks import run

    sys.exit(run.main())

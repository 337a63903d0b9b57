"""Render the benchmark's results as ``benchmarks/RESULTS.md``."""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path

from benchmarks.run import NAMES, Settings, label, versions


def _machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )
    total = next(
        int(line.split()[1]) * 1024 for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return f"{os.cpu_count()} cores ({cpu}), {total / 2**30:.0f} GiB memory, {platform.system()} {platform.release()}"


def _median(samples, attr: str = "seconds") -> float:
    return statistics.median(getattr(s, attr) for s in samples)


def _spread(samples) -> str:
    values = [s.seconds for s in samples]
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def _mib(samples) -> str:
    values = [s.rss / 2**20 for s in samples]
    return f"{statistics.median(values):,.0f} (max {max(values):,.0f})"


def _ratio(size: dict, top: str, bottom: str) -> float | None:
    """Median over the rounds of top/bottom measured in the same round.

    Pairing within a round cancels most of the load other jobs put on the machine, which
    moves from round to round; a ratio of two medians would mix different rounds.
    """
    samples = size["samples"]
    if samples.get(top) and samples.get(bottom):
        return statistics.median(t.seconds / b.seconds for t, b in zip(samples[top], samples[bottom]))
    return None


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**met**" if ok else "**missed**")


def _introduction(settings: Settings, results: dict, sizes: dict) -> list[str]:
    """How the benchmark ran: the method, the machine, versions, sizes and what was skipped."""
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`benchmarks/run.py`); do not edit by hand. Each contender runs",
        "in its own subprocess, alternating, after one untimed warm-up round. Times are medians",
        "(min-max) in seconds; a, b and c are timed inside their process after imports, d is the",
        "whole `dagster job execute` process (the daily job). Peak RSS is the process's (MiB). Ratios are",
        "the median of the ratios within each round (both contenders under the same load).",
        "",
        f"- Machine: {_machine()}; shared with other jobs while this ran, so absolute times are",
        "  noisy; the ratios come from the same alternating rounds.",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        f"- Sizes: {', '.join(label(r) for r in sizes) or 'none'}; repeats {settings.repeats}"
        f" ({settings.repeats_large} at 5M and above); whole run {results['elapsed'] / 60:.1f} min.",
        "- Days: the mock generator (`callops_dagster.mock.data`), every defect class at 1%, seed 7.",
    ]
    return lines + [f"- Skipped {note}." for note in results["skipped"]]


def _times(sizes: dict) -> list[str]:
    """Each contender's time and peak memory at each size."""
    lines = ["", "## Times and memory", "",
             "| rows | contender | median s (min-max) | peak RSS MiB | call_logs MB |",
             "|---|---|---|---|---|"]
    for rows, size in sizes.items():
        for name, samples in size["samples"].items():
            if samples:
                lines.append(
                    f"| {label(rows) if name != 'd0' else '1k'} | {name}: {NAMES[name]} | {_spread(samples)} "
                    f"| {_mib(samples)} | {size['file_bytes'] / 1e6:.0f} |"
                )
    return lines


def _ratios(sizes: dict) -> list[str]:
    """The contenders against each other at each size, and a's memory per row and per byte."""
    lines = ["", "## Ratios", "",
             "| rows | a/b | a/c | d/b | d - a (Dagster's share of a CLI day, s) | RSS of a per million rows (MiB) | RSS of a / call_logs size |",
             "|---|---|---|---|---|---|---|"]
    for rows, size in sizes.items():
        s = size["samples"]
        rss = _median(s["a"], "rss") if s.get("a") else None
        overhead = _median(s["d"]) - _median(s["a"]) if s.get("a") and s.get("d") else None
        lines.append(
            f"| {label(rows)} | {_fmt(_ratio(size, 'a', 'b'))} | {_fmt(_ratio(size, 'a', 'c'))} "
            f"| {_fmt(_ratio(size, 'd', 'b'))} | {_fmt(overhead)} "
            f"| {_fmt(rss / 2**20 / (rows / 1e6), 0) if rss else 'n/a'} "
            f"| {_fmt(rss / size['file_bytes'], 1) if rss else 'n/a'} |"
        )
    return lines


def _checks_and_quality(sizes: dict) -> list[str]:
    """The checks made before timing, and the days' data quality as DuckDB counts it."""
    lines = []
    checks = {f"{label(r)}: {k}": v for r, size in sizes.items() for k, v in size["checks"].items()}
    if checks:
        lines += ["", "Checks before timing: " + "; ".join(
            f"{k} {'yes' if v else 'NO'}" for k, v in checks.items()) + "."]
    quality = {r: size["quality"] for r, size in sizes.items() if size.get("quality")}
    if quality:
        lines += ["", "The days' data quality, as DuckDB counts it: " + "; ".join(
            f"{label(r)}: {q['rows_rejected']} of {q['rows_read']} rows rejected, "
            f"{q['call_id_conflict']} call_ids shared by different calls (kept), "
            f"{q['bad_created_ts']} bad created_ts, {q['bad_login_time']} bad login_time"
            for r, q in quality.items()) + "."]
    return lines


def _growth(sizes: dict) -> dict[str, float]:
    """Per contender measured at both 1M and 5M rows: 5M time / 1M time."""
    growth = {}
    for name in ("a", "b", "c", "d"):
        if 1_000_000 in sizes and 5_000_000 in sizes and sizes[1_000_000]["samples"].get(name) \
                and sizes[5_000_000]["samples"].get(name):
            growth[name] = _median(sizes[5_000_000]["samples"][name]) / _median(sizes[1_000_000]["samples"][name])
    return growth


def _backfill(backfill: dict) -> list[str]:
    """The backfill table: DuckDB, the transform chain and Dagster's backfill on the same days."""
    duck = backfill["duckdb"].seconds
    chain = backfill["chain"].seconds
    lines = ["", f"## Backfill: {backfill['days']} days of {label(backfill['rows'])} call rows", "",
             "| how | seconds | days per minute | vs DuckDB |", "|---|---|---|---|",
             f"| DuckDB SQL, one process, day after day | {duck:.1f} | {backfill['days'] / duck * 60:.1f} | 1.00 |",
             f"| transform chain, one process, day after day | {chain:.1f} | {backfill['days'] / chain * 60:.1f} | {chain / duck:.2f} |"]
    for concurrency in (1, 2):
        run = backfill.get(f"dagster_c{concurrency}")
        if run:
            failed = f" ({run['failed_runs']} runs failed)" if run["failed_runs"] else ""
            lines.append(
                f"| Dagster backfill, daemon + run queue, max_concurrent_runs={concurrency}{failed} "
                f"| {run['seconds']:.1f} | {run['days_per_minute']:.1f} | {run['seconds'] / duck:.2f} |"
            )
    return lines + ["", "The backfill is `dagster job backfill` into a fresh instance with a "
                    "`QueuedRunCoordinator` (dequeue every 1 s) and `dagster-daemon run`; each run is "
                    "its own process (default run launcher) executing its day in process. Timed from "
                    "submission to the end of the last run."]


def _targets(sizes: dict, growth: dict[str, float], backfill: dict | None) -> list[str]:
    """Each target, its figure and whether it was met."""
    lines = ["", "## Targets", "", "| target | figure | verdict |", "|---|---|---|"]

    def target(text: str, value: float | None, ok) -> None:
        lines.append(f"| {text} | {_fmt(value)} | {_verdict(None if value is None else ok(value))} |")

    for rows in (1_000_000, 5_000_000):
        size = sizes.get(rows)
        target(f"a/b <= 1 at {label(rows)}", _ratio(size, "a", "b") if size else None, lambda v: v <= 1)
        target(f"a/c <= 3 at {label(rows)}", _ratio(size, "a", "c") if size else None, lambda v: v <= 3)
    size = sizes.get(1_000_000)
    target("d/b <= 2 at 1M", _ratio(size, "d", "b") if size else None, lambda v: v <= 2)
    target("a: 5M time / 1M time <= 5.5", growth.get("a"), lambda v: v <= 5.5)
    size = sizes.get(5_000_000)
    rss_ratio = _median(size["samples"]["a"], "rss") / size["file_bytes"] if size and size["samples"].get("a") else None
    target("peak RSS of a <= 5x call_logs size at 5M", rss_ratio, lambda v: v <= 5)
    if backfill:
        for concurrency in (1, 2):
            run = backfill.get(f"dagster_c{concurrency}")
            value = run["seconds"] / backfill["duckdb"].seconds if run else None
            target(f"backfill (concurrency {concurrency}) / DuckDB on the same days <= 2", value, lambda v: v <= 2)
    else:
        target("backfill / DuckDB on the same days <= 2", None, lambda v: v <= 2)
    return lines


def render(settings: Settings, results: dict) -> str:
    """RESULTS.md: how it ran, times, ratios, growth, the backfill, the targets, the profile."""
    sizes = {s["rows"]: s for s in results["sizes"]}
    growth = _growth(sizes)
    lines = [*_introduction(settings, results, sizes), *_times(sizes), *_ratios(sizes), *_checks_and_quality(sizes)]
    if growth:
        lines += ["", "Growth, 5M time / 1M time: " + ", ".join(f"{k} {v:.2f}" for k, v in growth.items()) + "."]
    backfill = results.get("backfill")
    if backfill:
        lines += _backfill(backfill)
    lines += _targets(sizes, growth, backfill)
    if results.get("profile"):
        rows, tree = results["profile"]
        lines += ["", f"## Where the time goes: contender a at {label(rows)} (pyinstrument)", "",
                  "```", tree, "```"]
    lines += ["", "## Reading the misses", "", *EXPLANATIONS]
    return "\n".join(lines) + "\n"


# What limits each contender: from the profiles taken while optimising (pyinstrument, on this
# machine). The figures of the run are in the tables above; this says why they are what they are.
EXPLANATIONS = [
    "- **What a and b do.** Both read the three files, apply rules 1-4 to every row, join at the",
    "  agent-day grain and write the summary CSV and the message's figures; they are checked to",
    "  write the same summary, byte for byte, before timing. a also keeps every rejected row with",
    "  its raw values and reason and writes `rejected_rows.csv` (about 9% of the rows at 1% per",
    "  defect class), and numbers every record (row_number, malformed rows included); b does not.",
    "- **a vs c (the read floor).** c parses the files into Arrow strings on both cores and stops.",
    "  a's own parse is single-threaded (only that reader numbers the records it cannot fit to",
    "  the header, and `newlines_in_values` is on for RFC 4180); after it, every value is trimmed,",
    "  keys, dates, timestamps, statuses and durations are checked, call_ids are hashed for",
    "  duplicates, the agent-day groupby runs and three files are written. In the profile the",
    "  read is roughly a quarter of a and validation a third; the rest is the groupby, metrics",
    "  and writing the rejected-rows CSV. A chain that must look at every value cannot come",
    "  within 3x of a bare parse on this machine; that target is missed by design, not by waste.",
    "- **a vs b (DuckDB).** DuckDB runs the rules as one multi-threaded plan and never",
    "  materialises a table it does not need; a builds pandas columns between steps (trimmed",
    "  values, kept rows, rejected rows with raw values) on one core.",
    "- **Growth, 5M / 1M.** Read it beside c's growth on the same line: c only parses, yet on",
    "  this shared 2-core host a 5M-row day (427 MB of text, gigabytes of working memory) costs",
    "  more per row than a 1M-row day for every contender (memory bandwidth, page faults and the",
    "  other jobs' load). When a grows no faster than c, the excess over 5.5 is the machine's.",
    "- **Peak RSS of a.** During validation the raw table (the file's text as Arrow strings,",
    "  plus 8 bytes of offset per value), the trimmed copies of the columns that needed",
    "  trimming and the kept rows are alive together, plus about 120 MiB of interpreter and",
    "  libraries and what Arrow's allocator keeps cached; below 5x would take processing the",
    "  day in chunks or dictionary-encoded columns.",
    "- **d vs b (the CLI day).** d is a whole process. A profile of d0 (the tiny day) splits its",
    "  ~4 s into: Python and `import dagster` 0.7 s, loading the definitions (pandas, pandera)",
    "  0.5 s, opening the instance 0.4 s, creating the run (an ASSET_MATERIALIZATION_PLANNED",
    "  event per asset in SQLite) 0.6 s, then per step and check an event-log write to SQLite",
    "  (each opens a connection) and a Parquet round trip of each intermediate table; the",
    "  transforms themselves are well under a second of it. At 1M rows add a's work, the Parquet",
    "  writes and reads of every table, and the pandera schema checks.",
    "- **The backfill (e).** Each day is a new run process (`dagster api execute_run`) that pays",
    "  d0's fixed cost, and the queue dequeues once a second; at 100k rows a day that fixed cost",
    "  is most of a run, while DuckDB processes a 100k-row day in a fraction of a second in one",
    "  process. Concurrency 2 helps only as far as two cores shared with other work allow.",
]

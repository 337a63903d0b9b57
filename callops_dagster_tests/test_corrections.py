"""Corrections reach every report they touch, through the command line (issue 21).

Eight generated days are landed and run once (a module fixture; the seventh day has no roster of
its own, so it carries the sixth's forward). Each test copies that history and makes two
random corrections in a row (calls added, calls removed, statuses changed, a roster row changed
on the day another day carries forward), each to one day's files and re-landed with ``callops
run --replace``; then every report file equals what a from-scratch ``callops run`` over the
corrected files writes. The seeds are in the test; the choices they make are printed on failure.
"""

from __future__ import annotations

import csv
import io
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from callops_dagster_tests.conftest import cli_env

CALLOPS = Path(sys.executable).parent / "callops"
START = "2025-04-21"
DAYS = [f"2025-04-{d}" for d in range(21, 29)]
NO_ROSTER = "2025-04-27"  # carries 2025-04-26's roster forward
FILES = ("call_logs.csv", "agent_roster.csv", "disposition_summary.csv")
# Refreshed days print "<day>: refreshed (...)"; a refresh never repeats a partition.
pytestmark = pytest.mark.slow


def callops(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run([str(CALLOPS), *args], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return done


def report_files(reports: Path) -> dict[str, bytes]:
    """Every published report file (through the day folders' links), manifests left out."""
    found = {}
    for folder, _, names in os.walk(reports, followlinks=True):
        if ".versions" in Path(folder).parts:
            continue
        for name in names:
            if name != "manifest.json":
                path = Path(folder) / name
                found[str(path.relative_to(reports))] = path.read_bytes()
    return found


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    """Eight landed days run once into one data dir and instance."""
    root = tmp_path_factory.mktemp("history")
    env = cli_env(root / "data", root / "home")
    callops("mock", "--start", START, "--days", str(len(DAYS)), "--calls", "250", "--seed", "5", "-q", env=env)
    roster = root / "data" / "landing" / NO_ROSTER / "agent_roster.csv"
    roster.write_text(roster.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    callops("run", "-q", env=env)
    return root


def good_rows(lines: list[str], width: int) -> list[int]:
    """Indexes of data lines that parse to exactly ``width`` plain fields (no quoting)."""
    return [i for i, line in enumerate(lines) if i and '"' not in line and len(line.split(",")) == width]


def as_line(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def correct(landing: Path, kind: str, rng: random.Random) -> tuple[str, str]:
    """Change one day's files in place; returns the day and what was done."""
    day = NO_ROSTER.replace("27", "26") if kind == "roster" else rng.choice(DAYS[:-1])
    name = "agent_roster.csv" if kind == "roster" else "call_logs.csv"
    path = landing / day / name
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    rows = good_rows(lines, len(header))
    picked = rng.sample(rows, rng.randint(1, 20))
    if kind == "added":
        at = header.index("call_id")
        lines += [as_line([f"FIX{n}" if i == at else v for i, v in enumerate(lines[r].split(","))])
                  for n, r in enumerate(picked)]
    elif kind == "removed":
        lines = [line for i, line in enumerate(lines) if i not in set(picked)]
    elif kind == "status":
        at = header.index("status")
        for r in picked:
            fields = lines[r].split(",")
            fields[at] = "no_answer" if fields[at].strip().lower() == "completed" else "completed"
            lines[r] = as_line(fields)
    else:  # a roster row: another office and surname
        for r in picked[:3]:
            fields = lines[r].split(",")
            fields[header.index("users_last_name")] = "Corrected"
            fields[header.index("users_office_location")] = "Elsewhere"
            lines[r] = as_line(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return day, f"{kind}: {len(picked)} rows of {day}/{name}"


def reland(work: Path, fixed: Path, kind: str, seed: int) -> str:
    """One random correction of ``kind`` made to ``fixed`` and re-landed into ``work`` with
    ``callops run --replace``; returns what was done, for the failure messages."""
    day, what = correct(fixed, kind, random.Random(seed))
    files = [str(fixed / day / name) for name in FILES]
    done = callops("run", "--replace", "--date", day, *files, env=cli_env(work / "data", work / "home"))
    refreshed = refreshed_assets(done.stdout)
    assert len(refreshed) == len(set(refreshed)), done.stdout  # each table of each day or week once
    assert all(p.startswith("week") or p > day for p, _ in refreshed), done.stdout  # only what reads it
    return f"{what}\n{done.stdout[-2500:]}"


# Two corrections in a row per test (each re-landed and checked on its own), then one
# from-scratch run over the files as both left them: a second correction lands on a history
# the first one already refreshed.
@pytest.mark.parametrize("corrections", [(("added", 11), ("roster", 14)), (("removed", 12), ("status", 13))],
                         ids=["added-then-roster", "removed-then-status"])
def test_corrected_days_leave_every_report_as_a_from_scratch_run_writes(history, tmp_path, corrections):
    work = tmp_path / "work"
    shutil.copytree(history, work, symlinks=True)
    fixed = tmp_path / "fixed"
    shutil.copytree(work / "data" / "landing", fixed)
    what = "\n".join(reland(work, fixed, kind, seed) for kind, seed in corrections)

    scratch = tmp_path / "scratch"
    shutil.copytree(work / "data" / "landing", scratch / "data" / "landing")
    callops("run", "-q", env=cli_env(scratch / "data", scratch / "home"))

    ours, truth = report_files(work / "data" / "reports"), report_files(scratch / "data" / "reports")
    assert set(ours) == set(truth), what
    assert [n for n in sorted(truth) if ours[n] != truth[n]] == [], what


def refreshed_assets(stdout: str) -> list[tuple[str, str]]:
    """(partition, asset) of every refresh the command printed, in order: a day's chain runs in
    one run; what reads other days follows in a later round once the change is real."""
    found = []
    for line in stdout.splitlines():
        if ": refreshed (" in line:
            partition, rest = line.split(": refreshed (", 1)
            found += [(partition, asset) for asset in rest.split(")", 1)[0].split(", ")]
    return found

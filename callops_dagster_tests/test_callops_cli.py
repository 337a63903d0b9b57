"""The `callops` command as a user drives it: refusals in-process (click's CliRunner, before
any Dagster is loaded), and one story of real processes over a temporary data dir: the brief's
sample files renamed and placed elsewhere, a differing re-drop, --replace, status, a generated
day and every landed day, --day."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from callops_dagster.cli import main
from callops_dagster.mock.data import generate_day
from callops_dagster_tests.conftest import (
    PUBLISHED_FILES,
    REPORT_FILES,
    cli_env,
    ephemeral_instance,
    materialize_day,
    reports_dir,
)

CALLOPS = Path(sys.executable).parent / "callops"
SAMPLE = Path(__file__).parents[1] / "callops_dagster" / "sample" / "assignment-2025-04-28"
DAY = "2025-04-28"
EARLIER = "2025-04-27"
ORDER = ("call_logs.csv", "agent_roster.csv", "disposition_summary.csv")


def invoke(*args: str) -> object:
    """``callops ARGS`` in this process; the environment it sets is put back afterwards."""
    return CliRunner().invoke(main, list(args), env={"CALLOPS_DATA_DIR": None, "DAGSTER_HOME": None})


def assert_refused(result, *phrases: str) -> None:
    """Exit status 2, one line on stderr naming ``phrases``, nothing on stdout, no traceback."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("callops: error: ") and "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in line, line


def renamed_sample(folder: Path) -> list[Path]:
    """The sample's three files copied to ``folder`` under names that say nothing, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(SAMPLE / name, folder / f"export-{i}.csv")) for i, name in enumerate(ORDER)]


# ---------------------------------------------------------------- refusals, in-process


def test_files_in_the_wrong_order_are_refused(tmp_path):
    calls, roster, logins = renamed_sample(tmp_path / "in")
    result = invoke("run", str(roster), str(calls), str(logins), "--data-dir", str(tmp_path / "data"))
    assert_refused(result, "wrong order", f"{roster} looks like agent_roster.csv", "CALL_LOGS AGENT_ROSTER")
    assert not (tmp_path / "data" / "landing").exists()


def test_a_missing_path_is_refused(tmp_path):
    calls, roster, _ = renamed_sample(tmp_path / "in")
    result = invoke("run", str(calls), str(roster), str(tmp_path / "gone.csv"), "--data-dir", str(tmp_path))
    assert_refused(result, f"{tmp_path / 'gone.csv'}: no such file")


def test_an_unreadable_date_is_refused(tmp_path):
    result = invoke("run", *map(str, renamed_sample(tmp_path / "in")), "--date", "28/04/2025", "--data-dir", str(tmp_path))
    assert_refused(result, "'28/04/2025' is not a date written YYYY-MM-DD")


def test_two_files_are_refused(tmp_path):
    result = invoke("run", *map(str, renamed_sample(tmp_path / "in")[:2]), "--data-dir", str(tmp_path))
    assert_refused(result, "give the three files", "(got 2)")


def test_mock_writes_days_and_never_overwrites_a_landed_one(tmp_path):
    data = tmp_path / "data"
    kept = data / "landing" / "2025-04-23" / "call_logs.csv"
    kept.parent.mkdir(parents=True)
    kept.write_text("landed by someone\n", encoding="utf-8")
    result = invoke("mock", "--start", "2025-04-22", "--days", "2", "--data-dir", str(data), "--calls", "300",
                    "--agents", "12", "--orgs", "2", "--defect-rate", "0.02", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (data / "landing").iterdir()) == ["2025-04-22", "2025-04-23"]
    assert kept.read_text(encoding="utf-8") == "landed by someone\n"
    assert "2025-04-23: already landed" in result.stdout
    again = generate_day(dt.date(2025, 4, 22), tmp_path / "again", calls=300, agents=12, orgs=2,
                         defect_rate=0.02, seed=3)
    for name in ORDER:  # deterministic, and written whole under the contract names
        assert (data / "landing" / "2025-04-22" / name).read_bytes() == again[name.removesuffix(".csv")].read_bytes()


def test_mock_refuses_an_unreadable_start(tmp_path):
    assert_refused(invoke("mock", "--start", "2025-04-31", "--data-dir", str(tmp_path)), "--start '2025-04-31'")


# ---------------------------------------------------------------- the story, as processes


def callops(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CALLOPS), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """Each step's process and what the data dir held right after it."""
    root = tmp_path_factory.mktemp("callops")
    data = root / "data"
    env = cli_env(data, root / "unused_home")
    del env["CALLOPS_DATA_DIR"], env["DAGSTER_HOME"]  # --data-dir, and the data dir's own instance
    files = [str(p) for p in renamed_sample(root / "somewhere" / "else")]
    steps = {"first": callops("run", *files, "--data-dir", str(data), "-v", env=env, cwd=root)}
    steps["reports"] = {n: (reports_dir(data, DAY) / n).read_bytes() for n in REPORT_FILES}
    steps["too_early"] = callops("run", *files, "--data-dir", str(data), env={**env, "CALLOPS_START_DATE": "2025-05-01"}, cwd=root)
    fewer = Path(files[1]).read_text(encoding="utf-8").splitlines(keepends=True)[:-1]
    Path(files[1]).write_text("".join(fewer), encoding="utf-8")  # the roster re-dropped without its last agent
    steps["differs"] = callops("run", *files, "--data-dir", str(data), env=env, cwd=root)
    steps["replace"] = callops("run", *files, "--data-dir", str(data), "--replace", env=env, cwd=root)
    steps["status"] = callops("status", "--data-dir", str(data), env=env, cwd=root)
    callops("mock", "--start", EARLIER, "--days", "2", "--calls", "300", "--data-dir", str(data), env=env, cwd=root)
    steps["all"] = callops("run", "--data-dir", str(data), env=env, cwd=root)
    steps["one"] = callops("run", "--day", EARLIER, "-q", "--data-dir", str(data), env=env, cwd=root)
    return {"data": data, "files": files, **steps}


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return done.stdout


def test_renamed_sample_files_land_run_and_print_reports_message_and_checks(story):
    out = ok(story["first"])
    data = story["data"]
    assert f"data dir: {data}" in out and f"Dagster instance: {data / '.dagster_home'}" in out
    assert f"Day {DAY}: the call_date {DAY}" in out
    assert f"{DAY}: ok (run " in out
    for name in PUBLISHED_FILES:  # the reports, and the manifest written after them
        assert f"  {name}: " in out
    assert f"Reports in {reports_dir(data, DAY)}/:" in out
    assert story["reports"]["slack_message.txt"].decode() in out  # the message, as written
    made = (data / ".dagster_home" / "dagster.yaml").read_text()
    assert "telemetry:\n  enabled: false\n" in made and "class: CallopsSqliteStorage" in made
    assert ("Checks that warned or failed" in out) != ("No check warned or failed" in out)


def test_the_reports_are_those_of_the_same_files_landed_by_hand(story, tmp_path):
    landed = tmp_path / "data" / "landing" / DAY
    landed.mkdir(parents=True)
    for name in ORDER:
        shutil.copyfile(SAMPLE / name, landed / name)
    instance = ephemeral_instance()
    assert materialize_day(tmp_path / "data", DAY, instance).success
    for name in REPORT_FILES:
        assert (reports_dir(tmp_path / "data", DAY) / name).read_bytes() == story["reports"][name], name


def test_a_day_before_the_partitions_is_refused_naming_the_setting(story):
    done = story["too_early"]
    assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout
    [line] = done.stderr.splitlines()
    assert "before the first partition 2025-05-01" in line and "CALLOPS_START_DATE" in line


def test_a_landed_day_that_differs_is_refused_then_replaced_on_request(story):
    done = story["differs"]
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].endswith("(agent_roster.csv differs); --replace to overwrite it")
    assert len(done.stderr.splitlines()) == 1
    ok(story["replace"])
    landed = story["data"] / "landing" / DAY / "agent_roster.csv"
    assert landed.read_bytes() == Path(story["files"][1]).read_bytes()


def test_status_reads_the_days_runs_from_the_instance(story):
    days, *weeks = ok(story["status"]).split("\n\n")
    header, *rows = days.splitlines()
    assert header.startswith("day ") and "materialised" in header and "inputs changed" in header
    [row] = rows
    assert row.startswith(f"{DAY}  call_logs agent_roster disposition_summary")
    assert " success (" in row and " no " not in row and " up to date " in row
    [week_header, *week_rows] = weeks[0].splitlines() if weeks else ["", ""]
    # --replace changed the day's roster after the week had read it; the week ran again since
    assert week_header.startswith("week ") and len(week_rows) == 1
    assert " done in run " in week_rows[0] and week_rows[0].endswith(f"({DAY} changed)")
    assert week_rows[0].startswith(DAY) and " success (" in week_rows[0]  # DAY is a Monday: its week's own run
    assert " 283 outside hours, 176 before login, 0 loans over limit " in row  # the sample day's compliance


def test_run_without_files_runs_every_landed_day_in_date_order(story):
    out = ok(story["all"])
    days = [line.split(":")[0] for line in out.splitlines() if ": ok (run " in line]
    assert days == [EARLIER, DAY]  # the generated day before the sample's (mock left that one as it was)
    latest = reports_dir(story["data"], days[-1]) / "slack_message.txt"
    assert f"Latest Slack message ({latest})" in out
    assert out.rstrip().endswith(latest.read_text(encoding="utf-8").rstrip())


def test_day_runs_one_landed_day_and_quiet_keeps_only_warnings(story):
    out = ok(story["one"])
    assert f"{EARLIER}: ok" not in out and "Reports in" not in out  # info lines are gone
    assert f"Checks that warned or failed on {EARLIER}:" in out  # generated days carry defects
    assert all(line.startswith(("Checks that", "  ")) for line in out.splitlines())


def test_run_writes_the_weekly_report_of_each_week_it_ran(story):
    weekly = story["data"] / "reports" / "weeks" / DAY / "agent_weekly_summary.csv"  # DAY is a Monday
    assert f"Week of {DAY} written (run " in ok(story["first"]) and f"): {weekly}" in story["first"].stdout
    assert weekly.read_text(encoding="utf-8").startswith("week_start,org_id,agent_id,agent_name,")


# ---------------------------------------------------------------- a Monday with warnings, as processes


MONDAY = "2025-04-21"  # a day, and its week's partition key


@pytest.fixture(scope="module")
def monday(tmp_path_factory):
    """Two generated days from a Monday (generated days carry defects: checks warn), run by
    `callops run` (the days, then their week, which has ended), then `callops status` and
    `callops status --logs MONDAY`."""
    root = tmp_path_factory.mktemp("monday")
    env = cli_env(root / "data", root / "unused_home")
    del env["CALLOPS_DATA_DIR"], env["DAGSTER_HOME"]
    where = ("--data-dir", str(root / "data"))
    ok(callops("mock", "--start", MONDAY, "--days", "2", "--calls", "300", *where, env=env, cwd=root))
    steps = {"run": callops("run", *where, env=env, cwd=root)}
    steps["status"] = callops("status", *where, env=env, cwd=root)
    steps["logs"] = callops("status", "--logs", MONDAY, *where, env=env, cwd=root)
    return steps


def run_ids(out: str) -> dict[str, str]:
    """The short run id `callops run` printed for each day, and for the week (``week``)."""
    days = {line.split(":")[0]: line.split("(run ")[1][:8] for line in out.splitlines() if ": ok (run " in line}
    week = next(line.split("(run ")[1][:8] for line in out.splitlines() if line.startswith(f"Week of {MONDAY} written"))
    return {**days, "week": week}


def test_status_on_a_monday_shows_the_days_run_and_its_warnings_not_the_weeks(monday):
    ids = run_ids(ok(monday["run"]))
    days, weeks = ok(monday["status"]).split("\n\n")
    header, first, second = days.splitlines()
    assert first.startswith(MONDAY) and f" success ({ids[MONDAY]}) " in first
    assert ids["week"] not in first
    for row in (first, second):  # each day lists its warnings, each with its asset
        checks = row[header.index("checks that warned"):]
        assert checks != "-" and all(":" in c and c.endswith("(WARN)") for c in checks.split("; ")), row
    [week] = weeks.splitlines()[1:]  # the weeks table: the week's own callops_weekly run
    assert week.startswith(MONDAY) and f"success ({ids['week']})" in week


def test_status_logs_on_a_monday_are_the_days_run(monday):
    ids = run_ids(ok(monday["run"]))
    first = ok(monday["logs"]).splitlines()[0]
    assert first.startswith(f"Last run of {MONDAY}: {ids[MONDAY]}")
    assert first.endswith("(callops_daily, success)")

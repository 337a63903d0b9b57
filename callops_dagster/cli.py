"""The ``callops`` command: run a day from three files, run the landed days, show their status,
generate sample days.

    callops run CALL_LOGS AGENT_ROSTER DISPOSITION_SUMMARY [--date D] [--replace]
    callops run [--day D]
    callops status [--logs D]
    callops mock --start 2025-04-21 --days 7
    callops migrate                       # cluster mode: create the instance's tables first
    callops worker [--concurrency N]      # cluster mode: a Celery worker that runs the runs

Every subcommand takes ``--data-dir`` (default ``CALLOPS_DATA_DIR``, then ``data/``),
``-v`` (also say which data dir and Dagster instance) and ``-q`` (only warnings and errors).
The Dagster instance is ``DAGSTER_HOME`` when set, else ``<data_dir>/.dagster_home`` (a data
dir on object storage, ``s3://bucket/prefix``, needs ``DAGSTER_HOME``). A refusal
(wrong or missing file, unreadable date, a day outside the partitions, a landed day that
differs, a data dir on object storage that cannot be reached or used) is one line on stderr and
exit status 2; a day that ran and failed is exit status 1.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import click
from upath import UPath

from callops_dagster.console import REPORT_MEANINGS, progress_line, status_table, weeks_table
from callops_dagster.contract.sources import CALL_LOGS, SOURCES
from callops_dagster.ingest.intake import (
    ORDER,
    IntakeError,
    call_day,
    check_files,
    land_files,
    move_in,
    parse_day,
    plan_landing,
)
from callops_dagster.landing.folder import landed_days
from callops_dagster.landing.watch import scan_landing
from callops_dagster.platform.home import INSTANCE_YAML
from callops_dagster.platform.storage import (
    StorageError,
    cause,
    data_path,
    is_client_error,
    is_local,
    shown,
    storage_errors,
)

LOG = logging.getLogger("callops")
LANDED = {"land": "landed", "keep": "already landed with the same files", "replace": "replaced"}
INSTANCE_FILE = "# Created by callops: this data dir's Dagster instance.\n" + INSTANCE_YAML


class Refusal(click.ClickException):
    """Input the command will not take: one line on stderr, exit status 2, no traceback."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"callops: error: {self.message}", err=True)


def refusals(command: Callable) -> Callable:
    """Turn the refusals of the helpers (and unusable settings, and a data dir on object storage
    that fails: ``StorageError``, which names the object) into ``Refusal``."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (IntakeError, StorageError) as exc:
            raise Refusal(str(exc)) from None
        except ValueError as exc:  # by name: importing their modules would load the settings early
            if type(exc).__name__ in {"SettingsError", "RunnerError"}:
                raise Refusal(str(exc)) from None
            raise
        except Exception as exc:  # a storage client's error that no storage_errors block named
            if not is_client_error(exc):
                raise
            where = shown(os.environ.get("CALLOPS_DATA_DIR", "the data dir"))
            raise Refusal(f"{where}: object storage failed ({cause(exc)})") from None

    return wrapper


# ---------------------------------------------------------------- set-up


class _BelowError(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.ERROR


def configure_logging(verbose: bool, quiet: bool) -> None:
    """``callops`` log lines: info and warnings on stdout, errors on stderr; -v adds debug,
    -q keeps warnings and errors only."""
    LOG.handlers.clear()
    LOG.propagate = False
    LOG.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    out = logging.StreamHandler(sys.stdout)
    out.addFilter(_BelowError())
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.ERROR)
    for handler in (out, err):
        handler.setFormatter(logging.Formatter("%(message)s"))
        LOG.addHandler(handler)


def data_dir_of(option: str | None) -> Path | UPath:
    """``--data-dir``, else ``CALLOPS_DATA_DIR``, else ``data``: a local folder made absolute, or
    an object-storage URL (``s3://bucket/prefix``) as given; exported so the definitions
    (loaded later) use the same one."""
    chosen = (option or "").strip() or os.environ.get("CALLOPS_DATA_DIR", "").strip() or "data"
    try:
        root = data_path(chosen)
    except ValueError as exc:
        raise Refusal(f"data dir {chosen} (--data-dir or CALLOPS_DATA_DIR): {exc}") from None
    if is_local(root):
        root = root.expanduser().resolve()
        if root.is_file():
            raise Refusal(f"data dir {root} is a file, not a folder")
    os.environ["CALLOPS_DATA_DIR"] = str(root)
    LOG.debug(f"data dir: {root}")
    return root


def use_instance(root: Path | UPath) -> Path:
    """``DAGSTER_HOME`` when set, else ``<root>/.dagster_home``; created (telemetry off, the
    project's SQLite storage: platform/instance.py) when missing. A data dir on object storage has no local folder for it: ``DAGSTER_HOME`` is needed."""
    home = os.environ.get("DAGSTER_HOME", "").strip()
    if not home and not is_local(root):
        raise Refusal(f"the data dir {root} is on object storage: set DAGSTER_HOME to the Dagster instance's folder")
    source = "DAGSTER_HOME" if home else "the data dir's own, DAGSTER_HOME not set"
    path = Path(home).expanduser().resolve() if home else Path(root) / ".dagster_home"
    path.mkdir(parents=True, exist_ok=True)
    if not (path / "dagster.yaml").exists():
        (path / "dagster.yaml").write_text(INSTANCE_FILE, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(path)
    LOG.debug(f"Dagster instance: {path} ({source})")
    return path


def load_runner(root: Path | UPath) -> tuple[ModuleType, Any]:
    """The Dagster side (loaded now that the environment is set) and the instance."""
    use_instance(root)
    import dagster as dg

    for category in (dg.PreviewWarning, dg.BetaWarning):
        warnings.simplefilter("ignore", category)
    from callops_dagster import runner

    return runner, runner.open_instance(root)


def common_options(command: Callable) -> Callable:
    """``--data-dir``, ``-v`` and ``-q``, on every subcommand."""
    options = [
        click.option("--data-dir", metavar="DIR|URL",
                     help="Data directory, or s3://bucket/prefix [default: CALLOPS_DATA_DIR, else data/]."),
        click.option("-v", "--verbose", is_flag=True, help="Also say which data dir and Dagster instance are used."),
        click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors."),
    ]
    return functools.reduce(lambda cmd, option: option(cmd), reversed(options), refusals(command))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """callops: daily loan-collection call reports, as Dagster assets."""


# ---------------------------------------------------------------- run


def _report(runner: ModuleType, result: Any, *, full: bool) -> None:
    """A day's line, its failed checks and (``full``, when it succeeded) its reports and message."""
    if result.success:
        LOG.info(f"{result.day}: ok (run {result.run_id[:8]})")
    else:
        LOG.warning(f"{result.day}: FAILED (run {result.run_id[:8]}): {result.failure}")
    if full and result.success:
        folder = runner.reports_folder(result.day)
        LOG.info(f"\nReports in {folder}/:")
        for name, meaning in REPORT_MEANINGS.items():
            LOG.info(f"  {name}: {meaning}")
        with storage_errors(folder / "slack_message.txt", "read"):
            LOG.info("\n" + (folder / "slack_message.txt").read_text(encoding="utf-8"))
    if result.checks:
        LOG.warning(f"{'Checks' if full else '  checks'} that warned or failed on {result.day}:")
        for line in result.checks:
            LOG.warning(f"{'  ' if full else '    '}{line.text()}")
    elif full:
        LOG.info(f"No check warned or failed on {result.day}.")


def run_files(root: Path | UPath, paths: Sequence[Path], date_text: str | None, replace: bool) -> int:
    """Check the three files, choose the day, land it, run it, report it."""
    files = check_files(paths)
    if date_text:
        day = parse_day(date_text)
    else:
        guess = call_day(files[CALL_LOGS])
        LOG.info(f"Day {guess.day}: the {guess.note()}")
        day = guess.day
    target = root / "landing" / day.isoformat()
    plan_landing(target, files, replace=replace)  # refuses a differing day before Dagster loads
    runner, instance = load_runner(root)
    if problem := runner.partition_range_problem(day):
        raise Refusal(problem)
    done = land_files(root, day, files, replace=replace)
    LOG.info(f"{target}: {LANDED[done]}")
    cursor = prime(runner, instance, [day.isoformat()])
    result = runner.run_day(instance, day.isoformat())
    _report(runner, result, full=True)
    weeks_ok = run_weeks(runner, instance, [result])
    refreshed_ok = refresh(runner, instance, cursor, [result])
    return 0 if result.success and weeks_ok and refreshed_ok else 1


class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.started = total, time.monotonic()
        self.enabled = enabled and sys.stderr.isatty()

    def show(self, done: int, day: str) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K" + progress_line(done, self.total, day, time.monotonic() - self.started))
            sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def run_landed(root: Path | UPath, day_text: str | None) -> int:
    """Every landed day in date order (or the one ``--day``), one run each."""
    days = [d.isoformat() for d in landed_days(root)]
    if day_text:
        day = parse_day(day_text).isoformat()
        if day not in days:
            raise Refusal(f"{day} is not landed under {root / 'landing'}")
        days = [day]
    if not days:
        raise Refusal(f"no landed days under {root / 'landing'}; land one with `callops run {ORDER}`, "
                      "or generate sample days with `callops mock`")
    runner, instance = load_runner(root)
    progress = Progress(len(days), LOG.isEnabledFor(logging.INFO))
    cursor = prime(runner, instance, days)
    results = []
    for done, day in enumerate(days):
        if problem := runner.partition_range_problem(dt.date.fromisoformat(day)):
            LOG.warning(f"{day}: skipped ({problem})")
            continue
        progress.show(done, day)
        result = runner.run_day(instance, day)
        progress.clear()
        _report(runner, result, full=len(days) == 1)
        results.append(result)
    succeeded = [r for r in results if r.success]
    weeks_ok = run_weeks(runner, instance, results) and refresh(runner, instance, cursor, results)
    if len(days) > 1 and succeeded:
        latest = runner.reports_folder(succeeded[-1].day)
        LOG.info(f"\nReports: {root / 'reports'}/<date>/\nLatest Slack message ({latest / 'slack_message.txt'}):\n")
        with storage_errors(latest / "slack_message.txt", "read"):
            LOG.info((latest / "slack_message.txt").read_text(encoding="utf-8"))
    return 0 if len(succeeded) == len(days) and weeks_ok else 1


def run_weeks(runner: ModuleType, instance: Any, results: Sequence[Any]) -> bool:
    """Run the week holding each day that succeeded (once, after the days); False if one failed."""
    weeks, unfinished = runner.weeks_of([r.day for r in results if r.success])
    for week in unfinished:
        LOG.info(f"Week of {week}: not over yet; callops_weekly runs it once it has ended")
    ok = True
    for week in weeks:
        result = runner.run_week(instance, week)
        if result.success:
            LOG.info(f"Week of {week} written (run {result.run_id[:8]}): {runner.weekly_file(week)}")
        else:
            LOG.warning(f"Week of {week} FAILED (run {result.run_id[:8]}): {result.failure}")
            ok = False
    return ok


def prime(runner: ModuleType, instance: Any, days: Sequence[str]) -> Any:
    """Before the runs: where the automation conditions stand, when anything materialised can
    read these days and no live daemon refreshes for us; None otherwise (nothing to refresh)."""
    if runner.daemon_refreshes(instance) or not runner.reads_later(instance, days):
        return None
    return runner.prime_refresh(instance)


def refresh(runner: ModuleType, instance: Any, cursor: Any, results: Sequence[Any]) -> bool:
    """Bring up to date every day and week that was materialised before and reads a day this
    command changed (the assets' automation conditions decide, as the daemon's sensor does);
    say which and why. False if one failed."""
    if runner.daemon_refreshes(instance):
        LOG.info("Later days and weeks that read these days: the running daemon's automation sensor refreshes them")
        return True
    if cursor is None:  # nothing materialised could read these days
        return True
    ok = True

    def said(done: Any) -> None:
        nonlocal ok
        what = f"week of {done.partition}" if done.weekly else done.partition
        state = "refreshed" if done.result.success else "refresh FAILED"
        LOG.info(f"{what}: {state} ({', '.join(done.assets)}): {done.why} (run {done.result.run_id[:8]})")
        if not done.result.success:
            LOG.warning(f"  {done.result.failure}")
            ok = False

    refreshed = runner.refresh_dependents(instance, cursor, [r.day for r in results], said)
    if refreshed:
        LOG.info(f"{len(refreshed)} later day(s)/week(s) brought up to date")
    return ok


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--date", "date_text", metavar="YYYY-MM-DD", help="The day of the files [default: the call_date most call rows carry].")
@click.option("--replace", is_flag=True, help="Replace a landed day whose files differ.")
@click.option("--day", "day_text", metavar="YYYY-MM-DD", help="Without files: run only this landed day.")
@common_options
def run(files: tuple[Path, ...], date_text: str | None, replace: bool, day_text: str | None,
        data_dir: str | None, verbose: bool, quiet: bool) -> None:
    """Land CALL_LOGS AGENT_ROSTER DISPOSITION_SUMMARY as one day and run it; without files, run
    every landed day; then the week holding each day. Exit status 0 when every day and week
    succeeded, 1 otherwise, 2 on a refusal."""
    configure_logging(verbose, quiet)
    root = data_dir_of(data_dir)
    if files and len(files) != 3:
        raise Refusal(f"give the three files {ORDER} (got {len(files)}), or none to run every landed day")
    if files and day_text:
        raise Refusal("--day runs a landed day; with files, give their day with --date")
    if not files and (date_text or replace):
        raise Refusal(f"--date and --replace go with the three files {ORDER}; --day runs one landed day")
    sys.exit(run_files(root, files, date_text, replace) if files else run_landed(root, day_text))


# ---------------------------------------------------------------- status


@main.command()
@click.option("--logs", "logs_day", metavar="YYYY-MM-DD",
              help="Instead: where the day's last callops_daily run's stdout and stderr are, and their last lines.")
@click.option("--lines", type=click.IntRange(min=0), default=20, show_default=True,
              help="With --logs: how many last lines of each.")
@common_options
def status(logs_day: str | None, lines: int, data_dir: str | None, verbose: bool, quiet: bool) -> None:
    """A table of the landed days: files, materialised or not and when, the latest run, whether
    an input changed since (its refresh pending, or done and by which run), and the checks that
    warned or failed in it (as recorded in the Dagster instance); then the materialised weeks.
    With --logs DAY, the raw stdout and stderr of the day's last run instead, wherever it ran
    (on a cluster: read from object storage, as the UI's log viewer does)."""
    configure_logging(verbose, quiet)
    root = data_dir_of(data_dir)
    if logs_day is not None:
        _show_run_logs(root, logs_day, lines)
        return
    folders = scan_landing(root).days
    if not folders:
        LOG.info(f"No landed days under {root / 'landing'}.")
        return
    runner, instance = load_runner(root)
    reader = runner.staleness_reader(instance)
    rows = [runner.day_status(instance, day.isoformat(), folders[day], reader) for day in sorted(folders)]
    click.echo(status_table(rows))
    weeks = runner.week_statuses(instance, reader)
    if weeks:
        click.echo("\n" + weeks_table(weeks))
    for row in rows:
        for line in row.checks:
            LOG.debug(f"{row.day} {line.text()}")


def _show_run_logs(root: Path | UPath, day_text: str, lines: int) -> None:
    """``callops status --logs DAY``: exit status 1 when the day has no run."""
    try:
        day = dt.date.fromisoformat(day_text.strip()).isoformat()
    except ValueError:
        raise Refusal(f"--logs {day_text!r} is not a day (YYYY-MM-DD)") from None
    home = use_instance(root)  # the instance only: the definitions are not needed
    import dagster as dg

    from callops_dagster.cluster.log_view import render
    from callops_dagster.cluster.run_logs import day_run_logs

    with dg.DagsterInstance.get() as instance:
        logs = day_run_logs(instance, day)
    if logs is None:
        LOG.error(f"{day} has no run in the Dagster instance {home}")
        sys.exit(1)
    click.echo(render(logs, lines))


# ---------------------------------------------------------------- mock


def _date_option(ctx: click.Context, param: click.Parameter, value: str) -> dt.date:
    try:
        return parse_day(value)
    except IntakeError as exc:
        raise Refusal(str(exc).replace("--date", f"--{param.name}")) from None


@main.command()
@click.option("--start", required=True, callback=_date_option, metavar="YYYY-MM-DD", help="First day.")
@click.option("--days", type=click.IntRange(min=1), default=1, show_default=True, help="Consecutive days.")
@click.option("--calls", type=int, default=2000, show_default=True, help="Clean call rows per day.")
@click.option("--agents", type=int, default=40, show_default=True, help="Minimum roster size.")
@click.option("--orgs", type=int, default=3, show_default=True)
@click.option("--defect-rate", type=float, default=0.01, show_default=True, help="Rate per defect class.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--duration-unit", type=click.Choice(["minutes", "seconds"]), default="minutes", show_default=True,
              help="Unit the durations are written in (CALLOPS_DURATION_UNIT must match when they are run).")
@click.option("--out", hidden=True)  # the old name of --data-dir
@common_options
def mock(start: dt.date, days: int, out: str | None, data_dir: str | None, verbose: bool, quiet: bool,
         **sizes: Any) -> None:
    """Generate sample landing days (every defect class of the contract at --defect-rate,
    deterministic for --seed). A day already landed is left as it is."""
    configure_logging(verbose, quiet)
    root = data_dir_of(data_dir or out)
    for day in (start + dt.timedelta(days=i) for i in range(days)):
        target = root / "landing" / day.isoformat()
        with storage_errors(target, "read"):
            landed = target.exists() and any(target.iterdir())
        if landed:
            LOG.info(f"{day}: already landed in {target}; left as it is")
            continue
        try:
            _mock_day(root, day, target, sizes)
        except ValueError as exc:
            raise Refusal(str(exc)) from None
        LOG.info(f"{day}: wrote {target} ({sizes['calls']} calls)")


def _mock_day(root: Path | UPath, day: dt.date, target: Path | UPath, sizes: dict[str, Any]) -> None:
    """Generate ``day`` in a hidden staging folder and land it at ``target``: locally one rename
    (the staging folder is beside it); on object storage each file put whole (``land_files``)."""
    from callops_dagster.mock.data import generate_day

    local = is_local(root)
    if local:
        (root / "landing").mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root / "landing" if local else None, prefix=f".{day}.mock-"))
    try:
        generate_day(day, staging, **sizes)
        staged = staging / "landing" / day.isoformat()
        if local:
            move_in(staged, target)
        else:
            land_files(root, day, {spec: staged / spec.file_name for spec in SOURCES})
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------- cluster mode (docs/deploy.md)


def cluster_home() -> Path:
    """``DAGSTER_HOME``, which cluster mode needs set (to a copy of deploy/dagster.yaml)."""
    home = os.environ.get("DAGSTER_HOME", "").strip()
    if not home or not (Path(home) / "dagster.yaml").is_file():
        raise Refusal("set DAGSTER_HOME to a folder holding a copy of deploy/dagster.yaml (docs/deploy.md)")
    return Path(home).expanduser().resolve()


@main.command()
@click.option("-v", "--verbose", is_flag=True, help="Also say which Dagster instance is used.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@refusals
def migrate(verbose: bool, quiet: bool) -> None:
    """Create the Dagster tables of the cluster's instance (DAGSTER_HOME, DAGSTER_PG_URL) if the
    database is empty, then migrate them to this Dagster. Run it once before starting the
    webserver, the daemon and the workers, and after upgrading Dagster."""
    configure_logging(verbose, quiet)
    home = cluster_home()
    LOG.debug(f"Dagster instance: {home}")
    from callops_dagster.cluster.storage import ClusterSetupError
    from callops_dagster.cluster.storage import migrate as migrate_instance
    from callops_dagster.cluster.urls import PostgresUrlError

    try:
        where = migrate_instance(home, LOG.debug)
    except (ClusterSetupError, PostgresUrlError) as exc:
        raise Refusal(str(exc)) from None
    LOG.info(f"The Dagster tables in {where} are ready.")


@main.command()
@click.option("--name", help="Worker name; the host name is added [default: dagster-<random>@host].")
@click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True,
              help="Runs at once (prefork pool processes).")
@click.option("--queue", help="Queue to take runs from [default: CALLOPS_CELERY_QUEUE, else dagster].")
@click.option("--loglevel", default="INFO", show_default=True, help="Celery's log level.")
@click.option("-v", "--verbose", is_flag=True, help="Also say which Dagster instance is used.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@refusals
def worker(name: str | None, concurrency: int, queue: str | None, loglevel: str, verbose: bool, quiet: bool) -> None:
    """Start a Celery worker that runs what the cluster's daemon launches (runs the day in
    CALLOPS_DATA_DIR, records it in DAGSTER_HOME's instance). Needs `callops migrate` first."""
    from callops_dagster.cluster.urls import redacted
    from callops_dagster.cluster.worker import WorkerOptions, worker_argv, worker_env, write_config
    from callops_dagster.platform.settings import load_settings

    configure_logging(verbose, quiet)
    home = cluster_home()
    settings = load_settings()
    # loads dagster: after the checks above
    from callops_dagster.cluster.storage import ClusterSetupError, check_schema
    from callops_dagster.cluster.urls import PostgresUrlError

    try:
        check_schema(home)
    except (ClusterSetupError, PostgresUrlError) as exc:
        raise Refusal(str(exc)) from None
    options = WorkerOptions(broker=settings.celery_broker, backend=settings.celery_backend,
                            queue=queue or settings.celery_queue, concurrency=concurrency, name=name,
                            loglevel=loglevel)
    bin_dir = Path(sys.executable).parent  # the venv's bin, not resolved: its python is the venv's
    argv = worker_argv(bin_dir, write_config(home, options), options)
    LOG.info(f"Worker on queue {options.queue} of {redacted(options.broker)}, {concurrency} run(s) at once, "
             f"instance {home}, data {settings.data_dir}")
    LOG.debug(" ".join(argv))
    sys.stdout.flush()
    # dagster-celery writes the broker and backend URLs (passwords included) to a new file under
    # DAGSTER_HOME/dagster_celery/ at every start: owner-only, as callops-worker.yaml is.
    os.umask(0o077)
    os.execve(argv[0], argv, worker_env(os.environ, bin_dir))

"""Taking in a day's three files from anywhere: which file is which, which day, landing it.

Plain Python and pandas, no dagster: ``callops run a.csv b.csv c.csv`` calls these before it
runs the day. Every refusal is an ``IntakeError`` whose message is one line for people.

Decisions (docs/operations.md, "callops run on your own files"):
- the files are recognised by header (the contract's normalisation: trimmed, any case, BOM
  allowed); files given in another order are refused, with the order that would work;
- the day is the call_date most well-formed call rows carry (a real ``YYYY-MM-DD``, trimmed);
  a tie goes to the latest of the tied dates (a day's file carries late rows of earlier days,
  never rows of later ones);
- a day lands all at once (a hidden temporary folder next to it, then a rename); a landed day
  with the same bytes is left as it is, one with other bytes is only replaced when asked.
  On object storage (``s3://...``) there are no folders to rename: each file is put whole
  (one PUT), a required file last (``_put_files``), and the landing sensor's two looks wait
  for the set to settle. A put that fails leaves the day incomplete (never a complete mix of
  old and new files) and the refusal says which files were replaced and which were not.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from upath import UPath

from callops_dagster.contract.sources import (
    AGENT_ROSTER,
    CALL_LOGS,
    DISPOSITION_SUMMARY,
    RAW_TEXT,
    SOURCES,
    SourceSpec,
)
from callops_dagster.ingest.reading import (
    SourceFileError,
    normalise_header,
    read_header,
    read_landing_csv,
)
from callops_dagster.ingest.validation import valid_dates
from callops_dagster.platform.files import write_atomic
from callops_dagster.platform.storage import data_path, is_file, is_local, storage_errors

ORDER = " ".join(spec.name.upper() for spec in SOURCES)


class IntakeError(ValueError):
    """Files or a day that cannot be taken in; the message is one line for people."""


# ---------------------------------------------------------------- which file is which


def missing_columns(header: Sequence[str], spec: SourceSpec) -> list[str]:
    """``spec``'s required columns absent from ``header`` (after header normalisation)."""
    present = {normalise_header(name) for name in header}
    return [column for column in spec.columns if column not in present]


def recognise(header: Sequence[str]) -> SourceSpec | None:
    """The source whose required columns the header has; the one needing most columns when
    several fit (a file with every column of all three is a call log); None when none does."""
    fits = [spec for spec in SOURCES if not missing_columns(header, spec)]
    return max(fits, key=lambda spec: len(spec.columns), default=None)


def _header(path: Path) -> list[str]:
    if not path.exists():
        raise IntakeError(f"{path}: no such file")
    if not path.is_file():
        raise IntakeError(f"{path}: not a file")
    try:
        return read_header(path, path.name)
    except (SourceFileError, OSError) as exc:
        raise IntakeError(f"{path}: {getattr(exc, 'problem', exc)}") from None


def check_files(paths: Sequence[Path]) -> dict[SourceSpec, Path]:
    """The three paths by source, checked by header, in the order ``ORDER``; ``IntakeError``
    naming the first file that is missing, unreadable, in the wrong place or not a source."""
    headers = [_header(Path(p)) for p in paths]
    seen = [recognise(h) for h in headers]
    for path, header, expected, found in zip(paths, headers, SOURCES, seen):
        if found == expected:
            continue
        if found is not None and sorted(s.name for s in seen if s) == sorted(s.name for s in SOURCES):
            looks = ", ".join(f"{p} looks like {s.file_name}" for p, s in zip(paths, seen))
            raise IntakeError(f"files given in the wrong order ({looks}); give them as {ORDER}")
        if found is not None:
            raise IntakeError(f"{path}, given as {expected.name.upper()}, looks like {found.file_name}")
        missing = ", ".join(missing_columns(header, expected))
        raise IntakeError(
            f"{path}, given as {expected.name.upper()}, is not a {expected.file_name}: missing column(s) {missing} "
            f"(header: {', '.join(header) or 'empty'})"
        )
    return dict(zip(SOURCES, (Path(p) for p in paths)))


# ---------------------------------------------------------------- which day


@dataclass(frozen=True)
class DayGuess:
    """The day the call rows carry: how many rows carry it, out of how many rows read."""

    day: dt.date
    rows: int
    rows_read: int
    tied_with: tuple[dt.date, ...] = ()

    def note(self) -> str:
        tie = f"; as many carry {', '.join(d.isoformat() for d in self.tied_with)}, the latest was taken" if self.tied_with else ""
        return f"call_date {self.day.isoformat()} ({self.rows} of {self.rows_read} call rows{tie})"


def guess_day(call_dates: pd.Series) -> DayGuess | None:
    """The call_date most values are (trimmed, real ``YYYY-MM-DD`` dates only); ties go to the
    latest; None when no value is such a date."""
    trimmed = call_dates.dropna().astype("str").str.strip()
    counts = trimmed[valid_dates(trimmed)].value_counts()
    if counts.empty:
        return None
    top = sorted((dt.date.fromisoformat(d) for d in counts[counts == counts.max()].index), reverse=True)
    return DayGuess(top[0], int(counts.max()), len(call_dates), tuple(top[1:]))


def call_day(call_logs: Path) -> DayGuess:
    """The day of a call_logs file (its well-formed rows); ``IntakeError`` when it has none."""
    try:
        table = read_landing_csv(call_logs, CALL_LOGS)
    except SourceFileError as exc:
        raise IntakeError(f"{call_logs}: {exc.problem}" + (f" (line {exc.line})" if exc.line else "")) from None
    frame = table.frame
    guess = guess_day(frame.loc[frame[RAW_TEXT].isna(), "call_date"])
    if guess is None:
        raise IntakeError(f"{call_logs}: no call row has a call_date written YYYY-MM-DD; give the day with --date")
    return guess


def parse_day(text: str) -> dt.date:
    """A ``--date`` value: exactly ``YYYY-MM-DD`` and a real date."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        day = None
    if day is None or day.isoformat() != text.strip():
        raise IntakeError(f"--date {text!r} is not a date written YYYY-MM-DD")
    return day


def partition_problem(day: dt.date, first: dt.date, last: dt.date) -> str | None:
    """Why ``day`` has no daily partition (and which setting moves the range), or None."""
    if day < first:
        return f"{day} is before the first partition {first}; CALLOPS_START_DATE moves it"
    if day > last:
        return (f"{day} is after the last complete partition {last} (days end in CALLOPS_TIMEZONE; "
                "a day can be run once it is over)")
    return None


# ---------------------------------------------------------------- landing


def same_bytes(landed: Path | UPath, given: Path) -> bool:
    """True when the landed file (local or an object) holds exactly the bytes of ``given``."""
    if is_local(landed):
        return filecmp.cmp(landed, given, shallow=False)
    return landed.stat().st_size == Path(given).stat().st_size and landed.read_bytes() == Path(given).read_bytes()


def differing_files(folder: Path | UPath, files: Mapping[SourceSpec, Path]) -> list[str]:
    """The landing names of ``files`` whose bytes differ from (or are absent in) ``folder``."""
    return [
        spec.file_name for spec, path in files.items()
        if not is_file(folder / spec.file_name) or not same_bytes(folder / spec.file_name, path)
    ]


def move_in(staged: Path, target: Path, *, replace: bool = False) -> None:
    """Rename the folder ``staged`` to ``target`` (same file system: all at once); with
    ``replace`` an existing ``target`` is swapped out first and then removed."""
    old = None
    if replace and target.exists():
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
        os.replace(target, old / target.name)
    try:
        os.rename(staged, target)
    except OSError:
        if old is not None:  # put the old day back
            os.replace(old / target.name, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def plan_landing(target: Path | UPath, files: Mapping[SourceSpec, Path], *, replace: bool = False) -> str:
    """What landing ``files`` in the day folder ``target`` does: ``"land"`` (nothing there),
    ``"keep"`` (the same bytes are there) or ``"replace"`` (other files are there and
    ``replace``); ``IntakeError`` naming the differing files when they are there and not ``replace``,
    ``StorageError`` naming ``target`` when object storage fails."""
    with storage_errors(target, "read"):
        if not any((target / spec.file_name).exists() for spec in files):
            return "land"
        differ = differing_files(target, files)
    if not differ:
        return "keep"
    if not replace:
        raise IntakeError(
            f"{target} is already landed with other files ({', '.join(differ)} "
            f"{'differs' if len(differ) == 1 else 'differ'}); --replace to overwrite it"
        )
    return "replace"


def land_files(
    data_dir: Path | UPath, day: dt.date, files: Mapping[SourceSpec, Path], *, replace: bool = False
) -> str:
    """Copy ``files`` byte for byte to ``<data_dir>/landing/<day>/`` under their contract names,
    all at once (on object storage: file by file, each whole), as ``plan_landing`` decides;
    returns its decision."""
    target = data_path(data_dir) / "landing" / day.isoformat()
    plan = plan_landing(target, files, replace=replace)
    if plan == "keep":
        return plan
    if not is_local(target):
        _put_files(target, files, replacing=plan == "replace")
        return plan
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{day.isoformat()}.new-"))
    try:
        for spec, path in files.items():
            shutil.copyfile(path, staged / spec.file_name)
            os.chmod(staged / spec.file_name, 0o644)
        os.chmod(staged, 0o755)
        move_in(staged, target, replace=plan == "replace")
    except OSError as exc:
        raise IntakeError(f"cannot land {target}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return plan


# Put last on object storage: a required file of the landing sensor (watch.REQUIRED_FILES), so a
# day is complete only once every file is in. Replacing a day removes it first.
PUT_LAST = DISPOSITION_SUMMARY


def _put_files(target: UPath, files: Mapping[SourceSpec, Path], *, replacing: bool = False) -> None:
    """Put each of ``files`` whole (one PUT each) under the object-storage folder ``target``.

    S3 has no rename to swap a day's folder at once, so the order does the work: the landing
    sensor runs a day once its required files (call logs, dispositions) are there and unchanged
    for two looks. ``PUT_LAST`` (the dispositions) goes last, and when the day is being replaced
    its old copy is removed first: between the first put and the last the day is incomplete,
    so a failure in between leaves a day the sensor does not run (never old files complete
    beside new ones), and ``IntakeError`` says which files were replaced and which were not.
    """
    ordered = sorted(files.items(), key=lambda item: (item[0] == PUT_LAST, item[0] != AGENT_ROSTER))
    done: list[str] = []
    removed = False
    held = target / PUT_LAST.file_name
    step = f"removing the old {PUT_LAST.file_name}"
    try:
        with storage_errors(held, "remove"):
            if replacing and PUT_LAST in files and held.exists():
                held.fs.rm_file(held.path)
                removed = True
        for spec, path in ordered:
            step = f"putting {spec.file_name}"
            write_atomic(target / spec.file_name, Path(path).read_bytes())
            done.append(spec.file_name)
    except OSError as exc:
        what = f"cannot land {target}: {step} failed ({exc.strerror or exc})"
        if not done and not removed:
            raise IntakeError(f"{what}; nothing was changed; run again{' with --replace' if replacing else ''}") from None
        verb = "replaced" if replacing else "landed"
        left = [spec.file_name for spec, _ in ordered if spec.file_name not in done]
        note = (f" ({PUT_LAST.file_name} removed: the landing sensor does not run a day of old and new files)"
                if removed and PUT_LAST.file_name in left else "")
        raise IntakeError(
            f"{what}; {verb}: {', '.join(done) or 'none'}; not {verb}: {', '.join(left)}{note}; "
            "the day is incomplete: run again with --replace"
        ) from None

"""Mock landing-data generator shaped like real dialer exports (pure Python, no dagster).

Writes ``<out>/landing/<YYYY-MM-DD>/{call_logs,agent_roster,disposition_summary}.csv`` with
exactly the data contract's columns, UTF-8, LF line ends, RFC 4180 quoting. Every row-level
defect class of the contract is injected at ``defect_rate`` per class. Output is a pure
function of the arguments (numpy ``Generator`` seeded from ``seed`` and the date; no clock).
Call rows are built column-wise with numpy/pyarrow so a 5M-call day takes seconds.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CALL_COLUMNS = ["call_id", "agent_id", "org_id", "installment_id", "status", "duration",
                "created_ts", "call_date"]
ROSTER_COLUMNS = ["agent_id", "users_first_name", "users_last_name", "users_office_location",
                  "org_id"]
DISPOSITION_COLUMNS = ["agent_id", "org_id", "call_date", "login_time"]
STATUSES = ("completed", "connected", "failed", "busy", "no_answer", "voicemail", "canceled")
STATUS_P = (0.40, 0.14, 0.12, 0.10, 0.12, 0.08, 0.04)  # first two are "talking" statuses
FIRST_NAMES = ("Ravi", "Zoë", "José", "Ananya", "राहुल", "Meera", "Vikram", "प्रिया", "Amit",
               "Siobhán", "NA", "Mary, Ann", "Rohan", "Ștefan", "Priya")
LAST_NAMES = ("Sharma", "O'Brien", "Björk", "Müller", "Reddy", "Singh", "D'Souza", "Kapoor",
              "शर्मा", "Null", "Iyer, Jr.", "Núñez", "Kumar")
OFFICES = ("Hyderabad, Telangana", "Mumbai", "Pune", "Bengaluru", "Chennai, Tamil Nadu",
           'Noida "Tower B"', "Kolkata")
BAD_DATES = ("{d:%Y/%m/%d}", "2025-13-40", "yesterday", "{d:%d-%m-%Y}", "{d:%Y}-02-30",
             "{d:%Y%m%d}")
BAD_DURATIONS = ("-5", "NaN", "abc", "", "1e3", "inf")
#: Row-level defect classes injected into call_logs.csv, each at ``defect_rate``.
CALL_DEFECTS = ("missing_call_id", "missing_agent_id", "missing_org_id", "missing_call_date",
                "bad_call_date", "call_date_outside_partition", "duplicate_exact",
                "duplicate_superseded", "padded_value", "upper_status", "bad_duration",
                "empty_installment_id", "malformed_row")
LS = pa.large_string()


def _rng(seed: int, day: dt.date | None = None) -> np.random.Generator:
    return np.random.default_rng([seed, day.toordinal() if day else 0])


def _count(n: int, rate: float) -> int:
    """Rows of one defect class: ``rate`` of ``n``, at least one when the rate is positive."""
    return 0 if rate <= 0 or n <= 0 else max(1, round(n * rate))


def _hms(s: int) -> str:
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _population(n_agents: int, orgs: int, seed: int) -> tuple[list[str], list[str], list[list[str]]]:
    """Static agent population (same for every day): ids, org ids and roster rows.

    Every tenth agent (index 1, 11, ...) reuses the previous agent's id in another org, so
    e.g. AG1000 in ORG01 and AG1000 in ORG02 are two different people.
    """
    rng = _rng(seed)
    fo, lo, oo = (int(x) for x in rng.integers(0, 1000, 3))
    ids = [f"AG{1000 + i}" for i in range(n_agents)]
    if orgs > 1:
        for i in range(1, n_agents, 10):
            ids[i] = ids[i - 1]
    org_ids = [f"ORG{i % orgs + 1:02d}" for i in range(n_agents)]
    roster = [[ids[i], FIRST_NAMES[(i + fo) % len(FIRST_NAMES)],
               LAST_NAMES[(5 * i + lo) % len(LAST_NAMES)],
               OFFICES[(3 * i + oo) % len(OFFICES)], org_ids[i]] for i in range(n_agents)]
    return ids, org_ids, roster


def _replace(arr: pa.Array, idx: np.ndarray, values: list[str]) -> pa.Array:
    """Replace ``arr[idx]`` (idx sorted ascending) by ``values``."""
    if len(idx) == 0:
        return arr
    mask = np.zeros(len(arr), dtype=bool)
    mask[idx] = True
    return pc.replace_with_mask(arr, pa.array(mask), pa.array(values, LS))


def _join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(
        *[pa.scalar(p, LS) if isinstance(p, str) else p for p in parts], pa.scalar(sep, LS))


def _call_lines(day: dt.date, rng: np.random.Generator, who_ids: pa.Array, who_orgs: pa.Array,
                callers: np.ndarray, n_roster: int, n_ghost: int, n: int, rate: float) -> pa.Array:
    """All call_logs data lines (each ending in LF), defects included, in file order."""
    ds, prev = day.isoformat(), (day - dt.timedelta(days=1)).isoformat()
    stamps = pa.array([f"{ds} {_hms(s)}" for s in range(86400)], LS)
    secs = np.sort(rng.integers(8 * 3600, 20 * 3600, n))
    weight = rng.gamma(2.0, size=len(callers))
    who = rng.choice(callers, n, p=weight / weight.sum())
    ghost = rng.random(n) < 0.01  # calls by agents missing from the roster
    who[ghost] = n_roster + rng.integers(0, n_ghost, int(ghost.sum()))
    code = rng.choice(len(STATUSES), n, p=STATUS_P)
    dur = np.where(code < 2, rng.integers(15, 1500, n), 0)
    port = max(2, round(n / max(1, len(callers)) / 3))  # loans per agent: ~3 contacts each
    loan = 100000 + who * port + rng.integers(0, port, n)
    cols = {
        "call_id": _join(f"C{day.toordinal()}", pc.utf8_lpad(
            pc.cast(pa.array(np.arange(1, n + 1)), LS), width=max(8, len(str(n))), padding="0")),
        "agent_id": who_ids.take(who), "org_id": who_orgs.take(who),
        "installment_id": _join("INST", pc.cast(pa.array(loan), LS)),
        "status": pa.array(STATUSES, LS).take(code), "duration": pc.cast(pa.array(dur), LS),
        "created_ts": stamps.take(secs), "call_date": pa.array([ds], LS).take(np.zeros(n, int)),
    }
    counts, left = {}, n
    for name in CALL_DEFECTS:
        counts[name] = min(_count(n, rate), left)
        left -= counts[name]
    picks = rng.choice(n, n - left, replace=False) if n - left else np.zeros(0, int)
    sel = dict(zip(CALL_DEFECTS, (np.sort(p) for p in np.split(
        picks, np.cumsum([counts[c] for c in CALL_DEFECTS])[:-1]))))
    vals = {name: {c: a.take(sel[name]).to_pylist() for c, a in cols.items()}
            for name in ("padded_value", "upper_status", "malformed_row", "duplicate_superseded")}
    for c in ("call_id", "agent_id", "org_id", "call_date"):
        cols[c] = _replace(cols[c], sel[f"missing_{c}"], [""] * len(sel[f"missing_{c}"]))
    cols["call_date"] = _replace(cols["call_date"], sel["bad_call_date"], [
        BAD_DATES[r].format(d=day) for r in rng.integers(0, len(BAD_DATES), counts["bad_call_date"])])
    late = sel["call_date_outside_partition"]  # a late row: yesterday's call, exported today
    cols["call_date"] = _replace(cols["call_date"], late, [prev] * len(late))
    cols["created_ts"] = _replace(cols["created_ts"], late, [f"{prev} {_hms(secs[i])}" for i in late])
    field = rng.integers(0, 3, counts["padded_value"])
    for f, c in enumerate(("call_id", "agent_id", "org_id")):
        cols[c] = _replace(cols[c], sel["padded_value"][field == f],
                           [f" {v} " for v, g in zip(vals["padded_value"][c], field) if g == f])
    cols["status"] = _replace(cols["status"], sel["upper_status"],
                              [f" {v.upper()} " for v in vals["upper_status"]["status"]])
    cols["duration"] = _replace(cols["duration"], sel["bad_duration"], [
        BAD_DURATIONS[r] for r in rng.integers(0, len(BAD_DURATIONS), counts["bad_duration"])])
    cols["installment_id"] = _replace(cols["installment_id"], sel["empty_installment_id"],
                                      [""] * counts["empty_installment_id"])
    lines = _join(_join(*(cols[c] for c in CALL_COLUMNS), sep=","), "\n")
    bad = []  # one field too many (odd) or too few (even: duration dropped)
    for k, row in enumerate(zip(*(vals["malformed_row"][c] for c in CALL_COLUMNS))):
        bad.append(",".join(row + ("x",) if k % 2 else row[:5] + row[6:]) + "\n")
    lines = _replace(lines, sel["malformed_row"], bad)
    # Inserted rows: exact copies after their source; superseded versions (same call_id, other
    # status and duration, earlier created_ts, so the original stays the kept row) near it.
    exact, sup = sel["duplicate_exact"], sel["duplicate_superseded"]
    sv = vals["duplicate_superseded"]
    new_code = (code[sup] + rng.integers(1, len(STATUSES), len(sup))) % len(STATUSES)
    new_dur = np.where(new_code < 2, rng.integers(15, 1500, len(sup)), 0)
    new_ts = secs[sup] - rng.integers(60, 3600, len(sup))
    sup_lines = [",".join([sv["call_id"][k], sv["agent_id"][k], sv["org_id"][k],
                           sv["installment_id"][k], STATUSES[new_code[k]], str(new_dur[k]),
                           f"{ds} {_hms(int(new_ts[k]))}", ds]) + "\n" for k in range(len(sup))]
    extra = pa.concat_arrays([lines.take(exact), pa.array(sup_lines, LS)])
    keys = np.concatenate([np.arange(n, dtype=float),
                           exact + rng.integers(1, 200, len(exact)) + 0.5,
                           sup + rng.integers(-100, 100, len(sup)) + 0.5])
    return pa.concat_arrays([lines, extra]).take(np.argsort(keys, kind="stable"))


def _with_dupes(rows: list[list[str]], rng: np.random.Generator, rate: float, alter,
                stale_first: bool) -> list[list[str]]:
    """Insert duplicate rows: even picks exact copies (after the source), odd picks ``alter``ed
    ones; placed before the source when ``stale_first`` (a later row wins) so the source stays
    the row that wins, else after it."""
    k = min(_count(len(rows), rate), len(rows))
    keyed = [(float(i), r) for i, r in enumerate(rows)]
    for j, s in enumerate(rng.choice(len(rows), k, replace=False) if k else []):
        off = float(rng.integers(0, 20)) + 0.5
        if j % 2 == 0:
            keyed.append((s + off, list(rows[s])))
        else:
            keyed.append((s - off if stale_first else s + off, alter(rows[s], rng)))
    return [r for _, r in sorted(keyed, key=lambda t: t[0])]


def _later_login(row: list[str], rng: np.random.Generator) -> list[str]:
    if not row[3]:
        return list(row)
    h, m, s = (int(x) for x in row[3][11:].split(":"))
    return row[:3] + [f"{row[3][:10]} {_hms(h * 3600 + m * 60 + s + int(rng.integers(60, 3600)))}"]


def _other_office(row: list[str], rng: np.random.Generator) -> list[str]:
    others = [o for o in OFFICES if o != row[3]]
    return row[:3] + [others[int(rng.integers(0, len(others)))], row[4]]


def _atomic_write(path: Path, *chunks: bytes | memoryview) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _buffer(arr: pa.Array) -> memoryview | bytes:
    """The concatenated bytes of a large_string array (no copy)."""
    if len(arr) == 0:
        return b""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    return memoryview(arr.buffers()[2])[offsets[arr.offset]:offsets[arr.offset + len(arr)]]


def generate_day(day: dt.date, out_dir: Path, *, calls: int = 2000, agents: int = 40,
                 orgs: int = 3, defect_rate: float = 0.01, seed: int = 7) -> dict[str, Path]:
    """Write one landing day under ``<out_dir>/landing/<day>/`` and return the three paths.

    ``agents`` is a minimum: at least ``calls / 400`` roster agents are generated. About 1% of
    calls come from agents not in the roster; a few roster agents log in without calling, a few
    have an empty login_time and a few have no disposition row. ``defect_rate`` applies per
    defect class (see ``CALL_DEFECTS``; roster and disposition get duplicate rows).
    """
    if calls < 0 or agents < 1 or orgs < 1 or not 0 <= defect_rate <= 1 or seed < 0:
        raise ValueError("need calls >= 0, agents >= 1, orgs >= 1, 0 <= defect_rate <= 1, seed >= 0")
    n_roster = max(agents, math.ceil(calls / 400))
    n_ghost = max(1, n_roster // 50)
    ids, org_ids, roster = _population(n_roster, orgs, seed)
    ghost_ids = [f"AG{1000 + n_roster + g}" for g in range(n_ghost)]
    ghost_orgs = [f"ORG{g % orgs + 1:02d}" for g in range(n_ghost)]
    rng = _rng(seed, day)
    perm = rng.permutation(n_roster)
    a = max(2, n_roster // 20) if n_roster >= 10 else 0
    idle = set(perm[:a].tolist())  # log in, make no calls
    empty = set(perm[a - 1:2 * a - 1].tolist()) if a else set()  # empty login_time
    no_disp = set(perm[2 * a - 1:2 * a - 1 + max(1, n_roster // 50)].tolist()) if a else set()
    callers = np.array(sorted(set(range(n_roster)) - idle))
    lines = _call_lines(day, rng, pa.array(ids + ghost_ids, LS), pa.array(org_ids + ghost_orgs, LS),
                        callers, n_roster, n_ghost, calls, defect_rate)
    ds = day.isoformat()
    login = rng.integers(int(7.5 * 3600), int(10.5 * 3600), n_roster)
    disp = [[ids[i], org_ids[i], ds, "" if i in empty else f"{ds} {_hms(int(login[i]))}"]
            for i in range(n_roster) if i not in no_disp]
    disp = _with_dupes(disp, rng, defect_rate, _later_login, stale_first=False)
    roster = _with_dupes(roster, rng, defect_rate, _other_office, stale_first=True)
    folder = Path(out_dir) / "landing" / ds
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.csv"
             for name in ("call_logs", "agent_roster", "disposition_summary")}
    _atomic_write(paths["call_logs"], (",".join(CALL_COLUMNS) + "\n").encode(), _buffer(lines))
    _atomic_write(paths["agent_roster"], _csv_bytes(ROSTER_COLUMNS, roster))
    _atomic_write(paths["disposition_summary"], _csv_bytes(DISPOSITION_COLUMNS, disp))
    return paths


def generate_days(start: dt.date, days: int, out_dir: Path, **kwargs) -> list[Path]:
    """Write ``days`` consecutive landing days from ``start``; return the day folders."""
    return [generate_day(start + dt.timedelta(days=i), out_dir, **kwargs)["call_logs"].parent
            for i in range(days)]

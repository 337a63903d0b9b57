"""Mock landing-data generator shaped like real dialer exports (pure Python, no dagster).

Writes ``<out>/landing/<YYYY-MM-DD>/{call_logs,agent_roster,disposition_summary}.csv`` with
exactly the data contract's columns, UTF-8, LF line ends, RFC 4180 quoting. Values follow
contract v2 and the brief's sample files: durations in decimal minutes (``5.68``; whole
seconds with ``duration_unit="seconds"``), created_ts mostly ISO with a ``T`` and sometimes in
the contract's other forms (space, minute precision, fractions, ``Z`` or ``+05:30``; local
times are Asia/Kolkata, the contract's default timezone), login_time mostly a time of day
(``8:13``). Every row-level defect class of the contract is injected at ``defect_rate`` per
class. Output is a pure function of the arguments (numpy ``Generator`` seeded from ``seed`` and
the date; no clock; the duration unit changes only how durations are written). Call rows are
built column-wise with numpy/pyarrow so a 5M-call day takes seconds. How values are written
lives in ``callops_dagster.mock.values``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from callops_dagster.mock.values import (
    BAD_LOGINS,
    BAD_TIMESTAMPS,
    DURATION_UNITS,
    LS,
    call_seconds,
    durations,
    hms,
    join,
    login_seconds,
    login_text,
    replace_rows,
    timestamps,
)
from callops_dagster.platform.files import write_atomic

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
                "duplicate_superseded", "colliding_call_id", "padded_value", "upper_status",
                "bad_duration", "bad_created_ts", "empty_installment_id", "malformed_row")
#: Defect classes injected into disposition_summary.csv (roster: the duplicates only).
DISPOSITION_DEFECTS = ("duplicate_exact", "duplicate_superseded", "bad_login_time")


def _rng(seed: int, day: dt.date | None = None) -> np.random.Generator:
    return np.random.default_rng([seed, day.toordinal() if day else 0])


def _count(n: int, rate: float) -> int:
    """Rows of one defect class: ``rate`` of ``n``, at least one when the rate is positive."""
    return 0 if rate <= 0 or n <= 0 else max(1, round(n * rate))


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


def _defect_rows(rng: np.random.Generator, n: int, rate: float) -> dict[str, np.ndarray]:
    """Disjoint sorted row indexes per call defect class, ``_count(n, rate)`` each while rows last."""
    counts, left = [], n
    for _ in CALL_DEFECTS:
        counts.append(min(_count(n, rate), left))
        left -= counts[-1]
    picks = rng.choice(n, n - left, replace=False) if n - left else np.zeros(0, int)
    return dict(zip(CALL_DEFECTS, (np.sort(p) for p in np.split(picks, np.cumsum(counts)[:-1]))))


def _collision_sources(rng: np.random.Generator, rows: np.ndarray, who: np.ndarray, loan: np.ndarray,
                       clean: np.ndarray) -> np.ndarray:
    """For each row in ``rows``, a clean row whose call_id it will reuse, of a different call:
    even picks take the same agent's next call (so mostly another loan, as C2489 in the
    brief's sample), odd picks a random clean row (mostly another agent)."""
    if len(rows) == 0 or len(clean) == 0:
        return np.zeros(0, int)
    by_agent = np.argsort(who, kind="stable")
    pos = np.empty(len(who), int)
    pos[by_agent] = np.arange(len(who))
    same_agent = by_agent[np.minimum(pos[rows] + 1, len(who) - 1)]
    source = np.where(np.arange(len(rows)) % 2 == 0, same_agent,
                      clean[rng.integers(0, len(clean), len(rows))])
    is_clean = np.zeros(len(who), bool)
    is_clean[clean] = True
    for _ in range(20):  # redraw sources that are defect rows or the same call identity
        bad = ~is_clean[source] | ((who[source] == who[rows]) & (loan[source] == loan[rows]))
        if not bad.any():
            break
        source[bad] = clean[rng.integers(0, len(clean), int(bad.sum()))]
    return source


def _call_lines(day: dt.date, rng: np.random.Generator, who_ids: pa.Array, who_orgs: pa.Array,
                callers: np.ndarray, n_roster: int, n_ghost: int, n: int, rate: float,
                unit: str) -> pa.Array:
    """All call_logs data lines (each ending in LF), defects included, in file order."""
    ds, prev = day.isoformat(), (day - dt.timedelta(days=1)).isoformat()
    # Mostly office hours, some calls around the clock (the sample day runs 00:03 to 23:59).
    secs = np.sort(np.where(rng.random(n) < 0.9, rng.integers(8 * 3600, 21 * 3600, n),
                            rng.integers(0, 86400, n)))
    weight = rng.gamma(2.0, size=len(callers))
    who = rng.choice(callers, n, p=weight / weight.sum())
    ghost = rng.random(n) < 0.01  # calls by agents missing from the roster
    who[ghost] = n_roster + rng.integers(0, n_ghost, int(ghost.sum()))
    code = rng.choice(len(STATUSES), n, p=STATUS_P)
    port = max(2, round(n / max(1, len(callers)) / 3))  # loans per agent: ~3 contacts each
    loan = 100000 + who * port + rng.integers(0, port, n)
    cols = {
        "call_id": join(f"C{day.toordinal()}", pc.utf8_lpad(
            pc.cast(pa.array(np.arange(1, n + 1)), LS), width=max(8, len(str(n))), padding="0")),
        "agent_id": who_ids.take(who), "org_id": who_orgs.take(who),
        "installment_id": join("INST", pc.cast(pa.array(loan), LS)),
        "status": pa.array(STATUSES, LS).take(code), "duration": durations(call_seconds(rng, code), unit),
        "created_ts": timestamps(day, secs, rng), "call_date": pa.array([ds], LS).take(np.zeros(n, int)),
    }
    sel = _defect_rows(rng, n, rate)
    picked = np.concatenate(list(sel.values()))
    is_clean = np.ones(n, bool)
    is_clean[picked] = False
    clean = np.flatnonzero(is_clean)
    collide = sel["colliding_call_id"]
    cols["call_id"] = replace_rows(cols["call_id"], collide,
                               cols["call_id"].take(_collision_sources(rng, collide, who, loan, clean)))
    vals = {name: {c: a.take(sel[name]).to_pylist() for c, a in cols.items()}
            for name in ("padded_value", "upper_status", "malformed_row", "duplicate_superseded")}
    _break_values(cols, sel, vals, day, rng, secs)
    lines = join(join(*(cols[c] for c in CALL_COLUMNS), sep=","), "\n")
    bad = []  # one field too many (odd) or too few (even: duration dropped)
    for k, row in enumerate(zip(*(vals["malformed_row"][c] for c in CALL_COLUMNS))):
        bad.append(",".join(row + ("x",) if k % 2 else row[:5] + row[6:]) + "\n")
    lines = replace_rows(lines, sel["malformed_row"], bad)
    # Inserted rows: exact copies after their source; superseded versions (the same call
    # identity: call_id, agent, org, loan; other status and duration, earlier created_ts, so
    # the original stays the kept row) near it.
    exact, sup = sel["duplicate_exact"], sel["duplicate_superseded"]
    sv = vals["duplicate_superseded"]
    new_code = (code[sup] + rng.integers(1, len(STATUSES), len(sup))) % len(STATUSES)
    new_dur = durations(call_seconds(rng, new_code), unit).to_pylist()
    new_ts = timestamps(day, secs[sup] - rng.integers(60, 3600, len(sup)), rng).to_pylist()
    sup_lines = [",".join([sv["call_id"][k], sv["agent_id"][k], sv["org_id"][k],
                           sv["installment_id"][k], STATUSES[new_code[k]], new_dur[k],
                           new_ts[k], ds]) + "\n" for k in range(len(sup))]
    extra = pa.concat_arrays([lines.take(exact), pa.array(sup_lines, LS)])
    keys = np.concatenate([np.arange(n, dtype=float),
                           exact + rng.integers(1, 200, len(exact)) + 0.5,
                           sup + rng.integers(-100, 100, len(sup)) + 0.5])
    return pa.concat_arrays([lines, extra]).take(np.argsort(keys, kind="stable"))


def _break_values(cols: dict[str, pa.Array], sel: dict[str, np.ndarray], vals: dict, day: dt.date,
                  rng: np.random.Generator, secs: np.ndarray) -> None:
    """Write the value-level defects of ``sel`` into ``cols`` (in place)."""
    prev = (day - dt.timedelta(days=1)).isoformat()
    for c in ("call_id", "agent_id", "org_id", "call_date"):
        cols[c] = replace_rows(cols[c], sel[f"missing_{c}"], [""] * len(sel[f"missing_{c}"]))
    cols["call_date"] = replace_rows(cols["call_date"], sel["bad_call_date"], [
        BAD_DATES[r].format(d=day) for r in rng.integers(0, len(BAD_DATES), len(sel["bad_call_date"]))])
    late = sel["call_date_outside_partition"]  # a late row: yesterday's call, exported today
    cols["call_date"] = replace_rows(cols["call_date"], late, [prev] * len(late))
    cols["created_ts"] = replace_rows(cols["created_ts"], late, timestamps(day, secs[late] - 86400, rng))
    field = rng.integers(0, 3, len(sel["padded_value"]))
    for f, c in enumerate(("call_id", "agent_id", "org_id")):
        cols[c] = replace_rows(cols[c], sel["padded_value"][field == f],
                           [f" {v} " for v, g in zip(vals["padded_value"][c], field) if g == f])
    cols["status"] = replace_rows(cols["status"], sel["upper_status"],
                              [f" {v.upper()} " for v in vals["upper_status"]["status"]])
    cols["duration"] = replace_rows(cols["duration"], sel["bad_duration"], [
        BAD_DURATIONS[r] for r in rng.integers(0, len(BAD_DURATIONS), len(sel["bad_duration"]))])
    cols["created_ts"] = replace_rows(cols["created_ts"], sel["bad_created_ts"], [
        BAD_TIMESTAMPS[r].format(d=day)
        for r in rng.integers(0, len(BAD_TIMESTAMPS), len(sel["bad_created_ts"]))])
    cols["installment_id"] = replace_rows(cols["installment_id"], sel["empty_installment_id"],
                                      [""] * len(sel["empty_installment_id"]))


def _with_dupes(rows: list[list[str]], rng: np.random.Generator, rate: float, alter,
                stale_first: bool) -> list[list[str]]:
    """Insert duplicate rows, ``rate`` of each kind: even picks exact copies (after the source),
    odd picks ``alter``ed ones; placed before the source when ``stale_first`` (a later row wins)
    so the source stays the row that wins, else after it."""
    k = min(2 * _count(len(rows), rate), len(rows))
    keyed = [(float(i), r) for i, r in enumerate(rows)]
    for j, s in enumerate(rng.choice(len(rows), k, replace=False) if k else []):
        off = float(rng.integers(0, 20)) + 0.5
        if j % 2 == 0:
            keyed.append((s + off, list(rows[s])))
        else:
            keyed.append((s - off if stale_first else s + off, alter(rows[s], rng)))
    return [r for _, r in sorted(keyed, key=lambda t: t[0])]


def _logins(day: dt.date, login: np.ndarray, rows: list[int], empty: set[int],
            rng: np.random.Generator) -> list[str]:
    """login_time per disposition row: mostly a time of day, sometimes a date-time."""
    forms = rng.choice(4, len(rows), p=(0.6, 0.25, 0.1, 0.05))
    return ["" if i in empty else login_text(day, int(login[i]), int(f)) for i, f in zip(rows, forms)]


def _break_logins(rows: list[list[str]], rng: np.random.Generator, rate: float, day: dt.date) -> None:
    """``bad_login_time``: unparseable non-empty login_time on ``rate`` of the rows that have one."""
    present = [k for k, r in enumerate(rows) if r[3]]
    k = min(_count(len(rows), rate), len(present))
    for j in (rng.choice(present, k, replace=False) if k else []):
        rows[j][3] = BAD_LOGINS[int(rng.integers(0, len(BAD_LOGINS)))].format(d=day)


def _later_login(row: list[str], rng: np.random.Generator) -> list[str]:
    """The same agent-day with a later login (so the source row stays the kept, earliest one);
    an exact copy when the source has none or an unparseable one."""
    seconds = login_seconds(row[3])
    if seconds is None:
        return list(row)
    later = min(seconds + int(rng.integers(60, 3600)), 86399)
    return row[:3] + [hms(later)]


def _other_office(row: list[str], rng: np.random.Generator) -> list[str]:
    others = [o for o in OFFICES if o != row[3]]
    return row[:3] + [others[int(rng.integers(0, len(others)))], row[4]]


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
                 orgs: int = 3, defect_rate: float = 0.01, seed: int = 7,
                 duration_unit: str = "minutes") -> dict[str, Path]:
    """Write one landing day under ``<out_dir>/landing/<day>/`` and return the three paths.

    ``agents`` is a minimum: at least ``calls / 400`` roster agents are generated. About 1% of
    calls come from agents not in the roster; a few roster agents log in without calling, a few
    have an empty login_time and a few have no disposition row. ``defect_rate`` applies per
    defect class (see ``CALL_DEFECTS`` and ``DISPOSITION_DEFECTS``; the roster gets duplicate
    rows). ``duration_unit`` (``minutes`` or ``seconds``) is the unit durations are written in;
    the calls are the same either way.
    """
    if calls < 0 or agents < 1 or orgs < 1 or not 0 <= defect_rate <= 1 or seed < 0:
        raise ValueError("need calls >= 0, agents >= 1, orgs >= 1, 0 <= defect_rate <= 1, seed >= 0")
    if duration_unit not in DURATION_UNITS:
        raise ValueError(f"duration_unit must be one of {DURATION_UNITS}, not {duration_unit!r}")
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
                        callers, n_roster, n_ghost, calls, defect_rate, duration_unit)
    ds = day.isoformat()
    login = rng.integers(int(7.5 * 3600), int(10.5 * 3600), n_roster)
    rows = [i for i in range(n_roster) if i not in no_disp]
    disp = [[ids[i], org_ids[i], ds, t] for i, t in zip(rows, _logins(day, login, rows, empty, rng))]
    _break_logins(disp, rng, defect_rate, day)
    disp = _with_dupes(disp, rng, defect_rate, _later_login, stale_first=False)
    roster = _with_dupes(roster, rng, defect_rate, _other_office, stale_first=True)
    folder = Path(out_dir) / "landing" / ds
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.csv"
             for name in ("call_logs", "agent_roster", "disposition_summary")}
    write_atomic(paths["call_logs"], (",".join(CALL_COLUMNS) + "\n").encode(), _buffer(lines))
    write_atomic(paths["agent_roster"], _csv_bytes(ROSTER_COLUMNS, roster))
    write_atomic(paths["disposition_summary"], _csv_bytes(DISPOSITION_COLUMNS, disp))
    return paths

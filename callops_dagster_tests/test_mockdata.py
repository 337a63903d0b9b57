"""Tests for the mock landing-data generator (callops_dagster.mockdata)."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest

from callops_dagster import mockdata
from callops_dagster.mockdata import generate_day, generate_days

DAY = dt.date(2025, 4, 28)
HEADERS = {
    "call_logs": ["call_id", "agent_id", "org_id", "installment_id", "status", "duration",
                  "created_ts", "call_date"],
    "agent_roster": ["agent_id", "users_first_name", "users_last_name", "users_office_location",
                     "org_id"],
    "disposition_summary": ["agent_id", "org_id", "call_date", "login_time"],
}
STATUSES = {"completed", "connected", "failed", "busy", "no_answer", "voicemail", "canceled"}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def read(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, strict=True))
    return rows[0], rows[1:]


def is_real_date(text: str) -> bool:
    try:
        return bool(DATE_RE.match(text)) and dt.date.fromisoformat(text) is not None
    except ValueError:
        return False


def well_formed(rows: list[list[str]], width: int) -> list[list[str]]:
    return [r for r in rows if len(r) == width]


@pytest.fixture(scope="module")
def dirty(tmp_path_factory) -> dict[str, Path]:
    return generate_day(DAY, tmp_path_factory.mktemp("dirty"), calls=2000, defect_rate=0.01)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict[str, Path]:
    return generate_day(DAY, tmp_path_factory.mktemp("clean"), calls=2000, defect_rate=0)


def test_layout_and_exact_headers(dirty, tmp_path):
    folder = dirty["call_logs"].parent
    assert folder.name == "2025-04-28" and folder.parent.name == "landing"
    assert sorted(p.name for p in folder.iterdir()) == [
        "agent_roster.csv", "call_logs.csv", "disposition_summary.csv"]  # no temp files left
    for name, path in dirty.items():
        raw = path.read_bytes()
        assert raw.startswith((",".join(HEADERS[name]) + "\n").encode())  # no BOM, LF
        assert b"\r" not in raw and raw.endswith(b"\n")
        assert read(path)[0] == HEADERS[name]


def test_same_seed_is_byte_identical_and_other_seed_differs(tmp_path):
    a = generate_day(DAY, tmp_path / "a", calls=3000, seed=11)
    b = generate_day(DAY, tmp_path / "b", calls=3000, seed=11)
    c = generate_day(DAY, tmp_path / "c", calls=3000, seed=12)
    for name in HEADERS:
        assert a[name].read_bytes() == b[name].read_bytes(), name
    assert a["call_logs"].read_bytes() != c["call_logs"].read_bytes()
    assert a["agent_roster"].read_bytes() != c["agent_roster"].read_bytes()


def test_days_differ_but_roster_people_are_static(tmp_path):
    d1, d2 = generate_days(DAY, 2, tmp_path, defect_rate=0)
    assert (d1 / "call_logs.csv").read_bytes() != (d2 / "call_logs.csv").read_bytes()
    assert (d1 / "agent_roster.csv").read_bytes() == (d2 / "agent_roster.csv").read_bytes()


def test_every_file_parses_as_rfc4180(dirty):
    for name, path in dirty.items():
        header, rows = read(path)  # strict=True raises on bad quoting
        assert len(rows) > 0
        if name != "call_logs":
            assert all(len(r) == len(header) for r in rows), name


def test_roster_has_tricky_names_and_shared_agent_ids(clean):
    _, rows = read(clean["agent_roster"])
    values = [v for r in rows for v in r[1:4]]
    assert any("," in v for v in [r[1] for r in rows] + [r[2] for r in rows])  # name with comma
    assert "Hyderabad, Telangana" in values
    assert any("'" in v for v in values)
    assert any(re.search(r"[\u0900-\u097F]", v) for v in values)  # Devanagari
    assert any(c in "".join(values) for c in "öëéñ")
    assert 'Noida "Tower B"' in values  # embedded quotes round-trip
    orgs_per_id = Counter(r[0] for r in rows)
    shared = [a for a, n in orgs_per_id.items() if n > 1]
    assert shared and all(len({r[4] for r in rows if r[0] == a}) > 1 for a in shared)


def test_clean_day_has_no_defects(clean):
    _, calls = read(clean["call_logs"])
    assert well_formed(calls, 8) == calls and len(calls) == 2000
    ids = [r[0] for r in calls]
    assert len(set(ids)) == len(ids)
    for r in calls:
        assert all(r[i] for i in (0, 1, 2, 3, 7)), r
        assert r == [v.strip() for v in r]
        assert r[4] in STATUSES and r[5].isdigit() and r[7] == "2025-04-28"
        assert r[6].startswith("2025-04-28 ") and len(r[6]) == 19
        assert r[5] == "0" or r[4] in {"completed", "connected"}
    share = sum(r[4] == "completed" for r in calls) / len(calls)
    assert 0.35 <= share <= 0.45
    loans = Counter(r[3] for r in calls)
    assert max(loans.values()) >= 3 and all(re.fullmatch(r"INST\d{6,}", k) for k in loans)
    for name, width in (("agent_roster", 5), ("disposition_summary", 4)):
        _, rows = read(clean[name])
        keys = [(r[0], r[-1] if name == "agent_roster" else r[1]) for r in rows]
        assert len(set(keys)) == len(keys) and well_formed(rows, width) == rows


def test_clean_day_has_realistic_gaps(clean):
    _, calls = read(clean["call_logs"])
    _, roster = read(clean["agent_roster"])
    _, disp = read(clean["disposition_summary"])
    rostered = {(r[0], r[4]) for r in roster}
    callers = {(r[1], r[2]) for r in calls}
    unrostered = [r for r in calls if (r[1], r[2]) not in rostered]
    assert 0 < len(unrostered) < 0.05 * len(calls)
    assert any(r[3] == "" for r in disp)  # empty login_time
    logged_in = {(r[0], r[1]) for r in disp if r[3]}
    assert logged_in - callers  # logged in, made no call
    assert rostered - {(r[0], r[1]) for r in disp}  # no disposition row at all
    assert len(disp) > 0.8 * len(roster)


def test_defects_appear_at_nonzero_rate(dirty):
    _, calls = read(dirty["call_logs"])
    widths = Counter(len(r) for r in calls)
    assert widths[7] > 0 and widths[9] > 0 and widths[8] > 1900
    ok = well_formed(calls, 8)
    assert sum(r[0] == "" for r in ok) == 20  # 1% of 2000 per class
    assert any(r[1] == "" for r in ok) and any(r[2] == "" for r in ok)
    assert any(r[7] == "" for r in ok)
    dates = {r[7] for r in ok}
    assert "2025-04-27" in dates  # late row
    assert [d for d in dates if d and not is_real_date(d)]  # bad_call_date
    ids = Counter(r[0] for r in ok if r[0])
    dup_ids = [i for i, n in ids.items() if n > 1]
    assert dup_ids
    by_id = {}
    for r in ok:
        by_id.setdefault(r[0], []).append(r)
    assert any(len(v) > 1 and v[0] == v[1] for v in by_id.values())  # exact duplicate
    assert any(len({tuple(x) for x in v}) > 1 for v in by_id.values())  # superseded
    assert any(v != v.strip() for r in ok for v in r[:3])  # padded
    assert any(r[4].strip().isupper() for r in ok)
    assert {"-5", "NaN", "abc", "", "1e3", "inf"} & {r[5] for r in ok}
    assert any(not r[5].isdigit() for r in ok)
    assert any(r[3] == "" for r in ok)
    for name, key in (("agent_roster", (0, 4)), ("disposition_summary", (0, 1))):
        _, rows = read(dirty[name])
        keys = Counter(tuple(r[i] for i in key) for r in rows)
        assert max(keys.values()) > 1, name


def test_agents_scale_with_calls_but_minimum_is_honoured(tmp_path):
    big = generate_day(DAY, tmp_path / "big", calls=40_000, agents=5, defect_rate=0)
    _, roster = read(big["agent_roster"])
    assert len(roster) >= 100
    small = generate_day(DAY, tmp_path / "small", calls=100, agents=40, defect_rate=0)
    assert len(read(small["agent_roster"])[1]) == 40


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        generate_day(DAY, tmp_path, defect_rate=-0.1)
    with pytest.raises(ValueError):
        generate_day(DAY, tmp_path, orgs=0)


def test_module_does_not_import_dagster():
    source = Path(mockdata.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+dagster", source, re.M)

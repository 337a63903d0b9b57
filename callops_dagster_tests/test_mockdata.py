"""Tests for the mock landing-data generator (callops_dagster.mock.data).

The generated files are checked against contract v2 with a small reference of its rules
written here (not the project's validation code), so the generator cannot drift from the
contract together with it.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callops_dagster.mock import data as mockdata, values as mockvalues
from callops_dagster.mock.data import generate_day

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
# Contract v2, "Date-times": date, space or T, HH:MM[:SS[.f{1,6}]], optional Z or +HH:MM/-HH:MM.
DATETIME_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:\d{2})?$")
TIME_OF_DAY_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
DURATION_RE = re.compile(r"^\d+(\.\d+)?$")
ZONE = ZoneInfo("Asia/Kolkata")


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


def parse_datetime(text: str) -> dt.datetime | None:
    """A v2 created_ts as a naive local (Asia/Kolkata) date-time; None when unparseable."""
    m = DATETIME_RE.match(text)
    if not m:
        return None
    day, hh, mm, ss, frac, offset = m.groups()
    try:
        value = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(
            int(hh), int(mm), int(ss or 0), int((frac or "0").ljust(6, "0"))))
    except ValueError:
        return None
    if offset:
        tz = dt.timezone.utc if offset == "Z" else dt.timezone(
            (-1 if offset[0] == "-" else 1) * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:])))
        value = value.replace(tzinfo=tz).astimezone(ZONE).replace(tzinfo=None)
    return value


def parse_login(text: str, call_date: str) -> dt.datetime | None:
    """A v2 login_time: a time of day (hours 0-23) on call_date, or a date-time."""
    m = TIME_OF_DAY_RE.match(text)
    if m:
        try:
            return dt.datetime.combine(dt.date.fromisoformat(call_date), dt.time(
                int(m[1]), int(m[2]), int(m[3] or 0)))
        except ValueError:
            return None
    return parse_datetime(text)


def reference_calls(rows: list[list[str]], day: dt.date) -> dict:
    """Contract v2 rules 0-4 over call_logs rows: reasons per row, kept rows and warnings."""
    reasons, candidates = Counter(), []
    for k, raw in enumerate(rows):
        if len(raw) != 8:
            reasons["malformed_row"] += 1
            continue
        r = [v.strip() for v in raw]
        r[4] = r[4].lower()
        for i, key in ((0, "call_id"), (1, "agent_id"), (2, "org_id"), (7, "call_date")):
            if not r[i]:
                reasons[f"missing_{key}"] += 1
                break
        else:
            if not is_real_date(r[7]):
                reasons["bad_call_date"] += 1
            elif r[7] != day.isoformat():
                reasons["call_date_outside_partition"] += 1
            else:
                candidates.append((k, r))
    versions = defaultdict(list)
    for k, r in candidates:
        versions[(r[0], r[2], r[1], r[3])].append((k, r))
    kept = []
    oldest = dt.datetime.min
    for group in versions.values():
        winner = max(group, key=lambda kr: (parse_datetime(kr[1][6]) or oldest, kr[0]))
        kept.append(winner[1])
        for k, r in group:
            if k != winner[0]:
                reasons["duplicate_exact" if r == winner[1] else "duplicate_superseded"] += 1
    identities = defaultdict(set)
    for r in kept:
        identities[r[0]].add((r[1], r[2], r[3]))
    return {
        "reasons": reasons,
        "kept": kept,
        "call_id_conflict": sum(len(v) > 1 for v in identities.values()),
        "bad_created_ts": sum(parse_datetime(r[6]) is None for r in kept),
        "bad_duration": sum(not DURATION_RE.match(r[5]) for r in kept),
        "empty_installment_id": sum(r[3] == "" for r in kept),
    }


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
    d1, d2 = (generate_day(day, tmp_path, defect_rate=0) for day in (DAY, DAY + dt.timedelta(days=1)))
    assert d1["call_logs"].read_bytes() != d2["call_logs"].read_bytes()
    assert d1["agent_roster"].read_bytes() == d2["agent_roster"].read_bytes()


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
        assert r[4] in STATUSES and re.fullmatch(r"\d+\.\d{2}", r[5]) and r[7] == "2025-04-28"
        assert parse_datetime(r[6]).date() == DAY, r
        if r[4] not in {"completed", "connected"}:  # ring or attempt time, in minutes
            assert float(r[5]) < 1.5, r
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


def test_every_call_defect_class_is_produced_as_the_contract_sees_it(dirty):
    _, calls = read(dirty["call_logs"])
    ref = reference_calls(calls, DAY)
    injected = mockdata._count(2000, 0.01)  # rows per defect class
    widths = Counter(len(r) for r in calls)
    assert widths[7] > 0 and widths[9] > 0
    for reason in ("missing_call_id", "missing_agent_id", "missing_org_id", "missing_call_date",
                   "bad_call_date", "call_date_outside_partition", "malformed_row"):
        assert ref["reasons"][reason] == injected, reason
    # Injected duplicates are versions under the v2 identity (call_id, org, agent, loan).
    assert ref["reasons"]["duplicate_exact"] >= injected
    assert ref["reasons"]["duplicate_superseded"] >= injected
    assert 0 < ref["call_id_conflict"] <= injected  # colliding ids, every call kept
    assert ref["bad_created_ts"] >= injected and ref["bad_duration"] >= injected
    assert ref["empty_installment_id"] >= injected
    ok = well_formed(calls, 8)
    assert sum(any(v != v.strip() for v in r[:3]) for r in ok) == injected  # padded_value
    assert sum(r[4].strip() != r[4].strip().lower() for r in ok) == injected  # upper_status
    assert set(mockdata.CALL_DEFECTS) <= {*ref["reasons"], "colliding_call_id", "padded_value", "upper_status",
                                          "bad_duration", "bad_created_ts", "empty_installment_id"}


def test_colliding_ids_are_other_calls_of_another_agent_or_loan(dirty):
    _, calls = read(dirty["call_logs"])
    kept = reference_calls(calls, DAY)["kept"]
    by_id = defaultdict(set)
    for r in kept:
        by_id[r[0]].add((r[2], r[1], r[3]))
    shared = [v for v in by_id.values() if len(v) > 1]
    assert any(len({(o, a) for o, a, _ in v}) > 1 for v in shared)  # different agents
    assert any(len({(o, a) for o, a, _ in v}) < len(v) for v in shared)  # one agent, two loans


def test_created_ts_uses_every_v2_form_and_orders_versions(dirty):
    _, calls = read(dirty["call_logs"])
    stamps = [r[6] for r in well_formed(calls, 8)]
    forms = Counter()
    for t in stamps:
        m = DATETIME_RE.match(t)
        if m and parse_datetime(t):
            forms["T" if "T" in t else "space"] += 1
            forms["minute"] += m[4] is None
            forms["fraction"] += m[5] is not None
            forms[m[6] or "local"] += 1
    parsed = sum(forms[k] for k in ("T", "space"))
    assert forms["T"] > 0.7 * len(stamps) and forms["space"] > 0
    assert forms["minute"] and forms["fraction"] and forms["Z"] and forms["+05:30"]
    assert parsed >= len(stamps) - 3 * mockdata._count(2000, 0.01)  # only injected ones fail
    assert any(not t for t in stamps) and any(t and parse_datetime(t) is None for t in stamps)


def test_offsets_name_the_same_local_times_as_the_plain_rows(clean):
    _, calls = read(clean["call_logs"])
    local = [parse_datetime(r[6]).replace(second=0, microsecond=0) for r in calls]  # minute forms
    assert local == sorted(local)  # rows are in call order, whatever form the time is in
    assert all(v.date() == DAY for v in local)


def test_durations_are_minutes_by_default_and_seconds_on_request(tmp_path):
    minutes = generate_day(DAY, tmp_path / "m", calls=2000, seed=5)
    seconds = generate_day(DAY, tmp_path / "s", calls=2000, seed=5, duration_unit="seconds")
    _, m_rows = read(minutes["call_logs"])
    _, s_rows = read(seconds["call_logs"])
    assert len(m_rows) == len(s_rows)
    compared = 0
    for m, s in zip(m_rows, s_rows):
        assert [v for i, v in enumerate(m) if i != 5] == [v for i, v in enumerate(s) if i != 5]
        if len(m) == 8 and DURATION_RE.match(m[5]) and s[5].isdigit():
            exact = Decimal(int(s[5])) / 60
            assert Decimal(m[5]) == exact.quantize(Decimal("0.01"), ROUND_HALF_UP), (m, s)
            compared += 1
    assert compared > 1900
    positive = sorted(float(r[5]) for r in well_formed(m_rows, 8) if DURATION_RE.match(r[5]) and float(r[5]) > 0)
    assert positive[len(positive) // 2] <= 60  # the contract's duration_unit_plausible check
    positive_s = sorted(int(r[5]) for r in well_formed(s_rows, 8) if r[5].isdigit() and int(r[5]) > 0)
    assert positive_s[len(positive_s) // 2] >= 20
    unanswered = [float(r[5]) for r in well_formed(m_rows, 8)
                  if r[4] in {"failed", "busy", "no_answer", "voicemail", "canceled"} and DURATION_RE.match(r[5])]
    assert sum(v > 0 for v in unanswered) > 0.8 * len(unanswered)  # ring time, not 0
    with pytest.raises(ValueError):
        generate_day(DAY, tmp_path / "x", duration_unit="hours")


def test_logins_are_times_of_day_with_some_date_times_and_bad_ones(dirty):
    _, rows = read(dirty["disposition_summary"])
    logins = [r[3] for r in rows]
    assert sum(bool(TIME_OF_DAY_RE.match(v)) for v in logins) > 0.7 * len(logins)
    assert any(re.fullmatch(r"\d:\d{2}", v) for v in logins)  # 8:13, as in the sample
    assert any(DATETIME_RE.match(v) and parse_login(v, r[2]) for v, r in zip(logins, rows))
    assert any(v == "" for v in logins)
    bad = [v for v, r in zip(logins, rows) if v and parse_login(v, r[2]) is None]
    assert len(bad) >= mockdata._count(len(rows), 0.01)  # bad_login_time


def test_disposition_and_roster_duplicates_follow_their_rules(dirty):
    _, disp = read(dirty["disposition_summary"])
    groups = defaultdict(list)
    for k, r in enumerate(disp):
        groups[(r[1], r[0], r[2])].append((k, r))
    dupes = [g for g in groups.values() if len(g) > 1]
    assert dupes
    latest = dt.datetime.max
    for group in dupes:  # the earliest login wins, and that is the row that came first
        def rank(kr):
            parsed = parse_login(kr[1][3], kr[1][2])
            return (kr[1][3] == "", parsed is None, parsed or latest, kr[0])
        assert min(group, key=rank)[0] == group[0][0]
    assert any(len({r[3] for _, r in g}) > 1 for g in dupes)  # superseded
    assert any(g[0][1] == g[1][1] for g in dupes)  # exact
    _, roster = read(dirty["agent_roster"])
    keys = Counter((r[0], r[4]) for r in roster)
    assert max(keys.values()) > 1


def test_generated_day_satisfies_the_rules_at_5_percent(tmp_path):
    """A denser day: the reference still finds every class and nothing else goes wrong."""
    paths = generate_day(DAY, tmp_path, calls=4000, defect_rate=0.05, seed=3)
    _, calls = read(paths["call_logs"])
    ref = reference_calls(calls, DAY)
    assert set(ref["reasons"]) == {"missing_call_id", "missing_agent_id", "missing_org_id", "missing_call_date",
                                   "bad_call_date", "call_date_outside_partition", "malformed_row",
                                   "duplicate_exact", "duplicate_superseded"}
    assert ref["call_id_conflict"] > 0 and ref["bad_created_ts"] > 0
    assert len(ref["kept"]) + sum(ref["reasons"].values()) == len(calls)


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


@pytest.mark.parametrize("module", [mockdata, mockvalues])
def test_module_does_not_import_dagster(module):
    source = Path(module.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+dagster", source, re.M)

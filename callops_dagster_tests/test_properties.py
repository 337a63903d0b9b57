"""Property tests: random messy days agree with a row-by-row reference, and nothing is lost."""

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callops_dagster.contract.sources import AGENT_ROSTER, CALL_LOGS, DISPOSITION_SUMMARY
from callops_dagster.ingest.reading import read_landing_csv
from callops_dagster.report.day import run_day
from callops_dagster.report.publish import summary_csv_text
from callops_dagster_tests.reference import reference_day

DAY = dt.date(2025, 4, 28)
AGENTS = st.sampled_from(["A1", "A2", " A1 ", "A3", ""])
ORGS = st.sampled_from(["O1", "O2", "NA", ""])
DATES = st.sampled_from(["2025-04-28", "2025-04-28", " 2025-04-28", "2025-04-27", "2025/04/28", "2025-02-30", ""])
TIMES = st.sampled_from(
    ["2025-04-28 10:00:00", "2025-04-28 10:00:01", "2025-04-28 9:00:00", "2025-02-30 10:00:00", "late", ""]
)
CALL_ROW = st.tuples(
    st.sampled_from(["C1", "C2", "C3", " C1", "C4", ""]),
    AGENTS,
    ORGS,
    st.sampled_from(["I1", "I2", " I1 ", ""]),
    st.sampled_from(["completed", "COMPLETED ", " failed", "busy", "weird", ""]),
    # 267.9 s is 4.465 min and 0.9 s is 0.015 min: float rounding gets both wrong.
    st.sampled_from(["0", "60", "60.0", "267.9", "0.9", "0.333", "007", "-5", "1e3", "NaN", "abc", ""]),
    TIMES,
    DATES,
)
LOGIN_ROW = st.tuples(AGENTS, ORGS, DATES, TIMES)
ROSTER_ROW = st.tuples(
    AGENTS,
    st.sampled_from(["Ravi", "O'Brien", "Zoë", "NA", ""]),
    st.sampled_from(["Sharma", "Björk", "Null", ""]),
    st.sampled_from(["Pune", "Hyderabad, Telangana", 'Noida "B"', ""]),
    ORGS,
)


def lines(columns: list[str], rows, data: st.DataObject) -> str:
    """CSV text with blank lines and malformed records mixed in, LF or CRLF, maybe a BOM."""
    out = io.StringIO()
    end = data.draw(st.sampled_from(["\n", "\r\n"]))
    writer = csv.writer(out, lineterminator=end)
    writer.writerow(columns)
    for row in rows:
        shape = data.draw(st.sampled_from(["ok"] * 8 + ["blank", "short", "long"]))
        if shape == "blank":
            out.write(end)
        writer.writerow(row[:-1] if shape == "short" else (*row, "x") if shape == "long" else row)
    bom = data.draw(st.sampled_from(["", "\ufeff"]))
    return bom + out.getvalue()


def pipeline(calls: str, roster: str, logins: str):
    """The platform's day pipeline over files written to a temporary landing folder."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for spec, text in ((CALL_LOGS, calls), (AGENT_ROSTER, roster), (DISPOSITION_SUMMARY, logins)):
            paths[spec.name] = Path(tmp) / spec.file_name
            paths[spec.name].write_text(text, encoding="utf-8", newline="")
        raw = {name: read_landing_csv(path, spec) for (name, path), spec in zip(paths.items(), (CALL_LOGS, AGENT_ROSTER, DISPOSITION_SUMMARY))}
    day = run_day(raw["call_logs"], raw["disposition_summary"], raw["agent_roster"], DAY)
    return raw, day.validated, day.agent_day, day.summary, day.message


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    calls=st.lists(CALL_ROW, max_size=30),
    logins=st.lists(LOGIN_ROW, max_size=8),
    roster=st.lists(ROSTER_ROW, min_size=1, max_size=8),
    data=st.data(),
)
def test_random_day_matches_reference_and_conserves_rows(calls, logins, roster, data):
    calls_text = lines(list(CALL_LOGS.columns), calls, data)
    roster_text = lines(list(AGENT_ROSTER.columns), roster, data)
    logins_text = lines(list(DISPOSITION_SUMMARY.columns), logins, data)
    raw, results, agent_day, summary, message = pipeline(calls_text, roster_text, logins_text)

    for name, result in results.items():  # conservation, from the reader's own count
        assert raw[name].records_read == len(result.kept) + len(result.rejected), name
    assert int(agent_day["total_calls"].sum()) == len(results["call_logs"].kept)

    expected_csv, expected_rejects, expected_message = reference_day(
        calls_text, roster_text, logins_text, DAY.isoformat()
    )
    got_rejects = sorted(
        (row.source, int(row.row_number), row.reason)
        for result in results.values()
        for row in result.rejected.itertuples()
    )
    assert got_rejects == expected_rejects
    assert summary_csv_text(summary) == expected_csv
    assert message.splitlines()[:4] == expected_message

"""Hostile text from the source files through whole days (``dg.materialize``): mentions,
links, formulas, control characters, direction overrides and very long values reach every
report CSV and every Slack payload only in their safe form, and nothing is lost."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from callops_dagster.contract import check_names as checks
from callops_dagster.delivery.resources import SlackResource
from callops_dagster.contract.safe_text import FORMULA_CHARS, spreadsheet_cell
from callops_dagster.delivery.blocks import FIELD_MAX, HEADER_MAX, MESSAGE_TEXT_MAX, TEXT_MAX
from callops_dagster_tests.conftest import (
    CALL_HEADER,
    ROSTER_HEADER,
    TESTS_DIR,
    check_eval,
    clean_calls,
    clean_dispositions,
    ephemeral_instance,
    failed_checks,
    materialize_day,
    reports_dir,
    warehouse_file,
    write_csv,
    write_day,
)
from callops_dagster_tests.fake_slack import FakeSlack
from callops_dagster_tests.test_safe_text import big_fields, payload_texts, unescaped_left  # noqa: F401 - a fixture

DAY = "2025-04-28"
EXAMPLE = TESTS_DIR / "fixtures" / "assignment-2025-04-28"
HOSTILE_NAME = '<!channel> =HYPERLINK("http://x.example/?a=1")'
SUMMARY_CSV = "agent_performance_summary.csv"
REPORT_CSVS = {  # every CSV under reports/<day>/ and the warehouse table it shows
    "agent_performance_summary.csv": "agent_performance_summary",
    "rejected_rows.csv": "rejected_rows",
    "agent_compliance.csv": "agent_compliance",
    "loan_contact_frequency.csv": "loan_contact_frequency",
}
# Columns of the report CSVs that are numbers (never prefixed).
NUMERIC = {"row_number", "total_calls", "unique_loans_contacted", "connect_rate", "avg_call_duration_min", "presence",
           "calls_outside_hours", "calls_unknown_time", "calls_before_login", "attempts_7d", "days_called_7d",
           "agents_7d", "over_limit"}
DIRECTION = re.compile("[\u202a-\u202e\u2066-\u2069]")
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # all but "\n"


def slack(url: str) -> SlackResource:
    return SlackResource(webhook_url=url, backoff_s=0.01, max_wait_s=1.0)


def read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def hostile_example(data_dir: Path) -> int:
    """The brief's sample day with the top performer's roster row changed to a hostile name
    (first name) and office; returns that row's row_number."""
    shutil.copytree(EXAMPLE / "landing", data_dir / "landing")
    roster = data_dir / "landing" / DAY / "agent_roster.csv"
    expected = (EXAMPLE / "expected_slack_message.txt").read_text(encoding="utf-8").splitlines()[1]
    top = re.match(r"Top Performer: (.*) \(", expected).group(1)
    header, *rows = read_rows(roster)
    [number] = [i for i, row in enumerate(rows, start=1) if f"{row[1]} {row[2]}" == top]
    rows[number - 1][1], rows[number - 1][3] = HOSTILE_NAME, "@Mumbai"
    write_csv(roster, header, rows)
    return number


def test_the_sample_day_with_a_hostile_roster_row(data_dir, instance):
    number = hostile_example(data_dir)
    with FakeSlack() as fake:
        result = materialize_day(data_dir, DAY, instance, slack=slack(fake.url))
    assert result.success
    [request] = fake.requests
    assert "Top Performer: &lt;!channel&gt; =HYPERLINK(\"http://x.example/?a=1\")" in request.text
    assert "<!channel>" not in request.text
    texts = [text for _, text in payload_texts(request.blocks)]
    assert any(text.startswith("&lt;!channel&gt; =HYPERLINK(") for text in texts)
    assert not any("<!channel>" in text for text in texts)
    assert request.payload["unfurl_links"] is False and request.payload["unfurl_media"] is False
    # the message file keeps the name exactly; the report cell is prefixed; the warehouse exact
    message = (reports_dir(data_dir, DAY) / "slack_message.txt").read_text(encoding="utf-8")
    assert f"Top Performer: {HOSTILE_NAME} " in message
    summary = list(csv.DictReader(io.StringIO((reports_dir(data_dir, DAY) / SUMMARY_CSV).read_text(encoding="utf-8"), newline="")))
    [row] = [r for r in summary if r["agent_name"].startswith("<!channel>")]
    assert row["office_location"] == "'@Mumbai"
    warehouse = pd.read_parquet(warehouse_file(data_dir, "agent_performance_summary", DAY))
    assert "@Mumbai" in set(warehouse["office_location"])
    # the data owner hears about it
    check = check_eval(result, "raw_agent_roster", checks.FORMULA_LIKE_TEXT)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["formula_like_cells"].value == 1
    sample = [{"row_number": number, "column": "users_office_location", "value": "@Mumbai"}]
    assert check.metadata["sample"].value == sample


# ---------------------------------------------------------------- a property over whole days

SEEDS = [
    "<!channel>", "<!here>", "<@U123>", "<http://evil.example|click here>", "&amp;", "&lt;b&gt;",
    "=1+1", '=HYPERLINK("http://x.example/?a=1")', "+33", "-5", "@Mumbai", "\t=cmd", "\r=cmd",
    "*bold*", "`code`", "_it_ ~s~", "a\x00b", "line\nbreak", "x\u2028y", "\u202eevil", "\u2066iso\u2069",
    "Zoë O'Brien", '"quoted, comma"', "&<>",
]
HOSTILE = st.one_of(
    st.sampled_from(SEEDS),
    st.lists(st.sampled_from(SEEDS), min_size=1, max_size=4).map("".join),
    st.text(alphabet=st.sampled_from(list("<>&@=+-*_`~'\"\t\r\n, \x00\x07\u202e\u2066\u2028aZ9")), min_size=1, max_size=30),
    st.builds(lambda seed: seed + "x" * 2_500, st.sampled_from(SEEDS)),  # longer than a Slack field
)
# An id must stay an id: not blank once trimmed (a blank key is a rejected row, and too many
# of them rightly block the day).
HOSTILE_ID = HOSTILE.filter(lambda s: s.strip() != "")
# (first name, last name, office, agent_id, org_id) of an agent with five completed calls.
AGENT = st.tuples(HOSTILE, HOSTILE, HOSTILE, HOSTILE_ID, HOSTILE_ID)


def hostile_day(data_dir: Path, agents: list[tuple[str, ...]], raws: list[str]) -> None:
    """The clean tiny day plus hostile agents (names, office, ids), each with five completed
    calls (so one is top performer), and a rejected call per hostile raw value."""
    write_day(data_dir, DAY)
    folder = data_dir / "landing" / DAY
    calls, roster, logins = clean_calls(DAY), read_rows(folder / "agent_roster.csv")[1:], clean_dispositions(DAY)
    for n, (first, last, office, agent, org) in enumerate(agents):
        calls += [[f"H{n}-{i}", agent, org, f"L{i}", "completed", "60", f"{DAY} 11:00:0{i}", DAY] for i in range(5)]
        roster.append([agent, first, last, office, org])
        logins.append([agent, org, DAY, f"{DAY} 09:30:00"])
    # a bad call_date: rejected, and every raw value is in rejected_rows.csv. Written with
    # minimal quoting, as csv.writer does: a bare carriage return ends the record there, so
    # malformed records (raw_text) get hostile too.
    calls += [[f"X{n}", raw, raw, raw, raw, raw, raw, "2025/04/28"] for n, raw in enumerate(raws)]
    write_csv(folder / "call_logs.csv", CALL_HEADER, calls)
    # every roster value quoted, so each arrives exactly as written (counted exactly below)
    with open(folder / "agent_roster.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows([ROSTER_HEADER, *roster])
    write_csv(folder / "disposition_summary.csv", ["agent_id", "org_id", "call_date", "login_time"], logins)


def materialize_hostile_day(data_dir: Path, instance: dg.DagsterInstance):
    """The day materialised with Slack posting to a fake webhook; (result, the one request)."""
    with FakeSlack() as fake:
        result = materialize_day(data_dir, DAY, instance, slack=slack(fake.url))
    assert result.success, failed_checks(result)
    [request] = fake.requests
    return result, request


def clean_for_slack(line: str) -> str:
    return CONTROL.sub(" ", DIRECTION.sub("", line))


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def assert_slack_payload_safe(payload: dict, message: str) -> None:
    texts = [("text", payload["text"]), *payload_texts(payload["blocks"])]
    for kind, text in texts:
        assert unescaped_left(text) == "", (kind, text[:200])
        assert not DIRECTION.search(text) and not CONTROL.search(text), (kind, text[:200])
    assert len(payload["text"]) <= MESSAGE_TEXT_MAX
    header, *rest = payload["blocks"]
    assert len(header["text"]["text"]) <= HEADER_MAX
    assert all(len(f["text"]) <= FIELD_MAX for f in rest[0]["fields"])
    assert all(len(t) <= TEXT_MAX for _, t in payload_texts(rest))
    lines = message.splitlines()
    if lines and all(len(line) < 2 * FIELD_MAX // 5 for line in lines):  # short enough not to be cut
        # escaped exactly once: unescaping the payload gives back the message as written
        assert unescape(payload["text"]).splitlines() == [clean_for_slack(line) for line in lines]


def summary_orgs(data_dir: Path) -> set[str]:
    return set(pd.read_parquet(warehouse_file(data_dir, "agent_performance_summary", DAY))["org_id"])


def assert_reports_parse_and_are_safe(data_dir: Path) -> None:
    for name, asset in REPORT_CSVS.items():
        header, *rows = read_rows(reports_dir(data_dir, DAY) / name)
        warehouse = pd.read_parquet(warehouse_file(data_dir, asset, DAY))
        assert len(rows) == len(warehouse), name
        assert all(len(row) == len(header) for row in rows), name
        for row, (_, stored) in zip(rows, warehouse.iterrows()):
            for column, cell in zip(header, row):
                if column in NUMERIC:
                    continue
                assert not cell.startswith(FORMULA_CHARS), (name, column, cell[:80])
                value = stored[column]
                if isinstance(value, str):  # the report shows the warehouse's exact value, prefixed
                    assert cell == spreadsheet_cell(value), (name, column, cell[:80])


def expected_roster_profile(agents: list[tuple[str, ...]]) -> tuple[int, int, int]:
    """(formula-like, direction override, control character) cells among the hostile roster
    values, counted here value by value (trimmed as validation trims)."""
    values = [value for agent in agents for value in agent]
    trimmed = pd.Series(values, dtype="str").str.strip().tolist()
    return (
        sum(v.startswith(FORMULA_CHARS) or t.startswith(FORMULA_CHARS) for v, t in zip(values, trimmed)),
        sum(bool(DIRECTION.search(v)) for v in values),
        sum(bool(CONTROL.search(v) or "\n" in v) for v in values),
    )


# A whole day per example (1-2 s on an idle 2-core machine), a few hostile agents and raw
# values in each; derandomized so CI runs the same examples every time, and not shrunk (a
# shrink re-runs whole days for minutes; the failing example is printed as drawn).
@settings(
    max_examples=10, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(agents=st.lists(AGENT, min_size=1, max_size=3), raws=st.lists(HOSTILE, min_size=1, max_size=3))
def test_hostile_text_reaches_reports_and_slack_only_in_its_safe_form(tmp_path_factory, agents, raws):
    data_dir = tmp_path_factory.mktemp("hostile") / "data"
    hostile_day(data_dir, agents, raws)
    instance = ephemeral_instance()
    try:
        result, request = materialize_hostile_day(data_dir, instance)
        message = (reports_dir(data_dir, DAY) / "slack_message.txt").read_text(encoding="utf-8")
        # no name or id breaks the message's lines (nor fakes one)
        labels = ["Agent Summary for", "Top Performer: ", "Total Active Agents: ", "Average Duration: ",
                  "Data quality: ", "Compliance: "]
        assert [line.startswith(label) for line, label in zip(message.splitlines(), labels)] == [True] * 6
        assert len(message.splitlines()) == 6 + len(summary_orgs(data_dir))
        assert_slack_payload_safe(request.payload, message)
        assert_reports_parse_and_are_safe(data_dir)
        # conservation: every record read is kept or rejected, and every kept call is counted
        for asset in ("call_logs", "agent_roster", "disposition_summary"):
            assert check_eval(result, asset, checks.RECORDS_CONSERVED).passed
        calls = pd.read_parquet(warehouse_file(data_dir, "call_logs", DAY))
        summary = pd.read_parquet(warehouse_file(data_dir, "agent_performance_summary", DAY))
        assert int(summary["total_calls"].sum()) == len(calls)
        # the data owner hears about every hostile roster value
        found = check_eval(result, "raw_agent_roster", checks.FORMULA_LIKE_TEXT).metadata
        counts = ("formula_like_cells", "cells_with_direction_overrides", "cells_with_control_characters")
        assert tuple(found[key].value for key in counts) == expected_roster_profile(agents)
    finally:
        instance.dispose()


def test_a_one_megabyte_name_fits_slack_and_stays_whole_in_the_csv(data_dir, instance, big_fields):
    name = "<!here>" + "N" * 1_000_000
    hostile_day(data_dir, [(name, "=x", "@Pune", "A9", "O9")], ["-5"])
    _, request = materialize_hostile_day(data_dir, instance)
    assert_slack_payload_safe(request.payload, "")
    assert request.text.splitlines()[1].startswith("Top Performer: &lt;!here&gt;NNN")
    assert request.text.splitlines()[1].endswith("NNN =x (100% connect rate)")
    [row] = [r for r in read_rows(reports_dir(data_dir, DAY) / SUMMARY_CSV) if r[2] == "A9"]
    assert row[3:5] == [f"{name} =x", "'@Pune"]  # whole, and not formula-like (it begins with <)
    assert (reports_dir(data_dir, DAY) / "slack_message.txt").read_text(encoding="utf-8").count(name) == 1

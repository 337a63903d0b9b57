"""Untrusted text made safe where people read it: spreadsheet cells, the message, Slack."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from callops_dagster.contract.sources import AGENT_ROSTER, REJECTED_COLUMNS
from callops_dagster.ingest.profiling import profile_raw
from callops_dagster.ingest.reading import read_landing_csv
from callops_dagster.report.publish import rejected_rows_csv_text, summary_csv_text
from callops_dagster.contract.safe_text import (
    one_line,
    profile_text,
    slack_escape,
    slack_lines,
    slack_text,
    spreadsheet_cell,
    spreadsheet_safe,
)
from callops_dagster.delivery.blocks import (
    FIELD_MAX,
    HEADER_MAX,
    MESSAGE_TEXT_MAX,
    TEXT_MAX,
    alert_blocks,
    notification_text,
    summary_blocks,
)

ENTITY = re.compile("&(amp|lt|gt);")
RLO = "\u202e"


def unescaped_left(text: str) -> str:
    """What is left of ``text`` once its entities are removed: no ``&``, ``<``, ``>`` may be."""
    return "".join(ch for ch in ENTITY.sub("", text) if ch in "&<>")


# ---------------------------------------------------------------- spreadsheet cells


@pytest.mark.parametrize("value", ["=1+1", "+1", "-5", "@Mumbai", "\tx", "\rx", '=HYPERLINK("http://x")'])
def test_a_value_a_spreadsheet_would_run_gets_a_leading_quote(value):
    assert spreadsheet_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["", "Ravi", "'=1", "a=b", "O'Brien", "5", " x"])
def test_other_values_are_written_as_they_are(value):
    assert spreadsheet_cell(value) == value


def test_a_value_formula_like_once_trimmed_counts_but_is_written_as_it_is():
    # the reports write trimmed values, so " =1" arrives there as "=1" and is prefixed then
    frame = pd.DataFrame({"row_number": [1], "a": pd.Series(["  =1"], dtype="str")})
    assert profile_text(frame, ["a"]).formula_like == 1
    assert spreadsheet_cell("  =1") == "  =1"


def test_spreadsheet_safe_leaves_numbers_missing_values_and_named_columns():
    frame = pd.DataFrame({
        "name": pd.Series(["=x", None, "ok", "-5"], dtype="str"),
        "calls": [-1, 2, 3, 4],
        "rate": pd.Series([-0.5, None, 1.0, 0.0], dtype="Float64"),
        "mixed": ["@a", None, 7, "b"],
        "formatted": ["-1.00", "2.00", "", "3.00"],
    })
    safe = spreadsheet_safe(frame, leave=["formatted"])
    assert safe["name"].tolist()[0] == "'=x" and pd.isna(safe["name"].tolist()[1])
    assert safe["name"].tolist()[2:] == ["ok", "'-5"]
    assert safe["calls"].tolist() == [-1, 2, 3, 4]
    assert safe["rate"].equals(frame["rate"])
    assert safe["mixed"].tolist() == ["'@a", None, 7, "b"]
    assert safe["formatted"].tolist() == frame["formatted"].tolist()
    assert spreadsheet_safe(safe, leave=["formatted"]).equals(safe)  # idempotent: "'" is not a formula character
    assert frame["name"].tolist()[0] == "=x"  # the input is not changed


def test_profile_counts_formula_like_direction_overrides_and_control_characters():
    frame = pd.DataFrame({
        "row_number": [1, 2, 3, 4],
        "a": pd.Series(["=1", f"x{RLO}y", "ok", " @b"], dtype="str"),
        "b": pd.Series(["a\x00b", "-5", "c\nd", None], dtype="str"),
    })
    profile = profile_text(frame, ["a", "b"])
    assert (profile.formula_like, profile.direction_overrides, profile.control_characters) == (3, 1, 2)
    assert profile.sample == [
        {"row_number": 1, "column": "a", "value": "=1"},
        {"row_number": 4, "column": "a", "value": " @b"},
        {"row_number": 2, "column": "b", "value": "-5"},
    ]



def test_profile_on_several_threads_counts_and_samples_as_on_one(monkeypatch):
    """A big file's columns are profiled on the machine's cores at once: the same counts and
    the same sample, in column order, whichever column finished first."""
    import callops_dagster.contract.safe_text as safe_text

    n = 3000
    frame = pd.DataFrame({
        "row_number": range(1, n + 1),
        **{name: pd.Series([f"={name}{i}" if i % (97 + k) == 0 else (f"x{RLO}" if i % 211 == 0 else f"v{i}")
                            for i in range(n)], dtype="str")
           for k, name in enumerate(["a", "b", "c", "d"])},
    })
    monkeypatch.setattr(safe_text, "PARALLEL_FROM_VALUES", 10**12)
    one = profile_text(frame, ["a", "b", "c", "d"])
    threads = []
    real = safe_text.ThreadPoolExecutor
    monkeypatch.setattr(safe_text, "ThreadPoolExecutor", lambda **kw: threads.append(kw) or real(**kw))
    monkeypatch.setattr(safe_text, "PARALLEL_FROM_VALUES", 0)
    several = profile_text(frame, ["a", "b", "c", "d"])
    assert threads  # the pool was used
    assert several == one
    assert one.formula_like == sum(len(range(0, n, 97 + k)) for k in range(4)) and len(one.sample) == 5

# ---------------------------------------------------------------- report CSVs


def test_summary_csv_prefixes_text_cells_and_never_numbers():
    summary = pd.DataFrame({
        "call_date": ["2025-04-28"], "org_id": ["+O1"], "agent_id": ["-A1"],
        "agent_name": ['=HYPERLINK("http://x.example/?a=1")'], "office_location": ["@Mumbai"],
        "total_calls": [5], "unique_loans_contacted": [4],
        "connect_rate": pd.Series([0.6], dtype="Float64"),
        "avg_call_duration_min": pd.Series([None], dtype="Float64"), "presence": [1],
    })
    [row] = list(csv.DictReader(io.StringIO(summary_csv_text(summary))))
    assert row == {
        "call_date": "2025-04-28", "org_id": "'+O1", "agent_id": "'-A1",
        "agent_name": "'=HYPERLINK(\"http://x.example/?a=1\")", "office_location": "'@Mumbai",
        "total_calls": "5", "unique_loans_contacted": "4", "connect_rate": "0.6000",
        "avg_call_duration_min": "", "presence": "1",
    }


@pytest.fixture
def big_fields():
    """Python's csv reader refuses fields over 128 KiB unless told otherwise."""
    old = csv.field_size_limit(1 << 24)
    yield
    csv.field_size_limit(old)


def test_rejected_rows_csv_prefixes_raw_values_keeps_row_numbers_and_big_values_whole(big_fields):
    big = "@" + "x" * 1_000_000
    rejected = pd.DataFrame(
        [{"source": "call_logs.csv", "row_number": 7, "reason": "bad_call_date", "duration": "-5",
          "status": "\t=cmd", "call_date": "2025/04/28", "agent_id": big, "raw_text": None}],
        columns=list(REJECTED_COLUMNS),
    ).astype({c: "str" for c in REJECTED_COLUMNS if c != "row_number"})
    [header, row] = list(csv.reader(io.StringIO(rejected_rows_csv_text(rejected), newline="")))
    got = dict(zip(header, row))
    assert (got["source"], got["row_number"], got["reason"]) == ("call_logs.csv", "7", "bad_call_date")
    assert (got["duration"], got["status"], got["call_date"]) == ("'-5", "'\t=cmd", "2025/04/28")
    assert got["agent_id"] == "'" + big  # the CSV keeps a huge value whole
    assert len(row) == len(header) == len(REJECTED_COLUMNS)


# ---------------------------------------------------------------- the reader


def test_control_characters_nul_and_overrides_inside_quoted_values_are_read_as_they_are(tmp_path: Path):
    path = tmp_path / "agent_roster.csv"
    path.write_bytes(
        b"agent_id,users_first_name,users_last_name,users_office_location,org_id\n"
        + 'A1,"a\x00b","c\x01d\r\ne","x\u202ey",O1\n'.encode()
        + b"A2,=1+1,-5,@Mumbai,O1\n"
    )
    table = read_landing_csv(path, AGENT_ROSTER)
    assert table.records_read == 2 and profile_raw(table.frame, AGENT_ROSTER).malformed == 0
    first = table.frame.iloc[0]
    assert (first["users_first_name"], first["users_last_name"]) == ("a\x00b", "c\x01d\r\ne")
    assert first["users_office_location"] == f"x{RLO}y"
    assert table.frame.iloc[1]["users_office_location"] == "@Mumbai"  # raw values stay exact


# ---------------------------------------------------------------- the message's lines


def test_one_line_shows_control_characters_and_line_separators_as_spaces():
    assert one_line("a\nb\r\x00c\u2028d\x85e\tf") == "a b  c d e f"
    assert one_line(f"<!channel> *b* {RLO}x") == f"<!channel> *b* {RLO}x"  # nothing else changes


# ---------------------------------------------------------------- Slack


def test_slack_escape_is_applied_once():
    assert slack_escape("<!channel> & <@U123> <http://evil|click here>") == (
        "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;http://evil|click here&gt;"
    )
    assert slack_escape("&lt;") == "&amp;lt;"  # an entity typed into a name is shown as typed


def test_slack_text_removes_direction_overrides_and_control_characters():
    assert slack_text(f"Ann{RLO}\u2066 Lee\x00\nX", 100) == "Ann Lee  X"


@pytest.mark.parametrize("limit", range(1, 40))
def test_a_cut_never_splits_an_escape_sequence(limit):
    for text in ("<&>" * 20, "a<b&c>d" * 10, "x" * 50 + "&" * 10, "😀<" * 30):
        cut = slack_text(text, limit, tail=8)
        assert len(cut.encode("utf-16-le")) // 2 <= limit
        assert unescaped_left(cut) == ""
        if cut != slack_escape(text):
            assert "…" in cut


def test_a_long_line_keeps_its_end():
    line = "Top Performer: " + "<" * 5000 + " (69% connect rate)"
    cut = slack_text(line, FIELD_MAX, tail=60)
    assert cut.startswith("Top Performer: &lt;") and cut.endswith("&lt; (69% connect rate)")
    assert len(cut) <= FIELD_MAX


def test_too_many_lines_end_with_a_count():
    text = slack_lines("\n".join(f"ORG{i}: 1 call" for i in range(5000)), 100, 1000)
    assert len(text) <= 1000 and re.search(r"… and \d+ more lines$", text)


MESSAGE = (
    "Agent Summary for 2025-04-28\n"
    "Top Performer: {name} (69% connect rate)\n"
    "Total Active Agents: 8\n"
    "Average Duration: 4.3 min\n"
    "Data quality: 0 of 10 rows rejected (0.0%)\n"
    "{org}: 1 active agent, 5 calls, 60% connect rate\n"
)


def payload_texts(blocks) -> list[tuple[str, str]]:
    """(type, text) of every text object in ``blocks``."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if "text" in node and isinstance(node["text"], str):
                found.append((node.get("type", ""), node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def test_markdown_looking_names_are_plain_text_in_the_blocks():
    message = MESSAGE.format(name="*bold* _it_ ~no~ `code` ```x```", org="`O1`")
    blocks = summary_blocks(message)
    sources = [(kind, text) for kind, text in payload_texts(blocks) if "`" in text]
    assert sources and all(kind == "plain_text" for kind, _ in sources)
    assert ("plain_text", "*bold* _it_ ~no~ `code` ```x``` (69% connect rate)") in sources
    assert all(text.startswith("*") and text.endswith("*") for kind, text in payload_texts(blocks) if kind == "mrkdwn")


def test_a_one_megabyte_name_stays_within_slacks_limits():
    message = MESSAGE.format(name="<!here>" + "N" * 1_000_000, org="O" * 500_000)
    blocks = summary_blocks(message)
    text = notification_text(message)
    assert len(text) <= MESSAGE_TEXT_MAX and unescaped_left(text) == ""
    assert len(blocks[0]["text"]["text"]) <= HEADER_MAX
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert all(len(f) <= FIELD_MAX for f in fields)
    assert fields[1].startswith("&lt;!here&gt;NNN") and fields[1].endswith("(69% connect rate)")
    assert len(blocks[-1]["text"]["text"]) <= TEXT_MAX
    assert blocks[-1]["text"]["text"].endswith("5 calls, 60% connect rate")


def test_alerts_escape_and_clean_what_they_quote():
    blocks = alert_blocks(f"callops 2025-04-28: run failed\n• step x failed: header has <!channel>, {RLO}a\n")
    assert blocks[1]["text"] == {"type": "plain_text", "text": "• step x failed: header has &lt;!channel&gt;, a"}


@pytest.mark.parametrize(
    ("codes", "kind"),
    [
        ([*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029], "control_characters"),
        ([*range(0x202A, 0x202F), *range(0x2066, 0x206A)], "direction_overrides"),
    ],
)
def test_every_control_character_and_direction_override_is_counted(codes, kind):
    values = [f"a{chr(code)}b" for code in codes] + ["plain", "Zoë 😀", ""]
    frame = pd.DataFrame({"row_number": range(len(values)), "a": pd.Series(values, dtype="str")})
    assert getattr(profile_text(frame, ["a"]), kind) == len(codes)

"""Pure Slack helpers: Block Kit from the message, alert text, post decisions, the ledger,
and late rows counted by the date they carry."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from callops_dagster.contract.sources import REJECTED_COLUMNS
from callops_dagster.report.late_rows import LateRows, late_rows, late_rows_text
from callops_dagster.report.message import DataQuality, quality_line
from callops_dagster.delivery.blocks import (
    ALERT_LINES_MAX,
    FailedCheck,
    FailedStep,
    OverdueDay,
    RunOutcome,
    alert_blocks,
    alert_text,
    correction_text,
    numeric_counts,
    overdue_day,
    summary_blocks,
)
from callops_dagster.delivery.ledger import (
    CORRECTION,
    POSTED,
    REPOST,
    LedgerError,
    Post,
    content_hash,
    decide,
    ledger_path,
    read_posts,
    record_post,
)

MESSAGE = (
    "Agent Summary for 2025-04-28\n"
    "Top Performer: Meera Kapoor (69% connect rate)\n"
    "Total Active Agents: 8\n"
    "Average Duration: 4.3 min\n"
    "Data quality: 16 of 116 rows rejected (13.8%); 1 late row for 2025-04-27\n"
    "ORG01: 4 active agents, 40 calls, 60% connect rate\n"
    "ORG02: 4 active agents, 42 calls, 55% connect rate\n"
)

# ---------------------------------------------------------------- summary blocks


def test_summary_blocks_header_fields_context_and_org_lines():
    header, fields, context, orgs = summary_blocks(MESSAGE)
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "Agent Summary for 2025-04-28"}}
    assert [(f["type"], f["text"]) for f in fields["fields"]] == [
        ("mrkdwn", "*Top Performer*"), ("plain_text", "Meera Kapoor (69% connect rate)"),
        ("mrkdwn", "*Total Active Agents*"), ("plain_text", "8"),
        ("mrkdwn", "*Average Duration*"), ("plain_text", "4.3 min"),
    ]
    assert context["type"] == "context" and context["elements"][0]["type"] == "plain_text"
    assert context["elements"][0]["text"].startswith("Data quality: 16 of 116")
    assert orgs["text"]["type"] == "plain_text"
    assert orgs["text"]["text"] == (
        "ORG01: 4 active agents, 40 calls, 60% connect rate\nORG02: 4 active agents, 42 calls, 55% connect rate"
    )


def test_summary_blocks_escape_slack_control_characters():
    text = MESSAGE.replace("Meera Kapoor", "Ann <b> & Co")
    fields = summary_blocks(text)[1]["fields"]
    assert fields[1]["text"] == "Ann &lt;b&gt; &amp; Co (69% connect rate)"


def test_summary_blocks_respect_block_kit_lengths():
    text = "Agent Summary " + "x" * 400 + "\n" + "\n".join(f"ORG{i}: " + "y" * 80 for i in range(100))
    blocks = summary_blocks(text)
    assert len(blocks[0]["text"]["text"]) <= 150
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks[1:] if "text" in b)


def test_a_correction_is_marked_in_the_header_and_the_text():
    corrected = correction_text(MESSAGE)
    assert corrected.splitlines()[0] == "Agent Summary for 2025-04-28 (correction)"
    assert corrected.splitlines()[1:] == MESSAGE.splitlines()[1:]
    assert summary_blocks(corrected)[0]["text"]["text"].endswith("(correction)")


# ---------------------------------------------------------------- alert text


def outcome(**overrides) -> RunOutcome:
    return RunOutcome(**{"day": "2025-04-28", "run_id": "0123456789abcdef", "job": "callops_daily",
                         "succeeded": True, **overrides})


def test_a_clean_successful_run_says_nothing():
    assert alert_text(outcome()) is None


def test_warn_checks_alert_only_when_asked():
    warn = FailedCheck("agent_day", "agents_in_roster", "WARN", {"agents_not_in_roster": 1})
    assert alert_text(outcome(failed_checks=[warn])) is None
    text = alert_text(outcome(failed_checks=[warn]), include_warn=True)
    assert "agent_day › agents_in_roster WARN: agents_not_in_roster=1" in text


def test_a_failed_blocking_check_names_the_day_asset_check_counts_and_step():
    check = FailedCheck("raw_call_logs", "missing_keys", "ERROR", {"rows_with_missing_keys": 5, "share": 0.5})
    step = FailedStep(
        "raw_call_logs",
        "dagster._core.errors.DagsterAssetCheckFailedError: 1 blocking asset check failed with ERROR "
        "severity:\nraw_call_logs: missing_keys\n",
    )
    text = alert_text(outcome(succeeded=False, failed_checks=[check], failed_steps=[step]))
    assert text.splitlines() == [
        "callops 2025-04-28: run failed (run 01234567, job callops_daily)",
        "• raw_call_logs › missing_keys ERROR: rows_with_missing_keys=5, share=0.5",
        "• step raw_call_logs failed: 1 blocking asset check failed with ERROR severity: raw_call_logs: missing_keys",
    ]


def test_a_failed_run_without_failed_checks_still_alerts():
    text = alert_text(outcome(succeeded=False, failed_steps=[FailedStep("raw_call_logs", "call_logs.csv: missing")]))
    assert "run failed" in text and "step raw_call_logs failed: call_logs.csv: missing" in text


def test_an_error_check_on_a_green_run_alerts():
    check = FailedCheck("agent_performance_summary", "trend", "ERROR")
    assert alert_text(outcome(failed_checks=[check])).startswith("callops 2025-04-28: checks failed")


def test_a_long_alert_is_cut_with_a_pointer_to_the_ui():
    checks = [FailedCheck("a", f"c{i}", "ERROR") for i in range(20)]
    lines = alert_text(outcome(failed_checks=checks)).splitlines()
    assert len(lines) == ALERT_LINES_MAX + 2
    assert lines[-1] == "… and 12 more (see the run in the Dagster UI)"


def test_numeric_counts_keep_numbers_only():
    assert numeric_counts({"rows": 3, "flag": True, "sample": "md", "share": 0.25, "x": 1, "y": 2}) == {
        "rows": 3, "share": 0.25, "x": 1,
    }


def test_alert_blocks_bold_the_first_line_and_show_the_rest_as_written():
    first, rest = alert_blocks("callops 2025-04-28: run failed\n• a <b> *x*\n")
    assert first["text"] == {"type": "mrkdwn", "text": "*callops 2025-04-28: run failed*"}
    assert rest["text"] == {"type": "plain_text", "text": "• a &lt;b&gt; *x*"}
    assert len(alert_blocks("callops 2025-04-28: run failed\n")) == 1


def freshness_metadata(local: str, timezone: str, **extra) -> dict:
    tick = dt.datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(timezone)).timestamp()
    params = {"timezone": timezone, "deadline_cron": "0 6 * * *"}
    return {"dagster/freshness_params": params, "dagster/latest_cron_tick_timestamp": tick, **extra}


@pytest.mark.parametrize(
    ("local", "timezone", "day"),
    [
        ("2025-04-29 06:00", "Asia/Kolkata", "2025-04-28"),
        ("2025-04-29 00:00", "Asia/Kolkata", "2025-04-28"),  # a deadline at midnight
        ("2025-03-31 06:00", "Europe/Berlin", "2025-03-30"),  # the day clocks went forward
        ("2025-01-01 23:00", "America/New_York", "2024-12-31"),  # already the 2nd in UTC
    ],
)
def test_the_overdue_day_is_the_day_before_the_deadline_tick_in_its_timezone(local, timezone, day):
    overdue = overdue_day("summary", "freshness_check", freshness_metadata(local, timezone))
    assert overdue == OverdueDay("summary", "freshness_check", day, f"{local} {timezone}", never_materialized=True)
    assert overdue.key == "summary:freshness_check"


def test_a_freshness_check_on_an_asset_materialised_before_is_not_never_materialised():
    metadata = freshness_metadata("2025-04-29 06:00", "Asia/Kolkata", **{"dagster/last_updated_timestamp": 1.0})
    assert not overdue_day("s", "c", metadata).never_materialized


@pytest.mark.parametrize(
    "metadata",
    [
        {"share": 0.3},
        {"dagster/latest_cron_tick_timestamp": 1.0},
        {"dagster/latest_cron_tick_timestamp": True, "dagster/freshness_params": {"timezone": "UTC"}},
        {"dagster/latest_cron_tick_timestamp": 1.0, "dagster/freshness_params": {"timezone": "Mars/Olympus"}},
        {"dagster/latest_cron_tick_timestamp": 1.0, "dagster/freshness_params": {}},
    ],
)
def test_metadata_that_is_not_a_freshness_checks_names_no_day(metadata):
    assert overdue_day("s", "c", metadata) is None


OVERDUE = OverdueDay("agent_performance_summary", "freshness_check", "2025-04-28", "2025-04-29 06:00 Asia/Kolkata")


def test_an_overdue_day_alerts_with_what_to_do_even_from_a_run_without_a_day():
    lines = alert_text(outcome(day=None, job="freshness", overdue=[OVERDUE])).splitlines()
    assert lines[0] == "callops 2025-04-28: day overdue (run 01234567, job freshness)"
    assert lines[1] == (
        "• agent_performance_summary › freshness_check: 2025-04-28 not materialised by its deadline "
        "2025-04-29 06:00 Asia/Kolkata"
    )
    assert "landing/2025-04-28/" in lines[2] and "callops_landing_sensor" in lines[2]
    assert len(lines) == 3


def test_a_run_without_a_day_alerts_only_for_an_overdue_day():
    failed = outcome(day=None, succeeded=False, failed_steps=[FailedStep("other", "boom")])
    assert alert_text(failed) is None
    assert alert_text(failed, include_warn=True) is None
    assert alert_text(outcome(day=None, overdue=[OVERDUE])) is not None


def test_an_overdue_day_in_a_failed_run_of_a_day_is_one_alert():
    step = FailedStep("raw_call_logs", "call_logs.csv: missing")
    lines = alert_text(outcome(succeeded=False, failed_steps=[step], overdue=[OVERDUE])).splitlines()
    assert lines[0].startswith("callops 2025-04-28: run failed")
    assert lines[1].startswith("• agent_performance_summary › freshness_check") and lines[3].startswith("• step")


# ---------------------------------------------------------------- post decisions


def post(digest: str = "h1") -> Post:
    return Post("2025-04-28", digest, "2025-04-29T00:00:00+00:00", POSTED)


@pytest.mark.parametrize(
    ("day", "last", "backfill", "force", "kind"),
    [
        ("2025-04-28", None, False, False, POSTED),  # newest day, never posted
        ("2025-04-27", None, False, False, None),  # a backfill day posts nothing by default
        ("2025-04-27", None, True, False, POSTED),  # ... unless asked
        ("2025-04-27", None, False, True, POSTED),  # ... or forced
        ("2025-04-28", post("h1"), False, False, None),  # same content again: no-op
        ("2025-04-28", post("h1"), False, True, REPOST),  # ... unless forced
        ("2025-04-28", post("h0"), False, False, CORRECTION),  # changed content: a correction
        ("2025-04-27", post("h0"), True, False, CORRECTION),
        ("2025-04-27", post("h1"), True, False, None),
    ],
)
def test_decide(day, last, backfill, force, kind):
    decision = decide(day, "2025-04-28", "h1", last, post_backfill=backfill, force=force)
    assert decision.kind == kind
    assert decision.post is (kind is not None)
    assert decision.correction is (kind == CORRECTION)


def test_decide_without_landed_days_posts():
    assert decide("2025-04-28", None, "h", None).kind == POSTED


def test_ledger_round_trip(tmp_path):
    path = ledger_path(tmp_path, "2025-04-28")
    assert path == tmp_path / "slack" / "posted" / "2025-04-28.json"
    assert read_posts(path) == []
    first, second = post("h0"), Post("2025-04-28", "h1", "2025-04-29T01:00:00+00:00", CORRECTION, "run-2")
    record_post(path, first)
    assert record_post(path, second) == [first, second]
    assert read_posts(path) == [first, second]
    assert json.loads(path.read_text())["posts"][1]["kind"] == CORRECTION


@pytest.mark.parametrize("content", ["{not json", '{"posts": [{"day": 1}]}', "[]"])
def test_an_unreadable_ledger_is_a_clear_error(tmp_path, content):
    path = ledger_path(tmp_path, "2025-04-28")
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(LedgerError, match="2025-04-28.json is unreadable"):
        read_posts(path)


def test_content_hash_changes_with_the_text():
    assert content_hash("a") == content_hash("a") != content_hash("b")


# ---------------------------------------------------------------- late rows


def rejected(*rows: tuple[str, str, str]) -> pd.DataFrame:
    """(source, reason, call_date) rows in the rejected-rows shape."""
    records = [
        {"source": source, "row_number": i + 1, "reason": reason, "call_date": call_date}
        for i, (source, reason, call_date) in enumerate(rows)
    ]
    return pd.DataFrame(records, columns=list(REJECTED_COLUMNS))


DAY = dt.date(2025, 4, 28)
OUTSIDE = "call_date_outside_partition"


def test_late_rows_count_calls_by_the_date_they_carry():
    table = rejected(
        ("call_logs.csv", OUTSIDE, "2025-04-27"),
        ("call_logs.csv", OUTSIDE, " 2025-04-27 "),  # raw values are untrimmed
        ("call_logs.csv", OUTSIDE, "2025-04-20"),
        ("call_logs.csv", OUTSIDE, "2025-04-29"),  # dated after the day: not late
        ("disposition_summary.csv", OUTSIDE, "2025-04-27"),  # a login, not a call
        ("call_logs.csv", "bad_call_date", "2025-13-01"),
        ("call_logs.csv", "duplicate_exact", "2025-04-28"),
    )
    rows = late_rows(table, DAY)
    assert rows.earlier == {"2025-04-20": 1, "2025-04-27": 2}
    assert rows.later == {"2025-04-29": 1}
    assert (rows.late, rows.future) == (3, 1)


def test_no_rejected_rows_no_late_rows():
    assert late_rows(rejected(), DAY) == LateRows()
    assert late_rows(pd.DataFrame(), DAY) == LateRows()


@pytest.mark.parametrize(
    ("rows", "text"),
    [
        (LateRows(), ""),
        (LateRows({"2025-04-27": 1}), "1 late row for 2025-04-27"),
        (LateRows({"2025-04-26": 1, "2025-04-27": 2}), "3 late rows for 2025-04-27 (2), 2025-04-26 (1)"),
        (
            LateRows({f"2025-04-2{i}": 1 for i in range(5)}),
            "5 late rows for 2025-04-24 (1), 2025-04-23 (1), 2025-04-22 (1) and 2 more days",
        ),
        (LateRows(later={"2025-04-29": 2}), "2 rows dated after the day (2025-04-29)"),
    ],
)
def test_late_rows_text(rows, text):
    assert late_rows_text(rows) == text


def test_quality_line_ends_with_the_late_rows_only_when_there_are_some():
    base = DataQuality(rows_read=10, rows_rejected=1, calls_not_in_roster=0, agents_not_in_roster=0,
                       roster_day=DAY, day=DAY)
    plain = quality_line(base)
    assert "late" not in plain
    late = DataQuality(**{**base.__dict__, "late_rows": LateRows({"2025-04-27": 1})})
    assert quality_line(late) == plain + "; 1 late row for 2025-04-27"

"""Layer 1: the Slack-style message (``message``) from small hand-built agent-days.

Calls, logins and the roster are tiny landing files run through the real reader, validators,
join and metrics, so the message sees the summary the asset would hand it.
"""

from __future__ import annotations

import datetime as dt
import re
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from callops_dagster.contract.sources import AGENT_ROSTER, CALL_LOGS, DISPOSITION_SUMMARY, SourceSpec
from callops_dagster.report.join import build_agent_day
from callops_dagster.report.message import DataQuality, build_slack_message, top_performer
from callops_dagster.report.metrics import summarise_agent_day
from callops_dagster.ingest.reading import read_landing_csv
from callops_dagster.ingest.validation import (
    validate_agent_roster,
    validate_call_logs,
    validate_disposition_summary,
)

from callops_dagster_tests.helpers import CALL_HEADER, DISPOSITION_HEADER, ROSTER_HEADER

DAY = dt.date(2025, 4, 28)


def raw(tmp_path: Path, spec: SourceSpec, header: str, records: list[str]) -> pd.DataFrame:
    path = tmp_path / spec.file_name
    path.write_text("".join(line + "\n" for line in (header, *records)), encoding="utf-8")
    return read_landing_csv(path, spec).frame


def agent_calls(agent_id: str, completed: int, total: int, org_id: str = "O1", durations=None) -> list[str]:
    """``total`` calls by one agent, the first ``completed`` of them completed."""
    durations = durations or ["60"] * total
    return [
        ",".join(
            (
                f"{org_id}-{agent_id}-C{i}",
                agent_id,
                org_id,
                f"I{i}",
                "completed" if i < completed else "busy",
                durations[i],
                "2025-04-28 10:00:00",
                "2025-04-28",
            )
        )
        for i in range(total)
    ]


def person(agent_id: str, first: str, last: str = "", org_id: str = "O1") -> str:
    return ",".join((agent_id, first, last, "Pune", org_id))


def summary(tmp_path: Path, calls=(), roster=(), logins=()) -> pd.DataFrame:
    # These tests' durations are seconds (CALLOPS_DURATION_UNIT=seconds).
    kept_calls = validate_call_logs(
        raw(tmp_path, CALL_LOGS, CALL_HEADER, list(calls)), DAY, duration_unit="seconds"
    ).kept
    kept_logins = validate_disposition_summary(
        raw(tmp_path, DISPOSITION_SUMMARY, DISPOSITION_HEADER, list(logins)), DAY
    ).kept
    kept_roster = validate_agent_roster(raw(tmp_path, AGENT_ROSTER, ROSTER_HEADER, list(roster))).kept
    return summarise_agent_day(build_agent_day(kept_calls, kept_logins, kept_roster, DAY))


def quality(**overrides) -> DataQuality:
    values = dict(rows_read=100, rows_rejected=0, calls_not_in_roster=0, agents_not_in_roster=0,
                  roster_day=DAY, day=DAY)
    values.update(overrides)
    return DataQuality(**values)


def message_lines(frame: pd.DataFrame, min_calls: int = 5, **quality_overrides) -> list[str]:
    return build_slack_message(frame, DAY, quality(**quality_overrides), min_calls).splitlines()


def winner_in_any_order(frame: pd.DataFrame, min_calls: int = 5) -> tuple[str, str, str]:
    """The top performer, checked to be the same whatever the row order of the summary."""
    found = set()
    for ordered in (frame, frame.iloc[::-1].reset_index(drop=True)):
        best = top_performer(ordered, min_calls)
        assert best is not None
        found.add((best.name, best.org_id, best.agent_id))
    assert len(found) == 1, found
    return found.pop()


# --- the first four lines -----------------------------------------------------------------


def test_first_four_lines_are_exactly_the_contract_format(tmp_path):
    calls = (
        agent_calls("A1", 49, 50, durations=["390"] * 50)
        + agent_calls("A2", 1, 5, durations=["390"] * 5)
        + agent_calls("A3", 0, 1, durations=["390"])
    )
    roster = [person("A1", "Ravi", "Sharma"), person("A2", "Meera", "Kapoor"), person("A3", "Zoë")]
    lines = message_lines(summary(tmp_path, calls, roster))
    assert lines[:4] == [
        "Agent Summary for 2025-04-28",
        "Top Performer: Ravi Sharma (98% connect rate)",  # 49/50
        "Total Active Agents: 3",
        "Average Duration: 6.5 min",  # 390 s
    ]


def test_message_ends_with_a_line_end(tmp_path):
    text = build_slack_message(summary(tmp_path, agent_calls("A1", 1, 5)), DAY, quality(), 5)
    assert text.endswith("\n")
    assert not text.endswith("\n\n")


@pytest.mark.parametrize(
    ("completed", "total", "shown"),
    [
        pytest.param(1, 40, "3%", id="2.5%-half-away-from-zero"),  # half-even would say 2%
        pytest.param(4, 6, "67%", id="two-thirds"),
    ],
)
def test_percentage_is_the_exact_rate_rounded_half_away_from_zero(tmp_path, completed, total, shown):
    lines = message_lines(summary(tmp_path, agent_calls("A1", completed, total), [person("A1", "Ravi")]))
    assert lines[1] == f"Top Performer: Ravi ({shown} connect rate)"


# --- top performer ------------------------------------------------------------------------


# Each rule of the order, on agents equal in every rule before it: the case's id names the rule.
TOP_PERFORMER_ORDER = [
    pytest.param(
        agent_calls("A1", 3, 6) + agent_calls("A2", 5, 6) + agent_calls("A3", 4, 6),
        [person("A1", "Ravi"), person("A2", "Meera"), person("A3", "Zoë")],
        ("Meera", "O1", "A2"),
        id="the_highest_rate",
    ),
    pytest.param(
        # 5/6 = 83.3% beats 83/100 = 83.0%, though both show as 83% and A2 completed more.
        agent_calls("A1", 5, 6) + agent_calls("A2", 83, 100),
        [person("A1", "Ravi"), person("A2", "Meera")],
        ("Ravi", "O1", "A1"),
        id="the_exact_rate_not_the_rounded_percentage",
    ),
    pytest.param(
        agent_calls("A1", 4, 5) + agent_calls("A2", 8, 10),
        [person("A1", "Aaron"), person("A2", "Zoë")],
        ("Zoë", "O1", "A2"),
        id="equal_rate_goes_to_more_completed_calls",
    ),
    pytest.param(
        # With no completed call the rates (0) and completed calls (0) tie; more calls wins.
        agent_calls("A1", 0, 5) + agent_calls("A2", 0, 7) + agent_calls("A3", 0, 6),
        [person("A1", "Aaron"), person("A2", "Zoë"), person("A3", "Meera")],
        ("Zoë", "O1", "A2"),
        id="equal_rate_and_completed_goes_to_more_calls",
    ),
    pytest.param(
        agent_calls("A1", 3, 5) + agent_calls("A2", 3, 5),
        [person("A1", "Ravi", "Sharma"), person("A2", "Meera", "Kapoor")],
        ("Meera Kapoor", "O1", "A2"),
        id="full_tie_goes_to_name_ascending",
    ),
    pytest.param(
        agent_calls("A7", 3, 5) + agent_calls("A3", 3, 5),
        [person("A7", "Ravi", "Sharma"), person("A3", "Ravi", "Sharma")],
        ("Ravi Sharma", "O1", "A3"),
        id="same_name_goes_to_agent_id_ascending",
    ),
    pytest.param(
        agent_calls("A1", 3, 5, org_id="O9") + agent_calls("A1", 3, 5, org_id="O2"),
        [person("A1", "Ravi", org_id="O9"), person("A1", "Ravi", org_id="O2")],
        ("Ravi", "O2", "A1"),
        id="same_name_and_agent_id_goes_to_org_id_ascending",
    ),
]


@pytest.mark.parametrize(("calls", "roster", "winner"), TOP_PERFORMER_ORDER)
def test_top_performer_order(tmp_path, calls, roster, winner):
    assert winner_in_any_order(summary(tmp_path, calls, roster)) == winner


def test_exact_rate_decides_not_the_four_place_connect_rate(tmp_path):
    # 41/91 = 0.450549... beats 50/111 = 0.450450...; both are 0.4505 at four places.
    calls = agent_calls("A1", 41, 91) + agent_calls("A2", 50, 111)
    roster = [person("A1", "Ravi"), person("A2", "Meera")]
    frame = summary(tmp_path, calls, roster)
    assert frame["connect_rate"].nunique() == 1  # the rounded rates really tie
    assert winner_in_any_order(frame) == ("Ravi", "O1", "A1")




def test_agents_below_min_calls_do_not_qualify(tmp_path):
    calls = agent_calls("A1", 4, 4) + agent_calls("A2", 3, 5)
    roster = [person("A1", "Ravi"), person("A2", "Meera")]
    frame = summary(tmp_path, calls, roster)
    assert winner_in_any_order(frame, min_calls=5) == ("Meera", "O1", "A2")
    assert winner_in_any_order(frame, min_calls=4) == ("Ravi", "O1", "A1")
    assert message_lines(frame, min_calls=5)[1] == "Top Performer: Meera (60% connect rate)"


def test_min_calls_default_is_5(tmp_path):
    calls = agent_calls("A1", 4, 4) + agent_calls("A2", 3, 5)
    frame = summary(tmp_path, calls, [person("A1", "Ravi"), person("A2", "Meera")])
    assert top_performer(frame).agent_id == "A2"


def test_nobody_reaching_min_calls_gives_n_a(tmp_path):
    frame = summary(tmp_path, agent_calls("A1", 4, 4) + agent_calls("A2", 1, 2), [person("A1", "Ravi")])
    lines = message_lines(frame, min_calls=5)
    assert lines[1] == "Top Performer: n/a"
    assert lines[2] == "Total Active Agents: 2"
    assert lines[3] == "Average Duration: 1.0 min"


def test_min_calls_zero_ignores_agent_days_without_calls(tmp_path):
    # A login-only agent-day has no connect rate; it must not win, nor break the message.
    frame = summary(
        tmp_path,
        agent_calls("A1", 1, 2),
        [person("A1", "Ravi"), person("A2", "Meera")],
        logins=["A2,O1,2025-04-28,2025-04-28 09:00:00"],
    )
    assert message_lines(frame, min_calls=0)[1] == "Top Performer: Ravi (50% connect rate)"


def test_name_falls_back_to_agent_id(tmp_path):
    frame = summary(tmp_path, agent_calls("GHOST7", 5, 5), roster=[person("A1", "Ravi")])
    assert message_lines(frame)[1] == "Top Performer: GHOST7 (100% connect rate)"


# --- an empty day -------------------------------------------------------------------------


def test_day_with_no_rows_says_n_a(tmp_path):
    lines = message_lines(summary(tmp_path), rows_read=0)
    assert lines[:4] == [
        "Agent Summary for 2025-04-28",
        "Top Performer: n/a",
        "Total Active Agents: 0",
        "Average Duration: n/a",
    ]
    assert lines[4].startswith("Data quality:")


def test_day_with_logins_but_no_calls_says_n_a(tmp_path):
    frame = summary(tmp_path, roster=[person("A1", "Ravi")], logins=["A1,O1,2025-04-28,2025-04-28 09:00:00"])
    lines = message_lines(frame)
    assert lines[1:4] == ["Top Performer: n/a", "Total Active Agents: 0", "Average Duration: n/a"]


def test_calls_without_any_valid_duration_give_average_n_a(tmp_path):
    frame = summary(tmp_path, agent_calls("A1", 5, 5, durations=["abc"] * 5), [person("A1", "Ravi")])
    lines = message_lines(frame)
    assert lines[1] == "Top Performer: Ravi (100% connect rate)"
    assert lines[3] == "Average Duration: n/a"


# --- total active agents and average duration ---------------------------------------------


def test_total_active_agents_counts_agent_days_with_a_call(tmp_path):
    calls = agent_calls("A1", 0, 1, org_id="O1") + agent_calls("A1", 0, 2, org_id="O2") + agent_calls("A2", 1, 1)
    logins = ["A3,O1,2025-04-28,2025-04-28 09:00:00", "A4,O1,2025-04-28,"]
    frame = summary(tmp_path, calls, [person("A1", "Ravi")], logins)
    assert len(frame) == 5
    assert message_lines(frame)[2] == "Total Active Agents: 3"  # A1@O1, A1@O2, A2


def test_average_duration_is_over_all_calls_not_over_agents(tmp_path):
    # A1: one call of 60 s; A2: three of 180 s. Day: 600 s / 4 = 150 s = 2.5 min
    # (the mean of the agents' means would be 2.0).
    calls = agent_calls("A1", 0, 1, durations=["60"]) + agent_calls("A2", 0, 3, durations=["180"] * 3)
    assert message_lines(summary(tmp_path, calls))[3] == "Average Duration: 2.5 min"


@pytest.mark.parametrize(
    ("durations", "shown"),
    [
        pytest.param(["255"], "4.3", id="half-away-from-zero"),  # 4.25 min exactly; half-even would say 4.2
        pytest.param(["300", "420"], "6.0", id="whole-minutes-keep-one-place"),
    ],
)
def test_average_duration_shows_one_place_rounded_half_away_from_zero(tmp_path, durations, shown):
    frame = summary(tmp_path, agent_calls("A1", 0, len(durations), durations=durations))
    assert message_lines(frame)[3] == f"Average Duration: {shown} min"


def test_average_duration_excludes_nulls_and_includes_zeros(tmp_path):
    durations = ["0", "abc", "180", "-5"]
    frame = summary(tmp_path, agent_calls("A1", 0, 4, durations=durations))
    assert message_lines(frame)[3] == "Average Duration: 1.5 min"  # (0 + 180) / 2 s


# --- the data-quality line ----------------------------------------------------------------


def test_fifth_line_is_data_quality_with_rejections_and_share(tmp_path):
    frame = summary(tmp_path, agent_calls("A1", 1, 5))
    line = message_lines(frame, rows_read=40, rows_rejected=3, calls_not_in_roster=7,
                         agents_not_in_roster=2)[4]
    assert line.startswith("Data quality:")
    assert re.search(r"\b3\b", line) and re.search(r"\b40\b", line)
    assert "7.5%" in line or "8%" in line  # 3 of 40 rows
    assert re.search(r"\b7 calls?\b", line) and "roster" in line


def test_fifth_line_names_the_carried_forward_roster_day(tmp_path):
    frame = summary(tmp_path, agent_calls("A1", 1, 5))
    line = message_lines(frame, roster_day=dt.date(2025, 4, 25))[4]
    assert line.startswith("Data quality:")
    assert "2025-04-25" in line
    assert "carried" in line.lower()


def test_fifth_line_does_not_claim_a_carry_forward_for_the_days_own_roster(tmp_path):
    line = message_lines(summary(tmp_path, agent_calls("A1", 1, 5)))[4]
    assert line.startswith("Data quality:")
    assert "carried" not in line.lower()


def test_data_quality_knows_when_the_roster_was_carried():
    assert quality(roster_day=dt.date(2025, 4, 27)).roster_carried_forward
    assert not quality().roster_carried_forward


def test_top_performer_rate_is_the_exact_fraction(tmp_path):
    best = top_performer(summary(tmp_path, agent_calls("A1", 41, 91)), 5)
    assert best.rate == Fraction(41, 91)

"""Layer 1: contact compliance and the weekly summary on hand-built frames.

One behaviour of ``shared/spec/contact-compliance.md`` per test: the window's edges, unknown
times, calls before the login, the seven-day loan window, week boundaries and the change
against the previous week. The loan window is computed from each day's ``loan_contacts``; the
computation it replaced (over the window's call tables, one strftime per loan) is kept here as
the reference it must equal.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callops_dagster_tests.helpers import subprocess_env

from callops_dagster.compliance.rules import (
    AGENT_COMPLIANCE_COLUMNS,
    LOAN_FREQUENCY_COLUMNS,
    CallingHours,
    agent_compliance,
    LOAN_CONTACT_COLUMNS,
    STAMP_FORMAT,
    compliance_line,
    formatted_times,
    loan_contact_frequency,
    loan_contacts,
    window_days,
)
from callops_dagster.compliance.picture import agent_summary_png, nice_ticks, tick_label
from callops_dagster.report.publish import csv_text
from callops_dagster.compliance.weekly import (
    WEEKLY_COLUMNS,
    agent_weekly_summary,
    build_weekly_message,
    weekly_csv_frame,
)

DAY = dt.date(2025, 4, 28)
HOURS = CallingHours.parse("08:00-19:00")


def calls_frame(rows: list[tuple], day: dt.date = DAY) -> pd.DataFrame:
    """Kept calls of ``day``: (agent_id, created_ts or None[, installment_id])."""
    records = []
    for i, row in enumerate(rows):
        agent, created, loan = (*row, "L1")[:3]
        records.append(
            {
                "call_id": f"C{i}",
                "org_id": "O1",
                "agent_id": agent,
                "installment_id": loan,
                "created_ts": pd.Timestamp(created) if created else pd.NaT,
                "call_date": day.isoformat(),
            }
        )
    frame = pd.DataFrame(records)
    frame["created_ts"] = frame["created_ts"].astype("datetime64[us]")
    return frame


def logins_frame(logins: dict[str, str | None], day: dt.date = DAY) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "call_date": day.isoformat(),
            "org_id": "O1",
            "agent_id": list(logins),
            "login_ts": [pd.Timestamp(v) if v else pd.NaT for v in logins.values()],
        }
    )
    frame["login_ts"] = frame["login_ts"].astype("datetime64[us]")
    return frame


def summary_frame(agents: list[str], day: dt.date = DAY) -> pd.DataFrame:
    return pd.DataFrame(
        {"call_date": day.isoformat(), "org_id": "O1", "agent_id": agents, "agent_name": [f"N {a}" for a in agents]}
    )


def compliance(rows, logins=None, agents=("A1",)) -> pd.DataFrame:
    return agent_compliance(
        summary_frame(list(agents)), calls_frame(rows), logins_frame(logins or {}), HOURS
    ).set_index("agent_id")


# --- calling hours ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "clock, outside",
    [("07:59:59", 1), ("08:00:00", 0), ("18:59:59", 0), ("19:00:00", 1), ("00:00:00", 1), ("12:00:00", 0),
     ("18:59:59.999", 0), ("07:59:59.5", 1)],
)
def test_window_start_is_inclusive_and_end_exclusive(clock, outside):
    row = compliance([("A1", f"2025-04-28 {clock}")]).loc["A1"]
    assert row["calls_outside_hours"] == outside


def test_unknown_times_are_counted_apart_and_never_outside():
    row = compliance([("A1", None), ("A1", "2025-04-28 07:00:00")]).loc["A1"]
    assert (row["calls_unknown_time"], row["calls_outside_hours"]) == (1, 1)


def test_configured_window_is_used():
    hours = CallingHours.parse("09:30-17:00")
    out = agent_compliance(
        summary_frame(["A1"]), calls_frame([("A1", "2025-04-28 09:29:00"), ("A1", "2025-04-28 09:30:00")]),
        logins_frame({}), hours,
    )
    assert out["calls_outside_hours"].tolist() == [1]


@pytest.mark.parametrize("text", ["19:00-08:00", "08:00-08:00", "8:00-19:00", "08:00 19:00", "25:00-26:00", ""])
def test_bad_or_overnight_windows_are_refused(text):
    with pytest.raises(ValueError):
        CallingHours.parse(text)


def test_window_prints_as_configured():
    assert str(CallingHours.parse(" 07:30-20:00 ")) == "07:30-20:00"


# --- before login, first and last call --------------------------------------------------------


def test_calls_before_the_login_are_counted():
    row = compliance(
        [("A1", "2025-04-28 08:59:59"), ("A1", "2025-04-28 09:00:00"), ("A1", None)],
        logins={"A1": "2025-04-28 09:00:00"},
    ).loc["A1"]
    assert row["calls_before_login"] == 1  # at the login is not before it; unknown is not


def test_login_less_agents_have_no_calls_before_login():
    out = compliance(
        [("A1", "2025-04-28 02:00:00"), ("A2", "2025-04-28 02:00:00")],
        logins={"A2": None}, agents=("A1", "A2"),
    )
    assert out["calls_before_login"].to_dict() == {"A1": 0, "A2": 0}


def test_first_and_last_call_times_and_agents_without_calls():
    out = compliance(
        [("A1", "2025-04-28 10:15:00"), ("A1", "2025-04-28 08:01:02.5"), ("A1", None)],
        logins={"A2": "2025-04-28 09:00"}, agents=("A1", "A2"),
    )
    assert (out.loc["A1", "first_call_at"], out.loc["A1", "last_call_at"]) == ("08:01:02", "10:15:00")
    assert out.loc["A2"].tolist()[3:] == [0, 0, 0, "", ""]


def test_one_row_per_summary_row_in_its_order():
    out = agent_compliance(
        summary_frame(["B2", "A1"]), calls_frame([("A1", "2025-04-28 10:00")]), logins_frame({}), HOURS
    )
    assert list(out.columns) == list(AGENT_COMPLIANCE_COLUMNS)
    assert out["agent_id"].tolist() == ["B2", "A1"]


# --- seven-day loan frequency -----------------------------------------------------------------


def window_calls(per_day: dict[int, int], loan: str = "L1") -> pd.DataFrame:
    """``per_day``: days before DAY -> calls to ``loan`` by A1 that day."""
    frames = [
        calls_frame([("A1", f"{DAY - dt.timedelta(days=back)} 10:0{i}:00", loan) for i in range(n)],
                    day=DAY - dt.timedelta(days=back))
        for back, n in per_day.items()
    ]
    return pd.concat(frames, ignore_index=True)


def frequency(calls: pd.DataFrame, max_attempts: int = 7) -> pd.DataFrame:
    """The window's figures as the assets compute them: each call table's loan_contacts."""
    return loan_contact_frequency(loan_contacts(calls), DAY, max_attempts)


def test_window_is_the_seven_days_ending_on_the_day():
    days = window_days(DAY)
    assert (days[0], days[-1], len(days)) == (dt.date(2025, 4, 22), DAY, 7)


def test_a_loan_called_eight_times_in_seven_days_is_over_the_limit():
    out = frequency(window_calls({6: 2, 3: 3, 0: 3}))
    row = out.iloc[0]
    assert (row["attempts_7d"], row["days_called_7d"], row["agents_7d"], row["over_limit"]) == (8, 3, 1, 1)
    assert row["last_called_at"] == "2025-04-28 10:02:00"


def test_seven_attempts_are_not_over_the_limit():
    assert frequency(window_calls({5: 4, 0: 3}))["over_limit"].tolist() == [0]


def test_only_loans_called_on_the_day_are_listed():
    calls = pd.concat([window_calls({2: 5}, loan="L9"), window_calls({0: 1}, loan="L1")])
    assert frequency(calls)["installment_id"].tolist() == ["L1"]


def test_calls_without_a_loan_are_no_loan():
    calls = window_calls({0: 2}, loan="")
    assert frequency(calls).empty


def test_the_same_installment_in_two_orgs_is_two_loans_and_rows_are_sorted():
    calls = pd.concat([window_calls({0: 1}, loan="L1"), window_calls({0: 2}, loan="L2"),
                       window_calls({0: 1}, loan="L1").assign(org_id="O0")])
    out = frequency(calls)
    assert list(out.columns) == list(LOAN_FREQUENCY_COLUMNS)
    assert list(zip(out["org_id"], out["installment_id"])) == [("O1", "L2"), ("O0", "L1"), ("O1", "L1")]


def test_missing_days_simply_add_no_attempts():
    # The asset reads only the days that exist; the window's figures are over those.
    out = frequency(window_calls({6: 4, 0: 4}))
    assert out["attempts_7d"].tolist() == [8]


# --- loan_contacts: a day's calls per loan and agent, and the window over them ----------------


def reference_frequency(window_calls: pd.DataFrame, day: dt.date, max_attempts: int) -> pd.DataFrame:
    """The computation before loan_contacts, verbatim: over the window's call tables, one
    ``pd.Timestamp.strftime`` per loan."""

    def stamp(value: object) -> str:
        return "" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")

    key = ["org_id", "installment_id"]
    loans = window_calls.loc[window_calls["installment_id"].fillna("").ne("")]
    today = loans.loc[loans["call_date"] == day.isoformat(), key].drop_duplicates()
    called = loans.merge(today, on=key, how="inner")
    out = called.groupby(key, sort=False).agg(
        attempts_7d=("call_id", "size"),
        days_called_7d=("call_date", "nunique"),
        agents_7d=("agent_id", "nunique"),
        last=("created_ts", "max"),
    ).reset_index()
    out["last_called_at"] = pd.Series([stamp(v) for v in out["last"]], index=out.index, dtype="str")
    out["over_limit"] = (out["attempts_7d"] > max_attempts).astype("int64")
    for column in ("attempts_7d", "days_called_7d", "agents_7d"):
        out[column] = out[column].astype("int64")
    out = out.sort_values(
        ["attempts_7d", "org_id", "installment_id"], ascending=[False, True, True], kind="stable", ignore_index=True
    )
    return out.loc[:, list(LOAN_FREQUENCY_COLUMNS)]


def test_loan_contacts_has_one_row_per_loan_and_agent_with_attempts_and_last_call():
    calls = calls_frame([
        ("A1", "2025-04-28 10:00:00", "L1"), ("A1", "2025-04-28 11:30:00.5", "L1"), ("A2", None, "L1"),
        ("A2", "2025-04-28 09:00:00", "L2"), ("A1", "2025-04-28 12:00:00", ""), ("A1", "2025-04-28 12:00:00", None),
    ])
    out = loan_contacts(calls)
    assert list(out.columns) == list(LOAN_CONTACT_COLUMNS)
    assert out.drop(columns="last_created_ts").values.tolist() == [
        ["2025-04-28", "O1", "L1", "A1", 2], ["2025-04-28", "O1", "L1", "A2", 1], ["2025-04-28", "O1", "L2", "A2", 1],
    ]
    assert out["last_created_ts"].tolist()[0] == pd.Timestamp("2025-04-28 11:30:00.5")
    assert pd.isna(out["last_created_ts"].iloc[1])  # its only call has no time
    assert out["attempts"].dtype == "int64"


def test_loan_contacts_of_several_days_together_are_each_days_table():
    calls = window_calls({3: 2, 1: 1, 0: 3})
    days = [loan_contacts(part) for _, part in calls.groupby("call_date")]
    together = pd.concat(days, ignore_index=True).sort_values(list(LOAN_CONTACT_COLUMNS[:4]), ignore_index=True)
    pd.testing.assert_frame_equal(loan_contacts(calls), together)


def test_a_call_without_an_agent_still_counts_as_an_attempt():
    calls = window_calls({0: 2})
    calls.loc[0, "agent_id"] = None
    out = frequency(calls)
    assert (out.loc[0, "attempts_7d"], out.loc[0, "agents_7d"]) == (2, 1)
    pd.testing.assert_frame_equal(out, reference_frequency(calls, DAY, 7))


WINDOW_CALL = st.tuples(
    st.integers(0, 6),  # days before DAY
    st.sampled_from(["O1", "O2"]),
    st.sampled_from(["L1", "L2", "L3", "", None]),
    st.sampled_from(["A1", "A2", "A3"]),
    st.one_of(st.none(), st.integers(0, 86_400 * 1_000_000 - 1)),  # microseconds into the day
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(WINDOW_CALL, max_size=40), max_attempts=st.integers(1, 4))
def test_window_over_loan_contacts_equals_the_window_over_the_calls(rows, max_attempts):
    calls = pd.DataFrame(
        {
            "call_id": [f"C{i}" for i in range(len(rows))],
            "org_id": pd.Series([r[1] for r in rows], dtype="str"),
            "agent_id": pd.Series([r[3] for r in rows], dtype="str"),
            "installment_id": pd.Series([r[2] for r in rows], dtype="str"),
            "created_ts": pd.Series(
                [pd.Timestamp(DAY - dt.timedelta(days=r[0])) + pd.Timedelta(microseconds=r[4])
                 if r[4] is not None else pd.NaT for r in rows], dtype="datetime64[us]"),
            "call_date": pd.Series([(DAY - dt.timedelta(days=r[0])).isoformat() for r in rows], dtype="str"),
        }
    )
    # as the asset reads them: each day's table, written on its own day
    contacts = pd.concat([loan_contacts(day) for _, day in calls.groupby("call_date")] or [loan_contacts(calls)],
                         ignore_index=True)
    out = loan_contact_frequency(contacts, DAY, max_attempts)
    expected = reference_frequency(calls, DAY, max_attempts)
    pd.testing.assert_frame_equal(out, expected)
    numeric = ("attempts_7d", "days_called_7d", "agents_7d", "over_limit")
    assert csv_text(out, numeric=numeric) == csv_text(expected, numeric=numeric)


# --- times as text ------------------------------------------------------------------------------


def one_by_one(values: pd.Series, fmt: str) -> list[str]:
    """What the reports wrote before: one pd.Timestamp.strftime per value."""
    return ["" if pd.isna(v) else pd.Timestamp(v).strftime(fmt) for v in values]


EDGE_TIMES = [
    "2025-04-28T00:00:00", "2025-04-28T23:59:59.999999", "NaT", "2025-04-28T10:00:00.000001",
    "1969-12-31T23:59:59.5", "1970-01-01T00:00:00", "0999-01-02T03:04:05.5", "0001-01-01T00:00:00",
    "9999-12-31T23:59:59.999999", "2024-02-29T12:30:45",
]


@pytest.mark.parametrize("fmt", [STAMP_FORMAT, "%H:%M:%S"])
@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_times_are_written_as_one_strftime_per_value_wrote_them(fmt, unit):
    values = pd.Series(np.array(EDGE_TIMES, dtype=f"datetime64[{unit}]"), index=range(10, 20))
    out = formatted_times(values, fmt)
    assert out.tolist() == one_by_one(values, fmt)
    assert out.dtype == "str" and list(out.index) == list(values.index)


def test_a_year_below_1000_is_written_as_python_writes_it():
    values = pd.Series(np.array(["0999-01-02T03:04:05", "NaT"], dtype="datetime64[us]"))
    assert formatted_times(values, STAMP_FORMAT).tolist() == ["999-01-02 03:04:05", ""]


@pytest.mark.parametrize(
    "values",
    [pd.Series([], dtype="datetime64[us]"), pd.Series([pd.NaT, pd.NaT], dtype="datetime64[us]"),
     pd.Series([], dtype="object"), pd.Series([None, pd.Timestamp("2025-04-28 10:00:01.5")], dtype="object")],
    ids=["empty", "all-missing", "empty-object", "object"],
)
def test_empty_missing_and_object_columns(values):
    assert formatted_times(values, STAMP_FORMAT).tolist() == one_by_one(values, STAMP_FORMAT)


# --- the message line -------------------------------------------------------------------------


def test_compliance_line_counts_and_rounds_half_away_from_zero():
    table = pd.DataFrame({"calls_outside_hours": [1, 0]})
    freq = pd.DataFrame({"over_limit": [1, 1, 0]})
    line = compliance_line(table, 8, freq, HOURS, 7)  # 1/8 = 12.5% -> 13%
    assert line == "Compliance: 1 calls outside 08:00-19:00 (13% of calls); 2 loans over 7 attempts in 7 days"


def test_compliance_line_on_a_day_without_calls():
    line = compliance_line(pd.DataFrame({"calls_outside_hours": []}), 0, pd.DataFrame({"over_limit": []}), HOURS, 5)
    assert line == "Compliance: 0 calls outside 08:00-19:00 (0% of calls); 0 loans over 5 attempts in 7 days"


# --- weekly -----------------------------------------------------------------------------------


def day_summary(day: dt.date, rows: list[tuple]) -> pd.DataFrame:
    """Rows: (agent_id, total, completed, presence, duration_sum_s, duration_count)."""
    return pd.DataFrame(
        [
            {"call_date": day.isoformat(), "org_id": "O1", "agent_id": a, "agent_name": f"N {a}",
             "total_calls": t, "completed_calls": c, "presence": p,
             "duration_sum_s": Decimal(s) if s is not None else None, "duration_count": n}
            for a, t, c, p, s, n in rows
        ]
    )


ROSTER = pd.DataFrame({"org_id": ["O1", "O1"], "agent_id": ["A1", "A2"], "agent_name": ["Asha Rao", "Ben Li"]})


def test_weekly_sums_exact_inputs_and_rounds_once():
    week = pd.concat([
        day_summary(DAY, [("A1", 3, 1, 1, "267.6", 3), ("A2", 0, 0, 1, None, 0)]),
        day_summary(DAY + dt.timedelta(days=1), [("A1", 5, 2, 0, "268.2", 2)]),
    ])
    calls = calls_frame([("A1", None, "L1"), ("A1", None, "L2"), ("A1", None, "L1"), ("A1", None, "")])
    out = agent_weekly_summary(DAY, week, calls, ROSTER).set_index("agent_id")
    a1 = out.loc["A1"]
    assert (a1["days_active"], a1["days_present"], a1["total_calls"], a1["unique_loans_contacted"]) == (2, 1, 8, 2)
    assert a1["connect_rate"] == "0.3750"
    assert a1["avg_call_duration_min"] == "1.79"  # 535.8 s / 5 / 60 = 1.786
    assert a1["agent_name"] == "Asha Rao"
    a2 = out.loc["A2"]
    assert (a2["days_active"], a2["days_present"], a2["connect_rate"], a2["avg_call_duration_min"]) == (0, 1, "", "")
    assert list(weekly_csv_frame(out.reset_index()).columns) == list(WEEKLY_COLUMNS)


@pytest.mark.parametrize(
    "before, now, change",
    [((1, 4), (1, 2), "0.2500"), ((1, 2), (1, 4), "-0.2500"), ((1, 3), (1, 3), "0.0000"),
     ((2, 10000), (1, 10000), "-0.0001"), ((1, 20000), (1, 10000), "0.0001"), ((1, 40000), (1, 20000), "0.0000")],
)
def test_connect_rate_change_is_exact_rounded_once_and_never_minus_zero(before, now, change):
    previous = day_summary(DAY - dt.timedelta(days=7), [("A1", before[1], before[0], 1, None, 0)])
    week = day_summary(DAY, [("A1", now[1], now[0], 1, None, 0)])
    out = agent_weekly_summary(DAY, week, calls_frame([("A1", None)]), ROSTER, previous)
    assert out.loc[0, "connect_rate_change"] == change


def test_change_is_empty_without_a_previous_week_or_previous_calls():
    week = day_summary(DAY, [("A1", 4, 1, 1, None, 0), ("A2", 2, 1, 1, None, 0)])
    assert agent_weekly_summary(DAY, week, calls_frame([("A1", None)]), ROSTER)["connect_rate_change"].tolist() == ["", ""]
    previous = day_summary(DAY - dt.timedelta(days=7), [("A1", 0, 0, 1, None, 0)])
    out = agent_weekly_summary(DAY, week, calls_frame([("A1", None)]), ROSTER, previous)
    assert out["connect_rate_change"].tolist() == ["", ""]  # A1 had no calls, A2 no row


def test_weekly_message_names_top_performer_and_movers():
    previous = day_summary(DAY - dt.timedelta(days=7), [("A1", 10, 5, 1, None, 0), ("A2", 10, 5, 1, None, 0)])
    week = day_summary(DAY, [("A1", 10, 8, 1, "600", 10), ("A2", 10, 2, 1, "1200", 10)])
    out = agent_weekly_summary(DAY, week, calls_frame([("A1", None)]), ROSTER, previous)
    lines = build_weekly_message(out, DAY, 5).splitlines()
    assert lines == [
        "Agent Summary for the week of 2025-04-28",
        "Top Performer: Asha Rao (80% connect rate)",
        "Total Active Agents: 2",
        "Average Duration: 1.5 min",
        "Biggest gains: Asha Rao (+30 pts)",
        "Biggest drops: Ben Li (-30 pts)",
    ]


# ---------------------------------------------------------------- the picture

# Draws the brief's kind of picture twice in a fresh process and prints its digest, whether the
# two drawings were the same bytes, and whether matplotlib was imported.
DRAW_PICTURE = """
import datetime as dt, hashlib, sys
from fractions import Fraction
import pandas as pd
from callops_dagster.compliance.picture import agent_summary_png
from callops_dagster.report.message import TopPerformer
summary = pd.DataFrame({"org_id": ["O"] * 6, "agent_id": [f"A{i}" for i in range(6)],
                        "total_calls": [0, 5, 9, 14, 20, 31], "completed_calls": [0, 1, 4, 2, 11, 20]})
compliance = pd.DataFrame({"org_id": ["O"] * 6, "agent_id": [f"A{i}" for i in range(6)],
                           "calls_outside_hours": [0, 0, 2, 0, 1, 0]})
best = TopPerformer(name="A5", rate=Fraction(20, 31), org_id="O", agent_id="A5")
pngs = [agent_summary_png(summary, compliance, best, dt.date(2025, 4, 28)) for _ in range(2)]
print(hashlib.sha256(pngs[0]).hexdigest(), pngs[0] == pngs[1], "matplotlib" in sys.modules,
      pngs[0][:8] == b"\\x89PNG\\r\\n\\x1a\\n", int.from_bytes(pngs[0][16:20], "big"), int.from_bytes(pngs[0][20:24], "big"))
"""


def draw_in_fresh_process() -> list[str]:
    done = subprocess.run([sys.executable, "-c", DRAW_PICTURE], env=subprocess_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.slow  # two fresh processes
def test_picture_is_the_same_png_from_run_to_run_drawn_without_matplotlib():
    """Same day, same bytes: within a process and across processes (the reports' manifest and
    the byte-for-byte comparisons rely on it); 512 x 320 px; drawn by Pillow, matplotlib never
    imported (its import alone was most of a second of every day's run)."""
    first, second = draw_in_fresh_process(), draw_in_fresh_process()
    digest, same_twice, matplotlib, is_png, width, height = first
    assert second[0] == digest
    assert same_twice == "True" and is_png == "True"
    assert matplotlib == "False"
    assert (int(width), int(height)) == (512, 320)


@pytest.mark.parametrize("low,high,ticks", [
    (14.15, 38.85, [15, 20, 25, 30, 35]),  # the brief's day: calls made
    (0, 50.4, [0, 10, 20, 30, 40, 50]),  # its connect rates, with head room
    (0.95, 2.05, [1, 1.2, 1.4, 1.6, 1.8, 2]),  # one or two calls each
    (0, 100, [0, 20, 40, 60, 80, 100]),
])
def test_picture_ticks_are_round_and_inside_the_axis(low, high, ticks):
    assert nice_ticks(low, high) == ticks


def test_picture_tick_labels_drop_a_whole_numbers_point():
    assert [tick_label(v) for v in (15.0, 1.2, 0.0, 2.5)] == ["15", "1.2", "0", "2.5"]


def test_picture_of_a_day_without_calls_is_still_a_png():
    """Nobody called (every total_calls 0): empty axes, no legend, no error."""
    summary = pd.DataFrame({"org_id": ["O"], "agent_id": ["A1"], "total_calls": [0], "completed_calls": [0]})
    compliance = pd.DataFrame({"org_id": ["O"], "agent_id": ["A1"], "calls_outside_hours": [0]})
    png = agent_summary_png(summary, compliance, None, dt.date(2025, 4, 28))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and int.from_bytes(png[16:20], "big") == 512

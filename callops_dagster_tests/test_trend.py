"""Layer 1: the day's figures and the robust trend comparison."""

from __future__ import annotations

import pandas as pd
import pytest

from callops_dagster.report.trend import (
    MAD_TO_SD,
    compare_with_history,
    day_figures,
    robust_spread,
    trailing_days,
)


def summary(calls: list[int], completed: list[int], seconds: list[float | None] | None = None) -> pd.DataFrame:
    seconds = seconds or [None] * len(calls)
    return pd.DataFrame(
        {
            "total_calls": calls,
            "completed_calls": completed,
            "duration_sum_s": seconds,
            "duration_count": [0 if s is None else c for s, c in zip(seconds, calls)],
        }
    )


def figures(connect=0.5, calls=100, agents=10, share=0.02) -> dict[str, float]:
    return {"connect_rate": connect, "total_calls": calls, "active_agents": agents, "rejected_share": share}


WEEK = {
    "2025-04-21": figures(0.50, 100, 10, 0.020),
    "2025-04-22": figures(0.52, 104, 10, 0.022),
    "2025-04-23": figures(0.48, 96, 9, 0.018),
    "2025-04-24": figures(0.51, 110, 11, 0.021),
    "2025-04-25": figures(0.49, 90, 10, 0.019),
    "2025-04-26": figures(0.50, 102, 10, 0.020),
    "2025-04-27": figures(0.53, 98, 10, 0.023),
}


def compare(today, history=WEEK, threshold=3.5, min_history=3):
    return compare_with_history(today, history, threshold=threshold, min_history=min_history)


def test_day_figures_are_exact_and_numeric():
    got = day_figures(summary([5, 3, 0], [4, 1, 0], [300.0, 90.0, None]), rows_rejected=2, rows_read=16)
    assert got == {
        "active_agents": 2,
        "total_calls": 8,
        "connect_rate": 0.625,
        "avg_duration_min": 0.81,  # 390 s over 8 calls = 0.8125 min -> 0.81
        "rejected_rows": 2,
        "rows_read": 16,
        "rejected_share": 0.125,
    }
    assert all(isinstance(v, int) for k, v in got.items() if k in {"active_agents", "total_calls", "rejected_rows", "rows_read"})
    assert all(isinstance(v, float) for k, v in got.items() if k in {"connect_rate", "avg_duration_min", "rejected_share"})


def test_day_figures_round_half_away_from_zero_once():
    # 2679 s over 10 calls is 4.465 min: 4.47, where float rounding gives 4.46
    got = day_figures(summary([10], [1], [2679.0]), rows_rejected=1, rows_read=3)
    assert got["avg_duration_min"] == 4.47
    assert got["rejected_share"] == 0.3333


def test_a_day_without_calls_or_rows_has_zero_rates():
    got = day_figures(summary([0], [0]), rows_rejected=0, rows_read=0)
    assert (got["connect_rate"], got["avg_duration_min"], got["rejected_share"]) == (0.0, 0.0, 0.0)


def test_trailing_days_are_the_latest_before_the_day():
    landed = [f"2025-04-{d:02d}" for d in range(1, 31)]
    assert trailing_days(landed, "2025-04-28") == [f"2025-04-{d:02d}" for d in range(21, 28)]
    assert trailing_days(landed, "2025-04-02") == ["2025-04-01"]
    assert trailing_days(["2025-04-29"], "2025-04-28") == []


def test_robust_spread_is_the_scaled_mad():
    median, spread = robust_spread([90, 96, 98, 100, 102, 104, 110], "total_calls")
    assert median == 100
    assert spread == pytest.approx(MAD_TO_SD * 4)


def test_a_flat_history_uses_the_floor_not_zero():
    assert robust_spread([8, 8, 8, 8], "active_agents") == (8, 1.0)
    assert robust_spread([1000, 1000, 1000], "total_calls") == (1000, 20.0)  # 2% of the median
    assert robust_spread([0.02] * 5, "rejected_share") == (0.02, 0.005)


def test_an_ordinary_day_passes():
    result = compare(figures(0.51, 101, 10, 0.021))
    assert result.enough_history and result.flagged == []
    assert len(result.history_days) == 7
    assert "within 3.5" in result.note()


@pytest.mark.parametrize(
    ("today", "figure"),
    [
        (figures(connect=0.30), "connect_rate"),
        (figures(calls=40), "total_calls"),
        (figures(calls=200), "total_calls"),
        (figures(agents=4), "active_agents"),
        (figures(share=0.15), "rejected_share"),
    ],
)
def test_a_figure_far_from_the_trailing_median_is_flagged(today, figure):
    result = compare(today)
    assert [f.figure for f in result.flagged] == [figure]
    flagged = result.flagged[0]
    assert abs(flagged.deviations) > 3.5
    assert (flagged.deviations > 0) == (flagged.value > flagged.median)
    assert figure in result.note()


def test_the_threshold_is_configurable():
    today = figures(calls=112)  # (112 - 100) / (1.4826 * 4) = 2.02 deviations
    assert compare(today).flagged == []
    assert [f.figure for f in compare(today, threshold=2.0).flagged] == ["total_calls"]


def test_too_little_history_passes_with_a_note():
    short = dict(list(WEEK.items())[:2])
    result = compare(figures(calls=5), history=short)
    assert not result.enough_history and result.flagged == [] and result.figures == ()
    assert "too little history: 2" in result.note()
    assert compare(figures(calls=5), history=short, min_history=2).flagged != []


def test_days_missing_a_figure_are_not_history():
    history = dict(WEEK)
    history["2025-04-27"] = {"connect_rate": 0.5}
    assert "2025-04-27" not in compare(figures(), history=history).history_days

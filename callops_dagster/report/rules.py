"""The rules every agent performance summary keeps: one row per agent-day, rates in range.

Each rule is a check name, its description and the rows that break it; the summary asset
turns them into blocking asset checks.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from callops_dagster.contract import check_names as checks

Rule = tuple[str, Callable[[pd.DataFrame], pd.Series]]

# Each summary rule: check name, description, and the rows that break it.
SUMMARY_RULES: dict[str, Rule] = {
    checks.ONE_ROW_PER_AGENT_DAY: (
        "Exactly one row per (call_date, org_id, agent_id).",
        lambda s: s.duplicated(["call_date", "org_id", "agent_id"], keep=False),
    ),
    checks.CONNECT_RATE_IN_RANGE: (
        "0 <= connect_rate <= 1 wherever there were calls (empty only when there were none).",
        lambda s: ~s["connect_rate"].between(0, 1).fillna(False) & (s["total_calls"] > 0)
        | s["connect_rate"].notna() & (s["total_calls"] == 0),
    ),
    checks.PRESENCE_IS_BINARY: ("presence is 0 or 1.", lambda s: ~s["presence"].isin([0, 1])),
    checks.LOANS_WITHIN_CALLS: (
        "unique_loans_contacted <= total_calls.",
        lambda s: s["unique_loans_contacted"] > s["total_calls"],
    ),
}

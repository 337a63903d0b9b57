"""Late rows through dg.materialize: the late_rows WARN check and the message's fifth line."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from callops_dagster.contract import check_names as checks
from callops_dagster_tests.conftest import check_eval, clean_calls, materialize_day, reports_dir, write_day

DAY = "2025-04-28"


def fifth_line(data_dir: Path) -> str:
    return (reports_dir(data_dir, DAY) / "slack_message.txt").read_text(encoding="utf-8").splitlines()[4]


def test_late_calls_are_counted_by_the_day_they_carry(data_dir, instance):
    calls = clean_calls(DAY)
    calls[0][7] = "2025-04-27"
    calls[1][7] = " 2025-04-27"  # trimmed before the rule, counted with the others
    calls[2][7] = "2025-04-26"
    calls[3][7] = "2025-04-30"  # dated after the day: not late, said apart
    write_day(data_dir, DAY, calls=calls)
    result = materialize_day(data_dir, DAY, instance)

    assert result.success
    evaluation = check_eval(result, "rejected_rows", checks.LATE_ROWS)
    assert (evaluation.passed, evaluation.severity) == (False, dg.AssetCheckSeverity.WARN)
    meta = {k: v.value for k, v in evaluation.metadata.items()}
    assert (meta["late_rows"], meta["earlier_days"], meta["rows_dated_after_the_day"]) == (3, 2, 1)
    assert "2025-04-27 | 2" in meta["by_date"]
    line = fifth_line(data_dir)
    assert line.startswith("Data quality: 4 of 14 rows rejected")
    assert line.endswith(
        "; 3 late rows for 2025-04-27 (2), 2025-04-26 (1); 1 row dated after the day (2025-04-30)"
    )


def test_late_logins_are_not_late_calls(data_dir, instance):
    logins = [["A1", "ORG1", "2025-04-27", "2025-04-27 09:00:00"], ["A2", "ORG1", DAY, f"{DAY} 09:00:00"]]
    write_day(data_dir, DAY, dispositions=logins)
    result = materialize_day(data_dir, DAY, instance)

    assert result.success
    assert check_eval(result, "rejected_rows", checks.LATE_ROWS).passed
    assert "late" not in fifth_line(data_dir)

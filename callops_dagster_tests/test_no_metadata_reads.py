"""No report reads another asset's materialisation metadata (issue 22): what a day needs from
other days and other assets comes through inputs, so a day's reports are the same whether or
not the instance remembers the runs before it."""

from __future__ import annotations

from callops_dagster_tests.conftest import (
    REPORT_FILES,
    clean_calls,
    ephemeral_instance,
    materialize_day,
    reports_dir,
    write_day,
)

SECONDS = {"duration_unit": "seconds"}
DAYS = ["2025-04-25", "2025-04-26", "2025-04-27", "2025-04-28"]


def run_days(data_dir, wipe_before_last: bool) -> dict[str, bytes]:
    for day in DAYS:
        # The last day has no roster of its own: it is carried forward from the day before.
        write_day(data_dir, day, calls=clean_calls(day)[: 6 + DAYS.index(day)],
                  roster=[] if day == DAYS[-1] else None)
    instance = ephemeral_instance()
    try:
        for day in DAYS:
            if day == DAYS[-1] and wipe_before_last:
                instance.wipe()  # every run and event of the days before is gone
            assert materialize_day(data_dir, day, instance, **SECONDS).success
    finally:
        instance.dispose()
    return {name: (reports_dir(data_dir, DAYS[-1]) / name).read_bytes() for name in REPORT_FILES}


def test_wiping_the_event_log_between_two_days_changes_no_report_byte(tmp_path):
    kept = run_days(tmp_path / "kept", wipe_before_last=False)
    wiped = run_days(tmp_path / "wiped", wipe_before_last=True)
    assert kept == wiped
    message = kept["slack_message.txt"].decode()
    assert f"roster carried forward from {DAYS[-2]}" in message  # named in the data-quality line

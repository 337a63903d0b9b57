"""When Dagster refreshes a partition that was materialised before: the automation conditions
the assets carry, and the automation condition sensor that evaluates them.

A day (or week) is refreshed when the data version of one of its inputs changed: a re-landed
file (the landing assets' data version is the file's sha256) or an upstream table recomputed from
changed inputs (every asset has a ``code_version``, so Dagster derives each table's data version
from its inputs' and identical inputs give the same version). Nothing is materialised for the
first time (``~missing()``): days that have not landed stay empty. Why not ``eager()``: it looks
at the latest time window only, and requests missing partitions (docs/operations.md).
"""

import warnings

import dagster as dg

from callops_dagster.platform.settings import load_settings

# Bump when a rule changes what an asset computes from the same inputs: every table's data
# version then changes on its next run (a settings change is not a code change; re-run the days).
CODE_VERSION = "callops-2"
SENSOR = "callops_automation"

AC = dg.AutomationCondition


# Tables another day reads (the rosters, through the seven-day roster window): a request of
# one of them does not pull its readers into the same run; they follow once its content
# version has changed (a day with a roster of its own keeps its version, and stops there).
CROSS_DAY = ("agent_roster", "agent_roster_rejected")


def _refresh(trigger: dg.AutomationCondition, label: str) -> dg.AutomationCondition:
    return (
        ~AC.missing()
        & ~AC.in_progress()
        # Not while a run is still writing an input: the run of a re-landed day would otherwise
        # look like a change to the tables it has not reached yet.
        & ~AC.any_deps_in_progress()
        & trigger.since_last_handled()
        & AC.all_deps_blocking_checks_passed()
    ).with_label(label)


def refresh_on_change() -> dg.AutomationCondition:
    """Materialised before, an input's data version changed since, or an input of the same day's
    chain is requested in the same tick (so the chain runs as one run); not running now,
    blocking checks passed."""
    return _refresh(
        AC.any_deps_match(AC.data_version_changed())
        | AC.any_deps_match(AC.will_be_requested()).ignore(dg.AssetSelection.assets(*CROSS_DAY)),
        "refresh when an input changed",
    )


def refresh_on_new_version() -> dg.AutomationCondition:
    """As ``refresh_on_change``, but only once an input's data version changed, never because an
    input is requested in the same tick: the assets that read other days (the rosters' window,
    the trend's seven days, the weeks), which follow a change once it is real, a round later."""
    return _refresh(AC.any_deps_match(AC.data_version_changed()), "refresh when an input's data version changed")


def versioned_output(value, version: str, **kwargs) -> dg.Output:
    """``dg.Output`` with a data version of our own (a file's sha256, a small table's content
    hash). The parameter is beta in Dagster 1.13: its warning is silenced here, once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.Output(value, data_version=dg.DataVersion(version), **kwargs)


automation_sensor = dg.AutomationConditionSensorDefinition(
    SENSOR,
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=load_settings().automation_sensor_interval,
    description=(
        "Refreshes every partition that was materialised before and whose inputs changed since: "
        "a corrected day's later seven-day windows, messages and weeks, in date order. Never "
        "materialises a day for the first time. Evaluations and their reasons: Automation page."
    ),
)


def completed_ticks(instance: dg.DagsterInstance, sensor: str, after: float = 0.0) -> list:
    """The completed ticks of ``sensor`` that started after ``after`` (epoch seconds), oldest
    first (none when the sensor never ticked in ``instance``)."""
    states = [s for s in instance.all_instigator_state() if s.instigator_name == sensor]
    ticks = [t for s in states for t in instance.get_ticks(s.instigator_origin_id, s.selector_id, after=after)]
    return sorted((t for t in ticks if t.end_timestamp and t.timestamp > after), key=lambda t: t.timestamp)

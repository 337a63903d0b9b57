"""When Dagster refreshes a partition that was materialised before: the automation conditions
the assets carry, and the automation condition sensor that evaluates them.

A day (or week) is refreshed when the data version of one of its inputs changed: a re-landed
file (the landing assets' data version is the file's sha256) or an upstream table recomputed from
changed inputs (every asset has a ``code_version``, so Dagster derives each table's data version
from its inputs' and identical inputs give the same version). Nothing is materialised for the
first time (``~missing()``): days that have not landed stay empty. Why not ``eager()``: it looks
at the latest time window only, and requests missing partitions (docs/operations.md).
"""

import dagster as dg

from callops_dagster.platform.settings import load_settings

# Bump when a rule changes what an asset computes from the same inputs: every table's data
# version then changes on its next run (a settings change is not a code change; re-run the days).
CODE_VERSION = "callops-2"
SENSOR = "callops_automation"

AC = dg.AutomationCondition


def _refresh(trigger: dg.AutomationCondition, label: str) -> dg.AutomationCondition:
    return (
        ~AC.missing()
        & ~AC.in_progress()
        & AC.any_deps_match(trigger).since_last_handled()
        & AC.all_deps_blocking_checks_passed()
    ).with_label(label)


def refresh_on_change() -> dg.AutomationCondition:
    """Materialised before, an input's data version changed since (or an input is requested in
    the same tick, so a day's chain runs as one run), not running now, blocking checks passed."""
    return _refresh(
        (AC.data_version_changed() | AC.will_be_requested()).with_label("input changed or requested"),
        "refresh when an input changed",
    )


def refresh_on_new_version() -> dg.AutomationCondition:
    """As ``refresh_on_change``, but only on a changed data version, never because an input is
    requested in the same tick: the carried-forward roster's chain (a day with its own roster
    recomputes its landing asset, finds the same version, and stops there)."""
    return _refresh(AC.data_version_changed(), "refresh when an input's data version changed")


def check_follows_asset() -> dg.AutomationCondition:
    """A check runs whenever its asset is requested (the check is computed in the asset's step)."""
    return AC.any_deps_match(AC.will_be_requested()).with_label("its asset is requested")


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

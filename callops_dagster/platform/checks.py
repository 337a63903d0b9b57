"""Asset check specs: one per-partition check of an asset, made the same way everywhere."""

import warnings

import dagster as dg

from callops_dagster.platform.partitions import daily_partitions


def check_spec(name: str, asset: str, description: str, blocking: bool = False) -> dg.AssetCheckSpec:
    """A per-partition asset check of ``asset``.

    Partitioned checks are a preview feature in this Dagster release; we rely on them on
    purpose (a check result per day is the point), so the preview warning is silenced here once.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name, asset=asset, partitions_def=daily_partitions, blocking=blocking, description=description
        )


def not_landed_results(specs: list[dg.AssetCheckSpec], day: str, why: str) -> list[dg.AssetCheckResult]:
    """The check results of an asset that skips a day that never landed (an asset backfill from
    the lineage page reaches the days after its range through the seven-day windows): a WARN
    each, saying so, since a check of a skipped partition has nothing to pass."""
    return [
        dg.AssetCheckResult(
            asset_key=spec.asset_key,
            check_name=spec.name,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"not evaluated: {day} skipped ({why})",
        )
        for spec in specs
    ]

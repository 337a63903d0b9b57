"""Profiles of a raw file for the landing checks: empty day, missing keys, duplicate keys."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from callops_dagster.contract.sources import RAW_TEXT, SourceSpec
from callops_dagster.ingest.validation import repeated_codes, key_codes


@dataclass(frozen=True)
class RawProfile:
    records: int
    malformed: int
    missing_keys: int  # well-formed records with at least one empty key value
    duplicate_keys: int  # well-formed records whose full key appeared on an earlier record

    @property
    def missing_key_share(self) -> float:
        return self.missing_keys / self.records if self.records else 0.0


def profile_raw(frame: pd.DataFrame, spec: SourceSpec) -> RawProfile:
    """Count the key defects of a raw file (values trimmed, as the row rules see them)."""
    columns = list(dict.fromkeys([*spec.keys, *spec.dedupe_key]))  # only the key columns
    formed = frame.loc[frame[RAW_TEXT].isna(), columns]
    keys = pd.DataFrame({k: formed[k].str.strip() for k in columns})
    missing = keys.loc[:, list(spec.keys)].eq("").any(axis=1)
    complete = keys.loc[~missing, list(spec.dedupe_key)]
    return RawProfile(
        records=len(frame),
        malformed=len(frame) - len(formed),
        missing_keys=int(missing.sum()),
        duplicate_keys=_repeats(complete),
    )


def _repeats(keys: pd.DataFrame) -> int:
    """Rows whose whole key appeared on an earlier row. Only rows whose first key column
    repeats can: the whole key is compared for those few, not for the day's million."""
    codes = key_codes(keys.iloc[:, 0])
    first = repeated_codes(codes, np.ones(len(codes), dtype=bool))
    if keys.shape[1] == 1:
        return int(first.sum() - len(np.unique(codes[first])))
    return int(keys.loc[first].duplicated().sum())

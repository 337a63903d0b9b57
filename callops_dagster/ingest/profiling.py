"""Profiles of a raw file for the landing checks: empty day, missing keys, duplicate keys."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from callops_dagster.contract.sources import RAW_TEXT, SourceSpec
from callops_dagster.ingest.validation import key_codes, repeated_codes, trimmed_text


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
    # Masks over the whole file rather than copies of its well-formed rows: a copy of four
    # key columns of a million rows costs more than the counting.
    formed = frame[RAW_TEXT].isna().to_numpy(bool)
    keys = {k: trimmed_text(frame[k]) for k in dict.fromkeys([*spec.keys, *spec.dedupe_key])}
    missing = np.zeros(len(frame), dtype=bool)
    for key in spec.keys:
        missing |= keys[key].eq("").fillna(False).to_numpy(bool)
    missing &= formed
    complete = formed & ~missing
    return RawProfile(
        records=len(frame),
        malformed=int((~formed).sum()),
        missing_keys=int(missing.sum()),
        duplicate_keys=_repeats(pd.DataFrame({k: keys[k] for k in spec.dedupe_key}), complete),
    )


def _repeats(keys: pd.DataFrame, among: np.ndarray) -> int:
    """Rows of ``among`` whose whole key appeared on an earlier such row. Only rows whose first
    key column repeats can: the whole key is compared for those few, not for the day's million."""
    codes = key_codes(keys.iloc[:, 0])
    first = repeated_codes(codes, among)
    if keys.shape[1] == 1:
        return int(first.sum() - len(np.unique(codes[first])))
    return int(keys.loc[first].duplicated().sum())

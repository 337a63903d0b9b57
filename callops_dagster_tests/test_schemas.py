"""Layer 1: the validated tables' pandera schemas (contract/schemas.py)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from callops_dagster.contract.schemas import AGENT_ROSTER_SCHEMA, repeated_keys, schema_failures

VALUES = st.one_of(st.none(), st.sampled_from(["a", "b", "c", ""]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(VALUES, VALUES, VALUES), max_size=40))
def test_repeated_keys_is_pandas_duplicated_keep_false(rows):
    """The fast path (the whole key compared only where the first column repeats) marks exactly
    the rows pandas marks, missing values included (pandas takes two missing values as equal)."""
    frame = pd.DataFrame(rows, columns=["x", "y", "z"], dtype="str")
    frame.index = frame.index * 3 + 7  # not a plain range: the result keeps the frame's index
    expected = frame.duplicated(["x", "y", "z"], keep=False)
    assert repeated_keys(frame, ["x", "y", "z"]).equals(expected)


def roster(agents: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "row_number": range(1, len(agents) + 1),
        "org_id": pd.Series(["O1"] * len(agents), dtype="str"),
        "agent_id": pd.Series(agents, dtype="str"),
        "agent_name": pd.Series(["N"] * len(agents), dtype="str"),
        "office_location": pd.Series(["X"] * len(agents), dtype="str"),
    })


def test_the_roster_schema_passes_unique_keys_and_names_each_repeated_row():
    assert schema_failures(roster(["A1", "A2", "A3"]), AGENT_ROSTER_SCHEMA).empty
    failures = schema_failures(roster(["A1", "A2", "A1"]), AGENT_ROSTER_SCHEMA)
    assert set(failures["check"]) == {"unique_key(org_id, agent_id)"}
    assert sorted(set(failures["index"])) == [0, 2]

"""The other two kinds of correction of test_corrections.py (statuses changed, a roster row
changed on a day whose roster another day carries forward), in a module of their own so that
`make test`'s workers run the two halves side by side."""

import pytest

from callops_dagster_tests.test_corrections import check_a_correction, history  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind,seed", [("status", 13), ("roster", 14)])
def test_a_corrected_day_leaves_every_report_as_a_from_scratch_run_writes(history, tmp_path, kind, seed):  # noqa: F811
    check_a_correction(history, tmp_path, kind, seed)

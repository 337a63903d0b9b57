"""The landing assets' IO manager (layer 2): the call logs and logins are stored as a reference
to their landing file (its sha256), handed on in memory within a run, and read again from the
file by another run, which fails naming the file when its bytes changed or it is gone."""

from __future__ import annotations

import json

import pytest

from callops_dagster.ingest.resources import SPEC_OF_ASSET
from callops_dagster.platform.content import file_sha256
from callops_dagster_tests.conftest import (
    ALL_ASSETS,
    GOLDEN_DAY,
    copy_golden,
    ephemeral_instance,
    landing,
    materialize_day,
    reports_dir,
    step_failure_messages,
    warehouse_file,
)

SECONDS = {"duration_unit": "seconds"}
# Every asset but the landing ones: a run that reads the landing assets' stored references.
AFTER_LANDING = sorted(
    key.to_user_string() for a in ALL_ASSETS for key in a.keys if key.to_user_string() not in SPEC_OF_ASSET
)


def reports(data_dir) -> dict[str, bytes]:
    """The day's published reports (the manifest names its run, so it is left out)."""
    return {p.name: p.read_bytes() for p in reports_dir(data_dir, GOLDEN_DAY).iterdir() if p.name != "manifest.json"}


@pytest.fixture
def landed_day(tmp_path):
    """The golden day run whole once; its data dir and instance."""
    data_dir = copy_golden(tmp_path / "data")
    instance = ephemeral_instance()
    assert materialize_day(data_dir, GOLDEN_DAY, instance, **SECONDS).success
    yield data_dir, instance
    instance.dispose()


def test_a_landing_asset_is_stored_as_a_reference_to_its_file_not_a_copy(landed_day):
    data_dir, _ = landed_day
    for asset, spec in SPEC_OF_ASSET.items():
        stored = warehouse_file(data_dir, asset, GOLDEN_DAY)
        assert json.loads(stored.read_text(encoding="utf-8")) == {
            "file": spec.file_name, "sha256": file_sha256(landing(data_dir, GOLDEN_DAY) / spec.file_name),
        }
        assert not list(stored.parent.glob("*.parquet"))


def test_another_run_reads_the_landing_files_again_and_writes_the_same_reports(landed_day):
    data_dir, instance = landed_day
    before = reports(data_dir)

    again = materialize_day(data_dir, GOLDEN_DAY, instance, selection=AFTER_LANDING, **SECONDS)

    assert again.success
    assert len(before) == 6
    assert reports(data_dir) == before


def test_a_landing_file_changed_since_its_asset_ran_fails_the_step_that_reads_it(landed_day):
    data_dir, instance = landed_day
    before = reports(data_dir)
    calls = landing(data_dir, GOLDEN_DAY) / "call_logs.csv"
    calls.write_bytes(calls.read_bytes() + calls.read_bytes().splitlines(keepends=True)[1])

    again = materialize_day(data_dir, GOLDEN_DAY, instance, selection=AFTER_LANDING, **SECONDS)

    assert not again.success
    failures = step_failure_messages(again)
    assert set(failures) == {"validate_call_logs"}
    assert "call_logs.csv of 2025-04-28 changed since raw_call_logs read it" in failures["validate_call_logs"]
    assert f"callops run --day {GOLDEN_DAY}" in failures["validate_call_logs"]
    assert reports(data_dir) == before


def test_a_landing_file_gone_since_its_asset_ran_fails_the_step_naming_it(landed_day):
    data_dir, instance = landed_day
    (landing(data_dir, GOLDEN_DAY) / "disposition_summary.csv").unlink()

    again = materialize_day(data_dir, GOLDEN_DAY, instance, selection=AFTER_LANDING, **SECONDS)

    failures = step_failure_messages(again)
    assert set(failures) == {"validate_disposition_summary"}
    assert "disposition_summary.csv of 2025-04-28 cannot be read again" in failures["validate_disposition_summary"]
    assert "file is missing" in failures["validate_disposition_summary"]


def test_a_whole_day_in_one_run_reads_each_landing_file_once(tmp_path, monkeypatch):
    """The validated assets get the landing tables in memory, not by reading the files again."""
    from callops_dagster.ingest import raw_assets
    from callops_dagster.ingest import resources as ingest_resources

    read = []
    real = ingest_resources.read_landing_csv

    def counting(path, spec, **kwargs):
        read.append(path.name)
        return real(path, spec, **kwargs)

    # The landing assets' reader, and the IO manager's (which reads a file again for another run).
    for module in (raw_assets, ingest_resources):
        monkeypatch.setattr(module, "read_landing_csv", counting)
    data_dir = copy_golden(tmp_path / "data")
    instance = ephemeral_instance()
    try:
        assert materialize_day(data_dir, GOLDEN_DAY, instance, **SECONDS).success
    finally:
        instance.dispose()
    assert sorted(read) == ["call_logs.csv", "disposition_summary.csv"]  # the roster has its own reader


def test_a_day_materialised_with_a_parquet_copy_is_read_from_the_copy(landed_day):
    """A day that ran before the landing assets were stored as references has a Parquet copy of
    the raw table and no reference: another run reads the copy (the file is not read again)."""
    from callops_dagster.ingest.reading import read_landing_csv

    data_dir, instance = landed_day
    before = reports(data_dir)
    calls = landing(data_dir, GOLDEN_DAY) / "call_logs.csv"
    reference = warehouse_file(data_dir, "raw_call_logs", GOLDEN_DAY)
    copy = read_landing_csv(calls, SPEC_OF_ASSET["raw_call_logs"]).frame
    copy.to_parquet(reference.with_suffix(".parquet"), index=False)
    reference.unlink()
    calls.write_bytes(calls.read_bytes() + calls.read_bytes().splitlines(keepends=True)[1])  # not what the copy holds

    again = materialize_day(data_dir, GOLDEN_DAY, instance, selection=AFTER_LANDING, **SECONDS)

    assert again.success
    assert reports(data_dir) == before

"""``CALLOPS_DATA_DIR=s3://bucket/prefix``: the platform over an S3 server (moto, in-process).

One moto server in server mode per module, on a free loopback port; ``AWS_ENDPOINT_URL`` points
botocore (and so s3fs) at it. Each test works under its own prefix of one bucket, removed at the
end. The whole-day tests (``slow``) share one run of the brief's sample day in the bucket and
one on a local temporary folder, and compare them byte for byte.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import dagster as dg
import pytest
from click.testing import CliRunner
from upath import UPath

import callops_dagster.platform.storage as storage
from callops_dagster.cli import Refusal, data_dir_of, main, use_instance
import callops_dagster.ingest.intake as intake
from callops_dagster.contract.sources import CALL_LOGS, SOURCES, raw_asset_name
from callops_dagster.definitions import defs
from callops_dagster.delivery.ledger import Post, ledger_path, read_posts, record_post
from callops_dagster.ingest.intake import IntakeError, land_files
from callops_dagster.ingest.reading import read_landing_csv
from callops_dagster.landing.watch import WatchState, files_fingerprint, landed_files, scan_landing
from callops_dagster.platform.files import write_atomic
from callops_dagster.platform.resources import CallopsConfig
from callops_dagster.platform.settings import Settings, SettingsError
from callops_dagster.report.manifest import MANIFEST_FILE, verify_reports
from callops_dagster.report.publish import publish_reports
from callops_dagster.runner import reports_state
from callops_dagster.platform.storage import StorageError
from callops_dagster.weekly.assets import WEEKLY
from callops_dagster_tests.conftest import (
    REPORT_FILES,
    PUBLISHED_FILES,
    ephemeral_instance,
    materialize_day,
    materialized,
    resources_for,
    write_day,
)
from callops_dagster_tests.helpers import subprocess_env

moto_server = pytest.importorskip("moto.server")
s3fs = pytest.importorskip("s3fs")

BUCKET = "callops-test"
DAY = "2025-04-28"  # the brief's sample day; a Monday, so also the first day of its week
SAMPLE = Path(__file__).parents[1] / "callops_dagster" / "sample" / "assignment-2025-04-28"
SENSOR = "callops_landing_sensor"
AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3():
    """A moto S3 server on a free loopback port with the bucket made; the boto3 client.

    The AWS variables are set for the module and restored after; the bucket is emptied and
    removed, and fsspec's cached S3 file systems (bound to this endpoint) are dropped.
    """
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**AWS, "AWS_ENDPOINT_URL": f"http://{host}:{port}"}.items():
            patch.setenv(name, value)
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        try:
            yield client
        finally:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
                for item in page.get("Contents", []):
                    client.delete_object(Bucket=BUCKET, Key=item["Key"])
            client.delete_bucket(Bucket=BUCKET)
            s3fs.S3FileSystem.clear_instance_cache()
            server.stop()


@pytest.fixture
def prefix(s3) -> str:
    """A fresh prefix of the bucket for one test: ``s3://callops-test/<random>``."""
    return f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}"


def keys(client, prefix: str) -> list[str]:
    """Every object key under ``prefix`` (an ``s3://bucket/...`` URL), relative to it, sorted."""
    root = prefix.removeprefix(f"s3://{BUCKET}/") + "/"
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=root)
    return sorted(item["Key"].removeprefix(root) for page in pages for item in page.get("Contents", []))


def put(client, prefix: str, key: str, body: bytes) -> None:
    """Put an object behind fsspec's back (as another system dropping a file would)."""
    client.put_object(Bucket=BUCKET, Key=f"{prefix.removeprefix(f's3://{BUCKET}/')}/{key}", Body=body)


def land_sample(data_dir: str | Path) -> None:
    land_files(storage.data_path(data_dir), dt.date.fromisoformat(DAY),
               {spec: SAMPLE / spec.file_name for spec in SOURCES})


# ---------------------------------------------------------------- settings


def _fingerprint(folder: UPath) -> str | None:
    """The sensor's fingerprint of a landed day folder (None while a required file is missing)."""
    files = landed_files(folder)
    return None if files is None else files_fingerprint(files)


def test_a_url_data_dir_is_kept_as_given_and_a_local_one_resolved(tmp_path):
    remote = Settings.from_env({"CALLOPS_DATA_DIR": "s3://bucket/some/prefix"}).data_dir
    assert isinstance(remote, UPath) and remote.protocol == "s3" and str(remote) == "s3://bucket/some/prefix"
    local = Settings.from_env({"CALLOPS_DATA_DIR": f"{tmp_path}/x/../data"}).data_dir
    assert local == tmp_path / "data" and storage.is_local(local)
    assert Settings.from_env({"CALLOPS_DATA_DIR": f"file://{tmp_path}"}).data_dir == tmp_path


def test_an_unknown_protocol_is_refused_naming_the_variable():
    with pytest.raises(SettingsError, match=r"CALLOPS_DATA_DIR='nosuch://b/p' is not valid: nosuch:// is not a storage"):
        Settings.from_env({"CALLOPS_DATA_DIR": "nosuch://b/p"})


def test_s3_without_s3fs_says_to_install_the_cluster_extra(monkeypatch):
    def missing(protocol):
        raise ImportError("Install s3fs to access S3")

    monkeypatch.setattr(storage.fsspec, "get_filesystem_class", missing)
    with pytest.raises(SettingsError, match=r"CALLOPS_DATA_DIR='s3://b/p'.*pip install 'callops-dagster\[cluster\]'"):
        Settings.from_env({"CALLOPS_DATA_DIR": "s3://b/p"})


def test_the_command_takes_a_url_data_dir_and_asks_for_dagster_home(monkeypatch):
    monkeypatch.setenv("CALLOPS_DATA_DIR", "")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    root = data_dir_of("s3://bucket/prefix")
    assert str(root) == "s3://bucket/prefix" and os.environ["CALLOPS_DATA_DIR"] == "s3://bucket/prefix"
    with pytest.raises(Refusal, match="set DAGSTER_HOME"):
        use_instance(root)
    with pytest.raises(Refusal, match="nosuch:// is not a storage protocol"):
        data_dir_of("nosuch://b")


# ---------------------------------------------------------------- the one writer


def test_local_write_is_a_renamed_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "reports" / "a.txt"
    renames = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (renames.append((src, dst)), real_replace(src, dst)))
    write_atomic(target, "one ", b"two")
    assert target.read_bytes() == b"one two" and oct(target.stat().st_mode & 0o777) == "0o644"
    [(src, dst)] = renames
    assert Path(dst) == target and Path(src).parent == target.parent and Path(src).name.startswith(".a.txt.")
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.txt"]  # no temporary file left


def test_object_write_is_one_put_with_no_temporary_object_or_rename(s3, prefix, monkeypatch):
    target = UPath(f"{prefix}/reports/a.txt")
    fs = storage.data_path(prefix).fs
    puts = []
    real_pipe = fs.pipe_file
    monkeypatch.setattr(fs, "pipe_file", lambda path, data, **kw: (puts.append(path), real_pipe(path, data, **kw)))
    for name in ("mv", "copy", "rename", "cp_file"):
        monkeypatch.setattr(fs, name, lambda *a, **k: pytest.fail("an object is never moved or copied"))
    write_atomic(storage.data_path(prefix) / "reports" / "a.txt", "one ", b"two", memoryview(b"!"))
    assert puts == [f"{BUCKET}/{prefix.rsplit('/', 1)[-1]}/reports/a.txt"]
    assert keys(s3, prefix) == ["reports/a.txt"] and target.read_bytes() == b"one two!"
    write_atomic(storage.data_path(prefix) / "reports" / "a.txt", "new")  # replaced whole
    assert keys(s3, prefix) == ["reports/a.txt"] and target.read_bytes() == b"new"


def test_the_slack_ledger_is_one_object_replaced_whole(s3, prefix):
    path = ledger_path(storage.data_path(prefix), DAY)
    assert read_posts(path) == []
    first, second = Post(DAY, "h1", "2025-04-29T04:00:00+00:00", "posted"), Post(DAY, "h2", "t", "correction")
    record_post(path, first)
    assert record_post(path, second) == [first, second]
    assert keys(s3, prefix) == [f"slack/posted/{DAY}.json"] and read_posts(path) == [first, second]


def test_landing_a_day_in_the_bucket_keeps_the_same_files_and_replaces_only_when_asked(s3, prefix, tmp_path):
    day = dt.date.fromisoformat(DAY)
    given = {spec: SAMPLE / spec.file_name for spec in SOURCES}
    assert land_files(storage.data_path(prefix), day, given) == "land"
    assert land_files(storage.data_path(prefix), day, given) == "keep"
    changed = tmp_path / "calls.csv"
    changed.write_bytes((SAMPLE / "call_logs.csv").read_bytes() + b"\n")
    other = {**given, SOURCES[0]: changed}
    with pytest.raises(IntakeError, match="already landed with other files \\(call_logs.csv differs\\)"):
        land_files(storage.data_path(prefix), day, other)
    assert land_files(storage.data_path(prefix), day, other, replace=True) == "replace"
    assert keys(s3, prefix) == sorted(f"landing/{DAY}/{spec.file_name}" for spec in SOURCES)
    assert UPath(f"{prefix}/landing/{DAY}/call_logs.csv").read_bytes() == changed.read_bytes()


def test_callops_mock_writes_generated_days_into_the_bucket(s3, prefix, monkeypatch):
    monkeypatch.setenv("CALLOPS_DATA_DIR", "")
    args = ["mock", "--start", "2025-04-21", "--days", "2", "--calls", "30", "--data-dir", prefix]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    assert keys(s3, prefix) == sorted(
        f"landing/{day}/{spec.file_name}" for day in ("2025-04-21", "2025-04-22") for spec in SOURCES)
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0 and again.output.count("already landed") == 2


# ---------------------------------------------------------------- manifest


@pytest.mark.parametrize("where", ["local", "s3"])
def test_a_manifest_verifies_its_set_and_names_a_tampered_missing_or_extra_file(where, tmp_path, request):
    root = storage.data_path(tmp_path if where == "local" else request.getfixturevalue("prefix")) / "reports"
    files = {"a.csv": "x,y\n1,2\n", "b.txt": b"\x00bytes"}
    folder = publish_reports(root, DAY, files)
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    assert manifest["day"] == DAY and dt.datetime.fromisoformat(manifest["written_at"]).tzinfo is not None
    assert [(f["name"], f["size"]) for f in manifest["files"]] == [("a.csv", 8), ("b.txt", 6)]
    assert verify_reports(folder) == [] and reports_state(folder) == "complete"
    before = (folder / MANIFEST_FILE).read_bytes()
    assert publish_reports(root, DAY, files) == folder
    assert (folder / MANIFEST_FILE).read_bytes() == before  # the same content: not a byte changed

    write_atomic(folder / "a.csv", "x,y\n1,3\n")
    assert verify_reports(folder) == ["a.csv: 8 bytes with another sha256 than the manifest's (8 bytes)"]
    (folder / "b.txt").unlink()
    write_atomic(folder / "c.txt", "stray")
    assert verify_reports(folder)[1:] == ["b.txt: missing", "c.txt: not in the manifest"]
    assert reports_state(folder).startswith("incomplete: a.csv")


def test_a_new_set_on_object_storage_replaces_the_old_one_and_its_manifest(s3, prefix):
    root = storage.data_path(prefix) / "reports"
    publish_reports(root, DAY, {"a.csv": "old\n", "gone.txt": "old\n"})
    folder = publish_reports(root, DAY, {"a.csv": "new\n", "b.txt": "new\n"})
    assert keys(s3, prefix) == [f"reports/{DAY}/{name}" for name in ("a.csv", "b.txt", MANIFEST_FILE)]
    assert verify_reports(folder) == [] and (folder / "a.csv").read_text() == "new\n"


def test_the_same_set_reflecting_another_input_gets_a_new_manifest_on_object_storage(s3, prefix):
    root = storage.data_path(prefix) / "reports"
    publish_reports(root, DAY, {"a.csv": "same\n"}, reflects={f"{DAY}/call_logs.csv": "a" * 64})
    folder = publish_reports(root, DAY, {"a.csv": "same\n"}, reflects={f"{DAY}/call_logs.csv": "b" * 64})
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    assert manifest["reflects"] == {f"{DAY}/call_logs.csv": "b" * 64} and verify_reports(folder) == []


# ---------------------------------------------------------------- landing sensor


class Ticker:
    """Evaluates the landing sensor tick after tick, carrying the cursor like the daemon."""

    def __init__(self, instance: dg.DagsterInstance, data_dir: str):
        self.instance, self.data_dir, self.cursor = instance, data_dir, None
        self.sensor = defs.resolve_sensor_def(SENSOR)

    def requested(self) -> list[str]:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, sensor_name=SENSOR,
            resources={"callops": CallopsConfig(data_dir=self.data_dir)}, definitions=defs,
        )
        result = self.sensor.evaluate_tick(context)
        self.cursor = result.cursor
        return [r.partition_key for r in result.run_requests]


def test_the_landing_sensor_sees_a_day_that_lands_in_the_bucket_after_a_tick(s3, prefix, tmp_path):
    earlier = "2025-04-27"
    land_sample(prefix)  # 2025-04-28, through fsspec
    with dg.instance_for_test() as instance:
        ticker = Ticker(instance, prefix)
        assert ticker.requested() == [] and ticker.requested() == [DAY]  # settles, then runs
        folder = write_day(tmp_path, earlier)  # dropped by another system, straight to S3
        for name in ("call_logs.csv", "disposition_summary.csv"):
            put(s3, prefix, f"landing/{earlier}/{name}", (folder / name).read_bytes())
        assert ticker.requested() == []  # seen at once (settling), not hidden by a cached listing
        assert ticker.requested() == [earlier]
        assert ticker.requested() == []  # and never twice
        launched = WatchState.from_json(ticker.cursor).launched
    assert launched == {DAY: _fingerprint(UPath(f"{prefix}/landing/{DAY}")),
                        earlier: _fingerprint(UPath(f"{prefix}/landing/{earlier}"))}


def test_a_scan_is_fresh_even_through_a_caching_file_system(s3, prefix, tmp_path):
    land_sample(prefix)
    cached = UPath(prefix)  # fsspec's default: listings cached in the shared instance
    assert sorted(scan_landing(cached).days) == [dt.date(2025, 4, 28)]
    put(s3, prefix, "landing/2025-04-29/call_logs.csv", b"x\n")
    assert sorted(scan_landing(cached).days) == [dt.date(2025, 4, 28), dt.date(2025, 4, 29)]
    before = _fingerprint(cached / "landing" / DAY)
    put(s3, prefix, f"landing/{DAY}/call_logs.csv", (SAMPLE / "call_logs.csv").read_bytes() + b"\n")
    assert _fingerprint(cached / "landing" / DAY) != before  # a re-drop changes the fingerprint


# ---------------------------------------------------------------- storage that fails


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# botocore at its quickest: one attempt, a short connect timeout (a refused loopback port fails at once).
FAST_FAILING = {"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}


@pytest.fixture
def unreachable(s3, monkeypatch):
    """S3 at a closed loopback port for this test: the data dir ``s3://callops-test/<random>``.

    fsspec caches S3 file systems (bound to the endpoint they were made with): the cache is
    dropped before and after, so neither this test nor the next one gets the other's."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    for name, value in FAST_FAILING.items():
        monkeypatch.setenv(name, value)
    s3fs.S3FileSystem.clear_instance_cache()
    yield f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem.clear_instance_cache()


@pytest.mark.parametrize("command", [["status"], ["run"], ["mock", "--start", "2025-04-21", "--calls", "20"]])
def test_an_unreachable_bucket_is_a_one_line_refusal_naming_it(s3, tmp_path, command):
    """``callops status/run/mock`` with S3 refusing connections: one line naming the location and
    botocore's error, exit status 2, no traceback (the command as a process)."""
    remote = f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}"
    env = subprocess_env(**AWS, **FAST_FAILING, AWS_ENDPOINT_URL=f"http://127.0.0.1:{closed_port()}",
                         DAGSTER_HOME=str(tmp_path / "home"))
    done = subprocess.run([str(Path(sys.executable).parent / "callops"), *command, "--data-dir", remote],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr[-3000:]
    assert done.stderr.startswith(f"callops: error: {remote}/landing"), done.stderr
    assert "EndpointConnectionError: Could not connect to the endpoint URL" in done.stderr
    assert "testing" not in done.stderr  # never the credentials


def test_missing_credentials_are_a_refusal_too(s3, prefix, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CALLOPS_DATA_DIR", "")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    s3fs.S3FileSystem.clear_instance_cache()
    try:
        done = CliRunner().invoke(main, ["status", "--data-dir", prefix])
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
    assert done.exit_code == 2, done.output
    assert done.output.strip() == (
        f"callops: error: {prefix}/landing: cannot list (NoCredentialsError: Unable to locate credentials)")


def test_every_access_of_an_unreachable_bucket_is_a_storage_error_naming_the_object(unreachable):
    root = storage.data_path(unreachable)
    day = root / "landing" / DAY
    cases = {
        f"{root}/landing: cannot list": lambda: scan_landing(root),
        f"{day}: cannot list": lambda: landed_files(day),
        f"{day}/call_logs.csv: cannot read": lambda: read_landing_csv(day / "call_logs.csv", CALL_LOGS),
        f"{root}/reports/x.txt: cannot write": lambda: write_atomic(root / "reports" / "x.txt", "x"),
        f"{root}/reports/{DAY}/manifest.json: cannot read": lambda: verify_reports(root / "reports" / DAY),
        f"{root}/slack/posted/{DAY}.json: cannot read": lambda: read_posts(ledger_path(root, DAY)),
        f"{day}: cannot read": lambda: land_sample(unreachable),
    }
    for message, access in cases.items():
        with pytest.raises(StorageError) as raised:
            access()
        assert str(raised.value).startswith(message + " (EndpointConnectionError: "), str(raised.value)


def test_the_landing_sensor_skips_a_tick_naming_the_unreachable_location(unreachable):
    with dg.instance_for_test() as instance:
        ticker = Ticker(instance, unreachable)
        context = dg.build_sensor_context(
            instance=instance, cursor=None, sensor_name=SENSOR,
            resources={"callops": CallopsConfig(data_dir=unreachable)}, definitions=defs,
        )
        result = ticker.sensor.evaluate_tick(context)
    assert result.run_requests == [] and result.cursor is None  # the next tick starts from the same cursor
    assert result.skip_message.startswith(
        f"cannot read the landing folder {unreachable}/landing: {unreachable}/landing: cannot list "
        "(EndpointConnectionError: Could not connect to the endpoint URL"), result.skip_message


def test_an_asset_fails_naming_the_file_it_cannot_read(unreachable):
    with dg.instance_for_test() as instance:
        result = materialize_day(unreachable, DAY, instance, selection=[raw_asset_name(CALL_LOGS)])
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    assert error.cls_name == "Failure", error.cls_name
    assert failure.step_failure_data.user_failure_data.description.startswith(
        f"{unreachable}/landing/{DAY}/call_logs.csv: cannot read (EndpointConnectionError: ")


def _failing_on_put(monkeypatch, number: int) -> list[str]:
    """Make the ``number``th put of intake fail (as a connection lost would); the names put."""
    puts = []
    real = intake.write_atomic

    def put_or_fail(path, *chunks):
        puts.append(path.name)
        if len(puts) == number:
            raise StorageError(f"{path}: cannot write (EndpointConnectionError: connection lost)")
        return real(path, *chunks)

    monkeypatch.setattr(intake, "write_atomic", put_or_fail)
    return puts


def test_a_replacement_that_fails_partway_says_what_was_replaced_and_leaves_no_complete_mix(
    s3, prefix, tmp_path, monkeypatch
):
    day = dt.date.fromisoformat(DAY)
    old = {spec: SAMPLE / spec.file_name for spec in SOURCES}
    new = {}
    for spec in SOURCES:
        new[spec] = tmp_path / spec.file_name
        new[spec].write_bytes((SAMPLE / spec.file_name).read_bytes() + b"\n")
    land_files(storage.data_path(prefix), day, old)
    folder = f"{prefix}/landing/{DAY}"
    with dg.instance_for_test() as instance:
        ticker = Ticker(instance, prefix)
        assert ticker.requested() == [] and ticker.requested() == [DAY]  # the old set ran
        puts = _failing_on_put(monkeypatch, 2)
        with pytest.raises(IntakeError) as raised:
            land_files(storage.data_path(prefix), day, new, replace=True)
        assert puts == ["agent_roster.csv", "call_logs.csv"]
        assert str(raised.value) == (
            f"cannot land {folder}: putting call_logs.csv failed ({folder}/call_logs.csv: cannot write "
            "(EndpointConnectionError: connection lost)); replaced: agent_roster.csv; "
            "not replaced: call_logs.csv, disposition_summary.csv (disposition_summary.csv removed: the landing "
            "sensor does not run a day of old and new files); the day is incomplete: run again with --replace"
        )
        # The new roster beside the old call logs, and no dispositions: the sensor waits.
        assert UPath(f"{folder}/agent_roster.csv").read_bytes() == new[SOURCES[1]].read_bytes()
        assert UPath(f"{folder}/call_logs.csv").read_bytes() == old[CALL_LOGS].read_bytes()
        assert keys(s3, prefix) == [f"landing/{DAY}/agent_roster.csv", f"landing/{DAY}/call_logs.csv"]
        assert landed_files(storage.data_path(folder)) is None
        assert ticker.requested() == [] and ticker.requested() == []
        monkeypatch.undo()
        assert land_files(storage.data_path(prefix), day, new, replace=True) == "replace"  # as the message says
        assert all(UPath(f"{folder}/{spec.file_name}").read_bytes() == new[spec].read_bytes() for spec in SOURCES)
        assert ticker.requested() == [] and ticker.requested() == [DAY]  # the new set, complete, runs


def test_a_first_landing_that_fails_partway_or_at_once_says_so(s3, prefix, monkeypatch):
    day = dt.date.fromisoformat(DAY)
    given = {spec: SAMPLE / spec.file_name for spec in SOURCES}
    folder = f"{prefix}/landing/{DAY}"
    _failing_on_put(monkeypatch, 3)
    with pytest.raises(IntakeError, match=(
        r"putting disposition_summary.csv failed .*; landed: agent_roster.csv, call_logs.csv; "
        r"not landed: disposition_summary.csv; the day is incomplete: run again with --replace$")):
        land_files(storage.data_path(prefix), day, given)
    assert landed_files(storage.data_path(folder)) is None
    monkeypatch.undo()
    other = storage.data_path(f"{prefix}-other")
    _failing_on_put(monkeypatch, 1)
    with pytest.raises(IntakeError, match=r"putting agent_roster.csv failed .*; nothing was changed; run again$"):
        land_files(other, day, given)


# ---------------------------------------------------------------- whole days


@pytest.fixture(scope="module")
def days(s3, tmp_path_factory):
    """The sample day run twice on S3 and once on a local folder; (s3 data dir, local data
    dir, the S3 objects and their bytes after the first run, the second run's result)."""
    remote = f"s3://{BUCKET}/whole-day"
    local = tmp_path_factory.mktemp("local") / "data"
    instance = ephemeral_instance()
    for data_dir in (remote, local):
        land_sample(data_dir)
        result = materialize_day(data_dir, DAY, instance)
        assert result.success, data_dir
        week = dg.materialize(list(defs.assets), selection=[WEEKLY], partition_key=DAY,
                              resources=resources_for(data_dir), instance=instance, raise_on_error=False)
        assert week.success, data_dir
    first = {key: UPath(f"{remote}/{key}").read_bytes() for key in keys(s3, remote)}
    again = materialize_day(remote, DAY, instance)
    yield remote, local, first, again
    instance.dispose()


@pytest.mark.slow
def test_a_day_on_s3_writes_landing_warehouse_and_reports_in_the_bucket(days):
    remote, _, first, again = days
    assert again.success and "slack_summary" in materialized(again)
    assert sorted(k for k in first if k.startswith("landing/")) == sorted(
        f"landing/{DAY}/{spec.file_name}" for spec in SOURCES)
    assert sorted(k for k in first if k.startswith(f"reports/{DAY}/")) == sorted(
        f"reports/{DAY}/{name}" for name in PUBLISHED_FILES)
    assert f"warehouse/agent_performance_summary/{DAY}.parquet" in first
    assert f"warehouse/call_logs/{DAY}.parquet" in first
    assert all(".versions" not in k and ".tmp" not in k and "/." not in k for k in first)  # no staging objects


@pytest.mark.slow
def test_the_reports_are_byte_identical_to_a_local_run(days):
    remote, local, first, _ = days
    for name in REPORT_FILES:
        assert first[f"reports/{DAY}/{name}"] == (local / "reports" / DAY / name).read_bytes(), name
    s3_manifest = json.loads(first[f"reports/{DAY}/{MANIFEST_FILE}"])
    local_manifest = json.loads((local / "reports" / DAY / MANIFEST_FILE).read_bytes())
    assert s3_manifest["files"] == local_manifest["files"]
    weekly = f"reports/weeks/{DAY}"
    assert sorted(k for k in first if k.startswith(weekly)) == sorted(
        f"{weekly}/{p.name}" for p in (local / weekly).iterdir())
    for key in (k for k in first if k.startswith(weekly) and not k.endswith(MANIFEST_FILE)):
        assert first[key] == (local / key).read_bytes(), key


@pytest.mark.slow
def test_a_rerun_leaves_the_same_bytes_and_no_duplicates(s3, days):
    remote, _, first, _ = days
    after = {key: UPath(f"{remote}/{key}").read_bytes() for key in keys(s3, remote)}
    assert sorted(after) == sorted(first)
    assert [k for k in first if after[k] != first[k]] == []


@pytest.mark.slow
def test_the_days_manifest_verifies_and_detects_a_tampered_or_missing_file(s3, days):
    remote, _, _, _ = days
    folder = storage.data_path(remote) / "reports" / DAY
    weekly = storage.data_path(remote) / "reports" / "weeks" / DAY
    assert verify_reports(folder) == [] and verify_reports(weekly) == []
    original = (folder / "slack_message.txt").read_bytes()
    try:
        put(s3, remote, f"reports/{DAY}/slack_message.txt", original.replace(b"Agent", b"Agnet"))
        assert verify_reports(folder) == [
            f"slack_message.txt: {len(original)} bytes with another sha256 than the manifest's ({len(original)} bytes)"]
        s3.delete_object(Bucket=BUCKET, Key=f"whole-day/reports/{DAY}/agent_summary.png")
        assert verify_reports(folder)[0] == "agent_summary.png: missing"
    finally:
        materialize_day(remote, DAY, ephemeral_instance())  # the next run repairs the set
    assert verify_reports(folder) == []


@pytest.mark.slow
def test_callops_run_and_status_on_a_bucket(s3, tmp_path):
    """The command as a process: ``callops run FILES --data-dir s3://...`` lands, runs, prints the
    message read back from the bucket; ``callops status`` says the day's set is complete."""
    remote = f"s3://{BUCKET}/cli"
    env = subprocess_env(**{name: os.environ[name] for name in (*AWS, "AWS_ENDPOINT_URL")},
                         DAGSTER_HOME=str(tmp_path / "home"))
    callops = [str(Path(sys.executable).parent / "callops")]
    files = [str(SAMPLE / spec.file_name) for spec in SOURCES]
    done = subprocess.run([*callops, "run", *files, "--data-dir", remote], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"Reports in {remote}/reports/{DAY}/:" in done.stdout
    assert f"Agent Summary for {DAY}\n" in done.stdout
    assert verify_reports(storage.data_path(remote) / "reports" / DAY) == []
    status = subprocess.run([*callops, "status", "--data-dir", remote], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert status.returncode == 0, status.stderr[-2000:]
    assert "(reports complete)" in status.stdout.splitlines()[1]


def test_a_storage_error_names_the_location_without_its_password():
    with pytest.raises(storage.StorageError) as raised:
        with storage.storage_errors(UPath("memory://bucket/prefix"), "list"):
            raise PermissionError("denied")
    error = str(raised.value)
    assert error.startswith("memory://bucket/prefix: cannot list (PermissionError: denied)"), error
    # The same rule as the database's and the broker's URLs: a "/" or "#" in the password too.
    assert storage.shown("s3://key:se/cr#et@bucket/prefix") == "s3://key:***@bucket/prefix"

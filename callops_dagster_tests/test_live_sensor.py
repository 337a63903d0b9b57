"""Layer 4: `dagster dev` as an operator runs it: turn the landing sensor on over GraphQL, land
a day, see one run; re-drop corrected files, see exactly one more.

The webserver binds 127.0.0.1 on a free port with a temporary DAGSTER_HOME (telemetry off) and
data directory; the sensor looks every 2 s here (CALLOPS_LANDING_SENSOR_INTERVAL). The whole
process group is stopped at the end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from callops_dagster_tests.conftest import cli_env, write_day

DAGSTER = Path(sys.executable).parent / "dagster"
DAY = "2025-04-28"
SENSOR = "callops_landing_sensor"
RUNS_QUERY = """
query Runs { runsOrError(filter: {tags: [{key: "dagster/sensor_name", value: "callops_landing_sensor"}]}) {
  ... on Runs { results { runId status tags { key value } } } } }
"""
START_SENSOR = """
mutation Start($selector: SensorSelector!) { startSensor(sensorSelector: $selector) {
  __typename ... on Sensor { sensorState { status } } ... on PythonError { message } } }
"""
OBSERVATIONS_QUERY = """
query Observed($key: AssetKeyInput!, $day: String!) { assetOrError(assetKey: $key) {
  ... on Asset { assetObservations(partitions: [$day]) {
    partition metadataEntries { label ... on TextMetadataEntry { text } } } } } }
"""
WAIT_S = 120  # a ceiling against a hung server, not a timing assertion


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Webserver:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/graphql"

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.load(response)
        assert "errors" not in payload, payload
        return payload["data"]

    def sensor_runs(self) -> list[dict]:
        return self.graphql(RUNS_QUERY)["runsOrError"]["results"]

    def observed_fingerprints(self, asset: str, day: str) -> list[tuple[str, str]]:
        """(partition, landing_fingerprint) of the asset's observations for ``day``, newest first."""
        data = self.graphql(OBSERVATIONS_QUERY, {"key": {"path": [asset]}, "day": day})
        return [
            (event["partition"], entry["text"])
            for event in data["assetOrError"]["assetObservations"]
            for entry in event["metadataEntries"]
            if entry["label"] == "landing_fingerprint"
        ]


def wait_for(predicate, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            value = None
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def dev(tmp_path):
    data_dir, home = tmp_path / "data", tmp_path / "dagster_home"
    (data_dir / "landing").mkdir(parents=True)
    port = free_port()
    env = cli_env(data_dir, home, CALLOPS_LANDING_SENSOR_INTERVAL="2")
    log = open(tmp_path / "dagster_dev.log", "w")
    process = subprocess.Popen(
        [str(DAGSTER), "dev", "-h", "127.0.0.1", "-p", str(port), "-m", "callops_dagster.definitions"],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        server = Webserver(port)
        wait_for(lambda: server.graphql("{ version }"), "the webserver")
        yield server, data_dir
    finally:
        stop_group(process)
        log.close()


def stop_group(process: subprocess.Popen) -> None:
    """Ctrl-C to the server's own process group, then SIGKILL to whatever is left of it."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # children that outlive dagster dev
    except ProcessLookupError:
        return
    process.wait()


def test_sensor_runs_a_landed_day_once_and_its_re_drop_once_more(dev):
    server, data_dir = dev
    selector = {"repositoryLocationName": "callops_dagster.definitions",
                "repositoryName": "__repository__", "sensorName": SENSOR}
    started = wait_for(lambda: server.graphql(START_SENSOR, {"selector": selector}), "the code location")
    assert started["startSensor"]["sensorState"]["status"] == "RUNNING", started

    folder = write_day(data_dir, DAY)
    first = wait_for(lambda: server.sensor_runs(), "the first run")
    assert len(first) == 1
    wait_for(lambda: server.sensor_runs()[0]["status"] in {"SUCCESS", "FAILURE"}, "the first run to end")
    assert server.sensor_runs()[0]["status"] == "SUCCESS"
    assert (data_dir / "reports" / DAY / "slack_message.txt").is_file()

    with open(folder / "call_logs.csv", "a", encoding="utf-8") as handle:  # a corrected re-drop
        handle.write(f"C99,A2,ORG1,L99,completed,30,{DAY} 12:00:00,{DAY}\n")
    both = wait_for(lambda: len(server.sensor_runs()) >= 2 and server.sensor_runs(), "the re-drop's run")
    seen_at = time.monotonic()
    wait_for(lambda: all(r["status"] in {"SUCCESS", "FAILURE"} for r in server.sensor_runs()), "the runs to end")
    time.sleep(max(0.0, 8 - (time.monotonic() - seen_at)))  # four more ticks: nothing new may come
    runs = server.sensor_runs()
    assert [run["status"] for run in runs] == ["SUCCESS", "SUCCESS"]
    summary = pd.read_csv(data_dir / "reports" / DAY / "agent_performance_summary.csv")
    assert summary["total_calls"].sum() == 9  # the corrected day's report
    keys = {tag["value"] for run in runs for tag in run["tags"] if tag["key"] == "dagster/run_key"}
    assert len(keys) == 2 and all(key.startswith(f"{DAY}:") for key in keys)
    # The daemon stored the sensor's observations: the landed day shows on the raw assets.
    fingerprints = [tag["value"] for run in runs for tag in run["tags"] if tag["key"] == "callops/landing_fingerprint"]
    for asset in ("raw_call_logs", "raw_agent_roster", "raw_disposition_summary"):
        observed = server.observed_fingerprints(asset, DAY)
        assert sorted(observed) == sorted((DAY, fingerprint) for fingerprint in fingerprints), asset
    assert {tag["value"] for run in both for tag in run["tags"] if tag["key"] == "dagster/partition"} == {DAY}

"""Helpers for the UI tests: a real `dg dev`, its GraphQL API, and headless Chromium.

The server is started exactly as `make dev` starts it (`dg dev` from the project root in the
activated venv, so the code location comes from pyproject.toml's ``[tool.dg]``), bound to
127.0.0.1 on a free port, with a temporary DAGSTER_HOME (telemetry and the community pop-up
off) and its own data dir.
It runs in its own process group, which is stopped as a whole at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from callops_dagster.platform.home import INSTANCE_YAML
from callops_dagster_tests.conftest import cli_env

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DG = Path(sys.executable).parent / "dg"
LOCATION = "callops"  # pyproject.toml: [tool.dg.project] code_location_name
REPOSITORY = "__repository__"
LOAD_TIMEOUT_S = 240
RUN_TIMEOUT_S = 240
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Webserver:
    """A running `dg dev` and what it was started with."""

    process: subprocess.Popen
    port: int
    data_dir: Path
    dagster_home: Path
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL operation as the UI does; fail the test on a GraphQL error."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.load(response)
        assert not payload.get("errors"), payload["errors"]
        return payload["data"]


WORKSPACE_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""


def _location_loaded(server: Webserver) -> bool:
    try:
        data = server.graphql(WORKSPACE_QUERY)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False
    entries = {e["name"]: e for e in data["workspaceOrError"].get("locationEntries", [])}
    entry = entries.get(LOCATION)
    if entry is None or entry["loadStatus"] != "LOADED":
        return False
    loaded = entry["locationOrLoadError"]
    if loaded["__typename"] == "PythonError":
        pytest.fail(f"code location {LOCATION} failed to load: {loaded['message']}")
    return loaded["__typename"] == "RepositoryLocation"


def start_dagster_dev(root: Path, data_dir: Path) -> Webserver:
    """Start `dg dev` and wait until the code location has loaded."""
    home = root / "dagster_home"
    env = cli_env(data_dir, home, VIRTUAL_ENV=sys.prefix)
    (home / "dagster.yaml").write_text(INSTANCE_YAML + "nux:\n  enabled: false\n", encoding="utf-8")
    port = free_port()
    log_path = root / "dagster_dev.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(DG), "dev", "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    server = Webserver(process, port, data_dir, home, log_path)
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    try:
        while not _location_loaded(server):
            if process.poll() is not None:
                pytest.fail(f"dg dev exited with {process.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"code location not loaded after {LOAD_TIMEOUT_S}s:\n{server.log_tail()}")
            time.sleep(0.5)
    except BaseException:
        stop(server)
        raise
    return server


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of the process group, read from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            members.append(int(stat.parent.name))
    return members


def stop(server: Webserver, timeout_s: float = 60) -> bool:
    """SIGTERM the server's process group and wait until none of its processes is left.

    The group gets SIGTERM again every second while it shuts down: Dagster's proxy server
    manager can restart a code server that exited during the shutdown (seen under load: "Code
    server process has exited with code 0. Restarting the code server process."), and that new
    process, started after the first signal, would otherwise wait out its 45 s heartbeat.
    Returns True when the group stopped on SIGTERM alone; what is left after ``timeout_s``
    gets SIGKILL (and False is returned).
    """
    pgid = server.process.pid  # start_new_session: the group id is the leader's pid
    signals = [signal.SIGTERM, signal.SIGKILL]
    while signals:
        sig = signals.pop(0)
        deadline = time.monotonic() + timeout_s
        sent = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() - sent >= 1:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, sig)
                sent = time.monotonic()
            server.process.poll()  # reap the leader
            if not _group_members(pgid):
                server.process.wait(timeout=10)
                return sig == signal.SIGTERM
            time.sleep(0.2)
    return False


# ---------------------------------------------------------------- headless Chromium


def chromium_path() -> str:
    """Debian's chromium (installed by `make browser`); fails the test clearly when missing."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail(
            f"Chromium not found at {path}: the UI tests need Debian's chromium package. "
            "Run `make browser` (apt-get install chromium) or set CHROMIUM=/path/to/chromium."
        )
    return path

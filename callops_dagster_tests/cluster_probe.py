"""A second code location for the cluster test (test_cluster.py), beside callops's own: one job
whose one step prints a line to stdout and a warning to stderr, then waits to be released.

The callops steps log through Dagster (stderr) and print nothing to stdout, so this step is what
shows a worker's stdout reaching the UI. It waits until the test has read its line through the
webserver while the run is still going (the part uploaded every ``upload_interval``), and the
test then releases it by writing the object ``release_key``; it gives up after ``WAIT_S``.
"""

from __future__ import annotations

import os
import time
import warnings

import boto3
import dagster as dg
from botocore.exceptions import ClientError

PRINTED = "callops probe: printed to stdout by run {run_id}"
WARNED = "callops probe: a warning from run {run_id}"
WAIT_S = 60


def release_key(run_id: str) -> str:
    """The object (in the compute logs' bucket) whose presence lets the run ``run_id`` end."""
    return f"{os.environ['DAGSTER_COMPUTE_LOGS_PREFIX']}-probe-release/{run_id}"


def _released(client, run_id: str) -> bool:
    try:
        client.head_object(Bucket=os.environ["DAGSTER_COMPUTE_LOGS_BUCKET"], Key=release_key(run_id))
    except ClientError:
        return False
    return True


@dg.op
def print_and_warn(context) -> None:  # no annotation: `from __future__` makes it a string Dagster refuses
    """Print a line, warn, and wait for the test's release."""
    print(PRINTED.format(run_id=context.run_id), flush=True)
    warnings.warn(WARNED.format(run_id=context.run_id), UserWarning, stacklevel=1)
    client = boto3.client("s3")
    deadline = time.monotonic() + WAIT_S
    while not _released(client, context.run_id):
        if time.monotonic() > deadline:
            raise dg.Failure(f"not released after {WAIT_S}s")
        time.sleep(0.5)


@dg.job(executor_def=dg.in_process_executor)  # as callops's: one log capture per run
def probe() -> None:
    print_and_warn()


defs = dg.Definitions(jobs=[probe])

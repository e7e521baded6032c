"""`harness up` stopped by a signal, even SIGKILL: a function's child processes go with it."""

from __future__ import annotations

import json
import signal
import time

import boto3
import pytest

from harness.container.engine import owner_label
from harness.leftovers import marked_processes
from tests.conftest import LOCAL_RUNTIME
from tests.lambda_.children import SPAWNS, alive, processes, wait_gone

# After SIGKILL the supervisors see their lifeline close and kill their trees at once (well
# under a second here); the deadline is generous for a loaded machine, and only bounds a failure.
GONE_DEADLINE_S = 30


def spawn_children(url: str, make_zip) -> list:
    """A function in the running `harness up` that started its three children; they run."""
    session = boto3.session.Session()
    options = {"region_name": "us-east-1", "endpoint_url": url, "aws_access_key_id": "t",
               "aws_secret_access_key": "t"}
    session.client("iam", **options).create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    client = session.client("lambda", **options)
    client.create_function(FunctionName="spawner", Runtime=LOCAL_RUNTIME, Handler="app.handler",
                           Role="arn:aws:iam::123456789012:role/r",
                           Code={"ZipFile": make_zip({"app.py": SPAWNS})})
    response = client.invoke(FunctionName="spawner", Payload=b'{"action": "spawn"}')
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    tree = processes([*body["pids"], body["runtime"]])
    assert alive(tree) == tree
    return tree


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_a_signal_to_up_leaves_none_of_a_functions_processes(harness_up, make_zip, signum):
    tree = spawn_children(harness_up.url, make_zip)
    owner = owner_label(harness_up.process.pid)
    # The leftover check can tell them by their marker, whoever their parent is by then.
    assert {proc.pid for proc in tree} <= set(marked_processes(owner))
    harness_up.process.send_signal(signum)
    harness_up.process.wait(timeout=60)
    assert wait_gone(tree, GONE_DEADLINE_S) == []
    # Their supervisors too (they carry the marker as well, and end right after their trees).
    deadline = time.monotonic() + GONE_DEADLINE_S
    while marked_processes(owner) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marked_processes(owner) == []

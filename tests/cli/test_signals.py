"""Signals sent for real: nothing the harness started outlives it."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import zipfile

import boto3
import psutil
import pytest

from tests.cli.up_process import harness_cmd


def _runtime_children(process: subprocess.Popen) -> list[psutil.Process]:
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [c for c in children if "awslambdaric" in " ".join(c.cmdline())]


def _warm_function(url: str, tmp_path) -> None:
    client = boto3.session.Session().client(
        "lambda", region_name="us-east-1", endpoint_url=url, aws_access_key_id="t",
        aws_secret_access_key="t")
    boto3.session.Session().client(
        "iam", region_name="us-east-1", endpoint_url=url, aws_access_key_id="t",
        aws_secret_access_key="t").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    package = tmp_path / "fn.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return 1\n")
    client.create_function(FunctionName="f", Runtime="python3.12", Handler="app.handler",
                           Role="arn:aws:iam::123456789012:role/r",
                           Code={"ZipFile": package.read_bytes()})
    assert json.loads(client.invoke(FunctionName="f")["Payload"].read()) == 1


def test_sigkill_of_the_harness_leaves_no_runtime_process(harness_up, tmp_path):
    _warm_function(harness_up.url, tmp_path)
    runtimes = _runtime_children(harness_up.process)
    assert runtimes, "a warm environment should be running"
    harness_up.process.send_signal(signal.SIGKILL)
    harness_up.process.wait(timeout=10)
    # The runtime client exits by itself once its Runtime API is gone.
    _gone, alive = psutil.wait_procs(runtimes, timeout=15)
    assert alive == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_stops_up_and_every_child(harness_up, tmp_path, signum):
    _warm_function(harness_up.url, tmp_path)
    runtimes = _runtime_children(harness_up.process)
    assert runtimes
    harness_up.process.send_signal(signum)
    # 130 for both, as `harness load` and `harness run`: the reports tell which signal it was.
    assert harness_up.process.wait(timeout=30) == 130
    assert "interrupted, stopped everything" in harness_up.process.stderr.read()
    _gone, alive = psutil.wait_procs(runtimes, timeout=10)
    assert alive == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("point", ["deploy function", "POST http"],
                         ids=["while-deploying", "during-the-cold-start"])
def test_a_signal_during_demo_stops_everything(cli_env, signum, point):
    process = subprocess.Popen(harness_cmd("demo"), env=cli_env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    # Wait for the progress line of that point, then interrupt: the deploy's next calls, or
    # the function's cold start (over a second of scikit-learn import), are still ahead.
    deadline = time.monotonic() + 120
    seen = ""
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen += line
        if point in line or not line:
            break
    assert point in seen, seen
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signum)
    assert process.wait(timeout=60) == 130, seen + process.stderr.read()
    _gone, alive = psutil.wait_procs(children, timeout=15)
    assert alive == []

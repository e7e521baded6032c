"""``harness run --target compose|localstack|aws``, against local stand-ins.

The compose file's two services are stood in for by two ``harness up`` processes (each answers
both ``/_harness/health`` and ``/_localstack/health``): one as the harness, one as LocalStack's
S3. Separate processes, so that each has its own S3. The AWS code path runs against a third,
through AWS_ENDPOINT_URL, as in tests/cli/test_aws_target.py.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from harness.cli.main import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SAFE_FORMAT = str(ROOT / "scenarios" / "safe_format.yaml")


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", *args]


def _env(state: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "HARNESS_"))}
    env.update(HARNESS_STATE_DIR=str(state), AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="eu-west-2",
               PYTHONUNBUFFERED="1", **extra)
    return env


class Up:
    """`harness up --port 0` in a subprocess."""

    def __init__(self, state: Path) -> None:
        self.process = subprocess.Popen(_cmd("up", "--port", "0"), env=_env(state),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, cwd=ROOT)
        self.url = ""
        deadline = time.monotonic() + 60
        assert self.process.stdout is not None
        while time.monotonic() < deadline and self.process.poll() is None:
            found = re.search(r"ready on (http://\S+)", self.process.stdout.readline())
            if found:
                self.url = found.group(1)
                return
        self.stop()
        pytest.fail("harness up did not start")

    def buckets(self) -> list[str]:
        s3 = boto3.client("s3", region_name="eu-west-2", endpoint_url=self.url,
                          aws_access_key_id="test", aws_secret_access_key="test")
        return [b["Name"] for b in s3.list_buckets()["Buckets"]]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="module")
def run_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runs' state dir, shared so the package is built once."""
    return tmp_path_factory.mktemp("run-state")


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Up, Up]]:
    harness = Up(tmp_path_factory.mktemp("harness-state"))
    try:
        localstack = Up(tmp_path_factory.mktemp("localstack-state"))
    except BaseException:
        harness.stop()
        raise
    yield harness, localstack
    localstack.stop()
    harness.stop()


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_cmd("run", *args), env=env, capture_output=True, text=True,
                          timeout=600, stdin=subprocess.DEVNULL, cwd=ROOT)


def _free_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_compose_runs_with_s3_in_localstack(stand_ins, run_state):
    harness, localstack = stand_ins
    done = _run(_env(run_state), "--target", "compose", "--endpoint-url", harness.url,
                "--s3-endpoint-url", localstack.url, SAFE_FORMAT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"==> compose endpoint {harness.url}, S3 at {localstack.url}" in done.stderr
    stack_buckets = [b for b in localstack.buckets() if b.startswith("harness-scn-")]
    assert stack_buckets, "the stack's bucket was made in LocalStack's S3"
    assert not [b for b in harness.buckets() if b.startswith("harness-scn-")], \
        "nothing was stored in the harness's own S3"


def test_localstack_runs_the_function_here_with_s3_there(stand_ins, run_state):
    _harness, localstack = stand_ins
    done = _run(_env(run_state), "--target", "localstack", "--s3-endpoint-url", localstack.url,
                SAFE_FORMAT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f", S3 at {localstack.url}" in done.stderr
    assert [b for b in localstack.buckets() if b.startswith("harness-scn-")]


def test_compose_without_the_harness_names_it_and_the_fix(stand_ins, capsys):
    _harness, localstack = stand_ins
    missing = _free_url()
    assert main(["run", "--target", "compose", "--endpoint-url", missing,
                 "--s3-endpoint-url", localstack.url, SAFE_FORMAT]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "the harness service is not up" in err and f"{missing}/_harness/health" in err
    assert "docker compose up" in err


def test_compose_without_localstack_names_it_and_the_fix(stand_ins, capsys):
    harness, _localstack = stand_ins
    missing = _free_url()
    assert main(["run", "--target", "compose", "--endpoint-url", harness.url,
                 "--s3-endpoint-url", missing, SAFE_FORMAT]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "LocalStack's S3 is not up" in err and f"{missing}/_localstack/health" in err
    assert "docker compose up" in err


def test_localstack_target_without_localstack_is_a_usage_error(capsys):
    missing = _free_url()
    assert main(["run", "--target", "localstack", "--s3-endpoint-url", missing,
                 SAFE_FORMAT]) == 2
    err = capsys.readouterr().err
    assert f"LocalStack's S3 is not up: nothing answers {missing}/_localstack/health" in err
    assert "embedded endpoint" not in err and "==>" not in err  # nothing was started


@pytest.mark.parametrize("args, message", [
    (["--s3-endpoint-url", "http://127.0.0.1:4566"], "--s3-endpoint-url needs --target"),
    (["--target", "aws", "--endpoint-url", "http://127.0.0.1:1"],
     "--target aws takes no endpoint URL"),
])
def test_flags_that_do_not_fit_the_target(args, message, capsys):
    assert main(["run", *args, SAFE_FORMAT]) == 2
    assert message in capsys.readouterr().err


def test_aws_needs_a_confirmation_then_runs_through_the_same_deploy(tmp_path, run_state):
    emulator = Up(tmp_path / "aws-state")
    try:
        env = _env(run_state, AWS_ENDPOINT_URL=emulator.url)
        refused = _run(env, "--target", "aws", SAFE_FORMAT)
        assert refused.returncode == 2, refused.stderr
        assert "REAL AWS, account 123456789012, region eu-west-2" in refused.stderr
        assert "create Lambda function" in refused.stderr
        assert "run on real AWS needs a confirmation" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert emulator.buckets() == [], "nothing is created without a confirmation"

        done = _run(env, "--target", "aws", "--yes", SAFE_FORMAT)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "==> aws real AWS" in done.stderr and "left on AWS" in done.stderr
        assert [b for b in emulator.buckets() if b.startswith("harness-scn-")]
    finally:
        emulator.stop()

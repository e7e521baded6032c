"""``harness up`` options: --logs on the console, --keep-alive, --account-concurrency, and the
HARNESS_* variables beneath them."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import threading
import time

import pytest

from harness.cli.main import build_parser
from harness.cli.up import config_from_args
from harness.config import EmulatorConfig
from harness.errors import UsageError
from tests.cli.up_process import harness_cmd
from tests.conftest import LOCAL_RUNTIME, build_zip
from tests.emulator.support import (
    ECHO,
    allow_api,
    function_arn,
    lambda_uri,
    raw_request,
    rest_api,
)


class Lines:
    """A pipe's lines, read on a thread so that the test can wait for one with a timeout."""

    def __init__(self, pipe) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe) -> None:
        for line in pipe:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        for line in self.seen:
            if re.search(pattern, line):
                return line
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.seen))


def test_logs_flag_streams_function_logs_and_gateway_warnings(cli_env):
    process = subprocess.Popen(
        harness_cmd("up", "--port", "0", "--logs", "--keep-alive", "60",
                    "--account-concurrency", "5"),
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = re.search(r"ready on (\S+)", Lines(process.stdout).wait_for("ready on")).group(1)
        stderr = Lines(process.stderr)
        import boto3

        def client(service: str):
            return boto3.session.Session().client(
                service, region_name="us-east-1", endpoint_url=url,
                aws_access_key_id="test", aws_secret_access_key="test")

        client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        client("lambda").create_function(
            FunctionName="shown", Runtime=LOCAL_RUNTIME, Handler="app.handler",
            Role="arn:aws:iam::123456789012:role/r", Code={"ZipFile": build_zip({"app.py": ECHO})})
        payload = json.dumps({"queryStringParameters": {"mode": "bare"}}).encode()
        assert client("lambda").invoke(FunctionName="shown", Payload=payload)["StatusCode"] == 200
        start = stderr.wait_for(r"^\[shown\] START RequestId: \S+ Version: \$LATEST$")
        request_id = start.split("RequestId: ")[1].split()[0]
        stderr.wait_for(rf"^\[shown\] END RequestId: {request_id}$")
        stderr.wait_for(rf"^\[shown\] REPORT RequestId: {request_id}\tDuration: .*Init Duration")
        # Why the gateway answered 502 shows on the console too.
        api_id = rest_api(client("apigateway"), lambda_uri(function_arn("shown")),
                          [("/x", "GET")])
        allow_api(client("lambda"), "shown", api_id)
        status, _headers, _body = raw_request(
            f"{url}/_aws/execute-api/{api_id}/test/x?mode=malformed")
        assert status == 502
        stderr.wait_for(
            r"harness\.apigw: malformed Lambda proxy response from .*shown.*body is a dict")
    finally:
        process.terminate()
        process.wait(timeout=30)


def parse(*argv: str):
    return build_parser().parse_args(["up", *argv])


def test_flags_override_the_environment():
    environ = {"HARNESS_KEEP_ALIVE": "90", "HARNESS_ACCOUNT_CONCURRENCY": "7"}
    config = config_from_args(parse("--keep-alive", "0.5", "--account-concurrency", "3"), environ)
    assert config.lambda_.keep_alive_s == 0.5
    assert config.lambda_.account_concurrency == 3
    config = config_from_args(parse(), environ)
    assert config.lambda_.keep_alive_s == 90.0
    assert config.lambda_.account_concurrency == 7
    assert config_from_args(parse("--logs"), {}).log_to_console is True


def test_defaults_are_aws_figures():
    config = config_from_args(parse(), {})
    assert config.lambda_.account_concurrency == 1000
    assert config.lambda_.keep_alive_s == 300.0
    assert config.gateway.integration_timeout_s is None  # API Gateway's own 29 s / 30 s


def test_from_env_reads_the_integration_timeout():
    config = EmulatorConfig.from_env({"HARNESS_INTEGRATION_TIMEOUT": "1.5"})
    assert config.gateway.integration_timeout_s == 1.5


def test_from_env_reads_the_log_events_kept_per_stream():
    assert EmulatorConfig.from_env({}).log_events_per_stream == 20_000
    config = EmulatorConfig.from_env({"HARNESS_LOG_EVENTS_PER_STREAM": "500"})
    assert config.log_events_per_stream == 500


@pytest.mark.parametrize("environ", [{"HARNESS_ACCOUNT_CONCURRENCY": "0"},
                                     {"HARNESS_ACCOUNT_CONCURRENCY": "many"},
                                     {"HARNESS_INTEGRATION_TIMEOUT": "-1"},
                                     {"HARNESS_LOG_EVENTS_PER_STREAM": "0"}])
def test_bad_environment_values_are_usage_errors(environ):
    with pytest.raises(UsageError):
        EmulatorConfig.from_env(environ)


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--keep-alive", "0", "must be more than 0 seconds"),
    ("--account-concurrency", "0", "must be at least 1"),
])
def test_bad_flag_values_are_one_line_usage_errors(flag, value, message):
    done = subprocess.run(harness_cmd("up", flag, value), capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr

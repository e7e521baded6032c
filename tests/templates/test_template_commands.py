"""``harness deploy --template`` against an endpoint and ``harness up --template``, as a user
runs them: local code packaged to S3, parameters, an update, a failure told in one line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.templates.deployer import local_api_url, parse_parameters, zip_path
from tests.conftest import LOCAL_RUNTIME
from tests.templates.test_stacks import get

TEMPLATE = f"""
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting: {{Type: String, Default: hello}}
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: {LOCAL_RUNTIME}
      Layers: [!Ref Shared]
      Environment: {{Variables: {{GREETING: !Ref Greeting}}}}
      Events:
        Get: {{Type: Api, Properties: {{Path: /hello, Method: get}}}}
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties: {{ContentUri: layer/, RetentionPolicy: Delete}}
Outputs:
  HelloApi:
    Value: !Sub "https://${{ServerlessRestApi}}.execute-api.${{AWS::Region}}.amazonaws.com/Prod/hello"
"""

APP = '''
import json, os, suffix
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"said": os.environ["GREETING"] + suffix.TEXT})}
'''


def interrupt(process: subprocess.Popen[str]) -> None:
    """Ctrl-C to a `harness up`, and its exit; killed if it does not go within 60 s (a leftover
    would outlive the test), and then the test fails."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def app_dir(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(APP)
    (root / "layer" / "python").mkdir(parents=True)
    (root / "layer" / "python" / "suffix.py").write_text("TEXT = '!'\n")
    (root / "template.yaml").write_text(TEMPLATE)
    return root / "template.yaml"


def harness(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli.main", *args], env=env, text=True,
                          capture_output=True, timeout=300, check=False)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HARNESS_STATE_DIR=str(tmp_path / "state"), AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", PYTHONUNBUFFERED="1")
    return env


def said(endpoint: str, api_url: str) -> str:
    api_id = api_url.split("//")[1].split(".")[0]
    status, body = get(f"{endpoint}/_aws/execute-api/{api_id}/Prod/hello")
    assert status == 200, body
    return str(json.loads(body)["said"])


def test_deploy_template_packages_local_code_and_updates(tmp_path: Path, cli_env: dict[str, str],
                                                         harness_endpoint: str) -> None:
    template = app_dir(tmp_path / "my-app")
    # --zip-code: packaged as for a remote endpoint (this one, on loopback, would run in place).
    where = ("--endpoint-url", harness_endpoint, "--region", "us-east-1", "--zip-code")

    done = harness(cli_env, "deploy", *where, "--template", str(template),
                   "--parameter", "Greeting=hi")
    assert done.returncode == 0, done.stderr
    stack = json.loads(done.stdout)
    assert (stack["stack_name"], stack["status"]) == ("my-app", "CREATE_COMPLETE")
    assert said(harness_endpoint, stack["outputs"]["HelloApi"]) == "hi!"

    (tmp_path / "my-app" / "layer" / "python" / "suffix.py").write_text("TEXT = '?'\n")
    done = harness(cli_env, "deploy", *where, "--template", str(template),
                   "--parameter", "Greeting=bye")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "UPDATE_COMPLETE"
    assert said(harness_endpoint, stack["outputs"]["HelloApi"]) == "bye?"


def test_a_failing_template_is_one_line_naming_the_resource(
        tmp_path: Path, cli_env: dict[str, str], harness_endpoint: str) -> None:
    template = app_dir(tmp_path / "broken")
    template.write_text(TEMPLATE.replace(
        "  Shared:\n", "  Odd: {Type: AWS::Nowhere::Thing}\n  Shared:\n"))

    done = harness(cli_env, "deploy", "--endpoint-url", harness_endpoint, "--template",
                   str(template), "--region", "us-east-1")

    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    assert "stack broken: ROLLBACK_COMPLETE: Odd: Resource type AWS::Nowhere::Thing" in lines[-1]


def test_up_with_template_deploys_at_start_and_prints_outputs(
        tmp_path: Path, cli_env: dict[str, str]) -> None:
    template = app_dir(tmp_path / "up-app")
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli.main", "up", "--port", "0", "--template",
         str(template)], env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        assert process.stdout is not None
        while not any(line.strip().startswith("here:") for line in lines):
            line = process.stdout.readline()
            if not line:
                pytest.fail(f"harness up ended: {''.join(lines)}"
                            f"{process.stderr.read() if process.stderr else ''}")
            lines.append(line)
        output = "".join(lines)
        endpoint = re.search(r"ready on (http://\S+)", output).group(1)  # type: ignore[union-attr]
        assert "stack up-app: CREATE_COMPLETE" in output
        api_url = re.search(r"HelloApi = (\S+)", output).group(1)  # type: ignore[union-attr]
        assert f"here: {local_api_url(api_url, endpoint)}" in output
        assert said(endpoint, api_url) == "hello!"
    finally:
        interrupt(process)


def test_parameters_and_packaging_helpers(tmp_path: Path) -> None:
    assert parse_parameters(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_parameters(["novalue"])
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.py").write_text("x = 1\n")
    first = zip_path(tmp_path / "d")
    os.utime(tmp_path / "d" / "a.py", (1, 1))
    assert zip_path(tmp_path / "d") == first  # same files, same zip: same S3 key, no update
    assert local_api_url("https://abc123.execute-api.eu-west-1.amazonaws.com/Prod/x",
                         "http://127.0.0.1:4566") == (
        "http://abc123.execute-api.localhost.localstack.cloud:4566/Prod/x")
    assert local_api_url("https://example.com/", "http://127.0.0.1:4566") is None

"""Local code in place from templates: ``harness up --template`` runs each CodeUri and
ContentUri directory where it is, and CloudFormation's ``Code`` takes LocalStack's
``hot-reload`` bucket; a saved handler answers at the next call, without a redeploy."""

from __future__ import annotations

import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.cli.template_options import on_this_machine
from harness.deploy import Target
from tests.conftest import LOCAL_RUNTIME
from tests.templates.test_stacks import status_of
from tests.templates.test_template_commands import APP, app_dir, harness, interrupt, said

RELOAD_DEADLINE_S = 30.0  # generous: a reload is a cold start, slow on a loaded 2-core machine
_names = itertools.count()


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HARNESS_STATE_DIR=str(tmp_path / "state"), AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", PYTHONUNBUFFERED="1")
    return env


def answers_within_deadline(call: Callable[[], str], expected: str) -> float:
    """Seconds from now until ``call()`` returns ``expected``."""
    start = time.monotonic()
    seen = None
    while time.monotonic() - start < RELOAD_DEADLINE_S:
        seen = call()
        if seen == expected:
            return time.monotonic() - start
    pytest.fail(f"still {seen!r}, not {expected!r}, {RELOAD_DEADLINE_S} s after the save")


def read_until_ready(process: subprocess.Popen[str]) -> str:
    lines: list[str] = []
    assert process.stdout is not None
    while not any(line.strip().startswith("here:") for line in lines):
        line = process.stdout.readline()
        if not line:
            pytest.fail(f"harness up ended: {''.join(lines)}"
                        f"{process.stderr.read() if process.stderr else ''}")
        lines.append(line)
    return "".join(lines)


def test_up_with_template_reloads_an_edited_handler(tmp_path: Path,
                                                    cli_env: dict[str, str]) -> None:
    template = app_dir(tmp_path / "live-app")
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli.main", "up", "--port", "0", "--template",
         str(template)], env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        output = read_until_ready(process)
        endpoint = re.search(r"ready on (http://\S+)", output).group(1)  # type: ignore[union-attr]
        api_url = re.search(r"HelloApi = (\S+)", output).group(1)  # type: ignore[union-attr]
        assert said(endpoint, api_url) == "hello!"
        delays = []
        for word in ("edited", "saved", "again"):
            (tmp_path / "live-app" / "src" / "app.py").write_text(
                APP.replace('os.environ["GREETING"]', repr(word)))
            delays.append(answers_within_deadline(lambda: said(endpoint, api_url), f"{word}!"))
        (tmp_path / "live-app" / "layer" / "python" / "suffix.py").write_text("TEXT = '?'\n")
        answers_within_deadline(lambda: said(endpoint, api_url), "again?")  # the layer's too
        print(f"\nharness up --template: save to new answer through the API, median "
              f"{statistics.median(delays) * 1000:.0f} ms of "
              f"{[round(d * 1000) for d in delays]} ms")
    finally:
        interrupt(process)


def cfn_template(code_dir: Path) -> str:
    return json.dumps({"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": LOCAL_RUNTIME, "Handler": "app.handler",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {"S3Bucket": "hot-reload", "S3Key": str(code_dir)}}}}})


def test_cloudformation_code_in_the_hot_reload_bucket_runs_in_place(
        harness_client: Any, tmp_path: Path) -> None:
    cfn, lam = harness_client("cloudformation"), harness_client("lambda")
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 'one'\n")
    name = f"hot-tpl-{next(_names)}"
    cfn.create_stack(StackName=name, TemplateBody=cfn_template(tmp_path),
                     Capabilities=["CAPABILITY_IAM"])
    try:
        assert status_of(cfn, name) == "CREATE_COMPLETE"
        function = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Fn")[
            "StackResourceDetail"]["PhysicalResourceId"]

        def answer() -> str:
            return str(json.loads(lam.invoke(FunctionName=function)["Payload"].read()))

        assert answer() == "one"
        (tmp_path / "app.py").write_text("def handler(event, context):\n    return 'two'\n")
        answers_within_deadline(answer, "two")
    finally:
        cfn.delete_stack(StackName=name)


def test_code_runs_in_place_only_for_an_endpoint_on_this_machine() -> None:
    assert on_this_machine(Target(endpoint_url="http://127.0.0.1:4566"))
    assert on_this_machine(Target(endpoint_url="http://localhost:4566"))
    assert on_this_machine(Target(endpoint_url="http://[::1]:4566"))
    assert not on_this_machine(Target(endpoint_url="http://10.1.2.3:4566"))
    assert not on_this_machine(Target(endpoint_url="https://lambda.example.com"))
    assert not on_this_machine(Target())  # real AWS


def test_deploy_with_zip_code_packages_to_s3(tmp_path: Path, cli_env: dict[str, str],
                                             harness_endpoint: str, harness_client: Any) -> None:
    template = app_dir(tmp_path / "zipped-app")
    done = harness(cli_env, "deploy", "--endpoint-url", harness_endpoint, "--region",
                   "us-east-1", "--template", str(template), "--zip-code")
    assert done.returncode == 0, done.stderr
    assert "in place" not in done.stderr and "s3://harness-artifacts-" in done.stderr
    assert said(harness_endpoint, json.loads(done.stdout)["outputs"]["HelloApi"]) == "hello!"
    function = harness_client("cloudformation").describe_stack_resource(
        StackName="zipped-app", LogicalResourceId="Hello")["StackResourceDetail"][
        "PhysicalResourceId"]
    code = harness_client("lambda").get_function(FunctionName=function)
    assert code["Configuration"]["CodeSha256"] != "hot-reloading-hash-not-available"
    harness_client("cloudformation").delete_stack(StackName="zipped-app")

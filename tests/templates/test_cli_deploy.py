"""``aws cloudformation deploy`` (the AWS CLI v1, a real client: change sets and waiters) of a
SAM app against the emulator, then an update of a parameter through a second change set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.templates.test_stacks import get, outputs_of, sam_app, status_of

AWS = str(Path(sys.executable).with_name("aws"))

# The greeting comes from a parameter, through an environment variable.
PARAMETERISED = sam_app().replace(
    "Resources:", "Parameters:\n  Greeting: {Type: String, Default: first}\nResources:", 1
).replace('GREETING = "inline"', 'import os; GREETING = os.environ["GREETING"]').replace(
    "      Events:", "      Environment: {Variables: {GREETING: !Ref Greeting}}\n      Events:", 1)


def aws_cli(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1")
    env.pop("AWS_PROFILE", None)
    # The CLI's own waiters poll every 5 s for up to an hour; a stuck deploy fails by this bound.
    return subprocess.run([AWS, "--endpoint-url", endpoint, *args], env=env, text=True,
                          capture_output=True, timeout=300, check=False)


def test_aws_cloudformation_deploy_creates_then_updates_a_sam_app(
        tmp_path: Path, harness_endpoint: str, harness_client: Any) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(PARAMETERISED)
    cfn = harness_client("cloudformation")
    deploy = ("cloudformation", "deploy", "--template-file", str(template), "--stack-name",
              "cli-app", "--capabilities", "CAPABILITY_IAM")

    done = aws_cli(harness_endpoint, *deploy)
    assert done.returncode == 0, done.stderr
    assert "Successfully created/updated stack - cli-app" in done.stdout
    assert status_of(cfn, "cli-app") == "CREATE_COMPLETE"
    api_id = outputs_of(cfn, "cli-app")["HelloUrl"].split("//")[1].split(".")[0]
    status, body = get(f"{harness_endpoint}/_aws/execute-api/{api_id}/Prod/hello/cli")
    assert (status, json.loads(body)["greeting"]) == (200, "first")

    done = aws_cli(harness_endpoint, *deploy, "--parameter-overrides", "Greeting=second")
    assert done.returncode == 0, done.stderr
    assert status_of(cfn, "cli-app") == "UPDATE_COMPLETE"
    status, body = get(f"{harness_endpoint}/_aws/execute-api/{api_id}/Prod/hello/cli")
    assert (status, json.loads(body)["greeting"]) == (200, "second")

    cfn.delete_stack(StackName="cli-app")

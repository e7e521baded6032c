"""``harness destroy --stack NAME``: a template's stack deleted on an endpoint, with progress;
a missing stack is one line and exit 1. (The example stack's ``destroy``:
tests/cli/test_aws_target.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from tests.templates.test_template_commands import app_dir, cli_env, harness

__all__ = ["cli_env"]  # the fixture, imported so pytest finds it here


def test_destroy_stack_deletes_everything_and_reports_progress(
        tmp_path: Path, cli_env: dict[str, str], harness_endpoint: str) -> None:
    template = app_dir(tmp_path / "doomed-app")
    where = ("--endpoint-url", harness_endpoint, "--region", "us-east-1")
    done = harness(cli_env, "deploy", *where, "--template", str(template))
    assert done.returncode == 0, done.stderr
    cfn = boto3.client("cloudformation", endpoint_url=harness_endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    made = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in
            cfn.describe_stack_resources(StackName="doomed-app")["StackResources"]}
    stack_id = json.loads(done.stdout)["stack_id"]

    done = harness(cli_env, "destroy", *where, "--stack", "doomed-app")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stack doomed-app: DELETE_COMPLETE"
    assert "deleting doomed-app: DELETE_COMPLETE" in done.stderr.splitlines()
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == (
        "DELETE_COMPLETE")
    lam = boto3.client("lambda", endpoint_url=harness_endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    names = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert made["Hello"] not in names


def test_destroy_missing_stack_is_one_line_and_exit_1(
        cli_env: dict[str, str], harness_endpoint: str) -> None:
    done = harness(cli_env, "destroy", "--endpoint-url", harness_endpoint, "--stack",
                   "no-such-stack")

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "harness destroy: error: stack no-such-stack: Stack with id no-such-stack does not exist"]


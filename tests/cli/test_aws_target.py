"""`harness deploy --aws` and `harness destroy --aws`: the real-AWS code path, pointed at a running
emulator through AWS_ENDPOINT_URL (which boto3 honours), so no AWS account is touched."""

from __future__ import annotations

import json
import subprocess

import boto3

from tests.cli.up_process import harness_cmd


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(harness_cmd(*args), env=env, capture_output=True, text=True,
                          timeout=180, stdin=subprocess.DEVNULL)


def _buckets(url: str) -> list[str]:
    s3 = boto3.client("s3", region_name="eu-west-2", endpoint_url=url,
                      aws_access_key_id="test", aws_secret_access_key="test")
    return [b["Name"] for b in s3.list_buckets()["Buckets"]]


def _stack_outputs(url: str) -> dict[str, str] | None:
    """The example stack's outputs on the emulator, or None when there is no such stack."""
    cfn = boto3.client("cloudformation", region_name="eu-west-2", endpoint_url=url,
                       aws_access_key_id="test", aws_secret_access_key="test")
    try:
        stack = cfn.describe_stacks(StackName="harness-predict")["Stacks"][0]
    except cfn.exceptions.ClientError:
        return None
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}


def test_aws_deploy_shows_plan_and_account_and_needs_a_confirmation(harness_up):
    done = _run(harness_up.env, "deploy", "--aws")
    assert done.returncode == 2
    assert "REAL AWS, account 123456789012, region eu-west-2" in done.stderr
    assert "create S3 bucket" in done.stderr and "create Lambda function" in done.stderr
    assert "create CloudFormation stack harness-predict (lambda_fn/template.yaml)" in done.stderr
    assert "needs a confirmation" in done.stderr and "Traceback" not in done.stderr
    assert _buckets(harness_up.url) == [], "nothing is created without a confirmation"


def test_aws_deploy_then_destroy_removes_every_resource(harness_up):
    done = _run(harness_up.env, "deploy", "--aws", "--yes")
    assert done.returncode == 0, done.stderr
    stack = json.loads(done.stdout)
    assert stack["invoke_url"].startswith(f"https://{stack['api_id']}.execute-api.eu-west-2.")
    # What --aws deploys is the template's stack: its output is the URL printed.
    assert (_stack_outputs(harness_up.url) or {}).get("InvokeUrl") == stack["invoke_url"]
    assert "harness destroy --aws" in done.stderr
    again = _run(harness_up.env, "deploy", "--aws")  # the plan now updates what exists
    assert "update Lambda function" in again.stderr and again.returncode == 2

    gone = _run(harness_up.env, "destroy", "--aws", "--yes")
    assert gone.returncode == 0, gone.stderr
    assert "delete REST API harness-predict-api" in gone.stderr
    for what in ("REST API", "Lambda function", "IAM role", "S3 bucket"):
        assert what in gone.stdout
    assert _buckets(harness_up.url) == [], "the data bucket and the artifacts bucket went"
    assert _stack_outputs(harness_up.url) is None
    lam = boto3.client("lambda", region_name="eu-west-2", endpoint_url=harness_up.url,
                       aws_access_key_id="test", aws_secret_access_key="test")
    assert lam.list_functions()["Functions"] == []
    twice = _run(harness_up.env, "destroy", "--aws", "--yes")
    assert twice.returncode == 0 and "nothing to destroy" in twice.stderr


def test_destroy_against_an_emulator_needs_no_confirmation(harness_up):
    assert _run(harness_up.env, "deploy", "--endpoint-url", harness_up.url).returncode == 0
    gone = _run(harness_up.env, "destroy", "--endpoint-url", harness_up.url)
    assert gone.returncode == 0, gone.stderr
    assert "S3 bucket harness-ml-data" in gone.stdout

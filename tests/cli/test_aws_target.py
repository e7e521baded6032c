"""`harness deploy --aws` and `harness destroy --aws`: the real-AWS code path, pointed at a running
emulator through AWS_ENDPOINT_URL (which boto3 honours), so no AWS account is touched."""

from __future__ import annotations

import json
import subprocess

import boto3

from tests.cli.conftest import harness_cmd


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(harness_cmd(*args), env=env, capture_output=True, text=True,
                          timeout=180, stdin=subprocess.DEVNULL)


def _buckets(url: str) -> list[str]:
    s3 = boto3.client("s3", region_name="eu-west-2", endpoint_url=url,
                      aws_access_key_id="test", aws_secret_access_key="test")
    return [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_aws_deploy_shows_plan_and_account_and_needs_a_confirmation(harness_up):
    done = _run(harness_up.env, "deploy", "--aws")
    assert done.returncode == 2
    assert "REAL AWS, account 123456789012, region eu-west-2" in done.stderr
    assert "create S3 bucket" in done.stderr and "create Lambda function" in done.stderr
    assert "needs a confirmation" in done.stderr and "Traceback" not in done.stderr
    assert _buckets(harness_up.url) == [], "nothing is created without a confirmation"


def test_aws_deploy_then_destroy_removes_every_resource(harness_up):
    done = _run(harness_up.env, "deploy", "--aws", "--yes")
    assert done.returncode == 0, done.stderr
    stack = json.loads(done.stdout)
    assert stack["invoke_url"].startswith(f"https://{stack['api_id']}.execute-api.eu-west-2.")
    assert "harness destroy --aws" in done.stderr
    again = _run(harness_up.env, "deploy", "--aws")  # the plan now updates what exists
    assert "update Lambda function" in again.stderr and again.returncode == 2

    gone = _run(harness_up.env, "destroy", "--aws", "--yes")
    assert gone.returncode == 0, gone.stderr
    assert "delete REST API harness-predict-api" in gone.stderr
    for what in ("REST API", "Lambda function", "IAM role", "S3 bucket"):
        assert what in gone.stdout
    assert _buckets(harness_up.url) == []
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

"""`harness up` refuses what AWS's IAM refuses, and `--iam off` serves it as before: plain boto3
clients against a running `harness up`, functions running for real."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from harness.cli.main import build_parser
from harness.cli.up import config_from_args
from harness.config import EmulatorConfig
from harness.errors import UsageError
from tests.cli.up_process import harness_up_with
from tests.emulator.support import function_arn, json_body, lambda_uri, raw_request, rest_api
from tests.iam.support import call, denied_message, make_caller, make_role, policy, unique


def clients(url: str) -> dict[str, Any]:
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name="us-east-1")
    return {name: session.client(name, endpoint_url=url)
            for name in ("s3", "iam", "lambda", "apigateway")}


def post(url: str, api_id: str) -> tuple[int, Any]:
    """The status and the body (JSON when it is, else text)."""
    status, _headers, body = raw_request(f"{url}/_aws/execute-api/{api_id}/test/x", "POST",
                                         body=b"{}")
    try:
        return status, json_body(body)
    except ValueError:
        return status, body.decode()


def test_up_refuses_what_the_role_and_the_functions_policy_do_not_allow(harness_up):
    aws = clients(harness_up.url)
    bucket = unique("up-data")
    aws["s3"].create_bucket(Bucket=bucket)
    aws["s3"].put_object(Bucket=bucket, Key="k.csv", Body=b"1,2")
    role = unique("up-role")
    role_arn = make_role(aws["iam"], role)
    function = make_caller(aws["lambda"], role_arn)
    resource = f"arn:aws:s3:::{bucket}/k.csv"

    seen = call(aws["lambda"], function, "s3", "get_object", Bucket=bucket, Key="k.csv")
    assert (seen["status"], seen["code"], seen["message"]) == (
        403, "AccessDenied", denied_message(role, function, "s3:GetObject", resource))
    aws["iam"].put_role_policy(RoleName=role, PolicyName="read", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}))
    seen = call(aws["lambda"], function, "s3", "get_object", Bucket=bucket, Key="k.csv")
    assert seen["ok"] and seen["result"] == {"body": "1,2"}  # the next call: no redeploy

    aws["s3"].put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": resource}))
    seen = call(aws["lambda"], function, "s3", "get_object", Bucket=bucket, Key="k.csv")
    assert seen["message"] == denied_message(
        role, function, "s3:GetObject", resource,
        "with an explicit deny in a resource-based policy")

    api_id = rest_api(aws["apigateway"], lambda_uri(function_arn(function)), [("/x", "POST")])
    assert post(harness_up.url, api_id) == (500, {"message": "Internal server error"})
    aws["lambda"].add_permission(
        FunctionName=function, StatementId="api", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/*/POST/x")
    assert post(harness_up.url, api_id) == (200, "called")


def test_up_with_iam_off_serves_what_it_served_before(cli_env):
    with harness_up_with(cli_env, "--iam", "off") as url:
        aws = clients(url)
        bucket = unique("off-data")
        aws["s3"].create_bucket(Bucket=bucket)
        aws["s3"].put_object(Bucket=bucket, Key="k.csv", Body=b"1,2")
        function = make_caller(aws["lambda"], make_role(aws["iam"], unique("off-role")))
        seen = call(aws["lambda"], function, "s3", "get_object", Bucket=bucket, Key="k.csv")
        assert seen == {"ok": True, "result": {"body": "1,2"}, "key": "test"}
        api_id = rest_api(aws["apigateway"], lambda_uri(function_arn(function)),
                          [("/x", "POST")])
        assert post(url, api_id) == (200, "called")
        assert json.loads(aws["lambda"].invoke(FunctionName=function, Payload=json.dumps(
            {"service": "sts", "call": "get_caller_identity"}).encode())["Payload"].read())["ok"]


def test_the_iam_mode_from_the_environment_and_the_command_line():
    def parse(*argv: str):
        return build_parser().parse_args(["up", *argv])

    assert config_from_args(parse(), {}).iam.mode == "on"
    assert config_from_args(parse(), {"HARNESS_IAM": "off"}).iam.mode == "off"
    assert config_from_args(parse("--iam", "all"), {"HARNESS_IAM": "off"}).iam.mode == "all"
    with pytest.raises(UsageError, match="HARNESS_IAM='maybe' is not one of on, all, off"):
        EmulatorConfig.from_env({"HARNESS_IAM": "maybe"})

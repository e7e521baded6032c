"""A function's calls with its execution role's credentials are allowed only if the role's
policies (and the bucket's) allow them, as on AWS; through the session emulator with plain
boto3 clients and real functions."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.config import IamConfig
from tests.emulator.support import own_emulator
from tests.iam.support import call, denied_message, make_caller, make_role, policy, unique

READ_DATA = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{}/*"}


@pytest.fixture
def bucket(harness_client) -> str:
    s3 = harness_client("s3")
    name = unique("data")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="features.csv", Body=b"1,2,3,4\n")
    return name


def read_statement(bucket: str) -> dict:
    return {**READ_DATA, "Resource": f"arn:aws:s3:::{bucket}/*"}


def test_credentials_are_the_roles_temporary_ones(harness_client, bucket):
    lam, iam = harness_client("lambda"), harness_client("iam")
    role = unique("role")
    function = make_caller(lam, make_role(iam, role))
    seen = call(lam, function, "sts", "get_caller_identity")
    assert seen["ok"] and seen["key"].startswith("ASIA")
    assert seen["result"]["Arn"] == f"arn:aws:sts::123456789012:assumed-role/{role}/{function}"


def test_a_role_without_policy_is_denied_until_put_role_policy_allows_it(harness_client, bucket):
    lam, iam = harness_client("lambda"), harness_client("iam")
    role = unique("role")
    function = make_caller(lam, make_role(iam, role))

    seen = call(lam, function, "s3", "get_object", Bucket=bucket, Key="features.csv")
    assert (seen["ok"], seen["status"], seen["code"]) == (False, 403, "AccessDenied")
    assert seen["message"] == denied_message(role, function, "s3:GetObject",
                                             f"arn:aws:s3:::{bucket}/features.csv")

    iam.put_role_policy(RoleName=role, PolicyName="read", PolicyDocument=policy(
        read_statement(bucket)))
    seen = call(lam, function, "s3", "get_object", Bucket=bucket, Key="features.csv")
    assert seen == {"ok": True, "result": {"body": "1,2,3,4\n"}, "key": seen["key"]}

    iam.delete_role_policy(RoleName=role, PolicyName="read")  # and back, on the next call
    assert call(lam, function, "s3", "get_object", Bucket=bucket, Key="features.csv")[
        "code"] == "AccessDenied"


def test_a_bucket_policys_explicit_deny_wins_over_the_roles_allow(harness_client, bucket):
    lam, iam, s3 = harness_client("lambda"), harness_client("iam"), harness_client("s3")
    role = unique("role")
    role_arn = make_role(iam, role, policy(read_statement(bucket)))
    function = make_caller(lam, role_arn)
    assert call(lam, function, "s3", "get_object", Bucket=bucket, Key="features.csv")["ok"]

    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Deny", "Principal": {"AWS": role_arn}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}))
    seen = call(lam, function, "s3", "get_object", Bucket=bucket, Key="features.csv")
    assert (seen["status"], seen["code"]) == (403, "AccessDenied")
    assert seen["message"] == denied_message(
        role, function, "s3:GetObject", f"arn:aws:s3:::{bucket}/features.csv",
        "with an explicit deny in a resource-based policy")


def test_a_bucket_policy_can_grant_the_role_what_its_own_policies_do_not(harness_client, bucket):
    lam, iam, s3 = harness_client("lambda"), harness_client("iam"), harness_client("s3")
    role_arn = make_role(iam, unique("role"))
    function = make_caller(lam, role_arn)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}))
    assert call(lam, function, "s3", "get_object", Bucket=bucket, Key="features.csv")["ok"]


def test_aws_managed_policies_resolve(harness_client, bucket):
    lam, iam = harness_client("lambda"), harness_client("iam")
    role = unique("role")
    function = make_caller(lam, make_role(iam, role))
    iam.attach_role_policy(
        RoleName=role, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    assert call(lam, function, "s3", "get_object", Bucket=bucket, Key="features.csv")[
        "code"] == "AccessDenied"
    iam.attach_role_policy(RoleName=role,
                           PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    assert call(lam, function, "s3", "get_object", Bucket=bucket, Key="features.csv")["ok"]
    listed = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert {p["PolicyName"] for p in listed} == {"AWSLambdaBasicExecutionRole",
                                                 "AmazonS3ReadOnlyAccess"}


def test_a_missing_key_is_access_denied_without_list_bucket_as_on_aws(harness_client, bucket):
    lam, iam = harness_client("lambda"), harness_client("iam")
    role = unique("role")
    function = make_caller(lam, make_role(iam, role, policy(read_statement(bucket))))
    seen = call(lam, function, "s3", "get_object", Bucket=bucket, Key="nothing.csv")
    assert (seen["status"], seen["code"]) == (403, "AccessDenied")
    assert seen["message"] == denied_message(role, function, "s3:ListBucket",
                                             f"arn:aws:s3:::{bucket}")
    iam.put_role_policy(RoleName=role, PolicyName="list", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}))
    seen = call(lam, function, "s3", "get_object", Bucket=bucket, Key="nothing.csv")
    assert (seen["status"], seen["code"]) == (404, "NoSuchKey")
    # A bucket that does not exist is NoSuchBucket, whatever the role may do.
    seen = call(lam, function, "s3", "get_object", Bucket=unique("none"), Key="k")
    assert (seen["status"], seen["code"]) == (404, "NoSuchBucket")


@pytest.mark.parametrize(("service", "method", "args", "status", "code", "action"), [
    ("sqs", "list_queues", {}, 400, "AccessDenied", "sqs:ListQueues"),
    ("sns", "list_topics", {}, 403, "AuthorizationError", "sns:ListTopics"),
    ("sts", "assume_role", {"RoleArn": "arn:aws:iam::123456789012:role/x",
                            "RoleSessionName": "session"}, 403, "AccessDenied", "sts:AssumeRole"),
    ("iam", "list_roles", {}, 403, "AccessDenied", "iam:ListRoles"),
    ("lambda", "list_functions", {}, 403, "AccessDeniedException", "lambda:ListFunctions"),
    ("dynamodb", "list_tables", {}, 400, "AccessDeniedException", "dynamodb:ListTables"),
    ("logs", "describe_log_groups", {}, 400, "AccessDeniedException", "logs:DescribeLogGroups"),
])
def test_access_denied_in_the_protocol_of_the_service_called(harness_client, service, method,
                                                             args, status, code, action):
    lam, iam = harness_client("lambda"), harness_client("iam")
    role = unique("role")
    function = make_caller(lam, make_role(iam, role))
    seen = call(lam, function, service, method, **args)
    assert (seen["ok"], seen["code"]) == (False, code)
    assert seen["message"].startswith(
        f"User: arn:aws:sts::123456789012:assumed-role/{role}/{function} is not authorized to "
        f"perform: {action}")
    assert seen["status"] == status


def test_lambda_and_api_gateway_reads_without_a_body_pass_when_allowed(harness_client):
    # moto's own signature check refuses these even for an admin; no signature is checked here.
    lam, iam = harness_client("lambda"), harness_client("iam")
    role = unique("role")
    function = make_caller(lam, make_role(iam, role, policy(
        {"Effect": "Allow", "Action": ["lambda:GetFunction", "apigateway:GET"],
         "Resource": "*"})))
    seen = call(lam, function, "lambda", "get_function", FunctionName=function)
    assert seen["ok"], seen
    assert seen["result"]["Configuration"]["FunctionName"] == function
    assert call(lam, function, "apigateway", "get_rest_apis")["ok"]
    refused = call(lam, function, "lambda", "get_function_configuration", FunctionName=function)
    assert refused["code"] == "AccessDeniedException"
    assert refused["message"] == denied_message(
        role, function, "lambda:GetFunctionConfiguration",
        f"arn:aws:lambda:us-east-1:123456789012:function:{function}", quote=False)


def test_full_enforcement_checks_users_own_keys_too(tmp_path: Path):
    with own_emulator(tmp_path, iam=IamConfig(mode="all")) as own:
        iam = own.client("iam")
        user = unique("user")
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        theirs = boto3.session.Session().client(
            "s3", region_name="us-east-1", endpoint_url=own.url,
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
            config=Config(retries={"total_max_attempts": 1}))
        with pytest.raises(ClientError) as refused:
            theirs.list_buckets()
        assert refused.value.response["Error"]["Message"] == (
            f"User: arn:aws:iam::123456789012:user/{user} is not authorized to perform: "
            's3:ListAllMyBuckets on resource: "arn:aws:s3:::*" because no identity-based policy '
            "allows the s3:ListAllMyBuckets action")
        iam.put_user_policy(UserName=user, PolicyName="list", PolicyDocument=policy(
            {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}))
        assert "Buckets" in theirs.list_buckets()
        # Keys no one was given stand for the account's root, as LocalStack has them.
        assert "Buckets" in own.client("s3").list_buckets()


def test_iam_off_gives_functions_fixed_credentials_and_checks_nothing(tmp_path: Path):
    with own_emulator(tmp_path, iam=IamConfig(mode="off")) as own:
        s3, iam, lam = own.client("s3"), own.client("iam"), own.client("lambda")
        bucket = unique("open")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="k", Body=b"v")
        function = make_caller(lam, make_role(iam, unique("role")))
        own.created.append(function)
        seen = call(lam, function, "s3", "get_object", Bucket=bucket, Key="k")
        assert seen == {"ok": True, "result": {"body": "v"}, "key": "test"}


def test_invoking_another_function_needs_lambda_invoke_function(harness_client, create_function):
    # Invoke is the harness's own route, not moto's: it is checked the same way.
    lam, iam = harness_client("lambda"), harness_client("iam")
    role = unique("role")
    function = make_caller(lam, make_role(iam, role))
    target = create_function()
    target_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{target}"
    seen = call(lam, function, "lambda", "invoke", FunctionName=target, Payload="{}")
    assert (seen["status"], seen["code"]) == (403, "AccessDeniedException")
    assert seen["message"] == denied_message(role, function, "lambda:InvokeFunction",
                                             target_arn, quote=False)
    iam.put_role_policy(RoleName=role, PolicyName="fan-out", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": target_arn}))
    seen = call(lam, function, "lambda", "invoke", FunctionName=target, Payload="{}")
    assert seen["ok"] and seen["result"]["StatusCode"] == 200


def test_conditions_read_the_request_and_the_time(harness_client, bucket):
    lam, iam = harness_client("lambda"), harness_client("iam")
    role = unique("role")
    function = make_caller(lam, make_role(iam, role, policy(
        {**read_statement(bucket),
         "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2000-01-01T00:00:00Z"},
                       "IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}})))
    assert call(lam, function, "s3", "get_object", Bucket=bucket, Key="features.csv")["ok"]
    iam.put_role_policy(RoleName=role, PolicyName="p0", PolicyDocument=policy(
        {**read_statement(bucket),
         "Condition": {"DateLessThan": {"aws:CurrentTime": "2000-01-01T00:00:00Z"}}}))
    assert call(lam, function, "s3", "get_object", Bucket=bucket, Key="features.csv")[
        "code"] == "AccessDenied"

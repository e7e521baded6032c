"""A template's execution roles are the roles checked: SAM's ManagedPolicyArns (moto's own
AWS::IAM::Role drops them) and policy templates, and a stack update that changes them."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import LOCAL_RUNTIME
from tests.iam.support import unique
from tests.templates.test_stacks import stack_name, status_of

READER = """
        import boto3
        from botocore.exceptions import ClientError
        def handler(event, context):
            try:
                boto3.client("s3").get_object(Bucket=event["bucket"], Key="k")
                return "read"
            except ClientError as error:
                return error.response["Error"]["Code"]
"""


def template(logger_policies: str) -> str:
    def function(name: str, policies: str) -> str:
        return f"""
  {name}:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: {LOCAL_RUNTIME}
      Handler: index.handler
      Policies: {policies}
      InlineCode: |{READER}"""

    return ("Transform: AWS::Serverless-2016-10-31\nResources:"
            + function("Reader", "[AmazonS3ReadOnlyAccess]")
            + function("Logger", logger_policies) + "\n")


def test_sam_roles_get_their_managed_policies_and_updates(harness_client):
    cfn, s3, lam, iam = (harness_client(x) for x in ("cloudformation", "s3", "lambda", "iam"))
    bucket = unique("tpl-data")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    name = stack_name()
    cfn.create_stack(StackName=name, TemplateBody=template("[]"),
                     Capabilities=["CAPABILITY_IAM"])
    assert status_of(cfn, name) == "CREATE_COMPLETE"
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in
                cfn.describe_stack_resources(StackName=name)["StackResources"]}

    def read(function: str) -> str:
        response = lam.invoke(FunctionName=physical[function],
                              Payload=json.dumps({"bucket": bucket}).encode())
        return str(json.loads(response["Payload"].read()))

    assert read("Reader") == "read"
    assert read("Logger") == "AccessDenied"
    attached = iam.list_attached_role_policies(RoleName=physical["LoggerRole"])
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == [
        "AWSLambdaBasicExecutionRole"]

    cfn.update_stack(StackName=name, TemplateBody=template(
        f"[{{S3ReadPolicy: {{BucketName: {bucket}}}}}]"),
        Capabilities=["CAPABILITY_IAM"])
    assert status_of(cfn, name) == "UPDATE_COMPLETE"
    assert read("Logger") == "read"

    cfn.delete_stack(StackName=name)
    with pytest.raises(ClientError):
        iam.get_role(RoleName=physical["LoggerRole"])

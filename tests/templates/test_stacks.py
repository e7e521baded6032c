"""Templates deployed with plain boto3 CloudFormation calls against the emulator: a SAM app to
CREATE_COMPLETE and answering through its API, broken templates rolled back, DeleteStack."""

from __future__ import annotations

import io
import itertools
import json
import urllib.error
import urllib.request
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import LOCAL_RUNTIME

_names = itertools.count()

HANDLER = '''
import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"path": event["path"], "stage": event["requestContext"]["stage"],
                                "greeting": GREETING})}
'''

INLINE_CODE = "InlineCode: |\n" + "".join(
    f"        {line}\n" for line in ('GREETING = "inline"\n' + HANDLER.strip()).splitlines())


def sam_app(code: str = INLINE_CODE, handler: str = "index.handler") -> str:
    """A SAM app: one function behind an implicit REST API (ServerlessRestApi, stage Prod)."""
    return f"""
AWSTemplateFormatVersion: 2010-09-09
Transform: AWS::Serverless-2016-10-31
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: {LOCAL_RUNTIME}
      Handler: {handler}
      {code}
      Events:
        Hello:
          Type: Api
          Properties: {{Path: "/hello/{{name}}", Method: get}}
Outputs:
  HelloUrl:
    Value: !Sub "https://${{ServerlessRestApi}}.execute-api.${{AWS::Region}}.amazonaws.com/Prod/hello"
  FunctionName:
    Value: !Ref HelloFunction
"""


def stack_name() -> str:
    return f"tpl-{next(_names)}"


@pytest.fixture(scope="module")
def cfn(harness_client: Any) -> Any:
    return harness_client("cloudformation")


def status_of(cfn: Any, name: str) -> str:
    return str(cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"])


def outputs_of(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def function_names(harness_client: Any) -> set[str]:
    return {f["FunctionName"] for f in harness_client("lambda").list_functions()["Functions"]}


def test_sam_app_creates_answers_through_its_api_and_deletes(cfn: Any, harness_client: Any,
                                                             harness_endpoint: str) -> None:
    name = stack_name()
    cfn.create_stack(StackName=name, TemplateBody=sam_app(), Capabilities=["CAPABILITY_IAM"])
    assert status_of(cfn, name) == "CREATE_COMPLETE"

    resources = {r["LogicalResourceId"]: r for r in
                 cfn.describe_stack_resources(StackName=name)["StackResources"]}
    types = {logical: r["ResourceType"] for logical, r in resources.items()}
    # What AWS lists for this template once transformed (the deployment's id has a hash).
    deployment = next(logical for logical in types if logical.startswith("ServerlessRestApiDeploy"))
    assert types == {
        "HelloFunction": "AWS::Lambda::Function",
        "HelloFunctionRole": "AWS::IAM::Role",
        "HelloFunctionHelloPermissionProd": "AWS::Lambda::Permission",
        "ServerlessRestApi": "AWS::ApiGateway::RestApi",
        deployment: "AWS::ApiGateway::Deployment",
        "ServerlessRestApiProdStage": "AWS::ApiGateway::Stage",
    }
    assert all(r.get("PhysicalResourceId") for r in resources.values())
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]  # newest first
    assert (events[0]["LogicalResourceId"], events[0]["ResourceStatus"]) == (name,
                                                                            "CREATE_COMPLETE")
    completed = {e["LogicalResourceId"]: e.get("PhysicalResourceId") for e in events
                 if e["ResourceStatus"] == "CREATE_COMPLETE" and e["LogicalResourceId"] != name}
    assert completed == {logical: r["PhysicalResourceId"] for logical, r in resources.items()}
    assert resources["ServerlessRestApiProdStage"]["PhysicalResourceId"] == "Prod"

    outputs = outputs_of(cfn, name)
    api_id = resources["ServerlessRestApi"]["PhysicalResourceId"]
    assert outputs["HelloUrl"].startswith(f"https://{api_id}.execute-api.us-east-1.")
    assert outputs["FunctionName"] == resources["HelloFunction"]["PhysicalResourceId"]

    status, body = get(f"{harness_endpoint}/_aws/execute-api/{api_id}/Prod/hello/world")
    assert status == 200, body
    assert json.loads(body) == {"path": "/hello/world", "stage": "Prod", "greeting": "inline"}
    status, _ = get(f"{harness_endpoint}/_aws/execute-api/{api_id}/Prod/nowhere")
    assert status == 403  # API Gateway's Missing Authentication Token for an unknown route

    cfn.delete_stack(StackName=name)
    assert outputs["FunctionName"] not in function_names(harness_client)
    apis = {a["id"] for a in harness_client("apigateway").get_rest_apis()["items"]}
    assert api_id not in apis
    roles = {r["RoleName"] for r in harness_client("iam").list_roles()["Roles"]}
    assert resources["HelloFunctionRole"]["PhysicalResourceId"] not in roles


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return buffer.getvalue()


def test_template_url_and_s3_code_uri_come_from_the_emulators_own_s3(
        cfn: Any, harness_client: Any, harness_endpoint: str) -> None:
    s3 = harness_client("s3")
    bucket = f"artifacts-{next(_names)}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="code/app.zip",
                  Body=zipped({"app.py": 'GREETING = "from s3"\n' + HANDLER}))
    template = sam_app(f"CodeUri: s3://{bucket}/code/app.zip", handler="app.handler")
    s3.put_object(Bucket=bucket, Key="template.yaml", Body=template.encode())
    name = stack_name()

    cfn.create_stack(StackName=name, TemplateURL=f"{harness_endpoint}/{bucket}/template.yaml",
                     Capabilities=["CAPABILITY_IAM"])

    assert status_of(cfn, name) == "CREATE_COMPLETE"
    api_id = outputs_of(cfn, name)["HelloUrl"].split("//")[1].split(".")[0]
    status, body = get(f"{harness_endpoint}/_aws/execute-api/{api_id}/Prod/hello/s3")
    assert status == 200, body
    assert json.loads(body)["greeting"] == "from s3"
    cfn.delete_stack(StackName=name)


def failure_events(cfn: Any, name: str) -> list[dict[str, Any]]:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return [e for e in events if e["ResourceStatus"] in ("CREATE_FAILED", "ROLLBACK_IN_PROGRESS")]


def plain_template(function_properties: dict[str, Any], extra: dict[str, Any] | None = None
                   ) -> str:
    """A bucket, a role and a function: the bucket and role must be gone after a rollback."""
    resources: dict[str, Any] = {
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}}},
        "Function": {"Type": "AWS::Lambda::Function", "DependsOn": ["Bucket", "Role"],
                     "Properties": {"Runtime": LOCAL_RUNTIME, "Handler": "index.handler",
                                    "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"},
                                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                                    **function_properties}},
        **(extra or {}),
    }
    return json.dumps({"Resources": {k: v for k, v in resources.items() if v is not None}})


def assert_rolled_back(cfn: Any, harness_client: Any, name: str, failed: str,
                       reason_part: str) -> None:
    assert status_of(cfn, name) == "ROLLBACK_COMPLETE"
    failures = failure_events(cfn, name)
    resource_failure = [e for e in failures if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in resource_failure] == [failed]
    assert reason_part in resource_failure[0]["ResourceStatusReason"]
    rollback = [e for e in failures if e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS"]
    assert f"[{failed}]" in rollback[0]["ResourceStatusReason"]
    buckets = {b["Name"] for b in harness_client("s3").list_buckets()["Buckets"]}
    assert not [b for b in buckets if b.startswith(f"{name}-bucket-")]
    assert not [f for f in function_names(harness_client) if f.startswith(f"{name}-")]
    roles = {r["RoleName"] for r in harness_client("iam").list_roles()["Roles"]}
    assert not [r for r in roles if r.startswith(f"{name}-")]
    assert cfn.describe_stack_resources(StackName=name)["StackResources"] == []


def test_unknown_resource_type_rolls_back_naming_the_type(cfn: Any, harness_client: Any) -> None:
    name = stack_name()
    template = plain_template({}, {"Thing": {"Type": "AWS::Nowhere::Thing",
                                             "Properties": {"Size": 1}}})
    cfn.create_stack(StackName=name, TemplateBody=template)
    assert_rolled_back(cfn, harness_client, name, "Thing", "AWS::Nowhere::Thing")


def test_role_that_does_not_exist_rolls_back_with_lambdas_reason(cfn: Any,
                                                                 harness_client: Any) -> None:
    name = stack_name()
    template = plain_template({"Role": "arn:aws:iam::123456789012:role/no-such-role"})
    cfn.create_stack(StackName=name, TemplateBody=template)
    assert_rolled_back(cfn, harness_client, name, "Function", "role")


def test_missing_required_property_rolls_back_naming_it(cfn: Any, harness_client: Any) -> None:
    name = stack_name()
    template = json.loads(plain_template({}))
    del template["Resources"]["Function"]["Properties"]["Code"]
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    assert_rolled_back(cfn, harness_client, name, "Function", "Code")


def test_sam_template_error_is_a_validation_error_naming_resource_and_property(
        cfn: Any) -> None:
    name = stack_name()
    with pytest.raises(ClientError) as caught:
        cfn.create_stack(StackName=name, TemplateBody=sam_app().replace("Handler:", "Handlr:"),
                         Capabilities=["CAPABILITY_IAM"])
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert "[HelloFunction]" in error["Message"] and "Handlr" in error["Message"]
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName=name)


def test_change_set_with_unknown_type_rolls_back_on_execute(cfn: Any,
                                                            harness_client: Any) -> None:
    name = stack_name()
    template = plain_template({}, {"Thing": {"Type": "AWS::Nowhere::Thing"}})
    made = cfn.create_change_set(StackName=name, ChangeSetName="first", ChangeSetType="CREATE",
                                 TemplateBody=template)
    change_set = cfn.describe_change_set(ChangeSetName=made["Id"])
    assert change_set["Status"] == "CREATE_COMPLETE"
    assert {c["ResourceChange"]["LogicalResourceId"] for c in change_set["Changes"]} == {
        "Bucket", "Role", "Function", "Thing"}

    cfn.execute_change_set(ChangeSetName=made["Id"])

    assert_rolled_back(cfn, harness_client, name, "Thing", "AWS::Nowhere::Thing")


def test_failed_update_rolls_back_to_the_previous_template(cfn: Any, harness_client: Any) -> None:
    name = stack_name()
    cfn.create_stack(StackName=name, TemplateBody=plain_template({}))
    assert status_of(cfn, name) == "CREATE_COMPLETE"
    before = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in
              cfn.describe_stack_resources(StackName=name)["StackResources"]}
    broken = json.loads(plain_template({}, {
        "Extra": {"Type": "AWS::S3::Bucket"},
        "Broken": {"Type": "AWS::Lambda::Function", "DependsOn": "Extra", "Properties": {
            "Runtime": LOCAL_RUNTIME, "Handler": "index.handler",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]}}}}))

    cfn.update_stack(StackName=name, TemplateBody=json.dumps(broken))

    assert status_of(cfn, name) == "UPDATE_ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    # A resource the update adds fails to be created, as AWS words it.
    failed = [e for e in events if e["ResourceStatus"] in ("CREATE_FAILED", "UPDATE_FAILED")]
    assert [(e["LogicalResourceId"], e["ResourceStatus"]) for e in failed] == [
        ("Broken", "CREATE_FAILED")]
    assert "Code" in failed[0]["ResourceStatusReason"]
    rollback = next(e for e in events if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS")
    assert "failed to create: [Broken]" in rollback["ResourceStatusReason"]
    after = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in
             cfn.describe_stack_resources(StackName=name)["StackResources"]}
    assert after == before
    buckets = {b["Name"] for b in harness_client("s3").list_buckets()["Buckets"]}
    assert not [b for b in buckets if b.startswith(f"{name}-extra-")]
    assert before["Function"] in function_names(harness_client)
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(StackName=name, TemplateBody=plain_template({}))
    cfn.delete_stack(StackName=name)


def test_circular_dependency_is_refused_naming_the_resources(cfn: Any) -> None:
    # SAM's classic: a policy naming the bucket whose S3 event needs the function.
    circular = """      Policies: [{S3ReadPolicy: {BucketName: !Ref Uploads}}]
      Events:
        Upload: {Type: S3, Properties: {Bucket: !Ref Uploads, Events: s3:ObjectCreated:*}}
"""
    template = sam_app().replace("      Events:\n", circular).replace(
        "Resources:\n", "Resources:\n  Uploads: {Type: AWS::S3::Bucket}\n", 1)
    with pytest.raises(ClientError, match=r"Circular dependency between resources: \[.*Uploads"):
        cfn.create_stack(StackName=stack_name(), TemplateBody=template,
                         Capabilities=["CAPABILITY_IAM"])


def test_unknown_type_under_a_false_condition_is_not_made(cfn: Any) -> None:
    name = stack_name()
    template = json.loads(plain_template({}, {"Thing": {"Type": "AWS::Nowhere::Thing",
                                                        "Condition": "Never"}}))
    template["Conditions"] = {"Never": {"Fn::Equals": ["a", "b"]}}
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    assert status_of(cfn, name) == "CREATE_COMPLETE"
    # moto lists a resource whose condition is false as an entry without ids: not "Thing".
    listed = {r.get("LogicalResourceId") for r in
              cfn.describe_stack_resources(StackName=name)["StackResources"]}
    assert listed - {None} == {"Bucket", "Role", "Function"}
    cfn.delete_stack(StackName=name)

"""API Gateway invokes a function only if the function's resource-based policy allows it, as on
AWS: REST and HTTP APIs through the session emulator, over real HTTP."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from harness.config import IamConfig
from tests.conftest import LOCAL_RUNTIME, build_zip
from tests.emulator.support import (
    ECHO,
    function_arn,
    json_body,
    lambda_uri,
    own_emulator,
    raw_request,
    rest_api,
    unique,
)
from tests.templates.test_stacks import outputs_of, stack_name, status_of

ACCOUNT = "123456789012"


def echo(lam, role: str) -> str:
    name = unique("perm")
    lam.create_function(FunctionName=name, Runtime=LOCAL_RUNTIME, Role=role,
                        Handler="app.handler", Code={"ZipFile": build_zip({"app.py": ECHO})})
    return name


def post(endpoint: str, api_id: str, path: str) -> tuple[int, dict]:
    status, _headers, body = raw_request(f"{endpoint}/_aws/execute-api/{api_id}/{path}", "POST",
                                         [("Content-Type", "application/json")], b"{}")
    return status, json_body(body)


def test_rest_api_answers_500_without_the_permission_and_200_with_it(
        harness_client, harness_endpoint, iam_role, caplog):
    lam = harness_client("lambda")
    name = echo(lam, iam_role())
    api_id = rest_api(harness_client("apigateway"), lambda_uri(function_arn(name)),
                      [("/predict", "POST")])

    with caplog.at_level(logging.WARNING, logger="harness.apigw"):
        assert post(harness_endpoint, api_id, "test/predict") == (
            500, {"message": "Internal server error"})
    logged = [r.getMessage() for r in caplog.records if r.name == "harness.apigw"]
    assert any("Invalid permissions on Lambda function" in line and
               "aws lambda add-permission --function-name " + name in line and
               "--principal apigateway.amazonaws.com" in line for line in logged), logged

    # A permission for another API's calls is not one for this API's.
    lam.add_permission(FunctionName=name, StatementId="other-api",
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:other/*/POST/predict")
    assert post(harness_endpoint, api_id, "test/predict")[0] == 500

    lam.add_permission(FunctionName=name, StatementId="this-api",
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*/POST/predict")
    status, body = post(harness_endpoint, api_id, "test/predict")
    assert status == 200
    assert body["event"]["requestContext"]["resourcePath"] == "/predict"

    lam.remove_permission(FunctionName=name, StatementId="this-api")
    assert post(harness_endpoint, api_id, "test/predict")[0] == 500


def test_the_source_arn_names_the_resource_as_the_console_writes_it(
        harness_client, harness_endpoint, iam_role):
    lam = harness_client("lambda")
    name = echo(lam, iam_role())
    api_id = rest_api(harness_client("apigateway"), lambda_uri(function_arn(name)),
                      [("/items/{id}", "GET")])
    url = f"{harness_endpoint}/_aws/execute-api/{api_id}/test/items/42"
    assert raw_request(url)[0] == 500
    lam.add_permission(FunctionName=name, StatementId="console",
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*/GET/items/"
                                 "{id}")
    assert raw_request(url)[0] == 200


def test_http_api_answers_500_without_the_permission_and_200_with_it(
        harness_client, harness_endpoint, iam_role):
    lam, v2 = harness_client("lambda"), harness_client("apigatewayv2")
    name = echo(lam, iam_role())
    api_id = v2.create_api(Name=unique("perm-http"), ProtocolType="HTTP")["ApiId"]
    target = "integrations/" + v2.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=function_arn(name),
        PayloadFormatVersion="2.0")["IntegrationId"]
    v2.create_route(ApiId=api_id, RouteKey="POST /predict", Target=target)
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)

    assert post(harness_endpoint, api_id, "predict") == (
        500, {"message": "Internal Server Error"})
    lam.add_permission(FunctionName=name, StatementId="http-api",
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*/*/predict",
                       SourceAccount=ACCOUNT)
    status, body = post(harness_endpoint, api_id, "predict")
    assert (status, body["event"]["routeKey"]) == (200, "POST /predict")


SAM_API = f"""
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: {LOCAL_RUNTIME}
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            return {{"statusCode": 200, "body": event["path"]}}
      Events:
        Get: {{Type: Api, Properties: {{Path: "/items/{{id}}", Method: get}}}}
Outputs:
  Api: {{Value: !Ref ServerlessRestApi}}
"""


def test_a_templates_lambda_permission_is_what_lets_the_api_invoke(harness_client,
                                                                   harness_endpoint):
    cfn, lam = harness_client("cloudformation"), harness_client("lambda")
    name = stack_name()
    cfn.create_stack(StackName=name, TemplateBody=SAM_API, Capabilities=["CAPABILITY_IAM"])
    assert status_of(cfn, name) == "CREATE_COMPLETE"
    api_id = outputs_of(cfn, name)["Api"]
    resources = {r["ResourceType"]: r for r in
                 cfn.describe_stack_resources(StackName=name)["StackResources"]}
    url = f"{harness_endpoint}/_aws/execute-api/{api_id}/Prod/items/42"
    assert raw_request(url)[0] == 200

    permission = resources["AWS::Lambda::Permission"]
    function = resources["AWS::Lambda::Function"]["PhysicalResourceId"]
    statement = json.loads(lam.get_policy(FunctionName=function)["Policy"])["Statement"][0]
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    lam.remove_permission(FunctionName=function, StatementId=permission["PhysicalResourceId"])
    assert raw_request(url)[0] == 500
    cfn.delete_stack(StackName=name)


@pytest.fixture
def off(tmp_path: Path):
    with own_emulator(tmp_path, iam=IamConfig(mode="off")) as own:
        yield own


def test_iam_off_lets_any_api_invoke(off):
    name = off.create_function()
    api_id = rest_api(off.client("apigateway"), lambda_uri(function_arn(name)),
                      [("/predict", "POST")])
    assert post(off.url, api_id, "test/predict")[0] == 200

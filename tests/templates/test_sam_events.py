"""A SAM app with every kind of event the issue names: REST and HTTP API routes answer through
the function, the S3 notification, the SQS mapping and the function URL exist as AWS lists them,
the policy template is in the role, a parameter reaches the environment; DeleteStack removes it."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import LOCAL_RUNTIME
from tests.templates.test_stacks import get, outputs_of, stack_name, status_of

TEMPLATE = f"""
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting: {{Type: String, Default: hello}}
Resources:
  Uploads:
    Type: AWS::S3::Bucket
  Jobs:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: {LOCAL_RUNTIME}
      Handler: index.handler
      InlineCode: |
        import json, os
        def handler(event, context):
            key = event.get("routeKey") or event.get("httpMethod") + " " + event.get("path")
            return {{"statusCode": 200,
                     "body": json.dumps({{"greeting": os.environ["GREETING"], "key": key}})}}
      Environment: {{Variables: {{GREETING: !Ref Greeting}}}}
      Policies: [{{S3ReadPolicy: {{BucketName: data-bucket}}}}]
      FunctionUrlConfig: {{AuthType: NONE}}
      Events:
        Rest: {{Type: Api, Properties: {{Path: /rest, Method: get}}}}
        Http: {{Type: HttpApi, Properties: {{Path: /http, Method: get}}}}
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: s3:ObjectCreated:*
            Filter: {{S3Key: {{Rules: [{{Name: prefix, Value: incoming/}}]}}}}
        Job: {{Type: SQS, Properties: {{Queue: !GetAtt Jobs.Arn, BatchSize: 5}}}}
Outputs:
  HttpApi: {{Value: !Sub "https://${{ServerlessHttpApi}}.execute-api.${{AWS::Region}}.amazonaws.com/"}}
  RestApi: {{Value: !Sub "https://${{ServerlessRestApi}}.execute-api.${{AWS::Region}}.amazonaws.com/Prod/"}}
  Url: {{Value: !GetAtt FnUrl.FunctionUrl}}
"""


def api_id(url: str) -> str:
    return url.split("//")[1].split(".")[0]


def test_sam_app_with_every_event_kind(harness_client: Any, harness_endpoint: str) -> None:
    cfn = harness_client("cloudformation")
    name = stack_name()
    cfn.create_stack(StackName=name, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_IAM"],
                     Parameters=[{"ParameterKey": "Greeting", "ParameterValue": "hej"}])
    assert status_of(cfn, name) == "CREATE_COMPLETE"
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in
                cfn.describe_stack_resources(StackName=name)["StackResources"]}
    outputs = outputs_of(cfn, name)

    http = api_id(outputs["HttpApi"])
    status, body = get(f"{harness_endpoint}/_aws/execute-api/{http}/http")
    assert (status, json.loads(body)) == (200, {"greeting": "hej", "key": "GET /http"})
    rest = api_id(outputs["RestApi"])
    status, body = get(f"{harness_endpoint}/_aws/execute-api/{rest}/Prod/rest")
    assert (status, json.loads(body)) == (200, {"greeting": "hej", "key": "GET /rest"})

    function_arn = harness_client("lambda").get_function(
        FunctionName=physical["Fn"])["Configuration"]["FunctionArn"]
    notifications = harness_client("s3").get_bucket_notification_configuration(
        Bucket=physical["Uploads"])["LambdaFunctionConfigurations"]
    assert [(n["LambdaFunctionArn"], n["Events"]) for n in notifications] == [
        (function_arn, ["s3:ObjectCreated:*"])]
    assert notifications[0]["Filter"]["Key"]["FilterRules"] == [
        {"Name": "prefix", "Value": "incoming/"}]
    mappings = harness_client("lambda").list_event_source_mappings(
        FunctionName=physical["Fn"])["EventSourceMappings"]
    assert [(m["EventSourceArn"].split(":")[-1], m["BatchSize"]) for m in mappings] == [
        (physical["Jobs"].rsplit("/", 1)[-1], 5)]
    url = harness_client("lambda").get_function_url_config(FunctionName=physical["Fn"])
    assert (url["AuthType"], url["FunctionUrl"]) == ("NONE", outputs["Url"])
    policies = harness_client("iam").list_role_policies(RoleName=physical["FnRole"])
    assert any(p.startswith("FnRolePolicy") for p in policies["PolicyNames"])

    cfn.delete_stack(StackName=name)
    assert http not in {a["ApiId"] for a in harness_client("apigatewayv2").get_apis()["Items"]}
    assert rest not in {a["id"] for a in harness_client("apigateway").get_rest_apis()["items"]}
    assert harness_client("lambda").list_event_source_mappings(
        FunctionName=function_arn)["EventSourceMappings"] == []
    assert physical["Uploads"] not in {
        b["Name"] for b in harness_client("s3").list_buckets()["Buckets"]}

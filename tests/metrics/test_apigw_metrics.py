"""AWS/ApiGateway metrics: Count, 4XX/5XX, Latency and IntegrationLatency per API and stage."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from tests.metrics.test_lambda_metrics import window
from tests.templates.test_stacks import outputs_of, stack_name, status_of

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            if "fail" in (event.get("rawPath") or event.get("path") or ""):
                raise ValueError("asked to fail")
            return {"statusCode": 200, "body": "ok"}
      Events:
        Rest: {Type: Api, Properties: {Path: "/{any+}", Method: get}}
        Http: {Type: HttpApi, Properties: {Path: "/{any+}", Method: get}}
Outputs:
  Rest: {Value: !Ref ServerlessRestApi}
  Http: {Value: !Ref ServerlessHttpApi}
"""


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def total(cw: Any, name: str, dims: dict[str, str], statistic: str = "Sum") -> float:
    points = cw.get_metric_statistics(
        Namespace="AWS/ApiGateway", MetricName=name, Period=86400, Statistics=[statistic],
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()], **window(cw))["Datapoints"]
    return sum(p[statistic] for p in points)


def test_rest_and_http_api_requests_are_counted_by_api_and_stage(
        harness_client, harness_endpoint) -> None:
    cfn, cw = harness_client("cloudformation"), harness_client("cloudwatch")
    name = stack_name()
    cfn.create_stack(StackName=name, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_IAM"])
    assert status_of(cfn, name) == "CREATE_COMPLETE"
    out = outputs_of(cfn, name)
    rest_name = harness_client("apigateway").get_rest_api(restApiId=out["Rest"])["name"]
    base = f"{harness_endpoint}/_aws/execute-api"
    assert [status(f"{base}/{out['Rest']}/Prod/{p}") for p in ("a", "b", "fail")] == [200, 200,
                                                                                       502]
    assert status(f"{base}/{out['Rest']}/Prod") == 403  # no route: API Gateway's 4XX
    assert [status(f"{base}/{out['Http']}/{p}") for p in ("a", "fail")] == [200, 500]

    rest = {"ApiName": rest_name, "Stage": "Prod"}
    assert total(cw, "Count", rest) == 4
    assert total(cw, "4XXError", rest) == 1
    assert total(cw, "5XXError", rest) == 1
    assert total(cw, "Count", {"ApiName": rest_name}) == 4
    assert total(cw, "Latency", rest, "SampleCount") == 4
    assert total(cw, "IntegrationLatency", rest, "SampleCount") == 3
    http = {"ApiId": out["Http"], "Stage": "$default"}
    assert (total(cw, "Count", http), total(cw, "5xx", http), total(cw, "4xx", http)) == (2, 1, 0)
    cfn.delete_stack(StackName=name)

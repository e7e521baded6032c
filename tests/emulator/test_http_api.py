"""HTTP APIs (apigatewayv2) end to end: stages, routes, payload formats 2.0 and 1.0, and how
the result becomes the response. Built with boto3's apigatewayv2 client, called over HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.conftest import LOCAL_RUNTIME, build_zip
from tests.emulator.support import (
    ECHO,
    allow_api,
    function_arn,
    json_body,
    lambda_uri,
    raw_request,
    unique,
)


@dataclass(frozen=True)
class HttpApi:
    endpoint: str
    api_id: str
    bare_id: str
    """An API with a "prod" stage only and no $default route."""

    def aws_url(self, rest: str, api_id: str | None = None) -> str:
        return f"{self.endpoint}/_aws/execute-api/{api_id or self.api_id}/{rest}"

    def host_request(self, rest: str, method: str = "GET", headers=None, body=None):
        port = self.endpoint.rsplit(":", 1)[1]
        host = ("Host", f"{self.api_id}.execute-api.localhost.localstack.cloud:{port}")
        return raw_request(f"http://127.0.0.1:{port}/{rest}", method, [host, *(headers or [])],
                           body)


@pytest.fixture(scope="module")
def api(harness_client, harness_endpoint, iam_role) -> HttpApi:
    lam = harness_client("lambda")
    name = unique("http-echo")
    lam.create_function(FunctionName=name, Runtime=LOCAL_RUNTIME, Role=iam_role(),
                        Handler="app.handler", Code={"ZipFile": build_zip({"app.py": ECHO})})
    v2 = harness_client("apigatewayv2")
    api_id = v2.create_api(Name=unique("http"), ProtocolType="HTTP")["ApiId"]

    def integration(uri: str, version: str) -> str:
        return "integrations/" + v2.create_integration(
            ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri,
            PayloadFormatVersion=version)["IntegrationId"]

    format2 = integration(function_arn(name), "2.0")  # HTTP APIs take the bare function ARN
    format1 = integration(lambda_uri(function_arn(name)), "1.0")  # or the apigateway URI
    for key, target in (("POST /predict", format2), ("GET /items/{id}", format2),
                        ("ANY /v1/{proxy+}", format1), ("$default", format2)):
        v2.create_route(ApiId=api_id, RouteKey=key, Target=target)
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    v2.create_stage(ApiId=api_id, StageName="prod", StageVariables={"color": "green"})
    bare_id = v2.create_api(Name=unique("bare"), ProtocolType="HTTP")["ApiId"]
    bare_target = "integrations/" + v2.create_integration(
        ApiId=bare_id, IntegrationType="AWS_PROXY", IntegrationUri=function_arn(name),
        PayloadFormatVersion="2.0")["IntegrationId"]
    v2.create_route(ApiId=bare_id, RouteKey="GET /only", Target=bare_target)
    v2.create_stage(ApiId=bare_id, StageName="prod")
    allow_api(lam, name, api_id)
    allow_api(lam, name, bare_id)
    yield HttpApi(harness_endpoint, api_id, bare_id)
    v2.delete_api(ApiId=api_id)
    v2.delete_api(ApiId=bare_id)
    lam.delete_function(FunctionName=name)


def event_of(raw: bytes) -> dict:
    return json_body(raw)["event"]


def test_named_stage_reaches_the_function_through_all_three_url_forms(api):
    headers = [("Content-Type", "application/json"), ("Cookie", "a=1; b=2")]
    body = b'{"features": [1, 2]}'
    responses = [
        api.host_request("prod/predict?x=1&x=2", "POST", headers, body),
        raw_request(api.aws_url("prod/predict?x=1&x=2"), "POST", headers, body),
        raw_request(f"{api.endpoint}/restapis/{api.api_id}/prod/_user_request_/predict?x=1&x=2",
                    "POST", headers, body),
    ]
    for status, _headers, raw in responses:
        assert status == 200, raw
        event = event_of(raw)
        assert event["version"] == "2.0"
        assert event["routeKey"] == "POST /predict"
        assert event["rawPath"] == "/prod/predict"
        assert event["rawQueryString"] == "x=1&x=2"
        assert event["queryStringParameters"] == {"x": "1,2"}
        assert event["cookies"] == ["a=1", "b=2"]
        assert "cookie" not in event["headers"]
        assert event["headers"]["content-type"] == "application/json"
        assert event["stageVariables"] == {"color": "green"}
        assert event["body"] == body.decode() and event["isBase64Encoded"] is False
        assert "pathParameters" not in event
        context = event["requestContext"]
        assert context["stage"] == "prod" and context["routeKey"] == "POST /predict"
        assert context["apiId"] == api.api_id
        assert context["http"]["method"] == "POST"
        assert context["http"]["path"] == "/prod/predict"
        assert context["http"]["sourceIp"] == "127.0.0.1"


def test_default_stage_is_served_at_the_root_with_path_parameters(api):
    for status, _headers, raw in (api.host_request("items/42"),
                                  raw_request(api.aws_url("items/42"))):
        assert status == 200, raw
        event = event_of(raw)
        assert event["routeKey"] == "GET /items/{id}"
        assert event["rawPath"] == "/items/42"
        assert event["pathParameters"] == {"id": "42"}
        assert event["requestContext"]["stage"] == "$default"
        assert "stageVariables" not in event


def test_unmatched_request_goes_to_the_default_route_with_its_full_path(api):
    status, _headers, raw = raw_request(api.aws_url("nothing/here"), "DELETE")
    assert status == 200, raw
    event = event_of(raw)
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/nothing/here"
    assert event["requestContext"]["http"]["method"] == "DELETE"


def test_payload_format_1_0_sends_the_rest_shaped_event(api):
    status, _headers, raw = raw_request(api.aws_url("v1/a/b?k=1&k=2"))
    assert status == 200, raw
    event = event_of(raw)
    assert event["version"] == "1.0"
    assert event["resource"] == "/v1/{proxy+}"
    assert event["path"] == "/v1/a/b"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"proxy": "a/b"}
    assert event["multiValueQueryStringParameters"] == {"k": ["1", "2"]}
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["path"] == "/v1/a/b"
    status, headers, raw = raw_request(api.aws_url("v1/x?mode=multi"))
    assert status == 201 and raw == b"made"
    assert [value for name, value in headers if name == "X-Many"] == ["a", "b"]


def test_no_matching_route_or_stage_is_404_not_found(api):
    status, _headers, raw = raw_request(api.aws_url("prod/missing", api.bare_id))
    assert (status, json.loads(raw)) == (404, {"message": "Not Found"})
    # No stage of that name and no $default stage to fall back on.
    status, _headers, raw = raw_request(api.aws_url("staging/only", api.bare_id))
    assert (status, json.loads(raw)) == (404, {"message": "Not Found"})
    status, _headers, raw = raw_request(api.aws_url("prod/only", api.bare_id))
    assert status == 200, raw


def test_format_2_0_result_mapping(api):
    status, headers, raw = raw_request(api.aws_url("items/1?mode=cookies"))
    assert status == 202 and raw == b"baked"
    assert [value for name, value in headers if name == "Set-Cookie"] == ["a=1", "b=2"]
    # A result without statusCode is the body, sent as 200 application/json.
    status, headers, raw = raw_request(api.aws_url("items/1?mode=bare"))
    assert status == 200 and json.loads(raw) == {"just": "json"}
    assert ("Content-Type", "application/json") in headers
    status, _headers, raw = raw_request(api.aws_url("items/1?mode=binary"))
    assert status == 200 and raw == b"\x89PNG\x00\xff"


def test_function_error_and_malformed_result_are_500_internal_server_error(api):
    for mode in ("raise", "malformed"):
        status, _headers, raw = raw_request(api.aws_url(f"items/1?mode={mode}"))
        assert status == 500, (mode, raw)
        assert json.loads(raw) == {"message": "Internal Server Error"}

"""An HTTP API's CorsConfiguration, as API Gateway applies it: preflights answered by the
gateway when no route takes them, the configured headers on every answer to an allowed origin,
the function's own CORS headers ignored. Built with boto3's apigatewayv2 client, over HTTP."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import LOCAL_RUNTIME, build_zip
from tests.emulator.support import allow_api, function_arn, json_body, raw_request, unique

APP = "http://app.example"
# Answers with CORS headers of its own, which a CORS-configured HTTP API must drop.
FUNCTION = '''
import json
def handler(event, context):
    method = event["requestContext"]["http"]["method"]
    return {"statusCode": 200, "body": json.dumps({"method": method}),
            "headers": {"Access-Control-Allow-Origin": "http://the-function-says.example",
                        "Access-Control-Max-Age": "1", "X-Trace": "t-1"}}
'''
CORS = {"AllowOrigins": [APP], "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["content-type", "x-token"], "ExposeHeaders": ["x-trace"],
        "MaxAge": 300, "AllowCredentials": True}


@dataclass(frozen=True)
class Apis:
    endpoint: str
    routed: str
    """CORS configured, one route: GET /items."""
    catch_all: str
    """CORS configured, a $default route that takes every request, preflights included."""
    plain: str
    """The same GET /items, no CORS configuration."""

    def call(self, api_id: str, method: str, path: str, headers: list[tuple[str, str]]):
        status, pairs, body = raw_request(f"{self.endpoint}/_aws/execute-api/{api_id}{path}",
                                          method, headers)
        return status, {k.lower(): v for k, v in pairs}, body


@pytest.fixture(scope="module")
def apis(harness_client, harness_endpoint, iam_role):
    lam = harness_client("lambda")
    name = unique("cors-fn")
    lam.create_function(FunctionName=name, Runtime=LOCAL_RUNTIME, Role=iam_role(),
                        Handler="app.handler", Code={"ZipFile": build_zip({"app.py": FUNCTION})})
    v2 = harness_client("apigatewayv2")

    def api(route_key: str, cors: dict | None) -> str:
        extra = {"CorsConfiguration": cors} if cors else {}
        api_id = v2.create_api(Name=unique("cors"), ProtocolType="HTTP", **extra)["ApiId"]
        target = "integrations/" + v2.create_integration(
            ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=function_arn(name),
            PayloadFormatVersion="2.0")["IntegrationId"]
        v2.create_route(ApiId=api_id, RouteKey=route_key, Target=target)
        v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
        allow_api(lam, name, api_id)
        return api_id

    made = Apis(harness_endpoint, api("GET /items", CORS), api("$default", CORS),
                api("GET /items", None))
    yield made
    for api_id in (made.routed, made.catch_all, made.plain):
        v2.delete_api(ApiId=api_id)
    lam.delete_function(FunctionName=name)


def preflight(origin: str) -> list[tuple[str, str]]:
    return [("Origin", origin), ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type")]


def cors_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.startswith("access-control-")}


def test_the_gateway_answers_a_preflight_no_route_takes(apis):
    status, headers, body = apis.call(apis.routed, "OPTIONS", "/items", preflight(APP))
    assert (status, body) == (204, b"")
    assert cors_headers(headers) == {
        "access-control-allow-origin": APP,
        "access-control-allow-methods": "GET,POST",
        "access-control-allow-headers": "content-type,x-token",
        "access-control-max-age": "300",
        "access-control-allow-credentials": "true",
    }


def test_a_preflight_from_another_origin_gets_no_cors_headers(apis):
    status, headers, _ = apis.call(apis.routed, "OPTIONS", "/items",
                                   preflight("http://evil.example"))
    assert status == 204
    assert cors_headers(headers) == {}


def test_an_allowed_origin_gets_the_configured_headers_instead_of_the_functions(apis):
    status, headers, body = apis.call(apis.routed, "GET", "/items", [("Origin", APP)])
    assert status == 200
    assert json_body(body) == {"method": "GET"}
    assert headers["x-trace"] == "t-1"
    assert cors_headers(headers) == {
        "access-control-allow-origin": APP,
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "x-trace",
    }


@pytest.mark.parametrize("headers", [[("Origin", "http://evil.example")], []])
def test_another_origin_or_none_is_served_without_cors_headers(apis, headers):
    status, answer, body = apis.call(apis.routed, "GET", "/items", headers)
    assert status == 200
    assert json_body(body) == {"method": "GET"}
    assert cors_headers(answer) == {}


def test_a_default_route_takes_the_preflight_and_gets_the_configured_headers(apis):
    status, headers, body = apis.call(apis.catch_all, "OPTIONS", "/anything", preflight(APP))
    assert status == 200
    assert json_body(body) == {"method": "OPTIONS"}  # the function ran
    assert headers["access-control-allow-origin"] == APP
    assert "access-control-max-age" not in headers


def test_without_a_cors_configuration_the_functions_headers_pass_and_preflight_is_404(apis):
    status, headers, _ = apis.call(apis.plain, "GET", "/items", [("Origin", APP)])
    assert status == 200
    assert cors_headers(headers) == {
        "access-control-allow-origin": "http://the-function-says.example",
        "access-control-max-age": "1",
    }
    status, _, body = apis.call(apis.plain, "OPTIONS", "/items", preflight(APP))
    assert (status, json_body(body)) == (404, {"message": "Not Found"})

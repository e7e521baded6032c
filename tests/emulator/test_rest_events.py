"""A REST API's Lambda proxy end to end: the 1.0 event a real function receives, and how its
proxy result becomes the HTTP response. Over HTTP, against awslambdaric processes."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
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
    rest_api,
    unique,
)

BINARY = "application/octet-stream"


@dataclass(frozen=True)
class Api:
    base: str
    """``{endpoint}/_aws/execute-api/{api}/test``"""
    function: str


@pytest.fixture(scope="module")
def api(harness_client, harness_endpoint, iam_role) -> Api:
    lam = harness_client("lambda")
    name = unique("echo")
    lam.create_function(FunctionName=name, Runtime=LOCAL_RUNTIME, Role=iam_role(),
                        Handler="app.handler", Code={"ZipFile": build_zip({"app.py": ECHO})})
    # The function comes from a stage variable, as a staged API would pick it.
    uri = lambda_uri(function_arn("${stageVariables.fn}"))
    api_id = rest_api(harness_client("apigateway"), uri,
                      [("/items/{id}", "GET"), ("/files/{proxy+}", "ANY")],
                      variables={"fn": name, "color": "blue"}, binary_media_types=[BINARY])
    allow_api(lam, name, api_id)
    yield Api(f"{harness_endpoint}/_aws/execute-api/{api_id}/test", name)
    lam.delete_function(FunctionName=name)


def event_of(raw: bytes) -> dict:
    return json_body(raw)["event"]


def test_rest_event_carries_every_field(api):
    before = int(time.time() * 1000)
    status, _headers, raw = raw_request(
        f"{api.base}/items/42?tag=a&tag=b&one=1",
        headers=[("X-Multi", "first"), ("X-Multi", "second"), ("User-Agent", "rest-test")])
    assert status == 200, raw
    event = event_of(raw)
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "GET"
    assert event["headers"]["X-Multi"] == "second"  # the last value wins
    assert event["multiValueHeaders"]["X-Multi"] == ["first", "second"]
    assert event["headers"]["User-Agent"] == "rest-test"
    assert event["queryStringParameters"] == {"tag": "b", "one": "1"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "one": ["1"]}
    assert event["pathParameters"] == {"id": "42"}
    assert event["stageVariables"] == {"fn": api.function, "color": "blue"}
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    uuid.UUID(context["requestId"])
    assert context["stage"] == "test"
    assert context["resourcePath"] == "/items/{id}"
    assert context["httpMethod"] == "GET"
    assert context["path"] == "/test/items/42"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "rest-test"
    assert before <= context["requestTimeEpoch"] <= int(time.time() * 1000)


def test_each_request_gets_its_own_request_id(api):
    ids = {event_of(raw_request(f"{api.base}/items/1")[2])["requestContext"]["requestId"]
           for _ in range(2)}
    assert len(ids) == 2


def test_binary_body_reaches_the_function_base64_encoded(api):
    payload = bytes(range(256))
    status, _headers, raw = raw_request(f"{api.base}/files/a/b.bin", "POST",
                                        [("Content-Type", BINARY)], payload)
    assert status == 200, raw
    event = event_of(raw)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload
    assert event["resource"] == "/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b.bin"}
    assert event["httpMethod"] == "POST"  # through the ANY method


def test_text_body_reaches_the_function_as_text(api):
    status, _headers, raw = raw_request(f"{api.base}/files/doc", "PUT",
                                        [("Content-Type", "application/json")], b'{"a": 1}')
    assert status == 200, raw
    event = event_of(raw)
    assert event["body"] == '{"a": 1}' and event["isBase64Encoded"] is False
    assert event["httpMethod"] == "PUT"


def test_proxy_result_status_headers_and_multi_value_headers(api):
    status, headers, raw = raw_request(f"{api.base}/items/1?mode=multi")
    assert status == 201
    assert raw == b"made"
    assert ("X-One", "1") in headers
    assert [value for name, value in headers if name == "X-Many"] == ["a", "b"]


def test_base64_result_is_decoded_when_accept_names_a_binary_media_type(api):
    status, headers, raw = raw_request(f"{api.base}/items/1?mode=binary",
                                       headers=[("Accept", BINARY)])
    assert status == 200
    assert raw == b"\x89PNG\x00\xff"
    # Without such an Accept, API Gateway passes the base64 text through.
    status, _headers, raw = raw_request(f"{api.base}/items/1?mode=binary",
                                        headers=[("Accept", "application/json")])
    assert status == 200
    assert base64.b64decode(raw) == b"\x89PNG\x00\xff"


def test_malformed_proxy_result_is_502_and_the_harness_says_why(api, caplog):
    caplog.set_level(logging.WARNING, logger="harness.apigw")
    status, _headers, raw = raw_request(f"{api.base}/items/1?mode=malformed")
    assert status == 502
    assert json.loads(raw) == {"message": "Internal server error"}
    reasons = [r.getMessage() for r in caplog.records if r.name == "harness.apigw"]
    assert any("malformed Lambda proxy response" in r and "body is a dict" in r
               for r in reasons), reasons


def test_function_error_is_502_internal_server_error(api):
    status, _headers, raw = raw_request(f"{api.base}/items/1?mode=raise")
    assert status == 502
    assert json.loads(raw) == {"message": "Internal server error"}


def test_unknown_method_on_a_resource_is_missing_authentication_token(api):
    status, _headers, raw = raw_request(f"{api.base}/items/1", "DELETE")
    assert status == 403
    assert json.loads(raw) == {"message": "Missing Authentication Token"}

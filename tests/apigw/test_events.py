"""The Lambda proxy events (payload 1.0 and 2.0) built from requests."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.apigw.events import (
    build_http_api_event,
    build_rest_event,
    format_request_time,
)
from harness.apigw.routing import Route, match_route
from harness.http import HttpRequest

NOW_MS = 1_795_000_000_123  # a fixed instant
PROXY = Route("res123", "/{proxy+}", frozenset({"ANY"}))
ITEM = Route("res456", "/items/{id}", frozenset({"GET"}))


def request(method: str = "GET", path: str = "/prod/x", query: str = "",
            headers: tuple[tuple[str, str], ...] = (), body: bytes = b"") -> HttpRequest:
    return HttpRequest(method, path, query, headers, body, "203.0.113.9")


def rest_event(req: HttpRequest, target_path: str = "/x", route: Route = PROXY,
               **overrides: Any) -> dict[str, Any]:
    found = match_route([route], req.method, target_path)
    assert found is not None
    kwargs: dict[str, Any] = dict(
        target_path=target_path, match=found, stage="prod", stage_variables=None,
        api_id="abc123", account_id="123456789012", request_id="req-1",
        extended_request_id="ext-1", now_epoch_ms=NOW_MS,
    )
    kwargs.update(overrides)
    return build_rest_event(req, **kwargs)


def http_event(req: HttpRequest, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = dict(
        target_path="/x", route_key="ANY /{proxy+}", stage="$default", stage_variables=None,
        path_parameters={"proxy": "x"}, api_id="abc123", account_id="123456789012",
        request_id="req-1", now_epoch_ms=NOW_MS,
    )
    kwargs.update(overrides)
    return build_http_api_event(req, **kwargs)


# --- REST events (payload 1.0) -----------------------------------------------------------------

REST_KEYS = {"resource", "path", "httpMethod", "headers", "multiValueHeaders",
             "queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
             "stageVariables", "requestContext", "body", "isBase64Encoded"}


def test_rest_event_has_every_documented_key() -> None:
    event = rest_event(request())
    assert set(event) == REST_KEYS
    assert set(event["requestContext"]) == {
        "accountId", "apiId", "domainName", "domainPrefix", "extendedRequestId", "httpMethod",
        "identity", "path", "protocol", "requestId", "requestTime", "requestTimeEpoch",
        "resourceId", "resourcePath", "stage"}


def test_rest_event_resource_path_and_method() -> None:
    req = request("GET", headers=(("Host", "abc123.execute-api.localhost:4566"),))
    event = rest_event(req, "/items/42", ITEM)
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "42"}
    context = event["requestContext"]
    assert context["resourcePath"] == "/items/{id}"
    assert context["resourceId"] == "res456"
    assert context["path"] == "/prod/items/42"
    assert context["stage"] == "prod"
    assert context["httpMethod"] == "GET"
    assert context["protocol"] == "HTTP/1.1"
    assert (context["accountId"], context["apiId"]) == ("123456789012", "abc123")
    assert (context["requestId"], context["extendedRequestId"]) == ("req-1", "ext-1")


def test_rest_event_concrete_method_under_any() -> None:
    event = rest_event(request("DELETE"), "/a/b")
    assert event["httpMethod"] == "DELETE"
    assert event["requestContext"]["httpMethod"] == "DELETE"
    assert event["pathParameters"] == {"proxy": "a/b"}


def test_rest_event_trailing_slash_kept_in_path() -> None:
    event = rest_event(request(), "/proxy-value/")
    assert event["path"] == "/proxy-value/"
    assert event["requestContext"]["path"] == "/prod/proxy-value/"
    assert event["pathParameters"] == {"proxy": "proxy-value"}


def test_rest_event_leading_slashes_collapse_in_path_only() -> None:
    event = rest_event(request(), "//proxy-value")
    assert event["path"] == "/proxy-value"
    assert event["requestContext"]["path"] == "/prod//proxy-value"


def test_rest_event_empty_members_are_none() -> None:
    event = rest_event(HttpRequest("GET", "/prod/x"), "/items/1", ITEM, stage_variables={})
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    root = Route("r", "/", frozenset({"GET"}))
    assert rest_event(request(), "/", root)["pathParameters"] is None


def test_rest_event_stage_variables() -> None:
    event = rest_event(request(), stage_variables={"alias": "live"})
    assert event["stageVariables"] == {"alias": "live"}


def test_rest_event_headers_last_wins_and_multi_keeps_all() -> None:
    req = request(headers=(("Accept", "a/b"), ("X-Tag", "one"), ("x-tag", "two"),
                           ("tEsT-HEADeR", "aValUE")))
    event = rest_event(req)
    assert event["headers"]["X-Tag"] == "two"
    assert event["multiValueHeaders"]["X-Tag"] == ["one", "two"]
    assert event["headers"]["tEsT-HEADeR"] == "aValUE"  # the client's spelling is kept
    assert "x-tag" not in event["headers"]


def test_rest_event_adds_forwarding_headers() -> None:
    event = rest_event(request(headers=(("Host", "abc.execute-api.localhost:4566"),)))
    assert event["headers"]["X-Forwarded-For"] == "203.0.113.9"
    assert event["headers"]["X-Forwarded-Port"] == "4566"
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert rest_event(request())["headers"]["X-Forwarded-Port"] == "80"


def test_rest_event_appends_client_to_existing_forwarded_for() -> None:
    req = request(headers=(("x-forwarded-for", "198.51.100.1"), ("X-Forwarded-Proto", "https")))
    event = rest_event(req)
    assert event["headers"]["X-Forwarded-For"] == "198.51.100.1, 203.0.113.9"
    assert event["multiValueHeaders"]["X-Forwarded-Proto"] == ["http"]
    assert "x-forwarded-for" not in event["headers"]


def test_rest_event_drops_connection_and_content_length() -> None:
    req = request("POST", headers=(("Connection", "keep-alive"), ("Content-Length", "2")),
                  body=b"{}")
    assert {"Connection", "Content-Length"}.isdisjoint(rest_event(req)["headers"])


def test_rest_event_query_parsing() -> None:
    query = "a=1&a=2&blank=&flag&plus=test+alias%40x&enc=%2B1&sp=foo%20bar"
    event = rest_event(request(query=query))
    assert event["queryStringParameters"] == {
        "a": "2", "blank": "", "flag": "", "plus": "test alias@x", "enc": "+1", "sp": "foo bar"}
    assert event["multiValueQueryStringParameters"]["a"] == ["1", "2"]
    assert event["multiValueQueryStringParameters"]["flag"] == [""]


def test_rest_event_identity() -> None:
    event = rest_event(request(headers=(("User-Agent", "python-requests/testing"),)))
    identity = event["requestContext"]["identity"]
    assert identity["sourceIp"] == "203.0.113.9"
    assert identity["userAgent"] == "python-requests/testing"
    others = {k: v for k, v in identity.items() if k not in ("sourceIp", "userAgent")}
    assert set(others) == {"accessKey", "accountId", "caller", "cognitoAuthenticationProvider",
                           "cognitoAuthenticationType", "cognitoIdentityId",
                           "cognitoIdentityPoolId", "principalOrgId", "user", "userArn"}
    assert set(others.values()) == {None}
    assert rest_event(request())["requestContext"]["identity"]["userAgent"] is None


@pytest.mark.parametrize(("host", "domain", "prefix"), [
    ("abc123.execute-api.localhost.localstack.cloud:4566",
     "abc123.execute-api.localhost.localstack.cloud", "abc123"),
    ("localhost:4566", "localhost", "localhost"),
    ("[::1]:4566", "[::1]", "[::1]"),
    (None, "abc123.execute-api.localhost.localstack.cloud", "abc123"),
])
def test_rest_event_domain_name_and_prefix(host: str | None, domain: str, prefix: str) -> None:
    headers = (("Host", host),) if host else ()
    context = rest_event(request(headers=headers))["requestContext"]
    assert (context["domainName"], context["domainPrefix"]) == (domain, prefix)


def test_rest_event_request_time() -> None:
    context = rest_event(request())["requestContext"]
    assert context["requestTimeEpoch"] == NOW_MS
    assert context["requestTime"] == format_request_time(NOW_MS)


def test_rest_event_text_body_travels_as_text() -> None:
    event = rest_event(request("POST", headers=(("Content-Type", "application/json"),),
                               body=b'{"a": "\xc3\xa9"}'))
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": "é"}', False)


def test_rest_event_binary_media_type_body_is_base64() -> None:
    req = request("POST", headers=(("Content-Type", "image/png"),), body=b"PNG text")
    event = rest_event(req, binary_media_types=("image/png",))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"PNG text"
    assert rest_event(req)["isBase64Encoded"] is False  # not a binary type for this API


def test_rest_event_non_utf8_body_is_base64_anyway() -> None:
    event = rest_event(request("POST", body=b"\xff\xfe\x00"))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe\x00"


HEADER_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True)
HEADER_VALUES = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)


@given(body=st.binary(max_size=200),
       headers=st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=6),
       query=st.text(max_size=30),
       content_type=st.sampled_from([None, "application/json", "image/png", "text/plain"]),
       binary=st.sampled_from([(), ("image/*",), ("*/*",)]))
def test_rest_event_is_json_and_body_round_trips(
    body: bytes, headers: list[tuple[str, str]], query: str, content_type: str | None,
    binary: tuple[str, ...],
) -> None:
    all_headers = tuple(headers) + ((("Content-Type", content_type),) if content_type else ())
    event = rest_event(request("POST", query=query, headers=all_headers, body=body),
                       binary_media_types=binary)
    decoded = json.loads(json.dumps(event))
    assert decoded == event
    if decoded["body"] is None:
        assert body == b""
    elif decoded["isBase64Encoded"]:
        assert base64.b64decode(decoded["body"]) == body
    else:
        assert decoded["body"].encode("utf-8") == body
    for name, value in decoded["headers"].items():
        assert decoded["multiValueHeaders"][name][-1] == value


# --- HTTP API events (payload 2.0) -------------------------------------------------------------


def test_http_event_shape() -> None:
    req = request("POST", query="a=1&a=2&b=x",
                  headers=(("Host", "abc123.execute-api.localhost:4566"), ("X-Two", "1"),
                           ("x-two", "2"), ("User-Agent", "ua"),
                           ("Content-Type", "application/json")), body=b'{"k": 1}')
    event = http_event(req)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /{proxy+}"
    assert event["rawPath"] == "/x"
    assert event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["headers"]["x-two"] == "1,2"
    assert event["headers"]["user-agent"] == "ua"
    assert all(name == name.lower() for name in event["headers"])
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["pathParameters"] == {"proxy": "x"}
    assert (event["body"], event["isBase64Encoded"]) == ('{"k": 1}', False)
    context = event["requestContext"]
    assert context["http"] == {"method": "POST", "path": "/x", "protocol": "HTTP/1.1",
                               "sourceIp": "203.0.113.9", "userAgent": "ua"}
    assert (context["routeKey"], context["stage"]) == ("ANY /{proxy+}", "$default")
    assert (context["domainName"], context["domainPrefix"]) == (
        "abc123.execute-api.localhost", "abc123")
    assert (context["time"], context["timeEpoch"]) == (format_request_time(NOW_MS), NOW_MS)
    assert (context["accountId"], context["apiId"], context["requestId"]) == (
        "123456789012", "abc123", "req-1")


def test_http_event_named_stage_is_in_raw_path() -> None:
    event = http_event(request(), stage="dev", target_path="/items/1")
    assert event["rawPath"] == "/dev/items/1"
    assert event["requestContext"]["http"]["path"] == "/dev/items/1"
    assert event["requestContext"]["stage"] == "dev"


def test_http_event_cookies_leave_the_headers() -> None:
    req = request(headers=(("Cookie", "a=1; b=2"), ("cookie", "c=3")))
    event = http_event(req)
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in event["headers"]


def test_http_event_leaves_out_empty_members() -> None:
    event = http_event(HttpRequest("GET", "/x"), path_parameters=None)
    for key in ("cookies", "queryStringParameters", "pathParameters", "body", "stageVariables"):
        assert key not in event
    assert event["isBase64Encoded"] is False
    assert event["rawQueryString"] == ""
    assert event["headers"] == {}


def test_http_event_stage_variables() -> None:
    assert http_event(request(), stage_variables={"a": "b"})["stageVariables"] == {"a": "b"}


@pytest.mark.parametrize(("content_type", "encoded"), [
    ("text/plain", False), ("text/html; charset=utf-8", False), ("application/json", False),
    ("application/problem+json", False), ("application/xml", False),
    ("application/octet-stream", True), ("image/png", True),
    ("application/x-www-form-urlencoded", True), (None, True),
])
def test_http_event_body_encoding_by_content_type(content_type: str | None, encoded: bool) -> None:
    headers = (("Content-Type", content_type),) if content_type else ()
    event = http_event(request("POST", headers=headers, body=b"my test body"))
    assert event["isBase64Encoded"] is encoded
    body = base64.b64decode(event["body"]) if encoded else event["body"].encode()
    assert body == b"my test body"


@given(body=st.binary(max_size=200), query=st.text(max_size=30),
       headers=st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=6))
def test_http_event_is_json_and_body_round_trips(
    body: bytes, query: str, headers: list[tuple[str, str]]
) -> None:
    event = http_event(request("PUT", query=query, headers=tuple(headers), body=body))
    decoded = json.loads(json.dumps(event))
    if "body" not in decoded:
        assert body == b""
    elif decoded["isBase64Encoded"]:
        assert base64.b64decode(decoded["body"]) == body
    else:
        assert decoded["body"].encode("utf-8") == body


# --- request time --------------------------------------------------------------------------------


def test_request_time_format_matches_aws_example() -> None:
    assert format_request_time(1519166937665) == "20/Feb/2018:22:48:57 +0000"


@given(st.integers(min_value=0, max_value=4_102_444_800_000))
def test_request_time_is_utc_clf(epoch_ms: int) -> None:
    moment = datetime.datetime.fromtimestamp(epoch_ms // 1000, tz=datetime.UTC)
    month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec"][moment.month - 1]
    assert format_request_time(epoch_ms) == (
        f"{moment.day:02d}/{month}/{moment.year}:{moment:%H:%M:%S} +0000")

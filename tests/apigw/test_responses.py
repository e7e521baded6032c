"""Proxy results mapped to HTTP responses, and the gateway's own error responses."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.apigw import events, responses
from harness.apigw.responses import (
    MalformedProxyResponse,
    map_http_api_response,
    map_rest_response,
    media_type_matches,
)
from harness.errors import HarnessError
from harness.http import HttpResponse

HEADER_VALUES = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)


def header(response: HttpResponse, name: str) -> list[str]:
    return [v for k, v in response.headers if k.lower() == name.lower()]


# --- media types ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "patterns", "expected"), [
    ("image/png", ["image/png"], True),
    ("IMAGE/PNG; q=1", ["image/png"], True),
    ("image/png", ["image/*"], True),
    ("image/png", ["*/*"], True),
    ("image/png", ["image~1png"], True),
    ("image/png, text/html", ["text/html"], False),
    ("text/html, image/png", ["text/html"], True),
    ("text/html", ["image/*"], False),
    (None, ["*/*"], False),
    ("", ["*/*"], False),
    ("image/png", [], False),
])
def test_media_type_matches(value: str | None, patterns: list[str], expected: bool) -> None:
    assert media_type_matches(value, patterns) is expected


# --- REST results ------------------------------------------------------------------------------


def rest(result: Any, **kwargs: Any) -> HttpResponse:
    return map_rest_response(json.dumps(result).encode(), **kwargs)


def test_rest_result_basic() -> None:
    response = rest({"statusCode": 201, "headers": {"X-A": "1", "Content-Type": "text/plain"},
                     "body": "created", "isBase64Encoded": False})
    assert response.status == 201
    assert header(response, "X-A") == ["1"]
    assert header(response, "content-type") == ["text/plain"]
    assert response.body == b"created"


@pytest.mark.parametrize("result", [{"statusCode": 200}, {}, {"headers": {"t": "v"}},
                                    {"statusCode": 200, "body": None, "headers": None,
                                     "multiValueHeaders": None, "isBase64Encoded": None}])
def test_rest_result_optional_members(result: dict[str, Any]) -> None:
    response = rest(result)
    assert (response.status, response.body) == (200, b"")
    assert header(response, "Content-Type") == ["application/json"]


def test_rest_result_numeric_string_status() -> None:
    assert rest({"statusCode": "201"}).status == 201


def test_rest_result_boolean_header_values() -> None:
    response = rest({"headers": {"header-bool": True, "no": False},
                     "multiValueHeaders": {"m": [True]}})
    assert header(response, "header-bool") == ["true"]
    assert header(response, "no") == ["false"]
    assert header(response, "m") == ["true"]


def test_rest_result_multi_value_headers() -> None:
    response = rest({"multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}})
    assert header(response, "Set-Cookie") == ["a=1", "b=2"]


def test_rest_result_merges_headers_and_multi_value_headers() -> None:
    response = rest({"multiValueHeaders": {"tesT-Multi": ["value-multi"]},
                     "headers": {"test-multi": "value-solo", "other": "x"}})
    assert [(k, v) for k, v in response.headers if k.lower() == "test-multi"] == [
        ("tesT-Multi", "value-multi"), ("tesT-Multi", "value-solo")]
    assert header(response, "other") == ["x"]


def test_rest_result_same_pair_in_both_is_sent_once() -> None:
    response = rest({"multiValueHeaders": {"X": ["1", "2"]}, "headers": {"x": "1"}})
    assert header(response, "x") == ["1", "2"]


def test_rest_result_base64_body_is_decoded_by_default() -> None:
    response = rest({"body": base64.b64encode(b"\x89PNG").decode(), "isBase64Encoded": True,
                     "headers": {"Content-Type": "image/png"}})
    assert response.body == b"\x89PNG"


def test_rest_result_base64_decoded_only_for_matching_accept() -> None:
    result = {"body": base64.b64encode(b"test-data").decode(), "isBase64Encoded": True}
    assert rest(result, binary_media_types=["image/png"], accept="image/png").body == b"test-data"
    assert rest(result, binary_media_types=["*/*"], accept="text/html").body == b"test-data"
    assert rest(result, binary_media_types=[], accept="image/png").body == b"dGVzdC1kYXRh"
    assert rest(result, binary_media_types=["image/png"], accept=None).body == b"dGVzdC1kYXRh"


def test_rest_result_invalid_base64_is_a_500() -> None:
    with pytest.raises(MalformedProxyResponse) as caught:
        rest({"body": "not base64!", "isBase64Encoded": True})
    assert caught.value.status == 500


def test_rest_result_invalid_base64_passes_when_not_decoded() -> None:
    result = {"body": "not base64!", "isBase64Encoded": True}
    assert rest(result, binary_media_types=[], accept="x/y").body == b"not base64!"


def test_rest_result_utf8_body() -> None:
    assert rest({"body": "héllo ✓"}).body == "héllo ✓".encode()


@pytest.mark.parametrize(("payload", "why"), [
    (b"not json", "not JSON"),
    (b"", "not JSON"),
    (b"\xff", "not JSON"),
    (b'"justAString"', "JSON object"),
    (b"[]", "JSON object"),
    (b"null", "JSON object"),
    (b"42", "JSON object"),
    (b'{"statusCode": 200, "wrongValue": "value"}', "wrongValue"),
    (b'{"statusCode": 200, "cookies": ["a=1"]}', "cookies"),
    (b'{"statusCode": 200, "errorMessage": "boom"}', "errorMessage"),
    (b'{"statusCode": "test"}', "statusCode"),
    (b'{"statusCode": "20x"}', "statusCode"),
    (b'{"statusCode": true}', "statusCode"),
    (b'{"statusCode": 200.5}', "statusCode"),
    (b'{"statusCode": [200]}', "statusCode"),
    (b'{"statusCode": 99}', "statusCode"),
    (b'{"statusCode": 100}', "interim"),
    (b'{"statusCode": "101"}', "interim"),
    (b'{"statusCode": 600}', "statusCode"),
    (b'{"statusCode": -1}', "statusCode"),
    (b'{"body": {"a": 1}}', "body"),
    (b'{"body": 5}', "body"),
    (b'{"headers": "x"}', "headers"),
    (b'{"headers": ["x"]}', "headers"),
    (b'{"headers": {"a": 1}}', "header value"),
    (b'{"headers": {"a": null}}', "header value"),
    (b'{"headers": {"a": ["x"]}}', "header value"),
    (b'{"multiValueHeaders": {"test-multi-invalid": "value1"}}', "not a list"),
    (b'{"multiValueHeaders": {"a": [1]}}', "header value"),
    (b'{"multiValueHeaders": []}', "multiValueHeaders"),
    (b'{"isBase64Encoded": "true"}', "isBase64Encoded"),
])
def test_rest_result_malformed_is_a_502(payload: bytes, why: str) -> None:
    with pytest.raises(MalformedProxyResponse) as caught:
        map_rest_response(payload)
    assert caught.value.status == 502
    assert why in caught.value.reason
    assert isinstance(caught.value, HarnessError)
    assert caught.value.message.startswith("Malformed Lambda proxy response: ")


TOKEN_HEADERS = st.dictionaries(
    st.from_regex(r"X-[A-Za-z0-9]{1,10}", fullmatch=True), HEADER_VALUES, max_size=5,
).filter(lambda headers: len({name.lower() for name in headers}) == len(headers))  # X-E, X-e


@given(status=st.integers(200, 599), headers=TOKEN_HEADERS,
       body=st.text(st.characters(codec="utf-8"), max_size=100),
       as_string=st.booleans())
def test_rest_result_round_trips(status: int, headers: dict[str, str], body: str,
                                 as_string: bool) -> None:
    result = {"statusCode": str(status) if as_string else status, "headers": headers,
              "body": body}
    response = rest(result)
    assert response.status == status
    assert response.body == body.encode("utf-8")
    for name, value in headers.items():
        assert header(response, name) == [value]


@given(data=st.binary(max_size=100))
def test_rest_result_base64_round_trips(data: bytes) -> None:
    response = rest({"body": base64.b64encode(data).decode(), "isBase64Encoded": True})
    assert response.body == data


# --- headers that could split the response (RFC 9110 5.1, 5.5) ---------------------------------

SPLITTERS = ["a\r\nX-Injected: yes", "a\nX-Injected: yes", "a\rb", "a\x00b", "a\x1bb", "a\x7f"]


@pytest.mark.parametrize("value", SPLITTERS)
@pytest.mark.parametrize("where", ["headers", "multiValueHeaders"])
def test_rest_result_header_value_with_a_control_character_is_a_502(value: str,
                                                                    where: str) -> None:
    result = {"headers": {"X-Bad": value}} if where == "headers" else {
        "multiValueHeaders": {"X-Bad": ["fine", value]}}
    with pytest.raises(MalformedProxyResponse) as caught:
        rest(result)
    assert caught.value.status == 502
    assert "'X-Bad'" in caught.value.reason and "control character" in caught.value.reason


@pytest.mark.parametrize("name", ["X A", "X:A", "X\r\nX-Injected: yes", "", "Ünïcode", "X/Y",
                                  "X\x00"])
def test_rest_result_header_name_that_is_not_a_token_is_a_502(name: str) -> None:
    for result in ({"headers": {name: "v"}}, {"multiValueHeaders": {name: ["v"]}}):
        with pytest.raises(MalformedProxyResponse) as caught:
            rest(result)
        assert caught.value.status == 502
        assert "not an RFC 9110 token" in caught.value.reason


@pytest.mark.parametrize("value", SPLITTERS)
def test_http_result_header_or_cookie_with_a_control_character_is_a_500(value: str) -> None:
    for result in ({"statusCode": 200, "headers": {"X-Bad": value}},
                   {"statusCode": 200, "cookies": ["ok=1", value]},
                   {"statusCode": 200, "headers": {value: "v"}}):
        with pytest.raises(MalformedProxyResponse) as caught:
            http(result)
        assert caught.value.status == 500


def test_non_ascii_header_values_go_out_as_utf8() -> None:
    # AWS does not document the encoding; the harness sends the UTF-8 bytes, handed to the
    # server as Latin-1 text (one character a byte).
    response = rest({"headers": {"X-Name": "Zoë 日本"}, "multiValueHeaders": {"X-M": ["é"]}})
    assert [v.encode("latin-1") for v in header(response, "X-Name")] == ["Zoë 日本".encode()]
    assert [v.encode("latin-1") for v in header(response, "X-M")] == ["é".encode()]
    cookies = http({"statusCode": 200, "cookies": ["name=Zoë"]})
    assert [v.encode("latin-1") for v in header(cookies, "Set-Cookie")] == [b"name=Zo\xc3\xab"]


def test_tabs_spaces_and_token_punctuation_are_valid() -> None:
    response = rest({"headers": {"X-!#$%&'*+.^_`|~": "a\tb c"}})
    assert header(response, "X-!#$%&'*+.^_`|~") == ["a\tb c"]


# --- HTTP API results (payload 2.0) --------------------------------------------------------------


def http(result: Any) -> HttpResponse:
    return map_http_api_response(json.dumps(result).encode())


def test_http_result_structured() -> None:
    response = http({"statusCode": 404, "headers": {"x": "1", "b": True}, "body": "missing",
                     "cookies": ["a=1; Path=/", "b=2"]})
    assert response.status == 404
    assert header(response, "x") == ["1"]
    assert header(response, "b") == ["true"]
    assert header(response, "Set-Cookie") == ["a=1; Path=/", "b=2"]
    assert response.body == b"missing"


def test_http_result_string_is_the_body() -> None:
    response = http("Hello from Lambda!")
    assert (response.status, response.body) == (200, b"Hello from Lambda!")
    assert header(response, "Content-Type") == ["application/json"]


@pytest.mark.parametrize("result", [{"message": "Hello from Lambda!"}, {}, [1, 2], None, 3.5,
                                    {"headers": {"test-header": "value"}}])
def test_http_result_without_status_code_is_json_body(result: Any) -> None:
    response = http(result)
    assert response.status == 200
    assert header(response, "Content-Type") == ["application/json"]
    assert json.loads(response.body) == result


def test_http_result_without_status_code_keeps_function_bytes() -> None:
    response = map_http_api_response(b'{ "message": "Hello from Lambda!" }\n')
    assert response.body == b'{ "message": "Hello from Lambda!" }'


def test_http_result_ignores_unknown_keys_and_status_string() -> None:
    response = http({"statusCode": "201", "wrongValue": "value"})
    assert (response.status, response.body) == (201, b"")


def test_http_result_base64() -> None:
    response = http({"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(),
                     "isBase64Encoded": True})
    assert response.body == b"\x00\x01"


@pytest.mark.parametrize("payload", [
    b"not json",
    b'{"statusCode": "test"}',
    b'{"statusCode": 200, "cookies": {"test-cookies-invalid": "value1"}}',
    b'{"statusCode": 200, "cookies": [1]}',
    b'{"statusCode": 200, "cookies": "a=1"}',
    b'{"statusCode": 200, "headers": {"a": 1}}',
    b'{"statusCode": 200, "body": {"a": 1}}',
    b'{"statusCode": 200, "body": "!!", "isBase64Encoded": true}',
    b'{"statusCode": 103}',
    b'{"errorMessage": "test fake error message"}',
])
def test_http_result_malformed_is_a_500(payload: bytes) -> None:
    with pytest.raises(MalformedProxyResponse) as caught:
        map_http_api_response(payload)
    assert caught.value.status == 500


# --- the gateway's own errors ------------------------------------------------------------------


@pytest.mark.parametrize(("make", "status", "message", "error_type"), [
    (responses.missing_authentication_token, 403, "Missing Authentication Token",
     "MissingAuthenticationTokenException"),
    (responses.internal_server_error, 502, "Internal server error", "InternalServerErrorException"),
    (responses.endpoint_timed_out, 504, "Endpoint request timed out",
     "InternalServerErrorException"),
    (responses.payload_too_large, 413, "Request Too Long", None),
    (responses.throttled, 429, "Too Many Requests", "TooManyRequestsException"),
])
def test_gateway_errors(make: Any, status: int, message: str, error_type: str | None) -> None:
    response = make()
    assert response.status == status
    assert json.loads(response.body) == {"message": message}
    assert header(response, "Content-Type") == ["application/json"]
    assert header(response, "x-amzn-ErrorType") == ([error_type] if error_type else [])


def test_internal_server_error_for_a_rejected_invocation_is_500() -> None:
    response = responses.internal_server_error(500)
    assert response.status == 500
    assert json.loads(response.body) == {"message": "Internal server error"}


def test_events_reexports_the_response_side() -> None:
    for name in events.__all__:
        assert hasattr(events, name), name
    assert events.map_rest_response is responses.map_rest_response
    assert events.MalformedProxyResponse is responses.MalformedProxyResponse

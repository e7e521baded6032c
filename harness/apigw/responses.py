"""What the gateway sends back: the function's proxy result mapped to HTTP, and its own errors.

REST APIs read the format 1.0 result
(https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-output-format),
HTTP APIs the 2.0 result
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html#http-api-develop-integrations-lambda.response).
Where the docs are silent we follow what LocalStack's AWS-validated snapshot test
``test_aws_proxy_response_payload_format_validation`` recorded against AWS, marked "AWS-recorded".
Where neither says anything (header names and values) RFC 9110 decides: a header that could split
the response makes the result malformed.
``harness.apigw.events`` re-exports every public name here.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from typing import Any

from harness.errors import HarnessError
from harness.http import HttpResponse
from harness.http_wire import control_problem, header_name_problem, utf8_as_latin1

Pair = tuple[str, str]
_RESULT_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
_JSON = ("Content-Type", "application/json")


class MalformedProxyResponse(HarnessError):
    """The function's result is not a proxy response the gateway accepts.

    ``status`` is what the gateway answers: 502 for REST APIs, 500 for HTTP APIs, and 500 when a
    base64 body does not decode (API_CONFIGURATION_ERROR,
    https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
    """

    def __init__(self, reason: str, *, status: int = 502) -> None:
        super().__init__(f"Malformed Lambda proxy response: {reason}")
        self.reason = reason
        self.status = status


class _Invalid(Exception):
    """A result fails validation; the public mappers attach the gateway's status."""


def map_rest_response(
    payload: bytes, *, binary_media_types: Sequence[str] | None = None, accept: str | None = None
) -> HttpResponse:
    """The HTTP response a REST API makes of its function's format 1.0 result.

    Raises ``MalformedProxyResponse`` (status 502) where AWS answers 502. A base64 body
    (``isBase64Encoded: true``) is decoded when ``binary_media_types`` is None (the harness
    default) or when the request's first Accept type is one of them; otherwise it is sent as the
    base64 text, as AWS does for an API without binary media types (AWS-recorded).
    """
    try:
        result = _load_json(payload)
        if not isinstance(result, dict):
            raise _Invalid(f"expected a JSON object, got {type(result).__name__}")
        # "If the function output is of a different format, API Gateway returns a 502 Bad
        # Gateway error response" (output-format section above); AWS-recorded: a key outside
        # the five is such a difference.
        unknown = sorted(set(result) - _RESULT_KEYS)
        if unknown:
            raise _Invalid(f"unknown key(s) {', '.join(unknown)}")
        status, body, encoded = _status_body_flag(result)
        headers = _wire_headers(_merge_headers(_header_map(result.get("headers")),
                                               _multi_header_map(result.get("multiValueHeaders"))))
    except _Invalid as invalid:
        raise MalformedProxyResponse(str(invalid), status=502) from None
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.insert(0, _JSON)  # AWS-recorded: a result without Content-Type is JSON
    # Binary responses need binaryMediaTypes and a matching Accept:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/lambda-proxy-binary-media.html
    if encoded and (binary_media_types is None or media_type_matches(accept, binary_media_types)):
        return HttpResponse(status, tuple(headers), _b64decode(body))
    return HttpResponse(status, tuple(headers), body.encode("utf-8"))


def map_http_api_response(payload: bytes) -> HttpResponse:
    """The HTTP response an HTTP API makes of its function's format 2.0 result.

    "If your Lambda function returns valid JSON and doesn't return a statusCode", the result is
    the body, sent as 200 application/json: a string as it is, anything else as its JSON text.
    Keys it does not know are ignored (AWS-recorded). Raises ``MalformedProxyResponse``
    (status 500) where AWS answers 500.
    """
    try:
        result = _load_json(payload)
        if isinstance(result, dict) and "errorMessage" in result and "statusCode" not in result:
            raise _Invalid("the result is a function error")  # AWS-recorded: 500
        if not isinstance(result, dict) or "statusCode" not in result:
            text = result if isinstance(result, str) else payload.decode("utf-8").strip()
            return HttpResponse(200, (_JSON,), text.encode("utf-8"))
        status, body, encoded = _status_body_flag(result)
        headers = list(_header_map(result.get("headers")).items())
        cookies = result.get("cookies")
        cookies = [] if cookies is None else cookies
        if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
            raise _Invalid("cookies is not a list of strings")  # AWS-recorded: 500
        # "In the response to the client, each cookie becomes a set-cookie header."
        headers = _wire_headers([*headers, *(("Set-Cookie", cookie) for cookie in cookies)])
    except _Invalid as invalid:
        raise MalformedProxyResponse(str(invalid), status=500) from None
    content = _b64decode(body) if encoded else body.encode("utf-8")
    return HttpResponse(status, tuple(headers), content)


def media_type_matches(content_type: str | None, patterns: Iterable[str]) -> bool:
    """Whether a Content-Type or Accept value names one of ``patterns`` (``image/*``, ``*/*``).

    Only the first Accept value counts: "API Gateway uses the first Accept header from clients
    to determine if a response should return binary media" (lambda-proxy-binary-media page).
    ``~1`` is read as ``/``, the escaped form binaryMediaTypes take in patch operations.
    """
    if not content_type:
        return False
    kind = content_type.split(",", 1)[0].split(";", 1)[0].strip().lower()
    major, _, minor = kind.partition("/")
    for pattern in patterns:
        want = pattern.replace("~1", "/").split(";", 1)[0].strip().lower()
        want_major, _, want_minor = want.partition("/")
        if want_major in ("*", major) and want_minor in ("*", minor):
            return True
    return False


def _load_json(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Invalid(f"not JSON ({exc})") from None


def _status_body_flag(result: dict[str, Any]) -> tuple[int, str, bool]:
    # The docs call statusCode "an integer"; AWS-recorded: a missing one is 200 and a numeric
    # string ("201") is accepted, anything else ("test") fails. A body must be a string.
    value = result.get("statusCode", 200)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 100 <= value <= 599:
        raise _Invalid(f"statusCode {value!r} is not an HTTP status code")
    if value < 200:  # sent as the answer, an interim status would leave the client waiting
        raise _Invalid(f"statusCode {value} is an interim (1xx) status, not a final one")
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise _Invalid(f"body is a {type(body).__name__}, not a string")
    encoded = result.get("isBase64Encoded")
    if encoded is not None and not isinstance(encoded, bool):
        raise _Invalid(f"isBase64Encoded is {encoded!r}, not a boolean")
    return value, body or "", bool(encoded)


def _header_value(value: Any) -> str:
    # AWS-recorded: a boolean header value is sent as true/false; other non-strings fail.
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        raise _Invalid(f"header value {value!r} is not a string")
    return value


def _header_map(value: Any) -> dict[str, str]:
    if value is not None and not isinstance(value, dict):
        raise _Invalid("headers is not an object")
    return {str(k): _header_value(v) for k, v in (value or {}).items()}


def _multi_header_map(value: Any) -> dict[str, list[str]]:
    if value is not None and not isinstance(value, dict):
        raise _Invalid("multiValueHeaders is not an object")
    merged: dict[str, list[str]] = {}
    for name, values in (value or {}).items():
        if not isinstance(values, list):  # AWS-recorded: a bare string is a 502
            raise _Invalid(f"multiValueHeaders[{name!r}] is not a list")
        merged[str(name)] = [_header_value(v) for v in values]
    return merged


def _merge_headers(single: dict[str, str], multi: dict[str, list[str]]) -> list[Pair]:
    # "If the same key-value pair is specified in both, only the values from multiValueHeaders
    # will appear in the merged list": an identical pair is sent once; a different value under
    # the same name is sent too, after the multi values and under their spelling (AWS-recorded).
    merged = [(name, value) for name, values in multi.items() for value in values]
    for name, value in single.items():
        if not any(k.lower() == name.lower() and v == value for k, v in merged):
            spelling = next((k for k, _ in merged if k.lower() == name.lower()), name)
            merged.append((spelling, value))
    return merged


def _wire_headers(headers: list[Pair]) -> list[Pair]:
    """The headers as the server is to send them, or ``_Invalid`` naming the first that cannot.

    AWS documents no rule beyond "headers"; RFC 9110's are applied (5.1, 5.5): a name is a token,
    and a value holds no control character, as a CR or LF would split the response. Non-ASCII
    text is sent as UTF-8 (a function's JSON is Unicode; AWS's encoding is undocumented), handed
    to the server as Latin-1 text (``harness.http_wire``).
    """
    wired: list[Pair] = []
    for name, value in headers:
        problem = header_name_problem(name)
        if problem is None and (control := control_problem(value)) is not None:
            problem = f"header {name!r} value {value!r:.80} {control}"
        if problem is not None:
            raise _Invalid(problem)
        wired.append((name, utf8_as_latin1(value)))
    return wired


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        # API_CONFIGURATION_ERROR: "when base64 decoding fails on binary data", 500.
        raise MalformedProxyResponse("body is not valid base64", status=500) from None


# --- the gateway's own error responses ----------------------------------------------------------
# Default status codes: https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
# x-amzn-ErrorType values as LocalStack's AWS-validated gateway responses send them.


def _gateway_error(status: int, body: str, error_type: str | None) -> HttpResponse:
    headers: tuple[Pair, ...] = (_JSON,)
    if error_type:
        headers += (("x-amzn-ErrorType", error_type),)
    return HttpResponse(status, headers, body.encode("utf-8"))


def missing_authentication_token() -> HttpResponse:
    """403 MISSING_AUTHENTICATION_TOKEN: "when the client attempts to invoke an unsupported API
    method or resource" (the table above): no resource, or no such method on it."""
    body = '{"message":"Missing Authentication Token"}'
    return _gateway_error(403, body, "MissingAuthenticationTokenException")


def internal_server_error(status: int = 502) -> HttpResponse:
    """502 when the function fails or its result is malformed; 500 when Lambda rejects the
    invocation, throttling included. "In both cases, the body ... is {"message": "Internal
    server error"}" (https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html).
    """
    body = '{"message": "Internal server error"}'
    return _gateway_error(status, body, "InternalServerErrorException")


def endpoint_timed_out() -> HttpResponse:
    """504 INTEGRATION_TIMEOUT: the integration ran past the 29 s limit."""
    body = '{"message": "Endpoint request timed out"}'
    return _gateway_error(504, body, "InternalServerErrorException")


def payload_too_large() -> HttpResponse:
    """413 REQUEST_TOO_LARGE: a request body over 10 MB.

    The status is documented; the message text is unverified against AWS, and no error-type
    header is sent because we know of none.
    """
    return _gateway_error(413, '{"message":"Request Too Long"}', None)


def throttled() -> HttpResponse:
    """429 THROTTLED: the gateway's own stage or usage-plan throttle.

    Not for a throttled Lambda: "If the Lambda API rejects the invocation request, API Gateway
    returns a 500" (services-apigateway-errors page), i.e. ``internal_server_error(500)``.
    """
    return _gateway_error(429, '{"message":"Too Many Requests"}', "TooManyRequestsException")


# --- HTTP APIs (apigatewayv2) answer in their own words -----------------------------------------


def not_found() -> HttpResponse:
    """404 from an HTTP API: no stage or no route matches ("the API returns
    {"message":"Not Found"}": https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html)."""
    return _gateway_error(404, '{"message":"Not Found"}', None)


def http_api_internal_error() -> HttpResponse:
    """500 from an HTTP API whose Lambda integration failed, was refused or answered something
    it cannot map: {"message":"Internal Server Error"}
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html)."""
    return _gateway_error(500, '{"message":"Internal Server Error"}', None)


def http_api_service_unavailable() -> HttpResponse:
    """503 from an HTTP API whose integration ran past its timeout (30 s at most:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
    The status and body are what users report seeing; AWS's pages do not spell them out."""
    return _gateway_error(503, '{"message":"Service Unavailable"}', None)

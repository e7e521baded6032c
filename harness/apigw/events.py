"""The Lambda proxy events API Gateway sends, built from a request; pure functions.

REST APIs send payload format 1.0
(https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format),
HTTP APIs can send 2.0
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
Where the docs are silent we follow events LocalStack's AWS-validated snapshot test
``test_lambda_aws_proxy_integration`` recorded against AWS, marked "AWS-recorded".

The other direction (proxy result to HTTP response, the gateway's own errors) lives in
``harness.apigw.responses``; its public names are re-exported here so one module serves both.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from harness.apigw.responses import (
    MalformedProxyResponse,
    endpoint_timed_out,
    http_api_internal_error,
    http_api_service_unavailable,
    internal_server_error,
    map_http_api_response,
    map_rest_response,
    media_type_matches,
    missing_authentication_token,
    not_found,
    payload_too_large,
    throttled,
)
from harness.apigw.routing import RouteMatch
from harness.http import HttpRequest

__all__ = [
    "MalformedProxyResponse",
    "build_http_api_event",
    "build_rest_event",
    "endpoint_timed_out",
    "format_request_time",
    "http_api_internal_error",
    "http_api_service_unavailable",
    "internal_server_error",
    "map_http_api_response",
    "map_rest_response",
    "media_type_matches",
    "missing_authentication_token",
    "not_found",
    "payload_too_large",
    "throttled",
]

Pair = tuple[str, str]
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Every identity field of the documented example; without an authorizer only two have values.
_IDENTITY_KEYS = (
    "accessKey", "accountId", "caller", "cognitoAuthenticationProvider",
    "cognitoAuthenticationType", "cognitoIdentityId", "cognitoIdentityPoolId", "principalOrgId",
    "sourceIp", "user", "userAgent", "userArn",
)
# The documented example event for a POST has neither, and AWS-recorded REST events lack both.
_REST_DROPPED = frozenset({"connection", "content-length"})
_FORWARDED = frozenset({"x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"})
_V2_DROPPED = frozenset({"cookie", "connection"})
_V2_OPTIONAL = frozenset(
    {"cookies", "queryStringParameters", "pathParameters", "body", "stageVariables"}
)
_TEXT_TYPES = frozenset({"application/json", "application/javascript", "application/xml"})


def build_rest_event(
    request: HttpRequest, *, target_path: str, match: RouteMatch, stage: str,
    stage_variables: Mapping[str, str] | None, api_id: str, account_id: str, request_id: str,
    extended_request_id: str, now_epoch_ms: int, binary_media_types: Sequence[str] = (),
) -> dict[str, Any]:
    """The payload format 1.0 event a REST API sends its Lambda proxy integration."""
    single, multi = _group_headers(_forwarded(request))
    query = _query(request)
    body, encoded = _encode_body(request, binary_media_types)
    context = _common_context(request, api_id, account_id, request_id) | {
        "extendedRequestId": extended_request_id,
        "httpMethod": request.method,
        "identity": _identity(request),
        "path": f"/{stage}{target_path}",
        "protocol": "HTTP/1.1",
        "requestTime": format_request_time(now_epoch_ms),
        "requestTimeEpoch": now_epoch_ms,
        "resourceId": match.route.resource_id,
        "resourcePath": match.route.path,
        "stage": stage,
    }
    return {
        "resource": match.route.path,
        # AWS-recorded: leading slashes collapse in `path` but not in requestContext.path.
        "path": "/" + target_path.lstrip("/"),
        "httpMethod": request.method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": dict(query) or None,  # the last value wins
        "multiValueQueryStringParameters": _multi(query) or None,
        "pathParameters": match.path_parameters or None,
        "stageVariables": dict(stage_variables) if stage_variables else None,
        "requestContext": dict(sorted(context.items())),
        "body": body,
        "isBase64Encoded": encoded,
    }


def build_http_api_event(
    request: HttpRequest, *, target_path: str, route_key: str, stage: str,
    stage_variables: Mapping[str, str] | None, path_parameters: Mapping[str, str] | None,
    api_id: str, account_id: str, request_id: str, now_epoch_ms: int,
) -> dict[str, Any]:
    """The payload format 2.0 event an HTTP API sends for route ``route_key`` (``GET /a/{b}``,
    ``$default``). Empty optional members are left out, as AWS leaves them out."""
    # A named stage stays in rawPath and http.path; $default is served at the root (the stage
    # is part of the invoke URL: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html).
    raw_path = target_path if stage == "$default" else f"/{stage}{target_path}"
    context = _common_context(request, api_id, account_id, request_id) | {
        "http": {"method": request.method, "path": raw_path, "protocol": "HTTP/1.1",
                 "sourceIp": request.source_ip, "userAgent": request.header("User-Agent", "")},
        "routeKey": route_key,
        "stage": stage,
        "time": format_request_time(now_epoch_ms),
        "timeEpoch": now_epoch_ms,
    }
    # "Duplicate headers are combined with commas"; "all cookie headers ... are added to the
    # cookies field"; duplicate query strings are combined with commas too.
    headers = [(k.lower(), v) for k, v in request.headers if k.lower() not in _V2_DROPPED]
    body, encoded = _encode_http_api_body(request)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": request.query_string,
        "cookies": _cookies(request.headers),
        "headers": _comma_joined(headers),
        "queryStringParameters": _comma_joined(_query(request)),
        "pathParameters": dict(path_parameters or {}),
        "requestContext": dict(sorted(context.items())),
        "body": body,
        "isBase64Encoded": encoded,
        "stageVariables": dict(stage_variables or {}),
    }
    return {key: value for key, value in event.items() if key not in _V2_OPTIONAL or value}


def format_request_time(epoch_ms: int) -> str:
    """``requestTime`` as AWS writes it, ``20/Feb/2018:22:48:57 +0000``: UTC, English months."""
    moment = time.gmtime(epoch_ms // 1000)
    return time.strftime(f"%d/{_MONTHS[moment.tm_mon - 1]}/%Y:%H:%M:%S +0000", moment)


def _query(request: HttpRequest) -> list[Pair]:
    # Blank values are kept and '+' reads as a space (AWS-recorded: "plus=a+b" gives "a b").
    return parse_qsl(request.query_string, keep_blank_values=True)


def _forwarded(request: HttpRequest) -> list[Pair]:
    """The request's headers as a REST event carries them, with the X-Forwarded-* trio the
    documented example event shows; an existing X-Forwarded-For gets the client appended."""
    replaced = _REST_DROPPED | _FORWARDED
    kept = [(k, v) for k, v in request.headers if k.lower() not in replaced]
    prior = request.header("X-Forwarded-For")
    chain = f"{prior}, {request.source_ip}" if prior else request.source_ip
    host = request.header("Host") or ""
    port = host.rpartition(":")[2] if ":" in host.rpartition("]")[2] else "80"
    # The emulator serves plain HTTP, so http (and port 80 when the Host names none) is honest.
    return [*kept, ("X-Forwarded-For", chain), ("X-Forwarded-Port", port),
            ("X-Forwarded-Proto", "http")]


def _group_headers(headers: Iterable[Pair]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(last value wins, every value), keyed by the first spelling of each name."""
    spelling: dict[str, str] = {}
    multi = _multi((spelling.setdefault(name.lower(), name), value) for name, value in headers)
    return {name: values[-1] for name, values in multi.items()}, multi


def _multi(pairs: Iterable[Pair]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _comma_joined(pairs: Iterable[Pair]) -> dict[str, str]:
    return {key: ",".join(values) for key, values in _multi(pairs).items()}


def _common_context(request: HttpRequest, api_id: str, account_id: str,
                    request_id: str) -> dict[str, Any]:
    # domainPrefix is "the first label of the domainName" ($context variables:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html).
    host = (request.header("Host") or "").strip()
    domain = host.partition("]")[0] + "]" if host.startswith("[") else host.partition(":")[0]
    domain = domain or f"{api_id}.execute-api.localhost.localstack.cloud"
    return {"accountId": account_id, "apiId": api_id, "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0], "requestId": request_id}


def _identity(request: HttpRequest) -> dict[str, str | None]:
    identity: dict[str, str | None] = dict.fromkeys(_IDENTITY_KEYS)
    identity["sourceIp"] = request.source_ip
    identity["userAgent"] = request.header("User-Agent")
    return identity


def _encode_body(request: HttpRequest, binary_types: Sequence[str]) -> tuple[str | None, bool]:
    # A body whose Content-Type is a binary media type reaches the function base64-encoded
    # (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html);
    # bytes that are not UTF-8 cannot travel as a JSON string at all, so they go base64 too.
    if not request.body:
        return None, False
    if not media_type_matches(request.header("Content-Type"), binary_types):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode("ascii"), True


def _encode_http_api_body(request: HttpRequest) -> tuple[str | None, bool]:
    # HTTP APIs have no binaryMediaTypes. AWS sends text media types as text and base64-encodes
    # the rest, form posts and bodies without a Content-Type included; the exact list is
    # undocumented, so this is our reading.
    kind = (request.header("Content-Type") or "").split(";", 1)[0].strip().lower()
    textual = kind.startswith("text/") or kind in _TEXT_TYPES or (
        kind.startswith("application/") and kind.endswith(("+json", "+xml"))
    )
    if textual or not request.body:
        return _encode_body(request, ())
    return base64.b64encode(request.body).decode("ascii"), True


def _cookies(headers: Iterable[Pair]) -> list[str]:
    values = (value for name, value in headers if name.lower() == "cookie")
    return [part.strip() for value in values for part in value.split(";") if part.strip()]

"""What a function URL sends its function and what it answers; pure functions.

The event is payload format 2.0 as HTTP APIs send it (``harness.apigw.events``), with the
function-URL differences (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html):
``routeKey`` and ``requestContext.routeKey``/``stage`` are ``$default``, there are no
``pathParameters`` or ``stageVariables``, ``apiId`` and ``domainPrefix`` are the URL id, and an
``AWS_IAM`` URL adds ``requestContext.authorizer.iam``. The result is read by the payload 2.0
rules (``harness.apigw.responses``). Where the docs are silent we follow what LocalStack's
AWS-validated tests (``TestLambdaURL``) recorded against AWS, marked "AWS-recorded".
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from harness.apigw import cors, events
from harness.http import HttpRequest, HttpResponse

ROUTE_KEY = "$default"
MAX_REQUEST_BYTES = 6 * 1024 * 1024
"""A synchronous invocation's request limit (the event, body included)."""
_JSON = ("Content-Type", "application/json")
_FORBIDDEN = ("Forbidden. For troubleshooting Function URL authorization issues, see: "
              "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html")


def build_event(request: HttpRequest, *, url_id: str, account_id: str, request_id: str,
                now_epoch_ms: int, iam: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The event a function URL sends for ``request``; ``iam`` is the caller of an ``AWS_IAM``
    URL (``iam_identity``)."""
    event = events.build_http_api_event(
        request, target_path=request.path, route_key=ROUTE_KEY, stage=ROUTE_KEY,
        stage_variables=None, path_parameters=None, api_id=url_id, account_id=account_id,
        request_id=request_id, now_epoch_ms=now_epoch_ms)
    event["headers"] = {**event["headers"], **_forwarded(request)}
    if iam is not None:
        event["requestContext"] = dict(sorted(
            {**event["requestContext"], "authorizer": {"iam": dict(iam)}}.items()))
    return event


def iam_identity(access_key: str, account_id: str, arn: str, user_id: str) -> dict[str, Any]:
    """``requestContext.authorizer.iam`` of a signed call (the documented members)."""
    return {"accessKey": access_key, "accountId": account_id, "callerId": user_id,
            "cognitoIdentity": None, "principalOrgId": None, "userArn": arn, "userId": user_id}


def _forwarded(request: HttpRequest) -> dict[str, str]:
    """The headers AWS's front end adds (AWS-recorded: x-forwarded-for/-port/-proto and
    x-amzn-trace-id). The emulator serves plain HTTP, so the TLS ones are left out."""
    prior = request.header("X-Forwarded-For")
    host = request.header("Host") or ""
    port = host.rpartition(":")[2] if ":" in host.rpartition("]")[2] else "80"
    trace = request.header("X-Amzn-Trace-Id") or (
        f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}")
    return {"x-amzn-trace-id": trace,
            "x-forwarded-for": f"{prior}, {request.source_ip}" if prior else request.source_ip,
            "x-forwarded-port": port, "x-forwarded-proto": "http"}


def map_result(payload: bytes) -> HttpResponse:
    """The HTTP response of the function's result. As for HTTP APIs: a result without
    ``statusCode`` is the body (a string as it is); ``cookies`` become Set-Cookie headers.
    AWS-recorded: a response without Content-Type is application/json. Raises
    ``events.MalformedProxyResponse`` for a result AWS cannot map."""
    response = events.map_http_api_response(payload)
    if any(name.lower() == "content-type" for name, _ in response.headers):
        return response
    return HttpResponse(response.status, (_JSON, *response.headers), response.body)


def cors_config(raw: Mapping[str, Any] | None) -> cors.CorsConfig | None:
    """A URL's ``Cors`` (AllowOrigins, ...) as the HTTP API CORS rules read it."""
    if not raw:
        return None
    return cors.CorsConfig.from_api({key[0].lower() + key[1:]: value
                                     for key, value in raw.items()})


def with_cors(config: cors.CorsConfig, request: HttpRequest,
              response: HttpResponse) -> HttpResponse:
    """The configured CORS headers on ``response``: "If there are conflicting headers, the
    configured CORS headers on the function URL take precedence" (urls-configuration.html);
    the function's other CORS headers stay."""
    applied = cors.apply(config, request, response)
    configured = {name.lower() for name, _ in applied.headers}
    own = tuple((name, value) for name, value in response.headers
                if name.lower().startswith("access-control-") and name.lower() not in configured)
    return HttpResponse(applied.status, applied.headers + own, applied.body)


def with_request_id(response: HttpResponse, request_id: str) -> HttpResponse:
    return HttpResponse(response.status, (*response.headers, ("x-amzn-RequestId", request_id)),
                        response.body)


# -- the URL's own answers ---------------------------------------------------------------------

def _error(status: int, message: str | None, error_type: str | None) -> HttpResponse:
    headers: tuple[tuple[str, str], ...] = (_JSON,)
    if error_type is not None:
        headers += (("x-amzn-ErrorType", error_type),)
    body = json.dumps({"Message": message}, separators=(",", ":")).encode()
    return HttpResponse(status, headers, body)


def url_not_found() -> HttpResponse:
    """No function URL has this id. AWS-recorded: 403 ``{"Message":null}``."""
    return _error(403, None, "AccessDeniedException")


def forbidden() -> HttpResponse:
    """An unsigned call to an ``AWS_IAM`` URL, or a ``NONE`` URL whose policy does not grant
    public access. AWS-recorded (a ``NONE`` URL without the permission)."""
    return _error(403, _FORBIDDEN, "AccessDeniedException")


def signature_refused(error_type: str, message: str) -> HttpResponse:
    """A signature that is malformed, out of scope or time, or does not match."""
    return _error(403, message, error_type)


def function_failed() -> HttpResponse:
    """The function failed (its timeout included) or returned what cannot be mapped.
    AWS-recorded: 502 with the text ``Internal Server Error`` (its Content-Type is not)."""
    return HttpResponse(502, (("Content-Type", "text/plain; charset=utf-8"),),
                        b"Internal Server Error")


def throttled() -> HttpResponse:
    """Past the function's reserved concurrency or 10 times it in requests per second: "your
    function URL returns an HTTP 429 status code" (urls-configuration.html). The body is
    Lambda's TooManyRequestsException message; unverified for function URLs."""
    return _error(429, "Rate Exceeded.", "TooManyRequestsException")


def request_too_large() -> HttpResponse:
    """An event over the 6 MB synchronous limit: Lambda's RequestEntityTooLargeException;
    unverified for function URLs."""
    return _error(413, f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the "
                       "InvokeFunction operation", "RequestEntityTooLargeException")

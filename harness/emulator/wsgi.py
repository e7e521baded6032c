"""Conversions between WSGI and the plain HttpRequest/HttpResponse values."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from harness.errors import RequestTooLargeError
from harness.http import HttpRequest, HttpResponse
from harness.http_core import RAW_HEADERS_KEY

WsgiEnviron = dict[str, Any]
StartResponse = Callable[..., Any]

_REASONS = {
    200: "OK", 202: "Accepted", 204: "No Content", 400: "Bad Request", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 413: "Request Entity Too Large",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}
_REGION_RE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")


def request_headers(environ: WsgiEnviron) -> tuple[tuple[str, str], ...]:
    raw = environ.get(RAW_HEADERS_KEY)
    if raw is not None:
        kept = tuple((k, v) for k, v in raw if k.lower() != "transfer-encoding")
        if environ.get("CONTENT_LENGTH") not in (None, "", "0") and not any(
                k.lower() == "content-length" for k, _ in kept):
            kept += (("Content-Length", environ["CONTENT_LENGTH"]),)  # a chunked body's size
        return kept
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").title(), value))
    if environ.get("CONTENT_TYPE"):
        headers.append(("Content-Type", environ["CONTENT_TYPE"]))
    if environ.get("CONTENT_LENGTH"):
        headers.append(("Content-Length", environ["CONTENT_LENGTH"]))
    return tuple(headers)


def read_body(environ: WsgiEnviron, limit: int) -> bytes:
    """The request body, refused before it is read whole when it is larger than ``limit``."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise RequestTooLargeError(f"request body of {length} bytes exceeds {limit} bytes")
    stream = environ["wsgi.input"]
    if length:
        return bytes(stream.read(length))
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise RequestTooLargeError(f"request body exceeds {limit} bytes")
        return bytes(data)
    return b""


def to_request(environ: WsgiEnviron, body: bytes) -> HttpRequest:
    raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    path = environ.get("PATH_INFO", "/")
    if raw_path:
        path = unquote(raw_path.split("?", 1)[0])
    return HttpRequest(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        path=path or "/",
        query_string=environ.get("QUERY_STRING", ""),
        headers=request_headers(environ),
        body=body,
        source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
    )


def region_of(environ: WsgiEnviron) -> str | None:
    """The region a SigV4-signed request was signed for."""
    match = _REGION_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else None


def send(response: HttpResponse, start_response: StartResponse) -> Iterable[bytes]:
    reason = _REASONS.get(response.status, "Unknown")
    headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(response.body))))
    start_response(f"{response.status} {reason}", headers)
    return [response.body]

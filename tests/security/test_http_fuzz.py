"""Hostile bytes at the emulator's own HTTP surface: garbage gets a 4xx, the server keeps serving.

Targets the routes the harness serves itself (health, Invoke, execute-api, reset) and the
Runtime API of a live environment, over raw sockets so nothing is cleaned up by a client library.
"""

from __future__ import annotations

import json
import re
import socket
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

STATUS_RE = re.compile(rb"^HTTP/1\.[01] (\d{3})")
PATHS = [
    "/_harness/health",
    "/2015-03-31/functions/nope/invocations",
    "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ax/invocations",
    "/_aws/execute-api/abc123/dev/predict",
    "/restapis/abc123/dev/_user_request_/predict",
]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW", "G\x00ET", "",
           "POST " * 3]


def raw_request(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(response: bytes) -> int | None:
    match = STATUS_RE.match(response)
    return int(match.group(1)) if match else None


def still_serving(url: str) -> bool:
    with urllib.request.urlopen(url + "/_harness/health", timeout=5) as response:
        return json.load(response)["status"] == "running"


header_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=126, exclude_characters=":\r\n"),
    min_size=1, max_size=30)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    method=st.sampled_from(METHODS),
    path=st.sampled_from(PATHS) | st.text(max_size=60).map(lambda t: "/" + t),
    headers=st.lists(st.tuples(header_text, header_text), max_size=6),
    body=st.binary(max_size=2048),
    content_length=st.sampled_from([None, "0", "-1", "abc", "99999999999", "5"]),
)
def test_garbage_requests_get_an_answer_and_never_a_5xx_from_our_routes(
        harness_endpoint, method, path, headers, body, content_length):
    port = int(harness_endpoint.rsplit(":", 1)[1])
    lines = [f"{method} {path} HTTP/1.1".encode("utf-8", "surrogateescape"), b"Host: 127.0.0.1"]
    lines += [f"{k}: {v}".encode() for k, v in headers]
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}".encode())
    response = raw_request(port, b"\r\n".join(lines) + b"\r\n\r\n" + body)
    status = status_of(response)
    # Either a well-formed HTTP answer, or the connection closed on a request too broken to
    # answer; an answer to our own routes is never a server error.
    if status is not None and (path in PATHS or path.startswith("/_harness/")):
        assert status < 500, response[:300]
    assert still_serving(harness_endpoint)


def test_request_line_garbage_is_400(harness_endpoint):
    port = int(harness_endpoint.rsplit(":", 1)[1])
    tls_hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"
    assert status_of(raw_request(port, tls_hello)) == 400
    assert status_of(raw_request(port, b"GET\r\n\r\n")) in (400, None)
    assert still_serving(harness_endpoint)


def test_oversized_body_is_refused_before_it_is_read(harness_endpoint):
    port = int(harness_endpoint.rsplit(":", 1)[1])
    head = (b"POST /2015-03-31/functions/x/invocations HTTP/1.1\r\nHost: a\r\n"
            b"Content-Length: 5000000000\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head + b"x" * 1024)  # 5 GB announced, 1 KiB sent: no waiting for the rest
        response = sock.recv(4096)
    assert status_of(response) == 413
    assert still_serving(harness_endpoint)


def test_bad_chunked_encoding_is_400(harness_endpoint):
    port = int(harness_endpoint.rsplit(":", 1)[1])
    response = raw_request(port, b"POST /_aws/execute-api/a/b/c HTTP/1.1\r\nHost: a\r\n"
                                 b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
    assert status_of(response) == 400
    assert still_serving(harness_endpoint)


@pytest.mark.parametrize("payload", [b"not json", b"\xff\xfe\x00", b"[1, 2", b'"\\ud800"'])
def test_invalid_invoke_payloads_are_handled(harness_endpoint, payload):
    port = int(harness_endpoint.rsplit(":", 1)[1])
    response = raw_request(port, b"POST /2015-03-31/functions/no-such-fn/invocations HTTP/1.1\r\n"
                                 b"Host: a\r\nContent-Length: " + str(len(payload)).encode()
                           + b"\r\n\r\n" + payload)
    assert status_of(response) == 404
    assert still_serving(harness_endpoint)

"""The one response writer: what may go on the wire, what turns into a 502, and that both of the
harness's servers (the emulator's and a Runtime API) answer through it over real sockets."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.emulator.server import serve
from harness.http_wire import (
    FALLBACK_BODY,
    InvalidResponseHead,
    encode_response,
    header_name_problem,
    header_value_problem,
    status_line,
    utf8_as_latin1,
    write_response,
)
from harness.lambda_.invocation import Invocation
from harness.lambda_.runtime_api import RuntimeApiServer
from tests.wire import exchange, parse_one, parse_responses

INJECTION = "a\r\nX-Injected: yes\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0"


def encoded(status: int | str, headers: list[tuple[str, str]], body: bytes = b"",
            **kwargs: Any) -> tuple[bytes, str | None]:
    return encode_response(status, headers, body, **kwargs)


def test_a_valid_response_is_written_as_asked() -> None:
    data, refused = encoded(200, [("X-A", "1"), ("Content-Type", "text/plain")], b"hi")
    assert refused is None
    assert data == (b"HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: 2\r\n\r\nhi")


def test_a_wsgi_status_line_keeps_its_reason() -> None:
    data, refused = encoded("404 Nowhere", [], b"")
    assert refused is None
    assert data.startswith(b"HTTP/1.1 404 Nowhere\r\n")


def test_framing_is_the_servers_own() -> None:
    data, _ = encoded(200, [("Content-Length", "999"), ("Connection", "keep-alive"),
                            ("Transfer-Encoding", "chunked")], b"abc", close=True)
    response = parse_one(data)
    assert response.headers == (("Content-Length", "3"), ("Connection", "close"))
    assert response.body == b"abc"


def test_head_gets_the_length_without_the_body() -> None:
    data, _ = encoded(200, [], b"abcd", head_only=True)
    assert data == b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"


def test_head_keeps_the_length_a_get_would_have() -> None:
    # A WSGI app (moto's HeadObject) answers HEAD with the length and without the body.
    data, _ = encoded(200, [("Content-Length", "1234")], b"", head_only=True)
    assert data == b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
    data, _ = encoded(200, [("Content-Length", "12x")], b"", head_only=True)
    assert data.endswith(b"Content-Length: 0\r\n\r\n")
    data, _ = encoded(200, [("Content-Length", "1234")], b"ab")
    assert data.endswith(b"Content-Length: 2\r\n\r\nab")


@pytest.mark.parametrize("status", [204, 304])
def test_no_content_statuses_send_neither_body_nor_length(status: int) -> None:
    # A body after a 204 would be read by a keep-alive client as the next response.
    data, refused = encoded(status, [("X-A", "1")], b"HTTP/1.1 200 OK\r\n\r\n")
    assert refused is None
    assert data.endswith(b"X-A: 1\r\n\r\n")
    assert b"Content-Length" not in data


@pytest.mark.parametrize(("value", "named"), [
    ("a\r\nX-Injected: yes", "CR"),
    ("a\nX-Injected: yes", "LF"),
    ("a\x00b", "NUL"),
    ("a\x1bb", "U+001B"),
    ("a\x7fb", "DEL"),
    ("日本", "U+65E5"),
])
def test_a_value_that_cannot_be_sent_becomes_a_502(value: str, named: str) -> None:
    data, refused = encoded(200, [("X-Ok", "1"), ("X-Bad", value)], b"secret")
    response = parse_one(data)
    assert (response.status, response.body) == (502, FALLBACK_BODY)
    assert json.loads(response.body) == {"message": "Internal server error"}
    assert response.values("X-Injected") == [] and response.values("X-Ok") == []
    assert refused is not None and "'X-Bad'" in refused and named in refused


@pytest.mark.parametrize("name", ["", "X A", "X:A", "X\r\nY", "é", "X(A)", "X\x00", 7])
def test_a_name_that_is_not_a_token_becomes_a_502(name: Any) -> None:
    data, refused = encoded(200, [(name, "v")], b"")
    assert parse_one(data).status == 502
    assert refused is not None and "header name" in refused


@pytest.mark.parametrize("value", ["\t tab and spaces ", "café", "\x80\xff", "", "a\"b'c;d=e"])
def test_latin1_text_tabs_and_spaces_pass_byte_for_byte(value: str) -> None:
    data, refused = encoded(200, [("X-V", value)], b"")
    assert refused is None
    assert b"\r\nX-V: " + value.encode("latin-1") + b"\r\n" in data


@pytest.mark.parametrize("status", [100, 101, 199, 99, 600, 0, -1, "abc", "200\r\nX-A: 1",
                                    "200 OK\r\nX-Injected: yes", "2000 OK", " 200 OK",
                                    "200 \u65e5", "\u0662\u0660\u0660 OK", True])
def test_a_status_that_is_not_a_final_one_becomes_a_502(status: Any) -> None:
    data, refused = encoded(status, [], b"body")
    response = parse_one(data)
    assert (response.status, response.body) == (502, FALLBACK_BODY)
    assert refused is not None and "status" in refused


def test_status_line_reason_defaults_to_the_standard_phrase() -> None:
    assert status_line(429) == (429, "HTTP/1.1 429 Too Many Requests")
    assert status_line(599) == (599, "HTTP/1.1 599 Unknown")
    assert status_line("200") == (200, "HTTP/1.1 200 OK")
    with pytest.raises(InvalidResponseHead):
        status_line(150)


def test_the_502_keeps_the_head_request_and_the_close() -> None:
    data, _ = encoded(200, [("X", "\n")], b"x", head_only=True, close=True)
    assert data.endswith(b"Connection: close\r\n\r\n")
    assert parse_one(data, head_only=True).status == 502


def test_problems_name_the_header() -> None:
    assert header_name_problem("X-Fine") is None
    assert header_value_problem("X-Fine", "ok") is None
    assert header_value_problem("X-A", 5) == "header 'X-A' value 5 is not text"
    problem = header_value_problem("X-A", "ab\rc")
    assert problem == "header 'X-A' value 'ab\\rc' holds the control character CR at index 2"


@given(st.text())
def test_utf8_as_latin1_carries_the_utf8_bytes(text: str) -> None:
    assert utf8_as_latin1(text).encode("latin-1") == text.encode("utf-8")


def test_utf8_as_latin1_leaves_ascii_alone() -> None:
    assert utf8_as_latin1("plain ascii") == "plain ascii"
    assert utf8_as_latin1("é") == "\u00c3\u00a9"


HEADER_TEXT = st.text(max_size=12) | st.sampled_from(["X-A", "a\r\nb", "\n", "é", "日本", ""])


@given(status=st.integers(0, 700) | st.text(max_size=8),
       headers=st.lists(st.tuples(HEADER_TEXT, HEADER_TEXT), max_size=5),
       body=st.binary(max_size=40))
def test_every_response_is_exactly_one_well_formed_response(
        status: int | str, headers: list[tuple[str, str]], body: bytes) -> None:
    data, refused = encode_response(status, headers, body)
    response = parse_one(data)  # one response: nothing smuggled before, inside or after it
    if refused is not None:
        assert (response.status, response.body) == (502, FALLBACK_BODY)
        return
    sent = [(k, v) for k, v in headers if k.lower() not in ("content-length", "connection",
                                                            "transfer-encoding")]
    assert [(k, v.strip(" \t")) for k, v in sent] == [
        (k, v) for k, v in response.headers if k != "Content-Length"]


def test_write_response_logs_the_reason_and_writes_once(caplog) -> None:
    out = io.BytesIO()
    with caplog.at_level(logging.WARNING, logger="harness.http"):
        write_response(out, 200, [("X-A", INJECTION)], b"x")
    assert parse_one(out.getvalue()).status == 502
    assert "header 'X-A' value" in caplog.text and "CR" in caplog.text


# -- both servers answer through it ----------------------------------------------------------


def hostile_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Echo", INJECTION)])
    return [b"never sent"]


@pytest.fixture
def wsgi_server() -> Iterator[int]:
    listener = socket.create_server(("127.0.0.1", 0))
    with serve(listener, hostile_app):
        yield listener.getsockname()[1]


def test_the_emulators_server_answers_a_splitting_header_with_a_502(wsgi_server, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="harness.http"):
        data = exchange(wsgi_server, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    response = parse_one(data)
    assert (response.status, response.body) == (502, FALLBACK_BODY)
    assert response.values("X-Injected") == []
    assert "'X-Echo'" in caplog.text


def test_the_emulators_server_answers_an_unknown_method_405_before_its_body(wsgi_server) -> None:
    # 1 KiB of a 1 MiB body goes out: the answer does not wait for the rest.
    reply = parse_one(exchange(wsgi_server, b"BREW / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                            b"Content-Length: 1048576\r\n\r\n" + b"x" * 1024))
    assert (reply.status, reply.values("Connection")) == (405, ["close"])
    assert reply.values("Allow") == ["GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS"]


def test_a_bug_in_the_emulators_app_is_a_500_with_its_traceback_printed(capfd) -> None:
    def broken_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise LookupError("a bug in a route")

    listener = socket.create_server(("127.0.0.1", 0))
    with serve(listener, broken_app):
        port = listener.getsockname()[1]
        data = exchange(port, b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                              b"GET /b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert [r.status for r in parse_responses(data)] == [500, 500]  # and it served on
    assert capfd.readouterr().err.count("LookupError: a bug in a route") == 2


class HostileBackend:
    """An environment whose next invocation carries a trace id that would split the answer."""

    def next_invocation(self) -> Invocation | None:
        return Invocation(request_id="id-1", payload=b"{}", function_arn="arn", timeout_s=3,
                          trace_id="Root=1\r\nX-Injected: yes")

    def invocation_response(self, request_id: str, body: bytes) -> int:
        return 202

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> int:
        return 202

    def init_error(self, body: bytes, error_type: str | None) -> int:
        return 403


def test_the_runtime_api_answers_a_splitting_header_with_a_502(caplog) -> None:
    server = RuntimeApiServer(HostileBackend())
    server.start()
    try:
        port = int(server.address.rsplit(":", 1)[1])
        with caplog.at_level(logging.WARNING, logger="harness.http"):
            data = exchange(port, b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n"
                                  b"Host: 127.0.0.1\r\n\r\n")
    finally:
        server.close()
    response = parse_one(data)
    assert (response.status, response.body) == (502, FALLBACK_BODY)
    assert response.values("X-Injected") == []
    assert "Lambda-Runtime-Trace-Id" in caplog.text


def test_a_head_through_the_emulator_keeps_the_objects_length(harness_client) -> None:
    s3 = harness_client("s3")
    s3.create_bucket(Bucket="wire-head-length")
    try:
        s3.put_object(Bucket="wire-head-length", Key="k", Body=b"x" * 1234)
        assert s3.head_object(Bucket="wire-head-length", Key="k")["ContentLength"] == 1234
    finally:
        s3.delete_object(Bucket="wire-head-length", Key="k")
        s3.delete_bucket(Bucket="wire-head-length")

"""The lean HTTP/1.1 core over real sockets: keep-alive, pipelining, bodies and their limits,
refusals, HEAD, the screen hook, and a stop that cuts idle connections and leaves nothing."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from harness.http_core import HttpCore, Limits, Request, Response, wsgi_handler
from harness.http_guard import LOOPBACK_ONLY
from harness.leftovers import Baseline, scan
from tests.wire import exchange, parse_one, parse_responses

NAME = "core-test"
LIMITS = Limits(max_body=1000, max_chunked_body=500, max_head=4096, max_headers=20)
WAIT = 30.0  # generous: only a hang fails these, never a slow machine


def echo(request: Request) -> Response:
    answer = {"method": request.method, "target": request.target, "body": request.body.decode(),
              "client": list(request.client), "headers": request.headers}
    return Response(200, [("Content-Type", "application/json")], json.dumps(answer).encode())


@contextmanager
def serving(handler: Any = echo, **kwargs: Any) -> Iterator[tuple[HttpCore, int]]:
    listener = socket.create_server(("127.0.0.1", 0))
    server = HttpCore(listener, handler, limits=LIMITS, name=NAME, **kwargs)
    with server:
        yield server, listener.getsockname()[1]


def client(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)


def answer(conn: http.client.HTTPConnection, method: str, path: str, body: Any = None,
           headers: dict[str, str] | None = None, **kwargs: Any) -> tuple[int, Any]:
    conn.request(method, path, body=body, headers=headers or {}, **kwargs)
    response = conn.getresponse()
    data = response.read()
    return response.status, json.loads(data) if data else None


def raw(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=WAIT)


def read_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_keep_alive_serves_every_request_on_one_connection() -> None:
    with serving() as (_server, port):
        conn = client(port)
        answers = [answer(conn, "POST", f"/n/{i}", body=f"b{i}") for i in range(3)]
        conn.close()
    assert [status for status, _ in answers] == [200, 200, 200]
    assert [a["body"] for _, a in answers] == ["b0", "b1", "b2"]
    assert len({tuple(a["client"]) for _, a in answers}) == 1  # one connection, kept


def test_pipelined_requests_are_answered_in_order() -> None:
    requests = b"".join(
        f"POST /p{i} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{i}{i}".encode()
        for i in range(3)) + b"GET /last HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with serving() as (_server, port):
        responses = parse_responses(exchange(port, requests))
    bodies = [json.loads(r.body) for r in responses]
    assert [(b["target"], b["body"]) for b in bodies] == [
        ("/p0", "00"), ("/p1", "11"), ("/p2", "22"), ("/last", "")]


def test_chunked_bodies_are_read_whole() -> None:
    with serving() as (_server, port):
        conn = client(port)
        status, sent = answer(conn, "POST", "/c", body=iter([b"abc", b"", b"defg"]),
                              encode_chunked=True)
        conn.close()
        wire = (b"POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3;name=value\r\nxyz\r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n")
        by_hand = parse_one(exchange(port, wire))
    assert (status, sent["body"]) == (200, "abcdefg")
    assert json.loads(by_hand.body)["body"] == "xyz0123456789"


def test_a_chunked_body_over_its_limit_gets_413_and_the_connection_closes() -> None:
    chunk = b"1F4\r\n" + b"a" * 500 + b"\r\n"
    with serving() as (_server, port):
        reply = exchange(port, b"POST / HTTP/1.1\r\nHost: localhost\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\n" + chunk * 2 + b"0\r\n\r\n")
    refused = parse_one(reply)
    assert refused.status == 413
    assert refused.values("Connection") == ["close"]
    assert "over 500 bytes" in json.loads(refused.body)["message"]


def test_an_oversize_body_gets_413_before_it_is_sent() -> None:
    calls: list[Request] = []
    with serving(lambda r: calls.append(r) or echo(r)) as (_server, port), raw(port) as sock:
        # Only the head goes out: the answer comes without the server waiting for the body.
        sock.sendall(b"PUT /big HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1001\r\n\r\n")
        refused = parse_one(read_until_closed(sock))
    assert refused.status == 413
    assert json.loads(refused.body) == {"message": "body of 1001 bytes exceeds 1000 bytes"}
    assert calls == []


@pytest.mark.parametrize(("sent", "message"), [
    (b"Content-Length: 5\r\n\r\nab", "the body ended after 2 of 5 bytes"),
    (b"Transfer-Encoding: chunked\r\n\r\n5\r\nab", "the body ended after 2 of 5 bytes"),
    (b"Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n", "the chunked body ended before its "
                                                         "last chunk"),
])
def test_a_body_cut_short_by_a_half_close_gets_400_not_silence(sent: bytes, message: str) -> None:
    calls: list[Request] = []
    with serving(lambda r: calls.append(r) or echo(r)) as (_server, port):
        # exchange() half-closes after sending: the client still reads the answer.
        refused = parse_one(exchange(port, b"POST / HTTP/1.1\r\nHost: localhost\r\n" + sent))
    assert (refused.status, json.loads(refused.body)) == (400, {"message": message})
    assert refused.values("Connection") == ["close"] and calls == []


@pytest.mark.parametrize(("head", "status"), [
    (b"GARBAGE", 400),
    (b"GET /only-two", 400),
    (b"GET / HTTP/1.1 extra", 400),
    (b"G(T / HTTP/1.1", 400),
    (b"GET /a\x00b HTTP/1.1", 400),
    (b"GET / HTTP/9", 400),
    (b"GET / HTTP/2.0", 505),
    (b"GET / HTTP/1.1\r\n folded: line", 400),
    (b"GET / HTTP/1.1\r\nSpace Name: x", 400),
    (b"GET / HTTP/1.1\r\nNo-Colon", 400),
    (b"GET / HTTP/1.1\r\nContent-Length: -1", 400),
    (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2", 400),
    (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked", 400),
    (b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip", 501),
    (b"GET / HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 21, 431),
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1", 431),
])
def test_a_bad_request_gets_its_status_and_the_connection_closes(head: bytes,
                                                                 status: int) -> None:
    with serving() as (_server, port):
        reply = exchange(port, head.rstrip(b"\r\n") + b"\r\n\r\nGET /never HTTP/1.1\r\n\r\n")
    refused = parse_one(reply)  # one answer: the request after it was never served
    assert refused.status == status
    assert refused.values("Connection") == ["close"]
    assert json.loads(refused.body)["message"]


def test_bare_lf_line_ends_are_read() -> None:
    with serving() as (_server, port):
        reply = exchange(port, b"POST /lf HTTP/1.1\nHost: localhost\nContent-Length: 1\n\nz")
    assert json.loads(parse_one(reply).body)["body"] == "z"


def test_head_gets_the_length_and_no_body_and_the_connection_goes_on() -> None:
    with serving() as (_server, port):
        conn = client(port)
        conn.request("HEAD", "/h")
        head = conn.getresponse()
        assert head.read() == b""
        status, body = answer(conn, "GET", "/after")
        conn.close()
    assert head.status == 200 and int(head.headers["Content-Length"]) > 0
    assert (status, body["target"]) == (200, "/after")


def test_expect_100_continue_is_answered_before_the_body_is_sent() -> None:
    with serving() as (_server, port), raw(port) as sock:
        sock.sendall(b"PUT /e HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
                     b"Content-Length: 4\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"data")
        sock.shutdown(socket.SHUT_WR)
        final = parse_one(read_until_closed(sock))
    assert json.loads(final.body)["body"] == "data"


def _host_check(request: Request) -> Response | None:
    refusal = LOOPBACK_ONLY.check_host(request.header("Host"), request.version)
    if refusal is None:
        return None
    return Response(refusal.status, [("Content-Type", "application/json")],
                    json.dumps({"message": refusal.message}).encode())


def test_the_screen_refuses_a_foreign_host_before_the_body_and_the_handler() -> None:
    calls: list[Request] = []
    with serving(lambda r: calls.append(r) or echo(r), screen=_host_check) as (_server, port):
        with raw(port) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: evil.example\r\nContent-Length: 900\r\n\r\n")
            refused = parse_one(read_until_closed(sock))
        conn = client(port)  # Host: 127.0.0.1:port, an address on this machine
        status, _ = answer(conn, "POST", "/ok", body="x")
        conn.close()
    assert refused.status == 403
    assert "'evil.example' is not served here" in json.loads(refused.body)["message"]
    assert status == 200 and [r.target for r in calls] == ["/ok"]


def test_a_failing_handler_gets_500_and_the_connection_serves_on() -> None:
    def handler(request: Request) -> Response:
        if request.target == "/boom":
            raise RuntimeError("a bug")
        return echo(request)

    with serving(handler) as (_server, port):
        conn = client(port)
        conn.request("GET", "/boom")
        failed = conn.getresponse()
        failed.read()
        status, _ = answer(conn, "GET", "/fine")
        conn.close()
    assert (failed.status, status) == (500, 200)


def test_a_header_that_would_split_the_response_becomes_a_502() -> None:
    with serving(lambda r: Response(200, [("X-Bad", "a\r\nX-Injected: yes")])) as (_s, port):
        reply = parse_one(exchange(port, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
    assert reply.status == 502 and not reply.values("X-Injected")


def test_the_wsgi_handler_gives_the_app_pep_3333_keys_and_the_raw_headers() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ, body=environ["wsgi.input"].read())
        start_response("201 Created", [("Content-Type", "text/plain")])
        return [b"made"]

    listener = socket.create_server(("127.0.0.1", 0))
    with HttpCore(listener, wsgi_handler(app, listener.getsockname()), name=NAME):
        port = listener.getsockname()[1]
        reply = parse_one(exchange(
            port, b"PUT /a%20b?x=1 HTTP/1.1\r\nHost: localhost\r\nX-Rep: 1\r\nx-rep: 2\r\n"
                  b"Content-Type: text/csv\r\nContent-Length: 3\r\n\r\nabc"))
    assert (reply.status, reply.body) == (201, b"made")
    assert (seen["PATH_INFO"], seen["QUERY_STRING"], seen["RAW_URI"]) == (
        "/a b", "x=1", "/a%20b?x=1")
    assert (seen["HTTP_X_REP"], seen["CONTENT_TYPE"], seen["CONTENT_LENGTH"]) == (
        "1,2", "text/csv", "3")
    assert ("X-Rep", "1") in seen["harness.raw_headers"] and seen["body"] == b"abc"


def test_nagle_is_off_on_every_connection() -> None:
    with serving() as (server, port):
        conn = client(port)
        answer(conn, "GET", "/")
        # The server's side of the connection (private: no request shows its socket).
        sockets = [c.sock for c in server._connections]
        nodelay = [s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in sockets]
        conn.close()
    assert nodelay == [1]


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(NAME)]


def test_stop_cuts_idle_connections_answers_busy_ones_and_leaves_nothing() -> None:
    baseline = Baseline.now()
    entered, release = threading.Event(), threading.Event()

    def handler(request: Request) -> Response:
        if request.target == "/slow":
            entered.set()
            release.wait(WAIT)
        return echo(request)

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = HttpCore(listener, handler, name=NAME).start()
    idle = [client(port) for _ in range(3)]
    for conn in idle:
        answer(conn, "GET", "/once")
    busy = raw(port)
    busy.sendall(b"GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert entered.wait(WAIT)
    stopping = threading.Thread(target=server.close, kwargs={"grace": WAIT})
    stopping.start()
    for conn in idle:  # cut while the busy request still runs
        assert conn.sock is not None and conn.sock.recv(1) == b""
        conn.close()
    release.set()
    answered = parse_one(read_until_closed(busy))
    busy.close()
    stopping.join(WAIT)
    assert not stopping.is_alive()
    assert answered.status == 200 and answered.values("Connection") == ["close"]
    assert _threads() == []
    assert listener.fileno() == -1
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=WAIT).close()
    assert [f for f in scan(baseline) if "listening" in f] == []
    server.close()  # twice is harmless

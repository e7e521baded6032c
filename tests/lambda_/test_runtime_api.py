"""The Runtime API listener's routing, against a fake environment: methods, paths, states."""

from __future__ import annotations

import http.client
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from harness.lambda_.invocation import Invocation
from harness.lambda_.runtime_api import MAX_RESPONSE_BYTES, RuntimeApiServer
from tests.wire import exchange, parse_one


class FakeEnvironment:
    """One invocation ready; its id is the only one answers are taken for; init already over."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, bytes]] = []

    def next_invocation(self) -> Invocation | None:
        return Invocation(request_id="live", payload=b'{"a": 1}', function_arn="arn",
                          timeout_s=3)

    def invocation_response(self, request_id: str, body: bytes) -> int:
        self.answers.append((request_id, body))
        return 202 if request_id == "live" else 400

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> int:
        return self.invocation_response(request_id, body)

    def init_error(self, body: bytes, error_type: str | None) -> int:
        return 403


@pytest.fixture
def api() -> Iterator[tuple[RuntimeApiServer, FakeEnvironment]]:
    backend = FakeEnvironment()
    server = RuntimeApiServer(backend)
    server.start()
    try:
        yield server, backend
    finally:
        server.close()


def call(server: RuntimeApiServer, method: str, path: str,
         body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    host, port = server.address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request(method, "/2018-06-01/runtime" + path, body=body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("POST", "/invocation/next", "GET"),
    ("TRACE", "/invocation/next", "GET"),
    ("GET", "/invocation/live/response", "POST"),
    ("BREW", "/init/error", "POST"),
    ("DELETE", "/invocation/live/error", "POST"),
])
def test_a_wrong_method_is_405_with_allow_never_501(api, method, path, allow):
    status, headers, body = call(api[0], method, path)
    assert (status, headers["Allow"]) == (405, allow)
    assert json.loads(body)["errorType"] == "InvalidRequest"


def test_head_gets_the_status_without_a_body(api):
    status, headers, body = call(api[0], "HEAD", "/invocation/live/response")
    assert (status, body) == (405, b"")


def test_an_unknown_path_is_404(api):
    assert call(api[0], "GET", "/invocation/nope")[0] == 404


def test_a_query_string_does_not_change_the_route(api):
    status, headers, body = call(api[0], "GET", "/invocation/next?x=1")
    assert (status, headers["Lambda-Runtime-Aws-Request-Id"], body) == (200, "live", b'{"a": 1}')


def test_an_answer_for_another_invocation_is_refused(api):
    server, backend = api
    assert call(server, "POST", "/invocation/other/response", b"{}")[0] == 400
    assert call(server, "POST", "/invocation/live/response", b"{}")[0] == 202
    assert backend.answers == [("other", b"{}"), ("live", b"{}")]


def test_an_init_error_after_init_is_403_invalid_state_transition(api):
    status, _headers, body = call(api[0], "POST", "/init/error", b"{}")
    assert status == 403
    assert json.loads(body)["errorType"] == "Runtime.InvalidStateTransition"


# -- the connection: keep-alive, limits, strangers and the stop (on harness.http_core) --------
WAIT = 30.0  # generous: only a hang fails these, never a slow machine


def test_the_runtime_clients_connection_is_kept_between_next_and_its_answer(api):
    server, backend = api
    host, port = server.address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=WAIT)
    try:
        connection.request("GET", "/2018-06-01/runtime/invocation/next")
        first = connection.getresponse()
        first.read()
        sock = connection.sock
        connection.request("POST", "/2018-06-01/runtime/invocation/live/response", body=b"{}")
        second = connection.getresponse()
        second.read()
        assert connection.sock is sock  # http.client would have opened a new one otherwise
    finally:
        connection.close()
    assert (first.status, second.status) == (200, 202)
    assert backend.answers == [("live", b"{}")]


def test_a_result_far_over_lambdas_limit_is_refused_unread_in_the_runtime_apis_shape(api):
    server, backend = api
    size = MAX_RESPONSE_BYTES + 1024 * 1024 + 1
    head = (f"POST /2018-06-01/runtime/invocation/live/response HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Length: {size}\r\n\r\n").encode()
    # Only the head and a little of the body go out: the answer does not wait for the rest.
    reply = parse_one(exchange(int(server.address.rsplit(":", 1)[1]), head + b"{" * 1024))
    assert (reply.status, json.loads(reply.body)["errorType"]) == (413, "InvalidRequest")
    assert reply.values("Connection") == ["close"] and backend.answers == []


class ParkedEnvironment(FakeEnvironment):
    """An environment with no invocation yet: /next waits until ``wake`` (its stop) is called."""

    def __init__(self) -> None:
        super().__init__()
        self.parked = threading.Event()
        self._queue: queue.SimpleQueue[Invocation | None] = queue.SimpleQueue()

    def next_invocation(self) -> Invocation | None:
        self.parked.set()
        return self._queue.get()

    def wake(self) -> None:
        self._queue.put(None)


def _threads(server: RuntimeApiServer) -> list[str]:
    prefix = f"runtime-api-{server.address.rsplit(':', 1)[1]}"
    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


@pytest.mark.parametrize("woken_first", [True, False])
def test_close_cuts_a_runtime_waiting_in_next_and_its_thread_ends_once_woken(woken_first):
    backend = ParkedEnvironment()
    server = RuntimeApiServer(backend)
    server.start()
    port = int(server.address.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert backend.parked.wait(WAIT)
        if woken_first:  # as an environment's stop() does: wake /next, then close the server
            backend.wake()
        server.close()
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    if woken_first:  # answered before the cut, or cut first: never an invocation
        assert answer == b"" or parse_one(answer).status == 500
    else:
        assert answer == b""  # cut while its handler still waits
        backend.wake()
    deadline = time.monotonic() + WAIT
    while _threads(server) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _threads(server) == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=WAIT).close()


def test_a_stranger_gets_403_access_denied_on_every_endpoint_and_never_an_invocation():
    backend = ParkedEnvironment()
    checked: list[tuple[tuple[object, ...], tuple[object, ...]]] = []

    def nobody_is_own(client: tuple[object, ...], server: tuple[object, ...]) -> bool:
        checked.append((client, server))
        return False

    server = RuntimeApiServer(backend, peer_check=nobody_is_own)
    server.start()
    try:
        answers = [call(server, "GET", "/invocation/next"),
                   call(server, "POST", "/invocation/live/response", b"{}"),
                   call(server, "POST", "/init/error", b"{}")]
        wrong_method = call(server, "DELETE", "/invocation/next")
    finally:
        server.close()
    assert [(status, json.loads(body)["errorType"]) for status, _, body in answers] == [
        (403, "AccessDenied")] * 3
    assert all(headers["Connection"] == "close" for _, headers, _ in answers)
    assert wrong_method[0] == 405  # routed as any request first
    assert not backend.parked.is_set() and backend.answers == []
    host, port = server.address.rsplit(":", 1)
    assert [address for _, address in checked] == [(host, int(port))] * 4  # once a connection

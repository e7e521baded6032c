"""The Runtime API listener's routing, against a fake environment: methods, paths, states."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from harness.lambda_.invocation import Invocation
from harness.lambda_.runtime_api import RuntimeApiServer


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

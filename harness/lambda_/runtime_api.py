"""The Lambda Runtime API, served to one execution environment's runtime client.

Each environment gets its own listener on 127.0.0.1, so an environment can only see and answer
its own invocations; a connection from any process outside the environment (see ``peer_check``)
gets 403 AccessDenied and never an invocation. Protocol: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from harness.http_core import HttpCore, Limits, Request, Response
from harness.http_guard import LOOPBACK_ONLY
from harness.lambda_.invocation import Invocation

API_PREFIX = "/2018-06-01/runtime"
# Lambda's synchronous response limit: 6 MB, which its error message spells 6291556 bytes
# ("... exceeded maximum allowed payload size (6291556 bytes).", Function.ResponseSizeTooLarge).
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100
_INVOCATION_RE = re.compile(rf"^{API_PREFIX}/invocation/(?P<id>[^/]+)/(?P<kind>response|error)$")
NEXT_PATH = f"{API_PREFIX}/invocation/next"
INIT_ERROR_PATH = f"{API_PREFIX}/init/error"
RESTORE_NEXT_PATH = f"{API_PREFIX}/restore/next"
"""SnapStart: the runtime is restored and about to run its after-restore hooks."""
RESTORE_ERROR_PATH = f"{API_PREFIX}/restore/error"
"""SnapStart: an after-restore hook failed."""


class RuntimeBackend(Protocol):
    """What the Runtime API needs from its execution environment."""

    def next_invocation(self) -> Invocation | None:
        """Block until an invocation is ready; None means the environment is stopping."""

    def invocation_response(self, request_id: str, body: bytes) -> int:
        """Record a response; returns the HTTP status to answer with."""

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> int:
        """Record an invocation error; returns the HTTP status to answer with."""

    def init_error(self, body: bytes, error_type: str | None) -> int:
        """Record an initialisation error; 202, or 403 once init is over."""

    def restore_next(self) -> int:
        """SnapStart: the restored runtime asks to run its after-restore hooks; 200, or 403
        from an environment that was not restored from a snapshot."""

    def restore_error(self, body: bytes, error_type: str | None) -> int:
        """SnapStart: an after-restore hook failed; 202, or 403 as ``restore_next``."""


PeerCheck = Callable[[tuple[Any, ...], tuple[Any, ...]], bool]
"""``check(client_address, server_address)``: whether a connection comes from the environment."""

ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
_JSON = (("Content-Type", "application/json"),)
_ACCEPTED = Response(202, _JSON, b'{"status":"OK"}')
# A result is at most MAX_RESPONSE_BYTES (the backend answers a larger one with Lambda's error);
# a body well past it is refused unread.
LIMITS = Limits(max_body=MAX_RESPONSE_BYTES + 1024 * 1024,
                max_chunked_body=MAX_RESPONSE_BYTES + 1024 * 1024)


def _status(status: int, message: str, headers: dict[str, str] | None = None, *,
            error_type: str = "InvalidRequest", close: bool = False) -> Response:
    """An error in the Runtime API's shape: ``{"errorMessage", "errorType"}``."""
    body = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
    return Response(status, [*_JSON, *(headers or {}).items()], body, close)


_REFUSED = _status(403, "Forbidden: the caller is not this environment's runtime",
                   error_type="AccessDenied", close=True)


def _bad_request(status: int, message: str) -> Response:
    """What the core answers a request it cannot take (bad head, body over LIMITS)."""
    return _status(status, message)


def _screen(request: Request) -> Response | None:
    """Only the runtime client calls here: a foreign Host (DNS rebinding) or a web page's
    request is refused before its body is read or an invocation is handed out."""
    refused = (LOOPBACK_ONLY.check_host(request.header("Host"), request.version)
               or LOOPBACK_ONLY.check_browser(request.header("Origin"),
                                              request.header("Sec-Fetch-Site")))
    return None if refused is None else _status(refused.status, refused.message)


class _Routes:
    """The runtime's endpoints over one environment's backend: the path picks the endpoint, a
    wrong method gets 405. Headers written through ``harness.http_wire`` (via the core): Invoke's
    values (client context, trace id) reach them, and one that could split a response becomes a
    502 instead."""

    def __init__(self, backend: RuntimeBackend) -> None:
        self.backend = backend

    def __call__(self, request: Request) -> Response:
        path = urlsplit(request.target).path
        match = _INVOCATION_RE.match(path)
        allowed = ("GET" if path in (NEXT_PATH, RESTORE_NEXT_PATH) else
                   "POST" if path in (INIT_ERROR_PATH, RESTORE_ERROR_PATH) or match is not None
                   else None)
        if allowed is None:
            return _status(404, f"unknown path {path}")
        if request.method != allowed:
            return _status(405, f"{request.method} not allowed on {path}", {"Allow": allowed},
                           close=True)
        if path == NEXT_PATH:
            return self._next()
        if path in (RESTORE_NEXT_PATH, RESTORE_ERROR_PATH):
            return self._restore(path, request)
        if match is None:
            return self._init_error(request)
        return self._invocation_result(match.group("id"), match.group("kind"), request)

    def _next(self) -> Response:
        invocation = self.backend.next_invocation()
        if invocation is None:
            return _status(500, "environment is shutting down", close=True)
        headers = [
            ("Lambda-Runtime-Aws-Request-Id", invocation.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(invocation.deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", invocation.function_arn),
            ("Content-Type", "application/json"),
        ]
        if invocation.trace_id:
            headers.append(("Lambda-Runtime-Trace-Id", invocation.trace_id))
        if invocation.client_context:
            headers.append(("Lambda-Runtime-Client-Context", invocation.client_context))
        return Response(200, headers, invocation.payload)

    def _init_error(self, request: Request) -> Response:
        error_type = request.header(ERROR_TYPE_HEADER)
        if self.backend.init_error(request.body, error_type) != 202:
            # After init, as AWS's emulator answers: 403 Runtime.InvalidStateTransition.
            return _status(403, "init is over: an init error is no longer accepted",
                           error_type="Runtime.InvalidStateTransition")
        return _ACCEPTED  # the runtime client insists on exactly 202 here

    def _restore(self, path: str, request: Request) -> Response:
        backend = self.backend
        if path == RESTORE_NEXT_PATH:
            status = backend.restore_next()
        else:
            status = backend.restore_error(request.body, request.header(ERROR_TYPE_HEADER))
        if status == 403:
            return _status(403, "this environment was not restored from a snapshot",
                           error_type="Runtime.InvalidStateTransition")
        if path == RESTORE_NEXT_PATH:  # awslambdaric insists on exactly 200 here ...
            return Response(200, _JSON)
        return _ACCEPTED  # ... and on 202 here

    def _invocation_result(self, request_id: str, kind: str, request: Request) -> Response:
        backend = self.backend
        if kind == "response":
            status = backend.invocation_response(request_id, request.body)
        else:
            status = backend.invocation_error(request_id, request.body,
                                              request.header(ERROR_TYPE_HEADER))
        if status == 202:
            return _ACCEPTED
        if status == 410:  # it timed out before this result came; AWS's emulator says so
            return _status(410, "Invoke timeout", error_type="InvokeTimeout")
        return _status(status, f"invocation {request_id} is not this runtime's")


class _Stranger(_Routes):
    """Serves a connection from outside the environment: its requests are checked and routed as
    any (404, 405, 413 alike), and every endpoint answers 403 AccessDenied, then closes."""

    def _next(self) -> Response:
        return _REFUSED

    def _init_error(self, request: Request) -> Response:
        return _REFUSED

    def _restore(self, path: str, request: Request) -> Response:
        return _REFUSED

    def _invocation_result(self, request_id: str, kind: str, request: Request) -> Response:
        return _REFUSED


class RuntimeApiServer:
    """A Runtime API listener for one environment, on ``harness.http_core``; ``close()`` ends it
    and its threads.

    ``peer_check`` is asked once per connection, in the connection's own thread (the runtime
    client keeps one alive, and a slow check never holds up accepting); without one, every
    local process is served (tests of the routing against a fake environment).
    """

    def __init__(self, backend: RuntimeBackend, host: str = "127.0.0.1",
                 peer_check: PeerCheck | None = None) -> None:
        self.backend = backend
        self._peer_check = peer_check
        listener = socket.create_server((host, 0))
        self.server_address: tuple[Any, ...] = listener.getsockname()
        self._own, self._stranger = _Routes(backend), _Stranger(backend)
        # Connection threads are daemons: one parked in /next never keeps the interpreter from
        # exiting; the environment's stop() wakes it (next_invocation answers None) first.
        self._core = HttpCore(listener, self._own, limits=LIMITS, screen=_screen,
                              error_body=_bad_request,
                              handler_for=None if peer_check is None else self._handler_for,
                              name=f"runtime-api-{self.server_address[1]}")

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> None:
        self._core.start()

    def _handler_for(self, client: tuple[Any, ...]) -> _Routes:
        check = self._peer_check
        return self._own if check is None or check(client, self.server_address) \
            else self._stranger

    def close(self) -> None:
        """Stop accepting, cut every connection at once (a runtime's keep-alive, even one
        waiting in /next), and close the listener. Safe to call twice."""
        self._core.close(grace=0.0)

"""The Lambda Runtime API, served to one execution environment's runtime client.

Each environment gets its own listener on 127.0.0.1, so an environment can only see and answer
its own invocations; a connection from any process outside the environment (see ``peer_check``)
gets 403 AccessDenied and never an invocation. Protocol: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from harness.http_guard import LOOPBACK_ONLY
from harness.http_wire import write_response
from harness.lambda_.invocation import Invocation
from harness.sockets import TrackedConnections

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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without this, Nagle + delayed ACK against libcurl's keep-alive cost ~40 ms a round trip.
    disable_nagle_algorithm = True
    server: RuntimeApiServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        # The emulator's writer too: Invoke's values (client context, trace id) reach these
        # headers, and one that could split the response becomes a 502 instead.
        write_response(self.wfile, status, (headers or {}).items(), body,
                       close=self.close_connection, head_only=self.command == "HEAD")

    def _send_status(self, status: int, message: str, headers: dict[str, str] | None = None,
                     error_type: str = "InvalidRequest") -> None:
        body = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
        self._send(status, body, {"Content-Type": "application/json", **(headers or {})})

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_RESPONSE_BYTES + 1024 * 1024:
            self._send_status(413, "payload too large")
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _route(self) -> None:
        """Every method lands here: the path picks the endpoint, a wrong method gets 405."""
        # Only the runtime client calls here: a foreign Host (DNS rebinding) or a web page's
        # request is refused before its body is read or an invocation is handed out.
        hosts = self.headers.get_all("Host")
        refused = (LOOPBACK_ONLY.check_host(",".join(hosts) if hosts else None,
                                            self.request_version)
                   or LOOPBACK_ONLY.check_browser(self.headers.get("Origin"),
                                                  self.headers.get("Sec-Fetch-Site")))
        if refused is not None:
            self.close_connection = True
            self._send_status(refused.status, refused.message)
            return
        path = urlsplit(self.path).path
        match = _INVOCATION_RE.match(path)
        allowed = ("GET" if path in (NEXT_PATH, RESTORE_NEXT_PATH) else
                   "POST" if path in (INIT_ERROR_PATH, RESTORE_ERROR_PATH) or match is not None
                   else None)
        body = self._read_body()
        if body is None:
            return
        if allowed is None:
            self._send_status(404, f"unknown path {path}")
        elif self.command != allowed:
            self.close_connection = True
            self._send_status(405, f"{self.command} not allowed on {path}", {"Allow": allowed})
        elif path == NEXT_PATH:
            self._next()
        elif path in (RESTORE_NEXT_PATH, RESTORE_ERROR_PATH):
            self._restore(path, body)
        elif match is None:
            self._init_error(body)
        else:
            self._invocation_result(match.group("id"), match.group("kind"), body)

    def __getattr__(self, name: str) -> Any:
        # http.server looks up do_<METHOD>; without one it answers 501, a server error.
        if name.startswith("do_"):
            return self._route
        raise AttributeError(name)

    def _next(self) -> None:
        invocation = self.server.backend.next_invocation()
        if invocation is None:
            self._send_status(500, "environment is shutting down")
            self.close_connection = True
            return
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
            "Content-Type": "application/json",
        }
        if invocation.trace_id:
            headers["Lambda-Runtime-Trace-Id"] = invocation.trace_id
        if invocation.client_context:
            headers["Lambda-Runtime-Client-Context"] = invocation.client_context
        self._send(200, invocation.payload, headers)

    def _init_error(self, body: bytes) -> None:
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if self.server.backend.init_error(body, error_type) != 202:
            # After init, as AWS's emulator answers: 403 Runtime.InvalidStateTransition.
            self._send_status(403, "init is over: an init error is no longer accepted",
                              error_type="Runtime.InvalidStateTransition")
            return
        # The runtime client insists on exactly 202 here.
        self._send(202, b'{"status":"OK"}', {"Content-Type": "application/json"})

    def _restore(self, path: str, body: bytes) -> None:
        backend = self.server.backend
        if path == RESTORE_NEXT_PATH:
            status = backend.restore_next()
        else:
            status = backend.restore_error(
                body, self.headers.get("Lambda-Runtime-Function-Error-Type"))
        if status == 403:
            self._send_status(403, "this environment was not restored from a snapshot",
                              error_type="Runtime.InvalidStateTransition")
        elif path == RESTORE_NEXT_PATH:  # awslambdaric insists on exactly 200 here ...
            self._send(200, b"", {"Content-Type": "application/json"})
        else:  # ... and on 202 here
            self._send(202, b'{"status":"OK"}', {"Content-Type": "application/json"})

    def _invocation_result(self, request_id: str, kind: str, body: bytes) -> None:
        backend = self.server.backend
        if kind == "response":
            status = backend.invocation_response(request_id, body)
        else:
            error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
            status = backend.invocation_error(request_id, body, error_type)
        if status == 202:
            self._send(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
        elif status == 410:  # it timed out before this result came; AWS's emulator says so
            self._send_status(410, "Invoke timeout", error_type="InvokeTimeout")
        else:
            self._send_status(status, f"invocation {request_id} is not this runtime's")


class _Stranger(_Handler):
    """Serves a connection from outside the environment: its requests are checked and routed as
    any (404, 405, 413 alike), and every endpoint answers 403 AccessDenied, then closes."""

    def _refuse(self) -> None:
        self.close_connection = True
        self._send_status(403, "Forbidden: the caller is not this environment's runtime",
                          error_type="AccessDenied")

    def _next(self) -> None:
        self._refuse()

    def _init_error(self, body: bytes) -> None:
        self._refuse()

    def _restore(self, path: str, body: bytes) -> None:
        self._refuse()

    def _invocation_result(self, request_id: str, kind: str, body: bytes) -> None:
        self._refuse()


PeerCheck = Callable[[tuple[Any, ...], tuple[Any, ...]], bool]
"""``check(client_address, server_address)``: whether a connection comes from the environment."""


class RuntimeApiServer(TrackedConnections, ThreadingHTTPServer):
    """A Runtime API listener for one environment; ``close()`` ends it and its threads.

    ``peer_check`` is asked once per connection (the runtime client keeps one alive); without
    one, every local process is served (tests of the routing against a fake environment).
    """

    # Daemon threads: a handler parked in /next must never keep the interpreter from exiting.
    # close() cuts the connections, and the environment's stop() wakes a parked /next.
    daemon_threads = True

    def __init__(self, backend: RuntimeBackend, host: str = "127.0.0.1",
                 peer_check: PeerCheck | None = None) -> None:
        super().__init__((host, 0), _Handler)
        self.backend = backend
        self._peer_check = peer_check
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"runtime-api-{self.server_address[1]}", daemon=True,
        )

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def finish_request(self, request, client_address):  # type: ignore[no-untyped-def]
        # In the connection's own thread, so a slow check never holds up accepting.
        check = self._peer_check
        own = check is None or check(client_address, self.server_address)
        (_Handler if own else _Stranger)(request, client_address, self)

    def handle_error(self, request, client_address):  # type: ignore[no-untyped-def]
        # A runtime killed mid-connection (timeout, crash, container removed) resets it: expected.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close(self) -> None:
        """Stop accepting, cut open connections, and close the listener."""
        if self._thread.is_alive():
            self.shutdown()
            self._thread.join()
        self.cut_connections()
        self.server_close()

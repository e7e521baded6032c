"""A small threaded WSGI server with HTTP/1.1 keep-alive, on the standard library.

Why not werkzeug's development server: it closes every connection after one response, so each
request pays a new TCP connection and thread (0.8 ms a request here against 0.3 ms with
keep-alive). Why not a pooled server (waitress, cheroot): functions call back into the emulator
(S3 reads) while their invocation holds a thread, so a bounded pool can deadlock; a thread per
connection cannot.
"""

from __future__ import annotations

import io
import json
import socket
import sys
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from harness.http_wire import write_response
from harness.sockets import TrackedConnections

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_CHUNKED_BODY = 64 * 1024 * 1024
RAW_HEADERS_KEY = "harness.raw_headers"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: WsgiServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """Errors found before the app runs (bad request line, size): JSON with a status line."""
        self.close_connection = True
        if not hasattr(self, "command"):
            self.command = ""
        phrase = self.responses.get(code, ("Error",))[0]
        body = json.dumps({"message": message or phrase}).encode()
        self._respond(f"{code} {phrase}", [("Content-Type", "application/json")], body)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            size = int(length)
        except ValueError:
            self.send_error(400, "bad Content-Length")
            return None
        if size < 0:
            self.send_error(400, "bad Content-Length")
            return None
        if size > self.server.max_body:
            # Refused before reading: the body is never held in memory.
            self.send_error(413, f"body of {size} bytes exceeds {self.server.max_body} bytes")
            self.close_connection = True
            return None
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            except ValueError:
                self.send_error(400, "bad chunk size")
                self.close_connection = True
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > min(self.server.max_body, MAX_CHUNKED_BODY):
                self.send_error(413, "chunked body too large")
                self.close_connection = True
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _environ(self, body: bytes) -> dict[str, Any]:
        raw_path, _, query = self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            # PEP 3333: the decoded path as latin-1 text.
            "PATH_INFO": unquote(raw_path, encoding="latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": self.path,
            "REQUEST_URI": self.path,
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            # Every header as sent, repeats and spelling kept: the CGI-style HTTP_* keys join
            # repeats with commas, and a Lambda proxy event must tell the two apart.
            RAW_HEADERS_KEY: tuple(self.headers.items()),
        }
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                if name == "CONTENT_TYPE":
                    environ[name] = value
                continue
            if name == "TRANSFER_ENCODING":
                continue
            name = "HTTP_" + name
            environ[name] = f"{environ[name]},{value}" if name in environ else value
        return environ

    def _run(self) -> None:
        body = self._body()
        if body is None:
            return
        status_headers: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            status_headers[:] = [status, headers]
            return lambda _data: None

        try:
            result = self.server.app(self._environ(body), start_response)
            try:
                payload = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:  # noqa: BLE001 - a bug must not take the server down
            import traceback

            traceback.print_exc()
            status_headers[:] = ["500 Internal Server Error", [("Content-Type", "text/plain")]]
            payload = b"internal error in the harness emulator"
        self._respond(status_headers[0], status_headers[1], payload)

    def _respond(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        # The one response writer (shared with the Runtime APIs): a header that could split the
        # response or cannot be encoded turns it into a 502, never into a dropped connection.
        write_response(self.wfile, status, headers, payload, close=self.close_connection,
                       head_only=self.command == "HEAD")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _run

    def __getattr__(self, name: str) -> Any:
        # Any other method (http.server would say 501) is a client mistake: 405.
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        self.close_connection = True
        self._respond("405 Method Not Allowed",
                      [("Allow", "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS"),
                       ("Content-Type", "application/json")],
                      b'{"message":"method not allowed"}')


class WsgiServer(TrackedConnections, ThreadingHTTPServer):
    """Serves a WSGI app, a thread per connection; ``close()`` stops it and cuts connections."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, listener: socket.socket, app: WsgiApp, max_body: int) -> None:
        super().__init__(listener.getsockname()[:2], _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = listener
        self.server_address = listener.getsockname()
        self.app = app
        self.max_body = max_body

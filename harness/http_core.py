"""A lean HTTP/1.1 server core: a thread per connection (functions call back into the emulator
while their invocation holds a request, and a bounded pool can deadlock), keep-alive, requests
parsed by hand (``http.server`` costs twice the CPU per request: ``bench/bench_http_core.py``).
``handler(request) -> Response`` runs in the connection's thread; ``screen(request)`` sees each
head before its body is read and may answer instead (the Host and Origin checks). Responses go
through ``harness.http_wire``, the one checked writer."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, NamedTuple
from urllib.parse import unquote

from harness.http_wire import write_response

log = logging.getLogger("harness.http")

RAW_HEADERS_KEY = "harness.raw_headers"
"""WSGI environ key: every request header as sent, repeats and spelling kept."""
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\x00\r\n]")
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_VERSION = re.compile(r"HTTP/[0-9]\.[0-9]")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")


@dataclass(frozen=True)
class Limits:
    """Beyond these a request is refused and its connection closed: a larger Content-Length
    gets 413 unread, a chunked body 413 once past it, a larger head 431."""

    max_body: int = 128 * 1024 * 1024
    max_chunked_body: int = 64 * 1024 * 1024
    max_head: int = 64 * 1024
    max_headers: int = 100


class Request:
    """One request: its head as parsed (``headers`` as sent: spelling and repeats kept), then
    its ``body`` once ``screen`` has let it through."""

    __slots__ = ("method", "target", "version", "headers", "client", "body", "keep_alive",
                 "length", "chunked", "expect_continue")

    def __init__(self, method: str, target: str, version: str, client: tuple[Any, ...]) -> None:
        self.method, self.target, self.version, self.client = method, target, version, client
        self.headers: list[tuple[str, str]] = []
        self.body = b""
        self.keep_alive = version == "HTTP/1.1"  # HTTP/1.0 connections close after one answer
        self.length: int | None = None
        self.chunked = self.expect_continue = False

    def header(self, name: str) -> str | None:
        """The values of header ``name`` (any case) joined with commas, or None."""
        low = name.lower()
        values = [value for key, value in self.headers if key.lower() == low]
        return ",".join(values) if values else None


class Response(NamedTuple):
    """What a handler answers; ``close`` ends the connection after it."""

    status: int | str
    headers: Iterable[tuple[str, str]] = ()
    body: bytes = b""
    close: bool = False


Handler = Callable[[Request], Response]
"""Answers one request, in its connection's thread."""


class BadRequest(Exception):
    """``BadRequest(status, message)``: answered so, then the connection is closed."""


def json_error(status: int, message: str) -> Response:
    """The emulator's shape for errors found before the app runs: ``{"message": ...}``."""
    return Response(status, [("Content-Type", "application/json")],
                    json.dumps({"message": message}).encode())


def parse_head(head: bytes, client: tuple[Any, ...], limits: Limits) -> Request:
    """The request whose line and headers are ``head`` (no blank line; CRLF or bare LF line
    ends); BadRequest naming the problem otherwise."""
    lines = head.decode("latin-1").split("\n")
    parts = lines[0].rstrip("\r").split(" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[1] \
            or _BAD_TARGET.search(parts[1]):
        raise BadRequest(400, f"bad request line {lines[0][:200]!r}")
    version = parts[2]
    if version != "HTTP/1.1" and version != "HTTP/1.0":
        status = 505 if _VERSION.fullmatch(version) else 400
        raise BadRequest(status, f"HTTP version {version[:20]!r} is not supported")
    if len(lines) > limits.max_headers + 1:
        raise BadRequest(431, f"more than {limits.max_headers} header fields")
    request = Request(parts[0], parts[1], version, client)
    headers = request.headers
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        value = value.strip(" \t\r")
        # A blank before the colon or a folded line is refused: proxies read them differently.
        if not colon or not _TOKEN.fullmatch(name) or _BAD_VALUE.search(value):
            raise BadRequest(400, f"bad header line {line[:200]!r}")
        headers.append((name, value))
        if name.lower() in _FRAMING:
            _framing(request, name.lower(), value.lower())
    if request.chunked and request.length is not None:  # RFC 9112 6.3: a smuggling attempt
        raise BadRequest(400, "both Content-Length and Transfer-Encoding")
    return request


_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "expect"})


def _framing(request: Request, name: str, value: str) -> None:
    if name == "content-length":
        if not value.isascii() or not value.isdigit() or (
                request.length is not None and request.length != int(value)):
            raise BadRequest(400, f"bad Content-Length {value[:40]!r}")
        request.length = int(value)
    elif name == "transfer-encoding":
        if value != "chunked" or request.chunked:
            raise BadRequest(501, f"Transfer-Encoding {value[:40]!r} is not supported")
        request.chunked = True
    elif name == "connection":
        request.keep_alive = request.keep_alive and "close" not in value
    else:  # botocore asks before S3 uploads, and waits a second for a 100 that never comes
        request.expect_continue = value == "100-continue"


class _Connection:
    """One client connection and its receive buffer (pipelined requests wait in it)."""

    def __init__(self, sock: socket.socket, client: tuple[Any, ...], limits: Limits) -> None:
        self.sock, self.client, self.limits = sock, client, limits
        self.buffer = b""
        self.idle = True  # between requests: close() may cut it

    def _fill(self) -> bool:
        self.buffer += (data := self.sock.recv(65536))
        return bool(data)

    def next_head(self) -> Request | None:
        """The next request's head; None when the client closed between requests."""
        start = 0
        while True:
            buffer = self.buffer.lstrip(b"\r\n") if start == 0 else self.buffer
            end, skip = buffer.find(b"\r\n\r\n", start), 4
            bare = buffer.find(b"\n\n", start)
            if bare >= 0 and (end < 0 or bare < end):
                end, skip = bare, 2
            if (end if end >= 0 else len(buffer)) > self.limits.max_head:
                raise BadRequest(431, f"request head over {self.limits.max_head} bytes")
            if end >= 0:
                self.idle = False
                self.buffer = buffer[end + skip:]
                return parse_head(buffer[:end], self.client, self.limits)
            self.buffer, start = buffer, max(0, len(buffer) - 3)
            if not self._fill():
                return None

    def read_body(self, request: Request) -> None:
        if request.length and request.length > self.limits.max_body:
            raise BadRequest(413, f"body of {request.length} bytes exceeds "
                                  f"{self.limits.max_body} bytes")
        if request.expect_continue and not self.buffer and (request.length or request.chunked):
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if request.chunked:
            request.body = self._chunked()
        elif request.length:
            request.body = self._exactly(request.length)

    def _exactly(self, size: int) -> bytes:
        if len(self.buffer) >= size:
            data, self.buffer = self.buffer[:size], self.buffer[size:]
            return data
        body = bytearray(size)
        view = memoryview(body)
        have = len(self.buffer)
        view[:have], self.buffer = self.buffer, b""
        while have < size:  # straight into the body: no copy per segment
            got = self.sock.recv_into(view[have:], size - have)
            if not got:  # answered (a client that half-closed still reads): never a silence
                raise BadRequest(400, f"the body ended after {have} of {size} bytes")
            have += got
        return bytes(body)

    def _line(self) -> bytes:
        while (end := self.buffer.find(b"\n")) < 0:
            if len(self.buffer) > 4096:
                raise BadRequest(400, "chunk line over 4096 bytes")
            if not self._fill():
                raise BadRequest(400, "the chunked body ended before its last chunk")
        line, self.buffer = self.buffer[:end], self.buffer[end + 1:]
        return line.rstrip(b"\r")

    def _chunked(self) -> bytes:
        limit = min(self.limits.max_body, self.limits.max_chunked_body)
        parts: list[bytes] = []
        total = 0
        while True:
            size_text = self._line().split(b";", 1)[0].strip(b" \t")
            if not _HEX.fullmatch(size_text):  # int() would take "+5", "0x5" and "5_0"
                raise BadRequest(400, f"bad chunk size {size_text[:20]!r}")
            size = int(size_text, 16)
            if size == 0:
                while self._line():  # trailer fields, ignored
                    pass
                return b"".join(parts)
            total += size
            if total > limit:
                raise BadRequest(413, f"chunked body over {limit} bytes")
            parts.append(self._exactly(size))
            if self._line():
                raise BadRequest(400, "chunk data longer than its size")


class HttpCore:
    """Serves ``handler`` on ``listener``, a thread per connection; ``close()`` ends them all.
    ``handler_for(client_address)`` may pick each connection's handler instead, in its thread
    (the Runtime API serves a stranger differently from its runtime)."""

    def __init__(self, listener: socket.socket, handler: Handler, *, limits: Limits = Limits(),
                 screen: Callable[[Request], Response | None] | None = None,
                 error_body: Callable[[int, str], Response] = json_error,
                 handler_for: Callable[[tuple[Any, ...]], Handler] | None = None,
                 name: str = "http") -> None:
        self.listener, self.handler, self.limits = listener, handler, limits
        self.screen, self.error_body, self.handler_for = screen, error_body, handler_for
        self.name = name
        self._wake_r, self._wake_w = os.pipe()
        self._closing = False
        self._lock = threading.Lock()
        self._connections: dict[_Connection, threading.Thread] = {}
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"{name}-accept",
                                          daemon=True)

    def start(self) -> HttpCore:
        self._acceptor.start()
        return self

    __enter__ = start

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self, grace: float = 1.0) -> None:
        """Stop accepting; cut idle keep-alive connections at once, busy ones after their
        response or ``grace`` seconds; join the threads; close the listener. Safe twice."""
        if self._closing:
            return
        self._closing = True
        os.write(self._wake_w, b"x")
        if self._acceptor.is_alive():
            self._acceptor.join()
        self._cut(idle_only=True, wait=grace)
        self._cut(idle_only=False, wait=1.0)  # a thread stuck in its handler stays, a daemon
        self.listener.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _cut(self, idle_only: bool, wait: float) -> None:
        """Shut connections down (which wakes a thread in recv), then wait for the threads."""
        deadline = time.monotonic() + wait
        with self._lock:
            connections = dict(self._connections)
        for connection in connections:
            if connection.idle or not idle_only:
                with contextlib.suppress(OSError):
                    connection.sock.shutdown(socket.SHUT_RDWR)
        for thread in connections.values():
            if thread is not threading.current_thread():  # a handler may stop its own server
                thread.join(max(0.0, deadline - time.monotonic()))

    def _accept_loop(self) -> None:
        poller = select.poll()  # the wake pipe ends the wait at close(), with no polling
        poller.register(self.listener, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        self.listener.setblocking(False)
        while not self._closing:
            poller.poll()
            try:
                sock, client = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as exc:  # e.g. out of descriptors: wait a little, then try again
                log.warning("%s: accept failed: %s", self.name, exc)
                time.sleep(0.05)
                continue
            sock.setblocking(True)
            # Nagle off: a response is one write, and a client waiting on it (libcurl in the
            # runtime client) would otherwise meet the delayed ACK: ~40 ms a round trip.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = _Connection(sock, client, self.limits)
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True,
                                      name=f"{self.name}-conn")
            with self._lock:
                self._connections[connection] = thread
            thread.start()

    def _serve(self, connection: _Connection) -> None:
        sock = connection.sock
        out = SimpleNamespace(write=sock.sendall)
        try:
            handler = self.handler if self.handler_for is None else \
                self.handler_for(connection.client)
            while True:
                connection.idle = True  # set before the check, as close() reads them
                if self._closing or (request := connection.next_head()) is None:
                    return
                response = self.screen(request) if self.screen is not None else None
                refused = response is not None  # and its body left unread: close after
                if response is None:
                    connection.read_body(request)
                    response = _call(handler, request)
                close = refused or response.close or not request.keep_alive or self._closing
                write_response(out, response.status, response.headers, response.body,
                               close=close, head_only=request.method == "HEAD")
                if close:
                    return
        except BadRequest as bad:
            answer = self.error_body(*bad.args)
            with contextlib.suppress(OSError):
                write_response(out, answer.status, answer.headers, answer.body, close=True)
        except OSError:  # the client went away, or close() cut the connection
            pass
        finally:
            with self._lock:
                self._connections.pop(connection, None)
            sock.close()


def _call(handler: Handler, request: Request) -> Response:
    try:
        return handler(request)
    except Exception:  # noqa: BLE001 - a bug must not take the server down
        traceback.print_exc()
        return Response(500, [("Content-Type", "text/plain")],
                        b"internal error in the harness server")


def wsgi_handler(app: Callable[..., Iterable[bytes]], server_address: tuple[Any, ...]) -> Handler:
    """A handler serving the WSGI ``app`` (PEP 3333; the body is buffered in ``wsgi.input``)."""
    base = {"SCRIPT_NAME": "", "SERVER_NAME": str(server_address[0]), "SERVER_PORT":
            str(server_address[1]), "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False}

    def handle(request: Request) -> Response:
        answer: list[Any] = []
        written: list[bytes] = []

        def start_response(status: str, headers: list[Any], _exc: Any = None) -> Any:
            answer[:] = [status, headers]
            return written.append
        result = app(wsgi_environ(request, base), start_response)
        try:
            written.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return Response(answer[0], answer[1], b"".join(written))

    return handle


def wsgi_environ(request: Request, base: dict[str, Any]) -> dict[str, Any]:
    """The WSGI environ of ``request``; the CGI-style keys join repeated headers with commas."""
    raw_path, _, query = request.target.partition("?")
    environ = dict(base)
    environ.update({
        "REQUEST_METHOD": request.method,  # PATH_INFO: decoded, as latin-1 text (PEP 3333)
        "PATH_INFO": unquote(raw_path, encoding="latin-1") if "%" in raw_path else raw_path,
        "QUERY_STRING": query, "RAW_URI": request.target, "REQUEST_URI": request.target,
        "SERVER_PROTOCOL": request.version, "REMOTE_ADDR": str(request.client[0]),
        "REMOTE_PORT": str(request.client[1]), "CONTENT_LENGTH": str(len(request.body)),
        "wsgi.input": io.BytesIO(request.body), RAW_HEADERS_KEY: tuple(request.headers)})
    for name, value in request.headers:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
            continue
        if key != "CONTENT_TYPE":
            key = "HTTP_" + key
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ

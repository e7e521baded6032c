"""A strict reader of HTTP/1.1 responses as bytes, for tests that must see exactly what was sent.

Client libraries forgive (a bare LF, a header line without a colon, bytes after the body); this
reader does not, so a split or smuggled response cannot pass for a good one.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

_STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([0-9]{3}) ([\t\x20-\x7e\x80-\xff]*)")
_HEADER_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*")


class BadResponse(AssertionError):
    """The bytes are not a sequence of complete, well-formed responses."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]
    """(name, value) pairs in order; values are the bytes read as Latin-1."""
    body: bytes

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def parse_responses(data: bytes, *, head_only: bool = False) -> list[Response]:
    """Every response in ``data``; raises ``BadResponse`` unless all of it is complete ones.

    ``head_only``: the first answers a HEAD request, so it has no body, unless the server did
    not take the request for one (a request line too broken to read): then either reading that
    makes all of ``data`` complete responses is accepted.
    """
    if not data:
        raise BadResponse("no response at all (the connection closed without an answer)")
    first, rest = _parse_one(data, head_only)
    try:
        return [first, *_parse_rest(rest)]
    except BadResponse:
        if not head_only:
            raise
        first, rest = _parse_one(data, False)
        return [first, *_parse_rest(rest)]


def _parse_rest(rest: bytes) -> list[Response]:
    found = []
    while rest:
        response, rest = _parse_one(rest, False)
        found.append(response)
    return found


def parse_one(data: bytes, *, head_only: bool = False) -> Response:
    """The one response ``data`` must be: nothing before, inside or after it."""
    responses = parse_responses(data, head_only=head_only)
    if len(responses) != 1:
        raise BadResponse(f"{len(responses)} responses where one was asked for: {data[:300]!r}")
    return responses[0]


def _parse_one(data: bytes, head_only: bool) -> tuple[Response, bytes]:
    end = data.find(b"\r\n\r\n")
    if end < 0:
        raise BadResponse(f"incomplete head: {data[:300]!r}")
    lines = data[:end].split(b"\r\n")
    for line in lines:
        if b"\r" in line or b"\n" in line:
            raise BadResponse(f"a bare CR or LF inside the head: {line[:200]!r}")
    status_line = _STATUS_LINE.fullmatch(lines[0])
    if status_line is None:
        raise BadResponse(f"not a status line: {lines[0][:200]!r}")
    status = int(status_line.group(1))
    headers = []
    for line in lines[1:]:
        header = _HEADER_LINE.fullmatch(line)
        if header is None:
            raise BadResponse(f"not a header line: {line[:200]!r}")
        headers.append((header.group(1).decode("ascii"), header.group(2).decode("latin-1")))
    rest = data[end + 4:]
    lengths = [v for k, v in headers if k.lower() == "content-length"]
    if head_only or status in (204, 304) or 100 <= status < 200:
        return Response(status, tuple(headers), b""), rest
    if len(lengths) != 1 or not lengths[0].isdigit():
        raise BadResponse(f"status {status} without one Content-Length: {headers}")
    size = int(lengths[0])
    if len(rest) < size:
        raise BadResponse(f"body cut short: {len(rest)} of {size} bytes")
    return Response(status, tuple(headers), rest[:size]), rest[size:]


def exchange(port: int, data: bytes, timeout: float = 30.0) -> bytes:
    """Send ``data`` on a new connection, half-close it, and read until the server closes.

    A reset (a server closing with unread bytes) or a timeout ends the reading: what was read
    before is returned, and ``parse_responses`` then says whether it was a complete answer.
    """
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)

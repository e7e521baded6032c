"""The bytes of an HTTP/1.1 response, checked, for every listener the harness serves.

The one HTTP core (``harness.http_core``), serving the emulator and each Runtime API, writes
every response only through ``write_response``. What
cannot be framed safely never reaches the wire: a CR, LF or NUL that would split the response,
a header name that is not an RFC 9110 token, text with no single byte to stand for it, a status
that is not a final one. Such a response becomes 502 ``{"message": "Internal server error"}``
(API Gateway's words for an answer it cannot send) and the reason is logged, so every request
still gets a complete answer.

Header text is Latin-1, as PEP 3333 has it: each character is one byte on the wire, so bytes
0x80-0xFF (RFC 9110's obs-text) pass through; a caller with Unicode text encodes it first
(``utf8_as_latin1``).
"""

from __future__ import annotations

import http
import logging
import re
from collections.abc import Iterable
from typing import Protocol

from harness.errors import HarnessError

log = logging.getLogger("harness.http")

FALLBACK_STATUS = 502
FALLBACK_BODY = b'{"message": "Internal server error"}'
# The server frames the message itself: these are never taken from a caller.
FRAMING_HEADERS = frozenset({"content-length", "connection", "transfer-encoding"})
# RFC 9110 6.4.1 and 15.4.5: no content, and no Content-Length in a 204.
NO_CONTENT = frozenset({204, 304})
# RFC 9110 5.6.2: token = 1*tchar.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 5.5: field-value = *( VCHAR / obs-text / SP / HTAB ); CR, LF and NUL are "invalid and
# dangerous", the other controls are outside the grammar as well.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_BEYOND_LATIN1 = re.compile(r"[^\x00-\xff]")
_STATUS = re.compile(r"([0-9]{3})(?: (.*))?", re.DOTALL)
# Either problem at once: a value that passes this one search needs no other look (the search
# per kind, which names the problem, runs only for a value that fails it).
_UNSENDABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]")
_GOOD_NAMES: set[str] = set()
"""Header names seen to be tokens: a response's names repeat from one response to the next."""
_LINES: dict[int, str] = {}
"""Status lines of integer codes, made once each."""
_NAMED = {"\r": "CR", "\n": "LF", "\x00": "NUL", "\t": "HTAB", "\x7f": "DEL"}


class InvalidResponseHead(HarnessError):
    """A status or header that cannot go on the wire as it is; the message says why."""


class _Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


def describe(char: str) -> str:
    """A character as a reader of a log line can see it: ``CR``, ``U+00E9 'é'``."""
    if char in _NAMED:
        return _NAMED[char]
    return f"U+{ord(char):04X}" + (f" {char!r}" if char.isprintable() else "")


def control_problem(text: str) -> str | None:
    """Why ``text`` cannot be a header value because of a control character, or None."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    return f"holds the control character {describe(found.group())} at index {found.start()}"


def header_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a header name (RFC 9110 5.1: a token), or None."""
    if not isinstance(name, str):
        return f"header name {name!r} is not text"
    if not _TOKEN.fullmatch(name):
        return f"header name {_clip(name)} is not an RFC 9110 token"
    return None


def header_value_problem(name: str, value: object) -> str | None:
    """Why ``value`` cannot be the value of header ``name`` on the wire, or None."""
    if not isinstance(value, str):
        return f"header {name!r} value {value!r} is not text"
    if _UNSENDABLE.search(value) is None:
        return None
    problem = control_problem(value)
    if problem is None:
        wide = _BEYOND_LATIN1.search(value)
        if wide is not None:
            problem = (f"holds {describe(wide.group())} at index {wide.start()}, which has no "
                       "Latin-1 byte")
    return None if problem is None else f"header {name!r} value {_clip(value)} {problem}"


def utf8_as_latin1(text: str) -> str:
    """The Latin-1 text whose bytes are ``text`` in UTF-8: how a server is handed Unicode it
    must send as UTF-8 (PEP 3333's "bytes as str"). ASCII is unchanged."""
    return text if text.isascii() else text.encode("utf-8").decode("latin-1")


def status_line(status: int | str) -> tuple[int, str]:
    """The code and the status line (``HTTP/1.1 200 OK``) of ``200`` or ``"200 OK"``.

    Only final statuses (200-599) are sent: a 1xx would leave the client waiting for the real
    answer, and the others are not HTTP.
    """
    if isinstance(status, int) and not isinstance(status, bool):
        known = _LINES.get(status)
        if known is not None:
            return status, known
        code, reason = status, None
    else:
        found = _STATUS.fullmatch(status) if isinstance(status, str) else None
        if found is None:
            raise InvalidResponseHead(f"status {_clip(status)} is not a code and a reason")
        code, reason = int(found.group(1)), found.group(2)
    if not 200 <= code <= 599:
        raise InvalidResponseHead(f"status {code} is not a final HTTP status (200-599)")
    if reason is None:
        reason = _phrase(code)
    problem = control_problem(reason) or (
        "has no Latin-1 byte for a character" if _BEYOND_LATIN1.search(reason) else None)
    if problem is not None:
        raise InvalidResponseHead(f"status reason {_clip(reason)} {problem}")
    line = f"HTTP/1.1 {code} {reason}"
    if status is code:  # an integer code: its phrase is always the same
        _LINES[code] = line
    return code, line


def response_head(line: str, headers: Iterable[tuple[str, str]], *,
                  content_length: int | None, close: bool) -> bytes:
    """The head (status line, headers, framing, blank line) of one response.

    Framing headers among ``headers`` are dropped: the server sets them. Raises
    ``InvalidResponseHead`` naming the first header that cannot be sent.
    """
    lines = [line]
    for name, value in headers:
        if not (isinstance(name, str) and name in _GOOD_NAMES):
            problem = header_name_problem(name)
            if problem is not None:
                raise InvalidResponseHead(problem)
            if len(_GOOD_NAMES) < 4096:  # bounded: a caller may make up names
                _GOOD_NAMES.add(name)
        problem = header_value_problem(name, value)
        if problem is not None:
            raise InvalidResponseHead(problem)
        if name.lower() not in FRAMING_HEADERS:
            lines.append(f"{name}: {value}")
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def encode_response(status: int | str, headers: Iterable[tuple[str, str]], body: bytes, *,
                    close: bool = False, head_only: bool = False) -> tuple[bytes, str | None]:
    """The bytes of a whole response, and None; or, when it cannot be sent as asked, the bytes
    of the 502 that replaces it and the reason.

    ``head_only`` answers a HEAD request: no body, and the length a GET would get, which is the
    caller's own Content-Length when it gives one (a WSGI app answers HEAD without the body).
    """
    headers = list(headers)
    try:
        code, line = status_line(status)
        length: int | None = len(body)
        if code in NO_CONTENT:
            length = None
        elif head_only:
            length = _declared_length(headers, default=len(body))
        head = response_head(line, headers, content_length=length, close=close)
        return head + (b"" if head_only or length is None else body), None
    except InvalidResponseHead as refused:
        _, line = status_line(FALLBACK_STATUS)
        head = response_head(line, [("Content-Type", "application/json")],
                             content_length=len(FALLBACK_BODY), close=close)
        return head + (b"" if head_only else FALLBACK_BODY), refused.message


def write_response(wfile: _Writable, status: int | str, headers: Iterable[tuple[str, str]],
                   body: bytes, *, close: bool = False, head_only: bool = False) -> None:
    """Write one response in one write (a second small segment would wait on the client's
    delayed ACK); a response that cannot be sent is replaced by a 502 and the reason logged."""
    data, refused = encode_response(status, headers, body, close=close, head_only=head_only)
    if refused is not None:
        log.warning("response replaced by 502 Internal server error: %s", refused)
    wfile.write(data)


def _declared_length(headers: list[tuple[str, str]], default: int) -> int:
    declared = [value for name, value in headers
                if isinstance(name, str) and name.lower() == "content-length"]
    if len(declared) == 1 and isinstance(declared[0], str) and declared[0].isascii() \
            and declared[0].isdigit():
        return int(declared[0])
    return default


def _phrase(code: int) -> str:
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"


def _clip(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."

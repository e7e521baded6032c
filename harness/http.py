"""Plain request/response values shared by the emulator's routes; no sockets here."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request as the emulator received it."""

    method: str
    """Upper-case HTTP method."""
    path: str
    """Percent-decoded path, without the query string."""
    query_string: str = ""
    """Raw query string, without the leading '?'."""
    headers: tuple[tuple[str, str], ...] = ()
    """Header (name, value) pairs in arrival order; names keep their case."""
    body: bytes = b""
    """The whole request body."""
    source_ip: str = "127.0.0.1"
    """Address of the client."""

    def header(self, name: str, default: str | None = None) -> str | None:
        """First value of a header, matched without regard to case."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return default


@dataclass(frozen=True)
class HttpResponse:
    """One HTTP response to send back."""

    status: int
    headers: tuple[tuple[str, str], ...] = field(default=())
    body: bytes = b""

    @classmethod
    def json(cls, status: int, payload: object,
             headers: tuple[tuple[str, str], ...] = ()) -> HttpResponse:
        import json

        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, (("Content-Type", "application/json"), *headers), body)

"""Which tagged requests the emulator received and answered, each counted, for soak accounting.

A client that sends ``X-Harness-Request-Id: <whole number>`` (``harness load`` does on every
request) gets that request entered in the ledger twice: once when it arrives, once when the
emulator hands its status to the HTTP server. A request received twice, or answered twice or
never, shows up in `RequestLedger.snapshot`. Untagged requests pass straight through.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

HEADER = "X-Harness-Request-Id"
_ENVIRON_KEY = "HTTP_X_HARNESS_REQUEST_ID"
_MAX_ID_DIGITS = 18


@dataclass(frozen=True)
class LedgerEntry:
    received: int
    answered: int
    status: int
    """The HTTP status of the last answer (0: none yet)."""


class RequestLedger:
    """Thread-safe counts per request id: received, answered, last status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # id -> [received, answered, status]; lists keep one allocation per request
        self._entries: dict[int, list[int]] = {}
        self.malformed = 0
        """Requests whose id header was not a whole number (not entered)."""

    def received(self, request_id: int) -> None:
        with self._lock:
            entry = self._entries.get(request_id)
            if entry is None:
                self._entries[request_id] = [1, 0, 0]
            else:
                entry[0] += 1

    def answered(self, request_id: int, status: int) -> None:
        with self._lock:
            entry = self._entries.setdefault(request_id, [0, 0, 0])
            entry[1] += 1
            entry[2] = status

    def note_malformed(self) -> None:
        with self._lock:
            self.malformed += 1

    def snapshot(self) -> dict[int, LedgerEntry]:
        with self._lock:
            return {key: LedgerEntry(*value) for key, value in self._entries.items()}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.malformed = 0


def parse_id(raw: str) -> int | None:
    """The id in a header value, or None when it is not a whole number of at most 18 digits."""
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_ID_DIGITS:
        return None
    return int(text)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def ledger_middleware(app: WsgiApp, ledger: RequestLedger) -> WsgiApp:
    """Wrap a WSGI app so that tagged requests are entered in ``ledger``."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raw = environ.get(_ENVIRON_KEY)
        if raw is None:
            return app(environ, start_response)
        request_id = parse_id(raw)
        if request_id is None:
            ledger.note_malformed()
            return app(environ, start_response)
        ledger.received(request_id)

        def recording_start_response(status: str, headers: list[tuple[str, str]],
                                     exc_info: Any = None) -> Any:
            ledger.answered(request_id, int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info)

        return app(environ, recording_start_response)

    return wrapped

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
from itertools import islice
from typing import Any

HEADER = "X-Harness-Request-Id"
_ENVIRON_KEY = "HTTP_X_HARNESS_REQUEST_ID"
_MAX_ID_DIGITS = 18
MAX_ENTRIES = 100_000
"""Ids kept by default: ten times the soak's 10,000 requests (``EmulatorConfig``)."""


@dataclass(frozen=True)
class LedgerEntry:
    received: int
    answered: int
    status: int
    """The HTTP status of the last answer (0: none yet)."""


class RequestLedger:
    """Thread-safe counts per request id: received, answered, last status.

    Bounded: past ``max_entries`` ids, the oldest answered ones are evicted (then, if every id
    kept is still unanswered, the oldest of those), so a long-running emulator stays flat. What
    was evicted is counted, and ids that were irregular (received or answered other than once)
    are counted apart, so that an eviction never hides a problem: a soak whose ids were evicted
    finds them missing from the snapshot and reports them, it cannot pass by it.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError(f"a ledger must keep at least 1 entry, not {max_entries}")
        self._lock = threading.Lock()
        # id -> [received, answered, status], oldest first; lists keep one allocation per request
        self._entries: dict[int, list[int]] = {}
        self._max = max_entries
        # evicting a tenth at a time keeps the scan for answered ids off most requests
        self._slack = max(1, max_entries // 10)
        self.malformed = 0
        """Requests whose id header was not a whole number (not entered)."""
        self.evicted = 0
        """Entries dropped to keep the ledger within its bound."""
        self.evicted_irregular = 0
        """Of those, entries received or answered other than exactly once."""

    @property
    def max_entries(self) -> int:
        return self._max

    def received(self, request_id: int) -> None:
        with self._lock:
            entry = self._entries.get(request_id)
            if entry is None:
                self._entries[request_id] = [1, 0, 0]
                self._bound_locked()
            else:
                entry[0] += 1

    def answered(self, request_id: int, status: int) -> None:
        with self._lock:
            entry = self._entries.get(request_id)
            if entry is None:
                entry = self._entries[request_id] = [0, 0, 0]
                self._bound_locked()
            entry[1] += 1
            entry[2] = status

    def _bound_locked(self) -> None:
        if len(self._entries) <= self._max:
            return
        excess = len(self._entries) - max(1, self._max - self._slack)
        doomed = list(islice((key for key, entry in self._entries.items() if entry[1]), excess))
        if len(doomed) < excess:  # all the others are unanswered: the oldest of them go too
            chosen = set(doomed)
            doomed += islice((key for key in self._entries if key not in chosen),
                             excess - len(doomed))
        for key in doomed:
            received, answered, _status = self._entries.pop(key)
            self.evicted += 1
            self.evicted_irregular += received != 1 or answered != 1

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
            self.evicted = 0
            self.evicted_irregular = 0


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

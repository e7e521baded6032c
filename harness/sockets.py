"""A socketserver mixin that remembers open connections, so that a stop can cut them."""

from __future__ import annotations

import socket
import threading
from typing import Any


class TrackedConnections:
    """Mix in before a ``socketserver`` server class; ``cut_connections()`` ends keep-alives.

    A thread-per-connection server otherwise keeps a handler thread blocked on an idle
    keep-alive connection until the client goes away.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._tracked: set[socket.socket] = set()
        self._tracked_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._tracked_lock:
            self._tracked.add(request)
        super().process_request(request, client_address)  # type: ignore[misc]

    def shutdown_request(self, request: Any) -> None:
        with self._tracked_lock:
            self._tracked.discard(request)
        super().shutdown_request(request)  # type: ignore[misc]

    def cut_connections(self) -> None:
        with self._tracked_lock:
            for sock in list(self._tracked):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

"""moto's server dispatch without its per-request directory listing: ``DomainDispatcherApplication``
lists moto's package directory (an ``isdir`` for each of some 150 entries), under its one lock, on
every request, to see whether the Host names a service. The list cannot change while the process
runs, so it is read once (1.1 ms of a 4 ms SQS call here, and the lock is held that long less)."""

from __future__ import annotations

import threading

from moto import backends

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Read moto's service list once (idempotent, process-wide)."""
    global _installed
    with _lock:
        if _installed:
            return
        names = tuple(backends.list_of_moto_modules())
        setattr(backends, "list_of_moto_modules", lambda: names)  # noqa: B010 - a module function
        _installed = True

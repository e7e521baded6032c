"""A UDP socket that functions report their invocations to, so a test waits for an invocation
(a datagram) instead of polling logs, and reads when the handler started."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

RECORDING = '''
import json, os, socket, time
_SOCKET = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def handler(event, context):
    started = time.time()
    _SOCKET.sendto(json.dumps({"started": started, "event": event}).encode(),
                   ("127.0.0.1", int(os.environ["RECORDER_PORT"])))
    return {"ok": True}
'''
"""A function that sends ``{"started": its start time, "event": the event}`` per invocation."""


class Recorder:
    """``with Recorder() as r``: ``r.port`` goes to the function's ``RECORDER_PORT``."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]

    def environment(self) -> dict[str, Any]:
        return {"Variables": {"RECORDER_PORT": str(self.port)}}

    def next(self, deadline_s: float = 60) -> dict[str, Any]:
        """The next invocation's report; fails if none comes within the deadline."""
        self._socket.settimeout(deadline_s)
        try:
            data = self._socket.recv(65536)
        except TimeoutError:
            raise AssertionError(f"no invocation reported within {deadline_s} s") from None
        return json.loads(data)  # type: ignore[no-any-return]

    def take(self, count: int, deadline_s: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + deadline_s
        return [self.next(max(0.001, deadline - time.monotonic())) for _ in range(count)]

    def pending(self) -> list[dict[str, Any]]:
        """Every report already received and not yet read (none waited for)."""
        self._socket.setblocking(False)
        found = []
        try:
            while True:
                found.append(json.loads(self._socket.recv(65536)))
        except BlockingIOError:
            return found
        finally:
            self._socket.setblocking(True)

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

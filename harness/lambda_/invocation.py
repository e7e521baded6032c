"""One invocation as it travels through an execution environment."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


class Latch:
    """A one-shot event, set once, for any number of waiters: a lock held from birth and let go
    by ``set``. Cheaper than ``threading.Event`` (no Condition, no waiter lock per wait) on a
    path every invocation takes twice."""

    __slots__ = ("_lock", "_set")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self._set = False

    def set(self) -> None:
        """Let every waiter go; call it once (``Invocation._finish`` and ``hand_out`` do)."""
        self._set = True
        self._lock.release()

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None) -> bool:
        if self._set:
            return True
        if self._lock.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            self._lock.release()  # the next waiter goes too
            return True
        return self._set


@dataclass(frozen=True)
class RuntimeError_:
    """An error reported for an invocation, in the shape Lambda returns it."""

    error_type: str
    payload: bytes
    """JSON body: {errorMessage, errorType, requestId?, stackTrace?}."""


@dataclass
class Invocation:
    """An invocation handed to the runtime; the Runtime API completes it."""

    request_id: str
    payload: bytes
    function_arn: str
    timeout_s: float
    client_context: str | None = None
    trace_id: str | None = None
    deadline_ms: int = 0
    """Epoch milliseconds by which the function must answer; set when handed out."""
    started: float = 0.0
    """perf_counter() when the runtime took the invocation."""
    _done: Latch = field(default_factory=Latch, repr=False, compare=False)
    _handed: Latch = field(default_factory=Latch, repr=False, compare=False)
    _response: bytes | None = field(default=None, repr=False)
    _error: RuntimeError_ | None = field(default=None, repr=False)
    _verdict_lock: threading.Lock = field(default_factory=threading.Lock, repr=False,
                                          compare=False)
    finished: float = 0.0

    def hand_out(self) -> None:
        """The runtime has taken this invocation: its clock starts now."""
        self.started = time.perf_counter()
        self.deadline_ms = int(time.time() * 1000 + self.timeout_s * 1000)
        self._handed.set()

    def wait_handed_out(self, timeout: float | None) -> bool:
        """Wait until the runtime has taken this invocation; False if it has not in time."""
        return self._handed.wait(timeout)

    def succeed(self, body: bytes) -> bool:
        """Record the function's response; False if the invocation already ended."""
        return self._finish(body, None)

    def fail(self, error: RuntimeError_) -> bool:
        """Record a failure; False if the invocation already ended."""
        return self._finish(None, error)

    def _finish(self, body: bytes | None, error: RuntimeError_ | None) -> bool:
        """Set the verdict once: the first caller wins, every later one gets False.

        A response, the timeout, the runtime's exit and an injected fault can all end the same
        invocation at the same moment; whoever lost must act on the stored verdict, not on its
        own (see ``ExecutionEnvironment.invoke``).
        """
        with self._verdict_lock:
            if self._done.is_set():
                return False
            self.finished = time.perf_counter()
            self._response, self._error = body, error
            self._done.set()
        return True

    def wait(self, timeout: float | None) -> bool:
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def response(self) -> bytes | None:
        return self._response

    @property
    def error(self) -> RuntimeError_ | None:
        return self._error

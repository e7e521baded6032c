"""An execution environment: one runtime process behind its own Runtime API, as a state machine.

    STARTING ──> READY <──> INVOKING
        │          │           │
        └──────> FAILED <──────┘        any state ──> STOPPED
"""

from __future__ import annotations

import enum
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from harness.errors import HarnessError
from harness.lambda_.invocation import Invocation, RuntimeError_
from harness.lambda_.logs import Report, billed_duration_ms
from harness.lambda_.runtime_api import MAX_RESPONSE_BYTES, RuntimeApiServer
from harness.lambda_.spec import FunctionSpec


class State(enum.Enum):
    STARTING = "starting"
    READY = "ready"
    INVOKING = "invoking"
    FAILED = "failed"
    STOPPED = "stopped"


_ALLOWED: dict[State, frozenset[State]] = {
    State.STARTING: frozenset({State.READY, State.FAILED, State.STOPPED}),
    State.READY: frozenset({State.INVOKING, State.FAILED, State.STOPPED}),
    State.INVOKING: frozenset({State.READY, State.FAILED, State.STOPPED}),
    State.FAILED: frozenset({State.STOPPED}),
    State.STOPPED: frozenset(),
}


class IllegalTransition(HarnessError):
    """An environment was asked to move between states that do not connect."""


class RuntimeHandle(Protocol):
    """A started runtime (process or container) as the environment sees it."""

    def take_output(self) -> str: ...
    def peak_memory_mb(self) -> int: ...
    def kill(self) -> None: ...


class Launcher(Protocol):
    """Starts a runtime for a function against a Runtime API address."""

    def launch(self, spec: FunctionSpec, runtime_api: str, env_id: str,
               on_exit: Callable[[int], None]) -> RuntimeHandle: ...


@dataclass(frozen=True)
class InvokeRecord:
    """What one invocation produced, for the caller and for the logs."""

    request_id: str
    payload: bytes
    error_type: str | None
    """None on success; else Lambda's errorType (e.g. Runtime.ExitError)."""
    report: Report
    output: str
    """What the function printed during this invocation (and its init, on a cold start)."""
    env_id: str
    log_lines: tuple[str, ...] = ()
    """START, output, END and REPORT, once the record is published."""

    @property
    def cold(self) -> bool:
        return self.report.init_duration_ms is not None


def error_payload(error_type: str, message: str, request_id: str | None = None) -> bytes:
    body: dict[str, object] = {"errorType": error_type, "errorMessage": message}
    if request_id is not None:
        body = {"errorMessage": message, "errorType": error_type, "requestId": request_id,
                "stackTrace": []}
    return json.dumps(body).encode()


def _exit_message(code: int) -> str:
    return f"signal: {_signal_name(-code)}" if code < 0 else f"exit status {code}"


def _signal_name(signum: int) -> str:
    import signal

    try:
        return signal.Signals(signum).name.removeprefix("SIG").lower().replace("kill", "killed")
    except ValueError:
        return str(signum)


class ExecutionEnvironment:
    """One environment; the pool hands it out to one invocation at a time."""

    def __init__(self, spec: FunctionSpec, launcher: Launcher, env_id: str,
                 init_timeout_s: float = 10.0) -> None:
        self.spec = spec
        self.env_id = env_id
        self._launcher = launcher
        self._init_timeout_s = init_timeout_s
        self._lock = threading.Lock()
        self._state = State.STARTING
        self._queue: queue.SimpleQueue[Invocation | None] = queue.SimpleQueue()
        self._current: Invocation | None = None
        self._init_done = threading.Event()
        self._init_error: RuntimeError_ | None = None
        self._exit_code: int | None = None
        self._ready_at = 0.0
        self._server: RuntimeApiServer | None = None
        self._runtime: RuntimeHandle | None = None
        self.init_duration_ms: float | None = None
        self._cold_pending = True
        self.last_used = time.monotonic()

    # -- state machine -------------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self._state

    def _move(self, target: State) -> None:
        with self._lock:
            self._move_locked(target)

    def _move_locked(self, target: State) -> None:
        if target not in _ALLOWED[self._state]:
            raise IllegalTransition(
                f"environment {self.env_id}: {self._state.value} -> {target.value} is not allowed"
            )
        self._state = target

    # -- Runtime API backend -------------------------------------------------------------------
    def next_invocation(self) -> Invocation | None:
        if not self._init_done.is_set():
            self._ready_at = time.perf_counter()
            self._init_done.set()
        invocation = self._queue.get()
        if invocation is not None:
            invocation.hand_out()
        return invocation

    def invocation_response(self, request_id: str, body: bytes) -> int:
        current = self._current
        if current is None or current.request_id != request_id:
            return 400
        if len(body) > MAX_RESPONSE_BYTES:
            current.fail(RuntimeError_("Function.ResponseSizeTooLarge", error_payload(
                "Function.ResponseSizeTooLarge",
                f"Response payload size exceeded maximum allowed payload size "
                f"({MAX_RESPONSE_BYTES} bytes).")))
            return 413
        current.succeed(body)
        return 202

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> int:
        current = self._current
        if current is None or current.request_id != request_id:
            return 400
        current.fail(RuntimeError_(_error_type_of(body, error_type), body))
        return 202

    def init_error(self, body: bytes, error_type: str | None) -> None:
        self._init_error = RuntimeError_(_error_type_of(body, error_type), body)
        self._init_done.set()

    def _on_exit(self, code: int) -> None:
        self._exit_code = code
        current = self._current
        if current is not None:
            message = f"RequestId: {current.request_id} Error: Runtime exited with error: " \
                      f"{_exit_message(code)}"
            current.fail(RuntimeError_("Runtime.ExitError",
                                       error_payload("Runtime.ExitError", message)))
        self._init_done.set()

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> RuntimeError_ | None:
        """Start the runtime and wait for its init; returns the init error, if any."""
        self._server = RuntimeApiServer(self)
        self._server.start()
        started = time.perf_counter()
        self._runtime = self._launcher.launch(
            self.spec, self._server.address, self.env_id, self._on_exit)
        if not self._init_done.wait(self._init_timeout_s):
            return self._fail_init(RuntimeError_("Runtime.InitTimeout", error_payload(
                "Runtime.InitTimeout",
                f"Init timed out after {self._init_timeout_s:.2f} seconds")))
        if self._init_error is not None:
            return self._fail_init(self._init_error)
        if self._exit_code is not None:
            return self._fail_init(RuntimeError_("Runtime.ExitError", error_payload(
                "Runtime.ExitError",
                f"Runtime exited with error: {_exit_message(self._exit_code)}")))
        self.init_duration_ms = (self._ready_at - started) * 1000
        with self._lock:
            if self._state is State.STARTING:
                self._move_locked(State.READY)
        return None

    def _fail_init(self, error: RuntimeError_) -> RuntimeError_:
        with self._lock:
            if self._state is State.STARTING:
                self._move_locked(State.FAILED)
        self._kill_runtime()
        return error

    def take_init_output(self) -> str:
        return self._runtime.take_output() if self._runtime else ""

    def invoke(self, invocation: Invocation) -> InvokeRecord:
        """Run one invocation to its end: response, error, crash or timeout."""
        with self._lock:
            self._move_locked(State.INVOKING)
            self._current = invocation
        self._queue.put(invocation)
        timed_out = not self._await(invocation)
        if timed_out:
            message = f"Task timed out after {invocation.timeout_s:.2f} seconds"
            invocation.fail(RuntimeError_("Sandbox.Timedout", error_payload(
                "Sandbox.Timedout", f"RequestId: {invocation.request_id} Error: {message}")))
        error = invocation.error
        broken = timed_out or (error is not None and error.error_type in _FATAL_ERRORS)
        if broken:
            self._kill_runtime()
        output = self._runtime.take_output() if self._runtime else ""
        if timed_out:
            output += f"{_utc_stamp()} {invocation.request_id} {message}\n"
        record = self._record(invocation, output)
        with self._lock:
            self._current = None
            self.last_used = time.monotonic()
            if self._state is State.INVOKING:
                self._move_locked(State.FAILED if broken else State.READY)
        return record

    def _await(self, invocation: Invocation) -> bool:
        if invocation.wait(invocation.timeout_s):
            return True
        if invocation.started:
            remaining = invocation.started + invocation.timeout_s - time.perf_counter()
            if remaining > 0:
                return invocation.wait(remaining)
        return invocation.done

    def _record(self, invocation: Invocation, output: str) -> InvokeRecord:
        started = invocation.started or invocation.finished
        duration_ms = max(0.0, (invocation.finished - started) * 1000) if started else 0.0
        init_ms = self.init_duration_ms if self._cold_pending else None
        self._cold_pending = False
        report = Report(
            request_id=invocation.request_id,
            duration_ms=duration_ms,
            billed_duration_ms=billed_duration_ms(duration_ms, init_ms),
            memory_size_mb=self.spec.memory_mb,
            max_memory_used_mb=self._runtime.peak_memory_mb() if self._runtime else 0,
            init_duration_ms=init_ms,
        )
        error = invocation.error
        payload = invocation.response if error is None else error.payload
        return InvokeRecord(
            request_id=invocation.request_id, payload=payload or b"",
            error_type=None if error is None else error.error_type, report=report,
            output=output, env_id=self.env_id,
        )

    def _kill_runtime(self) -> None:
        if self._runtime is not None:
            self._runtime.kill()

    def stop(self) -> None:
        """Stop the runtime and the Runtime API; safe to call more than once."""
        with self._lock:
            if self._state is State.STOPPED:
                return
            self._move_locked(State.STOPPED)
        self._queue.put(None)
        self._kill_runtime()
        if self._server is not None:
            self._server.close()


_FATAL_ERRORS = frozenset({"Runtime.ExitError", "Sandbox.Timedout", "Runtime.OutOfMemory"})


def _error_type_of(body: bytes, header: str | None) -> str:
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict) and isinstance(parsed.get("errorType"), str):
            return str(parsed["errorType"])
    except ValueError:
        pass
    return header or "Unhandled"


def _utc_stamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"

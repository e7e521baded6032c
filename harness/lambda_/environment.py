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
from harness.lambda_.peers import connection_from
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


class InitFailed(HarnessError):
    """A launcher could not give an environment a runtime because an init that runs before any
    environment's failed (template mode: the template's); the environment's init fails with it."""

    def __init__(self, error: RuntimeError_, output: str) -> None:
        super().__init__(error.error_type)
        self.error = error
        self.output = output


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
        return self.report.cold

    def with_log_lines(self, lines: tuple[str, ...]) -> InvokeRecord:
        """This record, published (``dataclasses.replace`` costs five times as much)."""
        return InvokeRecord(self.request_id, self.payload, self.error_type, self.report,
                            self.output, self.env_id, lines)


def error_payload(error_type: str, message: str, request_id: str | None = None) -> bytes:
    body: dict[str, object] = {"errorType": error_type, "errorMessage": message}
    if request_id is not None:
        body = {"errorMessage": message, "errorType": error_type, "requestId": request_id,
                "stackTrace": []}
    # Compact, as Lambda writes the errors of its own (and AWS's emulator agrees).
    return json.dumps(body, separators=(",", ":")).encode()


def exit_message(code: int) -> str:
    """How Lambda words a runtime's exit: ``exit status 1``, ``signal: killed``."""
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
                 init_timeout_s: float = 10.0, *, restore: bool = False) -> None:
        self.spec = spec
        self.restore = restore
        """SnapStart: the runtime is restored from a snapshot (``launcher`` forks it from the
        version's template) and runs its after-restore hooks, within ``init_timeout_s``."""
        self._restore_hooks_at = 0.0
        self.env_id = env_id
        self._launcher = launcher
        self._init_timeout_s = init_timeout_s
        self._lock = threading.Lock()
        self._state = State.STARTING
        self._queue: queue.SimpleQueue[Invocation | None] = queue.SimpleQueue()
        self._current: Invocation | None = None
        self._fault: str | None = None
        """The injected Lambda fault (timeout, crash, oom) of the current invocation, if any."""
        self._init_done = threading.Event()
        self._stopped = threading.Event()
        self._init_output = ""
        """A failed launch's init output (the runtime's own is taken from it)."""
        self._launched = threading.Event()
        """Set once the launcher has handed back the runtime (or failed, or the stop began)."""
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
        # An init that went over the memory limit ends in the runtime's exit, not here.
        if not self._init_done.is_set() and not self._over_memory():
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
            too_large = RuntimeError_("Function.ResponseSizeTooLarge", error_payload(
                "Function.ResponseSizeTooLarge",
                f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload "
                f"size ({MAX_RESPONSE_BYTES} bytes)."))
            return 413 if current.fail(too_large) else _late_status(current)
        if self._fault in INJECTED_FAULTS:  # the injected fault ends the invocation instead
            return 202
        # Over memory, its exit fails the invocation (Runtime.OutOfMemory); else the first
        # verdict stands and a response that came after it is refused.
        if not self._over_memory() and not current.succeed(body):
            return _late_status(current)
        return 202

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> int:
        current = self._current
        if current is None or current.request_id != request_id:
            return 400
        if self._fault in INJECTED_FAULTS:
            return 202
        if not self._over_memory() and not current.fail(
                RuntimeError_(_error_type_of(body, error_type), body)):
            return _late_status(current)
        return 202

    def init_error(self, body: bytes, error_type: str | None) -> int:
        if self._init_done.is_set():  # init is over (or the runtime exited): nothing to fail
            return 403
        self._init_error = RuntimeError_(_error_type_of(body, error_type), body)
        self._init_done.set()
        return 202

    def restore_next(self) -> int:
        if not self.restore or self._init_done.is_set():
            return 403
        self._restore_hooks_at = time.perf_counter()
        return 200

    def restore_error(self, body: bytes, error_type: str | None) -> int:
        if not self.restore or self._init_done.is_set():
            return 403
        self._init_error = RuntimeError_(SNAPSTART_ERROR, body)
        self._init_done.set()
        return 202

    def _on_exit(self, code: int) -> None:
        self._exit_code = code
        current = self._current
        if current is not None:
            message = f"RequestId: {current.request_id} Error: Runtime exited with error: " \
                      f"{exit_message(code)}"
            # A container runtime knows when the kernel killed it for memory; AWS says so too.
            kind = ("Runtime.OutOfMemory" if self._fault == "oom"
                    or getattr(self._runtime, "out_of_memory", False) else "Runtime.ExitError")
            current.fail(RuntimeError_(kind, error_payload(kind, message)))
        with self._lock:
            if self._state is State.READY:  # died while idle: it must not be handed out again
                self._move_locked(State.FAILED)
        self._init_done.set()

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> RuntimeError_ | None:
        """Start the runtime and wait for its init; returns the init error, if any."""
        self._server = RuntimeApiServer(self, peer_check=self._is_own_peer)
        self._server.start()
        started = asked = time.perf_counter()
        try:
            self._runtime = self._launcher.launch(
                self.spec, self._server.address, self.env_id, self._on_exit)
        except InitFailed as failed:
            self._init_output = failed.output
            return self._fail_init(failed.error)
        finally:
            self._launched.set()
        if not self._watching_memory(self._init_done.wait, self._init_timeout_s):
            if self.restore:
                return self._fail_init(RuntimeError_(SNAPSTART_TIMEOUT, error_payload(
                    SNAPSTART_TIMEOUT, "Lambda couldn't restore the snapshot within the "
                    f"timeout limit ({self._init_timeout_s:.0f} s of after-restore hooks).")))
            return self._fail_init(RuntimeError_("Runtime.InitTimeout", error_payload(
                "Runtime.InitTimeout",
                f"Init timed out after {self._init_timeout_s:.2f} seconds")))
        if self._init_error is not None:
            return self._fail_init(self._init_error)
        if self._exit_code is not None:
            kind = ("Runtime.OutOfMemory" if getattr(self._runtime, "out_of_memory", False)
                    else "Runtime.ExitError")
            return self._fail_init(RuntimeError_(kind, error_payload(
                kind, f"Runtime exited with error: {exit_message(self._exit_code)}")))
        # From the runtime's spawn, if it says when that was: building its packages is not init.
        started = getattr(self._runtime, "started_at", None) or started
        self.init_duration_ms = (self._ready_at - started) * 1000
        self._as_templated(asked)
        with self._lock:
            if self._state is State.STARTING:
                self._move_locked(State.READY)
        return None

    def _as_templated(self, asked: float) -> None:
        """Template mode: the init ran once, in the template; this environment reports the
        template's Init Duration and, holding back, is ready that long after it was asked for,
        as an environment with its own CPU would be."""
        init_ms = getattr(self._runtime, "template_init_ms", None)
        if init_ms is None:
            return
        self.init_duration_ms = init_ms
        if getattr(self._runtime, "hold_init", False):
            self._stopped.wait(max(0.0, asked + init_ms / 1000 - time.perf_counter()))

    def _fail_init(self, error: RuntimeError_) -> RuntimeError_:
        with self._lock:
            if self._state is State.STARTING:
                self._move_locked(State.FAILED)
        self._kill_runtime()
        return error

    def take_init_output(self) -> str:
        return self._runtime.take_output() if self._runtime else self._init_output

    def invoke(self, invocation: Invocation, fault: str | None = None) -> InvokeRecord:
        """Run one invocation to its end: response, error, crash or timeout.

        ``fault`` (one of INJECTED_FAULTS) makes it end as that failure would, once the runtime
        has taken it: ``crash`` SIGKILLs the runtime (Runtime.ExitError, "signal: killed"),
        ``oom`` does too but reports Runtime.OutOfMemory as the memory limit does, and
        ``timeout`` times it out at once, without waiting out the function's timeout (its REPORT
        still says Duration = the timeout). Either way the environment is not reused.
        """
        with self._lock:
            self._move_locked(State.INVOKING)
            self._current = invocation
            self._fault = fault if fault in INJECTED_FAULTS else None
        self._queue.put(invocation)
        if self._fault is not None:
            timed_out = self._inject(invocation)
        else:
            timed_out = not self._await(invocation)
        message = f"Task timed out after {invocation.timeout_s:.2f} seconds"
        # A response that slipped in after the wait gave up wins: the verdict is set once, and
        # everything below acts on the stored one.
        timed_out = timed_out and invocation.fail(RuntimeError_("Sandbox.Timedout", error_payload(
            "Sandbox.Timedout", f"RequestId: {invocation.request_id} Error: {message}")))
        error = invocation.error
        broken = timed_out or (error is not None and error.error_type in _FATAL_ERRORS)
        if broken:
            self._kill_runtime()
        output = self._runtime.take_output() if self._runtime else ""
        if timed_out:
            output += f"{_utc_stamp()} {invocation.request_id} {message}\n"
        record = self._record(invocation, output,
                              invocation.timeout_s * 1000 if self._fault == "timeout" else None)
        with self._lock:
            self._current = None
            self._fault = None
            self.last_used = time.monotonic()
            if self._state is State.INVOKING:
                self._move_locked(State.FAILED if broken else State.READY)
        return record

    def _inject(self, invocation: Invocation) -> bool:
        """End ``invocation`` by the injected fault once handed out; True if it timed out."""
        if not invocation.wait_handed_out(invocation.timeout_s):
            return not invocation.done  # never taken (the runtime died): a timeout, as usual
        if self._fault == "timeout":
            return True
        self._kill_runtime()  # its exit fails the invocation (see _on_exit) ...
        kind = "Runtime.OutOfMemory" if self._fault == "oom" else "Runtime.ExitError"
        invocation.fail(RuntimeError_(kind, error_payload(  # ... unless that exit is late
            kind, f"RequestId: {invocation.request_id} Error: Runtime exited with error: "
                  f"{exit_message(-9)}")))
        return False

    def _await(self, invocation: Invocation) -> bool:
        if self._watching_memory(invocation.wait, invocation.timeout_s):
            return True
        if invocation.started:
            remaining = invocation.started + invocation.timeout_s - time.perf_counter()
            if remaining > 0:
                return self._watching_memory(invocation.wait, remaining)
        return invocation.done

    def _over_memory(self) -> bool:
        """Whether the runtime went over MemorySize (it is then being killed); exact, see below."""
        check = getattr(self._runtime, "check_memory", None)
        return bool(check is not None and check())

    def _watching_memory(self, wait: Callable[[float], bool], timeout: float) -> bool:
        """``wait(timeout)``, checking the runtime's memory every MEMORY_CHECK_S meanwhile.

        The check reads the process's peak (VmHWM), so a spike between two checks is still seen,
        by the next one; the kill then comes up to MEMORY_CHECK_S late. The checks at init end
        and at each response make the verdict exact whatever the timing. An invocation shorter
        than MEMORY_CHECK_S costs no check here at all. (A container's engine enforces its limit
        itself, and its runtime has no ``check_memory``.)
        """
        if getattr(self._runtime, "check_memory", None) is None:
            return wait(timeout)
        deadline = time.perf_counter() + timeout
        while not wait(max(0.0, min(MEMORY_CHECK_S, deadline - time.perf_counter()))):
            if time.perf_counter() >= deadline:
                return False
            self._over_memory()
        return True

    def _record(self, invocation: Invocation, output: str,
                duration_ms: float | None = None) -> InvokeRecord:
        if duration_ms is None:
            started = invocation.started or invocation.finished
            duration_ms = max(0.0, (invocation.finished - started) * 1000) if started else 0.0
        init_ms = self.init_duration_ms if self._cold_pending else None
        self._cold_pending = False
        restore_ms = billed_restore_ms = None
        if self.restore and init_ms is not None:
            # AWS bills the runtime's load and the after-restore hooks, not the snapshot's
            # restore: here, from the runtime's call to /restore/next to its first /next.
            restore_ms, init_ms = init_ms, None
            hooks_ms = (self._ready_at - (self._restore_hooks_at or self._ready_at)) * 1000
            billed_restore_ms = billed_duration_ms(hooks_ms)
        report = Report(
            request_id=invocation.request_id,
            duration_ms=duration_ms,
            billed_duration_ms=billed_duration_ms(duration_ms, init_ms),
            memory_size_mb=self.spec.memory_mb,
            # Lambda never reports more than MemorySize: the function is killed at the limit.
            max_memory_used_mb=min(self.spec.memory_mb, self._runtime.peak_memory_mb())
            if self._runtime else 0,
            init_duration_ms=init_ms,
            restore_duration_ms=restore_ms,
            billed_restore_duration_ms=billed_restore_ms,
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

    def _is_own_peer(self, client: tuple[object, ...], server: tuple[object, ...]) -> bool:
        """Whether a Runtime API connection comes from this environment's own processes.

        A runtime that cannot name its processes (no ``pids()``, or None from it: a container
        this host cannot see into) is trusted, as before there was a check.
        """
        # The runtime may connect before launch() has handed back its handle.
        self._launched.wait(self._init_timeout_s)
        runtime = self._runtime
        if runtime is None:
            return False
        pids = getattr(runtime, "pids", None)
        found = pids() if pids is not None else None
        return found is None or connection_from(client, server, found)

    def stop(self) -> None:
        """Stop the runtime and its processes, then the Runtime API; safe to call more than once."""
        with self._lock:
            if self._state is State.STOPPED:
                return
            self._move_locked(State.STOPPED)
        self._stopped.set()
        self._launched.set()
        self._queue.put(None)
        self._kill_runtime()
        if self._server is not None:
            self._server.close()


SNAPSTART_ERROR = "SnapStartException"
"""An after-restore hook failed (Invoke's error, 400)."""
SNAPSTART_TIMEOUT = "SnapStartTimeoutException"
"""The after-restore hooks ran past their 10 s (Invoke's error, 408)."""

INJECTED_FAULTS = frozenset({"timeout", "crash", "oom"})
"""Lambda faults an environment applies itself (throttle and latency happen before it)."""

MEMORY_CHECK_S = 0.01
"""How often a waiting invocation (or init) checks its runtime's memory."""

# The runtime client exits when the Runtime API refuses a response as too large (so does
# AWS's: the environment is not reused), hence Function.ResponseSizeTooLarge is fatal too.
_FATAL_ERRORS = frozenset({"Runtime.ExitError", "Sandbox.Timedout", "Runtime.OutOfMemory",
                           "Function.ResponseSizeTooLarge"})


def _late_status(invocation: Invocation) -> int:
    """What the Runtime API answers a result that came after the verdict, as AWS's emulator
    does: 410 InvokeTimeout once the invocation timed out, else 400 InvalidRequestID."""
    error = invocation.error
    return 410 if error is not None and error.error_type == "Sandbox.Timedout" else 400


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

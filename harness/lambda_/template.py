"""An initialised template of one function version: its init runs once, then execution
environments are forked from it (SnapStart's snapshot and restore, on this machine).

The template is a runtime (``template_runtime`` in the function's interpreter, under its own
supervisor) that runs awslambdaric's init and, for SnapStart, the before-snapshot hooks, then
waits on a control socket. ``launch`` (the ``Launcher`` of the version's environments) sends it
an environment's variables and three pipes; it forks, and the fork becomes a supervisor in its
own session with its runtime below it, exactly as a launched runtime is, but with the init
already done. Each fork has its own Runtime API address, credentials, TMPDIR, output, memory
check (its peak RSS, the template's pages it shares included, as Max Memory Used on AWS) and
lifeline; stopping it kills its tree only. Closing the template ends it; its supervisor then
kills whatever is left below it, forks included.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from typing import IO

from harness.lambda_.environment import InitFailed, RuntimeHandle, error_payload, exit_message
from harness.lambda_.invocation import Invocation, RuntimeError_
from harness.lambda_.launcher import ProcessLauncher
from harness.lambda_.peers import connection_from
from harness.lambda_.process import RuntimeProcess, readable
from harness.lambda_.runtime_api import RuntimeApiServer
from harness.lambda_.spec import FunctionSpec

SNAP_START = "snap-start"
# AWS hides these from SnapStart functions: a snapshot is shared by many environments.
_HIDDEN = ("AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME")
_REPLY_WAIT_S = 30.0  # a fork answers in milliseconds; only a stalled machine waits longer


class TemplateError(InitFailed):
    """The template could not be made: its init failed, timed out, or it exited."""


class _ForkedSupervisor:
    """What ``RuntimeProcess`` needs of a ``Popen``, for a supervisor the template forked (the
    template reaps it; a pidfd waits for it and kills it without a pid-reuse race)."""

    def __init__(self, pid: int, stdout: IO[bytes], stdin: IO[bytes]) -> None:
        self.pid = pid
        self.stdout = stdout
        self.stdin = stdin
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:
            self._pidfd = None  # already gone

    def wait(self, timeout: float | None = None) -> int:
        if self._pidfd is not None:
            if not readable(self._pidfd, timeout):
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0.0)
            os.close(self._pidfd)
            self._pidfd = None
        return 0

    def kill(self) -> None:
        if self._pidfd is not None:
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)


class ForkedProcess(RuntimeProcess):
    """A runtime forked from a template: a ``RuntimeProcess`` whose spawn is a fork request."""

    template_init_ms: float | None = None
    """Template mode (not SnapStart): the Init Duration its environment reports."""
    hold_init = False
    """Template mode: its environment holds back its first response by that Init Duration."""

    def __init__(self, template: RuntimeTemplate, env: Mapping[str, str],
                 on_exit: Callable[[int], None], memory_limit_mb: int, tmp_dir: str,
                 preamble: str = "") -> None:
        super().__init__([], cwd="", env=env, on_exit=on_exit, memory_limit_mb=memory_limit_mb,
                         preamble=preamble)
        self._template = template
        self._tmp_dir = tmp_dir

    def _spawn(self) -> tuple[subprocess.Popen[bytes], int]:
        out_r, out_w = os.pipe()
        status_r, status_w = os.pipe()
        life_r, life_w = os.pipe()
        try:
            pid = self._template.fork_request(self._env, (out_w, status_w, life_r))
        except BaseException:
            for fd in (out_r, status_r, life_w):
                os.close(fd)
            raise
        finally:
            for fd in (out_w, status_w, life_r):
                os.close(fd)
        proc = _ForkedSupervisor(pid, os.fdopen(out_r, "rb", buffering=0),
                                 os.fdopen(life_w, "wb", buffering=0))
        return proc, status_r  # type: ignore[return-value]

    def _finish(self) -> int:
        try:
            return super()._finish()
        finally:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)


class RuntimeTemplate:
    """The template of one function version; ``launch`` forks an environment's runtime."""

    def __init__(self, spec: FunctionSpec, launcher: ProcessLauncher, template_id: str,
                 mode: str = SNAP_START) -> None:
        self.spec = spec
        self.template_id = template_id
        self.mode = mode
        self._launcher = launcher
        self._server: RuntimeApiServer | None = None
        self._control: socket.socket | None = None
        self._runtime: RuntimeProcess | None = None
        self._lock = threading.Lock()
        self._launched = threading.Event()
        self._init_error: RuntimeError_ | None = None
        self._exit_code: int | None = None
        self.init_duration_ms = 0.0
        self.threads = 0
        """Python threads alive in the template when it became ready (1: only its own)."""
        self.tasks = 0
        """Its kernel tasks then (native threads, e.g. a BLAS pool, included)."""

    # -- the template's own Runtime API: only an init error may come --------------------------
    def next_invocation(self) -> Invocation | None:
        return None

    def invocation_response(self, request_id: str, body: bytes) -> int:
        return 400

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> int:
        return 400

    def init_error(self, body: bytes, error_type: str | None) -> int:
        self._init_error = RuntimeError_(error_type or "Runtime.Unknown", body)
        return 202

    def restore_next(self) -> int:
        return 403

    def restore_error(self, body: bytes, error_type: str | None) -> int:
        return 403

    def _on_exit(self, code: int) -> None:
        self._exit_code = code

    def _is_own_peer(self, client: tuple[object, ...], server: tuple[object, ...]) -> bool:
        """Only the template's own runtime may post its init error (as an environment's)."""
        self._launched.wait(_REPLY_WAIT_S)  # it may connect before launch_template returns
        runtime = self._runtime
        return runtime is not None and connection_from(client, server, runtime.pids())

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, timeout_s: float) -> str:
        """Run the init (and before-snapshot hooks); its output. TemplateError if it fails."""
        self._server = RuntimeApiServer(self, peer_check=self._is_own_peer)
        self._server.start()
        control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._control = control
        env, notes = self._launcher.environment_for(self.spec, self._server.address,
                                                    self.template_id)
        env = self._environment(env)
        started = time.perf_counter()
        try:
            self._runtime = self._launcher.launch_template(
                self.spec, self._server.address, self.template_id, theirs.fileno(),
                self._on_exit, env, notes)
        finally:
            theirs.close()
            self._launched.set()
        ready = self._await_ready(timeout_s)
        output = self._runtime.take_output()
        if ready is None:
            error = self._init_error or self._no_init(timeout_s)
            self.close()
            raise TemplateError(error, output)
        self.init_duration_ms = (time.perf_counter() - started) * 1000
        _, threads, tasks = ready.split()
        self.threads, self.tasks = int(threads), int(tasks)
        return output

    def _no_init(self, timeout_s: float) -> RuntimeError_:
        """Why the init never ended: it timed out, or the runtime exited (over memory, say)."""
        if self._runtime is not None and self._runtime.out_of_memory:
            kind, message = "Runtime.OutOfMemory", f"Runtime exited with error: {exit_message(-9)}"
        elif self._exit_code is None:
            kind, message = "Runtime.InitTimeout", f"Init timed out after {timeout_s:.2f} seconds"
        else:
            kind = "Runtime.ExitError"
            message = f"Runtime exited with error: {exit_message(self._exit_code)}"
        return RuntimeError_(kind, error_payload(kind, message))

    def _environment(self, env: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in env.items() if not (self.mode == SNAP_START and k in _HIDDEN)}
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = self.mode
        return env

    def _await_ready(self, timeout_s: float) -> str | None:
        """The template's ``ready`` message, or None if it failed, exited or timed out."""
        deadline = time.monotonic() + timeout_s
        while self._exit_code is None and self._init_error is None:
            if self._runtime is not None:
                self._runtime.check_memory()  # over MemorySize: killed, its exit ends the wait
            remaining = min(0.05, deadline - time.monotonic())
            control = self._control
            if remaining <= 0 or control is None:  # timed out, or closed meanwhile
                return None
            if readable(control, remaining):
                try:
                    message = control.recv(256).decode()
                except OSError:  # closed meanwhile
                    return None
                # Over MemorySize at its end, the init fails as a real one would.
                over = self._runtime is not None and self._runtime.check_memory()
                return message if message.startswith("ready") and not over else None
        return None

    def launch(self, spec: FunctionSpec, runtime_api: str, env_id: str,
               on_exit: Callable[[int], None]) -> RuntimeHandle:
        """An environment's runtime, forked from the template (the environments' Launcher)."""
        return self.fork(spec, runtime_api, env_id, on_exit)

    def fork(self, spec: FunctionSpec, runtime_api: str, env_id: str,
             on_exit: Callable[[int], None], preamble: str = "") -> ForkedProcess:
        """An environment's runtime, forked from the template; ``preamble`` starts its output."""
        env, _notes = self._launcher.environment_for(spec, runtime_api, env_id)
        env = self._environment(env)
        tmp_dir = tempfile.mkdtemp(prefix=f"harness-tmp-{env_id}-")
        env["TMPDIR"] = tmp_dir
        process = ForkedProcess(self, env, on_exit, spec.memory_mb, tmp_dir, preamble)
        try:
            process.start()
        except BaseException:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise
        return process

    def fork_request(self, env: Mapping[str, str], fds: tuple[int, int, int]) -> int:
        """Have the template fork with ``env`` and ``fds`` (output, status, lifeline); the
        fork's pid (its supervisor's)."""
        with self._lock:
            control = self._control
            if control is None:
                raise TemplateError(RuntimeError_("Runtime.ExitError", error_payload(
                    "Runtime.ExitError", "the version's template is stopped")), "")
            socket.send_fds(control, [json.dumps({"env": dict(env)}).encode()], list(fds))
            if not readable(control, _REPLY_WAIT_S):
                raise TemplateError(RuntimeError_("Runtime.ExitError", error_payload(
                    "Runtime.ExitError", "the version's template did not fork")), "")
            reply = control.recv(64)
        if not reply:
            raise TemplateError(RuntimeError_("Runtime.ExitError", error_payload(
                "Runtime.ExitError", "the version's template exited")), "")
        return int(reply)

    def take_output(self) -> str:
        """What the template printed since (a before-snapshot hook's output, say)."""
        return self._runtime.take_output() if self._runtime else ""

    def close(self) -> None:
        """End the template and whatever is left below it; its Runtime API too."""
        with self._lock:
            control, self._control = self._control, None
        if control is not None:
            control.close()
        if self._runtime is not None:
            self._runtime.kill()
        if self._server is not None:
            self._server.close()

"""A runtime client (``python -m awslambdaric``) running as a child process of the harness."""

from __future__ import annotations

import fcntl
import math
import os
import select
import selectors
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from harness.lambda_ import supervisor
from harness.lambda_.output import BoundedOutput

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

_READ_CHUNK = 65536
_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, Linux
_PIPE_BYTES = 1024 * 1024
_DRAIN_READS = _PIPE_BYTES // _READ_CHUNK
_EMPTIED, _MORE, _CLOSED = "emptied", "more", "closed"  # what a drain left in the pipe
_POLL_S = 0.02
_PEAK_FRESH_S = 0.002  # a peak read this recently stands for the REPORT line
# The supervisor reports within milliseconds and kills with SIGKILL: these bounds are only met
# by a machine that has stalled, and then the harness gives up waiting instead of hanging.
_REPORT_WAIT_S = 30.0
_STOP_WAIT_S = 10.0


def readable(source: FileDescriptorLike, timeout: float | None) -> bool:
    """Whether ``source`` (a descriptor, or anything with ``fileno()``) has something to read
    within ``timeout`` seconds. poll(), not select(): the emulator may hold more than 1,024
    descriptors (select's FD_SETSIZE) with hundreds of environments alive."""
    poller = select.poll()
    try:
        poller.register(source, select.POLLIN | select.POLLHUP | select.POLLERR)
    except ValueError:  # closed meanwhile: the read that follows says so
        return True
    return bool(poller.poll(None if timeout is None else max(0, math.ceil(timeout * 1000))))


def _read_peak_rss_kib(pid: int) -> int:
    """Peak resident memory of a process (VmHWM) in KiB; 0 once it is gone.

    The kernel raises the high-water mark before it frees pages, so it is exact: it catches a spike
    that came and went between two reads.
    """
    try:
        fd = os.open(f"/proc/{pid}/status", os.O_RDONLY)
        try:
            data = os.read(fd, 4096)
        finally:
            os.close(fd)
        start = data.index(b"VmHWM:") + 6
        return int(data[start:data.index(b"kB", start)])
    except (OSError, ValueError):
        return 0


def _read_peak_rss_mb(pid: int) -> int:
    """Peak resident memory of a process (VmHWM), in MB as Lambda rounds it."""
    kib = _read_peak_rss_kib(pid)
    return max(1, round(kib / 1024)) if kib else 0


def supervised(argv: Sequence[str], status_fd: int) -> list[str]:
    """``python [flags] -c CODE ARGS...`` run as the child of its own supervisor (see
    ``harness.lambda_.supervisor``), in the same interpreter with the same flags."""
    argv = list(argv)
    at = argv.index("-c") if "-c" in argv[1:-1] else -1
    if at < 1:
        raise ValueError(f"a runtime command is `python [flags] -c CODE [ARGS]`, not {argv[:3]}")
    return [*argv[:at], "-c", supervisor.LOADER, os.path.dirname(supervisor.__file__),
            str(status_fd), *argv[at + 1:]]


class RuntimeProcess:
    """One runtime process: its output, its peak memory, its memory limit and its exit.

    The runtime runs under a supervisor process of its own, which kills every process the
    function started when the runtime exits, when ``kill`` asks, or when the harness dies (even
    by SIGKILL); see ``harness.lambda_.supervisor``.

    Output is read without blocking, so everything the function wrote before it posted its response
    is taken with that invocation (the pipe already holds it), and nothing is lost at exit.
    ``preamble`` is output of the harness's own that comes first (it lands in the init output).
    """

    def __init__(self, argv: Sequence[str], *, cwd: str, env: Mapping[str, str],
                 on_exit: Callable[[int], None], memory_limit_mb: int | None = None,
                 preamble: str = "", pass_fds: Sequence[int] = ()) -> None:
        self._argv = list(argv)
        self._pass_fds = tuple(pass_fds)
        self._cwd = cwd
        self._env = dict(env)
        self._on_exit = on_exit
        self._proc: subprocess.Popen[bytes] | None = None
        self._output = BoundedOutput(preamble=preamble.encode())
        self._memory_limit_kib = memory_limit_mb * 1024 if memory_limit_mb else None
        self._out_of_memory = False
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._fd = -1
        self._status_fd = -1
        self._status = bytearray()
        self._runtime_pid: int | None = None
        self._exit_code: int | None = None
        self._lifeline_lock = threading.Lock()
        self._peak_mb = 0
        self.started_at = 0.0
        """perf_counter() when the process was spawned."""

    @property
    def pid(self) -> int | None:
        """The runtime's pid (its supervisor's is ``supervisor_pid``)."""
        return self._runtime_pid

    @property
    def supervisor_pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def pids(self) -> Iterator[int]:
        """The environment's processes, the runtime first, then every one below its supervisor."""
        runtime, proc = self._runtime_pid, self._proc
        if runtime is None or proc is None:
            return
        yield runtime
        yield from (pid for pid in supervisor.descendants(proc.pid) if pid != runtime)

    def start(self) -> None:
        """Spawn the supervisor (which forks the runtime) and wait until it names the runtime."""
        self.started_at = time.perf_counter()
        self._proc, self._status_fd = self._spawn()
        assert self._proc.stdout is not None
        self._fd = self._proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        try:
            fcntl.fcntl(self._fd, _F_SETPIPE_SZ, _PIPE_BYTES)
        except OSError:
            pass  # the default 64 KiB pipe still works, the function may just wait for a drain
        self._await_runtime_pid()
        self._reader = threading.Thread(
            target=self._watch, name=f"runtime-output-{self._runtime_pid or self._proc.pid}",
            daemon=True,
        )
        self._reader.start()

    def _spawn(self) -> tuple[subprocess.Popen[bytes], int]:
        """Start the supervisor; it and the read end of its status pipe."""
        status_r, status_w = os.pipe()
        try:
            # Its own session: Ctrl-C reaches the harness, which then stops its children in
            # order. Its stdin is the lifeline: only this process holds the other end.
            proc = subprocess.Popen(
                supervised(self._argv, status_w), cwd=self._cwd, env=self._env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                pass_fds=(status_w, *self._pass_fds), start_new_session=True,
            )
        except BaseException:
            os.close(status_r)
            raise
        finally:
            os.close(status_w)
        return proc, status_r

    def _await_runtime_pid(self) -> None:
        """Read the supervisor's first report; give up (pid unknown) if it dies or stalls."""
        deadline = time.monotonic() + _REPORT_WAIT_S
        while self._runtime_pid is None and self._exit_code is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not readable(self._status_fd, remaining):
                return
            if not self._read_status():
                return

    def _read_status(self) -> bool:
        """Take what the supervisor reported; False once it has closed its end (it is gone)."""
        data = os.read(self._status_fd, 512)
        self._status += data
        *lines, rest = self._status.split(b"\n")
        self._status[:] = rest
        for line in lines:
            kind, _, value = bytes(line).partition(b" ")
            if kind == b"runtime":
                self._runtime_pid = int(value)
            elif kind == b"exit":
                self._exit_code = int(value)
        return bool(data)

    def _drain_locked(self) -> str:
        """Read what the pipe holds, at most one pipe's worth: _EMPTIED, _MORE or _CLOSED.

        Bounded, so that a function that never stops printing cannot hold the lock (and
        ``take_output``) for ever: what it writes meanwhile waits in the pipe for the next call.
        """
        for _ in range(_DRAIN_READS):
            try:
                chunk = os.read(self._fd, _READ_CHUNK)
            except BlockingIOError:
                return _EMPTIED
            except OSError:
                return _CLOSED
            if not chunk:
                return _CLOSED
            self._output.add(chunk)
        return _MORE

    def _watch(self) -> None:
        """Drain the pipe every few milliseconds until the supervisor is gone, then report.

        Polling rather than waking on every write keeps a chatty function from costing the
        emulator a thread switch per line; the pipe is enlarged so that a pause never blocks it.
        The end is the supervisor's, not the output's end of file: the supervisor reports only
        once the whole tree is dead, and nothing else can hold its status pipe open.
        """
        with selectors.DefaultSelector() as selector:
            selector.register(self._fd, selectors.EVENT_READ)
            selector.register(self._status_fd, selectors.EVENT_READ)
            output_open = True
            while True:
                ready = {key.fd for key, _ in selector.select()}
                if self._status_fd in ready and not self._read_status():
                    break
                if not output_open:
                    continue
                with self._lock:
                    state = self._drain_locked()
                if state == _CLOSED:
                    selector.unregister(self._fd)
                    output_open = False
                elif state == _EMPTIED:
                    time.sleep(_POLL_S)
        self._on_exit(self._finish())

    def _finish(self) -> int:
        """Take the last output, close the pipes, reap the supervisor; the runtime's exit code."""
        assert self._proc is not None and self._proc.stdout is not None
        with self._lock:
            self._drain_locked()
            self._fd = -1
            self._proc.stdout.close()
            os.close(self._status_fd)
            self._status_fd = -1
        code = self._wait_supervisor()
        # Without its report the supervisor itself was killed: say how it ended.
        return self._exit_code if self._exit_code is not None else code

    def _wait_supervisor(self) -> int:
        assert self._proc is not None
        try:
            return self._proc.wait(timeout=_STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            return self._proc.wait()

    def take_output(self) -> str:
        """What the process wrote since the last call, up to the per-invocation bound."""
        with self._lock:
            if self._fd >= 0:
                self._drain_locked()
            return self._output.take()

    def peak_memory_mb(self) -> int:
        # A check a moment ago (at the response, just before the REPORT) read it already.
        fresh = time.perf_counter() - self._checked_at < _PEAK_FRESH_S
        if not fresh and self._runtime_pid is not None and self._exit_code is None:
            self._peak_mb = max(self._peak_mb, _read_peak_rss_mb(self._runtime_pid))
        return self._peak_mb

    @property
    def out_of_memory(self) -> bool:
        """Whether ``check_memory`` killed the process for going over its limit."""
        return self._out_of_memory

    def check_memory(self) -> bool:
        """Kill the process (SIGKILL, as the kernel would) if its peak went over the limit.

        Returns True if it did, now or before. Its exit then reaches ``on_exit`` as any other.
        """
        runtime = self._runtime_pid
        if self._out_of_memory or self._memory_limit_kib is None or runtime is None:
            return self._out_of_memory
        if self._exit_code is not None:
            return False
        kib = _read_peak_rss_kib(runtime)
        if kib:
            self._peak_mb = max(self._peak_mb, max(1, round(kib / 1024)))
            self._checked_at = time.perf_counter()
        if kib <= self._memory_limit_kib:
            return False
        self._out_of_memory = True
        self._close_lifeline()
        return True

    def _close_lifeline(self) -> None:
        """Have the supervisor SIGKILL the runtime and its whole tree (it reads end of file)."""
        with self._lifeline_lock:
            if self._proc is not None and self._proc.stdin is not None:
                self._proc.stdin.close()

    def kill(self) -> None:
        """Kill the runtime and every process it started; wait for the supervisor and reader.

        Never waits on the output pipe: the supervisor kills the tree before it exits, and the
        reader ends with the supervisor even if something outside the tree held the pipe.
        """
        if self._proc is None:
            return
        self._close_lifeline()
        if self._reader is None or self._reader is threading.current_thread():
            self._wait_supervisor()
            return
        self._reader.join(timeout=2 * _STOP_WAIT_S)

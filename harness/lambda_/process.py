"""A runtime client (``python -m awslambdaric``) running as a child process of the harness."""

from __future__ import annotations

import fcntl
import os
import selectors
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence

_READ_CHUNK = 65536
_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, Linux
_PIPE_BYTES = 1024 * 1024
_POLL_S = 0.02
_PEAK_FRESH_S = 0.002  # a peak read this recently stands for the REPORT line


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


class RuntimeProcess:
    """One runtime process: its output, its peak memory, its memory limit and its exit.

    Output is read without blocking, so everything the function wrote before it posted its response
    is taken with that invocation (the pipe already holds it), and nothing is lost at exit.
    ``preamble`` is output of the harness's own that comes first (it lands in the init output).
    """

    def __init__(self, argv: Sequence[str], *, cwd: str, env: Mapping[str, str],
                 on_exit: Callable[[int], None], memory_limit_mb: int | None = None,
                 preamble: str = "") -> None:
        self._argv = list(argv)
        self._cwd = cwd
        self._env = dict(env)
        self._on_exit = on_exit
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = bytearray(preamble.encode())
        self._memory_limit_kib = memory_limit_mb * 1024 if memory_limit_mb else None
        self._out_of_memory = False
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._fd = -1
        self._peak_mb = 0
        self.started_at = 0.0
        """perf_counter() when the process was spawned."""

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        self.started_at = time.perf_counter()
        # Its own session: Ctrl-C reaches the harness, which then stops its children in order.
        self._proc = subprocess.Popen(
            self._argv, cwd=self._cwd, env=self._env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        assert self._proc.stdout is not None
        self._fd = self._proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        try:
            fcntl.fcntl(self._fd, _F_SETPIPE_SZ, _PIPE_BYTES)
        except OSError:
            pass  # the default 64 KiB pipe still works, the function may just wait for a drain
        self._reader = threading.Thread(
            target=self._watch, name=f"runtime-output-{self._proc.pid}", daemon=True
        )
        self._reader.start()

    def _drain_locked(self) -> bool:
        """Read what the pipe holds; False at end of file."""
        while True:
            try:
                chunk = os.read(self._fd, _READ_CHUNK)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            self._buffer += chunk

    def _watch(self) -> None:
        """Drain the pipe every few milliseconds until it closes.

        Polling rather than waking on every write keeps a chatty function from costing the
        emulator a thread switch per line; the pipe is enlarged so that a pause never blocks it.
        """
        assert self._proc is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._fd, selectors.EVENT_READ)
            open_ = True
            while open_:
                selector.select()
                with self._lock:
                    open_ = self._drain_locked()
                if open_:
                    time.sleep(_POLL_S)
        self._peak_mb = max(self._peak_mb, _read_peak_rss_mb(self._proc.pid))
        code = self._proc.wait()
        self._on_exit(code)

    def take_output(self) -> str:
        """Everything the process wrote since the last call."""
        with self._lock:
            if self._fd >= 0:
                self._drain_locked()
            data = bytes(self._buffer)
            self._buffer.clear()
        return data.decode("utf-8", errors="replace")

    def peak_memory_mb(self) -> int:
        # A check a moment ago (at the response, just before the REPORT) read it already.
        fresh = time.perf_counter() - self._checked_at < _PEAK_FRESH_S
        if not fresh and self._proc is not None and self._proc.returncode is None:
            self._peak_mb = max(self._peak_mb, _read_peak_rss_mb(self._proc.pid))
        return self._peak_mb

    @property
    def out_of_memory(self) -> bool:
        """Whether ``check_memory`` killed the process for going over its limit."""
        return self._out_of_memory

    def check_memory(self) -> bool:
        """Kill the process (SIGKILL, as the kernel would) if its peak went over the limit.

        Returns True if it did, now or before. Its exit then reaches ``on_exit`` as any other.
        """
        proc = self._proc
        if self._out_of_memory or self._memory_limit_kib is None or proc is None:
            return self._out_of_memory
        if proc.returncode is not None:
            return False
        kib = _read_peak_rss_kib(proc.pid)
        if kib:
            self._peak_mb = max(self._peak_mb, max(1, round(kib / 1024)))
            self._checked_at = time.perf_counter()
        if kib <= self._memory_limit_kib:
            return False
        self._out_of_memory = True
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        return True

    def kill(self) -> None:
        """Kill the process and wait for it and its output reader."""
        if self._proc is None:
            return
        if self._proc.returncode is None:
            try:
                self._proc.kill()
            except ProcessLookupError:
                pass
        self._proc.wait()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
            self._fd = -1

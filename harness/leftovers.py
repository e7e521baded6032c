"""What the harness started and left running: processes, threads, listening ports, containers.

Take a `Baseline` before starting anything; after stopping it all, `leftovers(baseline)` lists
whatever is new and still alive (after a short grace period, since stopped threads and
processes take a moment to go). ``harness load`` checks it after a soak; the test suite checks
it after the session.

A process a function started and that was reparented away from the harness (its own session, a
double fork, a harness killed by SIGKILL) is no longer a child of anything the harness knows:
every runtime carries ``ENV_MARKER`` in its environment, which what it starts inherits, and
``marked_processes`` finds them by it.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from dataclasses import dataclass, field

import psutil

from harness.container.engine import owner_label

ENV_MARKER = "_HARNESS_ENV"
"""The variable set on every runtime: ``<owner label of the harness>/<environment id>``."""

HARNESS_THREAD_PREFIXES = ("runtime-api-", "runtime-output-", "emulator-http", "lambda-reaper",
                           "lambda-housekeeping", "lambda-logs", "lambda-event",
                           "lambda-overtime", "load-", "sqs-mapping-")
"""Names of the threads the harness starts."""


@dataclass(frozen=True)
class Baseline:
    """What was there before: child pids, thread idents, listening (host, port) pairs."""

    children: frozenset[int] = field(default_factory=frozenset)
    threads: frozenset[int] = field(default_factory=frozenset)
    listening: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    @classmethod
    def now(cls) -> Baseline:
        me = psutil.Process()
        return cls(frozenset(p.pid for p in _live_children(me)),
                   frozenset(t.ident for t in threading.enumerate() if t.ident is not None),
                   frozenset(_listening(me)))


@functools.lru_cache(maxsize=4)
def _owner(pid: int) -> str:
    return owner_label(pid)


def env_marker(env_id: str) -> str:
    """The value of ``ENV_MARKER`` for an environment of this harness process."""
    return f"{_owner(os.getpid())}/{env_id}"


def marked_processes(owner: str | None = None) -> list[int]:
    """Live processes started by environments of the harness whose owner label is ``owner``
    (this process by default). A zombie has no environment left, so it is not counted."""
    needle = f"\0{ENV_MARKER}={owner or _owner(os.getpid())}/".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as environ:
                data = b"\0" + environ.read()
        except OSError:
            continue  # gone, or not ours to read
        if needle in data:
            found.append(int(name))
    return found


def _live_children(process: psutil.Process) -> list[psutil.Process]:
    found = []
    for child in process.children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def _listening(process: psutil.Process) -> set[tuple[str, int]]:
    try:
        connections = process.net_connections(kind="inet")
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return set()
    return {(c.laddr.ip, c.laddr.port) for c in connections
            if c.status == psutil.CONN_LISTEN and c.laddr}


def _describe_pid(pid: int) -> str:
    try:
        return _describe(psutil.Process(pid))
    except psutil.Error:
        return f"process {pid}"


def _describe(process: psutil.Process) -> str:
    try:
        return f"process {process.pid}: {' '.join(process.cmdline()[:4])}"
    except psutil.Error:
        return f"process {process.pid}"


def scan(baseline: Baseline, *, all_threads: bool = False) -> list[str]:
    """One look: new live child processes, new harness threads, new listening ports.

    ``all_threads``: count every new thread, not only those with harness names (right for a
    process that runs nothing but the harness).
    """
    me = psutil.Process()
    children = [p for p in _live_children(me) if p.pid not in baseline.children]
    found = [_describe(p) for p in children]
    known = {p.pid for p in children}
    found += [f"{_describe_pid(pid)} (a function's, reparented away from the harness)"
              for pid in marked_processes() if pid not in known]
    found += [f"thread {t.name}" for t in threading.enumerate()
              if t.ident not in baseline.threads and t is not threading.current_thread()
              and (all_threads or t.name.startswith(HARNESS_THREAD_PREFIXES))]
    ports = _listening(me) - baseline.listening
    for child in children:
        ports |= _listening(child)
    found += [f"listening port {host}:{port}" for host, port in sorted(ports)]
    return found + leftover_containers()


def leftover_containers() -> list[str]:
    """Containers this process started and did not remove (asked only if it started any)."""
    if "harness.lambda_.container" not in sys.modules:
        return []
    from harness.container.engine import OWNER_LABEL, EngineUnavailable, connect, owner_label

    try:
        client = connect(timeout_s=10)
    except EngineUnavailable:
        return []
    try:
        mine = {"label": f"{OWNER_LABEL}={owner_label()}"}
        found = client.api.containers(all=True, filters=mine)
        return [f"container {c['Names'][0].lstrip('/')} ({c['Image']})" for c in found]
    finally:
        client.close()


def leftovers(baseline: Baseline, *, grace_s: float = 5.0, all_threads: bool = False
              ) -> list[str]:
    """`scan` until it comes back empty or ``grace_s`` has passed; what is still there."""
    deadline = time.monotonic() + grace_s
    found = scan(baseline, all_threads=all_threads)
    while found and time.monotonic() < deadline:
        time.sleep(0.1)
        found = scan(baseline, all_threads=all_threads)
    return found

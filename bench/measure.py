"""CPU and memory of the harness and the processes it starts, as the benchmarks count them.

    cpu_ns(pid)          one process's time on CPU, every live thread, to the ns (schedstat)
    tree_cpu()           a snapshot of this process's and all its descendants' CPU seconds
    cpu_spent(a, b)      CPU seconds spent between two snapshots, new processes in full
    busy_share(a, b)     the share of all the machine's cores busy between two
                         ``psutil.cpu_times()`` (every process, other users' included)
    memory_mb(pid)       a process's USS (pages only it has) and PSS (shared pages split
                         among their sharers), in MB
"""

from __future__ import annotations

import os
from typing import Any

import psutil

REAPED = -1
"""The key of a snapshot's CPU of this process's children that have exited and been reaped."""


def cpu_ns(pid: int) -> int:
    """Time on CPU of every thread of ``pid`` so far, in ns (0 once it is gone)."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
    except OSError:
        pass
    return total


def _seconds(times: Any) -> float:
    return float(times.user + times.system)


def tree_cpu() -> dict[int, float]:
    """CPU seconds so far of this process (threads that ended included, unlike ``cpu_ns``) and
    of each live descendant, by pid; under ``REAPED``, the children this process reaped."""
    me = psutil.Process()
    times = me.cpu_times()
    snapshot = {me.pid: _seconds(times), REAPED: float(times.children_user + times.children_system)}
    for child in me.children(recursive=True):
        try:
            snapshot[child.pid] = _seconds(child.cpu_times())
        except psutil.NoSuchProcess:
            continue
    return snapshot


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two ``tree_cpu()`` snapshots. A process started in between
    counts in full (a fork starts at zero); one that ended unreaped in between is lost."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def memory_mb(pid: int) -> tuple[float, float]:
    """USS and PSS of ``pid`` in MB."""
    memory = psutil.Process(pid).memory_full_info()
    return memory.uss / 2**20, memory.pss / 2**20


def busy_share(before: Any, after: Any) -> float:
    """The share of all cores busy between two ``psutil.cpu_times()`` readings."""
    idle = (after.idle + after.iowait) - (before.idle + before.iowait)
    total = sum(after) - sum(before)
    return 1.0 - idle / total if total > 0 else 0.0

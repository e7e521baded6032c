"""A function that starts processes of every kind, and polls that wait for them to be gone."""

from __future__ import annotations

import time
from collections.abc import Iterable

import psutil

# Three children that outlive the handler: one in the runtime's session, one in a session of
# its own, one double-forked (its parent exits, so the kernel reparents it). All three hold the
# runtime's stdout, the pipe a stop used to wait on.
SPAWNS = '''
import os, subprocess, sys, time
KEEP = []

def _double_fork():
    reader, writer = os.pipe()
    middle = os.fork()
    if middle == 0:
        try:
            os.setsid()
            grandchild = os.fork()
            if grandchild == 0:
                os.execvp("sleep", ["sleep", "300"])
            os.write(writer, str(grandchild).encode())
        finally:
            os._exit(0)
    os.close(writer)
    os.waitpid(middle, 0)
    with os.fdopen(reader) as answer:
        return int(answer.read())

def handler(event, context):
    action = event.get("action")
    if action == "spawn":
        same = subprocess.Popen(["sleep", "300"])
        own = subprocess.Popen(["sleep", "300"], start_new_session=True)
        KEEP.extend([same, own])
        return {"pids": [same.pid, own.pid, _double_fork()], "runtime": os.getpid(),
                "api": os.environ["AWS_LAMBDA_RUNTIME_API"]}
    if action == "exit":
        os._exit(3)
    if action == "sleep":
        time.sleep(float(event["seconds"]))
    if action == "allocate":
        return len(bytearray(int(event["mb"]) * 1024 * 1024))
    return {"runtime": os.getpid()}
'''


def processes(pids: Iterable[int]) -> list[psutil.Process]:
    """The processes now (psutil remembers their start time, so a reused pid is not them)."""
    return [psutil.Process(pid) for pid in pids]


def alive(procs: Iterable[psutil.Process]) -> list[psutil.Process]:
    """Those still running, zombies aside (a zombie holds no resource but its pid)."""
    found = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.NoSuchProcess:
            continue
    return found


def wait_gone(procs: list[psutil.Process], timeout_s: float) -> list[psutil.Process]:
    """Poll until none of ``procs`` runs or ``timeout_s`` passed; those still running."""
    deadline = time.monotonic() + timeout_s
    left = alive(procs)
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = alive(procs)
    return left

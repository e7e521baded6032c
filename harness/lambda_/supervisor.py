"""The supervisor of one execution environment: its runtime and everything the function starts.

Standard library only, and no harness import: it runs in the function's own interpreter, as
``python -S -c LOADER DIR STATUS_FD CODE ARGS...`` (see ``RuntimeProcess``). It makes
itself a child subreaper (``PR_SET_CHILD_SUBREAPER``) and forks; the child becomes the runtime
by running ``CODE`` as ``python -c CODE ARGS...`` would, so the runtime costs no second interpreter
start. Every process the function starts stays in the supervisor's tree, even one that started
its own session or double-forked: an orphan is reparented to the supervisor, not to init.

The supervisor kills the whole tree (SIGKILL) when

- the runtime exits (crash, init error, out-of-memory kill): the environment is over;
- its standard input, a pipe whose other end only the harness holds, reaches end of file: the
  harness asked for the stop by closing it, or the harness died (even by SIGKILL);
- it gets SIGTERM, SIGINT or SIGHUP.

It tells the harness, on ``STATUS_FD``, ``runtime <pid>`` once forked and ``exit <code>`` (the
runtime's exit status; minus the signal number if a signal ended it) once the tree is gone.
"""

from __future__ import annotations

import os
import select
import signal
import sys

LOADER = ("import sys; sys.path.insert(0, sys.argv[1]); writes = sys.dont_write_bytecode; "
          "sys.dont_write_bytecode = True; import supervisor; del sys.path[0]; "
          "sys.dont_write_bytecode = writes; supervisor.main()")
"""The ``-c`` program that runs ``main`` from this file's directory (``DIR``), from its cached
bytecode when the harness left one (it never writes one into the harness's own directory),
and takes that directory off the function's ``sys.path`` again (``python supervisor.py``
would leave it there)."""

_PR_SET_CHILD_SUBREAPER = 36
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (children first), from one pass over /proc."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                data = stat.read()
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            ppid = int(data[data.rindex(b")") + 2:].split(None, 2)[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        children.setdefault(ppid, []).append(int(name))
    found: list[int] = []
    todo = [root]
    while todo:
        below = children.get(todo.pop(), [])
        found.extend(below)
        todo.extend(below)
    return found


def exit_code(status: int) -> int:
    """A wait status as ``subprocess`` reports it: the exit code, or minus the signal number."""
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _become_subreaper() -> None:
    import ctypes

    # Not on Linux, or refused: orphans then go to init, and only the runtime's own tree is
    # found by the kill below; the harness still works.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _become_runtime(status_fd: int, args: list[str]) -> None:
    """In the forked child: the runtime's own descriptors and argv, as ``python -c`` gives."""
    os.close(status_fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the lifeline stays the supervisor's alone
    os.close(devnull)
    sys.argv[:] = ["-c", *args]
    sys.modules.pop(__name__, None)  # a function's own module of this name must be importable


def _reap(runtime: int) -> int | None:
    """Reap every child that has ended; the runtime's exit code if it was one of them."""
    code = None
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return code
        if pid == 0:
            return code
        if pid == runtime:
            code = exit_code(status)


def _wait_for_the_end(runtime: int) -> int | None:
    """Block until the runtime exits (its code) or a stop is asked for (None)."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    stop: list[int] = []
    signal.signal(signal.SIGCHLD, lambda *_: None)  # its wakeup byte is what matters
    for signum in _STOP_SIGNALS:
        signal.signal(signum, lambda signum, _frame: stop.append(signum))
    while True:
        code = _reap(runtime)  # also reaps the function's orphans as they end
        if code is not None:
            return code
        if stop:
            return None
        ready = select.select([0, wake_r], [], [])[0]
        if 0 in ready and not os.read(0, 512):
            return None  # end of file: the harness closed the lifeline, or is gone
        if wake_r in ready:
            while _read_some(wake_r):
                pass


def _read_some(fd: int) -> bytes:
    try:
        return os.read(fd, 512)
    except BlockingIOError:
        return b""


def kill_tree(runtime: int, code: int | None) -> int:
    """SIGKILL the runtime, then every process below the supervisor, until none is left.

    The runtime is killed first and by pid: it is a child not yet reaped, so its pid cannot
    have been reused. A process forked while the kill runs is reparented here once its parent
    dies, and found by the next pass. Returns the runtime's exit code.
    """
    if code is None:
        try:
            os.kill(runtime, signal.SIGKILL)
        except ProcessLookupError:
            pass
    me = os.getpid()
    while True:
        for pid in descendants(me):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return -signal.SIGKILL if code is None else code
        if pid == runtime:
            code = exit_code(status)
        reaped = _reap(runtime)
        code = reaped if reaped is not None else code


def _supervise(runtime: int, status_fd: int) -> None:
    """The supervisor's whole life after the fork; never returns."""
    code = None
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (1, 2):  # the output pipe's end of file then means the whole tree is gone
            os.dup2(devnull, fd)
        os.close(devnull)
        os.write(status_fd, f"runtime {runtime}\n".encode())
        code = _wait_for_the_end(runtime)
    finally:
        code = kill_tree(runtime, code)
        try:
            os.write(status_fd, f"exit {code}\n".encode())
        finally:
            os._exit(0)


def fork_runtime(status_fd: int, args: list[str]) -> None:
    """Become the supervisor and fork: returns only in the child, the runtime to be.

    Also how an environment forked from an initialised template (``template_runtime``) gets
    its own supervisor: the forked process calls this in place of a ``python -c`` start.
    """
    _become_subreaper()
    runtime = os.fork()
    if runtime:
        try:
            _supervise(runtime, status_fd)
        finally:
            os._exit(1)  # only if the supervisor itself broke: never run the runtime's code here
    _become_runtime(status_fd, args)


def main() -> None:
    """Fork; the parent supervises, the child returns to run the runtime's code."""
    status_fd, code, args = int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    fork_runtime(status_fd, args)
    main_globals = sys.modules["__main__"].__dict__
    exec(compile(code, "<string>", "exec"), main_globals)

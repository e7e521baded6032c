"""The runtime side of an initialised template: awslambdaric's own init, then a fork per
execution environment.

Standard library and awslambdaric only, and no harness import: it runs in the function's own
interpreter, as the ``-c`` program of a runtime (see ``harness.lambda_.template``), with
``HANDLER CONTROL_FD`` as arguments. awslambdaric's ``bootstrap.run`` does the init (logging,
the handler's import) and, with ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``, the
before-snapshot hooks; then it calls ``restore_next``, which is where a snapshot is taken on
AWS and where the template forks here. Every fork returns from ``restore_next`` as the runtime
of one environment and carries on in awslambdaric's code: the after-restore hooks, then the
invocation loop. (Without SnapStart the fork point is the first ``wait_next_invocation``.)

Why forking is safe here:

- awslambdaric's native client (``runtime_client``, libcurl) reads ``AWS_LAMBDA_RUNTIME_API``
  once, when its library loads, and keeps a connection. The template never loads it (its
  import is blocked); each fork loads it after setting its own address, so no socket, curl
  handle or lock crosses the fork. The Python-side calls (init error, restore) open a new
  ``http.client`` connection per call.
- awslambdaric starts no thread before the invocation loop (its polling thread is made per
  ``wait_next_invocation``), so at the fork point only the function's own init could have
  started one; the template counts them and tells the harness (``ready THREADS TASKS``).

Protocol on CONTROL_FD (a SOCK_SEQPACKET socket): the template sends ``ready ...`` once; then
for each message ``{"env": {...}}`` with three descriptors (output, status, lifeline) it forks
and answers the fork's pid. End of file ends the template.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import tempfile
import threading

if __package__:  # the harness's import, for LOADER and this file's directory
    from harness.lambda_ import supervisor
else:  # LOADER's, in the function's interpreter: the supervisor beside this file
    import supervisor  # type: ignore[import-not-found,no-redef]

LOADER = ("import sys; sys.path.insert(0, sys.argv[2]); writes = sys.dont_write_bytecode; "
          "sys.dont_write_bytecode = True; import template_runtime; del sys.path[0]; "
          "sys.dont_write_bytecode = writes; template_runtime.main()")
"""The ``-c`` program of a template runtime: ``-c LOADER HANDLER DIR CONTROL_FD``."""

_NATIVE = "runtime_client"
_MAX_REQUEST = 1024 * 1024


def main() -> None:
    handler, control_fd = sys.argv[1], int(sys.argv[3])
    for name in ("supervisor", "template_runtime"):  # a function's modules of these names win
        sys.modules.pop(name, None)
    sys.argv[:] = ["-c", handler]
    sys.modules[_NATIVE] = None  # type: ignore[assignment]  # loaded per fork, see above
    import site

    site.setquit()
    site.setcopyright()
    site.sethelper()
    from awslambdaric import bootstrap
    from awslambdaric.lambda_config import LambdaConfigProvider

    config = LambdaConfigProvider(sys.argv)
    client = _forking_client(config.api_address, config.use_thread_polling,
                             socket.socket(fileno=control_fd))
    bootstrap.run(handler, client)


def _forking_client(address: str, use_thread: bool, control: socket.socket):  # type: ignore[no-untyped-def]
    from awslambdaric.lambda_runtime_client import LambdaRuntimeClient

    class ForkingClient(LambdaRuntimeClient):  # type: ignore[misc]
        """awslambdaric's client, but its first step after init forks environments."""

        forked = False

        def restore_next(self) -> None:
            self._fork_point()
            super().restore_next()

        def wait_next_invocation(self):  # type: ignore[no-untyped-def]
            if not self.forked:
                self._fork_point()
            return super().wait_next_invocation()

        def _fork_point(self) -> None:
            serve_forks(control)  # returns only in a fork, as an environment's runtime
            self.forked = True
            self.lambda_runtime_address = os.environ["AWS_LAMBDA_RUNTIME_API"]
            _load_native_client()

    return ForkingClient(address, use_thread)


def _task_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def serve_forks(control: socket.socket) -> None:
    """Tell the harness the template is ready, then fork on each request; never returns in
    the template itself (it exits when the harness closes the control socket)."""
    sys.stdout.flush()
    sys.stderr.flush()
    control.sendall(f"ready {threading.active_count()} {_task_count()}".encode())
    # Forks are reaped by the kernel; each undoes this first thing (see _become_environment).
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        message, fds, _flags, _address = socket.recv_fds(control, _MAX_REQUEST, 3)
        if not message:
            os._exit(0)
        pid = os.fork()
        if pid == 0:
            _become_environment(json.loads(message), fds, control)
            return
        for fd in fds:
            os.close(fd)
        control.sendall(str(pid).encode())


def _become_environment(request: dict, fds: list[int], control: socket.socket) -> None:  # type: ignore[type-arg]
    """In the fork: its own session, descriptors, environment and supervisor."""
    control.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    output, status, lifeline = fds
    os.dup2(lifeline, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(lifeline)
    os.close(output)
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # the next use reads this environment's TMPDIR
    supervisor.fork_runtime(status, sys.argv[1:])  # returns in the runtime, below the supervisor


def _load_native_client() -> None:
    """awslambdaric's native client, loaded now: it reads this environment's address."""
    from awslambdaric import lambda_runtime_client

    sys.modules.pop(_NATIVE, None)
    import runtime_client  # type: ignore[import-not-found]

    runtime_client.initialize_client(lambda_runtime_client._user_agent())
    lambda_runtime_client.runtime_client = runtime_client

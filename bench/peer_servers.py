"""The servers of bench/bench_peers.py: each target a process of its own on 127.0.0.1, in a
process group of its own, stopped with everything it started."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from harness import interrupts
from harness.errors import HarnessError
from harness.localstack import LOCALSTACK_CORE, LocalStackServer


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class BenchError(Exception):
    """A target that could not be started or set up; printed as one line."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str) -> bool:
    """Whether an HTTP server answers at ``url`` (any status)."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()


def child_env(**extra: str) -> dict[str, str]:
    """This environment without AWS settings (a profile, an endpoint), plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


class Server(Protocol):
    name: str
    url: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


class ProcessServer:
    """A server command in a process group of its own, its output in a log file; ``url`` is
    known once ``find_url`` finds it (in the log so far)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path,
                 find_url: Callable[[str], str | None], ready_timeout_s: float = 60.0) -> None:
        self.name, self.url = name, ""
        self._argv, self._env, self._log_path = argv, env, log
        self._find_url, self._timeout_s = find_url, ready_timeout_s
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self._argv, env=self._env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + self._timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BenchError(f"{self.name} exited with {self._process.returncode}: "
                                 f"{self._tail()}")
            url = self._find_url(self._log_path.read_text(errors="replace"))
            if url:
                self.url = url
                return
            time.sleep(0.1)
        raise BenchError(f"{self.name} did not start in {self._timeout_s:.0f} s: {self._tail()}")

    def _tail(self) -> str:
        return " | ".join(self._log_path.read_text(errors="replace").strip().splitlines()[-3:])

    def stop(self) -> None:
        """Stop the server and whatever it started (its process group); safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        with contextlib.suppress(ProcessLookupError):  # what it started and left behind
            os.killpg(process.pid, signal.SIGKILL)


def harness_server(work: Path) -> ProcessServer:
    def ready_line(log: str) -> str | None:
        match = re.search(r"ready on (http://\S+)", log)
        return match.group(1) if match else None

    argv = [sys.executable, "-m", "harness.cli.main", "up", "--host", "127.0.0.1", "--port", "0"]
    return ProcessServer("harness", argv, child_env(HARNESS_STATE_DIR=str(work / "state")),
                         work / "harness.log", ready_line)


def moto_server(work: Path) -> ProcessServer:
    url = f"http://127.0.0.1:{free_port()}"
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", url.rsplit(":", 1)[1]]
    return ProcessServer("moto", argv, child_env(), work / "moto.log",
                         lambda _log: url if answers(url) else None)


class LocalStack:
    """LocalStack on the host (harness.localstack) with S3, SQS and SNS."""

    name = "localstack"

    def __init__(self, python: str) -> None:
        self._server = LocalStackServer(python, services="s3,sqs,sns", ready_timeout_s=180)
        self.url = self._server.url

    def start(self) -> None:
        try:
            self._server.start()
        except HarnessError as exc:
            raise BenchError(str(exc)) from None

    def stop(self) -> None:
        self._server.stop()


def make_server(name: str, work: Path) -> Server | None:
    """The target's server, not started; None (with a message) for LocalStack when it is not
    installed."""
    if name == "harness":
        return harness_server(work)
    if name == "moto":
        return moto_server(work)
    python = os.environ.get("HARNESS_LOCALSTACK_PYTHON", "")
    if not python or not Path(python).is_file():
        print(f"LocalStack skipped: HARNESS_LOCALSTACK_PYTHON does not name an interpreter "
              f"({python or 'unset'}); make one with `python -m harness.localstack DIR` "
              f"({LOCALSTACK_CORE})", file=sys.stderr)
        return None
    return LocalStack(python)


def start_servers(names: list[str], work: Path, started: list[Server]) -> None:
    """Start each target (appended to ``started`` as it starts, so all are stopped); a
    LocalStack that fails to start is skipped with its reason."""
    for name in names:
        server = make_server(name, work)
        if server is None:
            continue
        progress(f"starting {name}")
        try:
            server.start()
        except BenchError as exc:
            server.stop()
            if name != "localstack":
                raise
            progress(f"LocalStack skipped: {exc}")
            continue
        started.append(server)


def stop_all(servers: list[Server]) -> None:
    """Stop every server; a Ctrl-C meanwhile waits until they are stopped, then is dropped
    (the run is over either way)."""
    with contextlib.suppress(KeyboardInterrupt), interrupts.deferred():
        for server in servers:
            server.stop()

"""LocalStack on the host, without Docker, as the S3 of the ``localstack`` and ``compose`` targets.

``localstack-core`` 4.9.2 (the last release for Python 3.11) runs as a plain process when told it
is not in a container. It cannot share the harness's virtual environment (it pins its own boto3
and a moto fork), so it runs from an interpreter of its own: ``HARNESS_LOCALSTACK_PYTHON``, which
the tox environment ``localstack`` creates. Install it there with::

    python -m venv .localstack && .localstack/bin/pip install "localstack-core[runtime]==4.9.2" \\
        "psutil<7.2" "cbor2<5.7" "pyopenssl<25"

(the three upper bounds keep releases out that this LocalStack predates and cannot start with).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from harness.errors import UsageError

LOCALSTACK_CORE = "localstack-core[runtime]==4.9.2"
CONSTRAINTS = ("psutil<7.2", "cbor2<5.7", "pyopenssl<25")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalStackServer:
    """``with LocalStackServer(python) as ls:`` runs LocalStack on 127.0.0.1; ``ls.url``."""

    def __init__(self, python: str, services: str = "s3", port: int = 0,
                 ready_timeout_s: float = 60.0) -> None:
        self._python = python
        self._services = services
        self._port = port or _free_port()
        self._ready_timeout_s = ready_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self.url = f"http://127.0.0.1:{self._port}"

    def _environment(self, workdir: Path) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("AWS_", "HARNESS_", "LOCALSTACK_"))}
        env.update({
            "OVERRIDE_IN_DOCKER": "0",  # a plain process: no container checks, no mounts
            "GATEWAY_LISTEN": f"127.0.0.1:{self._port}",
            "GATEWAY_SERVER": "hypercorn",  # twisted needs service_identity, which we leave out
            "SKIP_SSL_CERT_DOWNLOAD": "1",  # offline: use a self-signed certificate
            "SERVICES": self._services,
            "EAGER_SERVICE_LOADING": "1",
            "LOCALSTACK_VOLUME_DIR": str(workdir / "volume"),
            "FILESYSTEM_ROOT": str(workdir / "root"),
            "DISABLE_EVENTS": "1",  # no analytics calls home
        })
        return env

    def start(self) -> LocalStackServer:
        if not Path(self._python).is_file():
            raise UsageError(f"no Python at {self._python} for LocalStack; install "
                             f"{LOCALSTACK_CORE} into a virtual environment of its own "
                             "(see harness/localstack.py)")
        self._workdir = tempfile.TemporaryDirectory(prefix="harness-localstack-")
        workdir = Path(self._workdir.name)
        self._log = (workdir / "localstack.log").open("wb")
        self._process = subprocess.Popen(
            [self._python, "-m", "localstack.runtime.main"], cwd=workdir,
            env=self._environment(workdir), stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._ready_timeout_s
        assert self._process is not None and self._workdir is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise UsageError(f"LocalStack exited with {self._process.returncode}: "
                                 f"{self._log_tail()}")
            if self._services_ready():
                return
            time.sleep(0.2)
        raise UsageError(f"LocalStack was not ready in {self._ready_timeout_s:.0f} s: "
                         f"{self._log_tail()}")

    def _services_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_localstack/health", timeout=2) as reply:
                states = json.loads(reply.read()).get("services", {})
        except (OSError, ValueError, urllib.error.URLError):
            return False
        wanted = [name.strip() for name in self._services.split(",")]
        return all(states.get(name) in ("available", "running") for name in wanted)

    def _log_tail(self) -> str:
        assert self._workdir is not None
        text = (Path(self._workdir.name) / "localstack.log").read_text(errors="replace")
        return " | ".join(text.strip().splitlines()[-3:])

    def stop(self) -> None:
        """Stop LocalStack and everything it started (its process group); safe to call twice."""
        if self._process is not None:
            if self._process.poll() is None:
                os.killpg(self._process.pid, signal.SIGTERM)
                try:
                    self._process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(self._process.pid, signal.SIGKILL)
                    self._process.wait()
            with contextlib.suppress(ProcessLookupError):  # what it started and left behind
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process = None
            self._log.close()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> LocalStackServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def ensure_runtime(directory: Path) -> Path:
    """A virtual environment with LocalStack in ``directory``, made once; returns its Python."""
    import subprocess
    import venv

    python = directory / "bin" / "python"
    wanted = " ".join((LOCALSTACK_CORE, *CONSTRAINTS))
    marker = directory / ".harness-installed"
    if marker.is_file() and marker.read_text() == wanted and python.is_file():
        return python
    venv.create(directory, with_pip=True, clear=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    LOCALSTACK_CORE, *CONSTRAINTS], check=True)
    marker.write_text(wanted)
    return python


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python -m harness.localstack DIR  (makes DIR a venv with LocalStack)")
    print(ensure_runtime(Path(sys.argv[1])))

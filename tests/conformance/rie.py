"""AWS's Runtime Interface Emulator (RIE) for tests: find the binary, run one handler under it.

The binary ships in the ``aws-sam-cli`` wheel as ``samcli/local/rapid/aws-lambda-rie-<arch>``.
It comes from an installed ``samcli`` if there is one, else from that wheel, through the same
download-and-extract the container tier uses (``harness.container.wheels``), cached under the
harness's cache directory (``~/.cache/harness/rie/<sam-version>/``).
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import importlib.util
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from harness.cli.image import default_cache_dir
from harness.container.wheels import SAM_CLI_VERSION, runtime_interface_emulator
from harness.errors import UsageError

# The conformance tests were written against the RIE of the SAM CLI release the container tier
# pins (SAM_CLI_VERSION); a newer one may answer differently (override: HARNESS_RIE_SAM_VERSION).
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
_ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


class RieUnavailable(Exception):
    """The RIE cannot be had or cannot run here; the message says why (tests skip with it)."""


@dataclass(frozen=True)
class RieBinary:
    path: Path
    version: str
    """The aws-sam-cli version the binary came from."""


def member_name() -> str:
    if sys.platform != "linux":
        raise RieUnavailable(f"the RIE is a Linux binary; this is {sys.platform}")
    arch = _ARCHES.get(platform.machine().lower())
    if arch is None:
        raise RieUnavailable(f"no RIE build for machine {platform.machine()!r}")
    return f"samcli/local/rapid/aws-lambda-rie-{arch}"


def _arch(member: str) -> str:
    return member.rsplit("-", 1)[1]


def locate(cache: Path | None = None, version: str | None = None) -> RieBinary:
    """The RIE binary: HARNESS_RIE_BINARY, an installed samcli, the cache, or a wheel download."""
    given = os.environ.get("HARNESS_RIE_BINARY")
    if given:
        if not _runnable(Path(given)):
            raise RieUnavailable(f"HARNESS_RIE_BINARY={given} is not an executable file")
        return RieBinary(Path(given), "given")
    member = member_name()
    installed = _from_installed_samcli(member)
    if installed is not None:
        return installed
    version = version or os.environ.get("HARNESS_RIE_SAM_VERSION") or SAM_CLI_VERSION
    cache_dir = cache or default_cache_dir()
    lock_dir = cache_dir / "rie"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with _locked(lock_dir / ".lock"):  # one download even when several test processes start
        try:
            path = runtime_interface_emulator(cache_dir, version, _arch(member))
        except (UsageError, OSError, StopIteration) as exc:
            raise RieUnavailable(f"cannot get aws-sam-cli {version}'s RIE: {exc}") from None
    return RieBinary(path, version)


def _from_installed_samcli(member: str) -> RieBinary | None:
    # find_spec, not import: importing samcli pulls in its whole dependency tree.
    spec = importlib.util.find_spec("samcli")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location).parent / member
        if _runnable(path):
            from importlib.metadata import PackageNotFoundError
            from importlib.metadata import version as dist_version

            try:
                return RieBinary(path, dist_version("aws-sam-cli"))
            except PackageNotFoundError:
                return RieBinary(path, "unknown")
    return None


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


@contextlib.contextmanager
def _locked(path: Path, timeout_s: float = 120.0) -> Iterator[None]:
    """An exclusive lock across processes. flock is per open file, so a second holder in the
    same process would wait forever: hence the deadline."""
    with open(path, "a") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{path} stayed locked for {timeout_s} s") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class RieResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


class RieProcess:
    """``with RieProcess(binary, code_dir, "app.handler", timeout_s=1) as rie: rie.invoke(b"{}")``.

    One RIE serves one invocation at a time, and older builds bind the Runtime API to the fixed
    127.0.0.1:9001, so instances are serialised across processes by a lock file (pytest-xdist
    safe). The Runtime API is moved to a free port with ``--runtime-api-address`` (1.170.0's
    RIE has the flag; a build without it exits at start, and the tests skip saying so).
    """

    def __init__(self, binary: Path, code_dir: Path, handler: str, *, timeout_s: float = 3.0,
                 python: str | None = None, env: Mapping[str, str] | None = None,
                 lock_path: Path | None = None) -> None:
        self.binary = binary
        self.code_dir = code_dir
        self.handler = handler
        self.timeout_s = timeout_s
        self.python = python or sys.executable
        self.extra_env = dict(env or {})
        self.lock_path = lock_path or Path(tempfile.gettempdir()) / "harness-rie.lock"
        self.port = 0
        self.log_path = code_dir.parent / f"{code_dir.name}.rie.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._lock: contextlib.ExitStack | None = None

    def command(self) -> list[str]:
        return [str(self.binary),
                "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
                "--runtime-api-address", f"127.0.0.1:{free_port()}",
                self.python, "-m", "awslambdaric", self.handler]

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if key != "AWS_LAMBDA_RUNTIME_API" and not key.startswith("PYTEST_")}
        env.update({
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(self.timeout_s)),
            "LAMBDA_TASK_ROOT": str(self.code_dir),
            "PYTHONPATH": str(self.code_dir),
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": "test",
        })
        env.update(self.extra_env)
        return env

    def start(self, ready_timeout_s: float = 10.0) -> RieProcess:
        self._lock = contextlib.ExitStack()
        self._lock.enter_context(_locked(self.lock_path))
        try:
            self.port = free_port()
            with open(self.log_path, "wb") as log:
                self._process = subprocess.Popen(
                    self.command(), cwd=self.code_dir, env=self.environment(),
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)  # its own group: stop() reaches the runtime too
            self._wait_listening(ready_timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_listening(self, timeout_s: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RieUnavailable(f"the RIE exited with {self._process.returncode} at start: "
                                     f"{self.log_tail()}")
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.02)
        raise RieUnavailable(f"the RIE did not listen within {timeout_s} s: {self.log_tail()}")

    def invoke(self, payload: bytes, timeout_s: float = 30.0) -> RieResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout_s)
        try:
            connection.request("POST", INVOKE_PATH, body=payload,
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            return RieResponse(response.status, dict(response.getheaders()), response.read())
        finally:
            connection.close()

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM (the RIE then SIGKILLs its runtime), then SIGKILL the group. Idempotent."""
        process, self._process = self._process, None
        try:
            if process is not None:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
                try:
                    process.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=3)
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)  # a runtime it failed to reap
        finally:
            lock, self._lock = self._lock, None
            if lock is not None:
                lock.close()

    def __enter__(self) -> RieProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalise_ids(text: str) -> str:
    """Request ids differ on every call: replace each UUID with a fixed marker."""
    return _UUID.sub("<request-id>", text)

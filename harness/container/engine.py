"""The connection to a Docker engine, and the labels that mark what the harness started there.

The engine is found as the ``docker`` command finds it (``DOCKER_HOST``, else the default socket).
Every failure to reach it becomes one ``EngineUnavailable`` whose message says what to do.
"""

from __future__ import annotations

import os
from typing import Any

from harness.errors import HarnessError

# Labels on every container the harness starts: who started it, and for which environment.
OWNER_LABEL = "harness.owner"
"""``<pid namespace>:<pid>:<start time>`` of the harness process that owns the container."""
ENV_LABEL = "harness.env"
"""The execution environment's id (also in its log stream name)."""
FUNCTION_LABEL = "harness.function"
INPUTS_LABEL = "harness.inputs"
"""On images the harness built: a hash of everything the image was built from."""


class EngineUnavailable(HarnessError):
    """No Docker engine answers (none installed, not running, or no permission)."""

    exit_code = 3


def _docker_module() -> Any:
    try:
        import docker
    except ImportError:
        raise EngineUnavailable(
            "the container tier needs the Docker SDK for Python: "
            "pip install 'harness[container]'") from None
    return docker


def engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect(timeout_s: float = 120.0) -> Any:
    """A ``docker.DockerClient`` that has answered a ping, or ``EngineUnavailable``."""
    docker = _docker_module()
    try:
        client = docker.from_env(timeout=int(timeout_s))
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(_unreachable(exc)) from None
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - requests, urllib3 and docker errors alike
        client.close()
        raise EngineUnavailable(_unreachable(exc)) from None
    return client


def engine_problem() -> str | None:
    """Why no engine can be used here, or None when one answers."""
    try:
        connect(timeout_s=5).close()
    except EngineUnavailable as exc:
        return exc.message
    return None


_REASONS = (("No such file", "no socket there"), ("FileNotFoundError", "no socket there"),
            ("Connection refused", "connection refused"), ("Permission denied", "permission "
             "denied: add yourself to the docker group, or use sudo"),
            ("timed out", "timed out"))


def _unreachable(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    reason = next((short for needle, short in _REASONS if needle in text),
                  text.splitlines()[0][:120])
    return (f"no Docker engine is reachable at {engine_address()} ({reason}); start Docker, or "
            "set DOCKER_HOST to a running engine")


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "?"


def owner_label(pid: int | None = None) -> str:
    """This process as an owner label value; the start time tells a reused pid apart."""
    import psutil

    process = psutil.Process(pid or os.getpid())
    return f"{_pid_namespace()}:{process.pid}:{process.create_time():.2f}"


def owner_is_gone(label: str) -> bool:
    """Whether the harness process named by an owner label has certainly ended.

    Only owners in this pid namespace can be checked; a container started by a harness that runs
    elsewhere (another container, another namespace) is never taken for a leftover.
    """
    import psutil

    namespace, _, rest = label.partition(":")
    pid_text, _, started = rest.partition(":")
    if namespace != _pid_namespace() or not pid_text.isdigit():
        return False
    try:
        return f"{psutil.Process(int(pid_text)).create_time():.2f}" != started
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False

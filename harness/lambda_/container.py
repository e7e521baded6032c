"""Runs execution environments as Docker containers of the function's image, on the host network.

The container's entrypoint (AWS's base image, or the stand-in that ``harness image build-base``
makes) sees ``AWS_LAMBDA_RUNTIME_API`` set and runs ``python -m awslambdaric`` straight against the
environment's own Runtime API on 127.0.0.1, as inside Lambda. Everything else (pool, limits, logs,
REPORT lines) is the environment's, exactly as with processes. A zip function's code is mounted
read-only at /var/task and its layers at /opt (``harness.lambda_.opt_dir``); code and layers used
in place (hot reload) are mounted themselves.

Max Memory Used comes from the container's memory cgroup: its peak usage (``max_usage_in_bytes`` on
cgroup v1, ``memory.peak`` on v2), which counts the page cache the container touched as well as
its processes' resident memory. It therefore reads higher than the process executor's figure (the
runtime process's VmHWM), by roughly the size of the files the function imported.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.config import EmulatorConfig
from harness.container.engine import (
    ENV_LABEL,
    FUNCTION_LABEL,
    OWNER_LABEL,
    EngineUnavailable,
    connect,
    owner_is_gone,
    owner_label,
)
from harness.errors import AwsError
from harness.lambda_.environment import RuntimeHandle
from harness.lambda_.launcher import Credentials, runtime_environment
from harness.lambda_.opt_dir import OptDirs
from harness.lambda_.output import BoundedOutput
from harness.lambda_.spec import FunctionSpec
from harness.lambda_.supervisor import descendants

log = logging.getLogger(__name__)

TASK_ROOT = "/var/task"
OPT_ROOT = "/opt"
"""Where Lambda extracts a function's layers."""
# Variables that describe the harness's own machine; inside the image its own values hold.
_HOST_ONLY = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "LAMBDA_TASK_ROOT",
              "LAMBDA_RUNTIME_DIR", "PYTHONPATH")
_MB = 1024 * 1024
OUTPUT_SETTLE_S = 0.001
"""How long the output must stay quiet before an invocation's output is taken (see below)."""
OUTPUT_SETTLE_MAX_S = 0.02


def container_environment(spec: FunctionSpec, runtime_api: str, env_id: str,
                          endpoint_url: str,
                          credentials: Mapping[str, str] | None = None) -> dict[str, str]:
    """The runtime's variables without the host's paths; the function's own variables still win."""
    env = runtime_environment(spec, runtime_api, env_id, endpoint_url, credentials)
    own = dict(spec.environment)
    for key in _HOST_ONLY:
        if key not in own:
            env.pop(key, None)
    if not spec.handler:
        env.pop("_HANDLER", None)  # the image's CMD names the handler; its entrypoint sets this
    return env


def exit_code_of(status: int) -> int:
    """Docker reports death by signal N as 128+N; the environment expects -N, as from a process."""
    return -(status - 128) if 128 < status < 160 else status


class ContainerRuntime:
    """One running container: its output, its peak memory and its exit."""

    def __init__(self, client: Any, container_id: str, on_exit: Callable[[int], None],
                 settle_s: float = OUTPUT_SETTLE_S) -> None:
        self._client = client
        self.container_id = container_id
        self._on_exit = on_exit
        self._settle_s = settle_s
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._last_chunk = 0.0
        self._stream_open = True
        self._output = BoundedOutput()
        self._peak_mb = 0
        self._cgroup_file: Path | None = None
        self._removed = False
        self._root_pid = 0
        self._pids_visible = True
        self.out_of_memory = False
        """True once the engine reported that the kernel killed the container for memory."""
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        """Attach to the output first, then start, so nothing the runtime prints is missed."""
        stream = self._client.api.attach(self.container_id, stdout=True, stderr=True,
                                         stream=True, logs=True)
        self._reader = threading.Thread(target=self._watch, args=(stream,),
                                        name=f"runtime-output-{self.container_id[:12]}",
                                        daemon=True)
        self._reader.start()
        self._client.api.start(self.container_id)
        self._cgroup_file = _find_cgroup_peak_file(self.container_id)

    def _watch(self, stream: Any) -> None:
        try:
            for chunk in stream:
                with self._arrived:
                    self._output.add(chunk)
                    self._last_chunk = time.perf_counter()
                    self._arrived.notify_all()
        except Exception as exc:  # noqa: BLE001 - the engine went away; the exit says the rest
            log.debug("output stream of %s ended: %s", self.container_id[:12], exc)
        finally:
            with contextlib.suppress(Exception):
                stream.close()
            with self._arrived:
                self._stream_open = False
                self._arrived.notify_all()
        self._on_exit(self._wait_exit())

    def _wait_exit(self) -> int:
        try:
            status = int(self._client.api.wait(self.container_id, timeout=None)["StatusCode"])
            state = self._client.api.inspect_container(self.container_id)["State"]
        except Exception:  # noqa: BLE001 - removed under us: it was killed
            return -9
        if state.get("OOMKilled"):
            self.out_of_memory = True
        return exit_code_of(status)

    def pids(self) -> list[int] | None:
        """The container's processes by their host pids: its first process, then those below it
        (they share the host's network, so their sockets are in the host's /proc/net/tcp).

        None when this host cannot see them (an engine in a VM, another pid namespace): the
        Runtime API then cannot tell its runtime's connections apart and serves them all.
        """
        if not self._root_pid and self._pids_visible:
            found = self._find_root_pid()
            self._pids_visible = found is not None
            self._root_pid = found or 0
        if not self._pids_visible:
            return None
        root = self._root_pid
        return [root, *descendants(root)] if root else []

    def _find_root_pid(self) -> int | None:
        """State.Pid when it names this container's process on this host; 0 once it stopped."""
        try:
            pid = int(self._client.api.inspect_container(self.container_id)["State"]["Pid"])
        except Exception:  # noqa: BLE001 - removed meanwhile: nothing of it is left
            return 0
        try:
            cgroup = Path(f"/proc/{pid}/cgroup").read_text() if pid else ""
        except OSError:
            cgroup = ""
        if pid and self.container_id not in cgroup:
            log.warning("container %s: its processes are not visible on this host; its Runtime "
                        "API serves any local process", self.container_id[:12])
            return None
        return pid

    def take_output(self) -> str:
        """Everything the container wrote so far, once its output has been quiet for a moment.

        A container's output reaches the harness through the engine, a fraction of a millisecond
        after the runtime wrote it and so possibly after its response: waiting until nothing has
        arrived for ``settle_s`` (at most ``OUTPUT_SETTLE_MAX_S``) keeps the function's last lines
        with the invocation that printed them.
        """
        called = time.perf_counter()
        with self._arrived:
            while self._stream_open:
                now = time.perf_counter()
                quiet_until = max(called, self._last_chunk) + self._settle_s
                wait = min(quiet_until, called + OUTPUT_SETTLE_MAX_S) - now
                if wait <= 0:
                    break
                self._arrived.wait(wait)
            return self._output.take()

    def peak_memory_mb(self) -> int:
        """Peak memory of the container's cgroup, read from the host's cgroup file when it can
        be seen (microseconds), else asked of the engine (a round trip)."""
        if self._removed:
            return self._peak_mb
        peak = _read_bytes(self._cgroup_file) if self._cgroup_file is not None else None
        if peak is None:
            peak = self._peak_from_engine()
        if peak:
            self._peak_mb = max(self._peak_mb, max(1, round(peak / _MB)))
        return self._peak_mb

    def _peak_from_engine(self) -> int | None:
        try:
            stats = self._client.api.stats(self.container_id, stream=False, one_shot=True)
        except Exception:  # noqa: BLE001 - stopped already: keep what was seen
            return None
        memory = stats.get("memory_stats") or {}
        return memory.get("max_usage") or memory.get("usage")

    def kill(self) -> None:
        """Remove the container (SIGKILL first), then wait for its output reader."""
        with self._lock:
            if self._removed:
                return
        self.peak_memory_mb()
        try:
            self._client.api.remove_container(self.container_id, force=True)
        except Exception as exc:  # noqa: BLE001 - already gone, or the engine is gone
            if "No such container" not in str(exc):
                log.warning("could not remove container %s: %s", self.container_id[:12], exc)
        with self._lock:
            self._removed = True
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=10)


def _find_cgroup_peak_file(container_id: str) -> Path | None:
    """The host's cgroup file holding the container's peak memory, when this host can see it."""
    root = Path("/sys/fs/cgroup")
    candidates = [
        root / "memory" / "docker" / container_id / "memory.max_usage_in_bytes",
        root / "memory" / "system.slice" / f"docker-{container_id}.scope"
        / "memory.max_usage_in_bytes",
        root / "system.slice" / f"docker-{container_id}.scope" / "memory.peak",
        root / "docker" / container_id / "memory.peak",
    ]
    return next((path for path in candidates if path.is_file()), None)


def _read_bytes(path: Path) -> int | None:
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return None


class ContainerLauncher:
    """Starts one container per execution environment; connects to the engine at first use."""

    def __init__(self, endpoint_url: Callable[[], str], zip_image: str | None = None,
                 connect_engine: Callable[[], Any] = connect, *,
                 state_dir: Path | None = None, credentials: Credentials | None = None) -> None:
        self._endpoint_url = endpoint_url
        self._credentials = credentials
        self._zip_image = zip_image
        self._connect = connect_engine
        self._opt = OptDirs(state_dir or EmulatorConfig().state_dir)
        self._client: Any = None
        self._lock = threading.Lock()
        self._owner = owner_label()

    def engine(self) -> Any:
        """The engine's client; the first call also removes containers a dead harness left."""
        with self._lock:
            if self._client is None:
                client = self._connect()
                removed = remove_stale_containers(client)
                if removed:
                    log.warning("removed %d container(s) left by a harness that is gone: %s",
                                len(removed), ", ".join(removed))
                self._client = client
            return self._client

    def launch(self, spec: FunctionSpec, runtime_api: str, env_id: str,
               on_exit: Callable[[int], None]) -> RuntimeHandle:
        try:
            client = self.engine()
        except EngineUnavailable as exc:
            raise _cannot_run(spec, exc.message) from None
        options = self._options(spec, runtime_api, env_id)
        docker_errors = _docker_errors()
        try:
            created = client.api.create_container(**options)
        except docker_errors.ImageNotFound:
            raise _cannot_run(spec, f"image {options['image']!r} is not in the Docker engine "
                                    "(build it with `harness image build-function`)") from None
        except docker_errors.APIError as exc:
            raise _cannot_run(spec, str(exc.explanation or exc)) from None
        runtime = ContainerRuntime(client, created["Id"], on_exit)
        try:
            runtime.start()
        except docker_errors.APIError as exc:
            runtime.kill()
            raise _cannot_run(spec, str(exc.explanation or exc)) from None
        return runtime

    def _options(self, spec: FunctionSpec, runtime_api: str, env_id: str) -> dict[str, Any]:
        client = self._client
        memory = f"{spec.memory_mb}m"
        host_config: dict[str, Any] = {
            "network_mode": "host",
            "mem_limit": memory,
            "memswap_limit": memory,  # no swap, as in Lambda
        }
        options: dict[str, Any] = {
            "environment": container_environment(
                spec, runtime_api, env_id, self._endpoint_url(),
                self._credentials(spec) if self._credentials else None),
            "labels": {OWNER_LABEL: self._owner, ENV_LABEL: env_id, FUNCTION_LABEL: spec.name},
            "name": f"harness-{spec.name}-{env_id}",
        }
        if spec.package_type == "Image":
            if not spec.image_uri:
                raise _cannot_run(spec, "the function has no ImageUri")
            options["image"] = spec.image_uri
            # ImageConfig overrides the image's own CMD, ENTRYPOINT and WORKDIR, as on Lambda.
            if spec.image_command:
                options["command"] = list(spec.image_command)
            if spec.image_entrypoint:
                options["entrypoint"] = list(spec.image_entrypoint)
            if spec.image_workdir:
                options["working_dir"] = spec.image_workdir
        else:
            if not self._zip_image:
                raise _cannot_run(spec, "no image is configured for zip functions")
            options["image"] = self._zip_image
            options["command"] = [spec.handler]
            host_config["binds"] = self._binds(spec)
        options["host_config"] = client.api.create_host_config(**host_config)
        return options

    def _binds(self, spec: FunctionSpec) -> dict[str, dict[str, str]]:
        """The task root at /var/task and the layers at /opt, read-only as on Lambda. A
        directory used in place (hot reload) is mounted itself: a saved change is seen at once,
        and the environment that sees it is a new one (see ``LambdaService._code``)."""
        binds = {spec.code_dir: {"bind": TASK_ROOT, "mode": "ro"}}
        opt = self._opt.for_spec(spec)
        if opt is not None:
            binds[opt] = {"bind": OPT_ROOT, "mode": "ro"}
        return binds

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
        self._opt.close()


def remove_stale_containers(client: Any) -> list[str]:
    """Remove containers whose owning harness process has ended; returns their names."""
    removed = []
    for info in client.api.containers(all=True, filters={"label": OWNER_LABEL}):
        owner = (info.get("Labels") or {}).get(OWNER_LABEL, "")
        if owner_is_gone(owner):
            with contextlib.suppress(Exception):
                client.api.remove_container(info["Id"], force=True)
                removed.append((info.get("Names") or [info["Id"][:12]])[0].lstrip("/"))
    return removed


def _docker_errors() -> Any:
    import docker.errors

    return docker.errors


def _cannot_run(spec: FunctionSpec, why: str) -> AwsError:
    return AwsError(f"cannot start function {spec.name} in a container: {why}",
                    code="ServiceException", status=500)

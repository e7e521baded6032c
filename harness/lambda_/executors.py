"""Which executor runs a function: image functions in containers, zip functions as processes.

A zip function runs in a container too when ``LambdaConfig.zip_executor`` is ``"container"``: its
unpacked package is mounted read-only at /var/task of ``LambdaConfig.zip_image`` and its layers at
/opt; the image must carry the runtime client and put /opt on the paths as Lambda's base images do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config import LambdaConfig
from harness.lambda_.environment import RuntimeHandle
from harness.lambda_.launcher import Credentials, ProcessLauncher
from harness.lambda_.spec import FunctionSpec

if TYPE_CHECKING:
    from harness.lambda_.container import ContainerLauncher


class ExecutorSelector:
    """A launcher that hands each function to the executor its package type calls for.

    The container executor (and the Docker SDK) is only loaded when a function first needs it, so
    a harness that only runs zip functions never needs Docker.
    """

    def __init__(self, endpoint_url: Callable[[], str], config: LambdaConfig,
                 state_dir: Path | None = None, *,
                 credentials: Credentials | None = None) -> None:
        self._endpoint_url = endpoint_url
        self._config = config
        self._state_dir = state_dir
        self._credentials = credentials
        self._process = ProcessLauncher(endpoint_url, config.python, state_dir=state_dir,
                                        pip_args=config.pip_args, credentials=credentials)
        self._container: ContainerLauncher | None = None
        self._lock = threading.Lock()

    @property
    def process_launcher(self) -> ProcessLauncher | None:
        """What SnapStart's templates start from; None when zip functions run in containers."""
        return self._process if self._config.zip_executor != "container" else None

    def uses_container(self, spec: FunctionSpec) -> bool:
        return spec.package_type == "Image" or self._config.zip_executor == "container"

    def launch(self, spec: FunctionSpec, runtime_api: str, env_id: str,
               on_exit: Callable[[int], None]) -> RuntimeHandle:
        if not self.uses_container(spec):
            return self._process.launch(spec, runtime_api, env_id, on_exit)
        return self._containers().launch(spec, runtime_api, env_id, on_exit)

    def _containers(self) -> ContainerLauncher:
        with self._lock:
            if self._container is None:
                from harness.lambda_.container import ContainerLauncher

                self._container = ContainerLauncher(self._endpoint_url, self._config.zip_image,
                                                    state_dir=self._state_dir,
                                                    credentials=self._credentials)
            return self._container

    def close(self) -> None:
        """Close the engine connection, if one was made (containers stop with their pools)."""
        with self._lock:
            container, self._container = self._container, None
        if container is not None:
            container.close()


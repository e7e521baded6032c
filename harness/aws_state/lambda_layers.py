"""A function's layers as moto keeps them, in the function's order."""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import get_backend

from harness.aws_state.hot_reload import hot_reload_dir
from harness.errors import ResourceNotFoundError


def layer_packages(fn: Any) -> list[tuple[str, bytes, str | None]]:
    """(content hash, zip, local directory or None) of each of a moto ``LambdaFunction``'s
    ``Layers``: a hot-reload layer has a directory and no zip. A deleted layer version is an
    error. moto's lookup ignores the account and region in the ARN: it reads the function's own.
    """
    backend = get_backend(fn.account_id, fn.region)
    found = []
    for layer in getattr(fn, "layers", None) or []:
        version = backend.layers_versions_by_arn(layer["Arn"])
        local = hot_reload_dir(version) if version is not None else None
        if version is None or not (version.code_bytes or local):
            raise ResourceNotFoundError(f"Layer version {layer['Arn']} does not exist")
        found.append((str(version.code_sha_256), bytes(version.code_bytes), local))
    return found

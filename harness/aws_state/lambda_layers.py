"""A function's layers as moto keeps them: (content hash, zip bytes), in the function's order."""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import get_backend

from harness.errors import ResourceNotFoundError


def layer_packages(fn: Any) -> list[tuple[str, bytes]]:
    """The zips of a moto ``LambdaFunction``'s ``Layers``; a deleted layer version is an error.

    moto's lookup ignores the account and region in the ARN, so it reads the function's own.
    """
    backend = get_backend(fn.account_id, fn.region)
    found = []
    for layer in getattr(fn, "layers", None) or []:
        version = backend.layers_versions_by_arn(layer["Arn"])
        if version is None or not version.code_bytes:
            raise ResourceNotFoundError(f"Layer version {layer['Arn']} does not exist")
        found.append((str(version.code_sha_256), bytes(version.code_bytes)))
    return found

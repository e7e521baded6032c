"""A plain zip function's spec, for tests that drive the Lambda data plane's parts directly."""

from __future__ import annotations

import uuid

from harness.lambda_.spec import FunctionSpec


def plain_spec(prefix: str) -> FunctionSpec:
    """A python3.11 zip function of 128 MB and 3 s, named ``prefix`` and a random suffix."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return FunctionSpec(
        name=name, arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        version="$LATEST", handler="app.handler", runtime="python3.11", memory_mb=128,
        timeout_s=3.0, environment=(), code_sha256="x", package_type="Zip", image_uri=None,
        account_id="123456789012", region="us-east-1")

"""Functions as the Invoke path reads them from moto: one lookup per invocation, moto's errors
turned into the harness's, and the reserved concurrency the gate needs."""

from __future__ import annotations

from typing import Any

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import lambda_backends
from moto.core.exceptions import JsonRESTError

from harness.aws_state.backends import existing
from harness.errors import InvalidParameterError, ResourceNotFoundError


def find(account: str, region: str, name: str, qualifier: str | None,
         asked: str) -> tuple[Any, Any]:
    """(moto's function version, its backend) for ``name`` (a qualified name or ARN) in
    ``account`` and ``region``; ResourceNotFound naming ``asked`` when there is none."""
    try:
        backend = existing(lambda_backends, account, region)
    except KeyError:  # a region moto does not know: no function lives there
        raise ResourceNotFoundError(f"Function not found: {asked}") from None
    try:
        return backend.get_function(name, qualifier), backend
    except UnknownFunctionException as exc:
        raise ResourceNotFoundError(exc.message) from None
    except JsonRESTError as exc:
        raise InvalidParameterError(exc.message) from None


def reserved(backend: Any, fn: Any, name: str) -> tuple[int | None, int]:
    """The function's reserved concurrency (moto keeps it on $LATEST, as it belongs to the
    function, not to a version) and the sum of every other function's in the region."""
    latest = fn if str(fn.version) == "$LATEST" else backend.get_function(name)
    own = latest.reserved_concurrency
    others = sum(int(f.reserved_concurrency) for f in backend.list_functions()
                 if f.reserved_concurrency is not None and f.function_name != name)
    return (int(own) if own is not None else None), others

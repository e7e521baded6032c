"""The listing parameters S3 refuses and moto let through: ``max-keys`` that is not a 32-bit
integer, or negative, and a continuation token the bucket never gave. moto answered the first
and the last with a 500 (an unhandled ValueError, a failed lookup) and a negative ``max-keys``
with a cut listing; S3 answers 400 ``InvalidArgument`` naming the argument."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from typing import Any

from moto.s3.exceptions import (
    InvalidArgumentError,
    InvalidContinuationToken,
    NotAnIntegerException,
)
from moto.s3.responses import S3Response

_INT32_MAX = 2**31 - 1
_INTEGER = re.compile(r"-?[0-9]+")  # ASCII digits: int() would take "+5", " 5", "5_0" and "٣"
_METHODS = ("list_objects", "list_objects_v2", "list_object_versions")


def max_keys_problem(text: str | None) -> InvalidArgumentError | None:
    """S3's refusal of a ``max-keys`` value, or None for one it takes (absent included)."""
    if text is None:
        return None
    if len(text) > 11 or not _INTEGER.fullmatch(text) or abs(value := int(text)) > _INT32_MAX:
        return NotAnIntegerException("max-keys", text)  # type: ignore[arg-type]
    if value < 0:
        return InvalidArgumentError("Argument maxKeys must be an integer between 0 and "
                                    f"{_INT32_MAX}", "maxKeys", text)
    return None


def _checked(method: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(method)
    def checked(self: S3Response) -> Any:
        query = self.querystring
        problem = max_keys_problem((query.get("max-keys") or [None])[0])
        if problem is not None:
            raise problem
        token = (query.get("continuation-token") or [None])[0]
        if name == "list_objects_v2" and token and token not in self.backend._pagination_tokens:
            raise InvalidContinuationToken()
        return method(self)

    checked.harness_checked = True  # type: ignore[attr-defined]
    return checked


_lock = threading.Lock()


def install() -> None:
    """Check the listings' parameters before moto reads them (idempotent, process-wide)."""
    with _lock:
        for name in _METHODS:
            method = getattr(S3Response, name)
            if not getattr(method, "harness_checked", False):
                setattr(S3Response, name, _checked(method, name))

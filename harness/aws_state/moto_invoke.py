"""moto's one invoke path (``LambdaFunction.invoke``), taken over: moto's S3, SNS, SQS, streams
and Logs triggers all end there and would try Docker; here they reach the harness's Lambda data
plane instead, as an asynchronous delivery.

The hook is process-wide (moto's state is); the emulator started last receives deliveries, and
while none runs a delivery is dropped with a warning, never run through Docker.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("harness.triggers")


@dataclass(frozen=True)
class MotoDelivery:
    """An event one of moto's services handed to a function."""

    function_arn: str
    """The function's ARN as moto holds it (qualified when a version was addressed)."""
    payload: bytes


Sink = Callable[[MotoDelivery], None]

_sinks: list[Sink] = []
_lock = threading.Lock()
_installed = False


def _invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    payload = body if isinstance(body, bytes) else (body or "{}").encode()
    delivery = MotoDelivery(function_arn=str(self.function_arn), payload=payload)
    with _lock:
        sink = _sinks[-1] if _sinks else None
    if sink is None:
        log.warning("no emulator running: moto's delivery to %s dropped", delivery.function_arn)
    else:
        sink(delivery)
    return json.dumps({"StatusCode": 202}).encode()


def install(sink: Sink) -> Callable[[], None]:
    """Route moto's invocations to ``sink``; returns the call that takes it away again."""
    global _installed
    from moto.awslambda.models import LambdaFunction

    with _lock:
        if not _installed:
            LambdaFunction.invoke = _invoke  # type: ignore[method-assign,assignment]
            _installed = True
        _sinks.append(sink)

    def uninstall() -> None:
        with _lock:
            if sink in _sinks:
                _sinks.remove(sink)

    return uninstall

"""The triggers room's owner: one object the emulator starts, resets and stops."""

from __future__ import annotations

import logging
from typing import Protocol

from harness.aws_state import moto_invoke
from harness.clock import Clock
from harness.config import EmulatorConfig
from harness.errors import AwsError
from harness.iam import may_invoke, refusal_message
from harness.lambda_.service import InvokeRequest, LambdaService
from harness.triggers.async_invoke import AsyncInvoker
from harness.triggers.eventbridge import EventBridge
from harness.triggers.s3 import S3Notifications
from harness.triggers.sns import SnsSubscriptions
from harness.triggers.sqs import SqsMappings

log = logging.getLogger("harness.triggers")


class Source(Protocol):
    """An event source: it delivers through ``LambdaService`` and stops with the room."""

    def reset(self) -> None:
        """Forget every subscription and in-flight delivery (the emulator's reset)."""

    def close(self) -> None:
        """Stop every thread and timer it started."""


class Triggers:
    """Owns the event sources; ``close()`` stops them all."""

    def __init__(self, lambdas: LambdaService, clock: Clock, config: EmulatorConfig) -> None:
        self.lambdas = lambdas
        self.clock = clock
        self.config = config
        self._sources: list[Source] = []
        self._uninstall = moto_invoke.install(self._from_moto)
        self.add(S3Notifications(self))
        self.add(SnsSubscriptions(self))
        self.add(EventBridge(self.invoke_async, clock))
        self.async_events = AsyncInvoker(lambdas, clock)
        """Lambda's asynchronous queue: Event invocations' retries, destinations and DLQ."""
        self.add(self.async_events)
        self.sqs = SqsMappings(lambdas)
        self.add(self.sqs)

    def add(self, source: Source) -> Source:
        self._sources.append(source)
        return source

    def _from_moto(self, delivery: moto_invoke.MotoDelivery) -> None:
        """moto's other services hand a function an event: an asynchronous invoke."""
        self.invoke_async(delivery.function_arn, delivery.payload, source="moto")

    def invoke_async(self, function: str, payload: bytes, *, source: str,
                     principal: str | None = None, source_arn: str | None = None,
                     source_account: str | None = None) -> bool:
        """Queue an Event invocation as an AWS service would; False (logged) if refused.

        With ``principal`` (``s3.amazonaws.com``, ``sns.amazonaws.com``...), the function's
        resource-based policy must allow it for ``source_arn``/``source_account`` (IAM on)."""
        if principal is not None and self.config.iam.enabled:
            decision = may_invoke(function, principal, source_arn, source_account)
            if not decision.allowed:
                log.warning("%s could not deliver to %s: %s", source, function,
                            refusal_message(function, principal, source_arn, decision))
                return False
        try:
            self.lambdas.invoke(InvokeRequest(function=function, payload=payload,
                                              invocation_type="Event"))
        except AwsError as error:
            log.warning("%s could not deliver to %s: %s", source, function, error.message)
            return False
        return True

    def reset(self) -> None:
        for source in self._sources:
            source.reset()

    def close(self) -> None:
        self._uninstall()
        for source in reversed(self._sources):
            source.close()
        self._sources.clear()

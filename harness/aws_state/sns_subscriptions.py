"""moto's SNS deliveries to Lambda subscriptions, taken over: each message that passes the
subscription's filter policy reaches the harness's SNS trigger (``harness.triggers.sns``) with
what the real record needs (the subscription's ARN, the published message id and attributes).

moto's own path (``Subscription.publish`` -> ``LambdaBackend.send_sns_message``) invokes the
function with a fixed MessageId, made-up attributes and an epoch Timestamp. Every other protocol
(SQS, HTTP...) stays moto's. The hook is process-wide; the emulator started last receives the
deliveries, and while none runs moto's behaviour is left as it was. moto is imported when the
hook is installed: ``import harness`` (the pytest plugin's path) must not load moto.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SnsDelivery:
    """One published message for one Lambda subscription, after its filter policy."""

    subscription_arn: str
    topic_arn: str
    function_arn: str
    """The subscription's endpoint: the function's ARN, qualified or not."""
    message_id: str
    """The id Publish answered."""
    message: str
    """For ``MessageStructure: json``, the message's ``lambda`` (else ``default``) value."""
    subject: str | None
    message_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``{name: {"Type": ..., "Value": ...}}`` as SNS forwards them (Binary as base64)."""


Sink = Callable[[SnsDelivery], None]

_sinks: list[Sink] = []
_lock = threading.Lock()
_originals: dict[str, Any] = {}


def _publish(self: Any, message: str, message_id: str, subject: str | None = None,
             message_attributes: dict[str, Any] | None = None, group_id: str | None = None,
             deduplication_id: str | None = None, message_structure: str | None = None) -> None:
    with _lock:
        sink = _sinks[-1] if _sinks else None
    if sink is None or self.protocol != "lambda":
        _originals["publish"](self, message, message_id, subject=subject,
                              message_attributes=message_attributes, group_id=group_id,
                              deduplication_id=deduplication_id,
                              message_structure=message_structure)
        return
    matcher = self._filter_policy_matcher  # moto's: MessageAttributes and MessageBody scopes
    if matcher is not None and not matcher.matches(message_attributes, message):
        return
    if message_structure == "json":
        message = self._parse_message_structure(message, self.protocol)
    sink(SnsDelivery(
        subscription_arn=self.arn, topic_arn=self.topic.arn, function_arn=self.endpoint,
        message_id=message_id, message=message, subject=subject,
        message_attributes=dict(message_attributes or {})))


def install(sink: Sink) -> Callable[[], None]:
    """Route moto's Lambda-subscription deliveries to ``sink``; returns the call that takes it
    away again."""
    from moto.sns.models import Subscription

    with _lock:
        if not _originals:
            _originals["publish"] = Subscription.publish
            Subscription.publish = _publish  # type: ignore[method-assign]
        _sinks.append(sink)

    def uninstall() -> None:
        with _lock:
            if sink in _sinks:
                _sinks.remove(sink)

    return uninstall

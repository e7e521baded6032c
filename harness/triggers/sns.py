"""SNS to Lambda: a message published to a topic reaches each subscribed function whose filter
policy it passes, as SNS's record, through an asynchronous invoke.

moto applies the filter policy (attributes or, with ``FilterPolicyScope: MessageBody``, the
body) in ``aws_state.sns_subscriptions``; the record is built here, as SNS sends it:
https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import TYPE_CHECKING, Any

from harness.aws_state import sns_subscriptions
from harness.aws_state.sns_subscriptions import SnsDelivery
from harness.triggers.s3 import iso_ms

if TYPE_CHECKING:
    from harness.triggers.room import Triggers

_SIGNING_KEY = os.urandom(32)
"""The harness signs with a key of its own: the Signature has SNS's form but no certificate
verifies it (nothing in Lambda checks it; HTTP subscribers, which do, stay moto's)."""
_CERT = "SimpleNotificationService-" + hashlib.md5(_SIGNING_KEY).hexdigest() + ".pem"


def _region(arn: str) -> str:
    return arn.split(":")[3]


def string_to_sign(delivery: SnsDelivery, timestamp: str) -> str:
    """SNS's canonical form of a notification (Subject only when there is one)."""
    fields = [("Message", delivery.message), ("MessageId", delivery.message_id)]
    if delivery.subject is not None:
        fields.append(("Subject", delivery.subject))
    fields += [("Timestamp", timestamp), ("TopicArn", delivery.topic_arn),
               ("Type", "Notification")]
    return "".join(f"{name}\n{value}\n" for name, value in fields)


def _attributes(attributes: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Published attributes as the record carries them: every Value a string."""
    return {name: {"Type": str(value["Type"]), "Value": str(value["Value"])}
            for name, value in attributes.items()}


def sns_record(delivery: SnsDelivery, *, published_at: float) -> dict[str, Any]:
    """The event SNS invokes a subscribed function with: ``{"Records": [record]}``."""
    region = _region(delivery.topic_arn)
    timestamp = iso_ms(published_at)
    signature = hmac.new(_SIGNING_KEY, string_to_sign(delivery, timestamp).encode(),
                         hashlib.sha1).digest()
    host = f"https://sns.{region}.amazonaws.com"
    return {"Records": [{
        "EventVersion": "1.0",
        "EventSubscriptionArn": delivery.subscription_arn,
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": "1",
            "Timestamp": timestamp,
            "Signature": base64.b64encode(signature).decode(),
            "SigningCertUrl": f"{host}/{_CERT}",
            "MessageId": delivery.message_id,
            "Message": delivery.message,
            "MessageAttributes": _attributes(delivery.message_attributes),
            "Type": "Notification",
            "UnsubscribeUrl": (f"{host}/?Action=Unsubscribe"
                               f"&SubscriptionArn={delivery.subscription_arn}"),
            "TopicArn": delivery.topic_arn,
            "Subject": delivery.subject,
        },
    }]}


class SnsSubscriptions:
    """The SNS event source: takes moto's Lambda-subscription deliveries over."""

    def __init__(self, triggers: Triggers) -> None:
        self._triggers = triggers
        self._uninstall = sns_subscriptions.install(self._deliver)

    def _deliver(self, delivery: SnsDelivery) -> None:
        record = sns_record(delivery, published_at=self._triggers.clock.now())
        self._triggers.invoke_async(delivery.function_arn, json.dumps(record).encode(),
                                    source="sns", principal="sns.amazonaws.com",
                                    source_arn=delivery.topic_arn)

    def reset(self) -> None:
        """Nothing to forget: the subscriptions live in moto's topics."""

    def close(self) -> None:
        self._uninstall()

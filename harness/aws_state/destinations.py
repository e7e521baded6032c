"""Deliveries into moto's services on Lambda's behalf: an asynchronous invocation's record or dead
letter sent to an SQS queue, an SNS topic, an EventBridge bus or an S3 bucket, through the same
backend calls the services' own APIs make (so a topic's subscriptions and a bus's rules apply).

Each function raises `DeliveryError` naming the target when the service refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from moto.core.exceptions import ServiceException
from moto.events.models import events_backends
from moto.s3.models import s3_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from werkzeug.exceptions import HTTPException

from harness.errors import HarnessError

Attributes = Mapping[str, tuple[str, str]]
"""Message attributes: name -> (DataType, value)."""


# What moto's backends raise for a missing queue, topic, bus or bucket (two exception trees).
_REFUSALS = (ServiceException, HTTPException, KeyError, ValueError)


class DeliveryError(HarnessError):
    """A destination or dead-letter target did not take a delivery."""


@dataclass(frozen=True)
class Arn:
    service: str
    region: str
    account: str
    resource: str


def parse_arn(arn: str) -> Arn:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise DeliveryError(f"{arn!r} is not an ARN")
    return Arn(parts[2], parts[3], parts[4], parts[5])


def _refused(arn: str, error: Exception) -> DeliveryError:
    message = getattr(error, "message", None) or getattr(error, "description", None) or error
    return DeliveryError(f"{arn} refused the delivery: {type(error).__name__}: {message}")


def send_to_queue(arn: str, body: str, attributes: Attributes | None = None) -> None:
    target = parse_arn(arn)
    attrs = {name: {"DataType": kind, "StringValue": value}
             for name, (kind, value) in (attributes or {}).items()}
    try:
        sqs_backends[target.account][target.region].send_message(
            target.resource, body, message_attributes=attrs)
    except _REFUSALS as error:
        raise _refused(arn, error) from None


def publish_to_topic(arn: str, message: str, attributes: Attributes | None = None) -> None:
    target = parse_arn(arn)
    # SNS's backend keeps attributes as its Publish action hands them on: {Type, Value}.
    attrs = {name: {"Type": kind, "Value": value}
             for name, (kind, value) in (attributes or {}).items()}
    try:
        sns_backends[target.account][target.region].publish(
            message, arn=arn, message_attributes=attrs)
    except _REFUSALS as error:
        raise _refused(arn, error) from None


def put_event(bus_arn: str, source: str, detail_type: str, detail: str,
              resources: list[str]) -> None:
    target = parse_arn(bus_arn)
    entry = {"Source": source, "DetailType": detail_type, "Detail": detail,
             "EventBusName": bus_arn, "Resources": resources}
    try:
        answers = events_backends[target.account][target.region].put_events([entry])
    except _REFUSALS as error:
        raise _refused(bus_arn, error) from None
    if answers and "ErrorCode" in answers[0]:
        raise DeliveryError(f"{bus_arn} refused the event: {answers[0]['ErrorCode']}: "
                            f"{answers[0].get('ErrorMessage', '')}")


def put_object(bucket_arn: str, key: str, body: bytes, account: str) -> None:
    """Put into the bucket of ``bucket_arn`` in ``account`` (an S3 ARN names no account)."""
    bucket = parse_arn(bucket_arn).resource
    try:
        s3_backends[account]["aws"].put_object(bucket, key, body)
    except _REFUSALS as error:
        raise _refused(bucket_arn, error) from None

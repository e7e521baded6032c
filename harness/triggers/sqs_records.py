"""The SQS event as Lambda delivers it, the view its FilterCriteria match, and the partial batch
reply (``ReportBatchItemFailures``): pure functions.

https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

from harness.aws_state.sqs_queues import QueueMessage

SYSTEM_ATTRIBUTES = ("ApproximateReceiveCount", "AWSTraceHeader", "SentTimestamp", "SenderId",
                     "ApproximateFirstReceiveTimestamp", "SequenceNumber", "MessageGroupId",
                     "MessageDeduplicationId")
"""The record's ``attributes``, in the order Lambda writes them (FIFO ones last)."""


def _b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else str(value).encode()
    return base64.b64encode(raw).decode()


def message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS's ``{"DataType", "StringValue" | "BinaryValue"}`` in Lambda's lower-camel shape,
    binary values base64-encoded and the list members always present."""
    out: dict[str, Any] = {}
    if value.get("StringValue") is not None:
        out["stringValue"] = str(value["StringValue"])
    if value.get("BinaryValue") is not None:
        out["binaryValue"] = _b64(value["BinaryValue"])
    out["stringListValues"] = [str(v) for v in value.get("StringListValues") or []]
    out["binaryListValues"] = [_b64(v) for v in value.get("BinaryListValues") or []]
    out["dataType"] = str(value.get("DataType", "String"))
    return out


def sqs_record(message: QueueMessage, queue_arn: str, region: str) -> dict[str, Any]:
    """One entry of the event's ``Records``."""
    attributes = {name: message.attributes[name] for name in SYSTEM_ATTRIBUTES
                  if name in message.attributes}
    return {
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": {name: message_attribute(value)
                              for name, value in message.message_attributes.items()},
        "md5OfMessageAttributes": message.md5_of_attributes,
        "md5OfBody": message.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def sqs_event(records: Iterable[dict[str, Any]]) -> bytes:
    return json.dumps({"Records": list(records)}, separators=(",", ":")).encode()


def filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """What a filter pattern is matched against: the record, with a JSON body read as JSON (a
    pattern on ``body`` fields never matches a plain-text body)."""
    body = record.get("body")
    try:
        parsed = json.loads(body) if isinstance(body, str) else body
    except (ValueError, RecursionError):
        return record
    return {**record, "body": parsed}


def failed_item_ids(payload: bytes, batch_ids: set[str]) -> set[str] | None:
    """The message ids a ``ReportBatchItemFailures`` reply names as failed; ``None`` when the
    reply cannot be read, which fails the whole batch as on AWS (invalid JSON, a reply that is
    not an object, an item without an ``itemIdentifier`` or naming no message of the batch).
    An empty or null reply, or an empty or null ``batchItemFailures``, is complete success."""
    text = payload.strip()
    if not text:
        return set()
    try:
        reply = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if reply is None:
        return set()
    if not isinstance(reply, dict):
        return None
    items = reply.get("batchItemFailures")
    if not items:
        return set() if items is None or isinstance(items, list) else None
    if not isinstance(items, list):
        return None
    failed: set[str] = set()
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in batch_ids:
            return None
        failed.add(identifier)
    return failed


def record_bytes(record: dict[str, Any]) -> int:
    """About what one record adds to the event's JSON (for the 6 MB payload limit)."""
    return len(record["body"].encode()) + 1024 + sum(
        len(json.dumps(v)) for v in record["messageAttributes"].values())

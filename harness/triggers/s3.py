"""S3 event notifications: an object event in a bucket becomes S3's record, delivered to the
configured functions (an asynchronous invoke), queues (the message body) and topics (the
message), and a new configuration sends its queues and topics S3's test event.

moto decides which configurations an event matches, inside the request that caused it
(``aws_state.s3_notifications``); the records are built here, as S3 documents them:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from harness.aws_state import s3_notifications
from harness.aws_state.s3_notifications import (
    LAMBDA,
    QUEUE,
    TOPIC,
    S3Change,
    S3Configured,
    Target,
)

if TYPE_CHECKING:
    from harness.triggers.room import Triggers

log = logging.getLogger("harness.triggers")

SUBJECT = "Amazon S3 Notification"
"""The Subject S3 publishes its notifications to a topic with."""
SOURCE_IP = "127.0.0.1"


def encode_key(key: str) -> str:
    """The key as S3 writes it in a record: form-encoded ("red flower.jpg" ->
    "red+flower.jpg"), with its slashes kept as S3 keeps them."""
    return quote_plus(key, safe="/")


def iso_ms(seconds: float) -> str:
    """2026-12-05T04:14:06.398Z: the time format of S3's and SNS's records."""
    stamp = datetime.fromtimestamp(seconds, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def principal_id(account_id: str) -> str:
    """A stable principal id for the account, in the form S3 writes its owners' ids."""
    digest = base64.b32encode(hashlib.sha1(account_id.encode()).digest()).decode()
    return "A" + digest[:13]


def request_ids() -> tuple[str, str]:
    """(x-amz-request-id, x-amz-id-2) in S3's forms: 16 hex digits, a base64 host id."""
    return os.urandom(8).hex().upper(), base64.b64encode(os.urandom(57)).decode()


class Sequencer:
    """S3's ``sequencer``: hexadecimal, larger for each later event on a key (here, on any
    key), so that consumers can order events that arrive out of order."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return f"{self._last:018X}"


def _object(change: S3Change, sequencer: str) -> dict[str, Any]:
    """The record's ``s3.object``: removals have no size or eTag, tagging and ACL events no
    sequencer, unversioned buckets no versionId."""
    found: dict[str, Any] = {"key": encode_key(change.key)}
    if change.size is not None:
        found["size"] = change.size
    if change.etag is not None:
        found["eTag"] = change.etag
    if change.version_id is not None:
        found["versionId"] = change.version_id
    if not _is_object_metadata(change.event_name):
        found["sequencer"] = sequencer
    return found


def _is_object_metadata(event_name: str) -> bool:
    return event_name.startswith(("s3:ObjectTagging:", "s3:ObjectAcl:"))


def s3_record(change: S3Change, configuration_id: str, *, event_time: float, sequencer: str,
              request_id: str, host_id: str) -> dict[str, Any]:
    """The event as S3 delivers it: ``{"Records": [record]}``."""
    principal = principal_id(change.account_id)
    record = {
        # Tagging and ACL events are of a later version of the record.
        "eventVersion": "2.3" if _is_object_metadata(change.event_name) else "2.1",
        "eventSource": "aws:s3",
        "awsRegion": change.region,
        "eventTime": iso_ms(event_time),
        "eventName": change.event_name.removeprefix("s3:"),
        "userIdentity": {"principalId": f"AWS:{principal}"},
        "requestParameters": {"sourceIPAddress": SOURCE_IP},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": host_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {"name": change.bucket, "ownerIdentity": {"principalId": principal},
                       "arn": change.bucket_arn},
            "object": _object(change, sequencer),
        },
    }
    return {"Records": [record]}


def test_event(bucket: str, *, event_time: float, request_id: str,
               host_id: str) -> dict[str, Any]:
    """What S3 sends a queue or topic when a configuration naming it is stored."""
    return {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": iso_ms(event_time),
            "Bucket": bucket, "RequestId": request_id, "HostId": host_id}


class S3Notifications:
    """The S3 event source: takes moto's notifications over while the emulator runs."""

    def __init__(self, triggers: Triggers) -> None:
        self._triggers = triggers
        self._sequencer = Sequencer()
        self._uninstall = s3_notifications.install(self._on_event)

    def _on_event(self, event: S3Change | S3Configured) -> None:
        if isinstance(event, S3Configured):
            self._send_test_events(event)
            return
        sequencer = self._sequencer.next()  # one per event, the same for each destination
        request_id, host_id = request_ids()
        now = self._triggers.clock.now()
        for target in event.targets:
            body = s3_record(event, target.configuration_id, event_time=now,
                             sequencer=sequencer, request_id=request_id, host_id=host_id)
            self._send(event.account_id, target, json.dumps(body), event.bucket)

    def _send_test_events(self, event: S3Configured) -> None:
        request_id, host_id = request_ids()
        body = json.dumps(test_event(event.bucket, event_time=self._triggers.clock.now(),
                                     request_id=request_id, host_id=host_id))
        for arn in event.queue_arns:
            self._send(event.account_id, Target(QUEUE, arn, ""), body, event.bucket)
        for arn in event.topic_arns:
            self._send(event.account_id, Target(TOPIC, arn, ""), body, event.bucket)

    def _send(self, account_id: str, target: Target, body: str, bucket: str) -> None:
        """One delivery; a destination that went away (or a function whose policy no longer
        lets S3 invoke it) is logged, as S3 drops the event."""
        try:
            if target.kind == LAMBDA:
                self._triggers.invoke_async(target.arn, body.encode(), source="s3",
                                            principal="s3.amazonaws.com",
                                            source_arn=f"arn:aws:s3:::{bucket}",
                                            source_account=account_id)
            elif target.kind == QUEUE:
                s3_notifications.send_to_queue(account_id, target.arn, body)
            else:
                s3_notifications.publish_to_topic(account_id, target.arn, body, SUBJECT)
        except Exception as error:
            log.warning("s3 could not deliver to %s: %s", target.arn, error)

    def reset(self) -> None:
        """Nothing to forget: the configurations live in moto's buckets."""

    def close(self) -> None:
        self._uninstall()

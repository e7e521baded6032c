"""moto's S3 event notifications, taken over: every object event of a bucket with a notification
configuration reaches the harness's S3 trigger (``harness.triggers.s3``) as plain data.

moto fires ``notifications.send_event`` synchronously inside PutObject, CopyObject,
CompleteMultipartUpload, DeleteObject(s) and the tagging, ACL and restore calls; it sends a test
event from PutBucketNotificationConfiguration. Where it differs from S3 this module corrects it:
- CompleteMultipartUpload fires ObjectCreated:Put and then CompleteMultipartUpload: the Put is
  dropped;
- DeleteObject on a versioned bucket fires nothing (a delete marker, or one version of several
  deleted): removal events come from a wrapper of ``S3Backend.delete_object`` instead;
- PutBucketNotificationConfiguration does not check the destinations (``s3_destinations``).

The hook is process-wide (moto's state is); the emulator started last receives the events. While
none runs, moto's own behaviour is left as it was. moto is imported when the hook is installed,
not with this module: ``import harness`` (the pytest plugin's path) must not load moto.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("harness.triggers")

LAMBDA, QUEUE, TOPIC = "lambda", "sqs", "sns"


@dataclass(frozen=True)
class Target:
    """One notification configuration of the bucket that matched the event."""

    kind: str
    """``lambda``, ``sqs`` or ``sns``."""
    arn: str
    configuration_id: str


@dataclass(frozen=True)
class S3Change:
    """An object event in a bucket, with the configurations it matched."""

    account_id: str
    region: str
    bucket: str
    bucket_arn: str
    event_name: str
    """As S3 configures it: ``s3:ObjectCreated:Put``."""
    key: str
    """The key as stored, not yet URL-encoded."""
    size: int | None
    etag: str | None
    version_id: str | None
    """The object's (or delete marker's) version; None when the bucket is not versioned."""
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class S3Configured:
    """A notification configuration was stored: S3 sends its queues and topics a test event."""

    account_id: str
    region: str
    bucket: str
    queue_arns: tuple[str, ...]
    topic_arns: tuple[str, ...]


Sink = Callable[[S3Change | S3Configured], None]

_sinks: list[Sink] = []
_lock = threading.Lock()
_originals: dict[str, Any] = {}

_CREATED_BY_PUT = ("s3:ObjectCreated:Put", "s3:ObjectCreated:Post")
REMOVED_DELETE = "s3:ObjectRemoved:Delete"
REMOVED_MARKER = "s3:ObjectRemoved:DeleteMarkerCreated"


def _sink() -> Sink | None:
    with _lock:
        return _sinks[-1] if _sinks else None


def _targets(bucket: Any, event_name: str, key_name: str) -> tuple[Target, ...]:
    """The bucket's configurations that ``event_name`` on ``key_name`` matches (moto's
    ``Notification.matches``: the event or its ``:*`` wildcard, then prefix and suffix)."""
    config = bucket.notification_configuration
    if config is None:
        return ()
    found = []
    for kind, notifications in ((LAMBDA, config.cloud_function), (QUEUE, config.queue),
                                (TOPIC, config.topic)):
        found += [Target(kind, n.arn, n.id) for n in notifications
                  if n.matches(event_name, key_name)]
    return tuple(found)


def _change(account_id: str, event_name: str, bucket: Any, key: Any, *,
            version_id: str | None, removed: bool) -> S3Change:
    return S3Change(
        account_id=account_id, region=bucket.region_name, bucket=bucket.name,
        bucket_arn=bucket.arn, event_name=str(getattr(event_name, "value", event_name)),
        key=key.name, size=None if removed else key.size,
        etag=None if removed else key.etag.replace('"', ""), version_id=version_id,
        targets=_targets(bucket, event_name, key.name))


def _send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
    """moto's ``notifications.send_event``, in place: the object events it fires, corrected."""
    sink = _sink()
    if sink is None:
        _originals["send_event"](account_id, event_name, bucket, key)
        return
    if event_name.startswith("s3:ObjectRemoved:"):
        return  # the delete_object wrapper reports removals, versioned buckets included
    if event_name in _CREATED_BY_PUT and getattr(key, "multipart", None) is not None:
        return  # moto's CompleteMultipartUpload stores through put_object first
    if bucket.notification_configuration is None:
        return
    change = _change(account_id, event_name, bucket, key, removed=False,
                     version_id=key.version_id if bucket.is_versioned else None)
    _deliver(sink, change)
    _to_event_bridge(account_id, event_name, bucket, key)


def _deliver(sink: Sink, event: S3Change | S3Configured) -> None:
    """S3 notifies after the request succeeded: a failing delivery never fails the request."""
    try:
        sink(event)
    except Exception:
        log.exception("S3 notification for bucket %s not delivered", event.bucket)


def _to_event_bridge(account_id: str, event_name: str, bucket: Any, key: Any) -> None:
    if bucket.notification_configuration.event_bridge is not None:
        _originals["event_bridge"](account_id, bucket, event_name, key)


def _send_test_event(account_id: str, bucket: Any) -> None:
    sink = _sink()
    if sink is None:
        _originals["send_test_event"](account_id, bucket)
        return
    config = bucket.notification_configuration
    _deliver(sink, S3Configured(
        account_id=account_id, region=bucket.region_name, bucket=bucket.name,
        queue_arns=tuple(dict.fromkeys(n.arn for n in config.queue)),
        topic_arns=tuple(dict.fromkeys(n.arn for n in config.topic))))


def _removal(bucket: Any, version_id: str | None, before: list[Any],
             outcome: tuple[bool, dict[str, Any]]) -> tuple[str, str | None] | None:
    """(event name, version id) S3 reports for a DeleteObject, or None when nothing was
    removed."""
    deleted, meta = outcome
    if not deleted:
        return None
    if not bucket.is_versioned:
        return (REMOVED_DELETE, None) if before else None
    if version_id is None:
        return REMOVED_MARKER, meta.get("version-id")
    if any(str(k.version_id) == str(version_id) for k in before):
        return REMOVED_DELETE, str(version_id)
    return None


def _delete_object(self: Any, bucket_name: str, key_name: str, version_id: str | None = None,
                   bypass: bool = False) -> tuple[bool, dict[str, Any]]:
    """``S3Backend.delete_object``, then the removal S3 reports: a delete, or a delete marker
    created (DeleteObjects calls it once per key)."""
    original = _originals["delete_object"]
    sink = _sink()
    if sink is None:
        return original(self, bucket_name, key_name, version_id, bypass)  # type: ignore[no-any-return]
    bucket = self.get_bucket(bucket_name)
    before = list(bucket.keys.getlist(key_name, []))
    outcome = original(self, bucket_name, key_name, version_id, bypass)
    removal = _removal(bucket, version_id, before, outcome)
    if removal is not None and bucket.notification_configuration is not None:
        event_name, version = removal
        key = next((k for k in before if str(k.version_id) == str(version)), before[-1])
        _deliver(sink, _change(self.account_id, event_name, bucket, key, version_id=version,
                               removed=True))
        _to_event_bridge(self.account_id, event_name, bucket, key)
    return outcome  # type: ignore[no-any-return]


def _put_bucket_notification_configuration(self: Any, bucket_name: str,
                                           notification_config: dict[str, Any]) -> None:
    if _sink() is not None and notification_config:
        bucket = self.get_bucket(bucket_name)
        _originals["check"](bucket.arn, bucket.region_name, self.account_id,
                            notification_config)
    _originals["put_bucket_notification_configuration"](self, bucket_name, notification_config)


def install(sink: Sink) -> Callable[[], None]:
    """Route moto's S3 notifications to ``sink``; returns the call that takes it away again."""
    from moto.s3 import models as s3_models
    from moto.s3 import notifications as moto_notifications

    from harness.aws_state.s3_destinations import check_configuration

    with _lock:
        if not _originals:
            backend = s3_models.S3Backend
            _originals.update(
                send_event=moto_notifications.send_event,
                send_test_event=moto_notifications.send_test_event,
                event_bridge=moto_notifications._send_event_bridge_message,
                check=check_configuration,
                delete_object=backend.delete_object,
                put_bucket_notification_configuration=(
                    backend.put_bucket_notification_configuration))
            moto_notifications.send_event = _send_event
            moto_notifications.send_test_event = _send_test_event
            backend.delete_object = _delete_object  # type: ignore[method-assign]
            backend.put_bucket_notification_configuration = (  # type: ignore[method-assign]
                _put_bucket_notification_configuration)
        _sinks.append(sink)

    def uninstall() -> None:
        with _lock:
            if sink in _sinks:
                _sinks.remove(sink)

    return uninstall


def send_to_queue(account_id: str, queue_arn: str, body: str) -> None:
    """SendMessage as S3 does it (the queue owner's account, the queue's region)."""
    from moto.sqs.models import sqs_backends

    _, _, _, region, owner, name = queue_arn.split(":", 5)
    sqs_backends[owner or account_id][region].send_message(queue_name=name, message_body=body)


def publish_to_topic(account_id: str, topic_arn: str, message: str, subject: str) -> None:
    """Publish as S3 does it, through moto's SNS (its subscriptions, filter policies...)."""
    from moto.sns.models import sns_backends

    _, _, _, region, owner, _ = topic_arn.split(":", 5)
    sns_backends[owner or account_id][region].publish(message=message, arn=topic_arn,
                                                      subject=subject)


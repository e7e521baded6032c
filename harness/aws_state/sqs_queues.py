"""moto's SQS queues as an event source mapping reads them: long polls, batch deletes, the
dead-letter queue, and the X-Ray trace header a sender's ``X-Amzn-Trace-Id`` leaves on a message.

Everything here touches moto's private ``Queue`` and ``Message`` (moto 5.2) through the queue
index (``sqs_index``), which ``install`` puts in place: a poller never goes through HTTP, and
never through moto's own per-send Lambda path (see ``event_source_mappings``). A receive holds
the queue's condition while it takes messages, so two pollers of one queue never take the same
message, and a send that lands between a look and the wait still wakes the poller.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from moto.core.utils import unix_time
from moto.sqs.models import Message, Queue, SQSBackend, sqs_backends
from moto.sqs.responses import SQSResponse

from harness.aws_state import sqs_index

TRACE_ATTRIBUTE = "AWSTraceHeader"


@dataclass(frozen=True)
class QueueFacts:
    """What a mapping needs to know about its queue."""

    arn: str
    name: str
    account_id: str
    region: str
    fifo: bool
    visibility_timeout_s: int
    dead_letter_arn: str | None


@dataclass(frozen=True)
class QueueMessage:
    """One received message, copied out of moto (the poller never holds moto's objects)."""

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    md5_of_attributes: str | None
    attributes: dict[str, str]
    """System attributes as ReceiveMessage names them (ApproximateReceiveCount, ...)."""
    message_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """moto's shape: {name: {"DataType", "StringValue" | "BinaryValue" (bytes), ...}}."""


def _queue(arn: str) -> Queue | None:
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        return None
    region, account, name = parts[3], parts[4], parts[5]
    try:
        backend = sqs_backends[account][region]
    except KeyError:
        return None
    queue = backend.queues.get(name)
    return queue if queue is not None and queue.queue_arn == arn else None


def queue_facts(arn: str) -> QueueFacts | None:
    """The queue behind ``arn``, or None when it does not exist."""
    queue = _queue(arn)
    if queue is None:
        return None
    dlq = queue.dead_letter_queue
    return QueueFacts(arn=arn, name=queue.name, account_id=queue.account_id,
                      region=queue.region, fifo=bool(queue.fifo_queue),
                      visibility_timeout_s=int(queue.visibility_timeout),  # type: ignore[attr-defined]
                      dead_letter_arn=dlq.queue_arn if dlq is not None else None)


def _system_attributes(message: Message) -> dict[str, str]:
    found = {
        "ApproximateReceiveCount": str(message.approximate_receive_count),
        "SentTimestamp": str(message.sent_timestamp),
        "SenderId": str(message.sender_id),
        "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
    }
    if message.sequence_number is not None:
        found["SequenceNumber"] = str(message.sequence_number)
    if message.group_id is not None:
        found["MessageGroupId"] = str(message.group_id)
    if message.deduplication_id is not None:
        found["MessageDeduplicationId"] = str(message.deduplication_id)
    trace = (message.system_attributes or {}).get(TRACE_ATTRIBUTE) or {}
    if trace.get("StringValue"):
        found[TRACE_ATTRIBUTE] = str(trace["StringValue"])
    return found


def _copy(message: Message) -> QueueMessage:
    attrs = message.message_attributes or {}
    return QueueMessage(
        message_id=message.id, receipt_handle=str(message.receipt_handle), body=message.body,
        md5_of_body=message.body_md5,
        md5_of_attributes=message.attribute_md5 if attrs else None,
        attributes=_system_attributes(message),
        message_attributes={name: dict(value) for name, value in attrs.items()})


def receive(arn: str, count: int, wait_s: float,
            stopped: Callable[[], bool] = lambda: False) -> list[QueueMessage]:
    """Up to ``count`` visible messages, waiting up to ``wait_s`` for the first one (a long
    poll). Each is hidden for the queue's visibility timeout and its receive count goes up;
    a message past its redrive policy's maxReceiveCount moves to the dead-letter queue on the
    way. An empty list when nothing came, the queue is gone, or ``stopped()``."""
    queue = _queue(arn)
    if queue is None:
        return []
    got = sqs_index.receive(
        queue, count, wait_s, int(queue.visibility_timeout),  # type: ignore[attr-defined]
        ["All"], stopped=lambda: stopped() or _queue(arn) is not queue)
    return [_copy(m) for m in got]


def has_visible(arn: str) -> bool:
    """Whether a message is waiting (a backlog: more pollers would help)."""
    queue = _queue(arn)
    return queue is not None and sqs_index.ready_count(queue) > 0


def wake(arn: str) -> None:
    """Wake the pollers waiting on a queue (a FIFO group freed by a delete, a stop)."""
    queue = _queue(arn)
    if queue is not None:
        with queue._messages_lock:
            queue._messages_lock.notify_all()


def delete(arn: str, receipt_handles: Iterable[str]) -> int:
    """Delete the messages received with ``receipt_handles``; how many were still there (the
    function may have deleted some itself)."""
    queue = _queue(arn)
    return len(sqs_index.take(queue, receipt_handles)) if queue is not None else 0


def to_dead_letter_queue(arn: str, receipt_handles: Iterable[str]) -> int:
    """Move in-flight messages to the queue's dead-letter queue at once, visible there; without
    one they are deleted. Returns how many reached a dead-letter queue."""
    queue = _queue(arn)
    if queue is None:
        return 0
    dlq = queue.dead_letter_queue
    taken = sqs_index.take(queue, receipt_handles)
    if dlq is None:
        return 0
    for message in taken:
        message.visible_at = 0.0
    sqs_index.redrive(dlq, taken)
    return len(taken)


def release(arn: str, receipt_handles: Iterable[str]) -> None:
    """Make in-flight messages visible again now (a batch that could not be sent)."""
    queue = _queue(arn)
    if queue is not None:
        sqs_index.release(queue, receipt_handles)


# -- the trace header a sender's SDK sends, kept on the message --------------------------------
_request = threading.local()
_installed = False
_install_lock = threading.Lock()


def _with_trace_header(action: Callable[..., Any]) -> Callable[..., Any]:
    def run(self: SQSResponse) -> Any:
        with sender_trace_header(self.headers.get("X-Amzn-Trace-Id") if self.headers else None):
            return action(self)
    return run


@contextlib.contextmanager
def sender_trace_header(header: str | None) -> Iterator[None]:
    """SendMessage calls made inside keep ``header`` (the sender's X-Amzn-Trace-Id) as their
    messages' AWSTraceHeader, as moto's SQSResponse does here (see ``install``)."""
    _request.trace_header = header
    try:
        yield
    finally:
        _request.trace_header = None


def _keeping_trace_header(send: Callable[..., Message]) -> Callable[..., Message]:
    def send_message(self: SQSBackend, *args: Any, **kwargs: Any) -> Message:
        header = getattr(_request, "trace_header", None)
        system = kwargs.get("system_attributes") or {}
        if header and TRACE_ATTRIBUTE not in system:
            # What SQS does with the X-Amzn-Trace-Id header of SendMessage(Batch): botocore
            # sends it from inside a function (_X_AMZN_TRACE_ID), and it carries the lineage
            # that recursive loop detection counts.
            kwargs["system_attributes"] = {
                **system, TRACE_ATTRIBUTE: {"DataType": "String", "StringValue": header}}
        return send(self, *args, **kwargs)
    return send_message


def _within_retention(self: SQSBackend, queue_name: str, message: Message) -> bool:
    """moto's check, without its cost: moto reads every queue attribute (three scans of the
    whole queue) for each message a receive returns, which made a receive of 10 from 200
    messages take a second here."""
    period = int(self.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]
    return bool(period + message.sent_timestamp / 1000 > unix_time())  # type: ignore[operator]


def install() -> None:
    """Index every queue's messages (``sqs_index``), keep the sender's ``X-Amzn-Trace-Id`` as
    the message's ``AWSTraceHeader``, and make moto's per-message retention check cheap
    (idempotent, process-wide, as moto's state is)."""
    global _installed
    sqs_index.install()
    with _install_lock:
        if _installed:
            return
        SQSResponse.send_message = _with_trace_header(  # type: ignore[method-assign]
            SQSResponse.send_message)
        SQSResponse.send_message_batch = _with_trace_header(  # type: ignore[method-assign]
            SQSResponse.send_message_batch)
        SQSBackend.send_message = _keeping_trace_header(  # type: ignore[method-assign]
            SQSBackend.send_message)
        SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
            _within_retention)
        _installed = True

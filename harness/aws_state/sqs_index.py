"""moto's SQS queues on an index (``sqs_message_index.QueueIndex``), so that SendMessage,
ReceiveMessage, DeleteMessage and ChangeMessageVisibility cost the same at 10,000 waiting
messages as at 10 (moto 5.2 scans the whole queue, several times, in each: a receive and
delete took 196 ms at 3,000 messages). ``install`` replaces moto's message list, scans and
counts with the index; ``uninstall`` puts moto's back (a benchmark's baseline).

Time is moto's (real time, as moto's ``Message`` keeps it), not ``harness.clock``: visibility
and delays behave as before. Every index operation runs under the queue's own ``Condition``
(moto's server has a thread per request), which long polls wait on.

moto's semantics stay, with these differences (each is what SQS does):
- a message is visible again at its visibility time (moto: a millisecond after), so
  ``ChangeMessageVisibility`` to 0 makes it receivable at once;
- a FIFO group is free again as soon as its in-flight message's visibility ends (moto: when a
  later scan reached that message);
- a message past the queue's ``MessageRetentionPeriod`` is deleted when a receive reaches it
  (moto marked it received and ended the receive);
- FIFO deduplication remembers an id for five minutes after it was accepted, also once the
  message is deleted, per ``DeduplicationScope`` (moto compared with messages still queued);
- every FIFO message gets an increasing ``SequenceNumber`` (moto: 20 random digits, and only
  with an explicit deduplication id);
- a message moved to a dead-letter queue is not deduplicated there.
moto's own per-send invoke of event source mappings is not kept: ``event_source_mappings``
keeps ``Queue.lambda_event_source_mappings`` empty, and the triggers room polls instead.
"""

from __future__ import annotations

import contextlib
import json
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from moto.core.utils import camelcase_to_underscores, unix_time
from moto.moto_api._internal import mock_random
from moto.settings import sqs_enforce_strict_queue_purge_behaviour
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import InvalidParameterValue, PurgeQueueInProgress, ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue, SQSBackend, _filter_message_attributes, sqs_backends

from harness.aws_state.sqs_message_index import DELAYED, IN_FLIGHT, READY, QueueIndex

MAX_TOTAL_VISIBILITY_S = 43200
"""SQS's limit on a message's visibility timeout, counted from when it was sent (moto's)."""
WAIT_SLICE_S = 0.5
"""Longest a long poll sleeps between looks: a queue deleted under it wakes no one."""
_INDEX = "_harness_sqs_index"


def _now_ms() -> float:
    """moto's ``unix_time_millis()`` (the clock its messages' times come from), without its
    datetime arithmetic."""
    return time.time() * 1000


# -- a queue's index -----------------------------------------------------------------------------
def index_of(queue: Queue) -> QueueIndex:
    """The queue's index; the first time, built from moto's own list (a queue made before
    ``install``). The caller holds ``queue._messages_lock``."""
    index: QueueIndex | None = queue.__dict__.get(_INDEX)
    if index is None:
        if not _originals:  # moto's own methods would keep a list this index never sees
            raise RuntimeError("the SQS index is not installed (sqs_index.install())")
        index = QueueIndex(bool(queue.fifo_queue))
        now = _now_ms()
        for message in queue.__dict__.pop("_messages", []):
            index.add(message, now)
        queue.__dict__.pop("_pending_messages", None)
        queue.__dict__[_INDEX] = index
    return index


def _locked(queue: Queue) -> contextlib.AbstractContextManager[Any]:
    lock = queue.__dict__.get("_messages_lock")
    return lock if lock is not None else contextlib.nullcontext()


def _counted(state: int) -> property:
    def count(queue: Queue) -> int:
        with _locked(queue):
            index = index_of(queue)
            index.promote(_now_ms())
            return index.counts[state]
    return property(count)


def _listed(state: int) -> property:
    def listed(queue: Queue) -> list[Message]:
        with _locked(queue):
            index = index_of(queue)
            index.promote(_now_ms())
            return index.in_state(state)
    return property(listed)


def _all_messages() -> property:
    """``Queue._messages`` read from the index; an assignment (moto's ``__init__``) is kept
    as moto's list until the index is first needed."""
    def get(queue: Queue) -> list[Message]:
        with _locked(queue):
            return [entry.message for entry in index_of(queue).entries.values()]

    def put(queue: Queue, messages: list[Message]) -> None:
        queue.__dict__.pop(_INDEX, None)
        queue.__dict__["_messages"] = list(messages)
    return property(get, put)


_ATTRIBUTE_FIELDS = {
    name: camelcase_to_underscores(name)
    for name in Queue.BASE_ATTRIBUTES + Queue.FIFO_ATTRIBUTES + Queue.KMS_ATTRIBUTES}


def _attributes(self: Queue) -> dict[str, Any]:
    """moto's ``Queue.attributes`` with the field names converted once: moto converted all
    fourteen on every read, and SendMessage reads them once or twice (0.9 ms a send here)."""
    names = list(self.BASE_ATTRIBUTES)
    if self.fifo_queue:
        names += self.FIFO_ATTRIBUTES
    if self.kms_master_key_id:  # type: ignore[attr-defined]
        names += self.KMS_ATTRIBUTES
    result = {name: getattr(self, _ATTRIBUTE_FIELDS[name]) for name in names}
    if self.policy:
        result["Policy"] = self.policy
    if self.redrive_policy:  # type: ignore[attr-defined]
        result["RedrivePolicy"] = json.dumps(self.redrive_policy)  # type: ignore[attr-defined]
    return {key: str(value).lower() if isinstance(value, bool) else value
            for key, value in result.items()}


_LETTERS = bytes(ord(string.ascii_lowercase[i % 26]) for i in range(256))
"""A byte to a lowercase letter (for ``bytes.translate``)."""


def _receipt_handle() -> str:
    """moto's receipt handle (185 lowercase letters from its seedable random), drawn at once:
    moto drew each letter with its own call, a fifth of a millisecond per received message."""
    return mock_random.randbytes(185).translate(_LETTERS).decode("ascii")


def _pending() -> property:
    """``Queue._pending_messages``: the messages in flight (moto's assignments are ignored)."""
    def get(queue: Queue) -> set[Message]:
        with _locked(queue):
            index = index_of(queue)
            index.promote(_now_ms())
            return set(index.in_state(IN_FLIGHT))
    return property(get, lambda queue, value: None)


# -- moto's operations, on the index -------------------------------------------------------------
def _add_message(self: Queue, message: Message) -> None:
    with self._messages_lock:
        index = index_of(self)
        if self.fifo_queue and message.deduplication_id is not None:
            scope = getattr(self, "deduplication_scope", "queue")
            if index.duplicate(message, by_group=scope == "messageGroup"):
                return
        now = _now_ms()
        if self.fifo_queue:
            message.sequence_number = index.sequence_number(now)
        index.add(message, now)
        self._messages_lock.notify_all()


def redrive(queue: Queue, messages: Sequence[Message]) -> None:
    """Put messages taken from another queue into ``queue`` (its dead-letter queue) as they
    are: no deduplication, no new sequence number."""
    if not messages:
        return
    with queue._messages_lock:
        index = index_of(queue)
        now = _now_ms()
        for message in messages:
            index.add(message, now)
        queue._messages_lock.notify_all()


def _delete_message(self: Queue, receipt_handle: str) -> None:
    with self._messages_lock:
        if receipt_handle in self.deleted_messages:
            return  # deleted already: not an error (moto's and SQS's)
        index = index_of(self)
        entry = index.handles.get(receipt_handle)
        if entry is None:
            raise ReceiptHandleIsInvalid()
        self.deleted_messages.update(h for h in entry.message.all_receipt_handles if h)
        index.remove(entry)
        if self.fifo_queue:
            self._messages_lock.notify_all()  # its group may be served again


def _reply_copy(message: Message, attribute_names: Sequence[str]) -> Message:
    """What a receive answers with: the message as received now, with only the asked-for
    message attributes (moto deep-copied it, and every copy stayed in its instance list)."""
    reply: Message = object.__new__(Message)
    reply.__dict__.update(message.__dict__)
    _filter_message_attributes(reply, list(attribute_names))
    return reply


def _take(queue: Queue, count: int, visibility_s: int,
          attribute_names: Sequence[str]) -> tuple[list[Message], list[Message]]:
    policy = queue.redrive_policy if queue.dead_letter_queue is not None else None  # type: ignore[attr-defined]
    max_receives = int(policy["maxReceiveCount"]) if policy else None
    retention_s = int(queue.message_retention_period)  # type: ignore[attr-defined]
    got, redriven = index_of(queue).receive(count, int(visibility_s or 0), _now_ms(),
                                            max_receives, retention_s)
    return [_reply_copy(m, attribute_names) for m in got], redriven


def _wait_s(index: QueueIndex, left: float) -> float:
    due = index.next_due()
    if due is not None:
        left = min(left, max(0.001, (due - _now_ms()) / 1000))
    return min(left, WAIT_SLICE_S)


def receive(queue: Queue, count: int, wait_s: float, visibility_s: int,
            attribute_names: Sequence[str] = ("All",),
            stopped: Callable[[], bool] | None = None) -> list[Message]:
    """Receive up to ``count`` messages, waiting up to ``wait_s`` for the first (a long poll:
    a send wakes it). Copies, with the asked-for message attributes; messages past their
    redrive policy's maxReceiveCount go to the dead-letter queue on the way."""
    deadline = time.monotonic() + wait_s
    lock = queue._messages_lock
    while True:
        if stopped is not None and stopped():
            return []
        with lock:
            got, redriven = _take(queue, count, visibility_s, attribute_names)
            if not got and not redriven:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                lock.wait(_wait_s(index_of(queue), left))
                continue
        # Outside this queue's lock: two queues may be each other's dead-letter queue.
        if redriven and queue.dead_letter_queue is not None:
            redrive(queue.dead_letter_queue, redriven)
        if got:
            return got


def _receive_message(self: SQSBackend, queue_name: str, count: int, wait_seconds_timeout: int,
                     visibility_timeout: int,
                     message_attribute_names: list[str] | None = None) -> list[Message]:
    queue = self.get_queue(queue_name)
    return receive(queue, count, float(wait_seconds_timeout or 0), visibility_timeout,
                   message_attribute_names or [])


def _change_message_visibility(self: SQSBackend, queue_name: str, receipt_handle: str,
                               visibility_timeout: int) -> None:
    queue = self.get_queue(queue_name)
    with queue._messages_lock:
        index = index_of(queue)
        entry = index.handles.get(receipt_handle)
        if entry is None:
            raise ReceiptHandleIsInvalid
        message = entry.message
        until = _now_ms() + int(visibility_timeout) * 1000
        if until - message.sent_timestamp > MAX_TOTAL_VISIBILITY_S * 1000:  # type: ignore[operator]
            raise InvalidParameterValue(
                f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: "
                f"Total VisibilityTimeout for the message is beyond the limit "
                f"[{MAX_TOTAL_VISIBILITY_S} seconds]")
        message.change_visibility(visibility_timeout)
        index.place(entry, _now_ms())
        queue._messages_lock.notify_all()


def _purge_queue(self: SQSBackend, queue_name: str) -> None:
    queue = self.get_queue(queue_name)
    now = unix_time()
    if (sqs_enforce_strict_queue_purge_behaviour() and queue.last_purged_at is not None
            and now - queue.last_purged_at < 60):
        raise PurgeQueueInProgress(queue.name)
    queue.last_purged_at = now
    with queue._messages_lock:
        queue.__dict__[_INDEX] = QueueIndex(bool(queue.fifo_queue))
        queue._messages_lock.notify_all()


# -- what the pollers (sqs_queues) use -----------------------------------------------------------
def take(queue: Queue, receipt_handles: Iterable[str]) -> list[Message]:
    """Remove the messages whose current receipt handle is one of ``receipt_handles``; an old
    handle (the message was received again since) takes nothing."""
    with queue._messages_lock:
        index = index_of(queue)
        taken: list[Message] = []
        for handle in set(receipt_handles):
            entry = index.handles.get(handle)
            if entry is None or entry.message.receipt_handle != handle:
                continue
            queue.deleted_messages.update(h for h in entry.message.all_receipt_handles if h)
            index.remove(entry)
            taken.append(entry.message)
        queue._messages_lock.notify_all()  # a FIFO group may be free again
    return taken


def release(queue: Queue, receipt_handles: Iterable[str]) -> None:
    """Make in-flight messages (by current receipt handle) visible again now."""
    with queue._messages_lock:
        index = index_of(queue)
        now = _now_ms()
        for handle in set(receipt_handles):
            entry = index.handles.get(handle)
            if entry is not None and entry.message.receipt_handle == handle:
                entry.message.visible_at = 0.0
                index.place(entry, now)
        queue._messages_lock.notify_all()


def ready_count(queue: Queue) -> int:
    """Messages visible now (delays and visibility timeouts that ran out included)."""
    with queue._messages_lock:
        index = index_of(queue)
        index.promote(_now_ms())
        return index.counts[READY]


# -- install -------------------------------------------------------------------------------------
_install_lock = threading.Lock()
_originals: dict[tuple[Any, str], Any] = {}
_MISSING = object()


def _patches() -> dict[tuple[Any, str], Any]:
    return {
        (Queue, "_messages"): _all_messages(),
        (Queue, "_pending_messages"): _pending(),
        (Queue, "messages"): _listed(READY),
        (Queue, "approximate_number_of_messages"): _counted(READY),
        (Queue, "approximate_number_of_messages_not_visible"): _counted(IN_FLIGHT),
        (Queue, "approximate_number_of_messages_delayed"): _counted(DELAYED),
        (Queue, "attributes"): property(_attributes),
        (sqs_models, "generate_receipt_handle"): _receipt_handle,
        (Queue, "add_message"): _add_message,
        (Queue, "delete_message"): _delete_message,
        (SQSBackend, "receive_message"): _receive_message,
        (SQSBackend, "change_message_visibility"): _change_message_visibility,
        (SQSBackend, "purge_queue"): _purge_queue,
    }


def installed() -> bool:
    return bool(_originals)


def install() -> None:
    """Keep every queue's messages in an index (idempotent, process-wide, as moto's state is).
    Queues that exist already are indexed when next used."""
    with _install_lock:
        if _originals:
            return
        for (cls, name), patch in _patches().items():
            _originals[(cls, name)] = cls.__dict__.get(name, _MISSING)
            setattr(cls, name, patch)


def _all_queues() -> Iterator[Queue]:
    for account in list(sqs_backends.values()):
        for backend in list(account.values()):
            yield from list(backend.queues.values())


def uninstall() -> None:
    """Back to moto's own list and scans (a benchmark's baseline). Queues keep their messages;
    call it while no SQS request is being served. The pollers (``sqs_queues``) need the index."""
    with _install_lock:
        if not _originals:
            return
        for queue in _all_queues():
            with queue._messages_lock:
                index = queue.__dict__.pop(_INDEX, None)
                if index is not None:
                    index.promote(_now_ms())
                    queue.__dict__["_messages"] = [e.message for e in index.entries.values()]
                    queue.__dict__["_pending_messages"] = set(index.in_state(IN_FLIGHT))
        for (cls, name), original in _originals.items():
            if original is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, original)
        _originals.clear()
